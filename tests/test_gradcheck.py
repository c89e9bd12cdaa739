"""gradient_check: passes correct gradients, catches the typical bugs, says what it takes."""
import numpy as np
import pytest

from course_lib import problems as P
from course_lib.data import load_digits
from course_lib.gradcheck import FLOOR, THRESHOLD, GradCheck, gradient_check

RNG = np.random.default_rng(20261201)


def _logistic(l2=1e-3):
    d = load_digits(classes=(3, 8), seed=0)
    return P.logistic_regression(d.X_train, (d.y_train == 8).astype(int), l2=l2)


LOGISTIC = _logistic()
SMALL_MLP = P.mlp(load_digits(seed=2).X_train[:60], load_digits(seed=2).y_train[:60], hidden=4,
                  l2=0.01, rng=np.random.default_rng(3))


@pytest.mark.parametrize("p", [LOGISTIC, SMALL_MLP, P.rosenbrock(5), P.beale(),
                               P.two_unit_network(), P.one_unit_network()],
                         ids=lambda p: p.name)
@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_a_correct_gradient_passes_well_below_the_threshold(p, scale):
    theta = scale * RNG.standard_normal((3, p.dim))
    result = gradient_check(p.f, p.grad, theta)
    assert result.ok, str(result)
    assert result.max_relative_error < THRESHOLD / 10  # a margin, not a near miss


def test_a_sum_instead_of_a_mean_fails_and_the_message_names_the_factor():
    n = LOGISTIC.n_examples

    def summed(theta):  # the data term summed over the N examples, the penalty left as it is
        penalty = 1e-3 * np.concatenate([theta[..., :-1], np.zeros_like(theta[..., -1:])], -1)
        return n * (LOGISTIC.grad(theta) - penalty) + penalty

    result = gradient_check(LOGISTIC.f, summed, 0.1 * RNG.standard_normal(65))
    assert not result.ok and result.max_relative_error > 0.9
    assert "FAILED" in str(result) and f"analytic ≈ {n} × numerical" in str(result)


def test_a_flipped_sign_fails_and_the_message_says_so():
    result = gradient_check(LOGISTIC.f, lambda t: -LOGISTIC.grad(t), RNG.standard_normal(65))
    assert not result.ok and result.max_relative_error == pytest.approx(2.0)
    assert "sign is flipped" in str(result)


def test_a_forgotten_penalty_term_is_caught():
    p = _logistic(l2=0.3)
    data_only = _logistic(l2=0.0)
    result = gradient_check(p.f, data_only.grad, 0.5 * RNG.standard_normal(65))
    assert not result.ok
    assert result.worst_index[-1] != 64  # the bias has no penalty: its entry is right
    assert result.relative_errors[64] < THRESHOLD


def test_the_worst_index_points_at_the_one_wrong_coordinate_of_theta():
    p = P.rosenbrock(6)

    def one_wrong(theta):
        g = p.grad(theta)
        g[..., 4] *= 1.01
        return g

    theta = RNG.standard_normal(6)
    assert gradient_check(p.f, one_wrong, theta).worst_index == (4,)
    subset = gradient_check(p.f, one_wrong, theta, coords=[5, 4, 1])
    assert subset.worst_index == (4,)
    assert np.isnan(subset.relative_errors[[0, 2, 3]]).all()
    assert np.isnan(subset.numerical[[0, 2, 3]]).all()
    assert not np.isnan(subset.analytic).any()


def test_coords_k_checks_k_distinct_coordinates_reproducibly():
    theta = 0.1 * RNG.standard_normal(65)
    a = gradient_check(LOGISTIC.f, LOGISTIC.grad, theta, coords=10, rng=np.random.default_rng(5))
    b = gradient_check(LOGISTIC.f, LOGISTIC.grad, theta, coords=10, rng=np.random.default_rng(5))
    checked = ~np.isnan(a.relative_errors)
    assert checked.sum() == 10
    np.testing.assert_array_equal(checked, ~np.isnan(b.relative_errors))
    np.testing.assert_array_equal(a.numerical[checked], b.numerical[checked])
    assert gradient_check(LOGISTIC.f, LOGISTIC.grad, theta, coords=100).relative_errors.size == 65


