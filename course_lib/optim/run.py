"""`run()`: iterate an optimizer on a problem and record what happened in a `Trace`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..layout import coordinate_major
from .base import check_theta

__all__ = ["run", "Trace", "CountingProblem"]


class CountingProblem:
    """Wraps a problem and counts what an optimizer asks of it (per run: one call on a batch
    of B runs evaluates B gradients at once but counts once for each run)."""

    def __init__(self, problem):
        self._p = problem
        self.n_f = self.n_grad = self.n_hvp = self.n_hess = 0
        self.n_examples = 0
        self._per_call = getattr(problem, "n_examples", None)
        self._ready = None  # (θ, ∇f(θ)) computed by run() alongside f(θ), not yet handed out

    def __getattr__(self, name):  # everything else (name, dim, x0, …) is the problem's
        return getattr(self._p, name)

    def use(self, problem):
        """Point the counter at another problem (the next mini-batch), keeping the counts."""
        self._p = problem
        self._per_call = getattr(problem, "n_examples", None)
        return self

    def f(self, theta):
        self.n_f += 1
        return self._p.f(theta)

    def offer(self, theta, g):
        """Keep ∇f(θ), already computed with f(θ), for the optimizer's next request at θ."""
        self._ready = (theta, g)

    def reoffer(self, old_theta, new_theta, rows):
        """θ was copied with some runs blanked (nan): keep the offered gradient, blanked alike."""
        if self._ready is not None and self._ready[0] is old_theta:
            g = self._ready[1].copy(order="K")
            g[rows] = np.nan
            self._ready = (new_theta, g)

    def grad(self, theta):
        self.n_grad += 1
        if self._per_call is not None:
            self.n_examples += self._per_call
        ready, self._ready = self._ready, None
        if ready is not None and ready[0] is theta:  # the very array run() evaluated
            return ready[1]
        return self._p.grad(theta)

    def hess(self, theta):
        self.n_hess += 1
        return self._p.hess(theta)

    def hvp(self, theta, v):
        self.n_hvp += 1
        return self._p.hvp(theta, v)


@dataclass(frozen=True)
class Trace:
    """What a run did. Shapes: B = θ's leading (batch) shape, d = parameters.

    thetas : (steps+1, *B, d), θ₀ … θ_T (None with keep_thetas=False); nan after a divergence.
    losses : (steps+1, *B), the full objective f(θ_t) (not the mini-batch loss); nan after.
    theta : (*B, d), the last iterate.
    n_grad, n_f, n_hvp, n_hess : evaluations the optimizer asked for, per run.
    n_examples : training examples whose gradient was computed (data problems), else None.
    diverged_at : (*B) int array, the step at which each run diverged, −1 where it did not.
    """
    thetas: Optional[np.ndarray]
    losses: np.ndarray
    theta: np.ndarray
    n_grad: int
    n_f: int
    n_hvp: int
    n_hess: int
    n_examples: Optional[int]
    diverged_at: np.ndarray
    optimizer: str = ""
    problem: str = ""

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def loss(self) -> np.ndarray:
        """The final loss f(θ_T) of each run (nan for a run that diverged)."""
        return self.losses[-1]

    @property
    def steps(self) -> int:
        return self.losses.shape[0] - 1

    def __repr__(self):
        n = self.diverged_at.size
        k = int(np.count_nonzero(self.diverged))
        if n == 1:
            status = (f"diverged at step {int(self.diverged_at)}" if k else
                      f"final loss {float(self.loss):.6g}")
        else:
            status = f"{n} runs, {k} diverged, best final loss {np.nanmin(self.loss):.6g}" \
                if k < n else f"{n} runs, all diverged"
        counts = f"{self.n_grad} gradients"
        if self.n_hvp:
            counts += f", {self.n_hvp} Hessian-vector products"
        return (f"Trace({self.optimizer} on {self.problem}: {self.steps} steps, {counts}, "
                f"{status})")


def _batches(n, batch_size, steps, rng, drop_last=False):
    """Index arrays for each step: shuffled epochs cut into consecutive mini-batches (the last,
    smaller one of each epoch left out with ``drop_last``)."""
    out = []
    end = n - n % batch_size if drop_last else n
    while len(out) < steps:
        perm = rng.permutation(n)
        out.extend(perm[i:i + batch_size] for i in range(0, end, batch_size))
    return out[:steps]


