"""Objective functions the course optimizes: a `Problem` is a loss with its derivatives.

Every function of a problem broadcasts over the leading axes of θ: θ of shape (..., d) gives
f(θ) of shape (...), grad(θ) of shape (..., d), hess(θ) of shape (..., d, d), so a batch of B
starting points or B hyperparameter settings is one call.

The 2-D test functions are written once as SymPy expressions; their gradients and Hessians are
differentiated symbolically and turned into numpy with `lambdify`. `problem.expr` keeps the
expression so a notebook can show (and a test can check) the derivation the code came from.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Optional, Sequence

import numpy as np
import sympy as sp

from .layout import dot_last, matmul_last, stack_last

__all__ = [
    "Problem", "numerical_grad", "finite_difference_hvp", "quadratic", "rosenbrock", "beale",
    "himmelblau", "booth",
    "saddle", "one_unit_network", "two_unit_network", "slice_2d", "reference_minimizer",
    "rippled_quadratic", "RIPPLE_SYMBOLS", "lessard_piecewise_quadratic", "EmpiricalRisk",
    "two_cluster_location", "SumOfSquares", "from_sympy_residuals", "powell_singular", "wood",
    "brown_badly_scaled", "helical_valley", "box_3d", "trigonometric", "variably_dimensioned",
    "broyden_tridiagonal", "penalty_1", "MGH_PROBLEMS",
]

Array = np.ndarray


class Problem:
    """A differentiable objective: ``f(θ)``, ``grad(θ)`` and optionally ``hess(θ)``, ``hvp(θ, v)``.

    Parameters
    ----------
    f, grad : callables of θ with shape (..., d) returning shape (...) and (..., d).
    hess : optional, returns (..., d, d).
    hvp : optional Hessian-vector product ``hvp(θ, v)`` returning (..., d). When it is not given,
        ``Problem.hvp`` uses ``hess`` when there is one, else a central finite difference of
        ``grad`` (error O(ε²), ε scaled to θ and v).
    name : shown in plots and messages.
    x0 : the standard starting point, shape (d,).
    minimizer : a known minimizer, shape (d,), or an array (k, d) of several, or None.
    bounds : ((xmin, xmax), (ymin, ymax)), the window where a 2-D problem is worth drawing.
    """

    def __init__(self, f: Callable, grad: Optional[Callable], hess: Optional[Callable] = None,
                 hvp: Optional[Callable] = None, *, name: str = "problem", x0=None,
                 minimizer=None, bounds=None, dim: Optional[int] = None, expr=None,
                 symbols=None, value_and_grad: Optional[Callable] = None):
        if not callable(f):
            raise TypeError(f"Problem(f=...) must be a function of θ, got {type(f).__name__}.")
        if grad is None or not callable(grad):
            raise TypeError(
                f"Problem {name!r} has no gradient: pass grad=..., a function θ -> ∇f(θ) of the "
                "same shape as θ. If you only have f, use grad=course_lib.problems."
                "numerical_grad(f) (slow, approximate) or derive it (SymPy, autograd).")
        self.f = f
        self.grad = grad
        self._hess = hess
        self._hvp = hvp
        self._value_and_grad = value_and_grad
        self.name = name
        self.x0 = None if x0 is None else np.asarray(x0, dtype=float)
        self.minimizer = None if minimizer is None else np.asarray(minimizer, dtype=float)
        self.bounds = bounds
        if dim is None:
            for a in (self.x0, self.minimizer):
                if a is not None:
                    dim = a.shape[-1]
                    break
        self.dim = dim
        self.expr = expr
        self.symbols = symbols

    def __repr__(self):
        return f"Problem({self.name!r}, d={self.dim})"

    @property
    def fuses_value_and_grad(self) -> bool:
        """True when ``value_and_grad`` shares work between f and ∇f (e.g. Aθ, or Xθ)."""
        return self._value_and_grad is not None

    def value_and_grad(self, theta):
        """(f(θ), ∇f(θ)) in one call; cheaper than two when the problem shares the work."""
        if self._value_and_grad is not None:
            return self._value_and_grad(theta)
        return self.f(theta), self.grad(theta)

    def hess(self, theta):
        if self._hess is None:
            raise NotImplementedError(
                f"Problem {self.name!r} has no Hessian; use problem.hvp(θ, v) for products with "
                "it, which falls back to finite differences of the gradient.")
        return self._hess(theta)

    def hvp(self, theta, v):
        """Hessian-vector product H(θ) v, shape (..., d)."""
        theta = np.asarray(theta, dtype=float)
        v = np.asarray(v, dtype=float)
        if self._hvp is not None:
            return self._hvp(theta, v)
        if self._hess is not None:
            return np.einsum("...ij,...j->...i", self._hess(theta), v)
        return finite_difference_hvp(self.grad, theta, v)

    def hessian_matrix(self, theta) -> np.ndarray:
        """The dense d × d Hessian at one point θ: ``hess`` if the problem has it, else built
        column by column from Hessian-vector products (d of them), symmetrized."""
        theta = np.asarray(theta, dtype=float)
        if theta.ndim != 1:
            raise ValueError(f"hessian_matrix takes one point θ of shape ({self.dim},), got "
                             f"{theta.shape}; loop over a batch if you need several.")
        if self._hess is not None:
            return np.asarray(self._hess(theta), dtype=float)
        H = np.stack([self.hvp(theta, e) for e in np.eye(theta.shape[-1])], axis=-1)
        return (H + H.T) / 2

    def minimum_distance(self, theta):
        """Distance from θ (..., d) to the nearest known minimizer."""
        if self.minimizer is None:
            raise ValueError(f"Problem {self.name!r} has no known minimizer.")
        mins = np.atleast_2d(self.minimizer)
        theta = np.asarray(theta, dtype=float)
        d = np.linalg.norm(theta[..., None, :] - mins, axis=-1)
        return d.min(axis=-1)


def finite_difference_hvp(grad: Callable, theta, v, eps=None) -> np.ndarray:
    """H(θ) v ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε, the central difference of the gradient along v.

    Its error is O(ε²) from truncation plus O(ε_mach/ε) from rounding; the default
    ε = ε_mach^(1/3) (1 + ‖θ‖) / ‖v‖ balances the two (relative error ~ ε_mach^(2/3) ≈ 4e-11).
    ``eps`` (a number, or one per run) overrides it, e.g. to draw the error against ε.
    Costs two gradient evaluations. Broadcasts over θ's and v's leading axes.
    """
    theta = np.asarray(theta, dtype=float)
    v = np.asarray(v, dtype=float)
    if eps is None:
        vnorm = np.linalg.norm(v, axis=-1, keepdims=True)
        scale = 1.0 + np.linalg.norm(theta, axis=-1, keepdims=True)
        eps = np.cbrt(np.finfo(float).eps) * scale / np.where(vnorm > 0, vnorm, 1.0)
    else:
        eps = np.asarray(eps, dtype=float)
        if np.any(eps <= 0):
            raise ValueError(f"finite_difference_hvp(eps={eps!r}): the step must be > 0.")
        eps = eps[..., None] if eps.ndim else eps
    return (grad(theta + eps * v) - grad(theta - eps * v)) / (2 * eps)


def numerical_grad(f: Callable, eps: float = 1e-6) -> Callable:
    """Central-difference gradient of a batched f: for checking, or a problem without a formula."""
    def grad(theta):
        theta = np.asarray(theta, dtype=float)
        d = theta.shape[-1]
        out = np.empty_like(theta)
        for i in range(d):
            e = np.zeros(d)
            e[i] = eps
            out[..., i] = (f(theta + e) - f(theta - e)) / (2 * eps)
        return out
    return grad


# --------------------------------------------------------------------------------------------
# 2-D test functions: one SymPy expression each, differentiated symbolically.

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


def slice_2d(problem: Problem, center, u, v, *, extent: float = 1.0,
             name: Optional[str] = None, minimizer=None) -> Problem:
    """The loss on the plane θ(α, β) = center + α u + β v through a d-dimensional problem.

    A 2-D window onto a high-dimensional loss: f̃(α, β) = f(θ(α, β)) and, by the chain rule,
    ∇f̃ = (uᵀ∇f, vᵀ∇f). Gradient descent on f̃ is gradient descent on f restricted to the plane.
    Pass ``minimizer=(0, 0)`` when ``center`` is the problem's minimizer.
    """
    c, u, v = (np.asarray(a, dtype=float) for a in (center, u, v))
    if not (c.shape == u.shape == v.shape == (problem.dim,)):
        raise ValueError(f"slice_2d: center, u and v must each have shape ({problem.dim},), got "
                         f"{c.shape}, {u.shape}, {v.shape}.")
    basis = np.stack([u, v], axis=-1)  # (d, 2)

    def theta(ab):
        ab = np.asarray(ab, dtype=float)
        return c + ab[..., 0:1] * u + ab[..., 1:2] * v

    p = Problem(lambda ab: problem.f(theta(ab)),
                lambda ab: problem.grad(theta(ab)) @ basis,
                hvp=lambda ab, w: problem.hvp(theta(ab), np.asarray(w) @ basis.T) @ basis,
                name=name or f"{problem.name} (2-D slice)", x0=[-0.8 * extent, 0.6 * extent],
                minimizer=minimizer, bounds=((-extent, extent), (-extent, extent)), dim=2)
    p.axis_labels = ("α (along u)", "β (along v)")
    p.to_theta = theta
    return p


def reference_minimizer(problem: Problem, x0=None) -> np.ndarray:
    """θ* to near machine precision, as a reference point for plots and gaps L(θ) − L(θ*).

    scipy's L-BFGS-B (section 04 explains the method) with its stopping tests tightened so that
    it stops on the gradient (‖∇L‖∞ ≤ 1e-10) or when no progress is possible, not on a
    relative decrease of L.
    """
    from scipy.optimize import minimize
    start = problem.x0 if x0 is None else x0
    if start is None:
        raise ValueError(f"reference_minimizer: problem {problem.name!r} has no x0; pass x0.")
    result = minimize(lambda t: float(problem.f(t)), np.asarray(start, dtype=float),
                      jac=problem.grad, method="L-BFGS-B",
                      options={"gtol": 1e-10, "ftol": 0.0, "maxiter": 20000, "maxcor": 20})
    return result.x



# --------------------------------------------------------------------------------------------
# Problems behind the lecture's claims about momentum and noise (lecture 02).

def _finite_parameter(value, name: str, call: str):
    """A problem parameter: a number, or an array of one value per run; finite."""
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{call}({name}={value!r}): must be finite.")
    return arr


def _broadcast_check(param, batch_shape, name: str, call: str):
    """One value per run: the parameter must broadcast to θ's batch shape (not enlarge it)."""
    try:
        ok = np.broadcast_shapes(np.shape(param), batch_shape) == tuple(batch_shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{call}: {name} has shape {np.shape(param)}, which does not broadcast to the runs "
            f"{batch_shape} of θ. Give one value per run with θ's batch shape, e.g. "
            f"{name}=values[:, None] for θ of shape (A, E, 1) with A values of {name}.")


