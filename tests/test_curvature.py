"""Curvature–vector products: exact (autograd) and finite-difference H v agree to the order the
error analysis predicts; Gauss–Newton products equal Jᵀ∇²ℓJ and are positive semi-definite."""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import hessian, jacobian

from course_lib import curvature as C
from course_lib import problems as P
from course_lib.data import least_squares, load_digits, logistic_regression
from course_lib.optim import HessianFree, run


@pytest.fixture(scope="module")
def digits_3_8():
    return load_digits(classes=(3, 8))


def chained_rosenbrock(t):
    return anp.sum(100.0 * (t[..., 1:] - t[..., :-1] ** 2) ** 2 + (1 - t[..., :-1]) ** 2,
                   axis=-1)


def test_finite_difference_hvp_error_falls_like_eps_squared_until_rounding_takes_over():
    p = P.rosenbrock(6)
    rng = np.random.default_rng(0)
    theta, v = rng.standard_normal(6), rng.standard_normal(6)
    exact = p.hvp(theta, v)  # the analytic product

    def error(eps):
        fd = P.finite_difference_hvp(p.grad, theta, v, eps=eps)
        return np.linalg.norm(fd - exact) / np.linalg.norm(exact)
    eps = np.array([1e-2, 3e-3, 1e-3])  # truncation dominates: error ∝ ε²
    slope = np.polyfit(np.log(eps), np.log([error(e) for e in eps]), 1)[0]
    assert 1.8 < slope < 2.2
    assert error(1e-9) > 100 * error(None)  # too small a step: rounding, ∝ 1/ε
    assert error(None) < 1e-8  # the default ε balances the two: ~ ε_mach^(2/3)


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_autograd_hvp_is_exact_for_a_batch_of_points(mode):
    rng = np.random.default_rng(1)
    theta, v = rng.standard_normal((4, 7)), rng.standard_normal((4, 7))
    hvp = C.exact_hvp(chained_rosenbrock, mode)
    np.testing.assert_allclose(hvp(theta, v), P.rosenbrock(7).hvp(theta, v), rtol=1e-12,
                               atol=1e-10)


def test_hvp_is_the_directional_derivative_of_the_gradient():
    p = C.autograd_problem(chained_rosenbrock, name="chained Rosenbrock (autograd)", dim=5,
                           x0=P.rosenbrock(5).x0)
    rng = np.random.default_rng(2)
    theta, v = rng.standard_normal(5), rng.standard_normal(5)
    np.testing.assert_allclose(p.grad(theta), P.rosenbrock(5).grad(theta), rtol=1e-12)
    h = 1e-4  # d/dε ∇L(θ + εv) by a central difference, error O(h²)
    directional = (p.grad(theta + h * v) - p.grad(theta - h * v)) / (2 * h)
    np.testing.assert_allclose(p.hvp(theta, v), directional, rtol=1e-6)


def test_gauss_newton_product_is_jacobian_transpose_loss_hessian_jacobian_and_psd():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 3))
    labels = np.eye(4)[rng.integers(0, 4, 6)]

    def outputs(t):  # a tanh layer (3 → 2) and a linear layer (2 → 4), flattened logits
        W1, W2 = t[..., :6].reshape(t.shape[:-1] + (3, 2)), t[..., 6:].reshape(
            t.shape[:-1] + (2, 4))
        return anp.reshape(anp.tanh(X @ W1) @ W2, t.shape[:-1] + (24,))

    def loss(z):  # mean softmax cross-entropy of the logits
        S = anp.reshape(z, z.shape[:-1] + (6, 4))
        lse = anp.log(anp.sum(anp.exp(S), axis=-1))
        return anp.mean(lse - anp.sum(labels * S, axis=-1), axis=-1)

    gnvp = C.gauss_newton_product(outputs, loss)
    theta, v = rng.standard_normal(14), rng.standard_normal(14)
    J = jacobian(outputs)(theta)
    G = J.T @ hessian(loss)(outputs(theta)) @ J
    np.testing.assert_allclose(gnvp(theta, v), G @ v, rtol=1e-10, atol=1e-12)
    assert np.linalg.eigvalsh(G).min() > -1e-12  # positive semi-definite
    batch = rng.standard_normal((2, 14))
    np.testing.assert_allclose(gnvp(batch, v)[1], gnvp(batch[1], v), rtol=1e-12)


def test_sum_of_squares_gauss_newton_is_two_jt_j_and_the_hessian_where_residuals_vanish():
    p = P.wood()
    rng = np.random.default_rng(4)
    theta, v = rng.standard_normal(4), rng.standard_normal(4)
    J = _jacobian(p, theta)
    np.testing.assert_allclose(p.gnvp(theta, v), 2 * J.T @ (J @ v), rtol=1e-7)
    one = np.ones(4)  # the minimizer, r = 0: no second-order term left
    np.testing.assert_allclose(p.gnvp(one, v), p.hvp(one, v), rtol=1e-12)


def _jacobian(p, theta, h=1e-6):
    cols = [(p.residuals(theta + h * e) - p.residuals(theta - h * e)) / (2 * h)
            for e in np.eye(len(theta))]
    return np.stack(cols, axis=-1)


def test_logistic_regression_gauss_newton_equals_its_hessian(digits_3_8):
    d = digits_3_8
    base = logistic_regression(d.X_train, (d.y_train == 8).astype(int), l2=1e-3)
    p = C.logistic_regression_curvature(base)
    rng = np.random.default_rng(5)
    theta, v = 0.1 * rng.standard_normal((2, base.dim)), rng.standard_normal((2, base.dim))
    np.testing.assert_allclose(p.gnvp(theta, v), base.hvp(theta, v), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(p.per_example_grad(theta).mean(axis=-2), base.grad(theta),
                               rtol=1e-10, atol=1e-14)
    assert not hasattr(base, "gnvp")  # the original problem is left as it was


def test_logistic_regression_curvature_refuses_another_model(digits_3_8):
    d = digits_3_8
    with pytest.raises(ValueError, match="not the logistic regression"):
        C.logistic_regression_curvature(least_squares(d.X_train, d.y_train.astype(float)))
    with pytest.raises(TypeError, match="no data"):
        C.logistic_regression_curvature(P.rosenbrock())


def test_hessian_free_with_martens_preconditioner_reaches_the_same_minimum(digits_3_8):
    d = digits_3_8
    p = C.logistic_regression_curvature(
        logistic_regression(d.X_train, (d.y_train == 8).astype(int), l2=1e-3))
    fisher = C.empirical_fisher_diagonal(p.per_example_grad)
    plain = run(HessianFree(gtol=1e-8), p, p.x0, 200)
    pre = run(HessianFree(preconditioner=fisher, gtol=1e-8), p, p.x0, 200)
    assert plain.stopped_at > 0 and pre.stopped_at > 0 and pre.n_gnvp > 0
    np.testing.assert_allclose(pre.loss, plain.loss, rtol=1e-10)
