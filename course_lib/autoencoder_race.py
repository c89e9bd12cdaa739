"""Lecture 04's test of a claim: does Hessian-free reach a lower training error than first-order
methods on a deep autoencoder (Martens 2010)?

The problem is `course_lib.data.deep_autoencoder` (the digits through a 2-unit code, sparse
initialisation). Four methods race on it, each tuned by a small search: `HessianFree` (Gauss–
Newton products on a mini-batch, the gradient on all examples), `LBFGS`, `Nesterov` and `Adam`
(full-batch gradients). The training error is the excess cross-entropy L(θ) − entropy (0 when
every reconstruction equals its image), against the work spent and against wall time.

Work is counted in gradient-equivalents, by passes through the network (a forward pass 1 unit,
a backward pass 2: Griewank's rule for reverse mode), on the examples they touch:

* L and ∇L (or ∇L alone): 1 (forward + backward = 3 units);
* L alone: 1/3 (a forward pass);
* a Gauss–Newton product G v on b of N examples: 4/3 · b/N (a forward pass of directional
  derivatives, which costs two forward passes, and a backward pass), + 1/3 · b/N when the forward
  pass at θ is not cached yet (the first product at a new θ).

`COSTS` holds these numbers; the notebook prints the measured time ratios next to them.

    # the full run (tens of minutes on two shared cores), shipped as
    # course_lib/results/second_order_autoencoder.json
    python -m course_lib.autoencoder_race
    # a small one
    python -m course_lib.autoencoder_race --budget 300 --tune-budget 100 --examples 300 \
        --seeds 0 --out x.json

Tuning: every setting of a method's grid runs to ``tune_budget`` from the initialisation
``--seed``; the one with the lowest training error there (a run that diverges scores +inf)
then runs to ``budget`` from each initialisation of ``--seeds``. A setting that starts fast
is favoured by the shorter tuning budget; the notebook prints which winners sit at an end of
their grid.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from typing import NamedTuple, Optional

import numpy as np

from .data import deep_autoencoder, load_digits
from .optim import LBFGS, Adam, HessianFree, Nesterov

__all__ = ["COSTS", "Meter", "GRIDS", "Curve", "make", "train", "tune", "race", "main",
           "RESULT", "error_at", "grid_edges", "final_errors", "race_figure"]

#: gradient-equivalents per call, per example of the problem (see the module docstring)
COSTS = {"value_and_grad": 1.0, "grad": 1.0, "f": 1 / 3, "gnvp": 4 / 3, "gnvp_forward": 1 / 3}

#: the shipped full run
RESULT = "second_order_autoencoder.json"

#: each method's small search: name → list of settings (keyword arguments of `make`)
GRIDS = {
    "Hessian-free": [{"lam": lam, "curvature_fraction": frac}
                     for lam in (0.01, 0.1, 1.0, 30.0) for frac in (0.25, 1.0)],
    "L-BFGS": [{"m": m} for m in (5, 10, 30, 100, 300)],
    # η/(1 − µ), the step once the velocity has built up, spans the same range for each µ;
    # µ up to 0.999 as in Sutskever et al. (2013)
    "Nesterov": [{"eta": eta, "mu": 0.9} for eta in (0.01, 0.03, 0.1, 0.3)]
                + [{"eta": eta, "mu": 0.99} for eta in (1e-3, 3e-3, 1e-2, 3e-2)]
                + [{"eta": eta, "mu": 0.999} for eta in (1e-4, 3e-4, 1e-3, 3e-3)],
    "Adam": [{"eta": eta} for eta in (1e-3, 3e-3, 1e-2, 3e-2, 0.1)],
}


def make(name: str, n_examples: int, **setting):
    """The optimizer ``name`` of the race with one setting of its grid."""
    if name == "Hessian-free":
        batch = max(1, int(round(setting["curvature_fraction"] * n_examples)))
        return HessianFree(lam=setting["lam"], curvature="gauss-newton",
                           curvature_batch=batch if batch < n_examples else None)
    if name == "L-BFGS":
        return LBFGS(m=setting["m"])
    if name == "Nesterov":
        return Nesterov(eta=setting["eta"], mu=setting["mu"])
    if name == "Adam":
        return Adam(eta=setting["eta"], beta1=0.9, beta2=0.999, eps=1e-8)
    raise ValueError(f"autoencoder_race.make({name!r}): the racers are {', '.join(GRIDS)}.")


class Meter:
    """The autoencoder, with every call an optimizer makes charged to ``spent`` (gradient-
    equivalents, `COSTS`); ``batch(rows)`` returns a Meter of the sub-problem on the same
    account. Everything else (dim, x0, n_examples, …) is the problem's."""

    def __init__(self, problem, account=None, total: Optional[int] = None):
        self._p = problem
        self._account = {"spent": 0.0} if account is None else account
        self._share = 1.0 if total is None else problem.n_examples / total

    def __getattr__(self, name):
        return getattr(self._p, name)

    @property
    def spent(self) -> float:
        return self._account["spent"]

    def _charge(self, what):
        self._account["spent"] += COSTS[what] * self._share

    def f(self, theta):
        self._charge("f")
        return self._p.f(theta)

    def grad(self, theta):
        self._charge("grad")
        return self._p.grad(theta)

    def value_and_grad(self, theta):
        self._charge("value_and_grad")
        return self._p.value_and_grad(theta)

    def gnvp(self, theta, v):
        before = self._p._cache
        out = self._p.gnvp(theta, v)
        self._charge("gnvp")
        if self._p._cache is not before:
            self._charge("gnvp_forward")
        return out

    def batch(self, rows):
        total = self._p.n_examples / self._share
        return Meter(self._p.batch(rows), self._account, total=int(round(total)))