RIPPLE_SYMBOLS = sp.symbols("x a omega lambda", real=True)


def rippled_quadratic(amplitude=0.08, omega: float = 8 * np.pi, lam: float = 1.0,
                      x0: float = 5.0) -> Problem:
    """A bowl with small bumps: f(x) = ½ λ x² + a (1 − cos ω x), one parameter x (d = 1).

    The ripples have height 2a and wavelength 2π/ω; the global minimum is x = 0. Their slope
    reaches aω, so a stationary point (where the ripple's slope cancels the bowl's λx) can only
    exist where λ|x| ≤ aω, and f is convex iff aω² ≤ λ (f'' = λ + aω² cos ωx): below that
    amplitude there are no traps at all. ``course_lib.theory.ripples`` derives where gradient
    descent stops and when momentum rolls on.

    ``amplitude`` may be an array of one value per run (one landscape per run): for θ of
    shape (A, E, M, 1), ``amplitude=amps[:, None, None]``. Derived in SymPy (``problem.expr``
    in the symbols ``RIPPLE_SYMBOLS`` = x, a, ω, λ); f, f′ and f″ are lambdified from it.
    """
    call = "rippled_quadratic"
    a = _finite_parameter(amplitude, "amplitude", call)
    if np.any(a < 0):
        raise ValueError(f"{call}(amplitude={amplitude!r}): the ripple height is 2a, so a must be "
                         "≥ 0.")
    if not (np.isfinite(omega) and omega > 0 and np.isfinite(lam) and lam > 0):
        raise ValueError(f"{call}(omega={omega!r}, lam={lam!r}): both must be positive (ω is the "
                         "ripples' angular frequency, λ the bowl's curvature).")
    x, a_, w_, l_ = RIPPLE_SYMBOLS
    expr = l_ * x ** 2 / 2 + a_ * (1 - sp.cos(w_ * x))
    fns = [sp.lambdify((x, a_, w_, l_), e, "numpy")
           for e in (expr, sp.diff(expr, x), sp.diff(expr, x, 2))]

    def evaluate(k, theta):
        theta = np.asarray(theta, dtype=float)
        if a.ndim:
            _broadcast_check(a, theta.shape[:-1], "amplitude", call)
        return np.asarray(fns[k](theta[..., 0], a, omega, lam), dtype=float)

    p = Problem(lambda t: evaluate(0, t), lambda t: evaluate(1, t)[..., None],
                lambda t: evaluate(2, t)[..., None, None],
                name=f"rippled quadratic (a={amplitude if a.ndim == 0 else 'per run'}, "
                     f"ω={omega:.3g}, λ={lam:g})",
                x0=[x0], minimizer=[0.0], bounds=((-abs(x0) - 0.5, abs(x0) + 0.5),), dim=1,
                expr=expr, symbols=(x,))
    p.amplitude, p.omega, p.lam = amplitude, float(omega), float(lam)
    p.axis_labels = ("x",)
    return p


