"""Notebook 04's SymPy derivations give course_lib.theory.second_order's results: the Newton
step from the Taylor model and the decrease it promises, one step on a quadratic, the BFGS
inverse update's secant equation and symmetry (2-D and 3-D), Hv as a directional derivative,
the finite-difference error orders, CG's step length and β, and the slide's uphill first
step."""
import pytest
import sympy as sp

from course_lib import problems as P
from course_lib.theory import second_order as T
from derivations import run_derivation_cells, same


@pytest.fixture(scope="module")
def derived():
    """What the notebook's derivation cells define (see tests/derivations.py)."""
    return run_derivation_cells("04_second_order_methods", at_least=10)


def test_the_notebooks_newton_step_and_promised_decrease_are_the_librarys(derived):
    library = T.newton_step(derived["d"])
    assert sp.simplify(derived["newton"] - library["step"]) == sp.zeros(derived["d"], 1)
    assert same(derived["decrease"], library["value"] - T.L0)


def test_the_notebooks_one_step_on_a_quadratic_lands_on_its_minimizer(derived):
    assert sp.simplify(derived["after_one_step"] - derived["c"]) == sp.zeros(2, 1)
    assert sp.simplify(derived["after_one_step"]
                       - T.newton_on_quadratic(2)["new"]) == sp.zeros(2, 1)


def test_the_notebooks_bfgs_update_is_the_librarys_in_3d(derived):
    # the loop leaves its last dimension (3) in the namespace
    assert derived["d_"] == 3
    assert sp.simplify(derived["B_new"] - T.bfgs_inverse_update(3)["new"]) == sp.zeros(3, 3)
    assert derived["secant"] == sp.zeros(3, 1) and derived["asymmetry"] == sp.zeros(3, 3)


def test_the_notebooks_hessian_vector_product_is_the_librarys(derived):
    x, y = P.rosenbrock().symbols
    library = T.hvp_as_directional_derivative(P.rosenbrock().expr, (x, y))
    assert sp.simplify(derived["directional"] - library["directional"]) == sp.zeros(2, 1)
    assert sp.simplify(derived["directional"] - library["product"]) == sp.zeros(2, 1)


@pytest.mark.parametrize("kind,order", [("forward", 1), ("central", 2)])
def test_the_notebooks_finite_difference_errors_are_the_librarys(derived, kind, order):
    ours, library = derived["fd"][kind], T.finite_difference_error(kind)
    assert ours["order"] == library["order"] == order
    assert same(ours["truncation"], library["truncation"])
    assert same(ours["best_eps"], library["best_eps"])
    assert same(ours["best_error"], library["best_error"])


def test_the_notebooks_cg_step_length_and_beta_are_the_librarys(derived):
    assert same(derived["alpha_star"], T.cg_step_length(2)["alpha"])
    assert same(derived["beta_star"], T.cg_beta(2)["beta"])


def test_the_notebooks_slide_first_step_climbs_three_times_cgs_decrease(derived):
    first = T.slide_cg_first_step(2)
    assert same(derived["slide_change"], first["slide_change"])
    assert same(derived["cg_change"], first["correct_change"])
    assert same(first["slide_change"], first["slide_expected"])
    assert same(first["correct_change"], first["correct_expected"])


def test_the_librarys_finite_difference_results_are_the_textbook_ones():
    for kind, power in (("forward", sp.Rational(1, 2)), ("central", sp.Rational(2, 3))):
        r = T.finite_difference_error(kind)
        u = r["u"]
        # the best error scales like u^(k/(k+1)): the exponent of u in it
        assert same(sp.diff(sp.log(r["best_error"]), u) * u, power)
