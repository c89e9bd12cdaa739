"""Line searches: how far to go along a direction p once a second-order method has chosen it.

Along p the loss is a function of one number, φ(α) = L(θ + α p), with φ'(α) = ∇L(θ + α p)ᵀp.
p must point downhill, φ'(0) < 0. Two acceptance tests (Nocedal & Wright 2006, §3.1):

* sufficient decrease (Armijo):  φ(α) ≤ φ(0) + c1 α φ'(0)
* strong curvature (Wolfe):      |φ'(α)| ≤ c2 |φ'(0)|

`backtracking` tries α, ρα, ρ²α, … until the first holds (Newton, Hessian-free: their steps are
usually right at α = 1). `strong_wolfe` finds an α with both (quasi-Newton methods need the
second: it makes sᵀz > 0, so the BFGS update stays positive definite); it brackets an
interval that contains such steps, then shrinks it by safeguarded cubic interpolation
(Nocedal & Wright, Algorithms 3.5 and 3.6, with the interpolation rules and safeguards of
Moré & Thuente 1994).

Both are batched over runs: θ and p of shape (*B, d), one α per run. Every trial is one call of
the problem on the whole batch (a run whose search has ended is evaluated again at its own
accepted point, and that value is ignored); the counts in `run()`'s Trace are these calls.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["backtracking", "strong_wolfe", "wolfe_trials", "LineSearchResult",
           "cubic_minimizer", "quadratic_minimizer"]


class LineSearchResult(NamedTuple):
    """A line search's outcome, per run (shapes (*B) and (*B, d))."""
    alpha: np.ndarray  # the accepted step; 0 where no step decreased L
    theta: np.ndarray  # θ + α p
    loss: np.ndarray   # L(θ + α p)
    grad: object       # ∇L(θ + α p), or None for `backtracking` (it evaluates L only)
    ok: np.ndarray     # True where the conditions hold (strong_wolfe: at least Armijo's)
    evals: int         # trial points evaluated (calls of the problem)


def _dot(a, b):
    return np.einsum("...i,...i->...", a, b)


# ------------------------------------------------------------------------------ backtracking

def backtracking(problem, theta, p, loss, slope, *, alpha=1.0, c1=1e-4, rho=0.5,
                 max_evals=50) -> LineSearchResult:
    """Armijo backtracking (Nocedal & Wright, Algorithm 3.1): α ← ρα until
    L(θ + αp) ≤ L(θ) + c1 α ∇Lᵀp. ``slope`` is φ'(0) = ∇Lᵀp (< 0), per run.

    Evaluates L only (one call per trial, on the whole batch). A run that finds no such α in
    ``max_evals`` trials gets α = 0 (θ unchanged) and ok = False.
    """
    theta = np.asarray(theta, dtype=float)
    batch = theta.shape[:-1]
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), batch).copy()
    loss, slope = np.asarray(loss, dtype=float), np.asarray(slope, dtype=float)
    searching = np.ones(batch, dtype=bool)
    new_loss = np.array(loss, dtype=float)
    evals = 0
    while evals < max_evals:
        trial = problem.f(theta + alpha[..., None] * p)
        evals += 1
        good = trial <= loss + c1 * alpha * slope  # False for nan: a blow-up is not accepted
        taken = searching & good
        new_loss = np.where(taken, trial, new_loss)
        searching &= ~good
        if not searching.any():
            break
        alpha = np.where(searching, rho * alpha, alpha)
    alpha = np.where(searching, 0.0, alpha)
    return LineSearchResult(alpha, theta + alpha[..., None] * p, new_loss, None, ~searching,
                            evals)


# ------------------------------------------------------------------------------ interpolation

def cubic_minimizer(a, fa, da, b, fb, db):
    """The minimizer of the cubic with values fa, fb and slopes da, db at a and b (Nocedal &
    Wright, eq. 3.59), or nan when that cubic has no local minimizer."""
    d1 = da + db - 3 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if not disc >= 0:  # also catches nan
        return np.nan
    d2 = np.copysign(np.sqrt(disc), b - a)
    denom = db - da + 2 * d2
    if denom == 0:
        return np.nan
    return b - (b - a) * (db + d2 - d1) / denom


