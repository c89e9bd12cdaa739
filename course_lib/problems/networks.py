"""The smallest networks of lecture 01: one tanh unit (non-convex already) and two units (the
smallest with a permutation symmetry), fitted to a teacher's data by squared error.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..layout import stack_last
from .base import Problem

__all__ = ["one_unit_network", "two_unit_network"]

def _teacher_data(n: int, teacher, noise: float, rng) -> tuple:
    """x ~ N(0, 1) and y = Σⱼ tanh(wⱼ x) + noise, for the teacher's weights wⱼ."""
    rng = np.random.default_rng(0) if rng is None else rng
    x = rng.standard_normal(n)
    y = sum(np.tanh(w * x) for w in teacher) + noise * rng.standard_normal(n)
    return x, y


def one_unit_network(n: int = 200, teacher=(2.0, 0.5), noise: float = 0.05,
                     rng: Optional[np.random.Generator] = None) -> Problem:
    """The smallest network of all, one tanh unit ŷ(x) = tanh(w x), fit by mean squared error
    to the data of `two_unit_network` (same ``n``, ``teacher``, ``noise`` and ``rng`` give the
    same x and y). Its loss over the single weight w is already non-convex: f''(w) < 0 where
    tanh saturates. ``hess`` is exact (d = 1)."""
    x, y = _teacher_data(n, teacher, noise, rng)

    def f(t):
        t = np.asarray(t, dtype=float)
        return 0.5 * np.mean((np.tanh(t[..., 0:1] * x) - y) ** 2, axis=-1)

    def grad(t):
        t = np.asarray(t, dtype=float)
        h = np.tanh(t[..., 0:1] * x)
        return np.mean((h - y) * (1 - h ** 2) * x, axis=-1)[..., None]

    def hess(t):
        # d/dw [(h − y)(1 − h²)x] = x²(1 − h²)[(1 − h²) − 2h(h − y)]
        t = np.asarray(t, dtype=float)
        h = np.tanh(t[..., 0:1] * x)
        s = 1 - h ** 2
        return np.mean(x ** 2 * s * (s - 2 * h * (h - y)), axis=-1)[..., None, None]

    from scipy.optimize import minimize_scalar
    best = minimize_scalar(lambda w: float(f(np.array([w]))), bounds=(0.0, 5.0),
                           method="bounded", options={"xatol": 1e-12}).x
    p = Problem(f, grad, hess, name="one-unit network", x0=[-1.0], minimizer=[best],
                bounds=((-3.0, 3.0),), dim=1)
    p.x, p.y = x, y
    p.axis_labels = ("w",)
    return p


def two_unit_network(n: int = 200, teacher=(2.0, 0.5), noise: float = 0.05,
                     rng: Optional[np.random.Generator] = None) -> Problem:
    """A network with two hidden units, ŷ(x) = tanh(w₁x) + tanh(w₂x), fit by mean squared error.

    Swapping the two units gives the same network, so the loss over θ = (w₁, w₂) has (at least)
    two minima, at the teacher's weights and at their mirror image: the smallest network with
    a permutation symmetry (one unit, `one_unit_network`, is non-convex already).
    Data: x ~ N(0, 1), y = teacher network + noise, both drawn from ``rng``.
    """
    x, y = _teacher_data(n, teacher, noise, rng)

    def f(t):
        t = np.asarray(t, dtype=float)
        yhat = np.tanh(t[..., 0:1] * x) + np.tanh(t[..., 1:2] * x)
        return 0.5 * np.mean((yhat - y) ** 2, axis=-1)

    def grad(t):
        t = np.asarray(t, dtype=float)
        h1, h2 = np.tanh(t[..., 0:1] * x), np.tanh(t[..., 1:2] * x)
        r = h1 + h2 - y
        return stack_last([np.mean(r * (1 - h1 ** 2) * x, axis=-1),
                           np.mean(r * (1 - h2 ** 2) * x, axis=-1)])

    # With noise the least-squares weights are near, not at, the teacher's: refine them.
    from scipy.optimize import minimize
    best = minimize(lambda t: float(f(t)), np.asarray(teacher, float), jac=grad, method="BFGS",
                    options={"gtol": 1e-12}).x
    mins = [best, best[::-1]]
    p = Problem(f, grad, name="two-unit network", x0=[-1.0, -0.5], minimizer=mins,
                bounds=((-3.0, 3.0), (-3.0, 3.0)), dim=2)
    p.x, p.y = x, y
    p.axis_labels = ("w₁", "w₂")
    return p


