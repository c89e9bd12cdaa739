"""Lecture 05a's explorer: one optimizer on one 1-D unit test, its 10 repetitions, and how the
paper's scoring classes the result against SGD tuned on the same test.

    unit_test_explorer(test="quad_bowl-normal-gauss_add_0.1", optimizer="Adam", eta=0.1)

Left: the test's landscape f(x) (noise-free, as it is at the start), the start, the path of the
first repetition and where all ten end. Right: f(θ_t) − f₀ for the ten repetitions and their
median, with tuned SGD's median change dashed: the score is the median's share of it. Every
optimizer runs with the settings of `SETTINGS` and the step size of the slider (for Adadelta,
which has no step size, the slider sets ε: its first step is about √(ε/(1 − ρ))). The runs
are the harness's: 10 repetitions × 100 steps from seed 0, so a setting that is in a grid
gives the numbers of the shipped table.
"""
from __future__ import annotations

import math

import ipywidgets as W
import numpy as np

from .. import plots
from ..optim import SGD, Adadelta, Adagrad, Adam, Momentum, Nesterov, RMSprop, run
from ..widgets import LiveFigure, log_slider
from . import catalogue, scoring
from .harness import GRIDS, REFERENCE, REPETITIONS, STEPS, annealed_sgd, run_batch

__all__ = ["SETTINGS", "TESTS", "unit_test_explorer", "runs", "scored_runs", "tuned_sgd_change"]

#: each optimizer as a function of the slider's value (the step size η; ε for Adadelta)
SETTINGS = {
    "SGD": lambda eta: SGD(eta),
    "annealed SGD": lambda eta: annealed_sgd(eta, 0.1),
    "momentum": lambda eta: Momentum(eta, 0.9),
    "Nesterov": lambda eta: Nesterov(eta, 0.9),
    "Adagrad": lambda eta: Adagrad(eta, 1e-8),
    "RMSprop": lambda eta: RMSprop(eta, 0.9, 1e-8),
    "Adadelta": lambda eps: Adadelta(0.9, eps),
    "Adam": lambda eta: Adam(eta, 0.9, 0.999, 1e-8),
}
SETTING_TEXT = {"SGD": "", "annealed SGD": "η_t = η/(1 + 0.1 t)", "momentum": "µ = 0.9",
                "Nesterov": "µ = 0.9", "Adagrad": "ε = 1e-8", "RMSprop": "ρ = 0.9",
                "Adadelta": "ρ = 0.9; the slider sets ε", "Adam": "β₁ = 0.9, β₂ = 0.999"}
#: the one-dimensional tests of the quick subset
TESTS = tuple(n for n in catalogue.QUICK if catalogue.case(n).dim == 1)
_SGD_CHANGE: dict = {}


def tuned_sgd_change(test: str, seed: int = 0) -> float:
    """Tuned SGD's median change f − f₀ on the test: the yardstick of the scores (nan when no
    rate improves on the start)."""
    key = (test, seed)
    if key not in _SGD_CHANGE:
        reference = next(g for g in GRIDS if g.name == REFERENCE)
        out = run_batch([test], (reference,), REPETITIONS, STEPS, seed)
        change = scoring.median_change(out[REFERENCE], out["f0"][:, None])
        _SGD_CHANGE[key] = float(scoring.reference_change(change)[0])
    return _SGD_CHANGE[key]


def runs(test: str, optimizer: str, value: float, seed: int = 0):
    """(problem, trace) of the optimizer on the 1-D test: 10 repetitions × 100 steps, the
    harness's runs (the same random numbers)."""
    case = catalogue.case(test)
    if case.dim != 1:
        raise ValueError(f"the explorer draws 1-D tests; {test!r} has {case.dim} dimensions. "
                         f"Try one of {', '.join(TESTS)}.")
    if optimizer not in SETTINGS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of "
                         f"{', '.join(SETTINGS)}.")
    problem = case.problem(repetitions=REPETITIONS, seed=seed)
    with np.errstate(all="ignore"):
        trace = run(SETTINGS[optimizer](value), problem, problem.start(), STEPS,
                    divergence=math.inf)
    return problem, trace


def scored_runs(test: str, optimizer: str, value: float, seed: int = 0) -> dict:
    """`runs`, scored as the harness scores them: {"problem", "trace", "class", "score",
    "median_change", "reference"} (the reference is tuned SGD's median change)."""
    problem, trace = runs(test, optimizer, value, seed)
    f0 = trace.losses[0, 0]
    reference = tuned_sgd_change(test, seed)
    score, _, label = scoring.classify(trace.losses[-1][None], np.array([f0]),
                                       np.array([reference]))
    return {"problem": problem, "trace": trace, "class": label[0], "score": float(score[0]),
            "median_change": float(scoring.median_change(trace.losses[-1], f0)),
            "reference": reference}


