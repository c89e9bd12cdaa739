"""Grade submitted exercise notebooks against the instructor's tests in ``solutions/``.

    python -m course_lib.grade SUBMISSION.ipynb ... --out grades.csv [--timeout SECONDS]
                               [--total-timeout SECONDS] [--solutions DIR] [--jobs N]

For each submission:

1. Its assignment is read from the notebook metadata ``course_lib.assignment``, or else
   guessed from the file name (``alice_01_learning_as_optimization.ipynb``,
   ``01_learning_as_optimization (1).ipynb``, ``01_answers.ipynb``).
2. The notebook to run is assembled in the order of the *solution*: answer cells
   (nbgrader ``solution: true``) come from the submission, matched by grade_id (a deleted one is
   replaced by its exercise stub); test cells and locked cells come from the solution, hidden
   tests included, so editing or deleting a test changes nothing; cells the student added are
   kept after the submission's preceding known cell, so their helper functions still run.
3. It runs in a fresh kernel (this Python, ``sys.executable``) in a temporary directory, with a
   per-cell time limit and a wall-clock limit for the whole submission. A cell that times out is
   interrupted and the next cells still run; a kernel that dies, or stays busy after the
   interrupt, scores the remaining tests 0 with a message saying so.
4. Each test cell is one question (its grade_id): full points if it ran without error, else 0,
   with the error's first line as the message.

``grades.csv`` has one row per submission and question: ``submission, question, points,
max_points, message``. A file that cannot be graded gets error rows and the batch goes on.
Exit status: 0 when grading completed (whatever the scores), 2 on a usage error.
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import csv
import json
import logging
import os
import re
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Optional, Sequence

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async

from course_lib.exercises import REPO_ROOT, convert, is_answer_cell, is_test_cell, nbgrader_meta

__all__ = ["Row", "CellResult", "CSV_COLUMNS", "grade_submission", "run_notebook",
           "build_notebook", "load_solutions", "identify_assignment", "questions",
           "write_csv", "main"]

CSV_COLUMNS = ("submission", "question", "points", "max_points", "message")
#: Output kept per cell; a test that prints in a loop must not fill the grader's memory.
MAX_OUTPUT_CHARS = 1_000_000
#: Time granted to a kernel to answer after a timed-out cell was interrupted.
RECOVERY_GRACE = 10.0
#: Kernel start-up and shut-down allowance in the default total time limit.
STARTUP_ALLOWANCE = 60.0
#: The ename of the synthetic execute reply nbclient returns for a timed-out cell.
_TIMEOUT_ENAME = "course_lib.grade:timeout"

_log = logging.getLogger("course_lib.grade.kernel")  # nbclient's log chatter goes nowhere
_log.addHandler(logging.NullHandler())
_log.propagate = False


@dataclass(frozen=True)
class Row:
    """One line of grades.csv: the score of one question of one submission."""
    submission: str
    question: str
    points: float
    max_points: float
    message: str = ""


@dataclass
class CellResult:
    """What happened to one cell of an executed notebook.

    ``status`` is one of ``skipped`` (not code, or empty), ``ok``, ``error``, ``timeout``,
    ``died`` (the kernel died while it ran) or ``not_run`` (the kernel was dead or stuck, or
    the total time ran out, before it); ``message`` is a one-line summary, empty when ``ok``.
    """
    status: str
    message: str = ""
    ename: str = ""


# --------------------------------------------------------------------------- solutions

def load_solutions(solutions_dir) -> dict:
    """``{assignment: path}`` for the ``*.ipynb`` files of ``solutions_dir``."""
    return {p.stem: p for p in sorted(Path(solutions_dir).glob("*.ipynb"))}


def _named_assignment(nb) -> Optional[str]:
    """The ``course_lib.assignment`` notebook metadata, if the notebook has a usable one."""
    meta = (nb or {}).get("metadata", {}).get("course_lib", {})
    named = meta.get("assignment") if isinstance(meta, dict) else None
    return named if isinstance(named, str) else None


def identify_assignment(path, nb, assignments) -> Optional[str]:
    """The assignment a submission belongs to, or None.

    The notebook metadata ``course_lib.assignment`` wins if it names a known assignment;
    otherwise the file name decides: the longest assignment name it contains
    (``bob_01_learning_as_optimization (2).ipynb``), else the one whose ``NN_`` prefix it starts
    with (``01_answers.ipynb``) if exactly one assignment has that prefix.
    """
    named = _named_assignment(nb)
    if named in assignments:
        return named
    name = Path(path).name.lower()
    contained = [a for a in assignments if a.lower() in name]
    if contained:
        return max(contained, key=len)
    prefixed = [a for a in assignments
                if re.match(r"\d+_", a) and name.startswith(a.split("_", 1)[0] + "_")]
    return prefixed[0] if len(prefixed) == 1 else None


def _manual(cell) -> bool:
    """An nbgrader cell graded by hand: a task, a graded answer, or graded markdown."""
    meta = nbgrader_meta(cell)
    graded = bool(meta.get("grade"))
    return bool(meta.get("task")) or (graded and (bool(meta.get("solution"))
                                                  or cell.get("cell_type") != "code"))


def questions(solution_nb) -> list:
    """``[(grade_id, max_points), ...]`` of the solution's graded cells, in notebook order."""
    return [(nbgrader_meta(c)["grade_id"], nbgrader_meta(c).get("points", 0))
            for c in solution_nb.cells if is_test_cell(c) or _manual(c)]


