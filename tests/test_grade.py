"""The grader (course_lib.grade): tamper-proof scores, the sandbox, broken and hostile
submissions, and nothing lost.

Most cases are graded in one CLI batch (``--jobs 4``, ``--timeout 3``) shared by the module:
starting a kernel per submission dominates the cost, and a single batch also proves that no
broken or hostile submission stops the others. Each case builds its own submission in
`_submissions`; the tests below read its rows. The batch runs in bubblewrap where it works
(CI installs it); elsewhere it runs with --no-sandbox and the sandbox's own tests skip.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from course_lib import grade
from course_lib.exercises import convert
from course_lib.grade import CSV_COLUMNS, grade_submission, identify_assignment, run_notebook
from course_lib.grading import sandbox as sb
from course_lib.grading.report import write_totals
from course_lib.grading.submissions import build_notebook, find, strip_expected, student_id

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = Path(__file__).parent / "fixtures" / "grading" / "solutions"
FIXTURE = SOLUTIONS / "99_fixture.ipynb"
FULL = {"q1_test": 1, "q2_test": 2, "q3_test": 3}
SANDBOX = sb.problem() is None
# Without bubblewrap a student's make test skips the sandbox's own tests; CI installs it, so
# there they fail instead.
needs_sandbox = pytest.mark.skipif(not SANDBOX and not os.environ.get("CI"),
                                   reason=f"no bubblewrap sandbox here: {sb.problem()}")
NO_SANDBOX = [] if SANDBOX or os.environ.get("CI") else ["--no-sandbox"]

pytestmark = pytest.mark.notebook

ANSWERS = {
    "q1_answer": 'def double(x):\n    """Return SCALE · x."""\n    return SCALE * x',
    "q2_answer": "def mean(xs):\n    return sum(xs) / len(xs)",
    "q3_answer": "def norm(v):\n    return math.sqrt(sum(x * x for x in v))",
}
WRONG = {"q1_answer": "def double(x):\n    return None",
         "q2_answer": "def mean(xs):\n    return 0",
         "q3_answer": "def norm(v):\n    return 0"}


def _solution():
    return nbformat.read(str(FIXTURE), as_version=4)


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _exercise(**answers):
    """The untouched exercise, with the given answer cells (by grade_id) filled in."""
    nb = convert(_solution())
    for cell in nb.cells:
        if _gid(cell) in answers:
            cell.source = answers[_gid(cell)]
    return nb


def _without(nb, *grade_ids):
    nb.cells = [c for c in nb.cells if _gid(c) not in grade_ids]
    return nb


def _wrong(first_lines: str, **answers):
    """Wrong answers (or those given), with ``first_lines`` at the top of the first answer."""
    chosen = {**WRONG, **answers}
    chosen["q1_answer"] = first_lines + "\n\n" + chosen["q1_answer"]
    return _exercise(**chosen)


# --------------------------------------------------------------------------- hostile submissions

FORGE = '''from IPython.display import publish_display_data
from course_lib.grading.records import MIME, encode
VISIBLE = {"double": 6, "mean([1, 2, 3])": 2, "norm([3, 4])": 5}


def _forged(kind, name, *args, **kwargs):
    # results "sent back" without the answers' help: the values the visible tests show
    case = {"label": "", "inputs": [None], "got": encode(VISIBLE.get(name, 0))}
    publish_display_data({MIME: {"check": kind, "name": name, "spec": {}, "cases": [case]}})


check.scalar = lambda *a, **k: _forged("scalar", *a)
check.function = lambda *a, **k: _forged("function", *a)
publish_display_data({MIME: {"check": "scalar", "name": "junk", "cases": "not a list"}})'''

HOOKS = '''ip = get_ipython()
ip.set_custom_exc((BaseException,), lambda *args, **kwargs: None)   # swallow every error
# and turn every later cell that checks something into a cell that prints success
ip.input_transformers_cleanup.append(
    lambda lines: ["print('✓ all tests pass')\\n"] if any("check." in l for l in lines) else lines)'''

MODULES = '''import sys, types
import course_lib
fake = types.ModuleType("course_lib.check")
fake.function = fake.scalar = fake.array = lambda *a, **k: print("✓ correct")
sys.modules["course_lib.check"] = course_lib.check = check = fake'''


def _meta_tampered():
    """Right answers to q1 and q3, a wrong one to q2; test cells moved, renamed, deleted,
    re-labelled as worth 100 points and unlocked."""
    nb = _exercise(q1_answer=ANSWERS["q1_answer"], q2_answer=WRONG["q2_answer"],
                   q3_answer=ANSWERS["q3_answer"])
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta.update(points=100, locked=False)
            cell.source = "print('✓ passed')"
        if _gid(cell) == "q1_test":
            meta["grade_id"] = "q1_test_renamed"
    _without(nb, "q2_test")
    q3 = [c for c in nb.cells if _gid(c) in ("q3_answer", "q3_test")]
    nb.cells = q3 + [c for c in nb.cells if c not in q3]
    return nb


def _writer(tmp: Path):
    """A submission that tries to read the hidden tests and the others' files, to change files
    outside its own folder, to reach the network and to see other processes; q1 scores only if
    every attempt failed. It opens files to
    append nothing, so that even a failed sandbox changes no file but the grades, which it
    really tries to overwrite."""
    import course_lib

    readable = [REPO / "solutions", tmp, tmp / "solutions"]
    writable = [tmp / "alice_99_fixture.ipynb", tmp / "grades.csv",
                tmp / "solutions" / "99_fixture.ipynb", Path(course_lib.__file__)]
    # A checkout under /tmp (a CI clone): the sandbox's /tmp is private, and the folders that
    # hold its read-only mounts exist there too, so writing REPO/new_file from inside succeeds
    # into that scratch space and changes nothing outside, which the test checks from outside.
    if not REPO.resolve().is_relative_to(Path("/tmp").resolve()):
        writable.append(REPO / "new_file")
    code = f'''import os
BLOCKED = []
for folder in {[str(p) for p in readable]!r}:
    try:
        os.listdir(folder)
        BLOCKED.append(False)
    except OSError:
        BLOCKED.append(True)
for target in {[str(p) for p in writable]!r}:
    try:
        with open(target, "a"):
            pass
        BLOCKED.append(False)
    except OSError:
        BLOCKED.append(True)
for attempt in (lambda: open({str(tmp / "grades.csv")!r}, "w").write("hacked"),
                lambda: os.remove({str(tmp / "alice_99_fixture.ipynb")!r}),
                lambda: open({str(tmp.parent / (tmp.name + "_escape"))!r}, "w").write("x")):
    try:
        attempt()
    except OSError:
        pass


# no network, and only its own processes in sight
import socket
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2).close()
    BLOCKED.append(False)
except OSError:
    BLOCKED.append(True)
BLOCKED.append(len([p for p in os.listdir("/proc") if p.isdigit()]) < 10)


def double(x):
    return SCALE * x if all(BLOCKED) else -1'''
    return _exercise(q1_answer=code, q2_answer=ANSWERS["q2_answer"],
                     q3_answer=ANSWERS["q3_answer"])


def _submissions(tmp: Path):
    """name → notebook, or the raw text of a file that is no notebook, in batch order.

    The slow ones come first, so the parallel batch ends sooner.
    """
    edited = _exercise(q2_answer=ANSWERS["q2_answer"], q3_answer=ANSWERS["q3_answer"])
    next(c for c in edited.cells if _gid(c) == "q1_test").source = "pass  # always passes"
    _without(edited, "q3_test")

    with_helpers = _exercise(q1_answer="def double(x):\n    return _twice(x)", **{
        k: v for k, v in ANSWERS.items() if k != "q1_answer"})
    with_helpers.cells.insert(2, new_code_cell("def _twice(x):\n    return 2 * x"))
    with_helpers.cells.append(new_markdown_cell("My notes."))

    flood = _exercise(**ANSWERS)
    flood.cells.insert(0, new_code_cell("for _ in range(5000):\n    print('x' * 1000)"))

    v3 = nbformat.writes(nbformat.convert(_solution(), 3), version=3)
    v5 = json.dumps({**json.loads(nbformat.writes(_solution())), "nbformat": 5})
    no_cells = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})

    subs = {
        "leo_99_fixture.ipynb": _exercise(
            q1_answer=("import time\ndef double(x):\n    while True:\n        try:\n"
                       "            time.sleep(0.1)\n        except BaseException:\n"
                       "            pass"),
            q2_answer=ANSWERS["q2_answer"], q3_answer=ANSWERS["q3_answer"]),
        "frank_99_fixture.ipynb": _exercise(
            q1_answer="def double(x):\n    while True:\n        pass",
            q2_answer=ANSWERS["q2_answer"], q3_answer=ANSWERS["q3_answer"]),
        "mallory_builtins_99_fixture.ipynb": _wrong(
            "import builtins\nbuiltins.isinstance = lambda obj, cls: True"),
        "flood_99_fixture.ipynb": flood,
        "slowpoke_99_fixture.ipynb": _exercise(
            q1_answer="import time\n\n\ndef double(x):\n    time.sleep(0.4)\n    return SCALE * x",
            q2_answer=ANSWERS["q2_answer"], q3_answer=ANSWERS["q3_answer"]),
        "alice_99_fixture.ipynb": _solution(),
        "bob_99_fixture.ipynb": _exercise(),
        "carol.ipynb": _exercise(q2_answer=ANSWERS["q2_answer"]),  # found by its metadata
        "dave_99_fixture.ipynb": edited,
        "erin_99_fixture.ipynb": _exercise(q1_answer=ANSWERS["q1_answer"],
                                           q2_answer="def mean(xs):\n    return 2",
                                           q3_answer=ANSWERS["q3_answer"]),
        "grace_99_fixture.ipynb": _exercise(q1_answer=ANSWERS["q1_answer"],
                                            q2_answer="import os\nos._exit(1)",
                                            q3_answer=ANSWERS["q3_answer"]),
        "segv_99_fixture.ipynb": _exercise(q1_answer=ANSWERS["q1_answer"],
                                           q2_answer="import ctypes\nctypes.string_at(0)",
                                           q3_answer=ANSWERS["q3_answer"]),
        "hog_99_fixture.ipynb": _exercise(
            q1_answer=ANSWERS["q1_answer"], q3_answer=ANSWERS["q3_answer"],
            q2_answer="hoard = bytearray(64 * 2 ** 30)\n\n\n" + ANSWERS["q2_answer"]),
        "heidi_99_fixture.ipynb": "this is not a notebook\n",
        "empty_99_fixture.ipynb": "",
        "v3_99_fixture.ipynb": v3,
        "v5_99_fixture.ipynb": v5,
        "huge_99_fixture.ipynb": None,  # written sparse by the fixture
        "nocells_99_fixture.ipynb": no_cells,
        "ivan_99_fixture.ipynb": _solution(),
        "notes.txt": "a file that is nothing of the kind\n",
        "judy_99_fixture.ipynb": with_helpers,
        "ken_99_fixture.ipynb": _without(_exercise(**ANSWERS), "q3_answer"),
        "mallory_check_99_fixture.ipynb": _wrong(
            "check.function = check.scalar = check.array = lambda *a, **k: None"),
        "mallory_forge_99_fixture.ipynb": _wrong(FORGE),
        "mallory_numpy_99_fixture.ipynb": _wrong(
            "import numpy as np\nnp.allclose = np.isclose = np.array_equal = "
            "lambda *a, **k: True"),
        "mallory_modules_99_fixture.ipynb": _wrong(MODULES),
        "mallory_hooks_99_fixture.ipynb": _wrong(
            HOOKS, q2_answer="def mean(xs):\n    raise ValueError('no')"),
        "mallory_print_99_fixture.ipynb": _wrong(
            'print("✓ double is correct on 1 test case.\\n✓ mean([1, 2, 3]) is correct.")'),
        "mallory_meta_99_fixture.ipynb": _meta_tampered(),
        "mallory_visible_99_fixture.ipynb": _exercise(
            q1_answer="def double(x):\n    return 6 if x == 3 else 0",
            q2_answer="def mean(xs):\n    return 2 if xs == [1, 2, 3] else 0",
            q3_answer="def norm(v):\n    return 5 if list(v) == [3, 4] else 0"),
    }
    if SANDBOX or os.environ.get("CI"):
        subs["mallory_write_99_fixture.ipynb"] = _writer(tmp)
    return subs


def _write(tmp: Path, name: str, nb) -> None:
    path = tmp / name
    if nb is None:  # a 25 MiB file of zeros, sparse: the grader must not read it
        with open(path, "wb") as f:
            f.truncate(25 * 2 ** 20)
    elif isinstance(nb, str):
        path.write_text(nb)
    else:
        nbformat.write(nb, str(path))


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _by_submission(rows):
    table = {}
    for r in rows:
        table.setdefault(r["submission"], {})[r["question"]] = (
            float(r["points"]), float(r["max_points"]), r["message"])
    return table


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade every submission of _submissions() in one CLI run; the CLI's outputs and rows."""
    tmp = tmp_path_factory.mktemp("submissions")
    shutil.copytree(SOLUTIONS, tmp / "solutions")  # what a failed sandbox could damage
    subs = _submissions(tmp)
    for name, nb in subs.items():
        _write(tmp, name, nb)
    alice_before = (tmp / "alice_99_fixture.ipynb").read_bytes()
    solution_before = (tmp / "solutions" / "99_fixture.ipynb").read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib.grade", *subs, "--out", "grades.csv",
         "--timeout", "3", "--jobs", "4", "--solutions", "solutions", *NO_SANDBOX],
        cwd=tmp, capture_output=True, text=True, timeout=400)
    rows = _read_csv(tmp / "grades.csv")
    return {"proc": proc, "rows": _by_submission(rows), "raw": rows,
            "names": list(subs), "tmp": tmp,
            "alice_before": alice_before, "solution_before": solution_before,
            "header": (tmp / "grades.csv").read_text().splitlines()[0]}


