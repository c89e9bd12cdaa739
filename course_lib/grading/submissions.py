"""Submitted notebooks: finding them, reading them safely, knowing whose and which they are,
and assembling the notebook the grader runs.

Input: notebook files, or folders searched for ``*.ipynb``. nbgrader's layout
``submitted/<student>/<assignment>/<notebook>.ipynb`` is recognised (the student id is the
folder's name); elsewhere the student id is the file name without the assignment's name
(``alice_01_learning_as_optimization.ipynb`` → ``alice``).

The notebook the grader runs follows the *solution*: answer cells (nbgrader ``solution: true``)
come from the submission, matched by grade_id (a deleted one is replaced by its exercise stub);
every other nbgrader cell comes from the solution, hidden tests included, so editing, moving or
deleting a test changes nothing; cells the student added are kept after the submission's
preceding known cell, so their helper functions still run. In the student's copy of a test cell
every check call is stripped of its expected side (`strip_expected`).
"""
from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import nbformat

from course_lib.exercises import convert, is_answer_cell, is_test_cell, nbgrader_meta

__all__ = ["Submission", "MAX_BYTES", "find", "read", "identify_assignment", "student_id",
           "questions", "is_manual", "Slot", "build_notebook", "strip_expected", "count_checks",
           "CHECK_FUNCTIONS"]

#: A submitted file larger than this is not read (a notebook with huge outputs, or no notebook).
MAX_BYTES = 20 * 2 ** 20
#: The checks a test cell may call (course_lib.check), and the arguments the student's kernel
#: receives: the check's name and the answer (or the function and its test cases).
CHECK_FUNCTIONS = {"array": ("name", "got"), "scalar": ("name", "got"),
                   "trajectory": ("name", "got"), "function": ("name", "fn", None, "cases")}


@dataclass(frozen=True)
class Submission:
    """A file to grade: its path, its name in grades.csv, and the student id if known."""
    path: Path
    name: str
    student: Optional[str] = None


# --------------------------------------------------------------------------- finding

def find(arguments) -> list:
    """The submissions named by command-line arguments: files as given, folders searched.

    In a folder, ``<student>/<assignment>/<notebook>.ipynb`` (nbgrader's ``submitted/``
    layout) and ``<student>/<notebook>.ipynb`` take the student id from the first folder.
    Checkpoints are skipped; each file is listed once, in the order given (folders sorted).
    """
    found, seen = [], set()

    def add(path: Path, student):
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            parts = key.parts  # nbgrader's layout wherever the folder given starts
            if len(parts) >= 5 and parts[-4] == "submitted":
                student = parts[-3]
            found.append(Submission(path, str(path), student))

    for arg in arguments:
        arg = Path(arg)
        if arg.is_dir():
            for path in sorted(arg.rglob("*.ipynb")):
                rel = path.relative_to(arg)
                if any(p.startswith(".") for p in rel.parts):  # .ipynb_checkpoints, hidden
                    continue
                add(path, rel.parts[0] if len(rel.parts) in (2, 3) else None)
        else:
            add(arg, None)
    return found


def student_id(submission: Submission, assignment: Optional[str]) -> str:
    """The student a submission belongs to (see the module doc)."""
    if submission.student:
        return submission.student
    stem = submission.path.stem
    rest = stem
    if assignment:
        rest = re.sub(re.escape(assignment), " ", stem, flags=re.IGNORECASE)
    rest = re.sub(r"\(\d+\)", " ", rest)  # "name (1)": a browser's second download
    rest = re.sub(r"[\s_\-.]+", " ", rest).strip().replace(" ", "_")
    return rest or stem


# --------------------------------------------------------------------------- reading

def read(path: Path):
    """The submission as a v4 NotebookNode; ValueError with a student-readable reason if not."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} is not a file: pass the path of a .ipynb notebook")
    size = path.stat().st_size
    if size == 0:
        raise ValueError("the file is empty: submit the .ipynb file saved from Jupyter")
    if size > MAX_BYTES:
        raise ValueError(f"the file is {size / 2 ** 20:.0f} MiB, more than the "
                         f"{MAX_BYTES / 2 ** 20:.0f} MiB a notebook may have: clear its outputs "
                         f"(Edit › Clear Outputs of All Cells), save, and submit again")
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
    except RecursionError:
        raise ValueError("not a Jupyter notebook (JSON nested too deeply)") from None
    if not isinstance(data, dict) or ("cells" not in data and "worksheets" not in data):
        raise ValueError("not a Jupyter notebook (JSON without 'cells'): submit the .ipynb "
                         "file saved from Jupyter")
    major = data.get("nbformat")
    if isinstance(major, int) and major > 4:
        raise ValueError(f"the notebook is in format version {major}, newer than this grader "
                         f"reads (4): save it as a version 4 notebook (File › Save and Export "
                         f"Notebook As › Notebook) and submit again")
    if isinstance(major, int) and major < 3:
        raise ValueError(f"the notebook is in format version {major}, too old to read: open "
                         f"it in Jupyter, save it, and submit again")
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as exc:
        raise ValueError(" ".join(f"not a readable Jupyter notebook ({type(exc).__name__}: "
                                  f"{exc}): re-save it in Jupyter and submit again".split())
                         ) from None


# --------------------------------------------------------------------------- identifying

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
    with (``01_answers.ipynb``) if exactly one assignment has that prefix; else the folder
    (nbgrader's ``<assignment>/<notebook>.ipynb``) if it names one.
    """
    named = _named_assignment(nb)
    if named in assignments:
        return named
    path = Path(path)
    name = path.name.lower()
    contained = [a for a in assignments if a.lower() in name]
    if contained:
        return max(contained, key=len)
    prefixed = [a for a in assignments
                if re.match(r"\d+_", a) and name.startswith(a.split("_", 1)[0] + "_")]
    if len(prefixed) == 1:
        return prefixed[0]
    folder = path.parent.name.lower()
    in_folder = [a for a in assignments if a.lower() in folder]
    return max(in_folder, key=len) if in_folder else None


