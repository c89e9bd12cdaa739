"""The harness: optimizers × hyperparameter grids × unit tests, 10 repetitions × 100 steps each,
on one process, several, or a dask cluster, with the same numbers whatever runs it.

``evaluate(cases)`` runs every `Grid` (an optimizer and its settings) on every case from the
case's start, and returns `Results`: the noise-free value at the end of every run.
``results.table()`` scores them (`scoring`) into a tidy `Table`, one row per (case, optimizer,
setting), which ``write_csv`` caches and ``read_csv`` reads back.

Units of work. The cases are cut into batches of one structure (`catalogue.batches`); a batch
runs every grid as one `UnitTestProblem` with all settings and repetitions side by side, so a
step of an optimizer is one numpy computation over C cases × S settings × R repetitions. The
batches depend on the list of cases alone, and every random number on (seed, case, repetition)
alone (`problem`), so a batch computes the same numbers wherever it runs: in this process
(``processes=1``), in a pool of processes (the default, one per core), or on the workers of a
dask.distributed cluster (``scheduler=ADDRESS``; `pip install -e '.[cluster]'`). Each batch runs
with one BLAS thread. Results are put back in the order of the cases.
"""
from __future__ import annotations

import gzip
import itertools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .. import schedules
from ..optim import SGD, Adadelta, Adagrad, Adam, Momentum, Nesterov, RMSprop, run
from . import scoring
from .catalogue import Case, batches, case as case_named
from .problem import UnitTestProblem

__all__ = ["Grid", "GRIDS", "REFERENCE", "annealed_sgd", "torch7_momentum", "evaluate",
           "Results", "Table", "read_csv", "REPETITIONS", "STEPS"]

REPETITIONS, STEPS = 10, 100
#: the grid whose best setting is the yardstick of the scores
REFERENCE = "SGD"


def annealed_sgd(eta, k):
    """SGD with 1/t annealing, η_t = η / (1 + k t) (torch7's optim.sgd learningRateDecay)."""
    return SGD(schedules.inverse_time(eta, k))


@dataclass(frozen=True)
class Grid:
    """An optimizer and its hyperparameter grid: every combination of ``values`` (a tuple of
    (name, tuple of values) pairs, the last varying fastest) is one setting. ``make`` builds the
    optimizer from keyword arrays of one value per setting (it must be importable by name
    for process pools: a class or a module-level function)."""
    name: str
    make: Callable
    values: tuple

    def __post_init__(self):
        for hyper, vals in self.values:
            if not len(vals):
                raise ValueError(f"Grid {self.name!r}: {hyper} has no values.")

    @property
    def hyperparameters(self) -> tuple:
        return tuple(h for h, _ in self.values)

    @property
    def settings(self) -> list:
        """One dict per setting."""
        names = self.hyperparameters
        return [dict(zip(names, combo))
                for combo in itertools.product(*(vals for _, vals in self.values))]

    @property
    def labels(self) -> list:
        return [" ".join(f"{k}={v:g}" for k, v in s.items()) for s in self.settings]

    def optimizer(self, trailing_axes: int):
        """The optimizer running every setting at once: each hyperparameter an array of shape
        (S, 1, …, 1) with ``trailing_axes`` ones (θ's axes after the settings)."""
        settings = self.settings
        arrays = {h: np.array([s[h] for s in settings], dtype=float).reshape(
            (len(settings),) + (1,) * trailing_axes) for h in self.hyperparameters}
        return self.make(**arrays)


def torch7_momentum(eta, mu):
    """Momentum as torch7's ``optim.sgd`` runs it by default (dampening = µ), the rule of the
    paper's momentum runs: v ← µ v + (1 − µ) g, θ ← θ − η v. With m = −η v it is the course's
    `Momentum` (m ← µ m − η g, θ ← θ + m) at the step size η (1 − µ): its long-run step under a
    constant gradient is η g, as plain SGD's, not η g/(1 − µ)."""
    return Momentum(np.asarray(eta) * (1 - np.asarray(mu)), mu)


_ETAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
_DECAYS = (1 - 1e-4, 1 - 1e-3, 1 - 1e-2, 0.9, 0.5)
#: the eight first-order optimizers of the course with the paper's grids (optimBench's
#: algorithms_list.lua; Adam, which came later, with a grid of the same kind). The rules are
#: the course's (lectures 02–03), not torch7's: its sgd damps momentum's gradient by (1 − µ)
#: by default, its rmsprop also caps the step (maxLearningRate), so equal (η, µ) or (η, ρ) are
#: not equal runs there and here.
GRIDS = (
    Grid("SGD", SGD, (("eta", tuple(float(x) for x in np.logspace(-10, 0, 34))),)),
    Grid("annealed SGD", annealed_sgd, (("eta", _ETAS), ("k", (0.01, 0.1, 0.5, 1.0)))),
    Grid("momentum", Momentum, (("eta", _ETAS), ("mu", (0.1, 0.5, 0.9, 0.99, 0.999)))),
    Grid("Nesterov", Nesterov, (("eta", _ETAS), ("mu", (0.1, 0.5, 0.9, 0.99, 0.999)))),
    Grid("Adagrad", Adagrad, (("eta", _ETAS),)),
    Grid("RMSprop", RMSprop, (("eta", _ETAS), ("rho", _DECAYS))),
    Grid("Adadelta", Adadelta, (("rho", _DECAYS), ("eps", (1e-6, 1e-3)))),
    Grid("Adam", Adam, (("eta", _ETAS), ("beta1", (0.5, 0.9)), ("beta2", (0.99, 0.999)))),
)


def _check_grids(grids):
    grids = tuple(grids)
    if not grids:
        raise ValueError("evaluate(grids=...): give at least one Grid, e.g. harness.GRIDS[:1].")
    names = [g.name for g in grids]
    for g in grids:
        if not isinstance(g, Grid):
            raise TypeError(f"evaluate(grids=...): expected Grid objects, got {g!r}.")
    if len(set(names)) != len(names):
        raise ValueError(f"evaluate(grids=...): grid names must differ, got {names}.")
    return grids


def run_batch(names: Sequence[str], grids: Sequence[Grid], repetitions: int, steps: int,
              seed: int) -> dict:
    """Every grid on one batch of cases (given by name): {"f0": (C,), grid name: (C, S, R)
    final values (nan where a run stopped being finite)}. What one worker does."""
    from threadpoolctl import threadpool_limits

    cases = [case_named(n) for n in names]
    with threadpool_limits(limits=1), np.errstate(all="ignore"):
        problem = UnitTestProblem(cases, repetitions=repetitions, seed=seed)
        C, R = len(cases), repetitions
        out = {"f0": None}
        for grid in grids:
            S = len(grid.settings)
            theta0 = problem.start((S,))
            trailing = theta0.ndim - 1 - (C > 1)
            problem.reset()
            trace = run(grid.optimizer(trailing), problem, theta0, steps, keep_thetas=False,
                        record_every=steps, divergence=math.inf)
            out[grid.name] = trace.losses[-1].reshape(C, S, R)
            if out["f0"] is None:
                out["f0"] = trace.losses[0].reshape(C, S * R)[:, 0].copy()
    return out


@dataclass(frozen=True)
class _Task:
    """One batch to run (a plain object: dask reads tuples as task specs)."""
    index: int
    names: tuple
    grids: tuple
    repetitions: int
    steps: int
    seed: int


def _run_task(task: _Task):
    return task.index, run_batch(task.names, task.grids, task.repetitions, task.steps,
                                 task.seed)


@dataclass
class Results:
    """Final values of every run: ``finals[grid]`` has shape (cases, settings, repetitions);
    ``f0`` the value at the start of each case."""
    cases: tuple
    grids: tuple
    f0: np.ndarray
    finals: dict
    repetitions: int
    steps: int
    seed: int

    def table(self, reference: str = REFERENCE) -> "Table":
        """The tidy scored table: one row per (case, optimizer, setting)."""
        if reference not in self.finals:
            raise ValueError(f"Results.table(reference={reference!r}): the scores are relative "
                             f"to tuned {reference}, which was not run; run it too (grids "
                             f"{[g.name for g in self.grids]}).")
        f0 = self.f0
        ref = scoring.reference_change(scoring.median_change(self.finals[reference],
                                                             f0[:, None]))
        hypers = []
        for g in self.grids:
            hypers += [h for h in g.hyperparameters if h not in hypers]
        names = np.array([c.name for c in self.cases], dtype=object)
        N = len(names)
        parts = []
        for g in self.grids:
            finals = self.finals[g.name]
            S = len(g.settings)
            score, n_poor, labels = scoring.classify(finals, f0[:, None], ref[:, None])
            part = {"case": np.repeat(names, S),
                    "optimizer": np.full(N * S, g.name, dtype=object),
                    "setting": np.tile(np.array(g.labels, dtype=object), N)}
            for h in hypers:
                part[h] = np.tile([s.get(h, np.nan) for s in g.settings], N).astype(float)
            part.update({
                "f0": np.repeat(f0, S),
                "median_change": scoring.median_change(finals, f0[:, None]).ravel(),
                "n_diverged": np.count_nonzero(scoring.clamp(finals) == np.inf,
                                               axis=-1).ravel(),
                "reference_change": np.repeat(ref, S),
                "score": score.ravel(),
                "n_poor": n_poor.ravel(),
                "class": labels.ravel()})
            parts.append(part)
        return Table({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})


