"""Notebook 03's SymPy derivations give course_lib.theory.adaptive's results, and those are
the textbook formulas: Adagrad's step size η/√(t g² + ε) and its 1/√t decay, the distance
bounds, the scaling of each update under θ → cθ, Adadelta's first step √(ε/(1 − ρ)), Adam's
bias correction 1/(1 − βᵗ), first step and invariance to the gradient's scale."""
import pytest
import sympy as sp

from course_lib.theory import adaptive as A
from derivations import run_derivation_cells, same



@pytest.fixture(scope="module")
def derived():
    """What the notebook's derivation cells define (see tests/derivations.py)."""
    return run_derivation_cells("03_adaptive_learning_rates", at_least=9)


def test_the_notebooks_adagrad_derivation_is_the_librarys(derived):
    assert same(derived["rate_t"], A.adagrad_effective_rate())
    assert same(derived["decay"], A.adagrad_rate_decay())
    lower, upper = A.adagrad_distance_bounds()
    assert same(derived["lower"], lower) and same(derived["upper"], upper)


def test_the_notebooks_unit_scalings_are_the_librarys(derived):
    assert set(derived["scaling"]) == set(A.UPDATES)
    for name, ratio in derived["scaling"].items():
        assert same(ratio, A.update_scaling(name, 0)), name


def test_the_notebooks_adadelta_first_step_is_the_librarys(derived):
    assert same(derived["first_size"], A.adadelta_first_step()["size_for_large_g"])


def test_the_notebooks_adam_derivations_are_the_librarys(derived):
    assert derived["m_t"] == A.ewma_unrolled()
    assert same(derived["expected_m"], A.expected_moment())
    assert same(derived["correction"], A.bias_correction_factor())
    assert same(derived["first_adam"], A.adam_first_step()["step"])
    assert same(derived["gain"], A.adam_gradient_scaling())


def test_the_librarys_results_are_the_textbook_formulas():
    eta, eps, g, t, c, v, beta, G = A.eta, A.eps, A.g, A.t, A.c, A.v, A.beta, A.G
    assert same(A.adagrad_effective_rate(), eta / sp.sqrt(t * g ** 2 + eps))
    assert same(A.adagrad_rate_decay(), eta / sp.Abs(g))
    assert same(A.expected_moment(), (1 - beta ** t) * G)
    assert same(A.bias_correction_factor(), 1 / (1 - beta ** t))
    assert same(A.adadelta_first_step()["size_for_large_g"], sp.sqrt(eps) / sp.sqrt(1 - A.rho))
    assert same(A.adam_gradient_scaling().subs(eps, 0), 1)
    assert same(A.adam_gradient_scaling(), c * sp.sqrt(v + eps) / sp.sqrt(c ** 2 * v + eps))
    expected = {"sgd": 1 / c, "adagrad": 1, "rmsprop": 1, "adam": 1, "adadelta": c, "newton": c}
    for name, ratio in expected.items():
        assert same(A.update_scaling(name, 0), ratio), name