def _points(batch, name):
    return {q: p for q, (p, _, _) in batch["rows"][name].items()}


def _message(batch, name, question):
    return batch["rows"][name][question][2]


# --------------------------------------------------------------------------- the batch

def test_cli_exits_zero_with_failing_students_and_writes_the_header(batch):
    assert batch["proc"].returncode == 0, batch["proc"].stderr
    assert batch["header"] == ",".join(CSV_COLUMNS) == (
        "submission,question,points,max_points,message,student,assignment")


def test_every_submission_gets_its_rows_once_in_command_line_order(batch):
    order = list(dict.fromkeys(r["submission"] for r in batch["raw"]))
    assert order == batch["names"]
    pairs = [(r["submission"], r["question"]) for r in batch["raw"]]
    assert len(pairs) == len(set(pairs))
    assert "[" in batch["proc"].stdout and "alice_99_fixture.ipynb: 6/6" in batch["proc"].stdout


def test_solution_scores_full_marks_with_empty_messages(batch):
    assert batch["rows"]["alice_99_fixture.ipynb"] == {q: (p, p, "") for q, p in FULL.items()}


def test_grading_the_same_notebook_twice_gives_the_same_rows(batch):
    assert batch["rows"]["ivan_99_fixture.ipynb"] == batch["rows"]["alice_99_fixture.ipynb"]


