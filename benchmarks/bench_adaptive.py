"""Lecture 03: the optimizer race rendered to JavaScript HTML, one step of each adaptive optimizer
on a large θ against torch.optim.Adam, and Adam's (η, β1) sensitivity sweep against a
hand-fused numpy loop.

- The race: 7 optimizers × 3 surfaces × 151 frames (steps 0 … 150) through `race.animate` and
  `race.to_html` (blitted frames), against matplotlib's own renderer of the same FuncAnimation
  (`Animation.save` with its HTMLWriter, what `to_jshtml` does: a full redraw per frame),
  timed on every 10th frame and scaled to all of them.
- One step on a float64 θ of 10⁷ elements (10⁶ quick), gradient fixed (only the update is
  timed), against torch.optim.Adam(fused=True) and (foreach=True) on the same data in the
  same process. Adam touches θ, g, m and v and writes θ, m, v: 7 arrays of 8 bytes, the
  56 bytes per element no implementation can avoid; a last row compares Adam's step with
  that floor, from a measured numpy copy (16 bytes per element) scaled by 56/16. Skipped
  without torch, which is not a course dependency.
- The sweep: 10,000 settings of (η, β1) × 100 steps on the 2-D quadratic with condition
  number 100, trajectories and losses recorded, one batched `run` of Adam against a
  hand-fused numpy loop producing the same outputs. Goal: ratio ≤ 2, as lecture 02's sweeps.
"""
from __future__ import annotations

import os

import numpy as np

from benchmarks.harness import Divergence, Row, Timing, check_same_outputs, time_pair

FULL_SIZE, QUICK_SIZE = 10_000_000, 1_000_000     # elements of θ for the one-step rows
FULL_SIDE, QUICK_SIDE = 100, 30                   # (η, β1) grid side: 100 × 100 = 10,000
STEPS = 100
KAPPA = 100.0
GOAL = 2.0
RACE_STEPS = 150
REFERENCE_EVERY = 10   # matplotlib's renderer is timed on every 10th frame, then scaled


# ------------------------------------------------------------------------------ the race

def _race_animation(every: int, steps: int):
    from course_lib import race as R

    tracks = R.tracks(steps)
    races = [R.race(t, R.tune(t)) for t in tracks.values()]
    return R.animate([races], every=every)


def _matplotlib_html(anim, dpi=80):
    """matplotlib's JavaScript HTML of the same FuncAnimation (Animation.save + HTMLWriter,
    which redraws the whole figure for every frame), PNG frames at the same dpi."""
    import tempfile
    from pathlib import Path

    from matplotlib.animation import HTMLWriter

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "race.html"
        anim.animation.save(str(path), writer=HTMLWriter(fps=1000 / anim.interval,
                                                         embed_frames=True), dpi=dpi)
        return path.read_text()


def bench_race_render(quick: bool = False, repeat: int = 7):
    os.environ.setdefault("MPLBACKEND", "Agg")
    from course_lib import race as R

    every = 5 if quick else 1
    anim = _race_animation(every, RACE_STEPS)
    sparse = _race_animation(every * REFERENCE_EVERY, RACE_STEPS)
    n_frames, n_sparse = len(anim.steps), len(sparse.steps)
    alt = "The optimizer race on three surfaces, animated."
    # five repeats (the harness's least): a full race takes seconds on either side
    t = time_pair(lambda: R.to_html(anim, alt), lambda: _matplotlib_html(sparse), repeat=5)
    scale = n_frames / n_sparse
    timing = Timing(t.measured, t.reference * scale, t.measured_runs,
                    [s * scale for s in t.reference_runs])
    html_mb = len(R.to_html(anim, alt)) / 1e6
    return [Row(
        name=f"The race to JavaScript HTML: 7 optimizers × 3 surfaces × {n_frames} frames",
        measured=timing.measured,
        reference_name=f"matplotlib's Animation.save + HTMLWriter (to_jshtml), scaled from "
                       f"{n_sparse} frames",
        reference=timing.reference,
        goal=None,
        show_speedup=True,
        description=(
            f"`race.to_html(race.animate([races], every={every}), alt)`: the three exact-"
            f"gradient races of `race.tracks()` with the tuned step sizes, {n_frames} frames "
            f"(steps 0 … {RACE_STEPS}), backgrounds drawn once and only the 21 paths and "
            f"3 titles blitted per frame, 64-colour PNG frames, {html_mb:.1f} MB of HTML. "
            f"Reference: the same FuncAnimation saved by matplotlib's HTMLWriter (what "
            f"`Animation.to_jshtml` does: a full redraw and a full-colour PNG per frame), "
            f"timed on every {REFERENCE_EVERY}th frame ({n_sparse} frames) and scaled by "
            f"{scale:.1f}. Not in the timing: running and tuning the races."),
        timing=timing,
    )]