def run(opt, problem, theta0=None, steps: int = 100, *, batch_size: Optional[int] = None,
        rng=None, drop_last: bool = False, keep_thetas: bool = True, divergence: float = 1e8,
        progress: bool = False) -> Trace:
    """Take ``steps`` steps of ``opt`` on ``problem`` from ``theta0`` (default: problem.x0).

    θ₀ may carry leading batch axes, (B, d) or (B1, B2, d): every run is stepped at once.
    ``batch_size`` (data problems): each step sees the gradient of a mini-batch of that many
    examples, drawn as shuffled epochs from ``rng`` (a Generator or a seed); 1 is online SGD.
    When the batch size does not divide N, each epoch ends with a smaller batch, whose noisier
    gradient shows as a spike at every epoch; ``drop_last=True`` leaves those examples out of
    that epoch (as torch's DataLoader(drop_last=True) does).
    A run has diverged when its loss stops being finite or |f(θ)| exceeds
    ``divergence`` × (1 + |f(θ₀)|); it is stopped there (its later entries are nan), and the
    whole loop stops once every run has diverged. No overflow warnings reach the user.
    """
    if theta0 is None:
        if problem.x0 is None:
            raise ValueError(f"run: problem {problem.name!r} has no standard start; pass theta0.")
        theta0 = problem.x0
    theta = check_theta(theta0, getattr(problem, "dim", None), what="theta0")
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"run(steps={steps!r}): steps must be a non-negative integer.")
    if not (divergence > 0):
        raise ValueError(f"run(divergence={divergence}): must be a positive factor.")
    if not (hasattr(opt, "init") and hasattr(opt, "step")):
        raise TypeError(f"run: {opt!r} is not an optimizer (it needs init(θ) and step(θ, state, "
                        "problem)); e.g. run(SGD(eta=0.1), problem, theta0, 100).")

    batches = None
    if batch_size is not None:
        n = getattr(problem, "n_examples", None)
        if n is None or not hasattr(problem, "batch"):
            raise ValueError(f"run(batch_size={batch_size}): problem {problem.name!r} has no "
                             "examples to sample; mini-batches need a data problem such as "
                             "course_lib.problems.logistic_regression(X, y).")
        if not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= n:
            raise ValueError(f"run(batch_size={batch_size!r}): use an integer from 1 (online) to "
                             f"{n} (full batch).")
        if rng is None:
            raise ValueError("run(batch_size=...) draws mini-batches at random: pass "
                             "rng=np.random.default_rng(seed) (or an integer seed) so the run "
                             "can be repeated.")
        rng = np.random.default_rng(rng)
        batches = _batches(n, batch_size, steps, rng, drop_last)

    theta = coordinate_major(theta)
    counted = CountingProblem(problem)
    state = opt.init(theta)
    batch_shape = theta.shape[:-1]
    losses = np.empty((steps + 1,) + batch_shape)
    thetas = None
    if keep_thetas:  # coordinate-major too, so storing θ_t is a contiguous copy
        thetas = np.moveaxis(np.empty((theta.shape[-1], steps + 1) + batch_shape), 0, -1)
    diverged_at = np.full(batch_shape, -1, dtype=int)

    # With full-batch gradients, a problem that computes f and ∇f together (sharing Aθ or Xθ)
    # gives the loss recorded at θ_t and the gradient the next step needs in one pass.
    fused = batches is None and getattr(problem, "fuses_value_and_grad", False)

    def loss_at(theta):
        if not fused:
            return np.asarray(problem.f(theta), dtype=float)
        value, g = problem.value_and_grad(theta)
        counted.offer(theta, g)
        return np.asarray(value, dtype=float)

    with np.errstate(all="ignore"):
        loss = loss_at(theta)
        limit = divergence * (1.0 + np.abs(loss))
        losses[0] = loss
        if keep_thetas:
            thetas[0] = theta
        alive = np.ones(batch_shape, dtype=bool)
        n_alive = alive.size
        t = 0
        it = range(1, steps + 1)
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(it, desc=f"{type(opt).__name__} on {problem.name}")
        for t in it:
            if batches is not None:
                counted.use(problem.batch(batches[t - 1]))
            theta, state = opt.step(theta, state, counted)
            loss = loss_at(theta)
            ok = np.abs(loss) <= limit  # False for nan and ±inf too
            # Runs that diverged earlier are nan and stay nan, so only a drop in the count of
            # healthy runs means that something new diverged at this step.
            if np.count_nonzero(ok) < n_alive:
                new = alive & ~ok
                rows = np.nonzero(new) if new.ndim else new  # indices: touch only those runs
                diverged_at[rows] = t
                alive[rows] = False
                n_alive = np.count_nonzero(alive)
                # Blank the runs that just diverged in copies (the step's arrays are not ours
                # to change); order="K" keeps the coordinate-major layout.
                loss = np.array(loss, order="K")
                loss[rows] = np.nan
                blanked = np.array(theta, order="K")
                blanked[rows] = np.nan
                counted.reoffer(theta, blanked, rows)
                theta = blanked
            losses[t] = loss
            if keep_thetas:
                thetas[t] = theta
            if n_alive == 0:
                break
        losses[t + 1:] = np.nan  # steps not taken once every run had diverged
        if keep_thetas:
            thetas[t + 1:] = np.nan
    return Trace(thetas=thetas, losses=losses, theta=theta, n_grad=counted.n_grad,
                 n_f=counted.n_f, n_hvp=counted.n_hvp, n_hess=counted.n_hess,
                 n_examples=counted.n_examples if hasattr(problem, "n_examples") else None,
                 diverged_at=diverged_at, optimizer=repr(opt), problem=problem.name)
