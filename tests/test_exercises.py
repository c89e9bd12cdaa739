"""The exercise converter (course_lib.exercises) and the generated exercises/ of the course."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib import exercises
from course_lib.exercises import check_exercises, check_no_answers, convert, exercise_text
from course_lib.grade import run_notebook

REPO = Path(__file__).resolve().parent.parent
FIXTURE_SOLUTIONS = Path(__file__).parent / "fixtures" / "grading" / "solutions"
FIXTURE = FIXTURE_SOLUTIONS / "99_fixture.ipynb"
REPO_SOLUTIONS = sorted((REPO / "solutions").glob("*.ipynb"))
NO_SOLUTIONS = pytest.mark.skip(reason="no solutions/*.ipynb in the repository yet")


def _solution():
    return nbformat.read(str(FIXTURE), as_version=4)


def _cell(nb, grade_id):
    return next(c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
         "solution": solution, "task": False}
    if points is not None:
        m["points"] = points
    return {"nbgrader": m}


def _nb(*cells):
    nb = new_notebook(cells=list(cells), metadata={"course_lib": {"assignment": "42_broken"}})
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    return nb


# --------------------------------------------------------------------------- conversion

def test_code_solution_region_becomes_a_stub_at_the_region_indentation():
    q1 = _cell(convert(_solution()), "q1_answer")
    assert q1.source == ('def double(x):\n    """Return SCALE · x."""\n'
                         "    # YOUR CODE HERE\n    raise NotImplementedError()")
    q2 = _cell(convert(_solution()), "q2_answer")
    assert q2.source == "# YOUR CODE HERE\nraise NotImplementedError()"


def test_markdown_solution_region_becomes_your_answer_here():
    cell = _cell(convert(_solution()), "q3_explain")
    assert cell.source == "Why does `mean([])` fail?\n\nYOUR ANSWER HERE"


def test_hidden_tests_are_removed_with_their_markers_and_visible_tests_kept():
    cell = _cell(convert(_solution()), "q2_test")
    assert cell.source == ('check.scalar("mean([1, 2, 3])", mean([1, 2, 3]), 2, '
                           'hint="the sum over the count.")')


def test_cells_without_markers_are_copied_unchanged():
    solution, exercise = _solution(), convert(_solution())
    for before, after in zip(solution.cells, exercise.cells):
        text = before.source
        if "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text:
            assert after.source == text


def test_outputs_and_execution_counts_are_cleared():
    solution = _solution()
    cell = _cell(solution, "q1_test")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="✓ double\n")]
    cell.execution_count = 7
    exercise = convert(solution)
    assert all(c.outputs == [] and c.execution_count is None
               for c in exercise.cells if c.cell_type == "code")


def test_metadata_ids_and_cell_types_are_kept():
    solution, exercise = _solution(), convert(_solution())
    assert exercise.metadata == solution.metadata
    assert [c.metadata for c in exercise.cells] == [c.metadata for c in solution.cells]
    assert [c.get("id") for c in exercise.cells] == [c.get("id") for c in solution.cells]
    assert [c.cell_type for c in exercise.cells] == [c.cell_type for c in solution.cells]


def test_convert_leaves_the_solution_untouched():
    solution = _solution()
    before = copy.deepcopy(solution)
    convert(solution)
    assert solution == before


def test_exercise_text_is_deterministic_and_formatted_like_nbstripout():
    text = exercise_text(convert(_solution()))
    assert text == exercise_text(convert(_solution()))
    assert text.endswith("}\n") and not text.endswith("\n\n")
    data = json.loads(text)
    assert text == json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_cells_without_ids_get_stable_ids_not_random_ones():
    nb = _solution()
    for c in nb.cells:
        del c["id"]
    assert exercise_text(convert(nb)) == exercise_text(convert(copy.deepcopy(nb)))
    assert all(c.get("id") for c in convert(nb).cells)


@pytest.mark.parametrize("source, complaint", [
    ("x = 1\n### BEGIN SOLUTION\nx = 2", "never closed"),
    ("x = 1\n### END SOLUTION", "has no 'BEGIN SOLUTION'"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION", "nested"),
])
def test_unbalanced_solution_markers_raise_value_error_naming_notebook_and_cell(source, complaint):
    nb = _nb(new_code_cell(source, metadata=_meta("q_bad", solution=True)))
    with pytest.raises(ValueError, match=complaint) as info:
        convert(nb)
    message = str(info.value)
    assert "42_broken" in message and "q_bad" in message and "cell 0" in message
    assert "### BEGIN SOLUTION" in message  # says what to write


def test_unclosed_hidden_tests_raise_value_error_naming_the_cell():
    nb = _nb(new_code_cell("assert True\n### BEGIN HIDDEN TESTS\nassert 1",
                           metadata=_meta("t_bad", grade=True, locked=True, points=1)))
    with pytest.raises(ValueError, match=r"42_broken: cell 0 \(grade_id 't_bad'\).*never closed"):
        convert(nb)


def test_answer_cell_without_markers_raises_value_error():
    nb = _nb(new_markdown_cell("intro"),
             new_code_cell("x = 2", metadata=_meta("q_nomark", solution=True)))
    with pytest.raises(ValueError, match=r"cell 1 \(grade_id 'q_nomark'\).*without"):
        convert(nb)


def test_solution_region_outside_an_answer_cell_raises_value_error():
    nb = _nb(new_code_cell("### BEGIN SOLUTION\nx = 2\n### END SOLUTION"))
    with pytest.raises(ValueError, match=r"42_broken: cell 0 .*not an answer cell.*solution: true"):
        convert(nb)


def test_hidden_tests_outside_a_test_cell_raise_value_error():
    nb = _nb(new_code_cell("### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS",
                           metadata=_meta("ro", locked=True)))
    with pytest.raises(ValueError, match=r"grade_id 'ro'.*not a test cell"):
        convert(nb)


def test_duplicate_grade_ids_and_test_cells_without_points_raise_value_error():
    answer = "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"
    dup = _nb(new_code_cell(answer, metadata=_meta("q", solution=True)),
              new_code_cell(answer, metadata=_meta("q", solution=True)))
    with pytest.raises(ValueError, match="reuses the grade_id of cell 0"):
        convert(dup)
    pointless = _nb(new_code_cell("assert 1", metadata=_meta("t", grade=True, locked=True)))
    with pytest.raises(ValueError, match="without 'points'"):
        convert(pointless)


# --------------------------------------------------------------------------- check_no_answers

def test_check_no_answers_accepts_a_converted_exercise():
    assert check_no_answers(convert(_solution()), _solution()) == []


def test_check_no_answers_flags_markers_outputs_and_leaked_answer_text():
    assert any("q2_test" in p and "HIDDEN TESTS" in p for p in check_no_answers(_solution()))

    leaked = convert(_solution())
    _cell(leaked, "q2_answer").source = "def mean(xs):\n    return sum(xs) / len(xs)"
    _cell(leaked, "q2_test").source += ('\ncheck.scalar("mean([2.5]) (hidden)", mean([2.5]), 2.5, '
                                        'hint="the mean of one number is that number.")')
    _cell(leaked, "q1_test").outputs = [nbformat.v4.new_output("stream", name="stdout", text="✓")]
    problems = check_no_answers(leaked, _solution())
    assert any("q2_answer" in p and "solution text" in p for p in problems)
    assert any("q2_test" in p and "hidden test text" in p for p in problems)
    assert any("q1_test" in p and "outputs" in p for p in problems)


# --------------------------------------------------------------------------- CLI

@pytest.fixture
def dirs(tmp_path):
    solutions, exercises_dir = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    shutil.copy(FIXTURE, solutions / FIXTURE.name)
    return solutions, exercises_dir


def test_cli_writes_exercises_then_check_passes(dirs, capsys):
    solutions, exercises_dir = dirs
    assert exercises.main(["--solutions", str(solutions), "--exercises", str(exercises_dir)]) == 0
    written = (exercises_dir / FIXTURE.name).read_bytes()
    assert written == exercise_text(convert(_solution())).encode()
    assert exercises.main(["--check", "--solutions", str(solutions),
                           "--exercises", str(exercises_dir)]) == 0
    # a second run writes nothing
    capsys.readouterr()
    exercises.main(["--solutions", str(solutions), "--exercises", str(exercises_dir)])
    assert capsys.readouterr().out == ""


def test_check_reports_missing_stale_and_extra_exercises_and_says_how_to_fix(dirs, capsys):
    solutions, exercises_dir = dirs
    args = ["--check", "--solutions", str(solutions), "--exercises", str(exercises_dir)]
    assert exercises.main(args) == 1
    assert "missing" in capsys.readouterr().err

    exercises.main(args[1:])
    path = exercises_dir / FIXTURE.name
    path.write_text(path.read_text().replace("YOUR CODE HERE", "my answer"))
    (exercises_dir / "77_orphan.ipynb").write_text("{}")
    assert exercises.main(args) == 1
    err = capsys.readouterr().err
    assert "stale" in err and FIXTURE.name in err
    assert "extra" in err and "77_orphan.ipynb" in err
    assert "make exercises" in err


def test_writing_exercises_removes_those_whose_solution_is_gone(dirs):
    solutions, exercises_dir = dirs
    exercises_dir.mkdir()
    (exercises_dir / "77_orphan.ipynb").write_text("{}")
    exercises.main(["--solutions", str(solutions), "--exercises", str(exercises_dir)])
    assert sorted(p.name for p in exercises_dir.iterdir()) == [FIXTURE.name]


def test_cli_reports_a_malformed_solution_with_its_cell(dirs, capsys):
    solutions, exercises_dir = dirs
    nb = _nb(new_code_cell("### BEGIN SOLUTION\nx = 1", metadata=_meta("q_open", solution=True)))
    nbformat.write(nb, str(solutions / "42_broken.ipynb"))
    assert exercises.main(["--solutions", str(solutions), "--exercises", str(exercises_dir)]) == 1
    assert "q_open" in capsys.readouterr().err


# --------------------------------------------------------------------------- the course's notebooks

@pytest.mark.skipif(not REPO_SOLUTIONS, reason="no solutions/*.ipynb in the repository yet")
def test_exercise_notebooks_are_generated_from_solutions():
    problems = check_exercises(REPO / "solutions", REPO / "exercises")
    assert not problems, "\n".join(problems + ["Run `make exercises` to regenerate exercises/."])


@pytest.mark.parametrize("solution", REPO_SOLUTIONS or [pytest.param(None, marks=NO_SOLUTIONS)],
                         ids=lambda p: p.stem if p else "none")
def test_every_exercise_contains_no_answers(solution):
    path = REPO / "exercises" / solution.name
    exercise = (nbformat.read(str(path), as_version=4) if path.exists()
                else convert(nbformat.read(str(solution), as_version=4)))
    assert check_no_answers(exercise, nbformat.read(str(solution), as_version=4)) == []


# The fixture always runs, so this check is itself exercised before the course has solutions.
@pytest.mark.parametrize("solution", [FIXTURE] + (REPO_SOLUTIONS or
                                                  [pytest.param(None, marks=NO_SOLUTIONS)]),
                         ids=lambda p: p.stem if p else "none")
def test_every_graded_cell_fails_in_the_untouched_exercise(solution, tmp_path):
    """A passing test cell in the untouched exercise means an answer leaked into it; a failing
    read-only cell means students meet an error they did not cause."""
    exercise_path = REPO / "exercises" / solution.name
    if solution.parent == REPO / "solutions" and exercise_path.exists():
        exercise, cwd = nbformat.read(str(exercise_path), as_version=4), exercise_path.parent
    else:
        exercise, cwd = convert(nbformat.read(str(solution), as_version=4)), tmp_path
    results = run_notebook(exercise, cwd, timeout=120)
    for index, (cell, result) in enumerate(zip(exercise.cells, results)):
        meta = cell.metadata.get("nbgrader", {})
        label = f"{solution.name} cell {index} ({meta.get('grade_id', 'plain')})"
        if cell.cell_type != "code" or meta.get("solution"):
            continue
        if meta.get("grade"):
            assert result.status == "error", f"{label} passes without an answer: answer leaked?"
        else:
            assert result.status == "ok", f"{label} fails in the exercise: {result.message}"


# --------------------------------------------------------------------------- exercise 03's facts

def test_exercise_03_describes_the_lectures_saddle_race():
    """Question 6 of exercises/03 quotes the lecture's saddle race (start, step size, escape
    level, race length) and RMSprop's ρ in its text: they must be what course_lib.race runs."""
    from course_lib import race

    track = race.tracks()["saddle"]
    assert track.start.tolist() == [-1.0, 1e-3]
    assert (track.fixed_step, track.steps, race.ESCAPE_LEVEL) == (0.05, 150, -1.0)
    assert race.FIXED["RMSprop"]["rho"] == 0.9
    text = "\n".join(c.source for c in nbformat.read(
        str(REPO / "solutions" / "03_adaptive_learning_rates.ipynb"), as_version=4).cells)
    for quoted in ("from $(-1, 10^{-3})$", "the step size 0.05", "$L(\\theta_t) \\le -1$",
                   "$\\beta_2 = \\rho = 0.9$", "saddle.f, 150)"):
        assert quoted in text, quoted
