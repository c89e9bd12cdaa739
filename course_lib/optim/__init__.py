"""Optimizers of the lecture, one pure ``init``/``step`` pair each, and `run()` to drive them."""
from .adaptive import (AMSGrad, AMSGradState, Adadelta, AdadeltaState, Adagrad, AdagradState,
                       Adam, AdamState, Projected, RMSprop, RMSpropState)
from .asynchronous import Delayed, DelayedState
from .base import Optimizer, check_theta
from .conjugate_gradient import CGResult, conjugate_gradient
from .gradient_descent import SGD, Momentum, MomentumState, Nesterov, SGDState
from .hessian_free import HessianFree, HessianFreeState
from .line_search import LineSearchResult, backtracking, strong_wolfe
from .newton import Newton, NewtonState
from .quasi_newton import BFGS, LBFGS, BFGSState, LBFGSState, two_loop
from .run import CountingProblem, RunwiseBatch, Trace, per_run_rngs, run

__all__ = ["Optimizer", "check_theta", "SGD", "SGDState", "Momentum", "Nesterov", "MomentumState",
           "Adagrad", "AdagradState", "RMSprop", "RMSpropState", "Adadelta", "AdadeltaState",
           "Adam", "AdamState", "AMSGrad", "AMSGradState", "Projected",
           "Newton", "NewtonState", "BFGS", "BFGSState", "LBFGS", "LBFGSState", "two_loop",
           "HessianFree", "HessianFreeState", "conjugate_gradient", "CGResult",
           "backtracking", "strong_wolfe", "LineSearchResult",
           "Delayed", "DelayedState", "run", "Trace", "CountingProblem", "RunwiseBatch",
           "per_run_rngs"]
