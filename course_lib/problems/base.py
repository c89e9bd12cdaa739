"""The `Problem` protocol: a loss with its derivatives, broadcasting over leading axes, and
the derivative fall-backs (central finite differences of the loss, of the gradient).
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

__all__ = ["Problem", "numerical_grad", "finite_difference_hvp"]

Array = np.ndarray


class Problem:
    """A differentiable objective: ``f(θ)``, ``grad(θ)`` and optionally ``hess(θ)``, ``hvp(θ, v)``.

    Parameters
    ----------
    f, grad : callables of θ with shape (..., d) returning shape (...) and (..., d).
    hess : optional, returns (..., d, d).
    hvp : optional Hessian-vector product ``hvp(θ, v)`` returning (..., d). When it is not given,
        ``Problem.hvp`` uses ``hess`` when there is one, else a central finite difference of
        ``grad`` (error O(ε²), ε scaled to θ and v).
    name : shown in plots and messages.
    x0 : the standard starting point, shape (d,).
    minimizer : a known minimizer, shape (d,), or an array (k, d) of several, or None.
    bounds : ((xmin, xmax), (ymin, ymax)), the window where a 2-D problem is worth drawing.
    """

    def __init__(self, f: Callable, grad: Optional[Callable], hess: Optional[Callable] = None,
                 hvp: Optional[Callable] = None, *, name: str = "problem", x0=None,
                 minimizer=None, bounds=None, dim: Optional[int] = None, expr=None,
                 symbols=None, value_and_grad: Optional[Callable] = None):
        if not callable(f):
            raise TypeError(f"Problem(f=...) must be a function of θ, got {type(f).__name__}.")
        if grad is None or not callable(grad):
            raise TypeError(
                f"Problem {name!r} has no gradient: pass grad=..., a function θ -> ∇f(θ) of the "
                "same shape as θ. If you only have f, use grad=course_lib.problems."
                "numerical_grad(f) (slow, approximate) or derive it (SymPy, autograd).")
        self.f = f
        self.grad = grad
        self._hess = hess
        self._hvp = hvp
        self._value_and_grad = value_and_grad
        self.name = name
        self.x0 = None if x0 is None else np.asarray(x0, dtype=float)
        self.minimizer = None if minimizer is None else np.asarray(minimizer, dtype=float)
        self.bounds = bounds
        if dim is None:
            for a in (self.x0, self.minimizer):
                if a is not None:
                    dim = a.shape[-1]
                    break
        self.dim = dim
        self.expr = expr
        self.symbols = symbols

    def __repr__(self):
        return f"Problem({self.name!r}, d={self.dim})"

    @property
    def fuses_value_and_grad(self) -> bool:
        """True when ``value_and_grad`` shares work between f and ∇f (e.g. Aθ, or Xθ)."""
        return self._value_and_grad is not None

    def value_and_grad(self, theta):
        """(f(θ), ∇f(θ)) in one call; cheaper than two when the problem shares the work."""
        if self._value_and_grad is not None:
            return self._value_and_grad(theta)
        return self.f(theta), self.grad(theta)

    def hess(self, theta):
        if self._hess is None:
            raise NotImplementedError(
                f"Problem {self.name!r} has no Hessian; use problem.hvp(θ, v) for products with "
                "it, which falls back to finite differences of the gradient.")
        return self._hess(theta)

    def hvp(self, theta, v):
        """Hessian-vector product H(θ) v, shape (..., d)."""
        theta = np.asarray(theta, dtype=float)
        v = np.asarray(v, dtype=float)
        if self._hvp is not None:
            return self._hvp(theta, v)
        if self._hess is not None:
            return np.einsum("...ij,...j->...i", self._hess(theta), v)
        return finite_difference_hvp(self.grad, theta, v)

    def hessian_matrix(self, theta) -> np.ndarray:
        """The dense d × d Hessian at one point θ: ``hess`` if the problem has it, else built
        column by column from Hessian-vector products (d of them), symmetrized."""
        theta = np.asarray(theta, dtype=float)
        if theta.ndim != 1:
            raise ValueError(f"hessian_matrix takes one point θ of shape ({self.dim},), got "
                             f"{theta.shape}; loop over a batch if you need several.")
        if self._hess is not None:
            return np.asarray(self._hess(theta), dtype=float)
        H = np.stack([self.hvp(theta, e) for e in np.eye(theta.shape[-1])], axis=-1)
        return (H + H.T) / 2

    def minimum_distance(self, theta):
        """Distance from θ (..., d) to the nearest known minimizer."""
        if self.minimizer is None:
            raise ValueError(f"Problem {self.name!r} has no known minimizer.")
        mins = np.atleast_2d(self.minimizer)
        theta = np.asarray(theta, dtype=float)
        d = np.linalg.norm(theta[..., None, :] - mins, axis=-1)
        return d.min(axis=-1)


def finite_difference_hvp(grad: Callable, theta, v, eps=None) -> np.ndarray:
    """H(θ) v ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε, the central difference of the gradient along v.

    Its error is O(ε²) from truncation plus O(ε_mach/ε) from rounding; the default
    ε = ε_mach^(1/3) (1 + ‖θ‖) / ‖v‖ balances the two (relative error ~ ε_mach^(2/3) ≈ 4e-11).
    ``eps`` (a number, or one per run) overrides it, e.g. to draw the error against ε.
    Costs two gradient evaluations. Broadcasts over θ's and v's leading axes.
    """
    theta = np.asarray(theta, dtype=float)
    v = np.asarray(v, dtype=float)
    if eps is None:
        vnorm = np.linalg.norm(v, axis=-1, keepdims=True)
        scale = 1.0 + np.linalg.norm(theta, axis=-1, keepdims=True)
        eps = np.cbrt(np.finfo(float).eps) * scale / np.where(vnorm > 0, vnorm, 1.0)
    else:
        eps = np.asarray(eps, dtype=float)
        if np.any(eps <= 0):
            raise ValueError(f"finite_difference_hvp(eps={eps!r}): the step must be > 0.")
        eps = eps[..., None] if eps.ndim else eps
    return (grad(theta + eps * v) - grad(theta - eps * v)) / (2 * eps)


def numerical_grad(f: Callable, eps: float = 1e-6) -> Callable:
    """Central-difference gradient of a batched f: for checking, or a problem without a formula."""
    def grad(theta):
        theta = np.asarray(theta, dtype=float)
        d = theta.shape[-1]
        out = np.empty_like(theta)
        for i in range(d):
            e = np.zeros(d)
            e[i] = eps
            out[..., i] = (f(theta + e) - f(theta - e)) / (2 * eps)
        return out
    return grad