# --------------------------------------------------------------------------- assembling

@dataclass
class _Slot:
    """Where a cell of the assembled notebook came from and what it means for scoring."""
    kind: str                  # answer | test | manual | locked | extra
    label: str                 # grade_id, or a description of a student-added cell
    points: float = 0
    answers: list = field(default_factory=list)  # a test's answer cells (since the last test)
    note: str = ""             # e.g. "answer cell q1 missing"


def build_notebook(solution_nb, submission_nb):
    """The notebook to grade and, cell by cell, where each cell came from (see module doc)."""
    solution_ids = {nbgrader_meta(c).get("grade_id") for c in solution_nb.cells} - {None}
    stubs = {nbgrader_meta(c).get("grade_id"): c for c in convert(solution_nb).cells}

    # The submission's cells with a known grade_id (first copy wins); every other cell is
    # "extra" and anchored to the known cell before it (None: the top of the notebook).
    matched, extras, anchor = {}, {}, None
    for cell in submission_nb.get("cells", []):
        grade_id = nbgrader_meta(cell).get("grade_id") if isinstance(cell, dict) else None
        if grade_id in solution_ids and grade_id not in matched:
            matched[grade_id] = cell
            anchor = grade_id
        else:
            extras.setdefault(anchor, []).append(cell)

    cells, slots = [], []

    def add_extras(after):
        for cell in extras.get(after, []):
            if cell.get("cell_type") not in ("code", "markdown", "raw"):
                continue
            clean = nbformat.v4.new_code_cell() if cell["cell_type"] == "code" else (
                nbformat.v4.new_markdown_cell() if cell["cell_type"] == "markdown"
                else nbformat.v4.new_raw_cell())
            clean.source = cell.get("source", "")
            where = f"after {after}" if after else "at the top"
            cells.append(clean)
            slots.append(_Slot("extra", f"a cell the student added {where}"))

    add_extras(None)
    pending_answers = []
    for cell in solution_nb.cells:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if not meta:
            # Plain cells have no id to match: the submission's copies arrive as extras.
            continue
        if is_answer_cell(cell):
            # The student's text in the instructor's cell (type and metadata stay the solution's).
            new = copy.deepcopy(stubs[grade_id])
            note = ""
            if grade_id in matched:
                new.source = matched[grade_id].get("source", "")
            else:
                note = f"answer cell {grade_id} missing"
            kind = "manual" if _manual(cell) else "answer"
            cells.append(new)
            slots.append(_Slot(kind, grade_id, meta.get("points", 0), note=note))
            if new.cell_type == "code":
                pending_answers.append(slots[-1])
        else:
            new = copy.deepcopy(cell)  # hidden tests included
            if new.cell_type == "code":
                new.outputs, new.execution_count = [], None
            if is_test_cell(cell) and not _manual(cell):
                slots.append(_Slot("test", grade_id, meta.get("points", 0),
                                   answers=pending_answers))
                pending_answers = []
            else:
                slots.append(_Slot("manual" if _manual(cell) else "locked", grade_id,
                                   meta.get("points", 0)))
            cells.append(new)
        add_extras(grade_id)

    nb = nbformat.v4.new_notebook(cells=cells, metadata=solution_nb.metadata)
    return nb, slots