class Curve(NamedTuple):
    """One run: the training error at recorded points, the work and wall time to get there."""
    work: np.ndarray     # gradient-equivalents spent, (k,)
    seconds: np.ndarray  # wall time of the optimizer's steps (recording excluded), (k,)
    error: np.ndarray    # excess cross-entropy L − entropy, (k,) or (k, B) for a batch
    steps: int


def train(opt, problem, budget: float, *, theta0=None, records: int = 60,
          progress=None) -> Curve:
    """Run ``opt`` on ``problem`` until ``budget`` gradient-equivalents are spent (or it stops),
    recording the training error at about ``records`` points spaced evenly in log(work).
    θ₀ may hold a batch of runs (B, d) for a batch of settings (hyperparameters (B, 1))."""
    meter = Meter(problem)
    theta = np.array(problem.x0 if theta0 is None else theta0, dtype=float)
    marks = np.unique(np.geomspace(1.0, budget, records))
    work, seconds, error = [0.0], [0.0], [problem.f(theta) - problem.entropy]
    state = opt.init(theta)
    clock, steps, next_mark, recorded = 0.0, 0, 0, 0
    with np.errstate(all="ignore"):
        while meter.spent < budget:
            before = meter.spent
            start = time.perf_counter()
            theta, state = opt.step(theta, state, meter)
            clock += time.perf_counter() - start
            steps += 1
            if progress is not None:
                progress.update(meter.spent - before)
            stopped = bool(np.all(getattr(state, "done", False)))
            bad = ~np.isfinite(theta).all(axis=-1)
            if np.any(bad):  # a diverged run stays diverged: keep it out of the arithmetic
                theta = np.where(bad[..., None], 0.0, theta)
            while next_mark < len(marks) and marks[next_mark] <= meter.spent:
                next_mark += 1
            if next_mark > recorded or stopped or meter.spent >= budget:
                recorded = next_mark
                value = problem.f(theta) - problem.entropy
                work.append(meter.spent)
                seconds.append(clock)
                error.append(np.where(bad, np.inf, value))
                if np.ndim(value) == 0 and not np.isfinite(value):
                    break
            if stopped:
                break
    return Curve(np.array(work), np.array(seconds), np.array(error, dtype=float), steps)


