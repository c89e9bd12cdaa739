"""`run()`: iterate an optimizer on a problem and record what happened in a `Trace`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..layout import coordinate_major
from .base import check_theta

__all__ = ["run", "Trace", "CountingProblem", "per_run_rngs", "RunwiseBatch"]


class CountingProblem:
    """Wraps a problem and counts what an optimizer asks of it (per run: one call on a batch
    of B runs evaluates B gradients at once but counts once for each run).

    ``value_and_grad`` counts one f and one gradient; ``gnvp`` (a Gauss–Newton–vector product,
    which problems built by `course_lib.curvature` carry) counts in ``n_gnvp``; a Hessian
    counts once it has been computed (a problem without one raises and is not charged).
    """

    def __init__(self, problem):
        self._p = problem
        self.n_f = self.n_grad = self.n_hvp = self.n_hess = self.n_gnvp = 0
        self.n_examples = 0
        self._per_call = getattr(problem, "n_examples", None)
        self._ready = None  # (θ, ∇f(θ)) computed by run() alongside f(θ), not yet handed out
        self._expose_gnvp()

    def __getattr__(self, name):  # everything else (name, dim, x0, …) is the problem's
        return getattr(self._p, name)

    def use(self, problem):
        """Point the counter at another problem (the next mini-batch), keeping the counts."""
        self._p = problem
        self._per_call = getattr(problem, "n_examples", None)
        self._expose_gnvp()
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

    def value_and_grad(self, theta):
        self.n_f += 1
        self.n_grad += 1
        if self._per_call is not None:
            self.n_examples += self._per_call
        self._ready = None
        return self._p.value_and_grad(theta)

    def hess(self, theta):
        H = self._p.hess(theta)
        self.n_hess += 1
        return H

    def hvp(self, theta, v):
        self.n_hvp += 1
        return self._p.hvp(theta, v)

    def _counted_gnvp(self, theta, v):
        self.n_gnvp += 1
        return self._p.gnvp(theta, v)

    def _expose_gnvp(self):
        # Only a problem that has a Gauss–Newton product shows one, counted, so that
        # hasattr(counted, "gnvp") answers as it would for the problem itself.
        if hasattr(self._p, "gnvp"):
            self.gnvp = self._counted_gnvp
        else:
            self.__dict__.pop("gnvp", None)


@dataclass(frozen=True)
class Trace:
    """What a run did. Shapes: B = θ's leading (batch) shape, d = parameters.

    thetas : (steps+1, *B, d), θ₀ … θ_T (None with keep_thetas=False); nan after a divergence.
    losses : (steps+1, *B), the full objective f(θ_t) (not the mini-batch loss); nan after.
        With ``run(..., record_every=k)`` both hold only the steps listed in ``recorded_at``.
    theta : (*B, d), the last iterate.
    n_grad, n_f, n_hvp, n_hess, n_gnvp : evaluations the optimizer asked for, per run,
        line searches included (n_gnvp: Gauss–Newton–vector products).
    n_examples : training examples whose gradient was computed (data problems), else None.
    diverged_at : (*B) int array, the step at which each run diverged, −1 where it did not.
    recorded_at : the step of each entry of ``losses`` / ``thetas`` (0, k, 2k, …, steps).
    stopped_at : (*B) int array, the step after which the optimizer stopped a run (its state's
        ``done``: the second-order methods stop once ‖∇L‖∞ ≤ gtol, or when no step decreases
        L any more), −1 where it did not; None for optimizers that never stop. Once every run
        has stopped, run() stops too and the later entries repeat the final θ and loss (the
        steps would leave them unchanged). For a run that stopped at its gradient test this is
        the number of iterations, scipy's ``nit``.
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
    recorded_at: Optional[np.ndarray] = None
    n_gnvp: int = 0
    stopped_at: Optional[np.ndarray] = None

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def loss(self) -> np.ndarray:
        """The final loss f(θ_T) of each run (nan for a run that diverged)."""
        return self.losses[-1]

    @property
    def steps(self) -> int:
        return int(self.recorded_at[-1]) if self.recorded_at is not None \
            else self.losses.shape[0] - 1

    def __repr__(self):
        n = self.diverged_at.size
        k = int(np.count_nonzero(self.diverged))
        if n == 1:
            status = (f"diverged at step {int(self.diverged_at)}" if k else
                      f"final loss {float(self.loss):.6g}")
            if self.stopped_at is not None and int(self.stopped_at) >= 0:
                status += f", stopped after step {int(self.stopped_at)}"
        else:
            status = f"{n} runs, {k} diverged, best final loss {np.nanmin(self.loss):.6g}" \
                if k < n else f"{n} runs, all diverged"
        counts = f"{self.n_grad} gradients"
        if self.n_f:
            counts = f"{self.n_f} function values, " + counts
        if self.n_hess:
            counts += f", {self.n_hess} Hessians"
        if self.n_hvp:
            counts += f", {self.n_hvp} Hessian-vector products"
        if self.n_gnvp:
            counts += f", {self.n_gnvp} Gauss-Newton-vector products"
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


