"""The plain-data form in which a test cell's results leave a kernel.

A check (``course_lib.check``) run under the grader does not decide anything: it publishes a
*record* — the check's name and, per test case, the answer's outputs, or what the instructor's
reference gives — as a display output of MIME type `MIME`. The grader reads the records of the
student's kernel and of a clean kernel that ran the solution, and compares them in its own
process. A record holds only JSON: strings, numbers, lists, and arrays as base64 bytes with a
dtype from a fixed list (`encode` / `decode`). It never carries code (no pickle), so decoding
data a submission produced cannot run anything.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Any

import numpy as np

__all__ = ["MIME", "MODE_ENV", "Opaque", "encode", "decode", "fingerprint", "describe_value"]

#: MIME type of a record in a cell's outputs.
MIME = "application/vnd.course-lib.check+json"
#: Environment variable that switches course_lib.check from immediate feedback to publishing
#: records: "submission" (the student's kernel) or "reference" (the solution's clean kernel).
MODE_ENV = "COURSE_LIB_CHECK"

#: Bounds on what one value may encode to; beyond them it is described, not sent.
MAX_ITEMS = 100_000       # entries of a list or tuple (all levels together)
MAX_DEPTH = 4             # nesting of lists and tuples
MAX_BYTES = 32 * 2 ** 20  # bytes of array data in one value
MAX_TEXT = 200            # characters of a described value's repr

# dtype.kind -> accepted: booleans, integers, floats, complex numbers (plain numbers only)
_KINDS = "biufc"


class Opaque:
    """A value that was not sent as numbers (a string, a dict, an object): its type and repr."""

    def __init__(self, typename: str, text: str):
        self.typename = typename
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other) -> bool:
        return (isinstance(other, Opaque) and other.typename == self.typename
                and other.text == self.text)

    __hash__ = None


def _type_name(value) -> str:
    t = type(value)
    return t.__name__ if t.__module__ in ("builtins", "numpy") else f"{t.__module__}.{t.__name__}"


def _short_repr(value) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a student's __repr__ may raise
        text = f"<{_type_name(value)}: repr raised {type(exc).__name__}>"
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def _contiguous(a: np.ndarray) -> np.ndarray:
    # np.ascontiguousarray would turn a 0-d array into a 1-d one
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _array(a: np.ndarray, budget: list) -> dict:
    a = _contiguous(a)
    budget[1] -= a.nbytes
    return {"dtype": a.dtype.str, "shape": list(a.shape),
            "b64": base64.b64encode(a.tobytes()).decode("ascii")}


def _described(value, why: str = "") -> dict:
    return {"t": "other", "type": _type_name(value), "repr": why or _short_repr(value)}


def encode(value: Any) -> dict:
    """``value`` as plain JSON data (see the module doc); anything else becomes a description."""
    return _encode(value, 0, [MAX_ITEMS, MAX_BYTES])


def _encode(value, depth: int, budget: list) -> dict:
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, int) and type(value) is int:
        text = str(value) if value.bit_length() < 2048 else None
        return {"t": "int", "v": text} if text else _described(value, "an integer of "
                                                                       f"{value.bit_length()} bits")
    if type(value) in (float, complex):
        return {"t": type(value).__name__, "a": _array(np.asarray(value), budget)}
    if isinstance(value, np.generic) and value.dtype.kind in _KINDS:
        return {"t": "npscalar", "a": _array(np.asarray(value), budget)}
    if type(value) is np.ndarray:
        if value.dtype.kind not in _KINDS or value.dtype.byteorder == ">":
            return _described(value, f"a numpy array of dtype {value.dtype} and shape "
                                     f"{value.shape}")
        if value.nbytes > budget[1]:
            return _described(value, f"a numpy array of shape {value.shape}, too large to "
                                     f"send ({value.nbytes:,} bytes)")
        return {"t": "ndarray", "a": _array(value, budget)}
    if type(value) in (list, tuple):
        if depth >= MAX_DEPTH or len(value) > budget[0]:
            return _described(value, f"a {type(value).__name__} of {len(value)} items")
        budget[0] -= len(value)
        return {"t": type(value).__name__,
                "items": [_encode(v, depth + 1, budget) for v in value]}
    return _described(value)


def _decode_array(data: dict) -> np.ndarray:
    dtype = np.dtype(str(data["dtype"]))
    if dtype.kind not in _KINDS or dtype.byteorder == ">":
        raise ValueError(f"record: dtype {dtype} is not a plain number type")
    shape = tuple(int(n) for n in data["shape"])
    if any(n < 0 for n in shape):
        raise ValueError(f"record: negative shape {shape}")
    raw = base64.b64decode(data["b64"], validate=True)
    if len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise ValueError("record: array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def decode(data: dict) -> Any:
    """The value `encode` described: numbers, arrays, lists, tuples, None, or an `Opaque`.

    Raises ValueError on data `encode` cannot have produced.
    """
    if not isinstance(data, dict):
        raise ValueError("record: a value is not an object")
    t = data.get("t")
    if t == "none":
        return None
    if t == "bool":
        return bool(data["v"])
    if t == "int":
        text = str(data["v"])
        if len(text) > 700 or not text.lstrip("-").isdigit():
            raise ValueError("record: malformed integer")
        return int(text)
    if t in ("float", "complex"):
        a = _decode_array(data["a"])
        return float(a) if t == "float" else complex(a)
    if t == "npscalar":
        return _decode_array(data["a"])[()]
    if t == "ndarray":
        return _decode_array(data["a"])
    if t in ("list", "tuple"):
        items = [decode(v) for v in data["items"]]
        return items if t == "list" else tuple(items)
    if t == "other":
        return Opaque(str(data.get("type", "object"))[:100], str(data.get("repr", ""))[:MAX_TEXT])
    raise ValueError(f"record: unknown value type {t!r}")


def fingerprint(value) -> Any:
    """What identifies a test input across kernels: a hash of an array's bytes, a number's
    repr; None for values that are not compared (functions, objects)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _KINDS:
            return None
        h = hashlib.sha256(f"{value.dtype.str}{value.shape}".encode())
        h.update(_contiguous(value).tobytes())
        return h.hexdigest()[:32]
    if isinstance(value, np.generic):
        return repr(value.item()) if value.dtype.kind in _KINDS else None
    if isinstance(value, (bool, int, float, complex)):
        return repr(value)
    return None


def describe_value(value) -> str:
    """A short description of a (decoded) value for messages: 'a list of 21 arrays'."""
    if isinstance(value, Opaque):
        return f"a {value.typename}: {value.text}"
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        kinds = {("array" if isinstance(v, np.ndarray) else
                  "number" if isinstance(v, (int, float, np.number)) else "value") for v in value}
        what = kinds.pop() + "s" if len(kinds) == 1 else "values"
        return f"a {type(value).__name__} of {len(value)} {what}"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}"
    return f"a {_type_name(value)}"