def tune(name: str, problem, budget: float, progress=None) -> tuple:
    """Every setting of ``GRIDS[name]`` to ``budget``: (the best setting, each one's final
    training error). Nesterov's and Adam's grids run as one batch (one θ row per setting)."""
    grid = GRIDS[name]
    n = problem.n_examples
    if name in ("Nesterov", "Adam"):
        keys = grid[0].keys()
        batched = {k: np.array([s[k] for s in grid], dtype=float)[:, None] for k in keys}
        opt = make(name, n, **batched)
        theta0 = np.broadcast_to(problem.x0, (len(grid), problem.dim))
        curve = train(opt, problem, budget, theta0=theta0, progress=progress)
        finals = [float(e) for e in curve.error[-1]]
    else:
        finals = [float(train(make(name, n, **s), problem, budget, progress=progress).error[-1])
                  for s in grid]
    finals = [e if np.isfinite(e) else np.inf for e in finals]
    return grid[int(np.argmin(finals))], finals


def _curve_json(curve: Curve) -> dict:
    return {"work": curve.work.tolist(), "seconds": curve.seconds.tolist(),
            "error": [float(e) if np.isfinite(e) else None for e in curve.error],
            "steps": curve.steps}


def race(budget: float = 10_000, tune_budget: float = 2_000, examples: Optional[int] = None,
         seed: int = 0, settings: Optional[dict] = None, progress: bool = True,
         seeds=None) -> dict:
    """Tune each racer at ``tune_budget`` from the initialisation ``seed`` (unless ``settings``
    gives them), then run each tuned setting to ``budget`` from every initialisation in
    ``seeds`` (default: ``seed`` alone); returns what `main` writes (plain lists, JSON-ready):
    ``curves`` are the runs from ``seed``, ``curves_by_seed`` all of them.

    ``examples``: train on the first this many training digits (default: all 1,347)."""
    from tqdm.auto import tqdm
    digits = load_digits()
    X = digits.X_train if examples is None else digits.X_train[:examples]
    seeds = [seed] if seeds is None else list(dict.fromkeys([seed, *seeds]))
    problems = {s_: deep_autoencoder(X, rng=np.random.default_rng(s_)) for s_ in seeds}
    problem = problems[seed]
    names = list(GRIDS)
    total = budget * len(names) * len(seeds) + (
        0 if settings else tune_budget * sum(map(len, GRIDS.values())))
    bar = tqdm(total=total, desc="autoencoder race", unit="grad-eq", disable=not progress)
    out = {"budget": budget, "tune_budget": tune_budget, "examples": len(X), "seed": seed,
           "seeds": seeds, "layers": list(problem.layers), "dim": int(problem.dim),
           "entropy": problem.entropy, "costs": COSTS, "grids": GRIDS, "tuning": {},
           "settings": {}, "curves": {}, "curves_by_seed": {str(s_): {} for s_ in seeds},
           "initial_error": float(problem.f(problem.x0) - problem.entropy)}
    for name in names:
        if settings and name in settings:
            best = settings[name]
        else:
            best, finals = tune(name, problem, tune_budget, progress=bar)
            out["tuning"][name] = [e if np.isfinite(e) else None for e in finals]
        out["settings"][name] = best
        for s_ in seeds:
            curve = _curve_json(train(make(name, len(X), **best), problems[s_], budget,
                                      progress=bar))
            out["curves_by_seed"][str(s_)][name] = curve
        out["curves"][name] = out["curves_by_seed"][str(seed)][name]
    bar.close()
    return out


# ------------------------------------------------------------------ reading a race's result

def error_at(curve: dict, work: float) -> float:
    """A curve's training error at ``work`` gradient-equivalents, interpolated in log(work)
    between the records around it (a Hessian-free step spends hundreds at once); +inf for a run
    that diverged."""
    w, e = np.array(curve["work"][1:]), curve["error"][1:]
    if any(v is None for v in e):
        return np.inf
    return float(np.interp(np.log(work), np.log(w), np.array(e)))


def final_errors(result: dict) -> dict:
    """Each method's training error at the end of its race."""
    return {name: cv["error"][-1] for name, cv in result["curves"].items()}


