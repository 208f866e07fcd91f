"""``engine serve``: the engine as an HTTP API (FastAPI, extra ``[server]``; docs/server.md).

:func:`create_app` builds the application from compiled specs (:func:`load_specs`) and :class:`Limits`; it needs
FastAPI but not uvicorn (the tests use FastAPI's test client). ``engine.cli.serve`` runs it with uvicorn."""

from engine.server.limits import Limits

__all__ = ["Limits", "create_app", "load_specs"]


def __getattr__(name: str):  # the app (and FastAPI) are imported when used, not by `engine --help`
    if name in ("create_app", "load_specs"):
        from engine.server import app

        return getattr(app, name)
    raise AttributeError(name)
