"""course_lib.check: feedback says what is wrong, with numbers and a hint."""
import ast
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_lib import check
from course_lib.grading import sandbox

REPO = Path(__file__).resolve().parent.parent
REPO_SOLUTIONS = sorted((REPO / "solutions").glob("*.ipynb"))


def test_a_correct_answer_prints_a_tick(capsys):
    check.array("gradient", np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    assert capsys.readouterr().out.startswith("✓ gradient")


def test_a_wrong_shape_is_reported_before_values():
    with pytest.raises(check.AnswerError, match=r"shape \(3,\), expected \(2,\)"):
        check.array("g", np.array([1.0, 2.0, 3.0]), [1.0, 2.0])


def test_a_transposed_answer_is_named():
    with pytest.raises(check.AnswerError, match="transposed"):
        check.array("W", np.ones((2, 3)), np.ones((3, 2)))


def test_a_wrong_value_reports_expected_got_and_relative_error_and_hint():
    with pytest.raises(check.AnswerError) as e:
        check.array("risk", np.array([1.0, 2.5]), [1.0, 2.0], hint="average, do not sum")
    msg = str(e.value)
    assert "index (1,)" in msg and "expected 2" in msg and "got 2.5" in msg
    assert "relative error 2.00e-01" in msg and "Hint: average, do not sum" in msg


def test_a_flipped_sign_is_pointed_out():
    with pytest.raises(check.AnswerError, match="sign is flipped"):
        check.array("step", np.array([-1.0, 2.0]), [1.0, 2.0])


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
    check.function("momentum_step", _momentum_reference, reference_in_place, cases,
                   outputs=("new θ", "new m"), quiet=True)
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


def test_an_answer_that_raises_gets_the_hints_of_every_output():
    def broken(theta, m, eta, mu):
        raise ValueError("shapes do not match")

    with pytest.raises(check.AnswerError) as e:
        check.function("momentum_step", broken, _momentum_reference, _momentum_cases(),
                       outputs=("new θ", "new m"), hint={"new θ": "θ + new m", "new m": "µm − η∇L"})
    assert str(e.value) == ("momentum_step: raised ValueError: shapes do not match (on test case "
                            "1).\n  Hint: new θ: θ + new m; new m: µm − η∇L")


def test_outputs_report_a_missing_result():
    with pytest.raises(check.AnswerError, match=r"expected a tuple of 2 results \(new θ, new m\)"
                                                r", got a numpy array of shape \(2,\)"):
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


# ------------------------------------------------------------------ one rule for types

def test_a_list_where_an_array_is_asked_is_refused_saying_so():
    iterates = [np.zeros(2), np.ones(2), 2 * np.ones(2)]
    with pytest.raises(check.AnswerError, match=r"expected a numpy array of shape \(3, 2\), got a "
                                                r"list of 3 arrays.*np.array"):
        check.trajectory("GD", iterates, np.array(iterates))
    with pytest.raises(check.AnswerError, match=r"got a tuple of 2 numbers"):
        check.array("g", (1.0, 2.0), np.array([1.0, 2.0]))


@pytest.mark.parametrize("number", [0.5, np.float64(0.5), np.float32(0.5), np.array(0.5)])
def test_any_number_is_accepted_where_a_number_is_asked(number, capsys):
    check.scalar("step", number, 0.5)
    assert capsys.readouterr().out == "✓ step is correct.\n"
    check.scalar("count", 3, 3.0, quiet=True)


@pytest.mark.parametrize("got, complaint", [
    ([0.5], r"got a list of 1 numbers: return the number itself"),
    (np.array([0.5]), r"array of shape \(1,\): take the number out of it, e.g. `x\[0\]`"),
    (np.array([0.5, 1.0]), r"array of shape \(2,\)\.$"),
    ("0.5", r"expected a number, got a str"),
])
def test_anything_else_where_a_number_is_asked_is_refused_saying_what_it_is(got, complaint):
    with pytest.raises(check.AnswerError, match=complaint):
        check.scalar("step", got, 0.5)


def test_complex_results_are_named_as_such():
    with pytest.raises(check.AnswerError, match="complex numbers.*eigvalsh"):
        check.array("eigenvalues", np.array([1 + 1j, 2 - 1j]), [1.0, 2.0])
    check.array("eigenvalues", np.array([1 + 0j, 2 + 0j]), [1.0, 2.0], quiet=True)


# ------------------------------------------------------------------ telling factors and mistakes

def test_a_sum_where_a_mean_was_asked_is_told_by_its_factor():
    expected = np.array([0.1, -0.3, 0.0, 2.0])
    with pytest.raises(check.AnswerError, match="every entry is 267 times the expected value: a "
                                                "sum of 267 terms where their mean was asked"):
        check.array("gradient", 267 * expected, expected)
    with pytest.raises(check.AnswerError, match="it is 50 times the expected value"):
        check.scalar("risk", 50 * 0.7, 0.7)
    with pytest.raises(check.AnswerError, match="every entry is 1/3 of the expected value"):
        check.array("gradient", expected / 3, expected)


def test_an_all_zero_answer_gets_feedback_not_a_crash():
    # ratio 0: its inverse is no factor to name (round(inf) raised OverflowError here once)
    for got, expected in ((np.zeros(3), np.array([0.5, -1.0, 2.0])), (0.0, 0.7)):
        with pytest.raises(check.AnswerError, match="expected") as e:
            check.array("gradient", np.atleast_1d(got), np.atleast_1d(expected))
        assert "Note" not in str(e.value)


def test_a_small_factor_in_one_number_is_not_taken_for_a_sum():
    with pytest.raises(check.AnswerError) as e:
        check.scalar("step", 2.0, 0.5)
    assert "Note" not in str(e.value)


def test_a_listed_mistake_is_named_instead_of_the_hint_and_the_guess():
    with pytest.raises(check.AnswerError) as e:
        check.scalar("step", 2.0, 0.5, hint="generic hint", mistakes={"you took λ_min": 2.0,
                                                                      "other": 7.0})
    msg = str(e.value)
    assert msg.endswith("\n  Likely cause: you took λ_min")
    assert "generic hint" not in msg and "Note" not in msg


def test_an_answer_matching_no_mistake_gets_the_hint():
    with pytest.raises(check.AnswerError, match=r"Hint: generic hint$"):
        check.scalar("step", 3.0, 0.5, hint="generic hint", mistakes={"you took λ_min": 2.0})


def test_a_mistake_of_a_tuple_result_must_match_every_output():
    def torch_form(theta, m, eta, mu):        # b ← µb + ∇L, θ ← θ − ηb (∇L(θ) = θ)
        b = mu * m + theta
        return theta - eta * b, b

    def old_velocity(theta, m, eta, mu):      # the new m, but θ moved by the old one
        return theta + m, mu * m - eta * theta

    mistakes = {"torch's form": torch_form, "θ moved by the old m": old_velocity}
    for wrong, cause in ((torch_form, "torch's form"), (old_velocity, "θ moved by the old m")):
        with pytest.raises(check.AnswerError, match=f"Likely cause: {cause}$"):
            check.function("momentum_step", wrong, _momentum_reference, _momentum_cases(),
                           outputs=("new θ", "new m"), hint="generic", mistakes=mistakes)


# ------------------------------------------------------------------ verdicts from two records

def _records(fn, reference, cases, **kwargs):
    """The check's record as the solution's clean kernel and as the student's kernel make it
    (what the check would publish to the grader, caught on its way out)."""
    made = {}
    for mode, answer in (("reference", reference), ("submission", fn)):
        published = []
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(check.MODE_ENV, mode)
            mp.setattr(check, "_finish", lambda record, *args: published.append(record))
            # the grader strips the reference from the student's copy of the test cell
            check.function("f", answer, reference if mode == "reference" else check._MISSING,
                           cases, **kwargs)
        made[mode] = published[0]
    return made["reference"], made["submission"]


def test_the_verdict_takes_expected_values_only_from_the_reference_record():
    ref, sub = _records(lambda x: 2 * x, lambda x: 2 * x, [(np.ones(2),)])
    assert check.verdict(ref, sub) is None
    assert "expected" not in sub["cases"][0]            # the student's kernel computed none
    forged = dict(ref, cases=[dict(ref["cases"][0], expected=sub["cases"][0]["got"])])
    assert check.verdict(ref, forged) is None           # a submission's "expected" is ignored
    ref_wrong, sub_wrong = _records(lambda x: 3 * x, lambda x: 2 * x, [(np.ones(2),)])
    assert "expected [2., 2.], got [3., 3.]" in check.verdict(ref_wrong, sub_wrong)


def test_inputs_that_differ_from_the_instructors_are_reported_not_compared():
    ref, _ = _records(lambda x: 2 * x, lambda x: 2 * x, [(np.ones(2),)])
    _, sub = _records(lambda x: 2 * x, lambda x: 2 * x, [(np.zeros(2),)])
    message = check.verdict(ref, sub)
    assert "input #1 differs from the instructor's" in message and "set-up cell" in message


def test_missing_or_foreign_results_fail_the_check():
    ref, sub = _records(lambda x: 2 * x, lambda x: 2 * x, [(np.ones(2),), (np.ones(3),)])
    assert "1 test cases ran, the instructor's test has 2" in check.verdict(
        ref, dict(sub, cases=sub["cases"][:1]))
    assert "no result for this check" in check.verdict(ref, dict(sub, name="other"))


# ------------------------------------------------------------------ the course's test cells

def _solution_test_cells():
    for path in REPO_SOLUTIONS:
        for cell in nbformat.read(str(path), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                yield f"{path.stem}:{meta['grade_id']}", cell.source


def _check_calls(source):
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "check"
                and node.func.attr in ("array", "scalar", "trajectory", "function")):
            yield node


def test_every_check_of_the_course_hidden_ones_included_gives_a_hint():
    cells = list(_solution_test_cells())
    assert cells, "no test cells found in solutions/"
    for where, source in cells:
        calls = list(_check_calls(source))
        assert calls, f"{where} makes no check.* call: the grader could not decide it"
        for call in calls:
            hint = next((k.value for k in call.keywords if k.arg == "hint"), None)
            assert hint is not None and not (isinstance(hint, ast.Constant)
                                             and hint.value is None), (
                f"{where}, line {call.lineno}: check.{call.func.attr} without a hint")


# --------------------------------------------------------------------------- the course's feedback
# Typical wrong answers (each loses exactly its question, with the message that names the
# mistake) and alternative correct answers (full marks), graded by the CLI in one batch.

L01, L02 = "01_learning_as_optimization", "02_gradient_descent"
L03 = "03_adaptive_learning_rates"
L04, L05A, L05B = ("04_second_order_methods", "05a_unit_tests_for_optimization",
                   "05b_learning_to_learn")
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

_ADAGRAD = "def adagrad_step(theta, v, grad, eta, eps):\n    g = grad(theta)\n    {}"
_RMS = "def rmsprop_step(theta, v, grad, eta, rho, eps):\n    g = grad(theta)\n    {}"
_DELTA = "def adadelta_step(theta, v, u, grad, rho, eps):\n    g = grad(theta)\n    {}"
_ADAM = ("def adam_step(theta, m, v, t, grad, eta, beta1, beta2, eps):\n    g = grad(theta)\n"
         "    m = beta1 * m + (1 - beta1) * g\n    v = beta2 * v + (1 - beta2) * g ** 2\n    {}")
_RATIO = "def uncorrected_ratio(beta1, beta2, t):\n    {}"
_ESCAPE = "def escape_step(step, state, theta0, loss, max_steps):\n    {}"


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
    # lecture 03: one typical mistake per question in each submission
    f"torch_{L03}.ipynb": {
        "q1_answer": (_ADAGRAD.format("v = v + g ** 2\n"
                                      "    return theta - eta * g / (np.sqrt(v) + eps), v"),
                      "Duchi et al.'s and torch.optim.Adagrad's placement"),
        "q2_answer": (_RMS.format("v = rho * v + (1 - rho) * g ** 2\n"
                                  "    return theta - eta * g / (np.sqrt(v) + eps), v"),
                      "torch.optim.RMSprop's placement"),
        "q3_answer": (_DELTA.format("v = rho * v + (1 - rho) * g ** 2\n"
                                    "    d = -(np.sqrt(u) + eps) / (np.sqrt(v) + eps) * g\n"
                                    "    return theta + d, v, rho * u + (1 - rho) * d ** 2"),
                      "Zeiler's RMS[x] = √(E[x²] + ε)"),
        "q4_answer": (_ADAM.format("m_hat = m / (1 - beta1 ** (t + 1))\n"
                                   "    v_hat = v / (1 - beta2 ** (t + 1))\n"
                                   "    return theta - eta * m_hat / (np.sqrt(v_hat) + eps), "
                                   "m, v, t + 1"),
                      "Kingma & Ba's and torch.optim.Adam's placement"),
        "q5_answer": (_RATIO.format("return np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)"),
                      "you returned the corrected step over the uncorrected one"),
        "q6_answer": (_ESCAPE.format("theta, t = theta0, 1\n"
                                     "    while t <= max_steps + 1:\n"
                                     "        if loss(theta) <= -1:\n"
                                     "            return t\n"
                                     "        theta, state = step(theta, state)\n"
                                     "        t += 1\n"
                                     "    return max_steps + 1"),
                      "you counted one step too many"),
    },
    f"average_{L03}.ipynb": {
        "q1_answer": (_ADAGRAD.format("v = 0.9 * v + 0.1 * g ** 2\n"
                                      "    return theta - eta * g / np.sqrt(v + eps), v"),
                      "that is RMSprop's record"),
        "q2_answer": (_RMS.format("v = (1 - rho) * v + rho * g ** 2\n"
                                  "    return theta - eta * g / np.sqrt(v + eps), v"),
                      "ρ and 1 − ρ are swapped"),
        "q3_answer": (_DELTA.format("v = rho * v + (1 - rho) * g ** 2\n"
                                    "    d = -np.sqrt(u + eps) / np.sqrt(v + eps) * g\n"
                                    "    return theta + d, v, d ** 2"),
                      "the lecture slide's shorthand"),
        "q4_answer": (_ADAM.format("return theta - eta * m / np.sqrt(v + eps), m, v, t + 1"),
                      "no bias correction"),
        "q5_answer": (_RATIO.format("return (1 - beta1 ** t) / (1 - beta2 ** t)"),
                      "v's factor enters through the root"),
        "q6_answer": (_ESCAPE.format("theta = theta0\n"
                                     "    for t in range(max_steps + 1):\n"
                                     "        if loss(theta) <= -1:\n"
                                     "            return t\n"
                                     "        theta, state = step(theta, state)\n"
                                     "    return max_steps"),
                      "you returned max_steps where θ never escaped"),
    },
    f"inplace_{L03}.ipynb": {
        "q1_answer": (_ADAGRAD.format("v += g ** 2\n"
                                      "    return theta - eta * g / np.sqrt(v + eps), v"),
                      "changed its argument #2 (`v`) in place"),
        "q2_answer": (_RMS.format("v *= rho\n    v += (1 - rho) * g ** 2\n"
                                  "    return theta - eta * g / np.sqrt(v + eps), v"),
                      "changed its argument #2 (`v`) in place"),
        "q3_answer": (_DELTA.format("v = rho * v + (1 - rho) * g ** 2\n"
                                    "    d = -np.sqrt(u + eps) / np.sqrt(v + eps) * g\n"
                                    "    u *= rho\n    u += (1 - rho) * d ** 2\n"
                                    "    return theta + d, v, u"),
                      "changed its argument #3 (`u`) in place"),
        "q4_answer": ("def adam_step(theta, m, v, t, grad, eta, beta1, beta2, eps):\n"
                      "    g = grad(theta)\n    t += 1\n    m *= beta1\n    m += (1 - beta1) * g\n"
                      "    v = beta2 * v + (1 - beta2) * g ** 2\n"
                      "    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)\n"
                      "    return theta - eta * m_hat / np.sqrt(v_hat + eps), m, v, t",
                      "changed its argument #2 (`m`) in place"),
        "q5_answer": (_RATIO.format("return (1 - beta1 ** (t - 1)) / "
                                    "np.sqrt(1 - beta2 ** (t - 1))"),
                      "your t is one step early"),
        "q6_answer": (_ESCAPE.format("theta = theta0\n"
                                     "    for t in range(max_steps + 1):\n"
                                     "        if loss(theta) <= -1:\n"
                                     "            return t\n"
                                     "        theta, _ = step(theta, state)\n"
                                     "    return max_steps + 1"),
                      "every step started from the initial state"),
    },
    f"late_{L03}.ipynb": {
        "q1_answer": (_ADAGRAD.format("step = eta * g / np.sqrt(v + eps)\n"
                                      "    return theta - step, v + g ** 2"),
                      "you divided by the old v"),
        "q2_answer": (_RMS.format("step = eta * g / np.sqrt(v + eps)\n"
                                  "    return theta - step, rho * v + (1 - rho) * g ** 2"),
                      "you divided by the old v"),
        "q3_answer": (_DELTA.format("d = -np.sqrt(u + eps) / np.sqrt(v + eps) * g\n"
                                    "    return theta + d, rho * v + (1 - rho) * g ** 2, "
                                    "rho * u + (1 - rho) * d ** 2"),
                      "you divided by the old v"),
        "q4_answer": (_ADAM.format("m_hat = m / (1 - beta1 ** t)\n"
                                   "    v_hat = v / (1 - beta2 ** t)\n"
                                   "    return theta - eta * m_hat / np.sqrt(v_hat + eps), "
                                   "m, v, t + 1"),
                      "your bias correction uses the t you were given"),
        "q5_answer": (_RATIO.format("return beta1 ** t / np.sqrt(beta2 ** t)"),
                      "you used βᵗ where 1 − βᵗ belongs"),
        "q6_answer": (_ESCAPE.format("if loss(theta0) <= -1:\n        return 0\n"
                                     "    theta = theta0\n"
                                     "    for t in range(max_steps):\n"
                                     "        theta, state = step(theta, state)\n"
                                     "        if loss(theta) <= -1:\n"
                                     "            return t\n"
                                     "    return max_steps + 1"),
                      "you counted one step too few"),
    },
    f"hat_{L03}.ipynb": {
        "q1_answer": (_ADAGRAD.format("v = (v + g ** 2) / 2\n"
                                      "    return theta - eta * g / np.sqrt(v + eps), v"),
                      "the mean of the old v and g²"),
        "q2_answer": (_RMS.format("v = v + g ** 2\n"
                                  "    return theta - eta * g / np.sqrt(v + eps), v"),
                      "that is Adagrad's record"),
        "q3_answer": (_DELTA.format("v = (1 - rho) * v + rho * g ** 2\n"
                                    "    d = -np.sqrt(u + eps) / np.sqrt(v + eps) * g\n"
                                    "    return theta + d, v, (1 - rho) * u + rho * d ** 2"),
                      "ρ and 1 − ρ are swapped"),
        "q4_answer": (_ADAM.format("m = m / (1 - beta1 ** (t + 1))\n"
                                   "    v = v / (1 - beta2 ** (t + 1))\n"
                                   "    return theta - eta * m / np.sqrt(v + eps), m, v, t + 1"),
                      "you returned the bias-corrected m̂ and v̂"),
        "q5_answer": (_RATIO.format("return (1 - beta1 ** (t + 1)) / "
                                    "np.sqrt(1 - beta2 ** (t + 1))"),
                      "your t is one step late"),
        "q6_answer": (_ESCAPE.format("theta = theta0\n"
                                     "    for t in range(1, max_steps + 1):\n"
                                     "        theta, state = step(theta, state)\n"
                                     "        if loss(theta) <= -1:\n"
                                     "            return t\n"
                                     "    return max_steps + 1"),
                      "or skipped θ₀"),
    },
    f"mis_{L04}.ipynb": {
        "q1_answer": ("def newton_step(theta, grad, hess):\n"
                      "    return theta + np.linalg.solve(hess(theta), grad(theta))",
                      "you moved along +H⁻¹∇L"),
        "q5_answer": ("def fd_hvp(grad, theta, v, eps):\n"
                      "    return (grad(theta + eps * v) - grad(theta)) / eps",
                      "that is the forward difference"),
    },
    f"mis_{L05A}.ipynb": {
        "q2_answer": ("def unbiased_mask(g, p, rng, n):\n"
                      "    keep = rng.random((n, len(g))) >= p\n    return keep * g",
                      "did not divide what you kept by 1 − p"),
    },
    f"mis_{L05B}.ipynb": {  # the loss taken before each step instead of after it
        "q4_answer": ("def segment_meta_loss(step, theta, state, f, grad, T):\n"
                      "    total = 0.0\n    for _ in range(T):\n"
                      "        total += np.mean(f(theta))\n"
                      "        theta, state = step(theta, state, grad)\n"
                      "    return total, theta, state",
                      "you summed the losses before each step"),
    },
    # alternative correct answers: full marks
    f"alt_{L03}.ipynb": {
        "q1_answer": (_ADAGRAD.format("v = v + g * g\n    rate = eta / (v + eps) ** 0.5\n"
                                      "    return theta - rate * g, v"), None),
        "q2_answer": (_RMS.format("v = v.copy()\n    v *= rho\n    v += (1 - rho) * g * g\n"
                                  "    return theta - eta * g / np.sqrt(v + eps), v"), None),
        "q3_answer": (_DELTA.format("v = v + (1 - rho) * (g ** 2 - v)\n"
                                    "    rms_u, rms_g = np.sqrt(u + eps), np.sqrt(v + eps)\n"
                                    "    d = -(rms_u / rms_g) * g\n"
                                    "    return theta + d, v, u + (1 - rho) * (d ** 2 - u)"), None),
        # Kingma & Ba's "more efficient" order, with ε rescaled so that it stays inside the root
        "q4_answer": (_ADAM.format("t = t + 1\n"
                                   "    c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t\n"
                                   "    lr = eta * np.sqrt(c2) / c1\n"
                                   "    return [theta - lr * m / np.sqrt(v + eps * c2), m, v, t]"),
                      None),
        "q5_answer": ("import math\n\n\ndef uncorrected_ratio(beta1, beta2, t):\n"
                      "    m = v = 0.0\n    for _ in range(t):   # a constant gradient g = 1\n"
                      "        m, v = beta1 * m + (1 - beta1), beta2 * v + (1 - beta2)\n"
                      "    return (m / math.sqrt(v)) / ((m / (1 - beta1 ** t)) / "
                      "math.sqrt(v / (1 - beta2 ** t)))", None),
        "q6_answer": ("def escape_step(step, state, theta0, loss, max_steps):\n"
                      "    theta, t = theta0, 0\n"
                      "    while loss(theta) > -1:\n"
                      "        if t == max_steps:\n            return max_steps + 1\n"
                      "        theta, state = step(theta, state)\n        t += 1\n"
                      "    return t", None),
    },
}