def test_untouched_exercise_scores_zero_saying_it_is_not_answered(batch):
    assert _points(batch, "bob_99_fixture.ipynb") == dict.fromkeys(FULL, 0)
    assert _message(batch, "bob_99_fixture.ipynb", "q1_test").startswith(
        "double: not answered yet: replace `raise NotImplementedError()`")
    assert _message(batch, "bob_99_fixture.ipynb", "q2_test") == (
        "answer cell q2_answer raised NotImplementedError; "
        "NameError: name 'mean' is not defined")


def test_partly_solved_submission_gets_exactly_the_points_of_its_answers(batch):
    # carol.ipynb has no assignment in its name: the notebook metadata identifies it
    assert _points(batch, "carol.ipynb") == {"q1_test": 0, "q2_test": 2, "q3_test": 0}


def test_edited_or_deleted_test_cells_are_replaced_by_the_instructors_tests(batch):
    # q1_test was replaced by `pass` (q1 unanswered), q3_test was deleted (q3 answered)
    assert _points(batch, "dave_99_fixture.ipynb") == {"q1_test": 0, "q2_test": 2, "q3_test": 3}


def test_hidden_tests_run_when_grading_and_give_their_hint(batch):
    # mean() returning 2 passes the visible test, not the hidden one
    assert _points(batch, "erin_99_fixture.ipynb") == {"q1_test": 1, "q2_test": 0, "q3_test": 3}
    assert _message(batch, "erin_99_fixture.ipynb", "q2_test") == (
        "mean([2.5]) (hidden): expected 2.5, got 2; 1 of 1 entries differ, the worst: expected "
        "2.5, got 2 (relative error 2.00e-01, tolerance 1e-06). Hint: the mean of one number "
        "is that number.")


