"""Lecture 04: quasi-Newton methods — dense BFGS and limited-memory L-BFGS.

Both build the inverse Hessian from what the gradients have shown: after a step
s = θ_{k+1} − θ_k with gradient change z = ∇L(θ_{k+1}) − ∇L(θ_k), the new matrix H obeys the
secant equation H z = s (the curvature along s that the step measured), and stays symmetric
and positive definite as long as sᵀz > 0. The step is Δθ = α p with p = −H ∇L and α from a
line search satisfying the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9), which guarantees
sᵀz > 0 on every smooth function; pairs with sᵀz ≤ ε_mach·zᵀz (rounding) are skipped.

The protocol is the course's (``init`` / ``step``), but one step is a whole iteration: the
direction and its line search, which may evaluate L and ∇L several times (counted by run()).
The first step evaluates L and ∇L at θ₀ (init has no problem to ask). A run stops (state
``done``) once ‖∇L‖∞ ≤ gtol, scipy's L-BFGS-B test (its ``pgtol`` without bounds), or when
not even steepest descent finds a lower point; run() then stops too. Batched over starting
points: θ (*B, d), one line search per run (see `line_search.strong_wolfe`). Full-batch
methods: the line search compares values of one and the same L, and the pairs (s, z) need
gradients of one L, so run them without ``batch_size``.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from .base import Optimizer, check_theta
from .line_search import strong_wolfe

__all__ = ["BFGS", "BFGSState", "LBFGS", "LBFGSState", "two_loop"]

_EPS = np.finfo(float).eps


def _dot(a, b):
    """Σᵢ aᵢbᵢ over the last axis (per run); one run's vectors take the faster BLAS dot."""
    if a.ndim == 1 and b.ndim == 1:
        return np.dot(a, b)
    return np.einsum("...i,...i->...", a, b)


def _per_run(c):
    """A per-run coefficient (*B) shaped to scale vectors (*B, d); a single run's stays 0-d."""
    return c[..., None] if np.ndim(c) else c


class _WolfeMethod(Optimizer):
    """What BFGS and L-BFGS share: evaluate at θ₀, test convergence, search along −H∇L, and
    keep (s, z) when the step measured positive curvature."""

    def _check_common(self, c1, c2, gtol, max_evals):
        self._hyper("c1", c1, low=0.0, low_open=True, high=1.0, high_open=True)
        self._hyper("c2", c2, low=0.0, low_open=True, high=1.0, high_open=True)
        self._hyper("gtol", gtol)
        for name in ("c1", "c2", "gtol"):
            if np.ndim(getattr(self, name)):
                raise ValueError(f"{type(self).__name__}({name}=array): {name} must be one "
                                 "number for all runs (each run's line search is its own).")
        if not self.c1 < self.c2:
            raise ValueError(f"{type(self).__name__}(c1={c1}, c2={c2}): the strong Wolfe "
                             "conditions need 0 < c1 < c2 < 1 (e.g. c1=1e-4, c2=0.9), else no "
                             "step may satisfy both.")
        if not isinstance(max_evals, (int, np.integer)) or max_evals < 1:
            raise ValueError(f"{type(self).__name__}(max_evals={max_evals!r}): the line search "
                             "needs at least one trial per step; use e.g. max_evals=20.")
        self.max_evals = int(max_evals)

    def _start(self, theta, state, problem):
        """L and ∇L at θ (evaluated on the first step) and which runs are done."""
        loss, g = state.loss, state.g
        if loss is None:
            loss, g = problem.value_and_grad(theta)
            loss = np.asarray(loss, dtype=float)
        done = state.done | ~np.isfinite(loss) | (np.max(np.abs(g), axis=-1) <= self.gtol)
        return loss, g, done

    def step(self, theta, state, problem):
        loss, g, done = self._start(theta, state, problem)
        if done.all():
            return theta, state._replace(loss=loss, g=g, done=done, t=state.t + 1)
        p, fresh, memory = self._direction(g, state)
        slope = _dot(g, p)
        # −H∇L is downhill in exact arithmetic; where rounding says otherwise, forget the
        # curvature pairs and take steepest descent (as L-BFGS-B does)
        uphill = ~(slope < 0) & ~done
        if uphill.any():
            p = np.where(uphill[..., None], -g, p)
            memory = self._forget(memory, uphill)
            fresh = fresh | uphill
        # without curvature information the first trial moves θ by a unit length
        alpha0 = np.where(fresh, 1.0 / np.maximum(np.linalg.norm(p, axis=-1), 1e-300), 1.0)
        ls = strong_wolfe(problem, theta, p, loss, g, alpha=alpha0, c1=self.c1, c2=self.c2,
                          max_evals=self.max_evals, active=~done)
        searched = ~done
        s, z = ls.theta - theta, ls.grad - g
        sz = _dot(s, z)
        keep = searched & ls.ok & (sz > _EPS * _dot(z, z))
        memory = self._remember(memory, s, z, sz, keep)
        failed = searched & ~ls.ok
        if failed.any():  # no lower point along −H∇L: start again from steepest descent,
            memory = self._forget(memory, failed)  # or stop if that was steepest descent
        done = done | (failed & fresh) | (np.max(np.abs(ls.grad), axis=-1) <= self.gtol)
        return ls.theta, self._state(memory, ls.loss, ls.grad, done, state.t + 1)


