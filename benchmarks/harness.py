"""Timing and reporting shared by the benchmarks: interleaved repeats, medians, the machine."""
from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Timing:
    """Seconds per call of the measured and the reference function (medians and all samples)."""
    measured: float
    reference: float
    measured_runs: list = field(default_factory=list)
    reference_runs: list = field(default_factory=list)


@dataclass
class Row:
    """One line of BENCHMARKS.md: the course's code against a reference doing the same work."""
    name: str
    measured: float          # seconds, median
    reference_name: str
    reference: float         # seconds, median
    goal: float | None       # the ratio measured / reference we aim to stay under; None: none
    description: str = ""
    timing: Timing | None = None
    show_speedup: bool = False  # report reference / measured as "speed-up ×N" (a faster way)
    limit: float | None = None  # an absolute goal instead: the measured median, in seconds

    @property
    def ratio(self) -> float:
        return self.measured / self.reference

    @property
    def status(self) -> str:
        if self.goal is None and self.limit is None:
            return "no goal"
        return "over goal" if self.over_goal else "ok"

    @property
    def over_goal(self) -> bool:
        if self.limit is not None:
            return self.measured > self.limit
        return self.goal is not None and self.ratio > self.goal

    def ratio_text(self) -> str:
        if self.show_speedup:
            return f"speed-up ×{self.reference / self.measured:,.0f}"
        return f"{self.ratio:.2f}"

    def goal_text(self) -> str:
        if self.limit is not None:
            return f"≤ {self.limit * 1e3:g} ms"
        return "—" if self.goal is None else f"≤ {self.goal:g}"


def time_pair(measured: Callable[[], object], reference: Callable[[], object], *,
              repeat: int = 7, warmup: int = 1) -> Timing:
    """Median wall time of each function over ``repeat`` calls after ``warmup`` calls.

    The two alternate (A B, B A, A B, …) so that a change in machine load during the run
    affects both alike; the garbage collector is off while a call is being timed.
    """
    if repeat < 5:
        raise ValueError(f"time_pair(repeat={repeat}): take at least 5 repeats for a median.")
    for _ in range(warmup):
        measured()
        reference()
    runs = {measured: [], reference: []}
    for i in range(repeat):
        for fn in ((measured, reference) if i % 2 == 0 else (reference, measured)):
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter()
                fn()
                runs[fn].append(time.perf_counter() - t0)
            finally:
                gc.enable()
    return Timing(statistics.median(runs[measured]), statistics.median(runs[reference]),
                  runs[measured], runs[reference])


def machine() -> dict:
    """What the numbers were measured on."""
    import numpy as np

    info = {
        "date (UTC)": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "cores (nproc)": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                             else os.cpu_count()),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas(),
    }
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var):
            info[var] = os.environ[var]
    commit = _git("rev-parse", "--short", "HEAD")
    if commit:
        dirty = _git("status", "--porcelain", "--untracked-files=no")
        info["commit"] = commit + (" (with uncommitted changes)" if dirty else "")
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    import numpy  # noqa: F401  (loads numpy's BLAS so threadpoolctl can see it)

    libs = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not libs:
        return "unknown"
    return "; ".join(f"{p.get('internal_api')} {p.get('version')} "
                     f"({p.get('architecture') or '?'} kernel, {p.get('num_threads')} threads)"
                     for p in libs)


def _git(*args) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def fmt_seconds(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


class Divergence:
    """course_lib.optim.run's divergence rule for a hand-fused loop, in preallocated buffers.

    A run diverges once |f(θ_t)| > divergence · (1 + |f(θ₀)|) or f stops being finite; its loss
    and θ become nan (and stay nan by themselves), and the step is recorded in ``at``.
    """

    def __init__(self, loss0, divergence=1e8):
        n = loss0.size
        self.limit = np.abs(loss0)
        self.limit += 1.0
        self.limit *= divergence
        self.tmp, self.ok = np.empty(n), np.empty(n, dtype=bool)
        self.alive = np.ones(n, dtype=bool)
        self.at = np.full(n, -1, dtype=int)
        self.n_alive = n

    def check(self, t, loss, theta) -> bool:
        """Mark the runs that diverge at step t (θ coordinate-major, (d, B)); True when none
        is left."""
        np.abs(loss, out=self.tmp)
        np.less_equal(self.tmp, self.limit, out=self.ok)  # False for nan and inf too
        if np.count_nonzero(self.ok) < self.n_alive:  # dead runs are nan: only new ones count
            new = np.flatnonzero(self.alive & ~self.ok)
            self.at[new] = t
            self.alive[new] = False
            self.n_alive -= new.size
            loss[new] = np.nan
            theta[:, new] = np.nan
        return self.n_alive == 0


def check_same_outputs(ours, ref):
    """Both sides must do the same work: equal losses, final θ and divergence steps."""
    (l1, th1, d1), (l2, th2, d2) = ours, ref
    assert l1.shape == l2.shape, f"losses: {l1.shape} vs {l2.shape}"
    bad = ~np.isclose(l1, l2, equal_nan=True)
    assert not bad.any(), (f"losses differ in {bad.sum()} entries, first at (step, run) = "
                           f"{tuple(np.argwhere(bad)[0])}")
    assert np.allclose(th1, th2, equal_nan=True), "final θ differ"
    assert np.array_equal(d1, d2), (f"divergence steps differ for "
                                    f"{np.count_nonzero(d1 != d2)} runs")


def fused_quadratic_sweep(A, x0, n, steps, update, divergence=1e8):
    """The hand-fused reference loop shared by the sweep benchmarks, on f(θ) = ½θᵀAθ.

    θ is coordinate-major, (2, n): each coordinate contiguous over the runs. Every step computes
    h = ½Aθ once; it gives the loss f(θ) = θ·h and, through ``update(theta, h, buf)``, the
    method's in-place step (∇f = 2h; scaling by ½ and 2 is exact, so the numbers equal A θ's).
    Every operation writes into preallocated buffers. Returns what `run` returns: losses
    (steps+1, n) with nan after a divergence, the final θ (n, 2), the divergence steps.
    """
    theta = np.empty((2, n))
    theta[0], theta[1] = x0[0], x0[1]
    half_A = 0.5 * np.asarray(A, dtype=float)
    h, buf = np.empty((2, n)), np.empty((2, n))
    losses = np.empty((steps + 1, n))

    def h_and_loss(loss):
        np.matmul(half_A, theta, out=h)
        np.multiply(theta, h, out=buf)
        np.add(buf[0], buf[1], out=loss)

    t = 0
    with np.errstate(all="ignore"):
        h_and_loss(losses[0])
        diverged = Divergence(losses[0], divergence)
        for t in range(1, steps + 1):
            update(theta, h, buf)
            h_and_loss(losses[t])
            if diverged.check(t, losses[t], theta):
                break
        losses[t + 1:] = np.nan  # steps never taken once every run diverged
    return losses, theta.T, diverged.at