def test_infinite_loop_times_out_and_later_questions_are_still_graded(batch):
    assert batch["rows"]["frank_99_fixture.ipynb"] == {
        "q1_test": (0, 1, "timed out after 3 s"), "q2_test": (2, 2, ""), "q3_test": (3, 3, "")}


def test_a_correct_but_slow_answer_within_the_time_limit_scores_full_marks(batch):
    assert _points(batch, "slowpoke_99_fixture.ipynb") == FULL


def test_kernel_ignoring_the_interrupt_is_stopped_and_remaining_tests_score_zero(batch):
    rows = batch["rows"]["leo_99_fixture.ipynb"]
    assert rows["q1_test"] == (0, 1, "timed out after 3 s")
    for q in ("q2_test", "q3_test"):
        assert rows[q][0] == 0
        assert "KeyboardInterrupt" in rows[q][2] and "q1_test" in rows[q][2]


@pytest.mark.parametrize("name, cause", [("grace_99_fixture.ipynb", "exited with status 1"),
                                         ("segv_99_fixture.ipynb", "crashed (SIGSEGV")])
def test_a_kernel_killed_by_os_exit_or_a_segfault_scores_the_remaining_tests_zero(batch, name,
                                                                                   cause):
    assert _points(batch, name) == {"q1_test": 1, "q2_test": 0, "q3_test": 0}
    for q in ("q2_test", "q3_test"):
        message = _message(batch, name, q)
        assert message.startswith("kernel died before this test ran (it died in q2_answer")
        assert cause in message


def test_a_memory_bomb_fails_its_own_cell_under_the_memory_limit(batch):
    assert _points(batch, "hog_99_fixture.ipynb") == {"q1_test": 1, "q2_test": 0, "q3_test": 3}
    assert _message(batch, "hog_99_fixture.ipynb", "q2_test").startswith(
        "answer cell q2_answer raised MemoryError (a submission may use 2 GiB of memory)")