def unit_test_explorer(test: str = "quad_bowl-normal-gauss_add_0.1", optimizer: str = "Adam",
                       eta: float = 0.1) -> LiveFigure:
    """The explorer (see the module's docstring): controls for the test (the quick subset's
    1-D tests), the optimizer and its step size (log scale, 1e-4 … 10)."""
    if test not in TESTS:
        raise ValueError(f"unit_test_explorer(test={test!r}): choose one of {', '.join(TESTS)}.")
    fig, (ax_f, ax_t) = plots.new_figure(ncols=2, width=5.4, height=3.7)
    steps = np.arange(STEPS + 1)
    state = {"live": None, "alt": ""}

    def describe(test, optimizer, value, verdict, median_change, reference):
        knob = "ε" if optimizer == "Adadelta" else "η"
        return (f"{optimizer} with {knob} = {value:.3g} ({SETTING_TEXT[optimizer] or 'plain'}) "
                f"on the unit test {test}, 10 repetitions of 100 steps. Left: the landscape "
                "f(x) in black with the start as a black dot, the first repetition's path as "
                "small orange dots and where the ten repetitions end as large red dots. Right: "
                "f minus its start value against the step, one thin line per repetition, their "
                f"median thick; tuned SGD's median change ({reference:.3g}) dashed. The "
                f"median change is {median_change:.3g}: {verdict}.")

    def update(test, optimizer, eta):
        result = scored_runs(test, optimizer, eta)
        case = result["problem"].cases[0]
        sc = case.scales[0]
        losses = result["trace"].losses                       # (steps + 1, R)
        thetas = result["trace"].thetas[..., 0]               # (steps + 1, R)
        f0 = float(losses[0, 0])
        reference, median_change = result["reference"], result["median_change"]
        verdict = (result["class"] + (f", score {result['score']:.2f} of tuned SGD's "
                                      "improvement" if np.isfinite(result["score"]) else ""))
        ax_f.clear()
        ax_t.clear()
        finite = np.isfinite(thetas)
        lo = min(sc.xs, np.min(thetas[finite], initial=sc.xs))
        hi = max(sc.xe, np.max(thetas[finite], initial=sc.xe))
        pad = 0.1 * (hi - lo)
        lo, hi = max(lo - pad, sc.xs - 50 * (sc.xe - sc.xs)), min(hi + pad,
                                                                 sc.xe + 50 * (sc.xe - sc.xs))
        x = np.linspace(lo, hi, 500)
        curve = case.shapes[0].build(sc.xs, sc.xe, sc.fs, sc.fprime)
        ax_f.plot(x, curve.value(x), color="black", lw=1.5)
        # the first repetition's path, drawn above the curve so that it shows on it
        ax_f.plot(thetas[:, 0], losses[:, 0], "o", color="tab:orange", ms=4, mec="tab:red",
                  mew=0.6, alpha=0.8, zorder=3)
        ax_f.plot(thetas[-1], losses[-1], "o", color="tab:red", ms=7, mec="white", zorder=4)
        ax_f.plot([sc.xs], [sc.fs], "o", color="black", ms=7, zorder=5)
        ax_f.set(xlabel="x", ylabel="f", xlim=(lo, hi))
        ax_f.set_title(test, fontsize=9)
        changes = losses - f0
        ax_t.plot(steps, changes, color="tab:red", lw=0.7, alpha=0.4)
        with np.errstate(all="ignore"):
            ax_t.plot(steps, np.median(scoring.clamp(losses), axis=1) - f0, color="tab:red",
                      lw=2.2, label=f"{optimizer}, median")
        if np.isfinite(reference):
            ax_t.axhline(reference, color="black", ls="--", lw=1.2, label="tuned SGD, median")
        shown = np.concatenate([changes[np.isfinite(changes)], [0.0],
                                [reference] if np.isfinite(reference) else []])
        low, high = np.clip([shown.min(), shown.max()], -scoring.HUGE, scoring.HUGE)
        margin = 0.05 * (high - low) or 1.0
        ax_t.set_ylim(low - margin, high + margin)
        ax_t.set(xlabel="step $t$", ylabel=r"$f(\theta_t) - f_0$")
        knob = "ε" if optimizer == "Adadelta" else "η"
        ax_t.set_title(f"{optimizer}, {knob} = {eta:.3g}: {verdict}", fontsize=9)
        ax_t.legend(loc="best", fontsize=8)
        ax_t.grid(alpha=0.3)
        state["alt"] = describe(test, optimizer, eta, verdict, median_change, reference)
        if state["live"] is not None:
            state["live"].alt = state["alt"]

    controls = {
        "test": W.Dropdown(options=list(TESTS), value=test, description="unit test",
                           style={"description_width": "initial"},
                           layout=W.Layout(width="520px")),
        "optimizer": W.Dropdown(options=list(SETTINGS), value=optimizer,
                                description="optimizer", style={"description_width": "initial"}),
        "eta": log_slider("step size η (ε for Adadelta)", eta, 1e-4, 10.0),
    }
    live = LiveFigure(fig, update, controls, alt="")
    live.alt, state["live"] = state["alt"], live
    return live
