"""Lecture 04: Newton's method, with a backtracking line search and remedies near saddles.

The second-order Taylor model of L around θ, m(p) = L + ∇Lᵀp + ½ pᵀHp, is stationary where
Hp = −∇L: the Newton step (`course_lib.theory.second_order.newton_step` derives it). On a
positive-definite quadratic one full step lands on the minimum. Where H is indefinite, the
Newton step goes to the model's stationary point, which is a saddle: plain Newton is attracted
to saddle points as much as to minima. Two remedies make the model convex before solving:
shift every eigenvalue up (damping, H + µI), or flip the negative ones (|H| = Q|Λ|Qᵀ,
"saddle-free Newton", Dauphin et al. 2014; Nocedal & Wright 2006, §3.4).
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from .base import Optimizer, check_theta
from .line_search import backtracking

__all__ = ["Newton", "NewtonState", "hessian"]

_MODIFY = (None, "damping", "abs")


class NewtonState(NamedTuple):
    loss: Optional[np.ndarray]  # L(θ), None where not evaluated (before the first step)
    g: Optional[np.ndarray]     # ∇L(θ), None before the first step
    done: np.ndarray            # (*B) bool: ‖∇L‖∞ ≤ gtol, or no lower point along p
    t: int


def hessian(problem, theta) -> np.ndarray:
    """∇²L(θ), (*B, d, d): ``problem.hess`` where the problem has one; otherwise built column by
    column from d Hessian-vector products ``problem.hvp(θ, eᵢ)`` (exact where the problem
    gives them, else central differences of the gradient), symmetrized. run() counts one
    Hessian, or d Hessian-vector products."""
    try:
        return problem.hess(theta)
    except NotImplementedError:
        pass
    d = theta.shape[-1]
    cols = [problem.hvp(theta, np.broadcast_to(e, theta.shape)) for e in np.eye(d)]
    H = np.stack(cols, axis=-1)
    return 0.5 * (H + np.swapaxes(H, -1, -2))


class Newton(Optimizer):
    """Newton's method: solve (H + λI) p = −∇L, then θ ← θ + α p.

        H = ∇²L(θ); α from a backtracking line search (Armijo, c1 = 1e-4, α = 1, ρ, ρ², …)
        or α = 1 with ``line_search=False`` (the pure iteration θ ← θ − H⁻¹∇L).

    ``modify`` says what to do about a Hessian that is not positive definite:

    * None (plain Newton): use it as it is. Near a saddle the step goes to the saddle, and
      the line search accepts it as long as −H⁻¹∇L points downhill. Where it points uphill
      (∇Lᵀp ≥ 0), no α > 0 lowers L: plain Newton with a line search raises a ValueError
      that shows H's eigenvalues and names the remedies. A singular H raises too.
    * "damping": H + µI with µ = max(λ, δ_d − λ_min(H)), δ_d = 10⁻³·max(1, max|Λ|): the given
      λ, raised where needed until every eigenvalue is at least δ_d (Nocedal & Wright, §3.4:
      a shift τ ≥ δ − λ_min). Where H has a negative eigenvalue, the shifted matrix's
      smallest eigenvalue is δ_d, so the step along that eigenvector is 1/δ_d times that
      component of the gradient: long (the line search shortens it), and on a function
      unbounded below it runs off towards −∞. Near a positive-definite minimum µ = λ.
    * "abs": Q max(|Λ|, δ) Qᵀ + λI, with H = QΛQᵀ: every eigenvalue's sign flipped to +,
      so a direction of negative curvature is followed downhill instead of up to the saddle,
      with the step length its curvature gives.

    δ = √ε_mach · max(1, max|Λ|) keeps the |Λ| matrix safely invertible. λ ≥ 0 (a number
    or one per run) is Levenberg's damping; 0 by default.

    One step: ∇L and H at θ (one Hessian, or d Hessian-vector products for a problem without
    one, see `hessian`), the line search's L evaluations, and ∇L at the new point (its
    gradient test). A run stops (``done``) once ‖∇L‖∞ ≤ gtol, or when the line search finds
    no lower point. Batched over starting points: θ (*B, d), H (*B, d, d), α per run.
    """

    hyperparameters = ("lam", "gtol")

    def __init__(self, lam=0.0, *, modify: Optional[str] = None, line_search: bool = True,
                 c1=1e-4, rho=0.5, gtol=1e-5, max_evals=50):
        if modify not in _MODIFY:
            raise ValueError(f"Newton(modify={modify!r}): use None (plain Newton), 'damping' "
                             "(H + µI, µ large enough for a positive-definite matrix) or 'abs' "
                             "(|eigenvalues|, the saddle-free remedy).")
        self._hyper("lam", lam)
        self._hyper("gtol", gtol)
        self._hyper("c1", c1, low=0.0, low_open=True, high=1.0, high_open=True)
        self._hyper("rho", rho, low=0.0, low_open=True, high=1.0, high_open=True)
        if not isinstance(max_evals, (int, np.integer)) or max_evals < 1:
            raise ValueError(f"Newton(max_evals={max_evals!r}): the line search needs at least "
                             "one trial; use e.g. max_evals=50.")
        self.modify, self.line_search, self.max_evals = modify, bool(line_search), int(max_evals)

    def __repr__(self):
        extra = "" if self.modify is None else f", modify={self.modify!r}"
        extra += "" if self.line_search else ", line_search=False"
        return super().__repr__()[:-1] + extra + ")"

    def init(self, theta) -> NewtonState:
        theta = check_theta(theta)
        self._check_batch(theta)
        return NewtonState(loss=None, g=None, done=np.zeros(theta.shape[:-1], dtype=bool), t=0)

    def _eigen(self, H):
        """Eigenvalues (modified as ``modify`` says) and eigenvectors of H: w (*B, d), Q."""
        lam = np.asarray(self.lam, dtype=float)  # () or one per run, (*B, 1)
        lam_run = lam[..., 0] if lam.ndim else lam  # () or (*B)
        w, Q = np.linalg.eigh(H)  # ascending eigenvalues, (*B, d)
        delta = np.sqrt(np.finfo(float).eps) * np.maximum(1.0, np.max(np.abs(w), axis=-1))
        if self.modify == "abs":
            return np.maximum(np.abs(w), delta[..., None]) + lam_run[..., None], Q
        # a margin of 1e-3 of the spectrum: δ alone (rounding level) made steps of 1e8 × g
        margin = 1e-3 * np.maximum(1.0, np.max(np.abs(w), axis=-1))
        mu = np.maximum(lam_run, margin - w[..., 0])
        return w + mu[..., None], Q

    def direction(self, H, g):
        """p solving the (modified) Newton system, (*B, d)."""
        if self.modify is None:
            return -np.linalg.solve(self.modified_hessian(H), g[..., None])[..., 0]
        w, Q = self._eigen(H)
        return -np.einsum("...ij,...j->...i", Q, np.einsum("...ji,...j->...i", Q, g) / w)

    def modified_hessian(self, H):
        """The matrix the step solves with: H + λI (plain), H + µI ("damping", µ ≥ λ) or
        Q max(|Λ|, δ) Qᵀ + λI ("abs"), (*B, d, d); its quadratic model is the one the step
        minimizes (the explorer draws it)."""
        if self.modify is None:
            lam = np.asarray(self.lam, dtype=float)
            lam_run = lam[..., 0] if lam.ndim else lam
            return H + lam_run[..., None, None] * np.eye(H.shape[-1])
        w, Q = self._eigen(H)
        return np.einsum("...ik,...k,...jk->...ij", Q, w, Q)

    def step(self, theta, state: NewtonState, problem):
        g = state.g
        if g is None:
            if self.line_search:
                loss, g = problem.value_and_grad(theta)
            else:
                loss, g = None, problem.grad(theta)
        else:
            loss = state.loss
        done = state.done | (np.max(np.abs(g), axis=-1) <= self.gtol)
        if loss is not None:
            done = done | ~np.isfinite(loss)
        if done.all():
            return theta, NewtonState(loss, g, done, state.t + 1)
        H = hessian(problem, theta)
        try:
            p = self.direction(H, g)
        except np.linalg.LinAlgError:
            raise ValueError(self._singular_message(H, state.t)) from None
        if not np.all(np.isfinite(p[~done])):
            raise ValueError(self._singular_message(H, state.t))
        slope = np.einsum("...i,...i->...", g, p)
        if self.modify is None and self.line_search:
            bad = ~done & ~(slope < 0)
            if bad.any():
                raise ValueError(self._uphill_message(H, slope, bad, state.t))
        p = np.where(done[..., None], 0.0, p)
        slope = np.where(done, 0.0, slope)
        if self.line_search:
            ls = backtracking(problem, theta, p, loss, slope, c1=self.c1, rho=self.rho,
                              max_evals=self.max_evals)
            new_theta, new_loss = ls.theta, ls.loss
            done = done | (~ls.ok & ~done)  # no lower point along p: nothing more to gain
        else:
            new_theta, new_loss = theta + p, None
        new_g = problem.grad(new_theta)
        done = done | (np.max(np.abs(new_g), axis=-1) <= self.gtol)
        return new_theta, NewtonState(new_loss, new_g, done, state.t + 1)

    def _singular_message(self, H, t):
        return (f"Newton: the Hessian at step {t + 1} is singular (an eigenvalue is 0), so "
                "H p = −∇L has no unique solution. Pass lam > 0 (Levenberg damping, H + λI), "
                "or modify='damping' / 'abs'.")

    def _uphill_message(self, H, slope, bad, t):
        idx = tuple(np.argwhere(bad)[0]) if np.ndim(bad) else ()
        w = np.linalg.eigvalsh(H[idx])
        where = f" (run {idx})" if idx else ""
        return (f"Newton: at step {t + 1}{where} the Hessian has eigenvalues "
                f"{np.array2string(w, precision=3)}: not positive definite, and the Newton "
                f"direction p = −H⁻¹∇L points uphill (∇Lᵀp = {float(slope[idx]):.3g} ≥ 0), so no "
                "step along it lowers L. Near saddle points use Newton(modify='abs') (|eigen"
                "values|) or Newton(modify='damping') (H + µI), or Newton(line_search=False) "
                "for the pure iteration θ ← θ − H⁻¹∇L, which goes to any stationary point.")