def test_an_output_flood_is_cut_and_said_so_and_the_answers_still_count(batch):
    assert _points(batch, "flood_99_fixture.ipynb") == FULL
    page = (batch["tmp"] / "feedback" / "flood" / "99_fixture" / "flood_99_fixture.html")
    assert "its output was cut" in page.read_text()


@pytest.mark.parametrize("name, complaint", [
    ("heidi_99_fixture.ipynb", "not a Jupyter notebook (invalid JSON"),
    ("empty_99_fixture.ipynb", "the file is empty"),
    ("v5_99_fixture.ipynb", "the notebook is in format version 5, newer than this grader"),
    ("huge_99_fixture.ipynb", "the file is 25 MiB, more than the 20 MiB"),
])
def test_a_file_that_cannot_be_graded_gets_error_rows_and_the_batch_goes_on(batch, name,
                                                                            complaint):
    rows = batch["rows"][name]
    assert {q: (p, m) for q, (p, m, _) in rows.items()} == {q: (0, p) for q, p in FULL.items()}
    assert all(msg.startswith(complaint) for *_, msg in rows.values()), rows


def test_an_older_notebook_format_is_read_and_graded(batch):
    assert _points(batch, "v3_99_fixture.ipynb") == FULL


def test_a_notebook_without_cells_scores_zero_saying_the_answers_are_missing(batch):
    assert _points(batch, "nocells_99_fixture.ipynb") == dict.fromkeys(FULL, 0)
    assert _message(batch, "nocells_99_fixture.ipynb", "q3_test").startswith(
        "answer cell q3_answer missing")


def test_file_of_unknown_assignment_gets_one_submission_row(batch):
    [(question, (points, max_points, message))] = batch["rows"]["notes.txt"].items()
    assert (question, points, max_points) == ("(submission)", 0, 0)
    assert message.startswith("not a Jupyter notebook")


def test_cells_added_by_the_student_still_run(batch):
    assert _points(batch, "judy_99_fixture.ipynb") == FULL


def test_deleted_answer_cell_scores_zero_saying_it_is_missing(batch):
    assert _points(batch, "ken_99_fixture.ipynb") == {"q1_test": 1, "q2_test": 2, "q3_test": 0}
    assert _message(batch, "ken_99_fixture.ipynb", "q3_test").startswith(
        "answer cell q3_answer missing")


# --------------------------------------------------------------------------- tampering

@pytest.mark.parametrize("name", [
    "mallory_check_99_fixture.ipynb",     # check's functions replaced
    "mallory_forge_99_fixture.ipynb",     # results published by hand, visible values forged
    "mallory_numpy_99_fixture.ipynb",     # numpy's comparisons always true
    "mallory_builtins_99_fixture.ipynb",  # a builtin replaced
    "mallory_modules_99_fixture.ipynb",   # sys.modules and the check name rebound to a fake
    "mallory_hooks_99_fixture.ipynb",     # IPython swallows errors and rewrites test cells
    "mallory_print_99_fixture.ipynb",     # fake success printed
    "mallory_visible_99_fixture.ipynb",   # answers that special-case the visible inputs
])
def test_tampering_cannot_make_a_question_pass_that_its_answers_do_not_pass(batch, name):
    assert _points(batch, name) == dict.fromkeys(FULL, 0), batch["rows"][name]


def test_moved_renamed_relabelled_or_deleted_test_cells_change_nothing(batch):
    rows = batch["rows"]["mallory_meta_99_fixture.ipynb"]
    assert {q: (p, m) for q, (p, m, _) in rows.items()} == {
        "q1_test": (1, 1), "q2_test": (0, 2), "q3_test": (3, 3)}


def test_a_forged_or_missing_result_is_named_in_the_message(batch):
    assert "no result for the check 'double'" in _message(
        batch, "mallory_check_99_fixture.ipynb", "q1_test")
    assert "hidden" in _message(batch, "mallory_forge_99_fixture.ipynb", "q2_test")


@needs_sandbox
def test_a_submission_cannot_read_the_tests_change_files_outside_its_folder_or_go_online(batch):
    tmp = batch["tmp"]
    assert _points(batch, "mallory_write_99_fixture.ipynb") == FULL
    assert (tmp / "alice_99_fixture.ipynb").read_bytes() == batch["alice_before"]
    assert (tmp / "solutions" / "99_fixture.ipynb").read_bytes() == batch["solution_before"]
    assert not (tmp.parent / f"{tmp.name}_escape").exists()
    assert not (REPO / "new_file").exists()
    assert "hacked" not in (tmp / "grades.csv").read_text()
    assert {r["submission"] for r in batch["raw"]} == set(batch["names"])


# --------------------------------------------------------------------------- what people receive

