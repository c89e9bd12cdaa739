"""Optimizers of the lecture, one pure ``init``/``step`` pair each, and `run()` to drive them."""
from .adaptive import (AMSGrad, AMSGradState, Adadelta, AdadeltaState, Adagrad, AdagradState,
                       Adam, AdamState, RMSprop, RMSpropState)
from .asynchronous import Delayed, DelayedState
from .base import Optimizer, check_theta
from .gradient_descent import SGD, Momentum, MomentumState, Nesterov, SGDState
from .run import CountingProblem, RunwiseBatch, Trace, per_run_rngs, run

__all__ = ["Optimizer", "check_theta", "SGD", "SGDState", "Momentum", "Nesterov", "MomentumState",
           "Adagrad", "AdagradState", "RMSprop", "RMSpropState", "Adadelta", "AdadeltaState",
           "Adam", "AdamState", "AMSGrad", "AMSGradState",
           "Delayed", "DelayedState", "run", "Trace", "CountingProblem", "RunwiseBatch",
           "per_run_rngs"]