# --------------------------------------------------------------------------- execution

class _ThisPythonKernelSpecs(KernelSpecManager):
    """Every kernel is this interpreter, whatever kernel specs are installed.

    A ``python3`` kernel spec found on the Jupyter path may point at another environment; the
    grader must run the students' code with the packages it was installed with.
    """

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(
            name="python3", display_name=f"Python {sys.version_info[0]} (grader)",
            language="python", resource_dir="",
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"])


class _GradingClient(NotebookClient):
    """A NotebookClient that keeps at most MAX_OUTPUT_CHARS of output per cell."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._output_chars = {}

    def output(self, outs, msg, display_id, cell_index):
        used = self._output_chars.get(cell_index, 0)
        if used > MAX_OUTPUT_CHARS and msg["msg_type"] != "error":
            return None
        self._output_chars[cell_index] = used + len(str(msg.get("content", "")))
        return super().output(outs, msg, display_id, cell_index)


def _one_line(text: str) -> str:
    """The whole message on one line (a CSV cell): what differs, expected vs got, the hint."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(text))  # ANSI colours of tracebacks
    return " ".join(text.split())


def _error_message(ename: str, evalue: str) -> str:
    return _one_line(f"{ename}: {evalue}" if str(evalue).strip() else ename)


def _seconds(s: float) -> str:
    return f"{round(float(s), 2):g}"


async def _kernel_answers(client, grace: float) -> bool:
    """Whether the kernel finishes what it was doing and answers within ``grace`` seconds."""
    msg_id = await ensure_async(client.kc.execute("", silent=True, store_history=False))
    deadline = monotonic() + grace
    while (left := deadline - monotonic()) > 0:
        try:
            msg = await ensure_async(client.kc.shell_channel.get_msg(timeout=left))
        except Empty:
            return False
        if msg["parent_header"].get("msg_id") == msg_id:  # older replies are skipped
            return True
    return False


async def _run_cell(client, cell, index, seconds, timeout, total_timeout, replies, label):
    """Run one code cell; returns its CellResult and, if the kernel is gone, why."""
    try:
        await client.async_execute_cell(cell, index)
    except DeadKernelError:
        # nbclient also turns the cancellation of this task (Ctrl-C, the total time guard)
        # into DeadKernelError: let that through as what it is.
        if asyncio.current_task().cancelling():
            raise asyncio.CancelledError from None
        return (CellResult("died", "kernel died while running this cell (os._exit, a crash, "
                                   "or out of memory)"),
                f"kernel died before this test ran (it died in {label})")

    content = (replies.pop(index, None) or {"content": {"status": "ok"}})["content"]
    if content.get("ename") == _TIMEOUT_ENAME:
        if seconds < timeout:
            message = (f"not finished when the submission's total time limit of "
                       f"{_seconds(total_timeout)} s ran out")
        else:
            message = f"timed out after {_seconds(timeout)} s"
        if await _kernel_answers(client, max(2.0, min(float(timeout), RECOVERY_GRACE))):
            return CellResult("timeout", message, "TimeoutError"), ""
        await ensure_async(client.km.shutdown_kernel(now=True))
        return (CellResult("timeout", message, "TimeoutError"),
                f"not run: the kernel kept running {label} after it timed out and was "
                f"interrupted (does the code catch KeyboardInterrupt?)")
    # The execute reply is authoritative; an error output is the fallback.
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if content.get("status") == "error" and content.get("ename"):
        return CellResult("error", _error_message(content["ename"],
                                                  content.get("evalue", "")),
                          content["ename"]), ""
    if content.get("status") == "error" or errors:
        ename = errors[0].get("ename", "Error") if errors else "Error"
        evalue = errors[0].get("evalue", "") if errors else ""
        return CellResult("error", _error_message(ename, evalue), ename), ""
    return CellResult("ok"), ""


async def _run_cells(nb, results, cwd, timeout, total_timeout, labels) -> None:
    """Fill ``results`` cell by cell (it is read even if this task is cancelled midway)."""
    deadline = monotonic() + total_timeout
    limit = {"seconds": float(timeout)}  # read by nbclient before each cell
    replies = {}
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=_ThisPythonKernelSpecs(),
                            log=_log)
    client = _GradingClient(
        nb, km=km, log=_log,
        timeout_func=lambda cell: limit["seconds"],
        interrupt_on_timeout=True,
        # Without this nbclient waits for the interrupted cell's reply, re-interrupting forever
        # if the code swallows KeyboardInterrupt; with it, it reports the timeout at once and
        # _run_cell checks whether the kernel recovered.
        error_on_timeout={"ename": _TIMEOUT_ENAME, "evalue": "", "traceback": []},
        allow_errors=True, record_timing=False, shutdown_kernel="immediate",
        on_cell_executed=lambda cell, cell_index, execute_reply:
            replies.__setitem__(cell_index, execute_reply))
    env = dict(os.environ)
    # course_lib must be importable from the temporary directory even when not installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("MPLBACKEND", "Agg")

    stopped = ""  # once set, why the remaining cells are not run
    # The kernel's own stderr (start-up failures, C-level crashes) goes to a file outside the
    # student's working directory, quoted if the kernel does not start.
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as kernel_log:
        try:
            # Started by hand rather than with client.async_setup_kernel: that one installs
            # SIGINT handlers that turn Ctrl-C into "shut this kernel down and go on with the
            # next submission", so an instructor could not stop a batch.
            await client.async_start_new_kernel(cwd=str(cwd), env=env, stderr=kernel_log)
            await client.async_start_new_kernel_client()
        except Exception as exc:
            kernel_log.seek(0)
            tail = kernel_log.read().strip().splitlines()
            why = _one_line(f"grader error: the kernel did not start ({type(exc).__name__}: "
                            f"{exc}) {tail[-1] if tail else ''}")
            for i, cell in enumerate(nb.cells):
                if cell.cell_type == "code" and cell.source.strip():
                    results[i] = CellResult("not_run", why)
            if client.km is not None and client.km.has_kernel:
                await client._async_cleanup_kernel()
            return
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                if stopped:
                    results[index] = CellResult("not_run", stopped)
                    continue
                remaining = deadline - monotonic()
                if remaining <= 1:
                    stopped = (f"not run: the submission used up its total time limit of "
                               f"{_seconds(total_timeout)} s")
                    results[index] = CellResult("not_run", stopped)
                    continue
                limit["seconds"] = min(float(timeout), remaining)
                results[index], stopped = await _run_cell(client, cell, index, limit["seconds"],
                                                          timeout, total_timeout, replies,
                                                          labels[index])
        finally:
            await client._async_cleanup_kernel()