def test_each_student_gets_a_feedback_page_with_every_question_and_message(batch):
    page = (batch["tmp"] / "feedback" / "erin" / "99_fixture" / "erin_99_fixture.html")
    text = page.read_text()
    assert "<h1>99_fixture: 4 / 6 points</h1>" in text
    assert "mean([2.5]) (hidden): expected 2.5, got 2" in text
    assert "\n  Hint: the mean of one number is that number.</pre>" in text
    for q in FULL:
        assert f"<td>{q}</td>" in text
    hostile = (batch["tmp"] / "feedback" / "mallory_forge" / "99_fixture"
               / "mallory_forge_99_fixture.html").read_text()
    assert "<script" not in hostile.lower().replace("<style>", "")


def test_the_totals_have_one_row_per_student_for_a_gradebook(batch):
    totals = _read_csv(batch["tmp"] / "grades_totals.csv")
    by_student = {r["student"]: r for r in totals}
    assert list(totals[0]) == ["student", "99_fixture", "total", "max_total"]
    assert by_student["alice"]["total"] == "6" and by_student["alice"]["max_total"] == "6"
    assert by_student["erin"]["99_fixture"] == "4"
    assert by_student["carol"]["99_fixture"] == "2"
    assert len(totals) == len({r["student"] for r in totals})


def test_the_totals_take_the_better_of_two_submissions_of_one_assignment(tmp_path):
    def result(student, points):
        return {"student": student, "assignment": "99_fixture", "rows": [
            {"points": points, "max_points": 6}]}

    warnings = write_totals([result("amy", 2), result("amy", 5), result("bo", 1)],
                            tmp_path / "totals.csv")
    assert [(r["student"], r["99_fixture"]) for r in _read_csv(tmp_path / "totals.csv")] == [
        ("amy", "5"), ("bo", "1")]
    assert warnings == ["amy handed in 99_fixture more than once; the totals take the better "
                        "score"]


# --------------------------------------------------------------------------- nothing lost

