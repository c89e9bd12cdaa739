"""The Moré–Garbow–Hillstrom sums of squares: published values at the standard starts and
minima, derivatives that agree with finite differences, batched evaluation, bad input."""
import numpy as np
import pytest

from course_lib import problems as P

# f at the standard start, as Moré, Garbow & Hillstrom (1981) tabulate it (variably
# dimensioned, d = 10, by hand: xⱼ − 1 = −j/10, Σ(xⱼ − 1)² = 3.85, s = −38.5, f = 3.85 + s² + s⁴)
STARTS = [(lambda: P.powell_singular(), 215.0), (lambda: P.wood(), 19192.0),
          (lambda: P.brown_badly_scaled(), 0.999998e12), (lambda: P.helical_valley(), 2500.0),
          (lambda: P.box_3d(), 1031.1535),
          (lambda: P.variably_dimensioned(10), 3.85 + 38.5 ** 2 + 38.5 ** 4),
          (lambda: P.penalty_1(10), 148032.565)]

ALL = [lambda: P.powell_singular(8), P.wood, P.brown_badly_scaled, P.helical_valley, P.box_3d,
       lambda: P.trigonometric(7), lambda: P.variably_dimensioned(6),
       lambda: P.broyden_tridiagonal(9), lambda: P.penalty_1(5)]


@pytest.mark.parametrize("make, value", STARTS)
def test_each_function_takes_its_published_value_at_the_standard_start(make, value):
    p = make()
    assert float(p.f(p.x0)) == pytest.approx(value, rel=1e-5)


@pytest.mark.parametrize("make", [lambda: P.powell_singular(12), P.wood, P.brown_badly_scaled,
                                  P.helical_valley, P.box_3d, lambda: P.variably_dimensioned(8)])
def test_the_known_minimizers_are_stationary_with_value_zero(make):
    p = make()
    for theta in np.atleast_2d(p.minimizer):
        assert float(p.f(theta)) == pytest.approx(0.0, abs=1e-20)
        np.testing.assert_allclose(p.grad(theta), 0.0, atol=1e-9)


def test_penalty_function_minimum_is_the_published_one():
    from scipy.optimize import minimize
    p = P.penalty_1(4)
    res = minimize(lambda t: float(p.f(t)), p.x0, jac=p.grad, method="BFGS",
                   options={"gtol": 1e-12})
    assert res.fun == pytest.approx(p.fmin, rel=1e-5)


def _fd(fn, theta, h=1e-6):
    return np.stack([(fn(theta + h * e) - fn(theta - h * e)) / (2 * h)
                     for e in np.eye(theta.shape[-1])], axis=-1)


@pytest.mark.parametrize("make", ALL)
def test_gradient_hessian_and_gauss_newton_products_agree_with_finite_differences(make):
    p = make()
    rng = np.random.default_rng(0)
    theta = p.x0 * (1 + 0.1 * rng.standard_normal(p.dim)) + 0.1 * rng.standard_normal(p.dim)
    v = rng.standard_normal(p.dim)
    scale = 1e-6 * np.abs(theta).max() + 1e-6  # steps relative to θ (Brown: x₁ ≈ 1e6)
    g = p.grad(theta)
    np.testing.assert_allclose(g, _fd(p.f, theta, scale), rtol=1e-5,
                               atol=1e-6 * np.abs(g).max())
    H = _fd(p.grad, theta, scale)
    hv = p.hvp(theta, v)
    np.testing.assert_allclose(hv, H @ v, rtol=1e-5, atol=1e-6 * np.abs(hv).max())
    J = _fd(p.residuals, theta, scale)
    gn = p.gnvp(theta, v)
    np.testing.assert_allclose(gn, 2 * J.T @ (J @ v), rtol=1e-5, atol=1e-6 * np.abs(gn).max())


@pytest.mark.parametrize("make", ALL)
def test_every_function_broadcasts_over_a_batch_of_points(make):
    p = make()
    rng = np.random.default_rng(1)
    thetas = p.x0 + 0.1 * rng.standard_normal((2, 3, p.dim))
    v = rng.standard_normal(p.dim)
    for i in range(2):
        for j in range(3):
            t = thetas[i, j]
            assert p.f(thetas)[i, j] == pytest.approx(float(p.f(t)), rel=1e-13)
            np.testing.assert_allclose(p.grad(thetas)[i, j], p.grad(t), rtol=1e-12)
            np.testing.assert_allclose(p.hvp(thetas, v)[i, j], p.hvp(t, v), rtol=1e-12,
                                       atol=1e-12)
            np.testing.assert_allclose(p.gnvp(thetas, v)[i, j], p.gnvp(t, v), rtol=1e-12,
                                       atol=1e-12)


def test_extended_powell_is_the_sum_of_independent_blocks():
    p4, p12 = P.powell_singular(4), P.powell_singular(12)
    theta = np.random.default_rng(2).standard_normal(12)
    assert float(p12.f(theta)) == pytest.approx(sum(float(p4.f(b)) for b in theta.reshape(3, 4)))
    H = p12.hess(theta)
    np.testing.assert_allclose(H[:4, 4:], 0.0)
    np.testing.assert_allclose(H[4:8, 4:8], p4.hess(theta[4:8]))


@pytest.mark.parametrize("call, message", [
    (lambda: P.powell_singular(6), "multiple of 4"), (lambda: P.trigonometric(0), "≥ 1"),
    (lambda: P.broyden_tridiagonal(1), "≥ 2"), (lambda: P.penalty_1(2.5), "integer")])
def test_a_dimension_the_function_does_not_have_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
