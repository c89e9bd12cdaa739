"""Objective functions the course optimizes: a `Problem` is a loss with its derivatives.

Every function of a problem broadcasts over the leading axes of θ: θ of shape (..., d) gives
f(θ) of shape (...), grad(θ) of shape (..., d), hess(θ) of shape (..., d, d), so a batch of B
starting points or B hyperparameter settings is one call.

The 2-D test functions are written once as SymPy expressions; their gradients and Hessians are
differentiated symbolically and turned into numpy with `lambdify`. `problem.expr` keeps the
expression so a notebook can show (and a test can check) the derivation the code came from.

One module per idea, all importable from here (``from course_lib.problems import rosenbrock``):

- `base`: the `Problem` protocol and the finite-difference fall-backs;
- `classic`: the 2-D SymPy test functions, Rosenbrock in d dimensions, the quadratic;
- `networks`: lecture 01's one- and two-unit tanh networks;
- `views`: a 2-D slice through a d-dimensional problem, a SciPy reference minimizer;
- `claims_momentum`: the problems behind lecture 02's measured claims;
- `claims_adaptive`: the problems behind lecture 03's race and claims;
- `sums_of_squares`: the Moré–Garbow–Hillstrom collection (lecture 04);
- the data problems (least squares, logistic and softmax regression, the MLP on the digits)
  live in `course_lib.data` and are re-exported here.
"""
from __future__ import annotations

from . import base, claims_adaptive, claims_momentum, classic, networks, sums_of_squares, views
from .base import *  # noqa: F401,F403
from .claims_adaptive import *  # noqa: F401,F403
from .claims_momentum import *  # noqa: F401,F403
from .classic import *  # noqa: F401,F403
from .classic import X, Y  # the symbols of the 2-D expressions (problem.expr)
from .networks import *  # noqa: F401,F403
from .sums_of_squares import *  # noqa: F401,F403
from .views import *  # noqa: F401,F403

_DATA_PROBLEMS = ("DataProblem", "least_squares", "logistic_regression", "softmax_regression",
                  "mlp")

__all__ = [name for module in (base, classic, networks, views, claims_momentum, claims_adaptive,
                               sums_of_squares) for name in module.__all__]
__all__ += list(_DATA_PROBLEMS)


def __getattr__(name):
    # The data problems live in course_lib.data (which imports Problem from here); importing
    # them lazily keeps `from course_lib.problems import logistic_regression` free of cycles.
    if name in _DATA_PROBLEMS:
        from .. import data
        return getattr(data, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