def quadratic_minimizer(a, fa, da, b, fb):
    """The minimizer of the parabola with value fa and slope da at a and value fb at b, or nan
    when it opens downwards."""
    curv = fb - fa - da * (b - a)  # (b − a)² times half the second derivative
    if not curv > 0:
        return np.nan
    return a - da * (b - a) ** 2 / (2 * curv)


class _Point(NamedTuple):
    alpha: float
    f: float
    d: float  # φ'(α)


def _zoom_trial(lo: _Point, hi: _Point) -> float:
    """The next trial inside the bracket [lo, hi] (lo: the best point so far).

    Where φ(hi) > φ(lo) the minimizer lies nearer lo: take the cubic's minimizer when it is
    nearer lo than the parabola's (through φ(lo), φ'(lo), φ(hi)), else their midpoint (Moré &
    Thuente's rule, which keeps a bad cubic from jumping to the far end). Otherwise the slopes
    at lo and hi bound the minimizer and the cubic alone is used. Whatever the rule gives is
    kept at least 10% of the bracket away from its ends (Nocedal & Wright's safeguard); where
    it gives nothing (no cubic minimizer, non-finite values), the midpoint.
    """
    width = hi.alpha - lo.alpha
    if not (np.isfinite(hi.f) and np.isfinite(hi.d)):
        return lo.alpha + 0.1 * width  # a blow-up at hi: step well back towards lo
    c = cubic_minimizer(lo.alpha, lo.f, lo.d, hi.alpha, hi.f, hi.d)
    t = c
    if hi.f > lo.f:
        q = quadratic_minimizer(lo.alpha, lo.f, lo.d, hi.alpha, hi.f)
        if np.isfinite(q) and (not np.isfinite(c) or abs(q - lo.alpha) < abs(c - lo.alpha)):
            t = q if not np.isfinite(c) else 0.5 * (c + q)
    if not np.isfinite(t):
        return lo.alpha + 0.5 * width
    s = (t - lo.alpha) / width  # where t lies in the bracket, 0 at lo, 1 at hi
    return lo.alpha + min(max(s, 0.1), 0.9) * width


def _extrapolate(prev: _Point, cur: _Point, alpha_max: float) -> float:
    """The next trial beyond cur while φ still falls steeply: the cubic's minimizer through
    prev and cur, kept within 1.1 to 4 times the last step beyond cur (Moré & Thuente)."""
    step = cur.alpha - prev.alpha
    lo, hi = cur.alpha + 1.1 * step, cur.alpha + 4.0 * step
    t = cubic_minimizer(prev.alpha, prev.f, prev.d, cur.alpha, cur.f, cur.d)
    t = hi if not np.isfinite(t) else min(max(t, lo), hi)
    return min(t, alpha_max)


# ------------------------------------------------------------------------------ strong Wolfe

def wolfe_trials(phi0, dphi0, alpha, *, c1=1e-4, c2=0.9, max_evals=20, alpha_max=1e10):
    """One run's strong-Wolfe search, written as the textbook writes it: a generator that
    yields each trial step α and is sent back (φ(α), φ'(α)); it returns (α, status), status
    "wolfe" (both conditions hold), "armijo" (only sufficient decrease: the bracket shrank to
    rounding level or the trials ran out) or "failed" (α = 0: no lower point found).

    Stage 1 (Algorithm 3.5): try α; if it breaks sufficient decrease, or does no better than
    the previous trial, a minimizer lies before it: zoom. If it meets the curvature condition:
    done. If φ rises there: zoom back. Else step further out (`_extrapolate`).
    Stage 2, zoom (Algorithm 3.6): keep a bracket [lo, hi] whose lo is the best trial with
    sufficient decrease; interpolate inside (`_zoom_trial`); replace lo or hi by the trial.
    A bracket that does not shrink by a third within two trials is bisected instead.
    """
    def armijo(pt):
        return pt.f <= phi0 + c1 * pt.alpha * dphi0

    def curvature(pt):
        return abs(pt.d) <= c2 * abs(dphi0)

    def zoom(lo, hi, evals):
        widths = [np.inf, np.inf]  # the bracket's width before each trial
        while evals < max_evals:
            if abs(hi.alpha - lo.alpha) <= 1e-12 * max(1.0, abs(lo.alpha)):
                break  # the bracket is at rounding level: nothing to gain by more trials
            if abs(hi.alpha - lo.alpha) > 0.66 * widths[-2]:
                a = lo.alpha + 0.5 * (hi.alpha - lo.alpha)
            else:
                a = _zoom_trial(lo, hi)
            widths.append(abs(hi.alpha - lo.alpha))
            f, d = yield a
            evals += 1
            pt = _Point(a, f, d)
            if not (np.isfinite(f) and armijo(pt)) or pt.f >= lo.f:
                hi = pt
            else:
                if curvature(pt):
                    return pt.alpha, "wolfe"
                if pt.d * (hi.alpha - lo.alpha) >= 0:
                    hi = lo
                lo = pt
        return (lo.alpha, "armijo") if lo.alpha > 0 else (0.0, "failed")

    prev = _Point(0.0, phi0, dphi0)
    evals = 0
    while evals < max_evals:
        f, d = yield alpha
        evals += 1
        cur = _Point(alpha, f, d)
        if not (np.isfinite(f) and armijo(cur)) or (prev.alpha > 0 and cur.f >= prev.f):
            return (yield from zoom(prev, cur, evals))
        if curvature(cur):
            return cur.alpha, "wolfe"
        if cur.d >= 0:
            return (yield from zoom(cur, prev, evals))
        if alpha >= alpha_max:
            return cur.alpha, "armijo"
        prev, alpha = cur, _extrapolate(prev, cur, alpha_max)
    return (prev.alpha, "armijo") if prev.alpha > 0 else (0.0, "failed")