class LBFGSState(NamedTuple):
    s: tuple          # the last ≤ m steps s_i = θ_{i+1} − θ_i, oldest first, each (*B, d)
    z: tuple          # their gradient changes z_i = ∇L(θ_{i+1}) − ∇L(θ_i)
    rho: tuple        # ρ_i = 1/(s_iᵀz_i), (*B); 0 where a run did not keep that pair
    gamma: np.ndarray  # H₀ = γ I with γ = sᵀz/zᵀz of each run's newest kept pair, (*B)
    loss: Optional[np.ndarray]  # L(θ) (None before the first step)
    g: Optional[np.ndarray]     # ∇L(θ)
    done: np.ndarray  # (*B) bool: converged, or no lower point found
    t: int


def two_loop(g, s, z, rho, gamma):
    """H ∇L by the two-loop recursion (Nocedal & Wright, Algorithm 7.4), never forming H:

        q ← ∇L;  for i = newest … oldest:  a_i = ρ_i s_iᵀq;  q ← q − a_i z_i
        r ← γ q;  for i = oldest … newest:  b = ρ_i z_iᵀr;  r ← r + (a_i − b) s_i

    r is H∇L, with H the BFGS matrix built from H₀ = γI by the stored pairs (oldest first).
    Batched: g, s_i, z_i (*B, d), ρ_i and γ (*B); a pair with ρ_i = 0 changes nothing.
    """
    q = g
    a = []
    for s_i, z_i, rho_i in zip(reversed(s), reversed(z), reversed(rho)):
        a_i = rho_i * _dot(s_i, q)
        q = q - _per_run(a_i) * z_i
        a.append(a_i)
    r = _per_run(gamma) * q
    for s_i, z_i, rho_i, a_i in zip(s, z, rho, reversed(a)):
        b = rho_i * _dot(z_i, r)
        r = r + _per_run(a_i - b) * s_i
    return r


class LBFGS(_WolfeMethod):
    """Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989; Nocedal & Wright, Alg. 7.5):

        p = −H ∇L by the two-loop recursion over the m most recent pairs (s, z),
            H₀ = γ I,  γ = sᵀz / zᵀz  (the newest pair);
        θ ← θ + α p,  α satisfying the strong Wolfe conditions (c1, c2);
        keep (s, z) = (θ_new − θ, ∇L_new − ∇L) if sᵀz > ε_mach zᵀz, dropping the oldest.

    Cost O(m d) per iteration and 2 m d numbers of memory, against d² for BFGS. The first
    step (and any step after the memory was cleared) goes along −∇L, its first trial a unit
    distance. scipy's L-BFGS-B without bounds is the same method (``maxcor`` = m) with the
    Moré–Thuente line search and c1 = 1e-3; ``gtol`` here is its ``gtol`` (‖∇L‖∞).

    ``max_evals``: trials a line search may spend (scipy's ``maxls``, 20).
    """

    hyperparameters = ("m", "c1", "c2", "gtol")

    def __init__(self, m=10, *, c1=1e-4, c2=0.9, gtol=1e-5, max_evals=20):
        if not isinstance(m, (int, np.integer)) or m < 1:
            raise ValueError(f"LBFGS(m={m!r}): m is how many (s, z) pairs to remember, a "
                             "positive integer (3…20 is usual; scipy's default is 10).")
        self.m = int(m)
        self._check_common(c1, c2, gtol, max_evals)

    def init(self, theta) -> LBFGSState:
        theta = check_theta(theta)
        batch = theta.shape[:-1]
        return LBFGSState(s=(), z=(), rho=(), gamma=np.ones(batch), loss=None, g=None,
                          done=np.zeros(batch, dtype=bool), t=0)

    def _direction(self, g, state):
        fresh = np.ones(g.shape[:-1], dtype=bool)
        for rho_i in state.rho:
            fresh &= rho_i == 0
        p = -two_loop(g, state.s, state.z, state.rho, state.gamma)
        return p, fresh, (state.s, state.z, state.rho, state.gamma)

    def _remember(self, memory, s, z, sz, keep):
        S, Z, R, gamma = memory
        if not keep.any():  # nothing new to learn: the memory stays as it was
            return memory
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(keep, 1.0 / sz, 0.0)
            gamma = np.where(keep, sz / _dot(z, z), gamma)
        return (S + (s,))[-self.m:], (Z + (z,))[-self.m:], (R + (rho,))[-self.m:], gamma

    def _forget(self, memory, runs):
        S, Z, R, gamma = memory
        if runs.all():
            return (), (), (), np.ones_like(gamma)
        return S, Z, tuple(np.where(runs, 0.0, r) for r in R), np.where(runs, 1.0, gamma)

    def _state(self, memory, loss, g, done, t):
        S, Z, R, gamma = memory
        return LBFGSState(s=S, z=Z, rho=R, gamma=gamma, loss=loss, g=g, done=done, t=t)


