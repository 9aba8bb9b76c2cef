"""Strict readers for JSON-shaped data; every refusal names the field path."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from moderation.engine.errors import BundleError

MAX_NAME_CHARS = 200
MAX_VECTOR_ROWS = 1_000_000


def obj(value: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """Return `value` as a dict holding every required key and no unknown key."""
    if not isinstance(value, Mapping):
        raise BundleError(path, f"expected an object, got {_kind(value)}")
    unknown = sorted(set(value) - set(required) - set(optional))
    if unknown:
        allowed = ", ".join(required + optional)
        raise BundleError(path, f"unknown field {unknown[0]!r}; allowed fields: {allowed}")
    missing = [k for k in required if k not in value]
    if missing:
        raise BundleError(path, f"missing field {missing[0]!r}")
    return dict(value)


def string(value: Any, path: str, *, max_chars: int = MAX_NAME_CHARS, empty_ok=False) -> str:
    """Return `value` as a valid, bounded string (non-empty unless `empty_ok`)."""
    if not isinstance(value, str):
        raise BundleError(path, f"expected a string, got {_kind(value)}")
    if not value.strip() and not empty_ok:
        raise BundleError(path, "empty string; give a non-blank value")
    if len(value) > max_chars:
        raise BundleError(path, f"{len(value)} characters, more than the {max_chars} allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BundleError(path, "not valid Unicode (lone surrogate)") from None
    return value


def choice(value: Any, path: str, options: tuple[str, ...]) -> str:
    """Return `value` if it is one of `options`."""
    if not isinstance(value, str) or value not in options:
        raise BundleError(path, f"expected one of {', '.join(options)}, got {value!r}")
    return value


def boolean(value: Any, path: str) -> bool:
    """Return `value` if it is a JSON boolean."""
    if not isinstance(value, bool):
        raise BundleError(path, f"expected true or false, got {_kind(value)}")
    return value


def integer(value: Any, path: str, *, minimum: int = 0, nullable: bool = False) -> int | None:
    """Return `value` as an int >= `minimum` (or None when `nullable`)."""
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BundleError(path, f"expected an integer, got {_kind(value)}")
    if value < minimum:
        raise BundleError(path, f"{value} is below the minimum {minimum}")
    return value


def number(value: Any, path: str, lo: float, hi: float, *, nullable=False) -> float | None:
    """Return `value` as a finite float in [lo, hi] (or None when `nullable`)."""
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BundleError(path, f"expected a number, got {_kind(value)}")
    if not math.isfinite(value):
        raise BundleError(path, f"{value} is not a finite number")
    if not lo <= value <= hi:
        raise BundleError(path, f"{value} is outside [{lo}, {hi}]")
    return float(value)


def array(value: Any, path: str, *, max_items: int) -> list:
    """Return `value` as a list of at most `max_items` items."""
    if not isinstance(value, list | tuple):
        raise BundleError(path, f"expected a list, got {_kind(value)}")
    if len(value) > max_items:
        raise BundleError(path, f"{len(value)} items, more than the {max_items} allowed")
    return list(value)


def encode_vectors(matrix: np.ndarray) -> dict[str, Any]:
    """Return the canonical JSON form of a float32 array: shape plus base64 little-endian bytes."""
    data = np.ascontiguousarray(matrix, dtype="<f4")
    encoded = base64.b64encode(data.tobytes()).decode("ascii")
    return {"dtype": "float32", "shape": list(data.shape), "data": encoded}


def vectors(value: Any, path: str, *, dim: int, ndim: int, unit: bool) -> np.ndarray:
    """Decode a float32 array of shape (n, dim) or (dim,), finite and (if `unit`) L2-normalised."""
    if isinstance(value, np.ndarray):
        value = encode_vectors(value)
    raw = obj(value, path, ("dtype", "shape", "data"))
    choice(raw["dtype"], f"{path}.dtype", ("float32",))
    shape = tuple(_shape(raw["shape"], f"{path}.shape", ndim))
    if shape[-1] != dim:
        raise BundleError(f"{path}.shape", f"vectors have {shape[-1]} dimensions, the model {dim}")
    matrix = _decode(raw["data"], f"{path}.data", shape)
    if not np.isfinite(matrix).all():
        raise BundleError(path, "holds NaN or infinite values")
    if unit and matrix.size:
        norms = np.linalg.norm(matrix.reshape(-1, dim), axis=1)
        bad = np.flatnonzero(np.abs(norms - 1.0) > 1e-3)
        if bad.size:
            where = f"row {int(bad[0])}" if ndim == 2 else "the vector"
            raise BundleError(path, f"{where} has norm {norms[bad[0]]:.4f}; vectors must be unit")
    return matrix


def _shape(value: Any, path: str, ndim: int) -> list[int]:
    shape = array(value, path, max_items=ndim)
    if len(shape) != ndim:
        raise BundleError(path, f"expected {ndim} dimensions, got {len(shape)}")
    for i, size in enumerate(shape):
        integer(size, f"{path}[{i}]", minimum=0 if i < ndim - 1 else 1)
    if ndim == 2 and shape[0] > MAX_VECTOR_ROWS:
        raise BundleError(path, f"{shape[0]} rows, more than the {MAX_VECTOR_ROWS} allowed")
    return shape


def _decode(value: Any, path: str, shape: tuple[int, ...]) -> np.ndarray:
    if not isinstance(value, str):
        raise BundleError(path, f"expected base64 text, got {_kind(value)}")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BundleError(path, "not valid base64") from None
    expected = math.prod(shape) * 4
    if len(data) != expected:
        raise BundleError(path, f"{len(data)} bytes for shape {list(shape)}; expected {expected}")
    return np.frombuffer(data, dtype="<f4").reshape(shape).astype(np.float32, copy=False)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), type(value).__name__)
