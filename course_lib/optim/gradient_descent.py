"""Lecture 02: gradient descent and stochastic gradient descent."""
from __future__ import annotations

from typing import NamedTuple

from .base import Optimizer, check_theta

__all__ = ["SGD", "SGDState"]


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
