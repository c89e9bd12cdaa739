"""The grader (course_lib.grade): scores, the instructor's tests, and broken submissions.

Most cases are graded in one CLI batch (``--jobs 4``, ``--timeout 3``) shared by the module:
starting a kernel per submission dominates the cost, and a single batch also proves that
one broken submission never stops the others.
"""
from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from course_lib import grade
from course_lib.exercises import convert
from course_lib.grade import (CSV_COLUMNS, build_notebook, grade_submission, identify_assignment,
                              run_notebook)

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = Path(__file__).parent / "fixtures" / "grading" / "solutions"
FIXTURE = SOLUTIONS / "99_fixture.ipynb"
REPO_SOLUTIONS = sorted((REPO / "solutions").glob("*.ipynb"))
FULL = {"q1_test": 1, "q2_test": 2, "q3_test": 3}

pytestmark = pytest.mark.notebook

ANSWERS = {
    "q1_answer": 'def double(x):\n    """Return SCALE · x."""\n    return SCALE * x',
    "q2_answer": "def mean(xs):\n    return sum(xs) / len(xs)",
    "q3_answer": "def norm(v):\n    return math.sqrt(sum(x * x for x in v))",
}


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


def _submissions():
    """name → notebook (or raw text for files that are not notebooks), in batch order.

    The two that run into the time limit come early, so the parallel batch ends sooner.
    """
    edited = _exercise(q2_answer=ANSWERS["q2_answer"], q3_answer=ANSWERS["q3_answer"])
    next(c for c in edited.cells if _gid(c) == "q1_test").source = "pass  # always passes"
    _without(edited, "q3_test")

    with_helpers = _exercise(q1_answer="def double(x):\n    return _twice(x)", **{
        k: v for k, v in ANSWERS.items() if k != "q1_answer"})
    with_helpers.cells.insert(2, new_code_cell("def _twice(x):\n    return 2 * x"))
    with_helpers.cells.append(new_markdown_cell("My notes."))

    unnamed = _exercise(q2_answer=ANSWERS["q2_answer"])  # found by its metadata only
    return {
        "alice_99_fixture.ipynb": _solution(),
        "leo_99_fixture.ipynb": _exercise(
            q1_answer=("import time\ndef double(x):\n    while True:\n        try:\n"
                       "            time.sleep(0.1)\n        except BaseException:\n"
                       "            pass"),
            q2_answer=ANSWERS["q2_answer"], q3_answer=ANSWERS["q3_answer"]),
        "frank_99_fixture.ipynb": _exercise(
            q1_answer="def double(x):\n    while True:\n        pass",
            q2_answer=ANSWERS["q2_answer"], q3_answer=ANSWERS["q3_answer"]),
        "bob_99_fixture.ipynb": _exercise(),
        "carol.ipynb": unnamed,
        "dave_99_fixture.ipynb": edited,
        "erin_99_fixture.ipynb": _exercise(q1_answer=ANSWERS["q1_answer"],
                                           q2_answer="def mean(xs):\n    return 2",
                                           q3_answer=ANSWERS["q3_answer"]),
        "grace_99_fixture.ipynb": _exercise(q1_answer=ANSWERS["q1_answer"],
                                            q2_answer="import os\nos._exit(1)",
                                            q3_answer=ANSWERS["q3_answer"]),
        "heidi_99_fixture.ipynb": "this is not a notebook\n",
        "ivan_99_fixture.ipynb": _solution(),
        "notes.txt": "a file that is nothing of the kind\n",
        "judy_99_fixture.ipynb": with_helpers,
        "ken_99_fixture.ipynb": _without(_exercise(**ANSWERS), "q3_answer"),
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade every submission of _submissions() in one CLI run; the CLI's outputs and rows."""
    tmp = tmp_path_factory.mktemp("submissions")
    names = []
    for name, nb in _submissions().items():
        path = tmp / name
        if isinstance(nb, str):
            path.write_text(nb)
        else:
            nbformat.write(nb, str(path))
        names.append(name)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib.grade", *names, "--out", "grades.csv",
         "--timeout", "3", "--jobs", "4", "--solutions", str(SOLUTIONS)],
        cwd=tmp, capture_output=True, text=True, timeout=240)
    elapsed = time.monotonic() - started
    with open(tmp / "grades.csv", newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    rows = {}
    for submission, question, points, max_points, message in table[1:]:
        rows.setdefault(submission, {})[question] = (float(points), float(max_points), message)
    return {"proc": proc, "header": table[0], "rows": rows, "elapsed": elapsed,
            "order": [r[0] for r in table[1:]], "names": names}


def _points(batch, name):
    return {q: p for q, (p, _, _) in batch["rows"][name].items()}


def _message(batch, name, question):
    return batch["rows"][name][question][2]


# --------------------------------------------------------------------------- the batch

def test_cli_exits_zero_with_failing_students_and_writes_the_exact_header(batch):
    assert batch["proc"].returncode == 0, batch["proc"].stderr
    assert batch["header"] == list(CSV_COLUMNS) == [
        "submission", "question", "points", "max_points", "message"]


def test_every_submission_gets_its_rows_in_command_line_order(batch):
    order = list(dict.fromkeys(batch["order"]))
    assert order == batch["names"]
    assert batch["proc"].stdout.splitlines()[0] == "alice_99_fixture.ipynb: 6/6"
    assert "bob_99_fixture.ipynb: 0/6" in batch["proc"].stdout.splitlines()


def test_solution_scores_full_marks_with_empty_messages(batch):
    assert batch["rows"]["alice_99_fixture.ipynb"] == {
        q: (p, p, "") for q, p in FULL.items()}


def test_untouched_exercise_scores_zero(batch):
    assert _points(batch, "bob_99_fixture.ipynb") == dict.fromkeys(FULL, 0)
    assert _message(batch, "bob_99_fixture.ipynb", "q1_test") == (
        "not answered: the answer still raises NotImplementedError")
    assert _message(batch, "bob_99_fixture.ipynb", "q2_test") == (
        "answer cell q2_answer raised NotImplementedError; "
        "NameError: name 'mean' is not defined")


def test_partly_solved_submission_gets_exactly_the_points_of_its_answers(batch):
    # carol.ipynb has no assignment in its name: the notebook metadata identifies it
    assert _points(batch, "carol.ipynb") == {"q1_test": 0, "q2_test": 2, "q3_test": 0}


def test_edited_or_deleted_test_cells_are_replaced_by_the_instructors_tests(batch):
    # q1_test was replaced by `pass` (q1 unanswered), q3_test was deleted (q3 answered)
    assert _points(batch, "dave_99_fixture.ipynb") == {"q1_test": 0, "q2_test": 2, "q3_test": 3}


def test_hidden_tests_run_when_grading(batch):
    # mean() returning 2 passes the visible test, not the hidden one
    assert _points(batch, "erin_99_fixture.ipynb") == {"q1_test": 1, "q2_test": 0, "q3_test": 3}
    assert _message(batch, "erin_99_fixture.ipynb", "q2_test") == (
        "AssertionError: mean([2.5]) should be 2.5")


def test_infinite_loop_times_out_and_later_questions_are_still_graded(batch):
    assert batch["rows"]["frank_99_fixture.ipynb"] == {
        "q1_test": (0, 1, "timed out after 3 s"), "q2_test": (2, 2, ""), "q3_test": (3, 3, "")}


def test_kernel_killed_by_os_exit_scores_the_remaining_tests_zero(batch):
    assert _points(batch, "grace_99_fixture.ipynb") == {"q1_test": 1, "q2_test": 0, "q3_test": 0}
    for q in ("q2_test", "q3_test"):
        assert _message(batch, "grace_99_fixture.ipynb", q).startswith(
            "kernel died before this test ran")


def test_not_a_notebook_gets_error_rows_and_the_next_submission_is_still_graded(batch):
    rows = batch["rows"]["heidi_99_fixture.ipynb"]
    assert {q: (p, m) for q, (p, m, _) in rows.items()} == {q: (0, p) for q, p in FULL.items()}
    assert all(msg.startswith("not a Jupyter notebook (invalid JSON") for *_, msg in rows.values())
    assert _points(batch, "ivan_99_fixture.ipynb") == FULL


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


def test_kernel_ignoring_the_interrupt_is_stopped_and_remaining_tests_score_zero(batch):
    rows = batch["rows"]["leo_99_fixture.ipynb"]
    assert rows["q1_test"] == (0, 1, "timed out after 3 s")
    for q in ("q2_test", "q3_test"):
        assert rows[q][0] == 0
        assert "KeyboardInterrupt" in rows[q][2] and "q1_test" in rows[q][2]


def test_batch_grades_in_bounded_time(batch):
    # 13 submissions, three of them hanging: the time limits, not the students, bound the run
    assert batch["elapsed"] < 120


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
    assert time.monotonic() - started < 15
    assert [(r.question, r.points) for r in rows] == [("q1_test", 0), ("q2_test", 0),
                                                      ("q3_test", 0)]
    assert all("total time limit of 4 s" in r.message for r in rows)


def test_assignment_is_identified_by_metadata_then_by_file_name():
    known = ["01_learning_as_optimization", "02_gradient_descent"]
    meta = nbformat.v4.new_notebook(metadata={"course_lib": {"assignment": "02_gradient_descent"}})
    assert identify_assignment("anything.ipynb", meta, known) == "02_gradient_descent"
    for name in ["alice_01_learning_as_optimization.ipynb",
                 "01_learning_as_optimization (1).ipynb", "01_my_answers.ipynb"]:
        assert identify_assignment(name, None, known) == "01_learning_as_optimization"
    assert identify_assignment("bob.ipynb", None, known) is None
    unknown = nbformat.v4.new_notebook(metadata={"course_lib": {"assignment": "07_nothing"}})
    assert identify_assignment("02_x.ipynb", unknown, known) == "02_gradient_descent"


def test_build_takes_answers_from_the_submission_and_everything_else_from_the_solution():
    submission = _exercise(q2_answer="def mean(xs):\n    return 0")
    for cell in submission.cells:
        if _gid(cell) in ("setup", "q2_test"):
            cell.source = "# tampered"
    nb, slots = build_notebook(_solution(), submission)
    by_id = {s.label: c for s, c in zip(slots, nb.cells)}
    assert by_id["q2_answer"].source == "def mean(xs):\n    return 0"
    assert by_id["setup"].source == "import math\n\nSCALE = 2"
    assert "BEGIN HIDDEN TESTS" in by_id["q2_test"].source
    assert [s.kind for s in slots if s.kind == "test"] == ["test"] * 3
    assert [a.label for a in next(s for s in slots if s.label == "q3_test").answers] == [
        "q3_answer"]


@pytest.mark.parametrize("args, complaint", [
    ([], "no submissions"),
    (["x.ipynb", "--out", "no/such/dir/grades.csv"], "does not exist"),
    (["x.ipynb", "--out", "g.csv", "--solutions", "no/such/solutions"], "does not exist"),
    (["x.ipynb", "--out", "g.csv", "--timeout", "0"], "positive"),
])
def test_usage_errors_exit_2_with_a_message(args, complaint, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if "--solutions" not in args:
        args = args + ["--solutions", str(SOLUTIONS)]
    if "--out" not in args:
        args = args + ["--out", "g.csv"]
    assert grade.main(args) == 2
    assert complaint in capsys.readouterr().err


def test_malformed_solution_is_a_usage_error_naming_the_cell(tmp_path, capsys):
    broken = _solution()
    broken.cells[3].source = broken.cells[3].source.replace("### END SOLUTION", "")
    nbformat.write(broken, str(tmp_path / "99_fixture.ipynb"))
    assert grade.main(["x.ipynb", "--out", str(tmp_path / "g.csv"),
                       "--solutions", str(tmp_path)]) == 2
    assert "q1_answer" in capsys.readouterr().err


# --------------------------------------------------------------------------- the course's solutions

@pytest.mark.parametrize("solution", [FIXTURE] + (REPO_SOLUTIONS or [pytest.param(
    None, marks=pytest.mark.skip(reason="no solutions/*.ipynb in the repository yet"))]),
    ids=lambda p: p.stem if p else "none")
def test_solution_notebook_scores_full_marks(solution):
    rows = grade_submission(solution, solution.parent, timeout=120)
    assert rows, f"{solution.name} has no graded questions"
    failed = [f"{r.question}: {r.message}" for r in rows if r.points != r.max_points]
    assert not failed, f"{solution.name} loses points:\n" + "\n".join(failed)


# --------------------------------------------------------------------------- the course's feedback
# Typical wrong answers (each loses exactly its question, with the message that names the
# mistake) and alternative correct answers (full marks), graded by the CLI in one batch.

L01, L02 = "01_learning_as_optimization", "02_gradient_descent"
_RISK = "def empirical_risk(theta, X, y):\n    z = X @ theta\n    return {}"
_GRAD = "from course_lib.data import sigmoid\n\n\ndef risk_gradient(theta, X, y):\n    {}"
_GD = "def gradient_descent(grad, theta0, eta, steps):\n    {}"
_HESS = "def risk_hessian(theta, X):\n    p = sigmoid(X @ theta)\n    return {}"
_STEP = "def max_stable_step(H):\n    return {}"
_ERR = "def error_rate(theta, X, y):\n    return {}"
_EPOCH = "def sgd_epoch(theta, batch_grad, order, batch_size, eta):\n    {}\n    return theta"
_MOM = "def momentum_step(theta, m, grad, eta, mu):\n    {}"
_NAG = "def nesterov_step(theta, m, grad, eta, mu):\n    {}"
_T2L = "def torch_to_lecture(p, b, eta, mu):\n    {}"
_MAX = "def momentum_max_eta(A, mu):\n    return {}"
_OPT = ("def optimal_momentum(A):\n    lams = np.linalg.eigvalsh(A)\n    lo, hi = lams[0], lams[-1]"
        "\n    k = np.sqrt(hi / lo)\n    return {}")

# submission -> {answer cell: (source, None for full marks or a phrase its message contains)}
LECTURE_SUBMISSIONS = {
    f"sum_{L01}.ipynb": {
        "q1_answer": (_RISK.format("np.sum(np.logaddexp(0.0, z) - y * z)"),
                      "267 times the expected value: a sum of 267 terms"),
        "q2_answer": (_GRAD.format("g = np.zeros(len(theta))\n    for xi, yi in zip(X, y):\n"
                                   "        g += (sigmoid(xi @ theta) - yi) * xi\n"
                                   "    return g / len(y)"), None),
        "q3_answer": (_GD.format("thetas = [np.array(theta0, dtype=float)]\n"
                                 "    for _ in range(steps):\n"
                                 "        thetas.append(thetas[-1] - eta * grad(thetas[-1]))\n"
                                 "    return thetas"), "got a list of 21 arrays"),
        "q5_answer": (_STEP.format("2.0 / np.linalg.eigvals(H)[-1]"),
                      "the smallest eigenvalue λ, not the largest"),
        "q6_answer": (_ERR.format("np.count_nonzero((X @ theta > 0) != y) / len(y)"), None),
    },
    f"alias_{L01}.ipynb": {
        "q1_answer": (_RISK.format("float(np.sum(np.logaddexp(0.0, z) - y * z) / len(y))"), None),
        "q2_answer": (_GRAD.format("return (sigmoid(X @ theta) - y) @ X"), "267 times"),
        "q3_answer": (_GD.format("theta = theta0.copy()\n    thetas = [theta]\n"
                                 "    for _ in range(steps):\n"
                                 "        theta -= eta * grad(theta)\n"
                                 "        thetas.append(theta)\n    return np.array(thetas)"),
                      "every row of your answer is the same array"),
        "q4_answer": (_HESS.format("X.T @ ((p * (1 - p))[:, None] * X)"), "267 times"),
        "q5_answer": (_STEP.format("2.0 / np.max(np.diag(H))"), "largest diagonal entry"),
        "q6_answer": (_ERR.format("np.mean((X @ theta > 0) == y)"), "you returned the accuracy"),
    },
    f"fixed_{L01}.ipynb": {
        "q1_answer": (_RISK.format("np.mean(np.log(1 + np.exp(z)) - y * z)"),
                      "non-finite value"),
        "q2_answer": (_GRAD.format("return (sigmoid(X @ theta) - y) @ X / 267"),
                      "len(y) (31 here)"),
        "q3_answer": (_GD.format("out = np.empty((steps + 1, len(theta0)))\n    out[0] = theta0\n"
                                 "    for t in range(steps):\n"
                                 "        out[t + 1] = out[t] - eta * grad(out[t])\n"
                                 "    return out"), None),
        "q5_answer": (_STEP.format("2.0 / np.max(np.abs(np.linalg.eigvals(H)))"), None),
        "q6_answer": (_ERR.format("np.mean((X @ theta >= 0) != y)"), "you predict 8 when z ≥ 0"),
    },
    f"torch_{L02}.ipynb": {
        "q1_answer": (_EPOCH.format("for s in range(0, len(order) - batch_size + 1, batch_size):\n"
                                    "        theta = theta - eta * batch_grad(theta, "
                                    "order[s:s + batch_size])"), "you returned θ₀ unchanged"),
        "q2_answer": (_MOM.format("m = mu * m + grad(theta)\n    return theta - eta * m, m"),
                      "torch.optim.SGD's form of momentum"),
        "q3_answer": (_NAG.format("m = mu * m - eta * grad(theta)\n    return theta + m, m"),
                      "this is plain momentum"),
        "q4_answer": (_T2L.format("m = eta * b\n    return p - mu * m, m"), "wrong sign"),
        "q5_answer": (_MAX.format("2 * (1 + mu) / np.linalg.eigvals(A)[-1]"),
                      "uses the smallest eigenvalue"),
        "q6_answer": (_OPT.format("(2 / (np.sqrt(lo) + np.sqrt(hi))) ** 2, (k - 1) / (k + 1)"),
                      "µ* is not squared"),
    },
    f"behind_{L02}.ipynb": {
        "q1_answer": (_EPOCH.format("for idx in np.array_split(order, np.arange(batch_size, "
                                    "len(order), batch_size)):\n"
                                    "        theta = theta - eta * batch_grad(theta, idx)"), None),
        "q2_answer": (_MOM.format("return theta + m, mu * m - eta * grad(theta)"),
                      "θ moved by the old velocity"),
        "q3_answer": (_NAG.format("m = mu * m - eta * grad(theta - mu * m)\n"
                                  "    return theta + m, m"), "gradient at θ − µm, behind θ"),
        "q4_answer": (_T2L.format("m = -eta * b\n    return p + mu * m, m"), "θ = p + µm"),
        "q5_answer": (_MAX.format("2 / np.linalg.eigvalsh(A)[-1]"),
                      "plain gradient descent's bound"),
        "q6_answer": (_OPT.format("[(2 / (np.sqrt(lo) + np.sqrt(hi))) ** 2, "
                                  "((k - 1) / (k + 1)) ** 2]"), None),
    },
    f"order_{L02}.ipynb": {
        "q1_answer": (_EPOCH.format("t0 = theta\n    for s in range(0, len(order), batch_size):\n"
                                    "        theta = theta - eta * batch_grad(t0, "
                                    "order[s:s + batch_size])"), "both steps were taken from θ₀"),
        "q2_answer": (_MOM.format("m *= mu\n    m -= eta * grad(theta)\n    return theta + m, m"),
                      "changed its argument #2 (`m`) in place"),
        "q3_answer": (_NAG.format("g = grad(theta)\n    b = mu * m + g\n"
                                  "    return theta - eta * (g + mu * b), b"),
                      "torch.optim.SGD(nesterov=True)'s update"),
        "q5_answer": (_MAX.format("2 * (1 + mu) / max(np.linalg.eigvals(A).real)"), None),
        "q6_answer": (_OPT.format("np.array([(2 / (np.sqrt(lo) + np.sqrt(hi))) ** 2, "
                                  "((k - 1) / (k + 1)) ** 2])"), "expected a tuple of 2 results"),
    },
    f"shifted_{L02}.ipynb": {
        "q2_answer": (_MOM.format("m = mu * m - eta * grad(theta)\n    return m, theta + m"),
                      "right but in the wrong order"),
        "q3_answer": (_NAG.format("g = grad(theta)\n    m = mu * m - eta * g\n"
                                  "    return theta + mu * m - eta * g, m"),
                      "the form θ ← θ + µ·(new m) − η∇L(θ)"),
        "q5_answer": (_MAX.format("2 * (1 + mu) / np.max(np.diag(A))"), "largest diagonal entry"),
        "q6_answer": (_OPT.format("(2 / (np.sqrt(lo) + np.sqrt(hi))) ** 2, ((k - 1) / (k + 1)) ** 2"
                                  ) .replace("lams = np.linalg.eigvalsh(A)\n    lo, hi = lams[0], "
                                             "lams[-1]", "lo, hi = np.min(np.diag(A)), "
                                                         "np.max(np.diag(A))"),
                      "λ_min and λ_max from the diagonal entries"),
    },
}


def _lecture_submission(name):
    assignment = L01 if L01 in name else L02
    nb = nbformat.read(str(REPO / "solutions" / f"{assignment}.ipynb"), as_version=4)
    for cell in nb.cells:
        if _gid(cell) in LECTURE_SUBMISSIONS[name]:
            cell.source = LECTURE_SUBMISSIONS[name][_gid(cell)][0]
    return nb


@pytest.fixture(scope="module")
def lecture_batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lectures")
    for name in LECTURE_SUBMISSIONS:
        nbformat.write(_lecture_submission(name), str(tmp / name))
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib.grade", *LECTURE_SUBMISSIONS, "--out", "grades.csv",
         "--timeout", "60", "--jobs", "4", "--solutions", str(REPO / "solutions")],
        cwd=tmp, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    with open(tmp / "grades.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.skipif(not REPO_SOLUTIONS, reason="no solutions/*.ipynb in the repository yet")
@pytest.mark.parametrize("name", list(LECTURE_SUBMISSIONS))
def test_typical_mistakes_lose_exactly_their_question_and_are_named(lecture_batch, name):
    rows = {r["question"]: r for r in lecture_batch if r["submission"] == name}
    assert rows, f"no rows for {name}"
    answers = {q.replace("_answer", "_tests"): expect
               for q, (_, expect) in LECTURE_SUBMISSIONS[name].items()}
    for question, row in rows.items():
        expect = answers.get(question)
        if expect is None:  # untouched (the solution's) or an alternative correct answer
            assert (float(row["points"]), row["message"]) == (float(row["max_points"]), ""), (
                f"{name} {question} lost points: {row['message']}")
        else:
            assert float(row["points"]) == 0, f"{name} {question} passed"
            assert expect in row["message"], f"{name} {question}: {row['message']}"
            assert any(s in row["message"] for s in ("Hint:", "Likely cause:", "wrong order")), (
                f"{name} {question} gives no hint: {row['message']}")


@pytest.mark.skipif(not REPO_SOLUTIONS, reason="no solutions/*.ipynb in the repository yet")
def test_the_whole_message_reaches_the_grades_file(lecture_batch):
    longest = max((r["message"] for r in lecture_batch), key=len)
    assert len(longest) > 300 and longest.rstrip().endswith(".")
    assert all(not r["message"].endswith("…") for r in lecture_batch)
