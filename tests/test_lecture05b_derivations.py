"""Notebook 05b's SymPy chain rule through two unrolled steps gives course_lib.learned.theory's
results, and those are the textbook formulas: the dropped term is f′(θ₂) m_∇(∇₁, φ) f″(θ₁)
m_φ(∇₀, φ); and autograd's meta-gradients (with and without it) equal the formulas."""
import numpy as np
import pytest

from course_lib.learned import meta
from course_lib.learned import quadratics as Q
from course_lib.learned import theory as T
from derivations import run_derivation_cells, same


@pytest.fixture(scope="module")
def derived():
    """What the notebook's derivation cells define (see tests/derivations.py)."""
    return run_derivation_cells("05b_learning_to_learn", at_least=3)


def test_the_notebooks_chain_rule_is_the_librarys(derived):
    assert same(derived["meta_grad"], T.two_step_meta_gradient())
    assert same(derived["meta_grad_dropped"], T.two_step_meta_gradient(dropped=True))
    assert same(derived["left_out"], T.dropped_term())


def test_the_dropped_term_is_the_hessian_product():
    theta0, phi, nabla0 = T.symbols()
    theta1 = theta0 + T.m(nabla0, phi)
    theta2 = theta1 + T.m(T.df(theta1), phi)
    expected = (T.df(theta2) * T.m_grad(T.df(theta1), phi) * T.d2f(theta1)
                * T.m_phi(nabla0, phi))
    assert same(T.dropped_term(), expected)


@pytest.mark.parametrize("second_order", [True, False])
def test_autograd_meta_gradient_of_a_learned_step_size_equals_the_formula(second_order):
    w, y, theta0, phi = 0.7, -1.1, 0.5, 0.3
    one = Q.Quadratics(np.array([[[w]]]), np.array([[y]]), np.array([[theta0]]))
    _, grads, _, _ = meta.meta_gradient(
        {"eta": np.array(phi)}, one, one.theta0, None, 2, second_order=second_order,
        update=lambda p, x, s: (-p["eta"] * x[..., 0], s))
    th0, ph, _ = T.symbols()
    expr = T.two_step_meta_gradient(dropped=not second_order)
    value = float(T.concrete(expr, w, y, lambda g, p: -p * g).subs({th0: theta0, ph: phi}))
    assert grads["eta"] == pytest.approx(value, rel=1e-10)
