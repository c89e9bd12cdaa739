"""Generate the student exercises from the instructor's solution notebooks.

``solutions/NN_*.ipynb`` is the single source: each is an exercise notebook *with* its answers,
written in nbgrader's format (cell metadata ``nbgrader``, schema_version 3). This module turns a
solution into the exercise a student receives, following nbgrader's ``ClearSolutions`` and
``ClearHiddenTests`` rules:

- in an answer cell (``solution: true``) every ``### BEGIN SOLUTION`` … ``### END SOLUTION``
  region becomes a stub at the region's indentation: ``# YOUR CODE HERE`` and
  ``raise NotImplementedError()`` in code, ``YOUR ANSWER HERE`` in markdown;
- in a test cell (``grade: true``) every ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS``
  region is removed, markers included;
- outputs and execution counts are cleared; all metadata (the nbgrader records included) is kept,
  so the exercise can be graded by ``course_lib.grade`` or by nbgrader itself.

Markers are recognised the way nbgrader recognises them: a line *containing* ``BEGIN SOLUTION``
(whatever comment prefix precedes it). Unlike nbgrader, an answer cell without markers is an
error rather than a cell silently replaced by a stub: the instructor should say which part is the
answer.

Command line (``make exercises`` runs the first form)::

    python -m course_lib.exercises                 # write exercises/ from solutions/
    python -m course_lib.exercises --check         # exit 1 if exercises/ is stale
    python -m course_lib.exercises --solutions DIR --exercises DIR
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import re
import sys
from pathlib import Path
from typing import Optional, Sequence

import nbformat

__all__ = [
    "convert", "convert_file", "exercise_text", "check_no_answers", "check_exercises",
    "write_exercises", "nbgrader_meta", "is_answer_cell", "is_test_cell",
    "BEGIN_SOLUTION", "END_SOLUTION", "BEGIN_HIDDEN", "END_HIDDEN", "CODE_STUB", "TEXT_STUB",
    "REPO_ROOT",
]

BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = ("YOUR ANSWER HERE",)

#: The repository root: the parent of the ``course_lib`` package directory.
REPO_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- cell kinds

def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader record (``{}`` for a plain cell)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_answer_cell(cell) -> bool:
    """An answer cell: the student writes here (nbgrader ``solution: true``)."""
    return bool(nbgrader_meta(cell).get("solution", False))


def is_test_cell(cell) -> bool:
    """A test cell: one graded question (nbgrader ``grade: true``, not a solution)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade", False)) and not meta.get("solution", False)


def _describe(cell, index: int) -> str:
    grade_id = nbgrader_meta(cell).get("grade_id")
    where = f"cell {index}"
    return f"{where} (grade_id {grade_id!r})" if grade_id else where


# --------------------------------------------------------------------------- regions

def _replace_regions(lines, begin, end, stub, *, where, fix):
    """Replace every ``begin … end`` region of ``lines`` by ``stub`` lines.

    ``stub`` is a tuple of lines (each indented like the BEGIN marker) or ``None`` to drop the
    region, markers included. ``lines`` come from ``source.split("\\n")`` and the result is
    joined with ``"\\n"``, exactly as nbgrader does, so both tools produce the same text.
    Returns ``(new_lines, regions)`` where ``regions`` lists each region's body; raises
    ValueError on nested, unopened or unclosed regions.
    """
    out, regions, begin_line = [], [], None
    for lineno, line in enumerate(lines, start=1):
        if begin in line:
            if begin_line is not None:
                raise ValueError(f"{where}: nested '{begin}' on line {lineno} (the one on line "
                                 f"{begin_line} has no '{end}' yet). {fix}")
            begin_line = lineno
            regions.append([])
            if stub is not None:
                indent = re.match(r"\s*", line).group(0)
                out.extend(indent + s for s in stub)
        elif end in line:
            if begin_line is None:
                raise ValueError(f"{where}: '{end}' on line {lineno} has no '{begin}' before "
                                 f"it. {fix}")
            begin_line = None
        elif begin_line is None:
            out.append(line)
        else:
            regions[-1].append(line)
    if begin_line is not None:
        raise ValueError(f"{where}: '{begin}' on line {begin_line} is never closed by "
                         f"'{end}'. {fix}")
    return out, ["\n".join(r) for r in regions]


def _cleared_outputs(cell):
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    return cell


def _stable_id(nb_name: str, index: int, source: str) -> str:
    """A cell id that depends only on the notebook's content (nbformat ≥ 4.5 needs one)."""
    return hashlib.sha1(f"{nb_name}\0{index}\0{source}".encode()).hexdigest()[:8]


