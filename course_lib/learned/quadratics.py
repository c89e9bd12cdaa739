"""The optimizees of the paper's first experiment: 10-D quadratics f(θ) = ‖Wθ − y‖² with W
(10×10) and y (10) Gaussian (Andrychowicz et al. 2016, §3.1), drawn in batches.

Every function comes from one of three splits, each its own random stream:

    "train"  what meta-training draws (and what the baselines' step sizes are tuned on)
    "tune"   the checkpoint of meta-training is chosen here
    "test"   held-out functions: numpy's stream (split, seed) never meets the other two

so the functions `sample(n, seed, split="test")` are never seen by training or tuning.
"""
from __future__ import annotations

from typing import NamedTuple

import autograd.numpy as anp
import numpy as np

from ..problems import Problem

__all__ = ["SPLITS", "DIM", "STEPS", "Quadratics", "sample", "problem"]

#: the stream of each split: numpy's generator is seeded with (code, seed)
SPLITS = {"train": 0, "tune": 1, "test": 2}
DIM, STEPS = 10, 100
#: θ₀ ~ N(0, 0.01²), as in the paper's public code
START_SCALE = 0.01


class Quadratics(NamedTuple):
    """A batch of n functions: W (n, d, d), y (n, d) and their starts θ₀ (n, d)."""
    W: np.ndarray
    y: np.ndarray
    theta0: np.ndarray

    @property
    def n(self) -> int:
        return self.W.shape[0]

    def f(self, theta):
        """‖Wθ − y‖² for θ of shape (..., n, d): one value per function, shape (..., n).
        Accepts autograd's traced values (meta-training differentiates through it)."""
        r = anp.einsum("nij,...nj->...ni", self.W, theta) - self.y
        return anp.sum(r * r, axis=-1)

    def grad(self, theta):
        """2 Wᵀ(Wθ − y), shape (..., n, d)."""
        r = anp.einsum("nij,...nj->...ni", self.W, theta) - self.y
        return 2.0 * anp.einsum("nij,...ni->...nj", self.W, r)


def sample(n: int, seed: int, *, split: str = "test", dim: int = DIM) -> Quadratics:
    """n functions of ``split`` drawn from the stream (SPLITS[split], seed)."""
    if split not in SPLITS:
        raise ValueError(f"sample(split={split!r}): use one of {sorted(SPLITS)}.")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"sample(n={n!r}): draw at least one function (a positive integer).")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"sample(seed={seed!r}): use a non-negative integer.")
    rng = np.random.default_rng([SPLITS[split], int(seed)])
    W = rng.normal(size=(n, dim, dim))
    y = rng.normal(size=(n, dim))
    theta0 = START_SCALE * rng.normal(size=(n, dim))
    return Quadratics(W, y, theta0)


def problem(q: Quadratics) -> Problem:
    """The batch as one `Problem` for `run()`: θ of shape (..., n, d), one row per function."""
    d = q.W.shape[-1]
    return Problem(lambda t: q.f(np.asarray(t, dtype=float)),
                   lambda t: q.grad(np.asarray(t, dtype=float)),
                   name=f"{q.n} quadratics ‖Wθ − y‖² (d = {d})", dim=d)
