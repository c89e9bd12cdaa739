"""course_lib.check: feedback says what is wrong, with numbers and a hint."""
import numpy as np
import pytest

from course_lib import check


def test_a_correct_answer_prints_a_tick(capsys):
    check.array("gradient", [1.0, 2.0], np.array([1.0, 2.0]))
    assert capsys.readouterr().out.startswith("✓ gradient")


def test_a_wrong_shape_is_reported_before_values():
    with pytest.raises(check.AnswerError, match=r"shape \(3,\), expected \(2,\)"):
        check.array("g", [1.0, 2.0, 3.0], [1.0, 2.0])


def test_a_transposed_answer_is_named():
    with pytest.raises(check.AnswerError, match="transposed"):
        check.array("W", np.ones((2, 3)), np.ones((3, 2)))


def test_a_wrong_value_reports_expected_got_and_relative_error_and_hint():
    with pytest.raises(check.AnswerError) as e:
        check.array("risk", [1.0, 2.5], [1.0, 2.0], hint="average, do not sum")
    msg = str(e.value)
    assert "index (1,)" in msg and "expected 2" in msg and "got 2.5" in msg
    assert "relative error 2.00e-01" in msg and "Hint: average, do not sum" in msg


def test_a_flipped_sign_is_pointed_out():
    with pytest.raises(check.AnswerError, match="sign is flipped"):
        check.array("step", [-1.0, 2.0], [1.0, 2.0])


def test_none_means_a_missing_return():
    with pytest.raises(check.AnswerError, match="return"):
        check.scalar("loss", None, 1.0)


def test_scalar_rejects_arrays():
    with pytest.raises(check.AnswerError, match="single number"):
        check.scalar("loss", [1.0, 2.0], 1.0)


def test_function_reports_not_answered_and_student_exceptions():
    def stub(x):
        raise NotImplementedError()

    def broken(x):
        return x["a"]

    with pytest.raises(check.AnswerError, match="not answered yet"):
        check.function("f", stub, lambda x: x, [(np.ones(2),)])
    with pytest.raises(check.AnswerError, match="raised IndexError"):
        check.function("f", broken, lambda x: x, [(np.ones(2),)])


def test_function_names_the_failing_case():
    cases = [(np.array([1.0]),), (np.array([-2.0]),)]
    with pytest.raises(check.AnswerError, match="test case 2"):
        check.function("abs", lambda x: x, np.abs, cases)


def test_trajectory_reports_the_first_step_that_departs():
    expected = np.cumsum(np.ones((6, 2)), axis=0)
    got = expected.copy()
    got[3:] += 0.1
    with pytest.raises(check.AnswerError, match=r"departs at step 3.*Steps 0…2 agree"):
        check.trajectory("GD", got, expected)
    with pytest.raises(check.AnswerError, match="θ₀ included"):
        check.trajectory("GD", expected[1:], expected)