def run_notebook(nb, cwd, timeout: float = 60, total_timeout: Optional[float] = None,
                 labels: Optional[Sequence[str]] = None) -> list:
    """Execute ``nb`` (in place) in a fresh kernel of this Python; one CellResult per cell.

    Errors are recorded, not raised. A cell running longer than ``timeout`` seconds is
    interrupted and the next cells run; if the kernel then does not answer, or dies, the
    remaining cells are ``not_run``. ``total_timeout`` (default: ``timeout`` per code cell plus
    a start-up allowance) bounds the whole run. ``labels`` name cells in messages.
    """
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    if total_timeout is None:
        total_timeout = timeout * max(code_cells, 1) + STARTUP_ALLOWANCE
    labels = list(labels) if labels is not None else [f"cell {i}" for i in range(len(nb.cells))]
    results = [CellResult("skipped") for _ in nb.cells]

    async def guarded():
        # The per-cell limits already respect the total; this guard only fires if something
        # hangs outside them (nbclient waiting on a kernel that neither answers nor dies).
        try:
            await asyncio.wait_for(_run_cells(nb, results, cwd, timeout, total_timeout, labels),
                                   total_timeout + RECOVERY_GRACE + 30)
        except asyncio.TimeoutError:
            why = (f"stopped: the submission ran past its total time limit of "
                   f"{_seconds(total_timeout)} s")
            for i, cell in enumerate(nb.cells):
                if results[i].status == "skipped" and cell.cell_type == "code" \
                        and cell.source.strip():
                    results[i] = CellResult("not_run", why)

    asyncio.run(guarded())
    return results