def lessard_piecewise_quadratic(m: float = 1, L: float = 25) -> Problem:
    """The strongly convex function on which heavy ball with its quadratic-optimal step sizes
    does not converge (Lessard, Recht & Packard 2016, §4.6; their example has m = 1, L = 25):

        f(x) = L x²/2                               for x < 1,
               m x²/2 + (L−m) x − (L−m)/2            for 1 ≤ x < 2,
               L x²/2 − (L−m) x + 3(L−m)/2           for x ≥ 2.

    f′ is continuous and piecewise linear with slopes L and m, so f is m-strongly convex and
    L-smooth, with its minimum at 0. Written as a SymPy Piecewise; f′ and f″ by SymPy.
    """
    if not (0 < m < L):
        raise ValueError(f"lessard_piecewise_quadratic(m={m}, L={L}): needs 0 < m < L (strong "
                         "convexity m, smoothness L).")
    x = sp.Symbol("x", real=True)
    m_, L_ = sp.nsimplify(m), sp.nsimplify(L)
    d = L_ - m_
    expr = sp.Piecewise((L_ * x ** 2 / 2, x < 1), (m_ * x ** 2 / 2 + d * x - d / 2, x < 2),
                        (L_ * x ** 2 / 2 - d * x + 3 * d / 2, True))
    fns = [sp.lambdify(x, e, "numpy") for e in (expr, sp.diff(expr, x), sp.diff(expr, x, 2))]

    def evaluate(k, theta):
        theta = np.asarray(theta, dtype=float)
        out = np.asarray(fns[k](theta[..., 0]), dtype=float)
        return np.broadcast_to(out, theta.shape[:-1]).copy() if out.shape != theta.shape[:-1] \
            else out

    p = Problem(lambda t: evaluate(0, t), lambda t: evaluate(1, t)[..., None],
                lambda t: evaluate(2, t)[..., None, None],
                name=f"Lessard et al. piecewise quadratic (m={m:g}, L={L:g})", x0=[3.3],
                minimizer=[0.0], bounds=((-2.5, 4.0),), dim=1, expr=expr, symbols=(x,))
    p.m, p.L = float(m), float(L)
    p.axis_labels = ("x",)
    return p


