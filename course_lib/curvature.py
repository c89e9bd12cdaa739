"""Curvature–vector products: H v and G v without ever forming a d × d matrix (lecture 04).

Three ways to multiply by the curvature, each O(d) memory:

* exact H v, by automatic differentiation: H v is the directional derivative of the
  gradient, d/dε ∇L(θ + εv) at ε = 0 (Pearlmutter 1994). Forward mode through the reverse-mode
  gradient ("forward-over-reverse") gives it for about the cost of two gradients;
  reverse-over-reverse, ∇_θ (∇L(θ)ᵀv), gives the same numbers. `exact_hvp`, `autograd_problem`
  (for a loss written with ``autograd.numpy``).
* H v by central differences of the gradient, (∇L(θ + εv) − ∇L(θ − εv)) / 2ε: two gradients,
  error O(ε²) + O(ε_mach/ε), about ε_mach^(2/3) at the best ε
  (`course_lib.problems.finite_difference_hvp`, what ``Problem.hvp`` falls back to).
* the Gauss–Newton product G v = Jᵀ ∇²ℓ J v for a loss ℓ(z(θ)) of a model's outputs z
  (J = ∂z/∂θ): the Hessian without the term that holds the model's own curvature, positive
  semi-definite whenever ℓ is convex in z. `gauss_newton_product` (any model written with
  ``autograd.numpy``), the `SumOfSquares` problems' ``gnvp`` (ℓ = Σ rᵢ², G = 2JᵀJ), and
  `logistic_regression_curvature` for the digits' logistic regression, where G = H.

A problem carries its Gauss–Newton product as a method ``gnvp(θ, v)``; `with_gauss_newton`
attaches one, and `HessianFree` uses it (run() counts each call in ``Trace.n_gnvp``).
"""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np

from .problems import Problem, finite_difference_hvp

__all__ = ["exact_hvp", "autograd_problem", "finite_difference_hvp", "gauss_newton_product",
           "with_gauss_newton", "logistic_regression_curvature", "empirical_fisher_diagonal"]

_MODES = ("forward-over-reverse", "reverse-over-reverse")


def _summed(f):
    """Σ over runs of a batched loss: the runs are independent, so its gradient with respect to
    θ (*B, d) holds each run's own gradient."""
    import autograd.numpy as anp
    return lambda t: anp.sum(f(t))


def exact_hvp(f: Callable, mode: str = "forward-over-reverse") -> Callable:
    """hvp(θ, v) = ∇²L(θ) v, exact to rounding, for a loss ``f`` written with autograd.numpy.

    "forward-over-reverse": the forward-mode derivative of the gradient along v;
    "reverse-over-reverse": the gradient of θ ↦ ∇L(θ)ᵀv. θ, v of shape (..., d) (runs
    broadcast as in every course problem)."""
    from autograd import grad, make_jvp
    if mode not in _MODES:
        raise ValueError(f"exact_hvp(mode={mode!r}): use {' or '.join(map(repr, _MODES))}.")
    g = grad(_summed(f))
    if mode == "forward-over-reverse":
        def hvp(theta, v):
            theta, v = np.asarray(theta, dtype=float), np.asarray(v, dtype=float)
            theta, v = np.broadcast_arrays(theta, v)
            return make_jvp(g)(theta)(v)[1]
    else:
        import autograd.numpy as anp

        def hvp(theta, v):
            theta, v = np.asarray(theta, dtype=float), np.asarray(v, dtype=float)
            theta, v = np.broadcast_arrays(theta, v)
            return grad(lambda t: anp.sum(g(t) * v))(theta)
    return hvp


def autograd_problem(f: Callable, *, name: str, x0=None, minimizer=None, dim=None,
                     hvp_mode: str = "forward-over-reverse") -> Problem:
    """A `Problem` from a batched loss written with autograd.numpy: ∇L by reverse mode, exact
    Hessian-vector products by ``hvp_mode`` (`exact_hvp`). No dense Hessian: `Newton` builds
    one from d products."""
    from autograd import grad
    g = grad(_summed(f))
    return Problem(lambda t: np.asarray(f(np.asarray(t, dtype=float)), dtype=float),
                   lambda t: g(np.asarray(t, dtype=float)), hvp=exact_hvp(f, hvp_mode),
                   name=name, x0=x0, minimizer=minimizer, dim=dim)


