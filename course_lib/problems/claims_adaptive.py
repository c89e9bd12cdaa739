"""Problems behind lecture 03's race and its claims about adaptive step sizes: a long valley,
a rotation of any problem, gradient noise and spikes, and Reddi et al.'s online problem on
which Adam converges to the worst point.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .base import Problem
from .classic import X, Y, from_sympy

__all__ = ["long_valley", "rotated", "with_gradient_noise", "with_gradient_spike", "reddi_online"]


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


