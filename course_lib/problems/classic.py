"""Classic test functions: the 2-D ones written once in SymPy (gradient and Hessian by
symbolic differentiation, `problem.expr` keeps the expression), Rosenbrock in d dimensions,
and the quadratic with a chosen condition number (lectures 01–04).
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import sympy as sp

from ..layout import dot_last, matmul_last, stack_last
from .base import Problem

__all__ = ["quadratic", "rosenbrock", "beale", "himmelblau", "booth", "saddle", "from_sympy"]


X, Y = sp.symbols("x y", real=True)


def _lambdify_2d(expr) -> Callable:
    fn = sp.lambdify((X, Y), expr, "numpy")

    def wrapped(theta):
        theta = np.asarray(theta, dtype=float)
        out = np.asarray(fn(theta[..., 0], theta[..., 1]), dtype=float)
        # A constant expression lambdifies to a scalar: give it θ's batch shape.
        if out.shape != theta.shape[:-1]:
            out = np.broadcast_to(out, theta.shape[:-1]).copy()
        return out
    return wrapped


def from_sympy(expr, *, name: str, x0, minimizer, bounds) -> Problem:
    """Build a 2-D `Problem` from a SymPy expression in x, y: ∇ and Hessian by SymPy."""
    grad_exprs = [sp.diff(expr, s) for s in (X, Y)]
    hess_exprs = [[sp.diff(g, s) for s in (X, Y)] for g in grad_exprs]
    f = _lambdify_2d(expr)
    g_parts = [_lambdify_2d(g) for g in grad_exprs]
    h_parts = [[_lambdify_2d(h) for h in row] for row in hess_exprs]

    def grad(theta):
        return stack_last([g(theta) for g in g_parts])

    def hess(theta):
        return np.stack([stack_last([h(theta) for h in row]) for row in h_parts], axis=-2)

    return Problem(f, grad, hess, name=name, x0=x0, minimizer=minimizer, bounds=bounds, dim=2,
                   expr=expr, symbols=(X, Y))


def rosenbrock(d: int = 2, form: str = "chained", a: float = 1.0, b: float = 100.0) -> Problem:
    """Rosenbrock's banana. d = 2: (a − x)² + b (y − x²)², minimum at (a, a²).

    For d > 2, ``form="chained"`` (scipy.optimize.rosen) sums over consecutive coordinates,
    ``form="extended"`` over independent pairs (d even). Start (−1.2, 1, −1.2, 1, …).
    """
    if form not in ("chained", "extended"):
        raise ValueError(f"rosenbrock(form={form!r}): use 'chained' or 'extended'.")
    if not isinstance(d, (int, np.integer)) or d < 2:
        raise ValueError(f"rosenbrock(d={d!r}): d must be an integer ≥ 2.")
    if form == "extended" and d % 2:
        raise ValueError(f"rosenbrock(d={d}, form='extended') pairs coordinates: d must be even.")
    x0 = np.tile([-1.2, 1.0], d // 2 + 1)[:d]
    if d == 2:
        expr = (a - X) ** 2 + b * (Y - X ** 2) ** 2
        return from_sympy(expr, name="Rosenbrock", x0=x0, minimizer=[a, a * a],
                          bounds=((-2.0, 2.0), (-1.0, 3.0)))
    if a != 1.0:
        raise ValueError("rosenbrock(d>2) is the standard a=1 form; a≠1 exists only for d=2.")
    if form == "chained":
        lo, hi = slice(0, d - 1), slice(1, d)
    else:
        lo, hi = slice(0, d, 2), slice(1, d, 2)

    def f(t):
        t = np.asarray(t, dtype=float)
        return np.sum(b * (t[..., hi] - t[..., lo] ** 2) ** 2 + (1 - t[..., lo]) ** 2, axis=-1)

    def grad(t):
        t = np.asarray(t, dtype=float)
        r = t[..., hi] - t[..., lo] ** 2
        g = np.zeros_like(t)
        g[..., lo] += -4 * b * t[..., lo] * r - 2 * (1 - t[..., lo])
        g[..., hi] += 2 * b * r
        return g

    idx = np.arange(d)
    lo_i, hi_i = idx[lo], idx[hi]

    def hess(t):
        t = np.asarray(t, dtype=float)
        H = np.zeros(t.shape + (d,))
        xl, xh = t[..., lo], t[..., hi]
        H[..., lo_i, lo_i] += 12 * b * xl ** 2 - 4 * b * xh + 2
        H[..., hi_i, hi_i] += 2 * b
        H[..., lo_i, hi_i] += -4 * b * xl
        H[..., hi_i, lo_i] += -4 * b * xl
        return H

    def hvp(t, v):
        t = np.asarray(t, dtype=float)
        v = np.asarray(v, dtype=float)
        xl, xh = t[..., lo], t[..., hi]
        vl, vh = v[..., lo], v[..., hi]
        out = np.zeros(np.broadcast_shapes(t.shape, v.shape))
        out[..., lo] += (12 * b * xl ** 2 - 4 * b * xh + 2) * vl - 4 * b * xl * vh
        out[..., hi] += 2 * b * vh - 4 * b * xl * vl
        return out

    return Problem(f, grad, hess, hvp, name=f"Rosenbrock ({form}, d={d})", x0=x0,
                   minimizer=np.ones(d), dim=d)


def beale() -> Problem:
    """Beale's function; one minimum f = 0 at (3, 0.5), flat plateaus and steep walls."""
    expr = ((sp.Rational(3, 2) - X + X * Y) ** 2 + (sp.Rational(9, 4) - X + X * Y ** 2) ** 2
            + (sp.Rational(21, 8) - X + X * Y ** 3) ** 2)
    return from_sympy(expr, name="Beale", x0=[1.0, 1.5], minimizer=[3.0, 0.5],
                      bounds=((-4.5, 4.5), (-4.5, 4.5)))


