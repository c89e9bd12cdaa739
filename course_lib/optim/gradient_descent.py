"""Lecture 02: gradient descent, stochastic gradient descent, momentum and Nesterov."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Optimizer, check_theta

__all__ = ["SGD", "SGDState", "Momentum", "Nesterov", "MomentumState"]


class SGDState(NamedTuple):
    t: int  # steps taken so far


class SGD(Optimizer):
    """Gradient descent, θ ← θ − η_t ∇L(θ).

    Full batch, mini-batch or one example at a time: the optimizer is the same, only the
    gradient it is given differs (``run(..., batch_size=...)`` hands it a mini-batch's).
    ``eta`` is a number, an array of one value per run, or a schedule η(t) from
    `course_lib.schedules` (step decay, 1/t annealing, …).
    """

    hyperparameters = ("eta",)

    def __init__(self, eta=0.1):
        self._hyper("eta", eta, schedule=True)

    def init(self, theta) -> SGDState:
        self._check_batch(check_theta(theta))
        return SGDState(t=0)

    def step(self, theta, state: SGDState, problem):
        g = problem.grad(theta)
        return theta - self.rate(self.eta, state.t) * g, SGDState(t=state.t + 1)


class MomentumState(NamedTuple):
    m: np.ndarray  # the velocity: a running, decaying sum of past steps
    t: int


class Momentum(Optimizer):
    """Polyak's heavy ball in the form of Sutskever et al. (2013):

        m ← µ m − η ∇L(θ);   θ ← θ + m.

    torch.optim.SGD(momentum=µ, dampening=0) keeps b = −m/η instead (b ← µ b + g;
    θ ← θ − η b): with a constant η both produce the same θ's.
    """

    hyperparameters = ("eta", "mu")

    def __init__(self, eta=0.01, mu=0.9):
        self._hyper("eta", eta, schedule=True)
        self._hyper("mu", mu, high=1.0)

    def init(self, theta) -> MomentumState:
        theta = check_theta(theta)
        self._check_batch(theta)
        return MomentumState(m=np.zeros_like(theta), t=0)

    def step(self, theta, state: MomentumState, problem):
        m = self.mu * state.m - self.rate(self.eta, state.t) * problem.grad(theta)
        return theta + m, MomentumState(m=m, t=state.t + 1)


class Nesterov(Momentum):
    """Nesterov's accelerated gradient in the look-ahead form of Sutskever et al. (2013):

        θ̃ = θ + µ m;   m ← µ m − η ∇L(θ̃);   θ ← θ + m.

    The gradient is taken where momentum is about to carry θ, not where θ is. torch.optim's
    SGD(nesterov=True) iterates the look-ahead point θ̃ itself (notebook 02 derives the change
    of variable); the two sequences are the same under θ̃_t = θ_t + µ m_t.
    """

    def step(self, theta, state: MomentumState, problem):
        lookahead = theta + self.mu * state.m
        m = self.mu * state.m - self.rate(self.eta, state.t) * problem.grad(lookahead)
        return theta + m, MomentumState(m=m, t=state.t + 1)