class EmpiricalRisk(Problem):
    """L(θ) = (1/N) Σᵢ ℓ(θ; xᵢ), the mean of a per-example loss over a data set, with mini-batches
    for every run at once.

    ``loss(θ, x)``, ``grad(θ, x)`` (and optionally ``hess(θ, x)``) take θ of shape (..., 1, d)
    and examples x of shape (..., n, *e) and return per-example values (..., n), (..., n, d),
    (..., n, d, d). ``batch(idx)`` is the same mean over the examples ``idx``: a vector (b,)
    shared by all runs, or one index set per run, idx of shape (*B, b) for θ of shape (*B, d)
    (``per_run_batches = True``: `run(..., sampling="per_run")` uses this directly).
    """

    per_run_batches = True

    def __init__(self, loss: Callable, grad: Callable, data, *, hess: Optional[Callable] = None,
                 name: str, dim: int, x0=None, minimizer=None, bounds=None,
                 example_ndim: Optional[int] = None):
        self.data = np.asarray(data, dtype=float)
        self._parts = (loss, grad, hess)
        # axes of one example (0 for scalars); a per-run batch adds leading run axes
        self._example_ndim = self.data.ndim - 1 if example_ndim is None else example_ndim
        x = self.data

        def f(t):
            return np.mean(loss(np.asarray(t, dtype=float)[..., None, :], x), axis=-1)

        def g(t):
            return np.mean(grad(np.asarray(t, dtype=float)[..., None, :], x), axis=-2)

        def h(t):
            return np.mean(hess(np.asarray(t, dtype=float)[..., None, :], x), axis=-3)

        super().__init__(f, g, h if hess is not None else None, name=name, dim=dim, x0=x0,
                         minimizer=minimizer, bounds=bounds)

    @property
    def n_examples(self) -> int:
        return self.data.shape[self.data.ndim - 1 - self._example_ndim]

    def batch(self, idx) -> "EmpiricalRisk":
        """The mean over the examples ``idx``: (b,) for all runs, or (*B, b), one set per run."""
        if self.data.ndim != 1 + self._example_ndim:
            raise ValueError("batch(idx) takes examples from the whole data set; this problem is "
                             "already a mini-batch.")
        loss, grad, hess = self._parts
        return EmpiricalRisk(loss, grad, self.data[np.asarray(idx)], hess=hess, name=self.name,
                             dim=self.dim, x0=self.x0, example_ndim=self._example_ndim)


