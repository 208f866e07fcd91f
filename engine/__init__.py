"""dispositif engine: a declarative rules engine for the Pas-de-Calais social-policy programmes."""

__version__ = "0.1.0"

__all__ = ["__version__", "api"]


def __getattr__(name: str):
    """``engine.api`` (the public Python API, docs/api.md) without importing it with the package."""
    if name == "api":
        import importlib

        return importlib.import_module(".api", __name__)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
