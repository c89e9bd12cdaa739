"""Memory layout of batched parameters: coordinate-major.

θ has shape (..., d): runs first, coordinates last. In memory the course keeps each coordinate
contiguous over the runs (as if the array were (d, ...)). With d = 2 and 40,000 runs, C order
would make every elementwise operation loop 40,000 times over pairs; coordinate-major order
makes it loop twice over 40,000 numbers, ~10× faster in numpy. Elementwise ufuncs keep the
layout of their inputs, so only stacking and matrix products need the helpers below.
"""
from __future__ import annotations

import numpy as np

__all__ = ["coordinate_major", "stack_last", "matmul_last", "dot_last"]


def coordinate_major(a) -> np.ndarray:
    """A copy of ``a`` (..., d) whose coordinates are each contiguous over the leading axes."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(np.asarray(a, dtype=float), -1, 0)),
                       0, -1)


def stack_last(parts) -> np.ndarray:
    """np.stack(parts, axis=-1), laid out coordinate-major."""
    return np.moveaxis(np.stack(parts), 0, -1)


def matmul_last(x, M) -> np.ndarray:
    """x @ M over the last axis of x (..., d) with M (d, k): result (..., k), coordinate-major."""
    x = np.asarray(x, dtype=float)
    if x.ndim <= 2:  # the common case, without tensordot's reshaping overhead
        return (M.T @ x.T).T
    xm = np.moveaxis(x, -1, 0)
    return np.moveaxis(np.tensordot(np.asarray(M).T, xm, axes=1), 0, -1)


def dot_last(a, b) -> np.ndarray:
    """Σᵢ aᵢ bᵢ over the last axis. For a few coordinates, adding the coordinate rows in turn
    reads each contiguous row once, twice as fast as np.sum(a * b, axis=-1)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = a.shape[-1]
    if d > 16:
        return np.einsum("...i,...i->...", a, b)
    out = a[..., 0] * b[..., 0]
    for i in range(1, d):
        out += a[..., i] * b[..., i]
    return out
