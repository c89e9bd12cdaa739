"""The learned optimizer behind the course's optimizer protocol:

    state = opt.init(θ);    θ, state = opt.step(θ, state, problem)

so `run()`, the race and the unit-test harness take it as they take Adam. A step is the
paper's update (Andrychowicz et al. 2016, eq. 3 and §2.1), coordinate by coordinate:

    [gₜ, hₜ₊₁] = m(∇ₜ, hₜ; φ),    θₜ₊₁ = θₜ + gₜ,

with m the two-layer LSTM of `lstm`, ∇ₜ = ∇f(θₜ) (preprocessed first when the weights were
trained that way), and the state the LSTM's hidden and cell states, one row per coordinate
and run. θ may have any leading (batch) axes, as for every optimizer of the course.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..optim.base import Optimizer, check_theta
from .lstm import GATES, cell, n_inputs, zero_state
from .preprocess import P, preprocess

__all__ = ["LearnedState", "LearnedOptimizer", "load", "save", "SHIPPED", "shipped_quadratic"]

#: the weights shipped with the course: name → file in course_lib/learned/
SHIPPED = {"quadratic": "quadratic_10d.npz", "mlp": "mlp_digits.npz"}


class LearnedState(NamedTuple):
    h1: np.ndarray   # layer 1's hidden state, (..., d, 20)
    c1: np.ndarray   # layer 1's cell state
    h2: np.ndarray   # layer 2's hidden state
    c2: np.ndarray   # layer 2's cell state
    t: int


class LearnedOptimizer(Optimizer):
    """θ ← θ + m(∇f(θ), h; φ): the coordinatewise LSTM optimizer with weights φ (``params``,
    a dict as `lstm.init_params` makes, or as `load` reads). With 2 inputs per coordinate the
    gradient is preprocessed, (log|g|/p, sign g) (`preprocess`); with 1 it goes in raw.

    It has no hyperparameters to set: what it does is in φ.
    """

    hyperparameters = ()

    def __init__(self, params: dict, *, name: str = "LSTM", info: dict | None = None):
        required = {f"{m}{g}{l}" for m in "WUb" for g in GATES for l in "12"} | {"w_out",
                                                                                 "b_out"}
        missing = required - set(params)
        if missing:
            raise ValueError(f"LearnedOptimizer: the weights lack {sorted(missing)[:4]}…; "
                             "pass a dict from lstm.init_params or learned.load().")
        self.params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        self.preprocessed = n_inputs(self.params) == 2
        self.name = name
        self.info = dict(info or {})

    def init(self, theta) -> LearnedState:
        theta = check_theta(theta)
        z = zero_state(theta.shape, np.shape(self.params["Wi1"])[1])
        return LearnedState(z.h1, z.c1, z.h2, z.c2, t=0)

    def step(self, theta, state: LearnedState, problem):
        g = np.asarray(problem.grad(theta), dtype=float)
        x = preprocess(g, P) if self.preprocessed else g[..., None]
        step, new = cell(self.params, x, state)
        return theta + step, LearnedState(*new, t=state.t + 1)

    def __repr__(self):
        inputs = "preprocessed" if self.preprocessed else "raw"
        return f"LearnedOptimizer({self.name!r}, {inputs} gradients)"


def save(params: dict, path, info: dict) -> Path:
    """φ as ``path`` (.npz) and the record of how it was made as the .json beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{k: np.asarray(v) for k, v in params.items()})
    path.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n")
    return path


def _shipped_path(name):
    if name not in SHIPPED:
        raise ValueError(f"load({name!r}): the shipped weights are {sorted(SHIPPED)}, or pass "
                         "the path of an .npz written by `python -m course_lib.learned "
                         "train`.")
    return Path(str(resources.files(__package__) / SHIPPED[name]))


def load(name_or_path="quadratic") -> LearnedOptimizer:
    """The shipped weights by name ("quadratic", "mlp") or an .npz written by `save`; its
    record (seed, command, training time, meta-loss curve) is in ``.info``. No training."""
    path = Path(name_or_path) if str(name_or_path).endswith(".npz") \
        else _shipped_path(name_or_path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such weights; train them with `python -m "
                                "course_lib.learned train --out FILE.npz`.")
    with np.load(path) as data:
        params = {k: data[k] for k in data.files}
    record = path.with_suffix(".json")
    info = json.loads(record.read_text()) if record.exists() else {}
    return LearnedOptimizer(params, name=path.stem, info=info)


def shipped_quadratic() -> LearnedOptimizer:
    """``load("quadratic")`` as a module-level function: what the unit-test harness's
    ``Grid(name, make, ())`` needs to build the optimizer (in worker processes too)."""
    return load("quadratic")