# --------------------------------------------------------------------------- convert

def convert(solution_nb, name: Optional[str] = None):
    """The exercise notebook for ``solution_nb``: answers stubbed, hidden tests removed.

    Pure: returns a new NotebookNode and leaves ``solution_nb`` untouched. ``name`` (default:
    the notebook's ``course_lib.assignment`` metadata) is only used in error messages.
    Raises ValueError naming the notebook, the cell and what to fix when the markers are
    malformed: unbalanced or nested BEGIN/END, an answer cell without a solution region,
    a solution region outside an answer cell, hidden tests outside a test cell, or
    duplicate/missing grade_ids.
    """
    nb = copy.deepcopy(solution_nb)
    name = name or nb.get("metadata", {}).get("course_lib", {}).get("assignment") or "notebook"
    seen_ids: dict = {}
    needs_ids = (nb.get("nbformat", 4), nb.get("nbformat_minor", 0)) >= (4, 5)
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        where = f"{name}: {_describe(cell, index)}"
        if meta:
            grade_id = meta.get("grade_id")
            if not grade_id:
                raise ValueError(f"{where} has nbgrader metadata but no grade_id. Give every "
                                 f"nbgrader cell a unique grade_id.")
            if grade_id in seen_ids:
                raise ValueError(f"{where} reuses the grade_id of cell {seen_ids[grade_id]}. "
                                 f"Give every nbgrader cell a unique grade_id.")
            seen_ids[grade_id] = index
            if is_test_cell(cell) and "points" not in meta:
                raise ValueError(f"{where} is a test cell (grade: true) without 'points'. "
                                 f"Add the question's points to its nbgrader metadata.")
        lines = cell.source.split("\n")

        stub = CODE_STUB if cell.cell_type == "code" else TEXT_STUB
        fix = ("Put each answer between '### BEGIN SOLUTION' and '### END SOLUTION' lines, "
               "in a cell whose nbgrader metadata has solution: true.")
        lines, solutions = _replace_regions(lines, BEGIN_SOLUTION, END_SOLUTION, stub,
                                            where=where, fix=fix)
        if solutions and not is_answer_cell(cell):
            raise ValueError(f"{where} contains '### {BEGIN_SOLUTION}' but is not an answer "
                             f"cell. Set solution: true in its nbgrader metadata, or move the "
                             f"answer into the answer cell.")
        if is_answer_cell(cell) and not solutions:
            raise ValueError(f"{where} is an answer cell (solution: true) without a "
                             f"'### {BEGIN_SOLUTION}' … '### {END_SOLUTION}' region. Mark "
                             f"the part the student must write, or set solution: false.")

        fix = ("Put hidden tests between '### BEGIN HIDDEN TESTS' and '### END HIDDEN TESTS' "
               "lines, inside a test cell (grade: true).")
        lines, hidden = _replace_regions(lines, BEGIN_HIDDEN, END_HIDDEN, None,
                                         where=where, fix=fix)
        if hidden and not is_test_cell(cell):
            raise ValueError(f"{where} contains '### {BEGIN_HIDDEN}' but is not a test cell. "
                             f"Set grade: true (and points) in its nbgrader metadata.")

        cell.source = "\n".join(lines)
        # nbformat.writes would otherwise invent random ids: keep the output deterministic
        if needs_ids and not cell.get("id"):
            cell["id"] = _stable_id(name, index, cell.source)
        _cleared_outputs(cell)
    return nb


def exercise_text(exercise_nb) -> str:
    """The bytes (as text) written to disk: nbstripout's formatting, ending with a newline."""
    text = nbformat.writes(exercise_nb)
    return text if text.endswith("\n") else text + "\n"


def _read(path: Path):
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as exc:  # any unreadable file: say which and why
        raise ValueError(f"{path}: cannot be read as a Jupyter notebook "
                         f"({type(exc).__name__}: {exc}). Fix or re-save the file.") from exc


def convert_file(solution_path) -> str:
    """Read a solution notebook and return the text of its exercise."""
    path = Path(solution_path)
    return exercise_text(convert(_read(path), name=str(path)))


# --------------------------------------------------------------------------- checks

def _regions(source: str, begin: str, end: str) -> list:
    """The bodies of the ``begin … end`` regions of a (well-formed) cell source."""
    _, regions = _replace_regions(source.split("\n"), begin, end, None,
                                  where="", fix="")
    return regions


