"""Optimizers of the lecture, one pure ``init``/``step`` pair each, and `run()` to drive them."""
from .base import Optimizer, check_theta
from .gradient_descent import SGD, Momentum, MomentumState, Nesterov, SGDState
from .run import CountingProblem, Trace, run

__all__ = ["Optimizer", "check_theta", "SGD", "SGDState", "Momentum", "Nesterov", "MomentumState", "run", "Trace", "CountingProblem"]