def per_run_rngs(rng, batch_shape) -> list:
    """One independent random stream per run, for a batch of runs of shape ``batch_shape``.

    ``rng`` is an integer seed, a SeedSequence or a Generator: the streams are its spawned
    children (numpy's way to make independent streams), in C order over the runs. Or ``rng`` is
    a sequence with one seed or Generator per run: then run i draws from ``rng[i]`` alone, so
    a single run given ``[rng[i]]`` repeats run i of the batch exactly (how a repetition of a
    batched experiment is reproduced on its own).
    """
    n_runs = int(np.prod(batch_shape, dtype=int))
    if isinstance(rng, (list, tuple)):
        if len(rng) != n_runs:
            raise ValueError(f"rng is a sequence of {len(rng)} seeds, but there are {n_runs} runs "
                             f"(batch shape {tuple(batch_shape)}): give one seed per run, or one "
                             "integer seed for all.")
        return [np.random.default_rng(r) for r in rng]
    return np.random.default_rng(rng).spawn(n_runs)


class _PerRunSampler:
    """Mini-batch indices of shape (*B, b) per step: every run shuffles its own epochs.

    Run r's batches are cut from permutations drawn from its own stream exactly as
    `_batches` cuts them from a shared one, so one run with stream g sees what
    ``sampling="shared"`` with rng g would show it.
    """

    def __init__(self, n, batch_size, streams, batch_shape, drop_last):
        self.n, self.b, self.streams, self.shape = n, batch_size, streams, tuple(batch_shape)
        end = n - n % batch_size if drop_last else n
        self.starts = list(range(0, end, batch_size))
        self.epoch, self.perms = -1, None

    def __call__(self, t):
        """The indices for step t (0-based), shape (*B, b) (the last batch of an epoch may be
        smaller, as with shared sampling)."""
        epoch, j = divmod(t, len(self.starts))
        if epoch != self.epoch:
            self.epoch = epoch
            self.perms = np.stack([g.permutation(self.n) for g in self.streams])
        s = self.starts[j]
        cut = self.perms[:, s:s + self.b]
        return cut.reshape(self.shape + (cut.shape[-1],))


