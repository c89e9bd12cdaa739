"""The lecture-02 explorer's slider callback: compute GD, momentum and Nesterov trajectories,
update the artists, draw (Agg). The explorer blits: the contours and axes are rendered once
into a background, and a slider move draws only the paths, curves and texts on top of it.

Goal: median ≤ 25 ms per callback. Reference: the same callback followed by a full redraw of
the figure (what it would cost without blitting), measured in the same process.

Two rows without a goal show what the LiveFigure saves beyond blitting: a rescaled loss axis
drawn again alone (against the full laid-out redraw), and a problem-menu change drawn once
(against once per control it resets).
"""
from __future__ import annotations

import os
import statistics
import time

import numpy as np

from benchmarks.harness import Row, Timing

LIMIT = 0.025  # seconds, median per slider move


def _callbacks(live, etas, full_redraw):
    times = []
    for eta in etas:
        values = {**live.values(), "eta": float(eta)}
        t0 = time.perf_counter()
        changed = live._update(**values)
        if full_redraw:
            live.fig.canvas.draw()
        else:
            live.render(changed)
        times.append(time.perf_counter() - t0)
    return times


def bench_slider(quick: bool = False, repeat: int = 7):
    os.environ.setdefault("MPLBACKEND", "Agg")
    from course_lib.explorers import momentum_explorer

    live = momentum_explorer(problem="quadratic", kappa=10.0)
    live.render()  # the background, once, as when the notebook first shows the figure
    moves = np.geomspace(0.005, 0.3, 11 if quick else 3 * repeat + 1)
    _callbacks(live, moves[:3], False)  # warm-up
    blitted = _callbacks(live, moves, False)
    # a full draw renders the animated artists too only when they are not marked animated
    for artist in live.animated:
        artist.set_animated(False)
    full = _callbacks(live, moves, True)
    for artist in live.animated:
        artist.set_animated(True)
    timing = Timing(statistics.median(blitted), statistics.median(full), blitted, full)
    return [Row(
        name="Slider callback of the momentum explorer (3 trajectories, update, draw)",
        measured=timing.measured,
        reference_name="same callback with a full redraw",
        reference=timing.reference,
        goal=None,
        limit=LIMIT,
        description=(
            f"`course_lib.explorers.momentum_explorer()` on the κ = 10 quadratic: for each of "
            f"{len(moves)} step sizes η from 0.005 to 0.3, the slider's update (three `run`s of "
            f"100 steps, artists' data, texts with theory and measured rates) and the blitted "
            f"draw on the Agg canvas; median over the moves. PNG encoding for the notebook "
            f"display is not included."),
        timing=timing,
    )]


def bench_slider_rescale(quick: bool = False, repeat: int = 7):
    """A loss axis that follows its curves gets new limits: that axis alone drawn again into
    the blitted background, against the full laid-out redraw it cost before."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    from benchmarks.harness import time_pair
    from course_lib.explorers import momentum_explorer

    live = momentum_explorer(problem="quadratic", kappa=10.0)
    ax_loss = live.fig.axes[1]
    # limits as wide as the curves of η from 0.005 to 0.3 make them; alternating, so that each
    # call draws ticks for limits other than the last call's
    limits = [(1e-13, 1e3), (1e-8, 1e3)]
    state = {"k": 0}

    def rescale(redraw):
        def call():
            ax_loss.set_ylim(*limits[state["k"] % 2])
            state["k"] += 1
            live.render(redraw)
        return call

    live.render([ax_loss])  # the axes' areas measured once, as after a first rescale
    timing = time_pair(rescale([ax_loss]), rescale(True), repeat=max(repeat, 5))
    return [Row(
        name="Momentum explorer: its loss axis rescaled (that axis drawn again) vs a full redraw",
        measured=timing.measured, reference_name="the full laid-out redraw it replaces",
        reference=timing.reference, goal=None, description=(
            "`momentum_explorer()` on the κ = 10 quadratic: new y limits of the loss axis "
            "(alternately 10⁻¹³…10³ and 10⁻⁸…10³, as the curves of η from 0.005 to 0.3 need), "
            "then `LiveFigure.render([ax_loss])`: that axis's area of the blitted background "
            "cleared and the axis alone drawn again in the frozen layout, the animated artists "
            "on top. Reference: `render(True)`, the background laid out (constrained layout) "
            "and drawn in full, what every rescale cost before. No PNG encoding in either."),
        timing=timing)]


def bench_slider_menu(quick: bool = False, repeat: int = 7):
    """Choosing a problem in the momentum explorer's menu resets four sliders: one redraw (the
    LiveFigure batches what the menu's reaction sets) against one redraw per changed control."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    from benchmarks.harness import time_pair
    from course_lib.explorers import MOMENTUM_PROBLEMS, momentum_explorer

    live = momentum_explorer(problem="quadratic", kappa=10.0)
    menu = live.controls["problem"]
    names = list(MOMENTUM_PROBLEMS)
    state = {"k": 0, "frames": []}

    def batched():
        before = live.frames
        state["k"] += 1
        menu.value = names[state["k"] % len(names)]
        state["frames"].append(live.frames - before)

    def one_per_control():
        # before the batching hook: the menu's reaction set η, µ and the start one by one, a
        # redraw each (blitted, of the old problem), then the menu's own redraw drew the new
        # problem's background: one full and four blitted redraws
        state["k"] += 1
        with live.hold():
            menu.value = names[state["k"] % len(names)]
        for _ in range(4):
            live.update()

    timing = time_pair(batched, one_per_control, repeat=max(repeat, 5))
    if set(state["frames"]) != {1}:
        raise AssertionError(f"a problem-menu change drew {state['frames']} frames, not one")
    return [Row(
        name="Momentum explorer: choosing a problem (one redraw) vs one redraw per control it "
             "resets",
        measured=timing.measured, reference_name="five redraws (menu, η, µ, start x, start y)",
        reference=timing.reference, goal=None, description=(
            "`momentum_explorer()`: the problem menu set to the next problem, which resets η, µ "
            "and the start to that problem's defaults; the LiveFigure draws once, for the final "
            "values (checked: one frame per change). Reference: the same change drawn as "
            "before the batching hook, once per control: the new problem's background once and "
            "four blitted redraws. No PNG encoding in either."),
        timing=timing)]