def is_manual(cell) -> bool:
    """An nbgrader cell graded by hand: a task, a graded answer, or graded markdown."""
    meta = nbgrader_meta(cell)
    graded = bool(meta.get("grade"))
    return bool(meta.get("task")) or (graded and (bool(meta.get("solution"))
                                                  or cell.get("cell_type") != "code"))


def questions(solution_nb) -> list:
    """``[(grade_id, max_points), ...]`` of the solution's graded cells, in notebook order."""
    return [(nbgrader_meta(c)["grade_id"], nbgrader_meta(c).get("points", 0))
            for c in solution_nb.cells if is_test_cell(c) or is_manual(c)]


# --------------------------------------------------------------------------- stripping

class _Strip(ast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                and func.value.id == "check" and func.attr in CHECK_FUNCTIONS):
            return node
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            raise ValueError(f"line {node.lineno}: check.{func.attr}(*…) or (**…): pass the "
                             f"arguments of a check by name or position, so that the grader "
                             f"can remove its expected side from the student's copy")
        params = CHECK_FUNCTIONS[func.attr]
        keep = [p for p in params if p]
        given = {p: a for p, a in zip(params, node.args) if p}
        given.update({k.arg: k.value for k in node.keywords if k.arg in keep})
        node.args = [given[p] for p in params[:2] if p in given]
        node.keywords = [ast.keyword(arg=p, value=given[p]) for p in keep[2:] if p in given]
        return node


def count_checks(source: str) -> int:
    """How many ``check.*`` calls the cell's code makes (in its text)."""
    return sum(1 for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and isinstance(node.func.value, ast.Name) and node.func.value.id == "check"
               and node.func.attr in CHECK_FUNCTIONS)


def strip_expected(source: str) -> str:
    """The test cell as the student's kernel runs it: each ``check.*`` call keeps only its
    name and the answer (or the function and its cases); the expected values, the reference,
    the typical mistakes and the settings are removed (the grader reads them from the
    solution's run). Comments go too (the text is regenerated from the syntax tree)."""
    return ast.unparse(_Strip().visit(ast.parse(source)))


# --------------------------------------------------------------------------- assembling

@dataclass
class Slot:
    """Where a cell of the assembled notebook came from and what it means for scoring."""
    kind: str                  # answer | test | manual | locked | extra
    label: str                 # grade_id, or a description of a student-added cell
    points: float = 0
    answers: list = field(default_factory=list)  # a test's answer cells (since the last test)
    note: str = ""             # e.g. "answer cell q1 missing"


def build_notebook(solution_nb, submission_nb, *, strip: bool = True):
    """The notebook to grade and, cell by cell, where each cell came from (see module doc).

    With ``strip`` the test cells are the student's kernel's copies (`strip_expected`).
    """
    solution_ids = {nbgrader_meta(c).get("grade_id") for c in solution_nb.cells} - {None}
    stubs = {nbgrader_meta(c).get("grade_id"): c for c in convert(solution_nb).cells}

    # The submission's cells with a known grade_id (first copy wins); every other cell is
    # "extra" and anchored to the known cell before it (None: the top of the notebook).
    matched, extras, anchor = {}, {}, None
    for cell in submission_nb.get("cells", []):
        if not isinstance(cell, dict):
            continue
        grade_id = nbgrader_meta(cell).get("grade_id") if isinstance(
            cell.get("metadata"), dict) else None
        if grade_id in solution_ids and grade_id not in matched:
            matched[grade_id] = cell
            anchor = grade_id
        else:
            extras.setdefault(anchor, []).append(cell)

    cells, slots = [], []

    def add_extras(after):
        for cell in extras.get(after, []):
            kind = cell.get("cell_type")
            if kind not in ("code", "markdown", "raw") or not isinstance(cell.get("source"), str):
                continue
            clean = (nbformat.v4.new_code_cell() if kind == "code" else
                     nbformat.v4.new_markdown_cell() if kind == "markdown" else
                     nbformat.v4.new_raw_cell())
            clean.source = cell["source"]
            where = f"after {after}" if after else "at the top"
            cells.append(clean)
            slots.append(Slot("extra", f"a cell the student added {where}"))

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
            source = matched.get(grade_id, {}).get("source")
            if isinstance(source, str):
                new.source = source
            else:
                note = f"answer cell {grade_id} missing"
            kind = "manual" if is_manual(cell) else "answer"
            cells.append(new)
            slots.append(Slot(kind, grade_id, meta.get("points", 0), note=note))
            if new.cell_type == "code":
                pending_answers.append(slots[-1])
        else:
            new = copy.deepcopy(cell)  # hidden tests included
            if new.cell_type == "code":
                new.outputs, new.execution_count = [], None
            if is_test_cell(cell) and not is_manual(cell):
                if strip:
                    new.source = strip_expected(cell.source)
                slots.append(Slot("test", grade_id, meta.get("points", 0),
                                  answers=pending_answers))
                pending_answers = []
            else:
                slots.append(Slot("manual" if is_manual(cell) else "locked", grade_id,
                                  meta.get("points", 0)))
            cells.append(new)
        add_extras(grade_id)

    nb = nbformat.v4.new_notebook(cells=cells, metadata=solution_nb.metadata)
    return nb, slots