class RunwiseBatch:
    """Run r of a batch evaluated on its own mini-batch ``problem.batch(idx[r])``, one run at
    a time: how `run(..., sampling="per_run")` serves a data problem whose ``batch`` takes a
    single index vector. A problem can do the whole batch at once instead: it then sets
    ``per_run_batches = True`` and accepts ``batch(idx)`` with idx of shape (*B, b).
    """

    def __init__(self, problem, idx):
        idx = np.asarray(idx)
        self.shape = idx.shape[:-1]
        self.parts = [problem.batch(i) for i in idx.reshape(-1, idx.shape[-1])]
        self.n_examples = idx.shape[-1]
        self.name, self.dim = problem.name, getattr(problem, "dim", None)

    def _each(self, method, theta, *more):
        theta = np.asarray(theta, dtype=float)
        if theta.shape[:-1] != self.shape:
            raise ValueError(f"this mini-batch has one index set per run, for runs of shape "
                             f"{self.shape}; got θ of shape {theta.shape}.")
        flat = theta.reshape(-1, theta.shape[-1])
        flat_more = [np.broadcast_to(m, theta.shape).reshape(flat.shape) for m in more]
        outs = [getattr(p, method)(flat[r], *(m[r] for m in flat_more))
                for r, p in enumerate(self.parts)]
        return np.stack(outs).reshape(self.shape + np.shape(outs[0]))

    def f(self, theta):
        return self._each("f", theta)

    def grad(self, theta):
        return self._each("grad", theta)

    def hvp(self, theta, v):
        return self._each("hvp", theta, v)

    def value_and_grad(self, theta):
        return self.f(theta), self.grad(theta)