# ------------------------------------------------------------------------------ one step

class _FixedGradient:
    """A problem whose gradient is a given array: only the optimizer's update is timed."""

    def __init__(self, g):
        self.g = g

    def grad(self, theta):
        return self.g


def bench_adaptive_step(quick: bool = False, repeat: int = 7):
    try:
        import torch
    except ImportError:
        return []
    from course_lib.optim import AMSGrad, Adadelta, Adagrad, Adam, RMSprop

    n = QUICK_SIZE if quick else FULL_SIZE
    torch.set_num_threads(1)  # numpy's ufuncs use one core: compare like with like
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(n)
    g = rng.standard_normal(n)
    problem = _FixedGradient(g)

    def torch_step(**options):
        p = torch.tensor(theta.copy(), dtype=torch.float64, requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        opt = torch.optim.Adam([p], lr=1e-3, **options)
        opt.step()  # creates the state
        return opt.step

    def course_step(opt):
        state = opt.step(theta, opt.init(theta), problem)[1]
        return lambda: opt.step(theta, state, problem)

    fused, foreach = torch_step(fused=True), torch_step(foreach=True)
    rows = []
    optimizers = (Adagrad(0.01), RMSprop(0.01), Adadelta(), Adam(), AMSGrad())
    for opt in optimizers:
        t = time_pair(course_step(opt), fused, repeat=repeat)
        rows.append(_step_row(f"{type(opt).__name__} step", opt, t,
                              "torch.optim.Adam(fused=True).step()", n))
    adam = course_step(Adam())
    t = time_pair(adam, foreach, repeat=repeat)
    rows.append(_step_row("Adam step", Adam(), t, "torch.optim.Adam(foreach=True).step()", n))

    a, b = np.empty(n), theta.copy()
    t = time_pair(adam, lambda: np.copyto(a, b), repeat=repeat)
    floor = Timing(t.measured, t.reference * 56 / 16, t.measured_runs,
                   [s * 56 / 16 for s in t.reference_runs])
    rows.append(Row(
        name=f"Adam step on {n:,} float64 elements vs the memory-traffic floor",
        measured=floor.measured, reference_name="56 bytes per element at the measured "
        "copy bandwidth", reference=floor.reference, goal=None,
        description=(
            f"`Adam().step(θ, state, problem)` as above, against `np.copyto(a, b)` on {n:,} "
            f"float64 elements (16 bytes per element moved) scaled by 56/16: the time to "
            f"read θ, g, m, v and write θ, m, v once at this machine's copy bandwidth."),
        timing=floor))
    return rows


def _step_row(name, opt, t, reference_name, n):
    return Row(
        name=f"{name} on {n:,} float64 elements", measured=t.measured,
        reference_name=reference_name, reference=t.reference, goal=None,
        description=(
            f"`{opt!r}.step(θ, state, problem)` on θ of {n:,} float64 elements with a fixed "
            f"gradient (the problem hands out a stored array; only the update is timed; the "
            f"state after one step), against `{reference_name}` on the same θ and gradient "
            f"as float64 tensors (the state after one step), torch {_torch_version()} with "
            f"one thread, in the same process. The course's step allocates its result and "
            f"new state (a pure step); torch updates in place."),
        timing=t)


def _torch_version():
    import torch
    return torch.__version__


# ------------------------------------------------------------------------------ the sweep

def grid(side):
    """The flattened (η, β1) meshgrid: η log-spaced from 1e-4 to 1, β1 linear from 0 to 0.99."""
    E, B1 = np.meshgrid(np.geomspace(1e-4, 1.0, side), np.linspace(0.0, 0.99, side))
    return E.ravel(), B1.ravel()


def course_lib_sweep(problem, etas, beta1s, steps, beta2=0.999, eps=1e-8):
    """The sweep as a student writes it: one batched `run` of Adam, trajectories kept."""
    from course_lib.optim import Adam, run

    theta0 = np.broadcast_to(problem.x0, (etas.size, 2))
    tr = run(Adam(eta=etas[:, None], beta1=beta1s[:, None], beta2=beta2, eps=eps), problem,
             theta0, steps)
    return tr.losses, tr.thetas, tr.diverged_at


def fused_sweep(A, x0, etas, beta1s, steps, beta2=0.999, eps=1e-8, divergence=1e8):
    """The same sweep in plain numpy, as fast as it goes, with the same outputs as `run`:
    losses (steps+1, B), trajectories (steps+1, B, 2), divergence steps (B,).

    θ, m, v are coordinate-major, (2, B); each step computes h = ½Aθ once for the loss θ·h
    and the gradient 2h; every operation writes into preallocated buffers; the per-run bias
    corrections 1/(1 − β1ᵗ) are one vector operation per step, β2's a scalar.
    """
    n = etas.size
    theta = np.empty((2, n))
    theta[0], theta[1] = x0[0], x0[1]
    half_A = 0.5 * np.asarray(A, dtype=float)
    h, g, buf = np.empty((2, n)), np.empty((2, n)), np.empty((2, n))
    m, v = np.zeros((2, n)), np.zeros((2, n))
    b1 = np.ascontiguousarray(beta1s, dtype=float)
    one_minus_b1 = 1.0 - b1
    b1_power = np.ones(n)
    c1 = np.empty(n)
    losses = np.empty((steps + 1, n))
    thetas = np.empty((steps + 1, 2, n))

    def h_and_loss(loss):
        np.matmul(half_A, theta, out=h)
        np.multiply(theta, h, out=buf)
        np.add(buf[0], buf[1], out=loss)

    t = 0
    with np.errstate(all="ignore"):
        h_and_loss(losses[0])
        thetas[0] = theta
        diverged = Divergence(losses[0], divergence)
        for t in range(1, steps + 1):
            np.multiply(h, 2.0, out=g)                       # ∇f = Aθ = 2h
            np.multiply(m, b1, out=m)
            np.multiply(g, one_minus_b1, out=buf)
            np.add(m, buf, out=m)                            # m ← β1 m + (1 − β1) g
            np.multiply(g, g, out=buf)
            buf *= 1.0 - beta2
            v *= beta2
            v += buf                                         # v ← β2 v + (1 − β2) g²
            np.multiply(b1_power, b1, out=b1_power)          # β1ᵗ
            np.subtract(1.0, b1_power, out=c1)
            np.divide(m, c1, out=g)                          # m̂ (g's buffer is free)
            np.divide(v, 1.0 - beta2 ** t, out=buf)          # v̂
            buf += eps
            np.sqrt(buf, out=buf)
            np.divide(g, buf, out=buf)
            buf *= etas
            theta -= buf                                     # θ ← θ − η m̂/√(v̂ + ε)
            h_and_loss(losses[t])
            stop = diverged.check(t, losses[t], theta)
            thetas[t] = theta
            if stop:
                break
        losses[t + 1:] = np.nan
        thetas[t + 1:] = np.nan
    return losses, np.moveaxis(thetas, 1, 2), diverged.at


def bench_adam_sweep(quick: bool = False, repeat: int = 7):
    from course_lib.problems import quadratic

    side = QUICK_SIDE if quick else FULL_SIDE
    p = quadratic(kappa=KAPPA)
    etas, beta1s = grid(side)
    n = etas.size
    ours = course_lib_sweep(p, etas, beta1s, STEPS)
    ref = fused_sweep(p.A, p.x0, etas, beta1s, STEPS)
    check_same_outputs((ours[0], ours[1][-1], ours[2]), (ref[0], ref[1][-1], ref[2]))
    assert np.allclose(ours[1], ref[1], equal_nan=True), "trajectories differ"
    timing = time_pair(lambda: course_lib_sweep(p, etas, beta1s, STEPS),
                       lambda: fused_sweep(p.A, p.x0, etas, beta1s, STEPS), repeat=repeat)
    return [Row(
        name=f"Adam (η, β1) sensitivity sweep, {n:,} settings × {STEPS} steps, trajectories "
             f"kept (κ = {KAPPA:g})",
        measured=timing.measured,
        reference_name="hand-fused numpy loop",
        reference=timing.reference,
        goal=GOAL,
        description=(
            f"`run(Adam(eta=E[:, None], beta1=B[:, None], beta2=0.999, eps=1e-8), "
            f"quadratic(kappa={KAPPA:g}), θ0 of shape ({n}, 2), {STEPS})` with E, B the "
            f"flattened {side}×{side} meshgrid (η log-spaced from 1e-4 to 1, β1 linear from 0 "
            f"to 0.99), trajectories and losses recorded, against "
            f"`benchmarks/bench_adaptive.py:fused_sweep` (coordinate-major (2, B) θ, m, v, "
            f"preallocated buffers, one ½Aθ per step for the loss and the gradient, the bias "
            f"corrections as one vector operation per step). Both produce the same losses, "
            f"trajectories ({STEPS + 1}×{n:,}×2) and divergence steps (checked before timing)."),
        timing=timing,
    )]