_TEXT = ("case", "optimizer", "setting", "class")
_COUNTS = ("n_diverged", "n_poor")


class Table:
    """Columns of equal length (a dict of numpy arrays), one row per (case, optimizer,
    setting): case, optimizer, setting, one column per hyperparameter (nan where an optimizer
    has none), f0, median_change (median of f_end − f₀ over the repetitions; inf where at least
    half diverged), n_diverged, reference_change (tuned SGD's), score, n_poor, class."""

    def __init__(self, columns: dict):
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"Table: columns of different lengths {sorted(lengths)}.")
        self.columns = dict(columns)

    def __len__(self):
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name):
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(f"Table has no column {name!r}; its columns are "
                           f"{list(self.columns)}.") from None

    def __repr__(self):
        return f"Table({len(self)} rows: {', '.join(self.columns)})"

    def where(self, mask) -> "Table":
        return Table({k: v[mask] for k, v in self.columns.items()})

    def select(self, **equal) -> "Table":
        """The rows whose columns equal the given values, e.g. select(optimizer='Adam')."""
        mask = np.ones(len(self), dtype=bool)
        for k, v in equal.items():
            mask &= self[k] == v
        return self.where(mask)

    def counts(self, by: str = "optimizer") -> dict:
        """{value of ``by``: {class: number of rows}}."""
        out = {}
        for key, label in zip(self[by], self["class"]):
            out.setdefault(key, dict.fromkeys(scoring.CLASSES, 0))[label] += 1
        return out

    def write_csv(self, path) -> Path:
        """Write the table as CSV (gzip-compressed when the name ends in .gz). Its text holds
        no commas, quotes or line breaks, so every line splits on commas."""
        path = Path(path)
        names = list(self.columns)
        texts = [_texts(n, self.columns[n]) for n in names]
        for name in names:
            if self.columns[name].dtype != object:
                continue
            bad = next((t for t in set(self.columns[name].tolist())
                        if any(ch in str(t) for ch in ',"\n')), None)
            if bad is not None:
                raise ValueError(f"Table.write_csv: column {name!r} holds {bad!r}; names of "
                                 "cases, optimizers and settings must not contain commas, "
                                 "quotes or line breaks.")
        path.parent.mkdir(parents=True, exist_ok=True)
        with (gzip.open(path, "wt", compresslevel=6) if path.suffix == ".gz"
              else open(path, "w")) as fh:
            fh.write(",".join(names) + "\n")
            fh.writelines(",".join(row) + "\n" for row in zip(*texts))
        return path

    def equals(self, other: "Table") -> bool:
        if list(self.columns) != list(other.columns):
            return False
        for k, v in self.columns.items():
            w = other.columns[k]
            if v.dtype == object:
                if not np.array_equal(v, w):
                    return False
            elif not np.array_equal(v, w, equal_nan=True):
                return False
        return True


def _texts(name, column) -> list:
    """A column as text. Numbers to 6 significant digits (4 for the score): the thresholds are
    0.1 and 2, and six digits keep changes of 1e−6 × f₀ apart; an empty field for a
    hyperparameter an optimizer lacks."""
    if column.dtype == object or column.dtype.kind in "iu":
        return [str(v) for v in column.tolist()]
    spec = ".4g" if name == "score" else ".6g"
    return ["" if v != v else format(v, spec) for v in column.tolist()]


