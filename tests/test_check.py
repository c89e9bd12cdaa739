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


# ------------------------------------------------------------------ inputs changed in place

def _momentum_reference(theta, m, eta, mu):
    m = mu * m - eta * theta          # the gradient of ½|θ|² is θ
    return theta + m, m


def _momentum_in_place(theta, m, eta, mu):
    m *= mu                           # writes into the caller's m
    m -= eta * theta
    return theta + m, m


def _momentum_cases():
    return [(np.array([1.0, -2.0]), np.array([0.5, 0.25]), 0.1, 0.9)]


def test_function_catches_an_input_changed_in_place_and_names_it():
    cases = _momentum_cases()
    kept = [c[1].copy() for c in cases]
    with pytest.raises(check.AnswerError) as e:
        check.function("momentum_step", _momentum_in_place, _momentum_reference, cases)
    msg = str(e.value)
    assert "changed its argument #2 (`m`) in place (2 of 2 entries differ" in msg
    assert "`m *= mu`" in msg and "write `m = mu * m - …`" in msg
    assert "`m = m.copy()`" in msg
    # the check worked on copies: the test's own arrays are untouched
    np.testing.assert_array_equal(cases[0][1], kept[0])


def test_an_in_place_change_is_reported_even_when_the_values_are_right():
    # the mutating version returns the right numbers; only the side effect is wrong
    case = _momentum_cases()[0]
    np.testing.assert_allclose(_momentum_in_place(*[np.copy(a) for a in case])[1],
                               _momentum_reference(*case)[1])
    with pytest.raises(check.AnswerError, match="in place"):
        check.function("momentum_step", _momentum_in_place, _momentum_reference, [case])


def test_an_unnamed_argument_is_reported_by_position():
    def sort_first(*args):
        args[0][::-1].sort()
        return args[0].sum()

    with pytest.raises(check.AnswerError, match=r"(?s)argument #1 in place.*`x = x.copy\(\)`"):
        check.function("f", sort_first, lambda a: a.sum(), [(np.array([3.0, 1.0, 2.0]),)])


def test_a_correct_function_that_copies_passes(capsys):
    def copying(theta, m, eta, mu):
        m = m.copy()
        m *= mu
        m -= eta * theta
        return theta + m, m

    check.function("momentum_step", copying, _momentum_reference, _momentum_cases(),
                   outputs=("new θ", "new m"))
    assert capsys.readouterr().out.startswith("✓ momentum_step is correct on 1 test case")


def test_a_reference_that_writes_into_its_inputs_does_not_affect_the_student():
    def reference_in_place(theta, m, eta, mu):   # references run first, on their own copies
        m *= mu
        m -= eta * theta
        return theta + m, m

    cases = _momentum_cases()
    kept = [np.copy(a) for a in cases[0][:2]]
    check.function("momentum_step", _momentum_reference, reference_in_place, cases, quiet=True)
    for a, b in zip(cases[0][:2], kept):
        np.testing.assert_array_equal(a, b)


def test_non_array_arguments_are_passed_through_uncopied():
    seen = []

    def f(g, x):
        seen.append(g)
        return g(x)

    check.function("f", f, lambda g, x: 2 * x, [(lambda x: 2 * x, np.ones(2))], quiet=True)
    assert all(callable(g) for g in seen)


# ------------------------------------------------------------------ tuple results, comparators

def test_outputs_name_each_result_in_the_order_given_with_their_own_hints():
    def wrong_m(theta, m, eta, mu):
        m = mu * m + eta * theta                   # sign of the gradient term flipped
        return theta + m, m

    with pytest.raises(check.AnswerError) as e:
        check.function("momentum_step", wrong_m, _momentum_reference, _momentum_cases(),
                       outputs={"new m": 1, "new θ": 0},
                       hint={"new m": "µ·m minus η∇L", "new θ": "θ + new m"})
    msg = str(e.value)
    assert msg.startswith("momentum_step: new m (test case 1)") and "Hint: µ·m minus η∇L" in msg


def test_outputs_report_a_missing_result():
    with pytest.raises(check.AnswerError, match=r"expected a tuple of 2 results \(new θ, new m\)"
                                                r", got a ndarray"):
        check.function("momentum_step", lambda t, m, eta, mu: t, _momentum_reference,
                       _momentum_cases(), outputs=("new θ", "new m"))


def test_function_can_compare_trajectories():
    def iterates(theta0, steps):
        return np.array([theta0 * 0.5 ** t for t in range(steps + 1)])

    def off_at_two(theta0, steps):
        out = iterates(theta0, steps)
        out[2:] += 1.0
        return out

    check.function("GD", iterates, iterates, [(np.ones(2), 4)], compare=check.trajectory,
                   quiet=True)
    with pytest.raises(check.AnswerError, match=r"GD \(test case 1\): departs at step 2"):
        check.function("GD", off_at_two, iterates, [(np.ones(2), 4)], compare=check.trajectory)


def test_a_trajectory_of_one_aliased_array_is_explained():
    expected = np.array([[1.0, 1.0], [0.5, 0.5], [0.25, 0.25]])
    aliased = np.array([[0.25, 0.25]] * 3)
    with pytest.raises(check.AnswerError, match="same array.*in place"):
        check.trajectory("GD", aliased, expected)


def test_results_returned_in_the_wrong_order_are_named_as_such():
    def swapped(theta, m):
        return m * 0.5, theta + 1.0

    def right(theta, m):
        return theta + 1.0, m * 0.5

    case = (np.array([1.0, 2.0]), np.array([4.0, 10.0]))
    with pytest.raises(check.AnswerError, match=r"wrong order: return them as \(new θ, new m\)"):
        check.function("step", swapped, right, [case], outputs=("new θ", "new m"))
    check.function("step", right, right, [case], outputs=("new θ", "new m"))
