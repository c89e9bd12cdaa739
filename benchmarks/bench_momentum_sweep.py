"""The (η, µ) convergence map of heavy-ball momentum: a 200 × 200 grid of settings × 100 steps on
the 2-D quadratic with condition number 100, batched through the public API, against a
hand-fused numpy loop and against a Python loop of one `run` per setting.

On a quadratic, heavy ball is stable for η < 2(1 + µ)/λmax. The grid spans η from 1e-4 to
4/λmax and µ from 0 to 0.99, so about a quarter of the runs diverge (the notebook's map) and the
divergence bookkeeping is part of the work.
"""
from __future__ import annotations

import numpy as np

from benchmarks.harness import Row, Timing, check_same_outputs, fused_quadratic_sweep, time_pair

FULL_SIDE, QUICK_SIDE = 200, 64          # grid side: 200 × 200 = 40,000 settings
FULL_LOOP, QUICK_LOOP = 2_000, 200       # settings run one at a time in the Python-loop row
STEPS = 100
KAPPA = 100.0
MU_MAX = 0.99
GOAL = 2.0  # course_lib may cost at most twice the best plain numpy
SEED = 0    # which settings the Python-loop row samples


def grid(problem, side):
    """The flattened (η, µ) meshgrid: η linearly from 1e-4 to 4/λmax, µ from 0 to MU_MAX."""
    lam_max = float(np.max(problem.eigenvalues))
    E, M = np.meshgrid(np.linspace(1e-4, 4.0 / lam_max, side), np.linspace(0.0, MU_MAX, side))
    return E.ravel(), M.ravel()


def course_lib_sweep(problem, etas, mus, steps):
    """The map as a student writes it: one batched `run` of Momentum over every setting."""
    from course_lib.optim import Momentum, run

    theta0 = np.broadcast_to(problem.x0, (etas.size, 2))
    trace = run(Momentum(eta=etas[:, None], mu=mus[:, None]), problem, theta0, steps,
                keep_thetas=False)
    return trace.losses, trace.theta, trace.diverged_at


def course_lib_loop(problem, etas, mus, steps):
    """The map as a Python loop: one `run` of Momentum(η, µ) per setting, scalars throughout."""
    from course_lib.optim import Momentum, run

    n = etas.size
    losses = np.empty((steps + 1, n))
    theta = np.empty((n, 2))
    diverged_at = np.empty(n, dtype=int)
    for i, (eta, mu) in enumerate(zip(etas.tolist(), mus.tolist())):
        trace = run(Momentum(eta=eta, mu=mu), problem, problem.x0, steps, keep_thetas=False)
        losses[:, i], theta[i], diverged_at[i] = trace.losses, trace.theta, trace.diverged_at
    return losses, theta, diverged_at


def fused_sweep(A, x0, etas, mus, steps, divergence=1e8):
    """The same map, as fast as plain numpy goes: the same outputs as `run`.

    Returns losses (steps+1, B) with nan from a run's divergence on, the final θ (B, 2) (nan
    for diverged runs) and the step at which each run diverged (−1 if it did not), where a run
    diverges once |f(θ_t)| > divergence · (1 + |f(θ₀)|) or f stops being finite.

    What makes it fast (as in bench_gd_sweep.fused_sweep):
    - θ and the velocity m are stored coordinate-major, (2, B): h = ½Aθ is one small matrix
      product and every ufunc streams through long contiguous rows;
    - h is computed once per step and serves both the loss f(θ_t) = θ_t·h and the next update
      m ← µm − 2η h, θ ← θ + m (scaling by ½ and 2 is exact: the numbers equal η·Aθ's);
    - every operation writes into preallocated buffers (out=), nothing is allocated per step;
    - only runs that diverge at this step are touched (nan stays nan by itself afterwards:
      a dead run's m turns nan at its next step, as it does in `run`).
    """
    m = np.zeros((2, etas.size))
    two_eta = 2.0 * etas
    mu = np.ascontiguousarray(mus, dtype=float)

    def momentum_step(theta, h, buf):
        np.multiply(m, mu, out=m)               # µ m
        np.multiply(h, two_eta, out=buf)        # η ∇f(θ) = 2η · ½Aθ
        np.subtract(m, buf, out=m)              # m ← µ m − η ∇f(θ)
        np.add(theta, m, out=theta)             # θ ← θ + m

    return fused_quadratic_sweep(A, x0, etas.size, steps, momentum_step, divergence)