def read_csv(path) -> Table:
    """A table written by `Table.write_csv`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such results file; make it with "
                                "`python -m course_lib.unit_tests --full --out FILE`.")
    with (gzip.open(path, "rt") if path.suffix == ".gz" else open(path)) as fh:
        header = fh.readline().rstrip("\n").split(",")
        body = fh.read()
    if header[:3] != ["case", "optimizer", "setting"]:
        raise ValueError(f"{path} is not a unit-test results table (its header should start "
                         "with case, optimizer, setting).")
    fields = body.replace("\n", ",").split(",")[:-1] if body else []
    n = len(header)
    if len(fields) % n:
        raise ValueError(f"{path}: a line does not have the header's {n} fields; the file is "
                         "damaged (cut short?). Write it again.")
    out = {}
    for j, name in enumerate(header):
        col = fields[j::n]
        if name in _TEXT:
            out[name] = np.array(col, dtype=object)
        elif name in _COUNTS:
            out[name] = np.array(col, dtype=int)
        else:
            out[name] = np.array([x or "nan" for x in col], dtype=float)
    return Table(out)


def _check_cases(cases):
    out = []
    for c in cases:
        if isinstance(c, str):
            c = case_named(c)
        if not isinstance(c, Case):
            raise TypeError(f"evaluate(cases=...): expected Case objects or case names, got "
                            f"{c!r}.")
        out.append(c)
    if not out:
        raise ValueError("evaluate(cases=...): no cases; e.g. catalogue.quick().")
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise ValueError("evaluate(cases=...): a case is listed twice.")
    return out


def evaluate(cases, grids: Sequence[Grid] = GRIDS, *, repetitions: int = REPETITIONS,
             steps: int = STEPS, seed: int = 0, processes: int | None = None,
             scheduler=None, progress: bool = True, max_cases: int = 64) -> Results:
    """Run every grid on every case: ``repetitions`` runs of ``steps`` steps per setting.

    ``processes``: worker processes on this machine (default: one per core; 1 runs here, in
    this process). ``scheduler``: the address of a dask.distributed scheduler (or a Client)
    to run the batches on instead. The numbers are the same whichever runs them.
    """
    cases = _check_cases(cases)
    grids = _check_grids(grids)
    for name, value in (("repetitions", repetitions), ("steps", steps)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"evaluate({name}={value!r}): use a positive whole number.")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"evaluate(seed={seed!r}): use a non-negative integer.")
    if processes is None:
        processes = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else (os.cpu_count() or 1)
    if not isinstance(processes, (int, np.integer)) or processes < 1:
        raise ValueError(f"evaluate(processes={processes!r}): use a positive whole number.")
    chunks = batches(cases, max_cases)
    tasks = [_Task(i, tuple(c.name for c in chunk), grids, int(repetitions), int(steps),
                   int(seed)) for i, chunk in enumerate(chunks)]
    # the costliest first, so that no worker is left with a long batch at the end
    tasks.sort(key=lambda t: -_cost(chunks[t.index]))
    done = {}
    bar = _progress(len(cases), progress, scheduler, processes)
    try:
        for index, result in _execute(tasks, processes, scheduler):
            done[index] = result
            bar.update(len(chunks[index]))
    finally:
        bar.close()
    order = {c.name: k for k, c in enumerate(cases)}
    N, R = len(cases), int(repetitions)
    f0 = np.empty(N)
    finals = {g.name: np.empty((N, len(g.settings), R)) for g in grids}
    for i, chunk in enumerate(chunks):
        rows = [order[c.name] for c in chunk]
        f0[rows] = done[i]["f0"]
        for g in grids:
            finals[g.name][rows] = done[i][g.name]
    return Results(tuple(cases), grids, f0, finals, int(repetitions), int(steps), int(seed))


def _cost(chunk) -> float:
    """A rough relative cost of a batch: runs × coordinates × pieces per coordinate."""
    first = chunk[0]
    pieces = sum(len(s.prototypes) for s in first.shapes)
    return len(chunk) * pieces * (1 + first.rotated + first.curled)


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total, progress, scheduler, processes):
    if not progress:
        return _NoBar()
    from tqdm.auto import tqdm
    where = "dask" if scheduler is not None else \
        ("1 process" if processes == 1 else f"{processes} processes")
    return tqdm(total=total, unit="case", desc=f"unit tests ({where})")


def _execute(tasks, processes, scheduler):
    """(index, result) of every task, in the order they finish."""
    if scheduler is not None:
        yield from _execute_dask(tasks, scheduler)
    elif processes == 1:
        for task in tasks:
            yield _run_task(task)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        # spawn, not fork: a fresh interpreter per worker, as on macOS and Windows, with no
        # threads or locks inherited from a notebook's kernel
        context = multiprocessing.get_context("spawn")
        try:
            with ProcessPoolExecutor(max_workers=min(processes, len(tasks)),
                                     mp_context=context) as pool:
                futures = [pool.submit(_run_task, t) for t in tasks]
                for future in as_completed(futures):
                    yield future.result()
        except BrokenProcessPool as err:
            raise RuntimeError(
                "a worker process died. In a script, call evaluate() under "
                "`if __name__ == '__main__':` (each worker starts a fresh Python that imports "
                "your script again); otherwise it ran out of memory: use fewer processes or "
                "smaller batches (max_cases=...), or processes=1.") from err


def _execute_dask(tasks, scheduler):
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise ImportError("evaluate(scheduler=...) runs on a dask.distributed cluster, which is "
                          "not installed: pip install -e '.[cluster]' (or pip install "
                          "'dask[distributed]').") from None
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = client.map(_run_task, tasks, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        if client is not scheduler:
            client.close()