def test_a_batch_of_points_is_checked_as_the_points_one_by_one():
    p = P.rosenbrock(4)
    theta = RNG.standard_normal((2, 3, 4))

    def wrong_at_one_point(t):
        g = p.grad(t)
        if t.ndim == 3:
            g[1, 2, 0] += 1e-3
        return g

    batched = gradient_check(p.f, wrong_at_one_point, theta)
    assert batched.relative_errors.shape == batched.numerical.shape == theta.shape
    assert batched.worst_index == (1, 2, 0)
    one = gradient_check(p.f, p.grad, theta[0, 1])
    np.testing.assert_allclose(batched.numerical[0, 1], one.numerical, rtol=1e-12)
    np.testing.assert_allclose(batched.relative_errors[0, 1], one.relative_errors, atol=1e-12)


def test_tiny_derivatives_are_judged_against_the_floor_not_their_own_size():
    # f = 1 + 1e-6·θ₀² + θ₁²: at θ₀ = 1 the derivative 2e-6 is below what a central difference
    # resolves to 1e-6 relative (rounding of f ≈ 1 is 2e-16/ε = 2e-10 absolute)
    def f(t):
        return 1.0 + 1e-6 * t[..., 0] ** 2 + t[..., 1] ** 2

    def grad(t):
        return np.stack([2e-6 * t[..., 0], 2 * t[..., 1]], axis=-1)

    theta = np.array([1.0, 0.7])
    assert gradient_check(f, grad, theta).ok
    n = gradient_check(f, grad, theta).numerical
    assert abs(n[0] - 2e-6) / 2e-6 > THRESHOLD  # without the floor this would fail
    # but an error of the floor's size in that entry is still caught
    assert not gradient_check(f, lambda t: grad(t) + [FLOOR * 1.0, 0.0], theta).ok


def test_the_error_has_a_v_shape_in_eps_rounding_left_truncation_right():
    theta = 0.1 * RNG.standard_normal(65)
    errors = {eps: gradient_check(LOGISTIC.f, LOGISTIC.grad, theta, eps=eps).max_relative_error
              for eps in (1e-12, 1e-10, 1e-6, 1e-2, 1e-1)}
    assert errors[1e-6] < THRESHOLD
    assert errors[1e-12] > errors[1e-10] > THRESHOLD   # rounding, growing like 1/ε
    assert errors[1e-1] > errors[1e-2] > THRESHOLD     # truncation, growing like ε²
    assert 50 < errors[1e-1] / errors[1e-2] < 200      # slope 2 on a log-log plot


def test_a_nan_gradient_fails():
    def nan_grad(t):
        g = LOGISTIC.grad(t)
        g[..., 3] = np.nan
        return g

    result = gradient_check(LOGISTIC.f, nan_grad, np.zeros(65))
    assert not result.ok and result.worst_index == (3,)


def test_the_callers_theta_is_left_unchanged():
    theta = RNG.standard_normal(6)
    before = theta.copy()

    def grad_that_writes(t):
        t += 1.0  # a careless gradient that mutates its input
        return P.rosenbrock(6).grad(t - 1.0)

    gradient_check(P.rosenbrock(6).f, grad_that_writes, theta)
    np.testing.assert_array_equal(theta, before)


def test_the_result_is_the_documented_named_tuple():
    result = gradient_check(LOGISTIC.f, LOGISTIC.grad, np.zeros(65))
    assert isinstance(result, GradCheck)
    assert result._fields == ("max_relative_error", "relative_errors", "numerical", "analytic",
                              "worst_index")
    assert isinstance(result.max_relative_error, float) and isinstance(result.ok, bool)
    assert "passed" in str(result) and str(result.worst_index) in str(result)


@pytest.mark.parametrize("call, match", [
    (lambda: gradient_check(lambda t: float(np.sum(t ** 2)), lambda t: 2 * t, np.ones((3, 2))),
     "batched"),
    (lambda: gradient_check(LOGISTIC.f, lambda t: LOGISTIC.grad(t)[:-1], np.zeros(65)),
     r"grad\(θ\) must have θ's shape"),
    (lambda: gradient_check(LOGISTIC.f, LOGISTIC.grad, np.zeros(65), eps=0.0), "positive"),
    (lambda: gradient_check(LOGISTIC.f, LOGISTIC.grad, np.zeros(65), coords=[3, 65]),
     r"0 … 64"),
    (lambda: gradient_check(LOGISTIC.f, LOGISTIC.grad, np.zeros(65), coords=0), "at least 1"),
    (lambda: gradient_check(LOGISTIC.f, LOGISTIC.grad, 1.0), "scalar"),
    (lambda: gradient_check(lambda t: np.full(t.shape[:-1], np.inf), lambda t: t, np.zeros(2)),
     "NaN or inf"),
])
def test_bad_input_raises_a_message_that_says_what_to_do(call, match):
    with pytest.raises(ValueError, match=match):
        call()