def himmelblau() -> Problem:
    """Himmelblau's function: four minima with f = 0 (non-convex, several equal minima)."""
    expr = (X ** 2 + Y - 11) ** 2 + (X + Y ** 2 - 7) ** 2
    mins = [[3.0, 2.0], [-2.805118086952745, 3.131312518250573],
            [-3.779310253377747, -3.283185991286170], [3.584428340330492, -1.848126526964404]]
    return from_sympy(expr, name="Himmelblau", x0=[0.0, 0.0], minimizer=mins,
                      bounds=((-5.0, 5.0), (-5.0, 5.0)))


def booth() -> Problem:
    """Booth's function, a convex quadratic: minimum f = 0 at (1, 3)."""
    expr = (X + 2 * Y - 7) ** 2 + (2 * X + Y - 5) ** 2
    return from_sympy(expr, name="Booth", x0=[-6.0, -4.0], minimizer=[1.0, 3.0],
                      bounds=((-10.0, 10.0), (-10.0, 10.0)))


def saddle() -> Problem:
    """x² − y²: a stationary point at the origin that is not a minimum (no minimizer)."""
    expr = X ** 2 - Y ** 2
    return from_sympy(expr, name="Saddle", x0=[-1.0, 1e-3], minimizer=None,
                      bounds=((-1.5, 1.5), (-1.5, 1.5)))


def quadratic(kappa: float = 10.0, d: int = 2, *, lam_min: float = 1.0, angle: float = np.pi / 6,
              rng: Optional[np.random.Generator] = None, center=None) -> Problem:
    """f(θ) = ½ (θ − c)ᵀ A (θ − c) with eigenvalues from λ_min to κ·λ_min.

    d = 2: A = R(angle) diag(λ_min, κλ_min) R(angle)ᵀ. d > 2: eigenvalues log-spaced, eigenvectors
    a random rotation drawn from ``rng`` (axis-aligned when rng is None). The minimizer is c
    (default 0); ``problem.A`` and ``problem.eigenvalues`` are attached for the theory.
    """
    kappa = float(kappa)
    if not np.isfinite(kappa) or kappa < 1:
        raise ValueError(f"quadratic(kappa={kappa}): the condition number must be ≥ 1.")
    if lam_min <= 0:
        raise ValueError(f"quadratic(lam_min={lam_min}): eigenvalues must be positive.")
    if not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"quadratic(d={d!r}): d must be a positive integer.")
    lams = lam_min * (np.geomspace(1.0, kappa, d) if d > 1 else np.array([1.0]))
    if d == 2:
        c_, s_ = np.cos(angle), np.sin(angle)
        Q = np.array([[c_, -s_], [s_, c_]])
    elif rng is not None:
        Q, R = np.linalg.qr(rng.standard_normal((d, d)))
        Q = Q * np.sign(np.diag(R))
    else:
        Q = np.eye(d)
    A = (Q * lams) @ Q.T
    A = (A + A.T) / 2
    c = np.zeros(d) if center is None else np.asarray(center, dtype=float)
    if c.shape != (d,):
        raise ValueError(f"quadratic(center=...) must have shape ({d},), got {c.shape}.")

    centred = np.any(c != 0)

    def f(t):
        e = np.asarray(t, dtype=float) - c if centred else np.asarray(t, dtype=float)
        return 0.5 * dot_last(matmul_last(e, A), e)

    def grad(t):
        e = np.asarray(t, dtype=float) - c if centred else np.asarray(t, dtype=float)
        return matmul_last(e, A)

    def value_and_grad(t):
        e = np.asarray(t, dtype=float) - c if centred else np.asarray(t, dtype=float)
        g = matmul_last(e, A)
        return 0.5 * dot_last(g, e), g

    def hess(t):
        t = np.asarray(t, dtype=float)
        return np.broadcast_to(A, t.shape[:-1] + (d, d)).copy()

    def hvp(t, v):
        hv = matmul_last(v, A)
        return np.broadcast_to(hv, np.broadcast_shapes(np.shape(t), hv.shape)).copy()

    # Start far out along the flat direction and one unit along the steep one.
    x0 = c + Q @ np.tile([-2.0, 1.0], d)[:d]
    p = Problem(f, grad, hess, hvp, name=f"quadratic (κ={kappa:g}, d={d})", x0=x0, minimizer=c,
                dim=d, bounds=((c[0] - 2.5, c[0] + 2.5), (c[-1] - 2.5, c[-1] + 2.5)),
                value_and_grad=value_and_grad)
    p.A, p.eigenvalues, p.eigenvectors = A, lams, Q
    return p