def grid_edges(grid: list, best: dict) -> list:
    """The hyperparameters of ``best`` (with 3 or more values tried, the others held at their
    best) whose best value is an end of the grid: a wider search might do better."""
    edges = []
    for key in best:
        values = sorted({s[key] for s in grid
                         if all(s[k] == best[k] for k in best if k != key)})
        if len(values) > 2 and best[key] in (values[0], values[-1]):
            edges.append(f"{key} = {best[key]:g}")
    return edges


def race_figure(result: dict, title: str):
    """Training error against gradient-equivalents (left) and seconds (right), one curve per
    method, labelled with its tuned setting."""
    from . import plots

    fig, (ax_w, ax_s) = plots.new_figure(ncols=2, width=5.4, height=3.7, sharey=True)
    colors = {"Hessian-free": "tab:red", "L-BFGS": "tab:blue", "Nesterov": "tab:green",
              "Adam": "tab:orange"}
    for name, cv in result["curves"].items():
        err = np.array([np.nan if e is None else e for e in cv["error"]])
        work, secs = np.array(cv["work"]), np.array(cv["seconds"])
        setting = ", ".join(f"{k} = {v:g}" for k, v in result["settings"][name].items())
        ax_w.plot(work[1:], err[1:], color=colors[name], label=f"{name} ({setting})")
        ax_s.plot(secs[1:], err[1:], color=colors[name])
    ax_w.set(xscale="log", yscale="log", xlabel="gradient-equivalents",
             ylabel="training error (excess cross-entropy)")
    lo, hi = ax_w.get_ylim()
    ticks = [t for t in (3, 4, 5, 6, 8, 10, 15, 20, 30, 40, 60) if lo <= t <= hi]
    ax_w.set_yticks(ticks, labels=[f"{t:g}" for t in ticks])
    ax_w.yaxis.set_minor_formatter("")
    ax_s.set(xscale="log", xlabel="seconds (this machine)")
    for ax in (ax_w, ax_s):
        ax.grid(alpha=0.3, which="both")
    ax_w.legend(fontsize=7, loc="lower left")
    fig.suptitle(title, fontsize=11)
    return fig


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.autoencoder_race",
        description="Lecture 04: Hessian-free, L-BFGS, Nesterov and Adam, each tuned by a small "
                    "search, on the deep sigmoid autoencoder of the digits.")
    parser.add_argument("--budget", type=float, default=10_000,
                        help="gradient-equivalents per final run (default 10000)")
    parser.add_argument("--tune-budget", type=float, default=2_000,
                        help="gradient-equivalents per setting of the search (default 2000)")
    parser.add_argument("--examples", type=int, default=None,
                        help="train on the first N training digits (default: all 1347)")
    parser.add_argument("--seed", type=int, default=0,
                        help="the initialisation the search tunes on (default 0)")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2],
                        help="initialisations the tuned settings race from (default 0 1 2)")
    parser.add_argument("--out", default=None,
                        help=f"where to write the JSON (default: course_lib/results/{RESULT})")
    args = parser.parse_args(argv)
    if args.budget <= 0 or args.tune_budget <= 0:
        parser.error("--budget and --tune-budget must be positive numbers of "
                     "gradient-equivalents, e.g. --budget 10000 --tune-budget 2000")
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):  # small matrices: one BLAS thread is faster, and fair to all
        result = race(args.budget, args.tune_budget, args.examples, args.seed,
                      seeds=args.seeds)
    result["command"] = "python -m course_lib.autoencoder_race " + " ".join(
        sys.argv[1:] if argv is None else argv)
    result["machine"] = f"{platform.machine()}, {platform.processor() or 'cpu'}, " \
                        f"python {platform.python_version()}, numpy {np.__version__}"
    if args.out is None:
        from .results import DIR
        out = DIR / RESULT
    else:
        from pathlib import Path
        out = Path(args.out)
    out.write_text(json.dumps(result, indent=1))
    best = {n: c["error"][-1] for n, c in result["curves"].items()}
    print(f"wrote {out}; training error at {args.budget:g} gradient-equivalents: "
          + ", ".join(f"{n} {e:.3f}" if e is not None else f"{n} diverged"
                      for n, e in best.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
