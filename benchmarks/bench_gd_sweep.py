"""A step-size sweep of gradient descent: 40,000 values of η × 100 steps on the 2-D quadratic
with condition number 100, batched through the public API, against a hand-fused numpy loop.

The sweep spans η from 1e-4 to 2.2/λmax, past the stability limit 2/λmax = 0.02, so the runs
with the largest η diverge and the divergence bookkeeping is part of the work.
"""
from __future__ import annotations

import numpy as np

from benchmarks.harness import Row, check_same_outputs, fused_quadratic_sweep, time_pair

FULL_RUNS, QUICK_RUNS = 40_000, 4_000
STEPS = 100
KAPPA = 100.0
GOAL = 2.0  # course_lib may cost at most twice the best plain numpy


def course_lib_sweep(problem, etas, steps):
    """The sweep as a student writes it: one batched `run` of SGD."""
    from course_lib.optim import SGD, run

    theta0 = np.broadcast_to(problem.x0, (etas.size, 2))
    trace = run(SGD(eta=etas[:, None]), problem, theta0, steps, keep_thetas=False)
    return trace.losses, trace.theta, trace.diverged_at


def fused_sweep(A, x0, etas, steps, divergence=1e8):
    """The same sweep, as fast as plain numpy goes: the same outputs as `run`.

    Returns losses (steps+1, B) with nan from a run's divergence on, the final θ (B, 2) (nan
    for diverged runs) and the step at which each run diverged (−1 if it did not), where a run
    diverges once |f(θ_t)| > divergence · (1 + |f(θ₀)|) or f stops being finite.

    What makes it fast:
    - θ is stored coordinate-major, (2, B): each coordinate contiguous over the runs, so
      h = ½Aθ is one small matrix product and every ufunc streams through long rows;
    - h is computed once per step and serves both the loss f(θ_t) = θ_t·h and the next update
      θ_{t+1} = θ_t − 2η h (scaling by ½ and 2 is exact, so the numbers equal η·Aθ's);
    - every operation writes into preallocated buffers (out=), nothing is allocated per step;
    - only runs that diverge at this step are touched (nan stays nan by itself afterwards).
    """
    two_eta = 2.0 * etas

    def gd_step(theta, h, buf):
        np.multiply(h, two_eta, out=buf)        # η ∇f(θ) = 2η · ½Aθ
        np.subtract(theta, buf, out=theta)      # θ ← θ − η ∇f(θ)

    return fused_quadratic_sweep(A, x0, etas.size, steps, gd_step, divergence)


def bench_gd_sweep(quick: bool = False, repeat: int = 7):
    from course_lib.problems import quadratic

    n = QUICK_RUNS if quick else FULL_RUNS
    p = quadratic(kappa=KAPPA)
    lam_max = float(np.max(p.eigenvalues))
    etas = np.linspace(1e-4, 2.2 / lam_max, n)

    ours = course_lib_sweep(p, etas, STEPS)
    ref = fused_sweep(p.A, p.x0, etas, STEPS)
    check_same_outputs(ours, ref)
    n_div = int(np.count_nonzero(ours[2] >= 0))

    timing = time_pair(lambda: course_lib_sweep(p, etas, STEPS),
                       lambda: fused_sweep(p.A, p.x0, etas, STEPS), repeat=repeat)
    return [Row(
        name=f"GD step-size sweep, {n:,} η × {STEPS} steps (κ = {KAPPA:g})",
        measured=timing.measured,
        reference_name="hand-fused numpy loop",
        reference=timing.reference,
        goal=GOAL,
        description=(
            f"`run(SGD(eta=etas[:, None]), quadratic(kappa={KAPPA:g}), θ0 of shape ({n}, 2), "
            f"{STEPS}, keep_thetas=False)` against `benchmarks/bench_gd_sweep.py:fused_sweep` "
            f"(coordinate-major (2, B) buffers, in-place ufuncs, one ½Aθ per step serving both "
            f"the loss and the update). η from 1e-4 to 2.2/λmax; {n_div:,} of {n:,} runs diverge. Both "
            f"produce the same losses ({STEPS + 1}×{n:,}), final θ and divergence steps "
            f"(checked before timing)."),
        timing=timing,
    )]
