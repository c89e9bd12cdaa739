"""Lecture 04's SymPy results (course_lib.theory.second_order): each derivation simplifies to
the claimed result, and the lambdified results equal what the optimizers compute."""
import numpy as np
import pytest
import sympy as sp

from course_lib import problems as P
from course_lib.optim import BFGS, conjugate_gradient
from course_lib.theory import second_order as T


def is_zero(matrix):
    return all(sp.simplify(e) == 0 for e in sp.Matrix(matrix))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_the_newton_step_is_where_the_taylor_model_is_stationary(d):
    r = T.newton_step(d)
    assert is_zero(r["step"] - r["expected"])
    assert sp.simplify(r["value"] - r["expected_value"]) == 0
    assert r["hessian"] == r["H"]  # the model's Hessian is H itself


@pytest.mark.parametrize("d", [2, 3])
def test_one_newton_step_lands_on_the_minimizer_of_a_quadratic(d):
    assert is_zero(T.newton_on_quadratic(d)["error"])


@pytest.mark.parametrize("d", [2, 3])
def test_the_bfgs_inverse_update_meets_the_secant_equation_and_stays_symmetric(d):
    r = T.bfgs_inverse_update(d)
    assert is_zero(r["secant"]) and is_zero(r["asymmetry"])


def test_a_hessian_vector_product_is_the_directional_derivative_of_the_gradient():
    p = P.beale()  # its SymPy expression
    r = T.hvp_as_directional_derivative(p.expr, p.symbols)
    assert is_zero(r["difference"])
    point = {p.symbols[0]: 1.3, p.symbols[1]: -0.4, r["v"][0]: 0.7, r["v"][1]: 2.0}
    numeric = np.array(r["directional"].subs(point), dtype=float).ravel()
    np.testing.assert_allclose(numeric, p.hvp(np.array([1.3, -0.4]), np.array([0.7, 2.0])),
                               rtol=1e-12)


def test_cg_step_length_and_beta_follow_from_exact_line_search_and_conjugacy():
    a = T.cg_step_length(2)
    assert sp.simplify(a["alpha"] - a["expected"]) == 0
    b = T.cg_beta(2)
    assert sp.simplify(b["beta"] - b["expected"]) == 0


def test_the_slides_first_cg_step_raises_the_model_and_the_correct_one_lowers_it():
    r = T.slide_cg_first_step(2)
    assert sp.simplify(r["slide_change"] - r["slide_expected"]) == 0
    assert sp.simplify(r["correct_change"] - r["correct_expected"]) == 0
    rng = np.random.default_rng(0)  # and the course's CG takes the correct one
    A = rng.standard_normal((2, 2))
    H, g = A @ A.T + np.eye(2), rng.standard_normal(2)
    first = conjugate_gradient(lambda v: v @ H, g, max_iter=1)
    change = float(r["correct_expected"].subs({**dict(zip(sp.Matrix(T.vector("g", 2)), g)),
                                               **_matrix_values(H)}))
    assert float(T.quadratic_model_fn(0.0, g, H, first.p)) == pytest.approx(change, rel=1e-12)


def _matrix_values(H):
    M = T.symmetric_matrix("h", H.shape[0])
    return {M[i, j]: H[i, j] for i in range(H.shape[0]) for j in range(i, H.shape[0])}


def test_the_lambdified_model_is_the_second_order_taylor_expansion_of_a_loss():
    p = P.rosenbrock()
    theta, u = np.array([-0.5, 0.8]), np.array([1.0, -2.0])
    L, g, H = float(p.f(theta)), p.grad(theta), p.hess(theta)

    def gap(h):  # L(θ + hu) − m(hu) = O(h³)
        return abs(float(p.f(theta + h * u)) - float(T.quadratic_model_fn(L, g, H, h * u)))
    assert 7.0 < gap(1e-2) / gap(5e-3) < 9.0  # halving the step divides the gap by 2³


def test_dense_bfgs_updates_its_matrix_as_the_sympy_update_does():
    p = P.rosenbrock()
    opt = BFGS()
    theta, state = p.x0, opt.init(p.x0)
    theta, state = opt.step(theta, state, p)  # builds H₁ from H₀ = (sᵀz/zᵀz) I
    old_theta, old_g, H = theta, state.g, state.H
    theta, state = opt.step(theta, state, p)
    s, z = theta - old_theta, state.g - old_g
    np.testing.assert_allclose(state.H, T.bfgs_update_fn(H, s, z), rtol=1e-10)
    np.testing.assert_allclose(state.H @ z, s, rtol=1e-8)  # the secant equation