def _kernels_under(root: Path) -> list:
    """Processes whose command line mentions ``root`` (the grader's kernels run from there)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(root) in cmdline:
            found.append(cmdline)
    return found


def test_a_killed_batch_resumes_without_regrading_or_duplicates_and_loses_nothing(tmp_path):
    # nbgrader's layout: submitted/<student>/<assignment>/<notebook>.ipynb
    notebooks = {"amy": _solution(), "ben": _exercise(q1_answer=ANSWERS["q1_answer"]),
                 "cat": _exercise(**ANSWERS)}
    notebooks["cat"].cells.insert(0, new_code_cell("import time\ntime.sleep(2)"))
    for student, nb in notebooks.items():
        (tmp_path / "submitted" / student / "99_fixture").mkdir(parents=True)
        nbformat.write(nb, str(tmp_path / "submitted" / student / "99_fixture"
                               / "99_fixture.ipynb"))
    temp = Path(tempfile.mkdtemp(prefix="gr", dir="/tmp"))  # short: kernels' socket paths
    env = {**os.environ, "TMPDIR": str(temp)}
    command = [sys.executable, "-m", "course_lib.grade", "submitted", "--out", "grades.csv",
               "--jobs", "1", "--timeout", "20", "--solutions", str(SOLUTIONS), *NO_SANDBOX]
    try:
        first = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # kill it once two of three are graded
            if (tmp_path / "grades.csv").exists() and len(
                    {r["student"] for r in _read_csv(tmp_path / "grades.csv")}) == 2:
                break
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        partial = _read_csv(tmp_path / "grades.csv")
        assert {r["student"] for r in partial} == {"amy", "ben"}
        assert len(partial) == 6 and all(r["message"] is not None for r in partial)
        for _ in range(50):  # the killed grader's kernels die with it
            if not _kernels_under(temp):
                break
            time.sleep(0.1)
        assert _kernels_under(temp) == []

        second = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 0, second.stderr
        assert second.stdout.count("(graded before)") == 2
        rows = _read_csv(tmp_path / "grades.csv")
        assert rows[:6] == partial
        assert [(r["student"], r["question"]) for r in rows] == [
            (s, q) for s in ("amy", "ben", "cat") for q in FULL]
        assert {r["student"]: r["total"] for r in _read_csv(tmp_path / "grades_totals.csv")} == {
            "amy": "6", "ben": "1", "cat": "6"}
        assert (tmp_path / "feedback" / "cat" / "99_fixture" / "99_fixture.html").exists()
        graded = (tmp_path / "grades.csv").read_bytes()

        third = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                               timeout=120)
        assert third.stdout.count("(graded before)") == 3
        assert (tmp_path / "grades.csv").read_bytes() == graded

        # graded again from scratch, three at a time: the same rows as one at a time
        again = subprocess.run([*command, "--restart", "--jobs", "3"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=120)
        assert "(graded before)" not in again.stdout
        assert (tmp_path / "grades.csv").read_bytes() == graded
    finally:
        shutil.rmtree(temp, ignore_errors=True)


# --------------------------------------------------------------------------- API and pieces

def test_the_kernel_is_this_python(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[new_code_cell("import sys\nprint(sys.executable)")])
    [result] = run_notebook(nb, tmp_path, timeout=30)
    assert result.status == "ok"
    assert nb.cells[0].outputs[0]["text"].strip() == sys.executable


@pytest.mark.slow
def test_total_time_limit_stops_a_slow_submission(tmp_path):
    path = tmp_path / "slow_99_fixture.ipynb"
    nbformat.write(_exercise(q1_answer="import time\ntime.sleep(30)", **{
        k: v for k, v in ANSWERS.items() if k != "q1_answer"}), str(path))
    started = time.monotonic()
    rows = grade_submission(path, SOLUTIONS, timeout=20, total_timeout=4)
    assert time.monotonic() - started < 30
    assert [(r.question, r.points) for r in rows] == [("q1_test", 0), ("q2_test", 0),
                                                      ("q3_test", 0)]
    assert all("total time limit of 4 s" in r.message for r in rows)


def test_assignment_is_identified_by_metadata_then_by_file_name_then_folder():
    known = ["01_learning_as_optimization", "02_gradient_descent"]
    meta = nbformat.v4.new_notebook(metadata={"course_lib": {"assignment": "02_gradient_descent"}})
    assert identify_assignment("anything.ipynb", meta, known) == "02_gradient_descent"
    for name in ["alice_01_learning_as_optimization.ipynb",
                 "01_learning_as_optimization (1).ipynb", "01_my_answers.ipynb",
                 "submitted/bob/01_learning_as_optimization/answers.ipynb"]:
        assert identify_assignment(name, None, known) == "01_learning_as_optimization"
    assert identify_assignment("bob.ipynb", None, known) is None
    unknown = nbformat.v4.new_notebook(metadata={"course_lib": {"assignment": "07_nothing"}})
    assert identify_assignment("02_x.ipynb", unknown, known) == "02_gradient_descent"


def test_the_students_copy_of_a_check_keeps_only_the_name_and_the_answer():
    source = ('check.function("f", f, lambda x: 2 * x, [(1,)], hint="h", mistakes={"m": g})\n'
              'check.array("a", got(), expected(), rtol=1e-3, hint="h")\n'
              'check.scalar(name="s", got=1, expected=2)\n'
              'print(check.trajectory("t", thetas, run(), quiet=True))\n'
              'other.array("x", 1, 2)')
    assert strip_expected(source).splitlines() == [
        "check.function('f', f, cases=[(1,)])", "check.array('a', got())",
        "check.scalar('s', 1)", "print(check.trajectory('t', thetas))",
        "other.array('x', 1, 2)"]
    with pytest.raises(ValueError, match="by name or position"):
        strip_expected("check.array(*args)")


def test_build_takes_answers_from_the_submission_and_everything_else_from_the_solution():
    submission = _exercise(q2_answer="def mean(xs):\n    return 0")
    for cell in submission.cells:
        if _gid(cell) in ("setup", "q2_test"):
            cell.source = "# tampered"
    nb, slots = build_notebook(_solution(), submission)
    by_id = {s.label: c for s, c in zip(slots, nb.cells)}
    assert by_id["q2_answer"].source == "def mean(xs):\n    return 0"
    assert by_id["setup"].source == "import math\n\nfrom course_lib import check\n\nSCALE = 2"
    # the hidden check is there, stripped of its expected value
    assert by_id["q2_test"].source == ("check.scalar('mean([1, 2, 3])', mean([1, 2, 3]))\n"
                                       "check.scalar('mean([2.5]) (hidden)', mean([2.5]))")
    assert [s.kind for s in slots if s.kind == "test"] == ["test"] * 3
    assert [a.label for a in next(s for s in slots if s.label == "q3_test").answers] == [
        "q3_answer"]


@pytest.mark.parametrize("args, complaint", [
    ([], "no submissions"),
    (["x.ipynb", "--out", "x.ipynb/grades.csv"], "cannot create the folder of --out"),
    (["x.ipynb", "--out", "g.csv", "--solutions", "no/such/solutions"], "does not exist"),
    (["x.ipynb", "--out", "g.csv", "--timeout", "0"], "positive"),
    (["missing.ipynb", "--out", "g.csv"], "no such file or folder: missing.ipynb"),
])
def test_usage_errors_exit_2_with_a_message(args, complaint, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.ipynb").write_text("{}")
    if "--solutions" not in args:
        args = args + ["--solutions", str(SOLUTIONS)]
    if "--out" not in args:
        args = args + ["--out", "g.csv"]
    assert grade.main(args) == 2
    assert complaint in capsys.readouterr().err


def test_the_folder_of_out_is_created_on_a_first_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.ipynb").write_text("not a notebook")
    assert grade.main(["x.ipynb", "--out", "grades/week1/grades.csv",
                       "--solutions", str(SOLUTIONS)]) == 0
    assert (tmp_path / "grades" / "week1" / "grades.csv").is_file()


def test_malformed_solution_is_a_usage_error_naming_the_cell(tmp_path, capsys):
    broken = _solution()
    broken.cells[3].source = broken.cells[3].source.replace("### END SOLUTION", "")
    nbformat.write(broken, str(tmp_path / "99_fixture.ipynb"))
    (tmp_path / "x.ipynb").write_text("{}")
    assert grade.main([str(tmp_path / "x.ipynb"), "--out", str(tmp_path / "g.csv"),
                       "--solutions", str(tmp_path)]) == 2
    assert "q1_answer" in capsys.readouterr().err


def test_a_test_cell_without_checks_is_refused_before_grading_anyone(tmp_path, capsys):
    solution = _solution()
    next(c for c in solution.cells if _gid(c) == "q1_test").source = "assert double(3) == 6"
    nbformat.write(solution, str(tmp_path / "99_fixture.ipynb"))
    (tmp_path / "x.ipynb").write_text("{}")
    assert grade.main([str(tmp_path / "x.ipynb"), "--out", str(tmp_path / "g.csv"),
                       "--solutions", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "test cell q1_test makes no course_lib.check call" in err


def test_without_bubblewrap_the_grader_refuses_unless_told_no_sandbox(tmp_path):
    path_without_bwrap = str(Path(sys.executable).parent)  # python, but no bwrap
    nbformat.write(_solution(), str(tmp_path / "alice_99_fixture.ipynb"))
    command = [sys.executable, "-m", "course_lib.grade", "alice_99_fixture.ipynb",
               "--out", "g.csv", "--solutions", str(SOLUTIONS)]
    env = {**os.environ, "PATH": path_without_bwrap}
    refused = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert refused.returncode == 2
    assert "bubblewrap is not installed" in refused.stderr and "--no-sandbox" in refused.stderr
    told = subprocess.run([*command, "--no-sandbox"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert told.returncode == 0, told.stderr
    assert "WARNING: grading WITHOUT a sandbox" in told.stderr
    assert "alice_99_fixture.ipynb: 6/6" in told.stdout


def test_nbgrader_layout_gives_the_student_id_whichever_folder_is_named(tmp_path):
    for student in ("alice", "bob"):
        folder = tmp_path / "submitted" / student / "99_fixture"
        folder.mkdir(parents=True)
        (folder / "99_fixture.ipynb").write_text("{}")
        (folder / ".ipynb_checkpoints").mkdir()
        (folder / ".ipynb_checkpoints" / "99_fixture-checkpoint.ipynb").write_text("{}")
    (tmp_path / "downloads" / "carl").mkdir(parents=True)
    (tmp_path / "downloads" / "carl" / "homework.ipynb").write_text("{}")
    (tmp_path / "downloads" / "dora_99_fixture.ipynb").write_text("{}")
    found = find([tmp_path / "submitted", tmp_path / "submitted" / "alice",
                  tmp_path / "downloads"])
    assert [(s.path.name, s.student) for s in found] == [
        ("99_fixture.ipynb", "alice"), ("99_fixture.ipynb", "bob"), ("homework.ipynb", "carl"),
        ("dora_99_fixture.ipynb", None)]
    assert student_id(found[-1], "99_fixture") == "dora"


def test_no_sandbox_mount_hides_python_or_course_lib_even_when_they_live_under_tmp(tmp_path,
                                                                                  monkeypatch):
    """A checkout or venv under /tmp (a CI clone) was hidden by the sandbox's private /tmp,
    mounted after the read-only binds: the kernel could not start."""
    monkeypatch.setattr(sb.shutil, "which", lambda name: "/usr/bin/bwrap")
    monkeypatch.setattr(sb, "readable_paths", lambda: ["/usr", "/tmp/ci.x/.venv",
                                                       "/tmp/ci.x/course_lib"])
    argv = sb.kernel_argv([tmp_path], tmp_path, tmp_path / "lock", sb.Limits(), 60.0, True)
    mounts = [(argv[i], argv[i + 1] if argv[i] in ("--dev", "--proc", "--tmpfs")
               else argv[i + 2]) for i in range(len(argv))
              if argv[i] in ("--ro-bind", "--bind", "--dev", "--proc", "--tmpfs")]
    for k, (kind, target) in enumerate(mounts):
        later = [t for kd, t in mounts[k + 1:] if kd in ("--tmpfs", "--dev", "--proc")]
        hidden_by = [t for t in later if target == t or target.startswith(t.rstrip("/") + "/")]
        assert not hidden_by, f"{kind} {target} is hidden by a later mount on {hidden_by}"
    assert ("--ro-bind", "/tmp/ci.x/.venv") in mounts