def strong_wolfe(problem, theta, p, loss, grad, *, alpha=1.0, c1=1e-4, c2=0.9, max_evals=20,
                 active=None) -> LineSearchResult:
    """A step α per run with L(θ + αp) ≤ L(θ) + c1 α ∇Lᵀp and |∇L(θ + αp)ᵀp| ≤ c2 |∇Lᵀp|.

    θ, p, grad: (*B, d); loss: (*B); alpha: the first trial, a number or one per run.
    Each trial evaluates L and ∇L together (``problem.value_and_grad``) for the whole batch;
    each run's search is a `wolfe_trials` generator fed from those values. Runs where
    ``active`` is False are not searched (α = 0). Where a search fails α = 0 and ok = False.
    """
    theta = np.asarray(theta, dtype=float)
    batch = theta.shape[:-1]
    n = int(np.prod(batch, dtype=int))
    d = theta.shape[-1]
    p = np.asarray(p, dtype=float)
    p_runs = np.reshape(np.broadcast_to(p, batch + (d,)), (n, d))
    slope = np.reshape(_dot(grad, p), n)
    loss0 = np.reshape(np.asarray(loss, dtype=float), n)
    first = np.reshape(np.broadcast_to(np.asarray(alpha, dtype=float), batch), n)
    on = np.ones(n, dtype=bool) if active is None else np.reshape(np.asarray(active), n).copy()

    alphas = np.zeros(n)
    searches = {}
    for r in np.flatnonzero(on):
        gen = wolfe_trials(loss0[r], slope[r], first[r], c1=c1, c2=c2, max_evals=max_evals)
        searches[r] = gen
        alphas[r] = next(gen)
    # every trial's (L, ∇L) per run, to hand back the accepted one
    seen = {r: {} for r in searches}
    status = {}
    evals = 0
    while searches:
        trial = theta + np.reshape(alphas, batch)[..., None] * p
        f, g = problem.value_and_grad(trial)
        evals += 1
        f, g = np.reshape(f, n), np.reshape(g, (n, d))
        slopes = np.einsum("ri,ri->r", g, p_runs)
        for r in list(searches):
            seen[r][alphas[r]] = (f[r], g[r])
            try:
                alphas[r] = searches[r].send((f[r], slopes[r]))
            except StopIteration as stop:
                alphas[r], status[r] = stop.value
                del searches[r]

    new_loss, new_grad = loss0.copy(), np.array(np.reshape(grad, (n, d)), dtype=float)
    ok = np.zeros(n, dtype=bool)
    for r, st in status.items():
        if st != "failed":
            new_loss[r], new_grad[r] = seen[r][alphas[r]]
            ok[r] = True
    alpha_b = np.reshape(alphas, batch)
    return LineSearchResult(alpha_b, theta + alpha_b[..., None] * p, np.reshape(new_loss, batch),
                            np.reshape(new_grad, batch + (d,)), np.reshape(ok, batch), evals)
