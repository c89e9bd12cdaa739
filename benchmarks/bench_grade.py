"""The grader on a batch of one lecture's submissions: two kernels at a time against one at a
time, and what the bubblewrap sandbox adds to a kernel's start.

Goal (issue 7): the batch of 30 submissions runs at least 1.6× faster with ``--jobs 2`` than
with ``--jobs 1`` on two cores, i.e. ratio = parallel / serial ≤ 1/1.6 = 0.625. The sandbox's
start-up overhead is reported, without a goal.
"""
from __future__ import annotations

import asyncio
import copy
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.harness import ROOT, Row, Timing, time_pair

ASSIGNMENT = "01_learning_as_optimization"
FULL_SUBMISSIONS, QUICK_SUBMISSIONS = 30, 6
FULL_PAIRS, QUICK_PAIRS = 3, 1
GOAL = 1 / 1.6

# Typical wrong answers to two questions each (a "partly wrong" submission)
_WRONG = [
    {"q1_answer": "def empirical_risk(theta, X, y):\n    z = X @ theta\n"
                  "    return np.sum(np.logaddexp(0.0, z) - y * z)",
     "q5_answer": "def max_stable_step(H):\n    return 2.0 / np.linalg.eigvals(H)[-1]"},
    {"q3_answer": "def gradient_descent(grad, theta0, eta, steps):\n"
                  "    thetas = [theta0]\n    for _ in range(steps):\n"
                  "        thetas.append(thetas[-1] - eta * grad(thetas[-1]))\n"
                  "    return thetas",
     "q6_answer": "def error_rate(theta, X, y):\n    return np.mean((X @ theta > 0) == y)"},
    {"q4_answer": "def risk_hessian(theta, X):\n    p = sigmoid(X @ theta)\n"
                  "    return X.T @ ((p * (1 - p))[:, None] * X)",
     "q2_answer": "from course_lib.data import sigmoid\n\n\ndef risk_gradient(theta, X, y):\n"
                  "    return (sigmoid(X @ theta) - y) @ X"},
]


def _submissions(folder: Path, n: int) -> list:
    """n submissions: 4 in 10 correct, 3 partly wrong, 2 unanswered, 1 broken (alternately a
    file that is not JSON and a kernel that exits in the middle)."""
    import nbformat

    from course_lib.exercises import convert

    solution = nbformat.read(str(ROOT / "solutions" / f"{ASSIGNMENT}.ipynb"), as_version=4)
    paths = []
    for i in range(n):
        path = folder / f"student{i:03d}_{ASSIGNMENT}.ipynb"
        kind = i % 10
        if kind < 4:
            nb = solution
        elif kind < 7:
            nb = copy.deepcopy(solution)
            for cell in nb.cells:
                source = _WRONG[kind - 4].get(cell.metadata.get("nbgrader", {}).get("grade_id"))
                if source:
                    cell.source = source
        elif kind < 9:
            nb = convert(solution)
        elif (i // 10) % 2 == 0:
            path.write_text("{ not a notebook")
            paths.append(path)
            continue
        else:
            nb = copy.deepcopy(solution)
            for cell in nb.cells:
                if cell.metadata.get("nbgrader", {}).get("grade_id") == "q4_answer":
                    cell.source = "import os\nos._exit(3)"
        nbformat.write(nb, str(path))
        paths.append(path)
    return paths


def _grade_all(paths, jobs: int, sandbox: bool) -> float:
    """Seconds to grade ``paths`` from scratch with ``jobs`` kernels at a time."""
    from course_lib.grade import Settings, grade_batch, load_solutions
    from course_lib.grading.report import Store
    from course_lib.grading.submissions import Submission

    subs = [Submission(p, p.name) for p in paths]
    store_dir = Path(tempfile.mkdtemp(prefix="bench_grade_store_"))
    settings = Settings(timeout=60, sandbox=sandbox)
    try:
        started = time.perf_counter()
        asyncio.run(grade_batch(subs, load_solutions(ROOT / "solutions"), settings,
                                Store(store_dir), jobs, lambda *args: None))
        return time.perf_counter() - started
    finally:
        shutil.rmtree(store_dir, ignore_errors=True)


def bench_grade_batch(quick: bool = False, repeat: int = 7):
    from course_lib.grading import sandbox as sb

    sandbox = sb.problem() is None
    n = QUICK_SUBMISSIONS if quick else FULL_SUBMISSIONS
    pairs = QUICK_PAIRS if quick else FULL_PAIRS
    folder = Path(tempfile.mkdtemp(prefix="bench_grade_"))
    try:
        paths = _submissions(folder, n)
        # the solution's reference run, once: both sides reuse it (this process caches it)
        _grade_all(paths[:1], 1, sandbox)
        serial, parallel = [], []
        for i in range(pairs):  # alternated, so that a change in load hits both alike
            for jobs, runs in (((1, serial), (2, parallel)) if i % 2 == 0
                               else ((2, parallel), (1, serial))):
                runs.append(_grade_all(paths, jobs, sandbox))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    timing = Timing(statistics.median(parallel), statistics.median(serial), parallel, serial)
    per_sub = (f"{timing.reference / n:.2f} s per submission one at a time, "
               f"{timing.measured / n:.2f} s two at a time")
    return [Row(
        name=f"Grading {n} submissions of lecture 01: --jobs 2 vs --jobs 1",
        measured=timing.measured, reference_name="the same batch, one kernel at a time",
        reference=timing.reference, goal=GOAL,
        description=(
            f"`course_lib.grade.grade_batch` on {n} submissions of "
            f"`solutions/{ASSIGNMENT}.ipynb` (4 in 10 correct, 3 partly wrong, 2 unanswered, 1 "
            f"broken: not JSON or a kernel that exits), each in a fresh "
            f"{'sandboxed ' if sandbox else ''}kernel, from scratch (no stored results; the "
            f"solution's reference run done once before, shared by both sides). Median of "
            f"{pairs} alternated pairs. {per_sub}: a speed-up of "
            f"×{timing.reference / timing.measured:.2f} (goal ≥ 1.6, ratio ≤ {GOAL:.3f})."),
        timing=timing,
    )] + ([_sandbox_overhead(quick, repeat)] if sandbox else [])


def _start_kernel(sandbox: bool) -> None:
    """Start a kernel, run an empty cell, shut it down (what every submission pays)."""
    import nbformat

    from course_lib.grading.kernel import run_notebook

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
    with tempfile.TemporaryDirectory(prefix="bench_kernel_") as cwd:
        [result] = run_notebook(nb, cwd, timeout=60, sandbox=sandbox, check_mode="submission")
    assert result.status == "ok", result.message


def _sandbox_overhead(quick: bool, repeat: int) -> Row:
    timing = time_pair(lambda: _start_kernel(True), lambda: _start_kernel(False),
                       repeat=5 if quick else repeat)
    extra = timing.measured - timing.reference
    return Row(
        name="A submission's kernel: start, one cell, shut down — in bubblewrap vs without",
        measured=timing.measured, reference_name="the same kernel without the sandbox",
        reference=timing.reference, goal=None,
        description=(
            f"`course_lib.grading.kernel.run_notebook` on a one-cell notebook (`pass`), with "
            f"`sandbox=True` (bubblewrap: namespaces, read-only binds, the launcher's limits) "
            f"against `sandbox=False` (the launcher's limits only). The sandbox adds "
            f"{extra * 1e3:.0f} ms per submission. No goal: reported, as issue 7 asks."),
        timing=timing,
    )
