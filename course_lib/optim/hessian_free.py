"""Lecture 04: Hessian-free optimization (Martens 2010), CG on the damped curvature system.

Each step minimizes the damped quadratic model m(p) = ∇Lᵀp + ½ pᵀ(G + λI)p by conjugate
gradient, using only products G v (G: the Gauss–Newton matrix, or the Hessian H), never G
itself — O(d) memory, the cost of a few gradients per product. The details are Martens':

* CG starts from 0.95 × the previous step's CG solution (the model changes slowly);
* CG stops by relative progress: after iteration i, with k = max(10, ⌈0.1 i⌉), once the last
  k iterations lowered m by less than k·5e-4 of its value, or after 250 iterations;
* CG-iterate backtracking: of the iterates p_i kept at i = ⌈1.3ʲ⌉ (and the last), take the
  last one before L(θ + p_i) starts rising again, going backwards from the last
  (later iterates fit the model better, but the model only holds near θ);
* Levenberg–Marquardt damping: ρ = (L(θ + p) − L(θ)) / q(p), the actual against the
  predicted reduction (q: the model without damping); λ ← 1.5 λ if ρ < 0.25, λ ← λ/1.5
  if ρ > 0.75 — trust the model less after a poor prediction, more after a good one;
* an Armijo backtracking line search on p (c1 = 1e-2, α ← 0.8 α, at most 60 trials, then no
  step; Martens & Sutskever 2012, and Martens' published code).

Martens also preconditions CG with M = (diag(Σᵢ ∇ℓᵢ²) + λ)^0.75 (`preconditioner=`), and
computes the curvature products on a mini-batch smaller than the gradient's
(`curvature_batch=`): G v on b examples costs b/N of a full product, and CG needs many.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import numpy as np

from ..problems import finite_difference_hvp
from .base import Optimizer, check_theta
from .conjugate_gradient import conjugate_gradient
from .line_search import backtracking

__all__ = ["HessianFree", "HessianFreeState"]

_CURVATURES = ("auto", "gauss-newton", "hessian", "finite-difference")


class HessianFreeState(NamedTuple):
    p: Optional[np.ndarray]  # the last CG solution (*B, d): the next CG starts from 0.95 p
    lam: np.ndarray           # the damping λ, per run (*B)
    rho: np.ndarray           # the last reduction ratio ρ (nan before the first step)
    cg_iterations: np.ndarray  # CG iterations of the last step, per run
    loss: Optional[np.ndarray]
    g: Optional[np.ndarray]
    done: np.ndarray          # ‖∇L‖∞ ≤ gtol, or no lower point even at a rounding-level step
    t: int
    curvature_examples: int = 0  # Σ over mini-batch products of their examples (see below)


class HessianFree(Optimizer):
    """Hessian-free optimization (Martens 2010): θ ← θ + α p, p ≈ argmin ∇Lᵀp + ½pᵀ(G + λI)p.

    ``curvature``: "gauss-newton" (G v from the problem's ``gnvp``, counted in n_gnvp;
    `course_lib.curvature` builds them), "hessian" (H v from ``problem.hvp``: exact where the
    problem has it, else its finite-difference fallback; counted in n_hvp),
    "finite-difference" (H v = (∇L(θ + εv) − ∇L(θ − εv))/2ε here, counted as the two
    gradients it costs), or "auto" (Gauss–Newton where the problem has it, else "hessian").
    G is positive semi-definite, so G + λI is positive definite for λ > 0; H may not be:
    where CG meets dᵀAd ≤ 0 it stops, and a p that does not point downhill is replaced by
    the model's steepest-descent minimizer −(gᵀg / gᵀAg) g (one more product).

    ``lam``: the initial damping λ > 0 (a number or one per run, (*B, 1)); the state carries
    its adapted value. ``max_cg``: CG iterations per step (Martens: 250). ``progress_eps``:
    the relative-progress tolerance (5e-4). ``warm_start``: the factor on the previous
    solution (0.95; 0 starts CG from 0). ``preconditioner``: None, or a function θ ↦ D (*B, d)
    ≥ 0, e.g. `course_lib.curvature.empirical_fisher_diagonal`; CG is then preconditioned by
    M = (D + λ)^ξ, ξ = 0.75 (its cost is not in the Trace's counts).

    ``c1``, ``shrink``, ``max_evals``: the line search's Armijo constant, step factor and
    trials. ``boost``: λ's factor (Martens: 3/2 up, 2/3 down).

    ``curvature_batch``: None (the curvature of the whole loss), or b: each step draws b
    examples without replacement, by ``np.random.default_rng((curvature_seed, t))`` (the same
    rows for every run of a batch), and CG multiplies by the curvature of the loss on those
    rows only, ``problem.batch(rows)`` (a `course_lib.data.DataProblem`); the gradient, the
    backtracking and the line search still use the whole loss (Martens 2010, §4.3). Those
    products do not pass through run()'s counter: the state's ``curvature_examples`` adds up
    b per product, so b·products/N full products were spent.

    Counts per step: the CG products (one per iteration, +1 for the warm start), L at the
    backtracked iterates and line-search trials, and ∇L at the new point. Batched over
    starting points: every run has its own λ, CG, backtracking and line search (each CG
    iteration and each trial is one call on the whole batch).
    """

    hyperparameters = ("lam", "gtol")

    def __init__(self, lam=1.0, *, curvature: str = "auto", max_cg: int = 250,
                 progress_eps: float = 5e-4, warm_start: float = 0.95,
                 preconditioner: Optional[Callable] = None, precond_exponent: float = 0.75,
                 boost: float = 1.5, c1: float = 1e-2, shrink: float = 0.8,
                 max_evals: int = 60, gtol=1e-5, curvature_batch: Optional[int] = None,
                 curvature_seed: int = 0):
        if curvature not in _CURVATURES:
            raise ValueError(f"HessianFree(curvature={curvature!r}): use one of "
                             f"{', '.join(map(repr, _CURVATURES))}.")
        self._hyper("lam", lam, low=0.0, low_open=True)
        self._hyper("gtol", gtol)
        if not isinstance(max_cg, (int, np.integer)) or max_cg < 1:
            raise ValueError(f"HessianFree(max_cg={max_cg!r}): CG needs at least one iteration "
                             "per step; Martens uses up to 250.")
        for name, value, lo, hi in (("progress_eps", progress_eps, 0, 1),
                                    ("warm_start", warm_start, 0, 1),
                                    ("precond_exponent", precond_exponent, 0, 1),
                                    ("c1", c1, 0, 1), ("shrink", shrink, 0, 1)):
            if not (np.isscalar(value) and lo <= value <= hi) or (name in ("c1", "shrink")
                                                                  and value in (0, 1)):
                raise ValueError(f"HessianFree({name}={value!r}): must be a number in "
                                 f"{'(' if name in ('c1', 'shrink') else '['}{lo}, {hi}"
                                 f"{')' if name in ('c1', 'shrink') else ']'}.")
        if not (np.isscalar(boost) and boost > 1):
            raise ValueError(f"HessianFree(boost={boost!r}): the damping factor must be > 1 "
                             "(Martens: 1.5).")
        if not isinstance(max_evals, (int, np.integer)) or max_evals < 1:
            raise ValueError(f"HessianFree(max_evals={max_evals!r}): the line search needs at "
                             "least one trial; Martens allows 60.")
        if preconditioner is not None and not callable(preconditioner):
            raise TypeError("HessianFree(preconditioner=...) must be a function θ ↦ D, the "
                            "diagonal statistic (e.g. course_lib.curvature."
                            "empirical_fisher_diagonal(...)), or None.")
        if curvature_batch is not None and (not isinstance(curvature_batch, (int, np.integer))
                                            or curvature_batch < 1):
            raise ValueError(f"HessianFree(curvature_batch={curvature_batch!r}): the number of "
                             "examples for the curvature products, a positive integer (or None "
                             "for all of them).")
        self.curvature_batch, self.curvature_seed = curvature_batch, int(curvature_seed)
        self.curvature, self.max_cg = curvature, int(max_cg)
        self.progress_eps, self.warm_start = float(progress_eps), float(warm_start)
        self.preconditioner, self.precond_exponent = preconditioner, float(precond_exponent)
        self.boost, self.c1, self.shrink = float(boost), float(c1), float(shrink)
        self.max_evals = int(max_evals)

    def init(self, theta) -> HessianFreeState:
        theta = check_theta(theta)
        self._check_batch(theta)
        batch = theta.shape[:-1]
        lam = np.asarray(self.lam, dtype=float)
        lam = np.broadcast_to(lam[..., 0] if lam.ndim else lam, batch).copy()
        return HessianFreeState(p=None, lam=lam, rho=np.full(batch, np.nan),
                                cg_iterations=np.zeros(batch, dtype=int), loss=None, g=None,
                                done=np.zeros(batch, dtype=bool), t=0)

    def _curvature_rows(self, problem, t):
        """The examples of step t's curvature products, or None for the whole loss."""
        if self.curvature_batch is None:
            return None
        # len(X), not n_examples: run()'s counter wraps the problem and uses that name for
        # the number of examples evaluated so far
        X = getattr(problem, "X", None)
        n = None if X is None else len(X)
        if n is None or not hasattr(problem, "batch"):
            raise ValueError(f"HessianFree(curvature_batch={self.curvature_batch}): problem "
                             f"{problem.name!r} is not a loss over examples (no batch(rows)); "
                             "use a course_lib.data problem, or curvature_batch=None.")
        if self.curvature_batch >= n:
            return None
        rng = np.random.default_rng((self.curvature_seed, t))
        return np.sort(rng.choice(n, size=self.curvature_batch, replace=False))

    def _curvature_product(self, problem, theta) -> Callable:
        kind = self.curvature
        if kind == "auto":
            kind = "gauss-newton" if hasattr(problem, "gnvp") else "hessian"
        if kind == "gauss-newton":
            if not hasattr(problem, "gnvp"):
                raise ValueError(
                    f"HessianFree(curvature='gauss-newton'): problem {problem.name!r} has no "
                    "Gauss–Newton product gnvp(θ, v). Use a problem that carries one (the "
                    "SumOfSquares problems; course_lib.curvature.with_gauss_newton or "
                    "logistic_regression_curvature), or curvature='hessian'.")
            return lambda v: problem.gnvp(theta, v)
        if kind == "hessian":
            return lambda v: problem.hvp(theta, v)
        return lambda v: finite_difference_hvp(problem.grad, theta, v)

    def step(self, theta, state: HessianFreeState, problem):
        loss, g = state.loss, state.g
        if g is None:
            loss, g = problem.value_and_grad(theta)
            loss = np.asarray(loss, dtype=float)
        done = state.done | ~np.isfinite(loss) | (np.max(np.abs(g), axis=-1) <= self.gtol)
        if done.all():
            return theta, state._replace(loss=loss, g=g, done=done, t=state.t + 1)
        live = ~done[..., None]
        lam = state.lam
        rows = self._curvature_rows(problem, state.t)
        Gv = self._curvature_product(problem if rows is None else problem.batch(rows), theta)

        def A(v):  # (G + λI) v
            return Gv(v) + lam[..., None] * v

        M = None
        if self.preconditioner is not None:
            M = (np.asarray(self.preconditioner(theta), dtype=float)
                 + lam[..., None]) ** self.precond_exponent
        p0 = None
        if state.p is not None and self.warm_start > 0:
            p0 = np.where(live, self.warm_start * state.p, 0.0)
        g_live = np.where(live, g, 0.0)  # a stopped run: g = 0, p₀ = 0, so its CG never starts
        cg = conjugate_gradient(A, g_live, p0, max_iter=self.max_cg,
                                progress_eps=self.progress_eps, preconditioner=M,
                                save_gamma=1.3)
        p, model, f_p = self._backtrack(problem, theta, cg, ~done)

        slope = np.einsum("...i,...i->...", g, p)
        uphill = ~done & ~(slope < 0)
        products = cg.products + int(uphill.any())
        if uphill.any():  # (only with an indefinite H) the damped model's Cauchy step instead
            Ag = A(g)
            gg, gAg = np.einsum("...i,...i->...", g, g), np.einsum("...i,...i->...", g, Ag)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(gAg > 0, gg / gAg, 1.0 / lam)
            cauchy = -t[..., None] * g
            p = np.where(uphill[..., None], cauchy, p)
            model = np.where(uphill, -t * gg + 0.5 * t * t * gAg, model)
            f_p = np.where(uphill, problem.f(theta + p), f_p)
            slope = np.where(uphill, -t * gg, slope)

        # ρ: the actual reduction against the undamped model's q(p) = m(p) − ½λ‖p‖²
        predicted = model - 0.5 * lam * np.einsum("...i,...i->...", p, p)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(predicted < 0, (f_p - loss) / predicted, -np.inf)
        rho = np.where(np.isfinite(f_p), rho, -np.inf)
        new_lam = np.where(rho < 0.25, lam * self.boost,
                           np.where(rho > 0.75, lam / self.boost, lam))
        new_lam = np.where(done, lam, new_lam)

        # Armijo on p: α = 1 was evaluated by the backtracking already
        accept = ~done & (f_p <= loss + self.c1 * slope)
        alpha = np.where(accept, 1.0, 0.0)
        new_loss = np.where(accept, f_p, loss)
        retry = ~done & ~accept
        failed = np.zeros_like(done)
        if retry.any():
            ls = backtracking(problem, theta, np.where(retry[..., None], p, 0.0), loss,
                              np.where(retry, slope, 0.0), alpha=self.shrink, c1=self.c1,
                              rho=self.shrink, max_evals=self.max_evals)
            alpha = np.where(retry, ls.alpha, alpha)
            new_loss = np.where(retry, ls.loss, new_loss)
            failed = retry & ~ls.ok
        new_theta = theta + alpha[..., None] * p
        new_g = problem.grad(new_theta)
        tiny = np.linalg.norm(p, axis=-1) <= np.sqrt(np.finfo(float).eps) * (
            1 + np.linalg.norm(theta, axis=-1))
        done = done | (failed & tiny) | (np.max(np.abs(new_g), axis=-1) <= self.gtol)
        spent = state.curvature_examples + (0 if rows is None else len(rows) * products)
        return new_theta, HessianFreeState(p=cg.p, lam=new_lam, rho=rho,
                                           cg_iterations=cg.iterations, loss=new_loss,
                                           g=new_g, done=done, t=state.t + 1,
                                           curvature_examples=spent)

    @staticmethod
    def _backtrack(problem, theta, cg, searching):
        """Martens' CG-iterate backtracking: from the last CG iterate backwards through the kept
        ones, while L(θ + p_i) keeps falling. Returns the chosen p, its m(p) and L(θ + p)."""
        p, model = cg.p, cg.model
        f_p = np.asarray(problem.f(theta + p), dtype=float)
        best = np.where(np.isnan(f_p), np.inf, f_p)
        searching = searching.copy()
        for i, p_i, m_i in reversed(cg.saved):
            searching &= i < cg.iterations  # an iterate before the run's last
            if not searching.any():
                break
            f_i = np.asarray(problem.f(theta + p_i), dtype=float)
            better = searching & (f_i < best)
            p = np.where(better[..., None], p_i, p)
            model = np.where(better, m_i, model)
            best = np.where(better, f_i, best)
            f_p = np.where(better, f_i, f_p)
            searching &= better
        return p, model, f_p
