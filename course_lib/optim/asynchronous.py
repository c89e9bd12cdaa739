"""Asynchronous SGD, simulated: an optimizer that receives its gradients τ steps late.

With several workers updating shared parameters without waiting for each other (Hogwild!,
Niu et al. 2011; Downpour SGD, Dean et al. 2012), a gradient is computed on parameters read
some steps ago and applied to the current ones. The standard model of this is a fixed delay τ:

    θ_{t+1} = θ_t − η ∇L(θ_{t−τ})        (θ_{t−τ} = θ_0 while t < τ).

`Delayed(opt, tau)` wraps any optimizer of the protocol: whenever the wrapped optimizer asks
for a gradient at a point, it is handed the gradient at the point it asked about τ steps
earlier. `Delayed(SGD(eta), tau)` is the rule above; `Delayed(Momentum(eta, mu), tau)` is
momentum fed stale gradients. τ may be an array with one delay per run, like any
hyperparameter: ``Delayed(SGD(eta), tau=taus[:, None])`` for θ of shape (B, d).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .base import Optimizer, check_theta

__all__ = ["Delayed", "DelayedState"]


class DelayedState(NamedTuple):
    inner: Any  # the wrapped optimizer's state
    history: np.ndarray  # (τ_max + 1, *B, d): where gradients were asked for, oldest first


class _StaleGradients:
    """The problem the wrapped optimizer sees: ``grad(p)`` records p and returns ∇L at the
    point recorded τ requests earlier. Everything else is the real problem's."""

    def __init__(self, problem, history, tau):
        self._p, self.history, self._tau = problem, history, tau

    def __getattr__(self, name):
        return getattr(self._p, name)

    def grad(self, theta):
        theta = np.asarray(theta, dtype=float)
        self.history = np.concatenate([self.history[1:], theta[None]])
        newest = len(self.history) - 1
        if np.ndim(self._tau) == 0:
            stale = self.history[newest - int(self._tau)]
        else:  # one delay per run: pick each run's point from its own row of the history
            rows = np.broadcast_to(newest - self._tau, theta.shape).astype(int)
            stale = np.take_along_axis(self.history, rows[None], axis=0)[0]
        return self._p.grad(stale)


class Delayed(Optimizer):
    """``opt`` with gradients τ steps stale: the gradient it asks for at step t is evaluated at
    the point it asked about at step t − τ (at its first point while t < τ).

    ``Delayed(SGD(eta), tau)``:  θ_{t+1} = θ_t − η ∇L(θ_{t−τ}).   τ = 0 is ``opt`` itself.
    The wrapped optimizer must ask for one gradient per step (all of lecture 02's do).
    """

    hyperparameters = ("tau",)

    def __init__(self, opt, tau=1):
        if not (hasattr(opt, "init") and hasattr(opt, "step")):
            raise TypeError(f"Delayed(opt, tau): {opt!r} is not an optimizer; e.g. "
                            "Delayed(SGD(eta=0.1), tau=2).")
        self._hyper("tau", tau)
        if np.any(np.asarray(tau) != np.round(tau)):
            raise ValueError(f"Delayed(tau={tau!r}): a delay counts steps, so it must be a whole "
                             "number ≥ 0.")
        self.opt = opt
        self.tau_max = int(np.max(tau))

    def init(self, theta) -> DelayedState:
        theta = check_theta(theta)
        self._check_batch(theta)
        history = np.broadcast_to(theta, (self.tau_max + 1,) + theta.shape).copy()
        return DelayedState(inner=self.opt.init(theta), history=history)

    def step(self, theta, state: DelayedState, problem):
        stale = _StaleGradients(problem, state.history, self.tau)
        theta, inner = self.opt.step(theta, state.inner, stale)
        return theta, DelayedState(inner=inner, history=stale.history)

    def __repr__(self):
        tau = f"array{np.shape(self.tau)}" if np.ndim(self.tau) else repr(self.tau)
        return f"Delayed({self.opt!r}, tau={tau})"
