"""The lecture-02 explorer's slider callback: compute GD, momentum and Nesterov trajectories,
update the artists, draw (Agg). The explorer blits: the contours and axes are rendered once
into a background, and a slider move draws only the paths, curves and texts on top of it.

Goal: median ≤ 25 ms per callback. Reference: the same callback followed by a full redraw of
the figure (what it would cost without blitting), measured in the same process.
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