def _stationary_points(grad_1d, lo: float, hi: float, n: int = 8001) -> np.ndarray:
    """All zeros of a 1-D gradient on [lo, hi]: sign changes on a fine grid, refined by brentq."""
    from scipy.optimize import brentq
    xs = np.linspace(lo, hi, n)
    g = grad_1d(xs)
    cross = np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0)
    def scalar(v):
        return float(grad_1d(np.array([v]))[0])
    return np.array([brentq(scalar, xs[i], xs[i + 1], xtol=1e-14) for i in cross])


def two_cluster_location(n: int = 200, share: float = 0.3, centers=(-2.0, 2.0),
                         spread: float = 0.5, sigma: float = 1.0,
                         rng: Optional[np.random.Generator] = None) -> EmpiricalRisk:
    """A robust location estimate with two minima, a shallow one beside a deeper one.

    θ minimizes the mean Welsch loss ℓ(θ; x) = 1 − exp(−(θ − x)²/(2σ²)) of n numbers x: the
    loss counts a point fully when θ is near it and ignores it when θ is far, so L(θ) is 1
    minus a (kernel) density of the data, and its minima sit at the data's modes. The data are
    two clusters (normal, standard deviation ``spread``): a share ``share`` around centers[0],
    the rest around centers[1]. The small cluster gives a shallow minimum (``p.shallow``, the
    standard start x0), the large one the deep, global minimum (``p.deep``, the minimizer),
    with a barrier at ``p.barrier`` between them: θ > p.barrier is the deep minimum's basin.
    Mini-batches (also one per run) come from ``batch(idx)``; see `EmpiricalRisk`.
    """
    if not 0 < share < 0.5:
        raise ValueError(f"two_cluster_location(share={share}): the small cluster's share must be "
                         "between 0 and 0.5 (it makes the shallow minimum).")
    if int(n) < 4 or sigma <= 0 or spread < 0:
        raise ValueError(f"two_cluster_location(n={n}, sigma={sigma}, spread={spread}): needs "
                         "n ≥ 4 points, σ > 0 and spread ≥ 0.")
    rng = np.random.default_rng(0) if rng is None else rng
    k = int(round(share * n))
    x = np.concatenate([rng.normal(centers[0], spread, k), rng.normal(centers[1], spread, n - k)])
    s2 = sigma ** 2

    def loss(t, xs):
        return 1 - np.exp(-(t[..., 0] - xs) ** 2 / (2 * s2))

    def grad(t, xs):
        r = t[..., 0] - xs
        return (r / s2 * np.exp(-r ** 2 / (2 * s2)))[..., None]

    def hess(t, xs):
        r = t[..., 0] - xs
        return ((1 - r ** 2 / s2) / s2 * np.exp(-r ** 2 / (2 * s2)))[..., None, None]

    p = EmpiricalRisk(loss, grad, x, hess=hess, name="two-cluster location (Welsch loss)", dim=1,
                      bounds=((x.min() - 1.0, x.max() + 1.0),))
    points = _stationary_points(lambda v: p.grad(v[:, None])[:, 0],
                                x.min() - 3 * sigma, x.max() + 3 * sigma)
    curv = p.hess(points[:, None])[:, 0, 0]
    minima, maxima = points[curv > 0], points[curv < 0]
    if len(minima) != 2:
        raise ValueError(f"two_cluster_location: these settings give {len(minima)} minima, not "
                         "two; move the centers apart or make sigma smaller than their distance.")
    values = p.f(minima[:, None])
    p.deep, p.shallow = minima[np.argmin(values)], minima[np.argmax(values)]
    p.barrier = maxima[(maxima > min(minima)) & (maxima < max(minima))][0]
    p.x0, p.minimizer = np.array([p.shallow]), np.array([p.deep])
    p.x = x
    p.axis_labels = ("θ",)
    return p