# --------------------------------------------------------------------------- grading

def _read_submission(path: Path):
    """The submission as a v4 NotebookNode; ValueError with a student-readable reason if not."""
    if not path.is_file():
        raise ValueError(f"{path} is not a file: pass the path of a .ipynb notebook")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError("not a Jupyter notebook (the file is not UTF-8 text): submit the "
                         ".ipynb file saved from Jupyter") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a Jupyter notebook (invalid JSON: {exc.msg} at line {exc.lineno} "
                         f"column {exc.colno}): submit the .ipynb file saved from Jupyter"
                         ) from None
    if not isinstance(data, dict) or ("cells" not in data and "worksheets" not in data):
        raise ValueError("not a Jupyter notebook (JSON without 'cells'): submit the .ipynb "
                         "file saved from Jupyter")
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as exc:
        raise ValueError(_one_line(f"not a readable Jupyter notebook ({type(exc).__name__}: "
                                   f"{exc}): re-save it in Jupyter and submit again")) from None


def _error_rows(name, solution_nb, message) -> list:
    if solution_nb is None:
        return [Row(name, "(submission)", 0, 0, _one_line(message))]
    return [Row(name, q, 0, pts, _one_line(message)) for q, pts in questions(solution_nb)]


def _read_solution(path: Path):
    nb = nbformat.read(str(path), as_version=4)
    convert(nb, name=str(path))  # a malformed solution raises ValueError saying what to fix
    return nb


def _score(slots, results, name) -> list:
    rows = []
    for slot, result in zip(slots, results):
        if slot.kind == "answer" and result.status in ("error", "timeout", "died") \
                and not slot.note:
            what = {"timeout": "timed out", "died": "killed the kernel"}.get(
                result.status, f"raised {result.ename or 'an error'}")
            slot.note = f"answer cell {slot.label} {what}"
        if slot.kind == "manual":
            rows.append(Row(name, slot.label, 0, slot.points,
                            "graded by hand: not scored automatically"))
        if slot.kind != "test":
            continue
        if result.status in ("ok", "skipped"):
            rows.append(Row(name, slot.label, slot.points, slot.points, ""))
            continue
        message = result.message
        if result.ename == "NotImplementedError":
            message = "not answered: the answer still raises NotImplementedError"
        if result.status == "died":
            message = "kernel died while running this test"
        notes = [a.note for a in slot.answers if a.note]
        if notes and result.status != "not_run":
            message = "; ".join(notes + [message])
        rows.append(Row(name, slot.label, 0, slot.points, _one_line(message)))
    return rows


def grade_submission(path, solutions_dir=REPO_ROOT / "solutions", timeout: float = 60,
                     total_timeout: Optional[float] = None, name: Optional[str] = None) -> list:
    """Grade one submitted notebook; returns its grades.csv rows (never raises for bad input).

    ``name`` is the ``submission`` column (default: ``path`` as given).
    """
    path = Path(path)
    name = str(path) if name is None else name
    assignments = load_solutions(solutions_dir)
    try:
        submission = _read_submission(path)
    except ValueError as exc:
        assignment = identify_assignment(path, None, assignments)
        solution = _read_solution(assignments[assignment]) if assignment else None
        return _error_rows(name, solution, str(exc))
    assignment = identify_assignment(path, submission, assignments)
    if assignment is None:
        named = _named_assignment(submission)
        known = ", ".join(assignments) or "none"
        return _error_rows(name, None, (
            f"unknown assignment {named!r} in the notebook metadata" if named else
            "cannot tell which assignment this is (no course_lib.assignment metadata and no "
            "assignment name in the file name)") + f"; known assignments: {known}. Rename the "
            "file to contain the assignment name, e.g. alice_<assignment>.ipynb")
    solution = _read_solution(assignments[assignment])
    nb, slots = build_notebook(solution, submission)
    with tempfile.TemporaryDirectory(prefix="course_lib_grade_", ignore_cleanup_errors=True) \
            as cwd:
        results = run_notebook(nb, cwd, timeout, total_timeout, [s.label for s in slots])
    return _score(slots, results, name)


