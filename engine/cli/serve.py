"""`engine serve SPECS... [--host 127.0.0.1] [--port 8000] [--token-file F] [--max-body-bytes N] [--max-records N]
[--max-seconds S]`: the HTTP API (:mod:`engine.server`, docs/server.md) run by uvicorn.

The specs are compiled before the server listens: an invalid spec stops it (exit 1, the diagnostics of ``engine
check``). It binds to the loopback address unless ``--host`` says otherwise; on another address without
``--token-file`` it warns that anyone who reaches the port can call it. Needs the extra ``[server]``.
"""

from __future__ import annotations

import ipaddress
import os
import sys

from engine.errors import COMMAND_LINE, Diagnostic, RecordError, UsageError


def read_token(path: str) -> str:
    """The bearer token in ``path`` (its first line, surrounding blanks removed); RecordError if unreadable or
    empty."""
    try:
        with open(path, "rb") as f:
            data = f.read(4097)
    except OSError as e:
        raise RecordError(Diagnostic(f"impossible de lire le fichier du jeton : {e.strerror}", file=path,
                                     code="server.token_file", hint="vérifiez le chemin et les droits du fichier"))
    text = data.decode("utf-8", errors="replace").strip().splitlines()
    token = text[0].strip() if text else ""
    if len(data) > 4096 or not token:
        raise RecordError(Diagnostic("le fichier du jeton doit contenir un jeton (une ligne, au plus 4 Kio)",
                                     file=path, code="server.token_file",
                                     hint="par exemple : python -c 'import secrets; print(secrets.token_urlsafe(32))'"
                                          " > jeton.txt"))
    return token


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args) -> int:
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        raise UsageError(Diagnostic("engine serve demande FastAPI et uvicorn, qui ne sont pas installés",
                                    file=COMMAND_LINE, code="server.not_installed",
                                    hint="pip install 'dispositif-engine[server]' (ou pip install -e '.[server]')"))
    from engine.server import Limits, create_app, load_specs

    token = read_token(args.token_file) if args.token_file else None
    specs, folders = load_specs(args.paths)
    limits = Limits(max_body_bytes=args.max_body_bytes, max_records=args.max_records, max_seconds=args.max_seconds)
    app = create_app(specs, limits, token=token, folders=folders)
    if not _loopback(args.host) and token is None:
        sys.stderr.write(f"engine serve: attention : écoute sur {args.host} sans jeton (--token-file) : toute "
                         "machine qui atteint ce port peut appeler l'API\n")
    ids = sorted({s.id for s in specs})
    sys.stderr.write(f"engine serve: {len(specs)} spec(s) servie(s) ({', '.join(ids)}) sur "
                     f"http://{args.host}:{args.port}/ ; Ctrl-C pour arrêter\n")
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=os.environ.get("ENGINE_SERVE_LOG", "info"),
                    server_header=False, proxy_headers=False)
    except BaseException as e:  # uvicorn finished the requests under way, then re-raised the signal: a clean stop
        # engine.cli.main.Interrupted (SIGTERM, SIGHUP), by name: under `python -m engine.cli.main` the running
        # module is __main__, whose class is not the one an import would give
        if not (isinstance(e, KeyboardInterrupt) or (type(e).__name__ == "Interrupted" and hasattr(e, "signum"))):
            raise
    sys.stderr.write("engine serve: arrêté\n")
    return 0