# --------------------------------------------------------------------------------------------
# Problems behind lecture 03's race and its claims about adaptive step sizes.

__all__ += ["long_valley", "rotated", "with_gradient_noise", "with_gradient_spike",
            "reddi_online"]


def long_valley(length: float = 10.0, slope: float = 0.1, steepness: float = 10.0) -> Problem:
    """A long, narrow valley: a gently sloping floor along x between steep walls in y.

        f(x, y) = s (√(1 + x²) − 1) + ½ k y²       (s = ``slope``, k = ``steepness``)

    (written s x² / (1 + √(1 + x²)), the same function without the cancellation of
    √(1 + x²) − 1 near the minimum). Far from the minimum at the origin the floor falls with
    the constant slope s; the curvature is k across the valley and at most s along it. One step
    size for both coordinates must stay below 2/k to keep y stable, so steps along the floor
    are at most about 2s/k long: the compromise that a step size per coordinate removes.
    The walls run along the coordinate axes, which is the case per-coordinate methods are built
    for (lecture 03 also measures a rotated copy). Start: (−``length``, 1).
    """
    if not (length > 0 and slope > 0 and steepness > 0):
        raise ValueError(f"long_valley(length={length}, slope={slope}, steepness={steepness}): "
                         "all three must be positive.")
    s, k = sp.nsimplify(slope), sp.nsimplify(steepness)
    expr = s * X ** 2 / (1 + sp.sqrt(1 + X ** 2)) + k * Y ** 2 / 2
    p = from_sympy(expr, name="long valley", x0=[-float(length), 1.0], minimizer=[0.0, 0.0],
                   bounds=((-float(length) - 1.0, 2.0), (-1.5, 1.5)))
    p.slope, p.steepness = float(slope), float(steepness)
    return p


