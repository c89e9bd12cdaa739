"""Problems behind lecture 02's claims about momentum and noise: a rippled quadratic,
Lessard's piecewise quadratic on which heavy ball cycles, an empirical risk sampled by
mini-batches, and a two-cluster location problem with a shallow and a deep minimum.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import sympy as sp

from .base import Problem

__all__ = ["rippled_quadratic", "RIPPLE_SYMBOLS", "lessard_piecewise_quadratic", "EmpiricalRisk",
           "two_cluster_location"]


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