class BFGSState(NamedTuple):
    H: Optional[np.ndarray]  # the inverse-Hessian approximation (*B, d, d); None: not yet built
    loss: Optional[np.ndarray]
    g: Optional[np.ndarray]
    done: np.ndarray
    t: int


class BFGS(_WolfeMethod):
    """BFGS with a dense inverse-Hessian approximation H (Nocedal & Wright, Algorithm 6.1):

        p = −H ∇L;   θ ← θ + α p  (strong Wolfe line search);
        H ← (I − ρ s zᵀ) H (I − ρ z sᵀ) + ρ s sᵀ,   ρ = 1/(sᵀz).

    The update is the symmetric matrix closest to H (in a weighted norm) that satisfies the
    secant equation H z = s; notebook 04 checks both symbolically
    (`course_lib.theory.second_order.bfgs_inverse_update`). H starts as the identity and is
    rescaled to (sᵀz/zᵀz) I just before the first update (Nocedal & Wright, eq. 6.20). d²
    numbers of memory and O(d²) work per step: for the small problems of the derivations.
    """

    hyperparameters = ("c1", "c2", "gtol")

    def __init__(self, *, c1=1e-4, c2=0.9, gtol=1e-5, max_evals=20):
        self._check_common(c1, c2, gtol, max_evals)

    def init(self, theta) -> BFGSState:
        theta = check_theta(theta)
        batch = theta.shape[:-1]
        return BFGSState(H=None, loss=None, g=None, done=np.zeros(batch, dtype=bool), t=0)

    def _direction(self, g, state):
        if state.H is None:
            return -g, np.ones(g.shape[:-1], dtype=bool), None
        fresh = np.isnan(state.H[..., 0, 0])  # a run whose memory was cleared
        H = np.where(fresh[..., None, None], np.eye(g.shape[-1]), state.H)
        return -np.einsum("...ij,...j->...i", H, g), fresh, H

    def _remember(self, H, s, z, sz, keep):
        d = s.shape[-1]
        if H is None:
            H = np.broadcast_to(np.eye(d), s.shape[:-1] + (d, d))
            first = np.ones(s.shape[:-1], dtype=bool)
        else:
            first = np.zeros(s.shape[:-1], dtype=bool)
        if not keep.any():
            return H
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(keep, 1.0 / sz, 0.0)[..., None, None]
            scale = np.where(keep & first, sz / _dot(z, z), 1.0)[..., None, None]
        H0 = scale * H
        V = np.eye(d) - rho * s[..., :, None] * z[..., None, :]
        updated = V @ H0 @ np.swapaxes(V, -1, -2) + rho * s[..., :, None] * s[..., None, :]
        return np.where(keep[..., None, None], updated, H)

    def _forget(self, H, runs):
        if H is None:
            return None
        return np.where(runs[..., None, None], np.nan, H)  # nan marks "start from I again"

    def _state(self, H, loss, g, done, t):
        return BFGSState(H=H, loss=loss, g=g, done=done, t=t)
