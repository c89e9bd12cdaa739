"""Gradient preprocessing (Andrychowicz et al. 2016, appendix A): each gradient coordinate g
becomes two numbers of order one,

    (log|g| / p, sign g)     if |g| ≥ e^(−p)
    (−1, e^p g)              otherwise,

so an LSTM whose gates saturate beyond a few units sees gradients from 1e-4 to 1e4 alike: the
first number carries the magnitude on a log scale, the second the sign (or, for tiny g, the
value itself, scaled up). p = 10 in the paper: the cut e^(−10) ≈ 4.5e-5.
"""
from __future__ import annotations

import numpy as np

__all__ = ["P", "preprocess"]

#: the paper's p
P = 10.0


def preprocess(g, p: float = P) -> np.ndarray:
    """The two inputs per coordinate, shape (..., 2) for g of shape (...).

    Both branches meet at |g| = e^(−p): log|g|/p = −1 there, and e^p g = ±1 = sign g.
    """
    g = np.asarray(g, dtype=float)
    if not np.ndim(p) == 0 or not p > 0:
        raise ValueError(f"preprocess(g, p={p!r}): p must be a positive number (the paper "
                         "uses p = 10).")
    big = np.abs(g) >= np.exp(-p)
    # the maximum keeps log away from 0 where the small branch is taken anyway
    magnitude = np.where(big, np.log(np.maximum(np.abs(g), np.exp(-p))) / p, -1.0)
    sign = np.where(big, np.sign(g), np.exp(p) * g)
    return np.stack([magnitude, sign], axis=-1)