def _setup(quick):
    from course_lib.problems import quadratic

    side = QUICK_SIDE if quick else FULL_SIDE
    p = quadratic(kappa=KAPPA)
    etas, mus = grid(p, side)
    return p, side, etas, mus


def bench_momentum_map(quick: bool = False, repeat: int = 7):
    p, side, etas, mus = _setup(quick)
    n = etas.size

    ours = course_lib_sweep(p, etas, mus, STEPS)
    check_same_outputs(ours, fused_sweep(p.A, p.x0, etas, mus, STEPS))
    n_div = int(np.count_nonzero(ours[2] >= 0))

    timing = time_pair(lambda: course_lib_sweep(p, etas, mus, STEPS),
                       lambda: fused_sweep(p.A, p.x0, etas, mus, STEPS), repeat=repeat)
    return [Row(
        name=f"Momentum (η, µ) map, {side}×{side} settings × {STEPS} steps (κ = {KAPPA:g})",
        measured=timing.measured,
        reference_name="hand-fused numpy loop",
        reference=timing.reference,
        goal=GOAL,
        description=(
            f"`run(Momentum(eta=E[:, None], mu=M[:, None]), quadratic(kappa={KAPPA:g}), θ0 of "
            f"shape ({n}, 2), {STEPS}, keep_thetas=False)` with E, M the flattened {side}×{side} "
            f"meshgrid (η linear from 1e-4 to 4/λmax, µ linear from 0 to {MU_MAX:g}), against "
            f"`benchmarks/bench_momentum_sweep.py:fused_sweep` (coordinate-major (2, B) θ and m, "
            f"in-place ufuncs, one ½Aθ per step serving both the loss and the update). "
            f"{n_div:,} of {n:,} runs diverge. Both produce the same losses "
            f"({STEPS + 1}×{n:,}), final θ and divergence steps (checked before timing)."),
        timing=timing,
    )]


def bench_momentum_map_loop(quick: bool = False, repeat: int = 7):
    p, side, etas, mus = _setup(quick)
    n = etas.size
    k = QUICK_LOOP if quick else FULL_LOOP
    pick = np.sort(np.random.default_rng(SEED).choice(n, size=k, replace=False))
    scale = n / k

    batched = course_lib_sweep(p, etas, mus, STEPS)
    looped = course_lib_loop(p, etas[pick], mus[pick], STEPS)
    losses, theta, diverged_at = batched
    check_same_outputs((losses[:, pick], theta[pick], diverged_at[pick]), looped)
    n_div = int(np.count_nonzero(looped[2] >= 0))

    t = time_pair(lambda: course_lib_sweep(p, etas, mus, STEPS),
                  lambda: course_lib_loop(p, etas[pick], mus[pick], STEPS), repeat=repeat)
    # The loop's time is linear in the number of settings: scale the subset's up to all n.
    timing = Timing(t.measured, t.reference * scale, t.measured_runs,
                    [s * scale for s in t.reference_runs])
    return [Row(
        name=f"Momentum (η, µ) map, {side}×{side} settings × {STEPS} steps: one batched run "
             f"vs a Python loop of runs",
        measured=timing.measured,
        reference_name=f"Python loop of {n:,} `run`s (extrapolated from {k:,})",
        reference=timing.reference,
        goal=None,
        show_speedup=True,
        description=(
            f"The batched `run` of the row above against `for eta, mu in zip(E, M): "
            f"run(Momentum(eta, mu), p, p.x0, {STEPS}, keep_thetas=False)` (scalar η, µ; θ of "
            f"shape (2,)). The loop is timed on {k:,} settings drawn at random (seed {SEED}) "
            f"from the {n:,} of the grid ({n_div:,} of them diverge, so their runs stop early as "
            f"the full loop's would) and its time scaled linearly by {n:,}/{k:,} = "
            f"{scale:g}; the calls listed for the reference are scaled the same way. On those "
            f"settings the loop and the batched run give the same losses, final θ and "
            f"divergence steps (checked before timing). No goal: the row shows what batching "
            f"buys (speed-up = loop / batched)."),
        timing=timing,
    )]
