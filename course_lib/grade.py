"""Grade submitted exercise notebooks against the instructor's tests in ``solutions/``.

    python -m course_lib.grade SUBMISSION.ipynb|FOLDER ... --out grades.csv
                               [--timeout S] [--total-timeout S] [--jobs N] [--memory MiB]
                               [--feedback DIR] [--totals FILE] [--solutions DIR]
                               [--restart] [--no-sandbox]

**Where a question is decided.** Not in the student's kernel. Each test cell is a series of
``course_lib.check`` calls. The grader runs the solution notebook once, in a clean kernel, with
the checks publishing *records* (expected values, typical mistakes, settings) instead of
comparing. It runs each submission with its own answers and the instructor's test cells, each
check stripped of its expected side, so that the student's kernel only sends back, as plain data,
what the answers returned on the test inputs. The grader compares the two in its own process
(`course_lib.check.verdict`): a question scores its points when every one of its checks
passes. What code in a submission does to ``check``, numpy, builtins, ``sys.modules``, IPython's
hooks or the test cells can only change what its answers send back — it cannot make a check
pass that its answers do not pass.

**Where the submission runs.** Each in a fresh kernel inside bubblewrap
(`course_lib.grading.sandbox`: read-only system, no network, no access to the repository's
solutions, the other submissions or the grades; memory, CPU-time, file-size and output limits),
with a time limit per cell and one per submission. A cell that times out is interrupted and the
next cells still run; a kernel that dies, or stays busy after the interrupt, scores the
remaining tests 0 with a message saying so. One broken submission never stops the batch.

**What it writes** (`course_lib.grading.report`): ``grades.csv`` with one row per submission
and question (``submission, question, points, max_points, message, student, assignment``),
``<out>_totals.csv`` with one row per student, a feedback page per submission in
``feedback/<student>/<assignment>/<notebook>.html``, and ``<out>_results/``, from which a batch
run again resumes (graded submissions are not graded again). Submissions are files or
folders; nbgrader's ``submitted/<student>/<assignment>/<notebook>.ipynb`` gives the student id.

Exit status: 0 when grading completed (whatever the scores), 2 on a usage or instructor error
(a missing sandbox without ``--no-sandbox``, a malformed solution), 130 when interrupted.
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import hashlib
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import nbformat

from course_lib.check import verdict
from course_lib.exercises import REPO_ROOT, convert, is_test_cell, nbgrader_meta
from course_lib.grading import sandbox as sb
from course_lib.grading.kernel import CellResult, execute, one_line, run_notebook
from course_lib.grading.report import (COLUMNS, Row, Store, number, write_csv, write_feedback,
                                       write_totals)
from course_lib.grading.submissions import (Submission, build_notebook, count_checks, find,
                                            identify_assignment, is_manual, questions, read,
                                            strip_expected, student_id)

__all__ = ["Row", "CellResult", "CSV_COLUMNS", "Settings", "InstructorError",
           "grade_submission", "grade_batch", "run_notebook", "build_notebook",
           "load_solutions", "identify_assignment", "questions", "write_csv", "main"]

CSV_COLUMNS = COLUMNS
_CODE_FILES = ("check.py", "grading/records.py")  # what a reference run's records depend on


class InstructorError(Exception):
    """A solution notebook cannot serve as the reference (the message says what to fix)."""


@dataclass(frozen=True)
class Settings:
    """How every submission of a batch is run."""
    timeout: float = 60
    total_timeout: Optional[float] = None
    sandbox: bool = True
    limits: sb.Limits = field(default_factory=sb.Limits)

    def key(self) -> str:
        return repr((self.timeout, self.total_timeout, self.sandbox, self.limits))


# --------------------------------------------------------------------------- solutions

def load_solutions(solutions_dir) -> dict:
    """``{assignment: path}`` for the ``*.ipynb`` files of ``solutions_dir``."""
    return {p.stem: p for p in sorted(Path(solutions_dir).glob("*.ipynb"))}


def _read_solution(path: Path):
    """The solution notebook, checked: markers well formed, test cells made of checks."""
    nb = nbformat.read(str(path), as_version=4)
    convert(nb, name=str(path))  # a malformed solution raises ValueError saying what to fix
    for cell in nb.cells:
        if is_test_cell(cell) and not is_manual(cell):
            where = f"{path}: test cell {nbgrader_meta(cell)['grade_id']}"
            try:
                strip_expected(cell.source)
            except SyntaxError as exc:
                raise ValueError(f"{where} is not plain Python ({exc.msg}, line {exc.lineno}): "
                                 f"the grader parses test cells to strip their expected "
                                 f"values") from None
            except ValueError as exc:
                raise ValueError(f"{where}, {exc}") from None
            if not count_checks(cell.source):
                raise ValueError(f"{where} makes no course_lib.check call: the grader decides a "
                                 f"question only from the checks' records (write each assert as "
                                 f"check.scalar / check.array / check.function)")
    return nb


def _file_hash(*paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()


def _reference_key(solution_path: Path) -> str:
    package = Path(__file__).resolve().parent
    return _file_hash(solution_path, *(package / f for f in _CODE_FILES))


async def reference_records(solution_path: Path, settings: Settings,
                            store: Optional[Store] = None) -> dict:
    """``{grade_id: [record, ...]}``: what the solution's test cells publish in a clean kernel.

    Raises InstructorError if a test cell fails, publishes nothing, or if the solution does not
    pass its own checks.
    """
    key = _reference_key(solution_path)
    if key in _REFERENCES:
        return _REFERENCES[key]
    stored = store.load("reference", str(solution_path.resolve()), key) if store else None
    if stored is not None:
        _REFERENCES[key] = stored["records"]
        return stored["records"]
    solution = _read_solution(solution_path)
    nb = copy.deepcopy(solution)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    ids = [nbgrader_meta(c).get("grade_id") or f"cell {i}" for i, c in enumerate(nb.cells)]
    with tempfile.TemporaryDirectory(prefix="course_lib_reference_") as cwd:
        results = await execute(nb, cwd, timeout=max(settings.timeout, 600), labels=ids,
                                sandbox=settings.sandbox, limits=settings.limits,
                                check_mode="reference")
    records = {}
    for cell, grade_id, result in zip(nb.cells, ids, results):
        if cell.cell_type != "code" or result.status == "skipped":
            continue
        where = f"{solution_path}: cell {grade_id}"
        if result.status != "ok":
            raise InstructorError(f"{where} fails when the solution runs: {result.message}")
        if not is_test_cell(cell):
            continue
        if not result.records:
            raise InstructorError(f"{where} published no check records (does it call "
                                  f"course_lib.check?)")
        for record in result.records:
            message = verdict(record)
            if message:
                raise InstructorError(f"{where}: the solution fails its own check: {message}")
        records[grade_id] = result.records
    _REFERENCES[key] = records
    if store is not None:
        store.save("reference", str(solution_path.resolve()), key, {"records": records})
    return records


_REFERENCES: dict = {}  # reference runs of this process, by solution content


# --------------------------------------------------------------------------- scoring

def _check_failure(reference: list, submitted: list) -> Optional[str]:
    """The first failing check of a test cell (None: all pass), or why results are missing."""
    for i, ref in enumerate(reference):
        if i >= len(submitted):
            return f"no result for the check {ref['name']!r}"
        try:
            message = verdict(ref, submitted[i])
        except Exception as exc:  # records a submission forged or broke
            message = (f"{ref['name']}: the results your kernel sent for this check are "
                       f"malformed ({type(exc).__name__}): did your code publish results "
                       f"itself, or change course_lib.check?")
        if message:
            return message
    if len(submitted) > len(reference):
        return (f"the test produced {len(submitted)} results where the instructor's test "
                f"produces {len(reference)}: results were published by code other than the "
                f"test's checks")
    return None


def _score(slots, results, references: dict, name: str, student: str, assignment: str,
           limits: sb.Limits):
    """Rows (one per question) and notes for the feedback page."""
    rows, notes = [], []
    for slot, result in zip(slots, results):
        if slot.kind in ("answer", "extra") and result.output_cut:
            notes.append(f"{slot.label}: its output was cut (more than the output limit).")
        if slot.kind == "answer" and result.status in ("error", "timeout", "died") \
                and not slot.note:
            what = {"timeout": "timed out", "died": "killed the kernel"}.get(
                result.status, f"raised {result.ename or 'an error'}")
            if "MemoryError" in result.ename:
                what += f" (a submission may use {sb.size_text(limits.memory)} of memory)"
            slot.note = f"answer cell {slot.label} {what}"
            if result.status != "error" or result.ename != "NotImplementedError":
                notes.append(f"{slot.label}: {result.message}")
        if slot.kind == "extra" and result.status in ("error", "timeout", "died"):
            notes.append(f"{slot.label}: {result.message}")
        if slot.kind == "manual":
            rows.append(Row(name, slot.label, 0, slot.points,
                            "graded by hand: not scored automatically", student, assignment))
        if slot.kind != "test":
            continue
        failure = _check_failure(references.get(slot.label, []), result.records)
        if failure is None:
            rows.append(Row(name, slot.label, slot.points, slot.points, "", student, assignment))
            continue
        missing = failure.startswith("no result for the check")
        if missing and result.status == "not_run":
            message = result.message
        else:
            if missing and result.status != "ok":
                failure = result.message
                if result.ename == "NotImplementedError":
                    failure = "not answered: the answer still raises NotImplementedError"
                elif result.status == "died":
                    failure = f"kernel died while running this test ({result.message})"
                elif "MemoryError" in result.ename:
                    failure += f" (a submission may use {sb.size_text(limits.memory)} of memory)"
            elif missing:
                failure += (": your code stopped the test from reporting it (did it change "
                            "`check` or a variable the test uses?)")
            message = "; ".join([a.note for a in slot.answers if a.note] + [failure])
        rows.append(Row(name, slot.label, 0, slot.points, message, student, assignment))
    return rows, notes


# --------------------------------------------------------------------------- one submission

def _error_result(sub: Submission, student, assignment, solution_nb, message) -> dict:
    if solution_nb is None:
        rows = [Row(sub.name, "(submission)", 0, 0, message, student, assignment or "")]
    else:
        rows = [Row(sub.name, q, 0, pts, message, student, assignment)
                for q, pts in questions(solution_nb)]
    return {"submission": sub.name, "student": student, "assignment": assignment or "",
            "rows": [asdict(r) for r in rows], "notes": []}


async def _grade(sub: Submission, assignments: dict, settings: Settings, store) -> dict:
    """The result of one submission (its rows and notes); never raises for bad input."""
    try:
        submission = read(sub.path)
    except ValueError as exc:
        assignment = identify_assignment(sub.path, None, assignments)
        solution = _read_solution(assignments[assignment]) if assignment else None
        return _error_result(sub, student_id(sub, assignment), assignment, solution, str(exc))
    assignment = identify_assignment(sub.path, submission, assignments)
    student = student_id(sub, assignment)
    if assignment is None:
        named = (submission.get("metadata", {}).get("course_lib", {}) or {}).get("assignment")
        known = ", ".join(assignments) or "none"
        return _error_result(sub, student, None, None, (
            f"unknown assignment {named!r} in the notebook metadata" if named else
            "cannot tell which assignment this is (no course_lib.assignment metadata and no "
            "assignment name in the file name)") + f"; known assignments: {known}. Rename the "
            "file to contain the assignment name, e.g. alice_<assignment>.ipynb")
    solution = _read_solution(assignments[assignment])
    references = await reference_records(assignments[assignment], settings, store)
    nb, slots = build_notebook(solution, submission)
    with tempfile.TemporaryDirectory(prefix="course_lib_grade_", ignore_cleanup_errors=True) \
            as cwd:
        results = await execute(nb, cwd, timeout=settings.timeout,
                                total_timeout=settings.total_timeout,
                                labels=[s.label for s in slots], sandbox=settings.sandbox,
                                limits=settings.limits, check_mode="submission")
    rows, notes = _score(slots, results, references, sub.name, student, assignment,
                         settings.limits)
    return {"submission": sub.name, "student": student, "assignment": assignment,
            "rows": [asdict(r) for r in rows], "notes": notes}


def _submission_key(sub: Submission, assignments: dict, settings: Settings) -> str:
    h = hashlib.sha256(str(sub.path.resolve()).encode())
    try:
        with open(sub.path, "rb") as f:
            for chunk in iter(lambda: f.read(2 ** 20), b""):
                h.update(chunk)
    except OSError:
        h.update(b"unreadable")
    for name, path in sorted(assignments.items()):
        h.update(name.encode() + _reference_key(path).encode())
    h.update(settings.key().encode())
    return h.hexdigest()


def _rows(result: dict) -> list:
    return [Row(**r) for r in result["rows"]]


def grade_submission(path, solutions_dir=REPO_ROOT / "solutions", timeout: float = 60,
                     total_timeout: Optional[float] = None, name: Optional[str] = None, *,
                     sandbox: Optional[bool] = None, limits: sb.Limits = sb.Limits()) -> list:
    """Grade one submitted notebook; returns its grades.csv rows (never raises for bad input).

    ``name`` is the ``submission`` column (default: ``path`` as given); ``sandbox`` defaults to
    bubblewrap where it works.
    """
    path = Path(path)
    sub = Submission(path, str(path) if name is None else name)
    settings = Settings(timeout, total_timeout, sb.problem() is None if sandbox is None
                        else sandbox, limits)
    result = asyncio.run(_grade(sub, load_solutions(solutions_dir), settings, None))
    return _rows(result)


# --------------------------------------------------------------------------- a batch

async def grade_batch(subs: list, assignments: dict, settings: Settings, store: Store,
                      jobs: int, on_result, restart: bool = False) -> None:
    """Grade ``subs`` with ``jobs`` kernels at a time; ``on_result(index, result, reused)``
    is called as each finishes (stored results are reused unless ``restart``)."""
    keys = [_submission_key(s, assignments, settings) for s in subs]
    todo = []
    for i, (sub, key) in enumerate(zip(subs, keys)):
        stored = None if restart else store.load("submission", str(sub.path.resolve()), key)
        if stored is not None:
            # the same file, perhaps named from another folder this time
            stored["submission"] = sub.name
            for row in stored["rows"]:
                row["submission"] = sub.name
            on_result(i, stored, True)
        else:
            todo.append(i)
    # The reference runs first (they may reveal an instructor error before anyone is graded)
    needed = {identify_assignment(subs[i].path, _peek(subs[i].path), assignments) for i in todo}
    # All of them finish before the first error is raised: an error left pending in another
    # task would print a second traceback at shutdown, burying the instructor's message.
    done = await asyncio.gather(*(reference_records(assignments[a], settings, store)
                                  for a in sorted(filter(None, needed))),
                                return_exceptions=True)
    for outcome in done:
        if isinstance(outcome, BaseException):
            raise outcome
    limit = asyncio.Semaphore(jobs)

    async def one(i):
        async with limit:
            try:
                result = await _grade(subs[i], assignments, settings, store)
            except InstructorError:
                raise
            except Exception as exc:  # a grader bug becomes an error row, never a lost batch
                result = _error_result(subs[i], student_id(subs[i], None), None, None,
                                       one_line(f"grader error: {type(exc).__name__}: {exc}"))
        store.save("submission", str(subs[i].path.resolve()), keys[i], result)
        on_result(i, result, False)

    await asyncio.gather(*(one(i) for i in todo))


def _peek(path: Path):
    """The notebook, if it can be read (only to see which assignment it is)."""
    try:
        return read(path)
    except ValueError:
        return None


# --------------------------------------------------------------------------- CLI

def _summary(result: dict) -> str:
    rows = result["rows"]
    line = (f"{result['submission']}: {number(sum(r['points'] for r in rows))}/"
            f"{number(sum(r['max_points'] for r in rows))}")
    if len(rows) == 1 and rows[0]["question"] == "(submission)":
        line += f" ({rows[0]['message']})"
    return line


def _parse_memory(text: str) -> int:
    units = {"k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30}
    text = text.strip().lower().removesuffix("ib").removesuffix("b")
    factor = units.get(text[-1:], None)
    value = float(text[:-1] if factor else text) * (factor or 2 ** 20)
    if value < 64 * 2 ** 20:
        raise argparse.ArgumentTypeError("give at least 64 MiB (e.g. 2GiB, 512MiB)")
    return int(value)


def _default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.grade",
        description="Grade submitted notebooks against the tests in solutions/.")
    parser.add_argument("submissions", nargs="*", type=Path, metavar="SUBMISSION",
                        help="notebooks, or folders of them (nbgrader's submitted/ layout too)")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--timeout", type=float, default=60,
                        help="seconds each cell may run (default: %(default)s)")
    parser.add_argument("--total-timeout", type=float, default=None,
                        help="seconds one submission may run in all "
                             "(default: timeout × code cells + 60)")
    parser.add_argument("--solutions", type=Path, default=REPO_ROOT / "solutions",
                        help="instructor notebooks (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=_default_jobs(),
                        help="submissions graded at once, one kernel each "
                             "(default: the number of cores, %(default)s)")
    parser.add_argument("--memory", type=_parse_memory, default=sb.Limits().memory,
                        help="memory per submission, e.g. 2GiB (default), 512MiB")
    parser.add_argument("--feedback", type=Path, default=None,
                        help="folder for the feedback pages (default: feedback/ next to --out)")
    parser.add_argument("--totals", type=Path, default=None,
                        help="per-student totals (default: OUT_totals.csv next to --out)")
    parser.add_argument("--restart", action="store_true",
                        help="grade everything again, ignoring the results of earlier runs")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run submissions without bubblewrap (only where it is missing: "
                             "their code then runs with your permissions)")
    args = parser.parse_args(argv)

    def usage(message):
        print(f"error: {message}", file=sys.stderr)
        return 2

    if not args.submissions:
        return usage("no submissions given: python -m course_lib.grade SUBMISSION.ipynb ... "
                     "--out grades.csv")
    if args.timeout <= 0 or (args.total_timeout is not None and args.total_timeout <= 0):
        return usage("--timeout and --total-timeout must be positive numbers of seconds")
    if args.jobs < 1:
        return usage("--jobs must be at least 1")
    if not args.solutions.is_dir():
        return usage(f"solutions directory {args.solutions} does not exist; pass "
                     f"--solutions DIR")
    missing = [p for p in args.submissions if not p.exists()]
    if missing:
        return usage(f"no such file or folder: {', '.join(map(str, missing))}")
    try:  # grades/grades.csv on a first run: the folder is made, as make grade does
        args.out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return usage(f"cannot create the folder of --out {args.out} ({exc.strerror}); "
                     "pass --out with a folder you can write to")
    assignments = load_solutions(args.solutions)
    if not assignments:
        return usage(f"no solution notebooks (*.ipynb) in {args.solutions}")
    for path in assignments.values():  # an instructor error: stop before grading anyone
        try:
            _read_solution(path)
        except Exception as exc:
            return usage(f"solution notebook {path} is malformed: {exc}")
    why = sb.problem()
    if why and not args.no_sandbox:
        return usage(f"cannot sandbox the submissions: {why}.\nInstall bubblewrap, or pass "
                     f"--no-sandbox to grade without it: each submission's code then runs with "
                     f"your permissions (it can read and change your files and use the "
                     f"network); only the memory, CPU, file-size and time limits apply.")
    if args.no_sandbox:
        print("WARNING: grading WITHOUT a sandbox (--no-sandbox): each submission's code runs "
              "with your permissions and can read or change your files and use the network. "
              "Only the time, memory, CPU and file-size limits apply.", file=sys.stderr)
    subs = find(args.submissions)
    if not subs:
        return usage("no notebooks (*.ipynb) in the folders given")

    settings = Settings(args.timeout, args.total_timeout, not args.no_sandbox,
                        sb.Limits(memory=args.memory))
    out = args.out
    feedback = args.feedback or out.parent / "feedback"
    totals = args.totals or out.with_name(f"{out.stem}_totals.csv")
    store = Store(out.with_name(f"{out.stem}_results"))
    results: dict = {}

    def on_result(i, result, reused):
        # Everything graded so far, in command-line order, rewritten whole after each one
        results[i] = result
        done = [results[k] for k in sorted(results)]
        write_csv([row for r in done for row in _rows(r)], out)
        write_totals(done, totals)
        write_feedback(feedback, result)
        print(f"[{len(results)}/{len(subs)}] {_summary(result)}"
              + (" (graded before)" if reused else ""), flush=True)

    try:
        asyncio.run(grade_batch(subs, assignments, settings, store, args.jobs, on_result,
                                args.restart))
    except InstructorError as exc:
        return usage(str(exc))
    except KeyboardInterrupt:
        print(f"interrupted: {len(results)} of {len(subs)} submissions graded and written to "
              f"{out}; run the same command again to grade the rest (graded submissions are "
              f"not graded again)", file=sys.stderr)
        return 130
    for warning in write_totals([results[k] for k in sorted(results)], totals):
        print(f"warning: {warning}", file=sys.stderr)
    n_rows = sum(len(r["rows"]) for r in results.values())
    print(f"wrote {n_rows} rows to {out}, totals to {totals}, feedback to {feedback}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