def rotated(problem: Problem, degrees: float) -> Problem:
    """A 2-D problem turned by ``degrees`` about the origin: the same landscape in coordinates
    θ = Q φ, Q the rotation, φ the problem's own coordinates:

        L'(θ) = L(Qᵀθ),   ∇L'(θ) = Q ∇L(Qᵀθ),   ∇²L'(θ) = Q ∇²L(Qᵀθ) Qᵀ.

    Start and minimizer are turned with it, the window covers the turned one. Gradient descent
    and momentum behave the same in every coordinate system (their paths turn with the
    problem); a method with a step size per coordinate does not.
    """
    if problem.dim != 2:
        raise ValueError(f"rotated: {problem.name!r} has d = {problem.dim}; only 2-D problems "
                         "can be turned by an angle.")
    a = np.deg2rad(float(degrees))
    Q = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])

    def f(theta):
        return problem.f(np.asarray(theta, dtype=float) @ Q)

    def grad(theta):
        return problem.grad(np.asarray(theta, dtype=float) @ Q) @ Q.T

    def hess(theta):
        return Q @ problem.hess(np.asarray(theta, dtype=float) @ Q) @ Q.T

    bounds = None
    if problem.bounds is not None:
        (x0, x1), (y0, y1) = problem.bounds
        corners = np.array([[x0, y0], [x0, y1], [x1, y0], [x1, y1]]) @ Q.T
        bounds = tuple((float(lo), float(hi)) for lo, hi in zip(corners.min(0), corners.max(0)))
    turn = (lambda p: None if p is None else np.asarray(p, dtype=float) @ Q.T)
    p = Problem(f, grad, hess, name=f"{problem.name}, turned {degrees:g}°",
                x0=turn(problem.x0), minimizer=turn(problem.minimizer), bounds=bounds, dim=2)
    p.Q, p.original = Q, problem
    return p


def with_gradient_noise(problem: Problem, sigma: float, rng) -> Problem:
    """The same loss, with its gradient observed through noise: ∇f(θ) + σ ξ, where ξ ~ N(0, I)
    is drawn afresh at every call, one number per coordinate and per run.

    ``f`` (what `run` records) stays exact, so a trace shows the true loss of noisy steps.
    ``rng`` is a seed or a Generator: a problem made with the same seed gives the same noise
    sequence ξ₁, ξ₂, … (for θ of the same shape), so optimizers run on copies made with one
    seed see the same noise at every step (common random numbers, as in a fair race).
    Make a fresh copy for every run: the noise stream advances with each gradient.
    """
    sigma = float(sigma)
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"with_gradient_noise(sigma={sigma!r}): the noise's standard deviation "
                         "must be a finite number ≥ 0.")
    gen = np.random.default_rng(rng)

    def grad(theta):
        g = np.asarray(problem.grad(theta), dtype=float)
        return g + sigma * gen.standard_normal(g.shape)

    p = Problem(problem.f, grad, name=f"{problem.name}, gradient noise σ = {sigma:g}",
                x0=problem.x0, minimizer=problem.minimizer, bounds=problem.bounds,
                dim=problem.dim, expr=problem.expr, symbols=problem.symbols)
    p.sigma, p.exact = sigma, problem
    if hasattr(problem, "axis_labels"):
        p.axis_labels = problem.axis_labels
    return p


