"""Sums of squares f(θ) = Σᵢ rᵢ(θ)² from the Moré–Garbow–Hillstrom collection, with their
Gauss–Newton products (lecture 04's benchmark table).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Optional

import numpy as np
import sympy as sp

from .base import Problem

__all__ = ["SumOfSquares", "from_sympy_residuals", "powell_singular", "wood", "brown_badly_scaled",
           "helical_valley", "box_3d", "trigonometric", "variably_dimensioned",
           "broyden_tridiagonal", "penalty_1", "MGH_PROBLEMS"]


class SumOfSquares(Problem):
    """f(θ) = Σᵢ rᵢ(θ)², the form of the Moré–Garbow–Hillstrom test functions (MGH 1981; no ½,
    as they write it), with its Gauss–Newton product.

    ``residuals(θ)`` returns r of shape (..., m); ``jvp(θ, v)`` = J v (..., m) and
    ``vjp(θ, u)`` = Jᵀu (..., d) with J = ∂r/∂θ. Then ∇f = 2Jᵀr and

        ∇²f v = 2 Jᵀ(J v) + 2 Σᵢ rᵢ ∇²rᵢ v,     G v = 2 Jᵀ(J v)  (``gnvp``, Gauss–Newton),

    the exact product needing ``residual_curvature(θ, r, v)`` = Σᵢ rᵢ ∇²rᵢ v (or a ``hess``).
    G is positive semi-definite everywhere and equals ∇²f where r = 0: the curvature
    Hessian-free uses for least squares. ``fmin`` is the smallest value MGH report.
    """

    def __init__(self, residuals: Callable, jvp: Callable, vjp: Callable, *,
                 residual_curvature: Optional[Callable] = None, hess: Optional[Callable] = None,
                 name: str, x0, minimizer=None, fmin: float = 0.0, dim: Optional[int] = None):
        self.residuals, self.jvp, self.vjp, self.fmin = residuals, jvp, vjp, float(fmin)

        def f(t):
            r = residuals(np.asarray(t, dtype=float))
            return np.sum(r * r, axis=-1)

        def grad(t):
            t = np.asarray(t, dtype=float)
            return 2 * vjp(t, residuals(t))

        def value_and_grad(t):
            t = np.asarray(t, dtype=float)
            r = residuals(t)
            return np.sum(r * r, axis=-1), 2 * vjp(t, r)

        hvp = None
        if residual_curvature is not None:
            def hvp(t, v):
                t, v = np.asarray(t, dtype=float), np.asarray(v, dtype=float)
                return 2 * (vjp(t, jvp(t, v)) + residual_curvature(t, residuals(t), v))

        super().__init__(f, grad, hess, hvp, name=name, x0=x0, minimizer=minimizer, dim=dim,
                         value_and_grad=value_and_grad)

    def gnvp(self, theta, v):
        """The Gauss–Newton product G v = 2 Jᵀ(J v), shape (..., d)."""
        theta, v = np.asarray(theta, dtype=float), np.asarray(v, dtype=float)
        return 2 * self.vjp(theta, self.jvp(theta, v))


def _entries(exprs, symbols) -> Callable:
    """A batched numpy function of (..., k) → (..., *shape) for a SymPy array of expressions."""
    arr = sp.Array(exprs)
    shape = arr.shape
    fn = sp.lambdify(symbols, list(arr.reshape(len(arr))) if shape else [arr], "numpy")

    def evaluate(x):
        x = np.asarray(x, dtype=float)
        parts = fn(*np.moveaxis(x, -1, 0))
        parts = np.broadcast_arrays(*[np.asarray(q, dtype=float) for q in parts],
                                    np.empty(x.shape[:-1]))[:-1]
        return np.stack(parts, axis=-1).reshape(x.shape[:-1] + tuple(shape))
    return evaluate


@lru_cache(maxsize=None)
def _residual_functions(residual_exprs: tuple, symbols: tuple):
    """f = Σ rᵢ², and r, J and ∇²f lambdified (differentiated once per set of residuals)."""
    f_expr = sum(r ** 2 for r in residual_exprs)
    return (f_expr, _entries(residual_exprs, symbols),
            _entries([[sp.diff(r, x) for x in symbols] for r in residual_exprs], symbols),
            _entries(sp.hessian(f_expr, symbols).tolist(), symbols))


def from_sympy_residuals(residual_exprs, symbols, *, blocks: int = 1, name: str, x0,
                         minimizer=None, fmin: float = 0.0) -> SumOfSquares:
    """A `SumOfSquares` from SymPy residuals r₁ … r_m in k symbols: J, and the Hessian of
    f = Σ rᵢ², by SymPy. ``blocks`` > 1 chains that many independent copies, θ of length
    blocks·k (MGH's extended functions): f is their sum, the Hessian block diagonal.
    ``problem.expr`` is f of one block, in ``problem.symbols``."""
    k = len(symbols)
    f_expr, r_fn, J_fn, H_fn = _residual_functions(tuple(residual_exprs), tuple(symbols))

    def split(t):  # (..., blocks·k) → (..., blocks, k)
        t = np.asarray(t, dtype=float)
        return t.reshape(t.shape[:-1] + (blocks, k))

    def residuals(t):
        r = r_fn(split(t))
        return r.reshape(r.shape[:-2] + (-1,))

    def jvp(t, v):
        out = np.einsum("...bmk,...bk->...bm", J_fn(split(t)), split(v))
        return out.reshape(out.shape[:-2] + (-1,))

    def vjp(t, u):
        u = np.asarray(u, dtype=float)
        J = J_fn(split(t))
        out = np.einsum("...bmk,...bm->...bk", J, u.reshape(u.shape[:-1] + (blocks, -1)))
        return out.reshape(out.shape[:-2] + (-1,))

    def hess(t):
        Hb = H_fn(split(t))  # (..., blocks, k, k)
        H = np.zeros(Hb.shape[:-3] + (blocks, k, blocks, k))
        idx = np.arange(blocks)
        H[..., idx, :, idx, :] = np.moveaxis(Hb, -3, 0)
        return H.reshape(Hb.shape[:-3] + (blocks * k, blocks * k))

    def residual_curvature(t, r, v):
        # Σᵢ rᵢ∇²rᵢ v = ½∇²f v − Jᵀ(Jv), block by block
        out = 0.5 * np.einsum("...bkl,...bl->...bk", H_fn(split(t)), split(v))
        return out.reshape(out.shape[:-2] + (-1,)) - vjp(t, jvp(t, v))

    p = SumOfSquares(residuals, jvp, vjp, residual_curvature=residual_curvature, hess=hess,
                     name=name, x0=np.tile(np.asarray(x0, dtype=float), blocks),
                     minimizer=None if minimizer is None else
                     np.tile(np.asarray(minimizer, dtype=float), (1, blocks)).squeeze(),
                     fmin=fmin, dim=blocks * k)
    p.expr, p.symbols, p.residual_exprs = f_expr, tuple(symbols), tuple(residual_exprs)
    return p


def _mgh_symbols(k):
    return sp.symbols(f"x1:{k + 1}", real=True)


def powell_singular(d: int = 4) -> SumOfSquares:
    """MGH #13 (d = 4) and #22, the extended Powell singular function (d a multiple of 4):
    r = (x₁ + 10x₂, √5 (x₃ − x₄), (x₂ − 2x₃)², √10 (x₁ − x₄)²) on each block of four.
    Minimum f = 0 at θ = 0, where the Hessian is singular (rank 2 per block): Newton's and
    quasi-Newton's fast local convergence is lost there. Start (3, −1, 0, 1, 3, −1, …)."""
    if not isinstance(d, (int, np.integer)) or d < 4 or d % 4:
        raise ValueError(f"powell_singular(d={d!r}): d must be a positive multiple of 4.")
    x1, x2, x3, x4 = _mgh_symbols(4)
    res = [x1 + 10 * x2, sp.sqrt(5) * (x3 - x4), (x2 - 2 * x3) ** 2,
           sp.sqrt(10) * (x1 - x4) ** 2]
    return from_sympy_residuals(res, (x1, x2, x3, x4), blocks=d // 4,
                                name="Powell singular" + (f" (extended, d={d})" if d > 4 else ""),
                                x0=[3.0, -1.0, 0.0, 1.0], minimizer=[0.0] * 4)


def wood() -> SumOfSquares:
    """MGH #14, Wood's function (d = 4): two coupled Rosenbrock valleys. Minimum f = 0 at
    (1, 1, 1, 1); start (−3, −1, −3, −1). Near (−1, 1, −1, 1) lies a saddle-like plateau."""
    x1, x2, x3, x4 = _mgh_symbols(4)
    res = [10 * (x2 - x1 ** 2), 1 - x1, sp.sqrt(90) * (x4 - x3 ** 2), 1 - x3,
           sp.sqrt(10) * (x2 + x4 - 2), (x2 - x4) / sp.sqrt(10)]
    return from_sympy_residuals(res, (x1, x2, x3, x4), name="Wood",
                                x0=[-3.0, -1.0, -3.0, -1.0], minimizer=[1.0] * 4)


def brown_badly_scaled() -> SumOfSquares:
    """MGH #4 (d = 2): r = (x₁ − 10⁶, x₂ − 2·10⁻⁶, x₁x₂ − 2). Minimum f = 0 at (10⁶, 2·10⁻⁶),
    twelve orders of magnitude apart: a test of scale. Start (1, 1)."""
    x1, x2 = _mgh_symbols(2)
    res = [x1 - 10 ** 6, x2 - sp.Rational(2, 10 ** 6), x1 * x2 - 2]
    return from_sympy_residuals(res, (x1, x2), name="Brown badly scaled", x0=[1.0, 1.0],
                                minimizer=[1e6, 2e-6])


def helical_valley() -> SumOfSquares:
    """MGH #7 (d = 3): a helix-shaped valley around the x₃ axis. With
    2πϑ = arctan(x₂/x₁) (+π for x₁ < 0): r = (10(x₃ − 10ϑ), 10(√(x₁² + x₂²) − 1), x₃).
    Minimum f = 0 at (1, 0, 0); start (−1, 0, 0)."""
    x1, x2, x3 = _mgh_symbols(3)
    angle = sp.Piecewise((sp.atan(x2 / x1) / (2 * sp.pi), x1 > 0),
                         (sp.atan(x2 / x1) / (2 * sp.pi) + sp.Rational(1, 2), True))
    res = [10 * (x3 - 10 * angle), 10 * (sp.sqrt(x1 ** 2 + x2 ** 2) - 1), x3]
    return from_sympy_residuals(res, (x1, x2, x3), name="helical valley",
                                x0=[-1.0, 0.0, 0.0], minimizer=[1.0, 0.0, 0.0])


def box_3d(m: int = 10) -> SumOfSquares:
    """MGH #12 (d = 3), Box's exponential fit: rᵢ = e^(−tᵢx₁) − e^(−tᵢx₂) − x₃(e^(−tᵢ) − e^(−10tᵢ)),
    tᵢ = i/10, i = 1 … m. f = 0 at (1, 10, 1), (10, 1, −1) and along x₁ = x₂, x₃ = 0.
    Start (0, 10, 20)."""
    x1, x2, x3 = _mgh_symbols(3)
    ts = [sp.Rational(i, 10) for i in range(1, m + 1)]
    res = [sp.exp(-t * x1) - sp.exp(-t * x2) - x3 * (sp.exp(-t) - sp.exp(-10 * t)) for t in ts]
    return from_sympy_residuals(res, (x1, x2, x3), name="Box 3-D", x0=[0.0, 10.0, 20.0],
                                minimizer=[[1.0, 10.0, 1.0], [10.0, 1.0, -1.0]])


def _check_dim(d, name, smallest=1):
    if not isinstance(d, (int, np.integer)) or d < smallest:
        raise ValueError(f"{name}(d={d!r}): d must be an integer ≥ {smallest}.")
    return int(d)


def trigonometric(d: int = 10) -> SumOfSquares:
    """MGH #26: rᵢ = d − Σⱼ cos xⱼ + i(1 − cos xᵢ) − sin xᵢ, i = 1 … d. f = 0 at a minimum
    (there are also local minima with f > 0); start xⱼ = 1/d. Every residual depends on every
    coordinate through Σ cos xⱼ: J is dense, yet J v costs O(d)."""
    d = _check_dim(d, "trigonometric")
    i = np.arange(1, d + 1, dtype=float)

    def residuals(t):
        c = np.cos(t)
        return d - np.sum(c, axis=-1, keepdims=True) + i * (1 - c) - np.sin(t)

    def own(t):  # ∂rᵢ/∂xᵢ beyond the shared term sin xᵢ
        return i * np.sin(t) - np.cos(t)

    def jvp(t, v):  # (J v)ᵢ = Σⱼ sin xⱼ vⱼ + (i sin xᵢ − cos xᵢ) vᵢ
        return np.sum(np.sin(t) * v, axis=-1, keepdims=True) + own(t) * v

    def vjp(t, u):  # (Jᵀu)ⱼ = sin xⱼ Σᵢ uᵢ + (j sin xⱼ − cos xⱼ) uⱼ
        return np.sin(t) * np.sum(u, axis=-1, keepdims=True) + own(t) * u

    def residual_curvature(t, r, v):  # ∇²rᵢ = diag(cos x) + (i cos xᵢ + sin xᵢ) eᵢeᵢᵀ
        return (np.sum(r, axis=-1, keepdims=True) * np.cos(t)
                + r * (i * np.cos(t) + np.sin(t))) * v

    return SumOfSquares(residuals, jvp, vjp, residual_curvature=residual_curvature,
                        name=f"trigonometric (d={d})", x0=np.full(d, 1.0 / d), dim=d)


def variably_dimensioned(d: int = 10) -> SumOfSquares:
    """MGH #25: rᵢ = xᵢ − 1 (i ≤ d), r_{d+1} = s, r_{d+2} = s² with s = Σⱼ j(xⱼ − 1).
    f = 0 at θ = 1; start xⱼ = 1 − j/d. The quartic s⁴ makes it steep far out and its
    curvature badly conditioned (the direction j = (1, 2, …, d))."""
    d = _check_dim(d, "variably_dimensioned")
    j = np.arange(1, d + 1, dtype=float)

    def weighted(t):
        return np.sum(j * (t - 1), axis=-1, keepdims=True)

    def residuals(t):
        s = weighted(t)
        return np.concatenate([t - 1, s, s * s], axis=-1)

    def jvp(t, v):
        v = np.broadcast_to(v, np.broadcast_shapes(t.shape, np.shape(v)))
        jv = np.sum(j * v, axis=-1, keepdims=True)
        return np.concatenate([v, jv, 2 * weighted(t) * jv], axis=-1)

    def vjp(t, u):
        return u[..., :d] + j * (u[..., d:d + 1] + 2 * weighted(t) * u[..., d + 1:])

    def residual_curvature(t, r, v):  # only r_{d+2} = s² is curved: ∇²r_{d+2} = 2 j jᵀ
        return r[..., d + 1:] * 2 * j * np.sum(j * v, axis=-1, keepdims=True)

    return SumOfSquares(residuals, jvp, vjp, residual_curvature=residual_curvature,
                        name=f"variably dimensioned (d={d})", x0=1 - j / d, minimizer=np.ones(d),
                        dim=d)


def _shift(x, k):
    """x shifted along its last axis by k places (x_{i−k}), zeros where it runs off."""
    out = np.zeros_like(x)
    if k > 0:
        out[..., k:] = x[..., :-k]
    else:
        out[..., :k] = x[..., -k:]
    return out


def broyden_tridiagonal(d: int = 10) -> SumOfSquares:
    """MGH #30: rᵢ = (3 − 2xᵢ)xᵢ − x_{i−1} − 2x_{i+1} + 1, with x₀ = x_{d+1} = 0. f = 0 at the
    solution of the tridiagonal system; start xⱼ = −1. J is tridiagonal."""
    d = _check_dim(d, "broyden_tridiagonal", 2)

    def residuals(t):
        return (3 - 2 * t) * t - _shift(t, 1) - 2 * _shift(t, -1) + 1

    def jvp(t, v):
        v = np.broadcast_to(v, np.broadcast_shapes(t.shape, np.shape(v)))
        return (3 - 4 * t) * v - _shift(v, 1) - 2 * _shift(v, -1)

    def vjp(t, u):
        u = np.broadcast_to(u, np.broadcast_shapes(t.shape, np.shape(u)))
        return (3 - 4 * t) * u - _shift(u, -1) - 2 * _shift(u, 1)

    def residual_curvature(t, r, v):  # ∇²rᵢ = −4 eᵢeᵢᵀ
        return -4 * r * v

    return SumOfSquares(residuals, jvp, vjp, residual_curvature=residual_curvature,
                        name=f"Broyden tridiagonal (d={d})", x0=np.full(d, -1.0), dim=d)


def penalty_1(d: int = 10, a: float = 1e-5) -> SumOfSquares:
    """MGH #23, penalty function I: rᵢ = √a (xᵢ − 1) (i ≤ d), r_{d+1} = ‖θ‖² − ¼, a = 10⁻⁵.
    Minimum f ≈ 7.08765·10⁻⁵ for d = 10 (2.24997·10⁻⁵ for d = 4); start xⱼ = j."""
    d = _check_dim(d, "penalty_1")
    root_a = np.sqrt(a)
    fmin = {4: 2.24997e-5, 10: 7.08765e-5}.get(d, np.nan)

    def residuals(t):
        return np.concatenate([root_a * (t - 1), np.sum(t * t, axis=-1, keepdims=True) - 0.25],
                              axis=-1)

    def jvp(t, v):
        v = np.broadcast_to(v, np.broadcast_shapes(t.shape, np.shape(v)))
        return np.concatenate([root_a * v, 2 * np.sum(t * v, axis=-1, keepdims=True)], axis=-1)

    def vjp(t, u):
        return root_a * u[..., :d] + 2 * t * u[..., d:]

    def residual_curvature(t, r, v):  # ∇²r_{d+1} = 2I
        return 2 * r[..., d:] * v

    return SumOfSquares(residuals, jvp, vjp, residual_curvature=residual_curvature,
                        name=f"penalty I (d={d})", x0=np.arange(1.0, d + 1), fmin=fmin, dim=d)


MGH_PROBLEMS = {
    "powell_singular": powell_singular, "wood": wood, "brown_badly_scaled": brown_badly_scaled,
    "helical_valley": helical_valley, "box_3d": box_3d, "trigonometric": trigonometric,
    "variably_dimensioned": variably_dimensioned, "broyden_tridiagonal": broyden_tridiagonal,
    "penalty_1": penalty_1,
}
