"""Views of a problem: a 2-D slice through a d-dimensional loss for plotting, and a reference
minimizer from SciPy to measure distances to.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .base import Problem

__all__ = ["slice_2d", "reference_minimizer"]

def slice_2d(problem: Problem, center, u, v, *, extent: float = 1.0,
             name: Optional[str] = None, minimizer=None) -> Problem:
    """The loss on the plane θ(α, β) = center + α u + β v through a d-dimensional problem.

    A 2-D window onto a high-dimensional loss: f̃(α, β) = f(θ(α, β)) and, by the chain rule,
    ∇f̃ = (uᵀ∇f, vᵀ∇f). Gradient descent on f̃ is gradient descent on f restricted to the plane.
    Pass ``minimizer=(0, 0)`` when ``center`` is the problem's minimizer.
    """
    c, u, v = (np.asarray(a, dtype=float) for a in (center, u, v))
    if not (c.shape == u.shape == v.shape == (problem.dim,)):
        raise ValueError(f"slice_2d: center, u and v must each have shape ({problem.dim},), got "
                         f"{c.shape}, {u.shape}, {v.shape}.")
    basis = np.stack([u, v], axis=-1)  # (d, 2)

    def theta(ab):
        ab = np.asarray(ab, dtype=float)
        return c + ab[..., 0:1] * u + ab[..., 1:2] * v

    p = Problem(lambda ab: problem.f(theta(ab)),
                lambda ab: problem.grad(theta(ab)) @ basis,
                hvp=lambda ab, w: problem.hvp(theta(ab), np.asarray(w) @ basis.T) @ basis,
                name=name or f"{problem.name} (2-D slice)", x0=[-0.8 * extent, 0.6 * extent],
                minimizer=minimizer, bounds=((-extent, extent), (-extent, extent)), dim=2)
    p.axis_labels = ("α (along u)", "β (along v)")
    p.to_theta = theta
    return p


def reference_minimizer(problem: Problem, x0=None) -> np.ndarray:
    """θ* to near machine precision, as a reference point for plots and gaps L(θ) − L(θ*).

    scipy's L-BFGS-B (section 04 explains the method) with its stopping tests tightened so that
    it stops on the gradient (‖∇L‖∞ ≤ 1e-10) or when no progress is possible, not on a
    relative decrease of L.
    """
    from scipy.optimize import minimize
    start = problem.x0 if x0 is None else x0
    if start is None:
        raise ValueError(f"reference_minimizer: problem {problem.name!r} has no x0; pass x0.")
    result = minimize(lambda t: float(problem.f(t)), np.asarray(start, dtype=float),
                      jac=problem.grad, method="L-BFGS-B",
                      options={"gtol": 1e-10, "ftol": 0.0, "maxiter": 20000, "maxcor": 20})
    return result.x