def with_gradient_spike(problem: Problem, at: int, spike) -> Problem:
    """The same loss, with one sudden large gradient: the ``at``-th gradient the problem hands
    out (1, 2, …; step ``at`` of a run) has ``spike`` added to it, every other one is exact.

    For Zeiler's (2012) claim that Adadelta is robust to large, sudden gradients. The problem
    counts its gradient calls (one per step for the course's first-order optimizers; a batch of
    runs steps together): make a fresh one for every run.
    """
    if not (isinstance(at, (int, np.integer)) and at >= 1):
        raise ValueError(f"with_gradient_spike(at={at!r}): the spike's step must be a whole "
                         "number ≥ 1 (1 is the first step).")
    spike = np.asarray(spike, dtype=float)
    if not np.all(np.isfinite(spike)):
        raise ValueError("with_gradient_spike(spike=...): the spike must be finite.")
    calls = {"t": 0}

    def grad(theta):
        calls["t"] += 1
        g = np.asarray(problem.grad(theta), dtype=float)
        return g + spike if calls["t"] == at else g

    p = Problem(problem.f, grad, name=f"{problem.name}, gradient spike at step {at}",
                x0=problem.x0, minimizer=problem.minimizer, bounds=problem.bounds,
                dim=problem.dim, expr=problem.expr, symbols=problem.symbols)
    p.at, p.spike, p.calls, p.exact = at, spike, calls, problem
    return p


def reddi_online(C: float = 3.0) -> Problem:
    """The online problem on which Adam converges to the worst point (Reddi, Kale & Kumar 2018,
    "On the convergence of Adam and beyond", §3):

        f_t(x) = C x   if t mod 3 = 1,   −x otherwise,     x ∈ [−1, 1],  C > 2,

    so the gradients are C, −1, −1, C, −1, −1, … Over a period the losses add up to (C − 2)x:
    x = −1 has the least regret and x = +1 the most. ``grad`` hands out the gradient of the
    next f_t at each call (t = 1, 2, …, counted by the problem), as a stream of online losses
    arrives; make a fresh problem for every run (a batch of runs steps together, one call per
    step, as every first-order optimizer of the course calls it). ``f`` is the average loss of
    one period, (C − 2)x/3, which `run` records. Keep x in [−1, 1] with
    ``course_lib.optim.adaptive.Projected``.
    """
    C = float(C)
    if not C > 2:
        raise ValueError(f"reddi_online(C={C}): needs C > 2 (for C ≤ 2 the average loss "
                         "(C − 2)x/3 no longer prefers x = −1).")
    calls = {"t": 0}

    def grad(theta):
        calls["t"] += 1
        g = C if calls["t"] % 3 == 1 else -1.0
        return np.full(np.shape(theta), g)

    p = Problem(lambda th: (C - 2) / 3 * np.asarray(th, dtype=float)[..., 0], grad,
                name=f"Reddi et al.'s online problem (C = {C:g})", x0=[0.0], minimizer=[-1.0],
                bounds=((-1.0, 1.0),), dim=1)
    p.C, p.calls = C, calls
    p.axis_labels = ("x",)
    return p


# --------------------------------------------------------------------------------------------
# Sums of squares from the Moré–Garbow–Hillstrom collection (lecture 04's benchmark table).

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


_DATA_PROBLEMS = ("DataProblem", "least_squares", "logistic_regression", "softmax_regression",
                  "mlp")
__all__ += list(_DATA_PROBLEMS)


def __getattr__(name):
    # The data problems live in course_lib.data (which imports Problem from here); importing
    # them lazily keeps `from course_lib.problems import logistic_regression` free of cycles.
    if name in _DATA_PROBLEMS:
        from . import data
        return getattr(data, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