def _lecture_submission(name):
    assignment = next(a for a in (L01, L02, L03, L04, L05A, L05B) if a in name)
    nb = nbformat.read(str(REPO / "solutions" / f"{assignment}.ipynb"), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in LECTURE_SUBMISSIONS[name]:
            cell.source = LECTURE_SUBMISSIONS[name][cell.metadata["nbgrader"]["grade_id"]][0]
    return nb


@pytest.fixture(scope="module")
def lecture_batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lectures")
    for name in LECTURE_SUBMISSIONS:
        nbformat.write(_lecture_submission(name), str(tmp / name))
    for solution in REPO_SOLUTIONS:  # the solutions themselves score full marks
        shutil.copy(solution, tmp / f"solution_{solution.name}")
    no_sandbox = [] if sandbox.problem() is None or os.environ.get("CI") else ["--no-sandbox"]
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib.grade", *LECTURE_SUBMISSIONS,
         *(f"solution_{p.name}" for p in REPO_SOLUTIONS), "--out", "grades.csv",
         "--timeout", "60", "--jobs", "4", "--solutions", str(REPO / "solutions"), *no_sandbox],
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
@pytest.mark.parametrize("solution", [p.name for p in REPO_SOLUTIONS])
def test_the_course_solutions_score_full_marks(lecture_batch, solution):
    rows = [r for r in lecture_batch if r["submission"] == f"solution_{solution}"]
    assert rows and all(r["points"] == r["max_points"] and r["message"] == "" for r in rows), [
        r["message"] for r in rows]


@pytest.mark.skipif(not REPO_SOLUTIONS, reason="no solutions/*.ipynb in the repository yet")
def test_the_whole_message_reaches_the_grades_file(lecture_batch):
    longest = max((r["message"] for r in lecture_batch), key=len)
    assert len(longest) > 300 and longest.rstrip().endswith(".")
    assert all(not r["message"].endswith("…") for r in lecture_batch)


def test_an_expected_or_listed_value_that_is_not_finite_is_compared_not_crashed():
    with pytest.raises(check.AnswerError, match=r"expected inf, got 150"):
        check.scalar("escape step", 150, np.inf)
    with pytest.raises(check.AnswerError, match=r"Hint: h$"):
        check.scalar("ratio", 1.0, 2.0, hint="h", mistakes={"0/0": np.nan})
    with pytest.raises(check.AnswerError, match=r"index \(1,\): expected inf, got 2"):
        check.array("a", np.array([1.0, 2.0]), np.array([1.0, np.inf]))