def run(opt, problem, theta0=None, steps: int = 100, *, batch_size: Optional[int] = None,
        rng=None, sampling: str = "shared", drop_last: bool = False, keep_thetas: bool = True,
        record_every: int = 1, divergence: float = 1e8, progress: bool = False) -> Trace:
    """Take ``steps`` steps of ``opt`` on ``problem`` from ``theta0`` (default: problem.x0).

    θ₀ may carry leading batch axes, (B, d) or (B1, B2, d): every run is stepped at once.
    ``batch_size`` (data problems): each step sees the gradient of a mini-batch of that many
    examples, drawn as shuffled epochs from ``rng`` (a Generator or a seed); 1 is online SGD.
    When the batch size does not divide N, each epoch ends with a smaller batch, whose noisier
    gradient shows as a spike at every epoch; ``drop_last=True`` leaves those examples out of
    that epoch (as torch's DataLoader(drop_last=True) does).
    ``sampling="shared"`` (default) gives every run of a batch the same mini-batches, so runs
    differ only by their hyperparameters or starts; ``sampling="per_run"`` gives each run its
    own shuffled epochs, drawn from its own stream (`per_run_rngs`: ``rng`` is one seed, or a
    sequence of one seed per run): B runs are then B independent repetitions, as a study over
    seeds needs.
    ``record_every=k`` records the full loss (and θ) only at steps 0, k, 2k, …, and the last
    step: the full loss costs N examples per run, far more than a mini-batch step.
    A run has diverged when its loss stops being finite or |f(θ)| exceeds
    ``divergence`` × (1 + |f(θ₀)|) at a recorded step; it is stopped there (its later entries
    are nan), and the whole loop stops once every run has diverged. No overflow warnings reach
    the user. It also stops once every run's optimizer reports ``done`` in its state (the
    second-order methods: converged to their gtol, or no lower point found); the Trace then
    repeats the final θ and loss (``Trace.stopped_at`` says when each run stopped).
    """
    if theta0 is None:
        if problem.x0 is None:
            raise ValueError(f"run: problem {problem.name!r} has no standard start; pass theta0.")
        theta0 = problem.x0
    theta = check_theta(theta0, getattr(problem, "dim", None), what="theta0")
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"run(steps={steps!r}): steps must be a non-negative integer.")
    if not isinstance(record_every, (int, np.integer)) or record_every < 1:
        raise ValueError(f"run(record_every={record_every!r}): record every k steps, k a "
                         "positive integer (1 records every step).")
    if not (divergence > 0):
        raise ValueError(f"run(divergence={divergence}): must be a positive factor.")
    if not (hasattr(opt, "init") and hasattr(opt, "step")):
        raise TypeError(f"run: {opt!r} is not an optimizer (it needs init(θ) and step(θ, state, "
                        "problem)); e.g. run(SGD(eta=0.1), problem, theta0, 100).")
    if sampling not in ("shared", "per_run"):
        raise ValueError(f"run(sampling={sampling!r}): use 'shared' (every run sees the same "
                         "mini-batches) or 'per_run' (each run draws its own).")

    batch_shape = theta.shape[:-1]
    next_batch = None
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
        if sampling == "shared":
            batches = _batches(n, batch_size, steps, np.random.default_rng(rng), drop_last)

            def next_batch(t):
                return problem.batch(batches[t])
        else:
            sampler = _PerRunSampler(n, batch_size, per_run_rngs(rng, batch_shape),
                                     batch_shape, drop_last)
            native = getattr(problem, "per_run_batches", False)

            def next_batch(t):
                idx = sampler(t)
                return problem.batch(idx) if native else RunwiseBatch(problem, idx)
    elif sampling == "per_run":
        raise ValueError("run(sampling='per_run') draws a mini-batch per run: pass batch_size=b "
                         "as well.")

    theta = coordinate_major(theta)
    counted = CountingProblem(problem)
    state = opt.init(theta)
    recorded_at = np.arange(0, steps + 1, record_every)
    if recorded_at[-1] != steps:  # the last step is always recorded
        recorded_at = np.r_[recorded_at, steps]
    marks = recorded_at.tolist()  # plain ints: compared once per step
    losses = np.empty((len(recorded_at),) + batch_shape)
    thetas = None
    if keep_thetas:  # coordinate-major too, so storing θ_t is a contiguous copy
        thetas = np.moveaxis(np.empty((theta.shape[-1], len(recorded_at)) + batch_shape), 0, -1)
    diverged_at = np.full(batch_shape, -1, dtype=int)

    # With full-batch gradients, a problem that computes f and ∇f together (sharing Aθ or Xθ)
    # gives the loss recorded at θ_t and the gradient the next step needs in one pass.
    fused = next_batch is None and record_every == 1 \
        and getattr(problem, "fuses_value_and_grad", False)

    # An optimizer that evaluates L at the θ it returns (the second-order methods' line searches
    # do) keeps that value in its state as ``loss``: with full-batch gradients run() records it
    # instead of computing it again. One whose state has ``done`` (a bool per run) can stop.
    fields = getattr(state, "_fields", ())
    own_loss = next_batch is None and "loss" in fields
    stops = "done" in fields
    stopped_at = np.full(batch_shape, -1, dtype=int) if stops else None
    finished = False

    def loss_at(theta):
        if own_loss and state.loss is not None:
            return np.asarray(state.loss, dtype=float)
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
        row = 0
        it = range(1, steps + 1)
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(it, desc=f"{type(opt).__name__} on {problem.name}")
        for t in it:
            if next_batch is not None:
                counted.use(next_batch(t - 1))
            theta, state = opt.step(theta, state, counted)
            if stops:
                done = np.asarray(state.done)
                fresh = done & (stopped_at < 0)
                if fresh.any():
                    stopped_at[fresh] = t
                finished = not np.any(alive & ~done)
            # θ stays where it is once every run has stopped: record it in the next row now
            if t != marks[row + 1] and not finished:
                continue
            row += 1
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
            losses[row] = loss
            if keep_thetas:
                thetas[row] = theta
            if n_alive == 0 or finished:
                break
        # Rows left over: nan once every run had diverged; after every run stopped, the final
        # θ and loss (each later step would have returned them unchanged).
        losses[row + 1:] = losses[row] if finished else np.nan
        if keep_thetas:
            thetas[row + 1:] = thetas[row] if finished else np.nan
    return Trace(thetas=thetas, losses=losses, theta=theta, n_grad=counted.n_grad,
                 n_f=counted.n_f, n_hvp=counted.n_hvp, n_hess=counted.n_hess,
                 n_examples=counted.n_examples if hasattr(problem, "n_examples") else None,
                 diverged_at=diverged_at, optimizer=repr(opt), problem=problem.name,
                 recorded_at=recorded_at, n_gnvp=counted.n_gnvp, stopped_at=stopped_at)