def gauss_newton_product(outputs: Callable, loss: Callable) -> Callable:
    """gnvp(θ, v) = Jᵀ (∇²ℓ) J v for L(θ) = ℓ(z(θ)), z = ``outputs(θ)``, ℓ = ``loss(z)``.

    Both functions are written with autograd.numpy and batched: θ (*B, d) gives z (*B, …) and
    ℓ (*B). J v by forward mode through the model, ∇²ℓ (Jv) by forward-over-reverse through the
    loss, Jᵀu by reverse mode: three passes, no Jacobian formed (Schraudolph 2002; Martens
    2010 §4.2). G is positive semi-definite when ℓ is convex in z (squared error,
    cross-entropy on logits), unlike H near a saddle."""
    from autograd import grad, make_jvp, make_vjp
    loss_grad = grad(_summed(loss))

    def gnvp(theta, v):
        theta, v = np.broadcast_arrays(np.asarray(theta, dtype=float), np.asarray(v, dtype=float))
        z, Jv = make_jvp(outputs)(theta)(v)
        HJv = make_jvp(loss_grad)(z)(Jv)[1]
        vjp, _ = make_vjp(outputs)(theta)
        return vjp(HJv)
    return gnvp


def with_gauss_newton(problem: Problem, gnvp: Callable) -> Problem:
    """A copy of ``problem`` that also carries ``gnvp(θ, v)`` (the original is unchanged)."""
    if not callable(gnvp):
        raise TypeError("with_gauss_newton(problem, gnvp): gnvp must be a function (θ, v) ↦ G v.")
    out = copy.copy(problem)
    out.gnvp = gnvp
    return out


def logistic_regression_curvature(problem) -> Problem:
    """The digits' logistic regression (`course_lib.data.logistic_regression`) with its
    Gauss–Newton product and per-example gradients, built from its public X, y and l2.

    With x̃ = (x, 1), σᵢ = σ(θᵀx̃ᵢ) and the penalty on the weights only:
        G v = (1/N) Σᵢ σᵢ(1 − σᵢ) x̃ᵢ x̃ᵢᵀ v + l2 (v_w, 0)
    (cross-entropy on a sigmoid is its matching loss, so here G equals the Hessian), and
    ``per_example_grad(θ)`` (…, N, d): (σᵢ − yᵢ) x̃ᵢ + l2 (w, 0), for Martens' preconditioner
    (`empirical_fisher_diagonal`)."""
    from .data import add_bias, sigmoid
    X, y, l2 = getattr(problem, "X", None), getattr(problem, "y", None), getattr(problem, "l2", 0)
    if X is None or y is None:
        raise TypeError(f"logistic_regression_curvature: {problem!r} has no data (X, y); pass a "
                        "problem made by course_lib.data.logistic_regression(X, y).")
    Xb, y = add_bias(X), np.asarray(y, dtype=float)
    n = len(y)
    mask = np.r_[np.ones(Xb.shape[1] - 1), 0.0]  # no penalty on the bias

    def gnvp(theta, v):
        theta, v = np.asarray(theta, dtype=float), np.asarray(v, dtype=float)
        s = sigmoid(theta @ Xb.T)
        return (s * (1 - s) * (v @ Xb.T)) @ Xb / n + l2 * mask * v

    def per_example_grad(theta):
        theta = np.asarray(theta, dtype=float)
        s = sigmoid(theta @ Xb.T)
        return (s - y)[..., None] * Xb + (l2 * mask * theta)[..., None, :]

    probe = np.random.default_rng(0).standard_normal(Xb.shape[1]) * 0.1
    if not np.allclose(per_example_grad(probe).mean(axis=0), problem.grad(probe), rtol=1e-8,
                       atol=1e-10):
        raise ValueError(f"logistic_regression_curvature: {problem!r} is not the logistic "
                         "regression of course_lib.data (its gradient differs from "
                         "mean((σ(θᵀx̃) − y) x̃) + l2 w); build its Gauss–Newton product with "
                         "gauss_newton_product(outputs, loss) instead.")
    out = with_gauss_newton(problem, gnvp)
    out.per_example_grad = per_example_grad
    return out


def empirical_fisher_diagonal(per_example_grad: Callable) -> Callable:
    """θ ↦ (1/N) Σᵢ ∇ℓᵢ(θ)², the diagonal of the empirical Fisher matrix (*B, d): Martens'
    statistic for the diagonal preconditioner M = (D + λ)^0.75 (``HessianFree(preconditioner=)``).
    ``per_example_grad(θ)`` returns (*B, N, d)."""
    def diagonal(theta):
        G = np.asarray(per_example_grad(theta), dtype=float)
        return np.mean(G * G, axis=-2)
    return diagonal
