"""The hand-designed optimizers the learned one is measured against, each with its learning
rate tuned on the training family (Andrychowicz et al. 2016, §3: "the learning rates of the
baselines are tuned"): SGD, RMSprop, Adam and Nesterov, with the race's fixed settings
(`course_lib.race.FIXED`: µ = 0.9, ρ = 0.9, β₁ = 0.9, β₂ = 0.999).

A learning rate is judged by the mean of f(θ_T) over the tuning functions (drawn from the
"train" split, never from "test"); the grid is log-spaced, 10 values per decade.
"""
from __future__ import annotations

import numpy as np

from ..optim import run
from ..race import make
from . import quadratics as Q

__all__ = ["NAMES", "GRID", "BASELINE_SEED", "BASELINE_FUNCTIONS", "sweep", "tune", "tuned",
           "tune_two", "final_losses", "final_losses_with"]

NAMES = ("SGD", "Nesterov", "RMSprop", "Adam")
#: the learning rates tried: 1e-4 … 1, 10 per decade
GRID = np.geomspace(1e-4, 1.0, 41)
#: the "train"-split functions on which the baselines' learning rates are tuned
BASELINE_SEED, BASELINE_FUNCTIONS = 10 ** 6, 1000


def sweep(name: str, q: Q.Quadratics, steps: int = Q.STEPS, grid=GRID) -> np.ndarray:
    """Mean f(θ_T) over the functions ``q`` for every learning rate of ``grid``: one batched
    run (θ of shape (K, n, d)); a diverged setting scores inf."""
    grid = np.asarray(grid, dtype=float)
    opt = make(name, grid[:, None, None])
    theta0 = np.broadcast_to(q.theta0, (grid.size,) + q.theta0.shape)
    tr = run(opt, Q.problem(q), theta0, steps, keep_thetas=False, record_every=steps)
    return np.nan_to_num(np.mean(tr.losses[-1], axis=-1), nan=np.inf)


def tune(q: Q.Quadratics, steps: int = Q.STEPS, grid=GRID, names=NAMES) -> dict:
    """{name: the learning rate of ``grid`` with the lowest mean f(θ_T) on ``q``}."""
    out = {}
    for name in names:
        means = sweep(name, q, steps, grid)
        if not np.isfinite(means).any():
            raise ValueError(f"tune: {name} diverged at every learning rate; widen the grid.")
        out[name] = float(np.asarray(grid)[int(np.argmin(means))])
    return out


def tuned(names=NAMES, dim: int = Q.DIM) -> dict:
    """{name: learning rate} tuned on the 1,000 training functions of stream
    ``BASELINE_SEED`` (mean of f(θ₁₀₀)): the baselines every ratio is taken against."""
    return tune(Q.sample(BASELINE_FUNCTIONS, BASELINE_SEED, split="train", dim=dim),
                names=names)


def final_losses(name: str, eta: float, q: Q.Quadratics, steps: int = Q.STEPS,
                 record_every: int = 1):
    """The losses (steps+1, n) of baseline ``name`` with learning rate ``eta`` on ``q``."""
    tr = run(make(name, eta), Q.problem(q), q.theta0, steps, keep_thetas=False,
             record_every=record_every)
    return tr.losses


def tune_two(name: str, q: Q.Quadratics, hyper: str, values, steps: int = Q.STEPS,
             grid=GRID) -> dict:
    """The learning rate and one more setting (``hyper``, e.g. "beta2" for Adam, "mu" for
    Nesterov) tuned together: every pair of ``grid`` × ``values`` in one batched run (θ of
    shape (K, V, n, d)); the pair with the lowest mean f(θ_T) on ``q``. Returns
    {"eta": η, hyper: value}."""
    grid, values = np.asarray(grid, dtype=float), np.asarray(values, dtype=float)
    opt = make(name, grid[:, None, None, None], **{hyper: values[None, :, None, None]})
    theta0 = np.broadcast_to(q.theta0, (grid.size, values.size) + q.theta0.shape)
    tr = run(opt, Q.problem(q), theta0, steps, keep_thetas=False, record_every=steps)
    means = np.nan_to_num(np.mean(tr.losses[-1], axis=-1), nan=np.inf)
    if not np.isfinite(means).any():
        raise ValueError(f"tune_two: {name} diverged everywhere; widen the grid.")
    i, j = np.unravel_index(int(np.argmin(means)), means.shape)
    return {"eta": float(grid[i]), hyper: float(values[j])}


def final_losses_with(name: str, q: Q.Quadratics, steps: int = Q.STEPS, **settings):
    """f(θ_T) of every function of ``q`` under baseline ``name`` with ``settings`` (η as
    ``eta``, the others by name, e.g. beta2=0.9)."""
    settings = dict(settings)
    eta = settings.pop("eta")
    tr = run(make(name, eta, **settings), Q.problem(q), q.theta0, steps, keep_thetas=False,
             record_every=steps)
    return tr.losses[-1]
