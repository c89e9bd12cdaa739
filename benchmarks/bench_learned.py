"""Lecture 05b: meta-training the LSTM optimizer (Andrychowicz et al. 2016) on one core, and
what the result is worth on held-out quadratics.

Goals (issue 12): meta-training takes at most 2 minutes of single-core time, and on each
held-out set of 1,000 10-D quadratics (seeds never used in training or tuning) the learned
optimizer's mean f(θ₁₀₀) is ≤ 0.55× and its median ≤ 0.2× those of Adam with its learning
rate tuned on the training family.

The training is the shipped weights' command, `python -m course_lib.learned train --seed 0
--seconds 120` (a budget of 120 s of process CPU time, threads pinned to 1), run
in this process, measured on the 25 held-out sets of `report.MORE_TEST_SEEDS` (average and
worst reported: meta-training runs differ, and so do 1,000-function sets); the quick size
takes 50 meta-steps and 5 sets instead and has no goal. A second row times the
trained optimizer's 100 steps on 1,000 functions against tuned Adam's on the same functions.
"""
from __future__ import annotations

import os

import numpy as np

from benchmarks.harness import Row, Timing, time_pair
from course_lib.learned.meta import GOAL, meets_goal

LIMIT = 120.0
MEAN_GOAL, MEDIAN_GOAL = GOAL["mean"], GOAL["median"]
QUICK_META_STEPS = 50


def _load() -> str:
    try:
        return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def bench_learned(quick: bool = False, repeat: int = 7):
    from threadpoolctl import threadpool_limits

    from course_lib.learned import LearnedOptimizer, meta, report
    from course_lib.learned import baselines as B
    from course_lib.learned import quadratics as Q

    load_before = _load()
    with threadpool_limits(limits=1):
        result = meta.train(0, config=meta.Config(),
                            meta_steps=QUICK_META_STEPS if quick else None,
                            seconds=None if quick else LIMIT, progress=False)
        etas = report.tuned_baselines(names=("Adam",))
        opt = LearnedOptimizer(result.params)
        seeds = report.TEST_SEEDS if quick else report.MORE_TEST_SEEDS
        held = [report.ratios(opt, s, etas["Adam"]) for s in seeds]
        q = Q.sample(1000, report.TEST_SEEDS[0], split="test")
        t = time_pair(lambda: report.final_losses(opt, q),
                      lambda: B.final_losses("Adam", etas["Adam"], q, record_every=100),
                      repeat=max(repeat, 5))
    load_after = _load()
    shared = (f"The machine was shared with other work ({load_before} before, {load_after} "
              f"after, on {os.cpu_count()} cores): wall time is an upper bound; CPU time "
              "counts this process only.")
    ratios = "; ".join(f"seed {r['seed']}: mean {r['mean_ratio']:.3f}, median "
                       f"{r['median_ratio']:.3f}" for r in held)
    means = np.array([r["mean_ratio"] for r in held])
    medians = np.array([r["median_ratio"] for r in held])
    worst_mean, worst_median = means.max(), medians.max()
    met = np.sum(meets_goal(means, medians))
    what = f"{QUICK_META_STEPS} meta-steps (quick)" if quick else "the 2-minute budget"
    cpu = Timing(result.cpu_seconds, result.wall_seconds, [result.cpu_seconds],
                 [result.wall_seconds])
    return [
        Row(name=f"Meta-training the LSTM optimizer, {what}: process CPU time (goal ≤ 2 min); "
                 f"ratios to tuned Adam on {len(held)} held-out sets, mean "
                 f"{means.mean():.2f} (worst {worst_mean:.2f}; goal ≤ {MEAN_GOAL}), median "
                 f"{medians.mean():.2f} (worst {worst_median:.2f}; goal ≤ {MEDIAN_GOAL})",
            measured=result.cpu_seconds, reference_name="its wall time",
            reference=result.wall_seconds, goal=None, limit=None if quick else LIMIT,
            description=(
                "`course_lib.learned.meta.train(0, Config(), seconds=120)` "
                "with one BLAS thread: "
                f"{result.meta_steps} meta-steps (segments of 20 optimizee steps, batch of "
                f"{result.config.batch} functions, raw gradients, each segment's meta-loss "
                f"over the batch's mean loss at its start), checkpoint of meta-step "
                f"{result.best_step} chosen on the tuning set"
                + (f", its {result.config.shortlist} best measured again on "
                   f"{result.config.choice_functions:,} functions (meta-steps "
                   f"{', '.join(str(c[0]) for c in result.choice)})" if result.choice else "")
                + ". Final loss after 100 steps, "
                f"learned / Adam (η = {etas['Adam']:.3g}, tuned on the training family), "
                f"1,000 held-out functions per seed: {ratios}. Both goals met on {met} of "
                f"the {len(held)} sets{' (quick size: no goal)' if quick else ''}. {shared}"),
            timing=cpu),
        Row(name="The trained LSTM optimizer: 100 steps on 1,000 quadratics vs tuned Adam",
            measured=t.measured, reference_name="course_lib.optim.Adam, same functions",
            reference=t.reference, goal=None,
            description=(
                "`report.final_losses` (the LSTM's 2 layers × 4 gates for 10,000 coordinates "
                "per step) against `run(Adam(η), ...)` on the same 1,000 functions: what a "
                "learned step costs beside a hand-designed one. " + shared),
            timing=t),
    ]
