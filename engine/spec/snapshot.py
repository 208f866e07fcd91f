"""A compiled spec as bytes and back: what makes :class:`engine.spec.model.Spec` picklable (for the spec cache, the
worker processes of ``--jobs`` and the workers of a Dask cluster).

A compiled expression is a function generated from Python source (:mod:`engine.expr.compiler`); pickle cannot store a
function that is not a module attribute, so a :class:`Pickler` here writes each such function as its
*template* (the code object, its constants, its table of positions) and its *origin*, and rebuilds it on loading
with the compiler's own ``instantiate``; the code object is stored with :mod:`marshal` (tagged with the
interpreter's ``cache_tag``: a blob made by another Python version is refused, as ``.pyc`` files are). Values whose
identity or cached hash matter are written by name or rebuilt: the simple types (``t is NUMBER``), records and enums
(their cached hashes depend on the process' string hash seed), the base namespace of the generated code (shared
module functions and the "not computed yet" sentinel).

Unpickling runs code: :func:`loads` must only be given bytes that this engine wrote itself (the user's own cache
folder, or a parent process / the Dask client of the same run), never a file from elsewhere.
"""

from __future__ import annotations

import copyreg
import io
import marshal
import pickle
import sys
import types

from engine.expr import types as T
from engine.expr.codegen import BASE_NS
from engine.expr.compiler import CATCH, Template, instantiate

_TAG = sys.implementation.cache_tag or sys.version


def _simple_type(name: str):
    return {"boolean": T.BOOLEAN, "number": T.NUMBER, "integer": T.INTEGER, "string": T.STRING, "date": T.DATE,
            "duration": T.DURATION, "any": T.ANY}[name]


def _proxy(d: dict):
    return types.MappingProxyType(d)


def _code(tag: str, blob: bytes):
    if tag != _TAG:
        raise pickle.UnpicklingError(f"compiled spec made by another Python ({tag}, this one is {_TAG})")
    return marshal.loads(blob)


def _template(code, ns: dict, where, offset: int, text: str):
    full = dict(BASE_NS)
    full.update(ns)
    full["_CATCH"] = CATCH
    return Template(code, full, where, offset, text)


def _function(template, origin):
    return instantiate(template, origin)


def _spec(cls: type, state: dict):
    """A :class:`engine.spec.model.Spec` from its fields (the class travels by reference: no import of the model)."""
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def _dispatch() -> dict:
    def template(t):
        ns = {k: v for k, v in t.ns.items()
              if k not in ("_CATCH", "_fail", "_expr", "__builtins__") and not (k in BASE_NS and BASE_NS[k] is v)}
        return _template, (t.code, ns, t.where, t.offset, t.text)

    table = copyreg.dispatch_table.copy()
    table[types.MappingProxyType] = lambda m: (_proxy, (dict(m),))
    table[types.CodeType] = lambda c: (_code, (_TAG, marshal.dumps(c)))
    table[T.SimpleType] = lambda t: (_simple_type, (t.name,))
    table[T.RecordType] = lambda t: (T.RecordType, (dict(t._items),))
    table[T.EnumType] = lambda t: (T.EnumType, (t.values,))
    table[Template] = template
    return table


class Pickler(pickle.Pickler):
    """pickle.Pickler that knows the engine's compiled objects (see the module docstring)."""

    def __init__(self, file, protocol: int = pickle.HIGHEST_PROTOCOL):
        super().__init__(file, protocol)
        self.dispatch_table = _dispatch()

    def reducer_override(self, obj):
        cls = obj.__class__
        if cls is types.FunctionType:
            if obj.__code__.co_filename == "<compiled expression>":
                ns = obj.__globals__
                return _function, (ns["_template"], ns["_origin"])
            return NotImplemented
        if cls.__name__ == "Spec" and cls.__module__ == "engine.spec.model":
            return _spec, (cls, obj.__dict__)
        return NotImplemented


def dumps(obj) -> bytes:
    """``obj`` (a compiled spec, or anything holding compiled expressions) as bytes."""
    buf = io.BytesIO()
    Pickler(buf).dump(obj)
    return buf.getvalue()


def loads(data: bytes):
    """The object :func:`dumps` wrote. Only for bytes this engine wrote (see the module docstring)."""
    return pickle.loads(data)  # noqa: S301 - our own bytes only


def reduce_spec(spec):
    """``Spec.__reduce__``: any pickler (multiprocessing, Dask's cloudpickle) stores the spec as :func:`dumps`'s
    bytes."""
    return loads, (dumps(spec),)


__all__ = ["Pickler", "dumps", "loads", "reduce_spec"]