# --------------------------------------------------------------------------- CLI

def _num(x):
    return int(x) if float(x).is_integer() else float(x)


def write_csv(rows, out) -> None:
    """Write ``rows`` to ``out`` with the header ``CSV_COLUMNS``."""
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow([r.submission, r.question, _num(r.points), _num(r.max_points),
                             r.message])


def _summary(name, rows) -> str:
    got = sum(r.points for r in rows)
    total = sum(r.max_points for r in rows)
    line = f"{name}: {_num(got)}/{_num(total)}"
    if len(rows) == 1 and rows[0].question == "(submission)":
        line += f" ({rows[0].message})"
    return line


def _grade_job(args) -> list:
    """grade_submission for the CLI: any grader bug becomes an error row, never a crash."""
    path, solutions_dir, timeout, total_timeout = args
    try:
        return grade_submission(path, solutions_dir, timeout, total_timeout)
    except Exception as exc:
        return [Row(str(path), "(submission)", 0, 0,
                    _one_line(f"grader error: {type(exc).__name__}: {exc}"))]


class _Serial:
    """The executor interface for --jobs 1: grade in this process, one after the other."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, items):
        return map(fn, items)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.grade",
        description="Grade submitted notebooks against the tests in solutions/.")
    parser.add_argument("submissions", nargs="*", type=Path, metavar="SUBMISSION.ipynb")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--timeout", type=float, default=60,
                        help="seconds each cell may run (default: %(default)s)")
    parser.add_argument("--total-timeout", type=float, default=None,
                        help="seconds one submission may run in all "
                             "(default: timeout × code cells + 60)")
    parser.add_argument("--solutions", type=Path, default=REPO_ROOT / "solutions",
                        help="instructor notebooks (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="submissions graded in parallel (default: %(default)s)")
    args = parser.parse_args(argv)

    def usage(message):
        print(f"error: {message}", file=sys.stderr)
        return 2

    if not args.submissions:
        return usage("no submissions given: python -m course_lib.grade SUBMISSION.ipynb ... "
                     "--out grades.csv")
    if not args.out.parent.resolve().is_dir():
        return usage(f"the directory of --out {args.out} does not exist; create it first")
    if args.timeout <= 0 or (args.total_timeout is not None and args.total_timeout <= 0):
        return usage("--timeout and --total-timeout must be positive numbers of seconds")
    if args.jobs < 1:
        return usage("--jobs must be at least 1")
    if not args.solutions.is_dir():
        return usage(f"solutions directory {args.solutions} does not exist; pass "
                     f"--solutions DIR")
    assignments = load_solutions(args.solutions)
    if not assignments:
        return usage(f"no solution notebooks (*.ipynb) in {args.solutions}")
    for path in assignments.values():  # an instructor error: stop before grading anyone
        try:
            _read_solution(path)
        except Exception as exc:
            return usage(f"solution notebook {path} is malformed: {exc}")

    jobs = [(p, args.solutions, args.timeout, args.total_timeout) for p in args.submissions]
    rows = []
    try:
        with ProcessPoolExecutor(max_workers=args.jobs) if args.jobs > 1 else _Serial() as pool:
            for path, submission_rows in zip(args.submissions, pool.map(_grade_job, jobs)):
                print(_summary(str(path), submission_rows), flush=True)
                rows.extend(submission_rows)
    except KeyboardInterrupt:
        print(f"interrupted: {args.out} not written", file=sys.stderr)
        return 130
    write_csv(rows, args.out)
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