def check_no_answers(nb, solution_nb=None) -> list:
    """Problems that show an exercise still gives answers away (an empty list if none).

    Flags any cell containing a solution or hidden-test marker and any code cell that still
    carries outputs (they may show the instructor's results). Given the ``solution_nb`` the
    exercise was made from, also flags a cell that still contains the text of one of that
    cell's solution or hidden-test regions (matched by grade_id), e.g. after a marker was
    deleted by hand.
    """
    problems = []
    markers = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
    for index, cell in enumerate(nb.cells):
        found = [m for m in markers if m in cell.get("source", "")]
        if found:
            problems.append(f"{_describe(cell, index)} still contains "
                            + ", ".join(f"'{m}'" for m in found))
        if cell.get("cell_type") == "code" and cell.get("outputs"):
            problems.append(f"{_describe(cell, index)} still has outputs")
    if solution_nb is not None:
        by_id = {nbgrader_meta(c).get("grade_id"): (i, c) for i, c in enumerate(nb.cells)}
        for cell in solution_nb.cells:
            grade_id = nbgrader_meta(cell).get("grade_id")
            if grade_id not in by_id:
                continue
            index, exercise_cell = by_id[grade_id]
            for what, begin, end in (("solution", BEGIN_SOLUTION, END_SOLUTION),
                                     ("hidden test", BEGIN_HIDDEN, END_HIDDEN)):
                for body in _regions(cell.source, begin, end):
                    if body.strip() and body.strip() in exercise_cell.get("source", ""):
                        problems.append(f"{_describe(exercise_cell, index)} still contains "
                                        f"its {what} text")
    return problems


def _pairs(solutions_dir: Path, exercises_dir: Path):
    solutions = sorted(solutions_dir.glob("*.ipynb"))
    wanted = {p.name for p in solutions}
    extra = sorted(p for p in exercises_dir.glob("*.ipynb") if p.name not in wanted)
    return [(p, exercises_dir / p.name) for p in solutions], extra


def check_exercises(solutions_dir, exercises_dir) -> list:
    """Why ``exercises_dir`` is not what ``solutions_dir`` generates (empty list: up to date)."""
    problems = []
    pairs, extra = _pairs(Path(solutions_dir), Path(exercises_dir))
    for solution, exercise in pairs:
        expected = convert_file(solution)
        if not exercise.exists():
            problems.append(f"missing: {exercise} (generated from {solution})")
        elif exercise.read_text(encoding="utf-8") != expected:
            problems.append(f"stale: {exercise} differs from what {solution} generates")
    problems += [f"extra: {p} has no solution notebook in {solutions_dir}" for p in extra]
    return problems


def write_exercises(solutions_dir, exercises_dir) -> list:
    """Write every exercise; delete exercises whose solution is gone. Returns what changed."""
    exercises_dir = Path(exercises_dir)
    exercises_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    pairs, extra = _pairs(Path(solutions_dir), exercises_dir)
    for solution, exercise in pairs:
        text = convert_file(solution)
        if not exercise.exists() or exercise.read_text(encoding="utf-8") != text:
            # newline="\n": the same bytes on every platform
            exercise.write_text(text, encoding="utf-8", newline="\n")
            changed.append(f"wrote {exercise}")
    for path in extra:  # exercises/ is generated: a file without a solution is left over
        path.unlink()
        changed.append(f"removed {path} (no solution notebook)")
    return changed


# --------------------------------------------------------------------------- CLI

def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.exercises",
        description="Generate exercises/ from the nbgrader-format notebooks in solutions/.")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if exercises/ is stale, missing or has extras")
    parser.add_argument("--solutions", type=Path, default=REPO_ROOT / "solutions",
                        help="solution notebooks (default: %(default)s)")
    parser.add_argument("--exercises", type=Path, default=REPO_ROOT / "exercises",
                        help="generated exercise notebooks (default: %(default)s)")
    args = parser.parse_args(argv)

    if not args.solutions.is_dir():
        print(f"error: solutions directory {args.solutions} does not exist; pass --solutions DIR.",
              file=sys.stderr)
        return 2
    try:
        if args.check:
            problems = check_exercises(args.solutions, args.exercises)
            if problems:
                print("exercises/ is out of date with solutions/:", file=sys.stderr)
                for p in problems:
                    print(f"  {p}", file=sys.stderr)
                print("Run `make exercises` (python -m course_lib.exercises) to regenerate.",
                      file=sys.stderr)
                return 1
            print(f"{args.exercises} is up to date with {args.solutions}.")
            return 0
        for line in write_exercises(args.solutions, args.exercises):
            print(line)
        return 0
    except ValueError as exc:  # a malformed solution notebook: the message says what to fix
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
