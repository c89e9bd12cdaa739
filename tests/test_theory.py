"""The SymPy convergence theory of lecture 02: notebook 02's derivations equal the library's
results, and the library's numbers equal rates measured from course_lib.optim."""
import numpy as np
import pytest
import sympy as sp

from course_lib.theory import gradient_descent as T
from course_lib.theory import measured_rate, trace_rate
from course_lib.optim import SGD, Momentum, Nesterov, run
from course_lib.problems import quadratic
from derivations import run_derivation_cells, same

OPTIMIZERS = {"gd": lambda eta, mu: SGD(eta), "momentum": Momentum, "nesterov": Nesterov}


@pytest.fixture(scope="module")
def derived():
    """What the notebook's derivation cells define (see tests/derivations.py)."""
    return run_derivation_cells("02_gradient_descent", at_least=10)


def test_the_notebooks_gd_derivation_gives_the_librarys_results(derived):
    assert same(derived["z"] - derived["gd_factor"], T.characteristic_polynomial("gd"))
    assert same(derived["gd_limit"], T.stable_limit("gd"))
    assert same(derived["gd_eta_star"], T.optimum("gd")["eta"])
    assert same(derived["gd_rate_star"], T.optimum("gd")["rate"])


@pytest.mark.parametrize("method, short", [("momentum", "mom"), ("nesterov", "nag")])
def test_the_notebooks_matrices_polynomials_and_bounds_are_the_librarys(derived, method, short):
    difference = sp.simplify(derived[f"{short}_matrix"] - T.iteration_matrix(method))
    assert difference == sp.zeros(2, 2)
    assert same(derived[f"{short}_poly"], T.characteristic_polynomial(method))
    assert same(derived[f"{short}_limit"], T.stable_limit(method))


def test_the_notebooks_polyak_optimum_and_torch_change_of_variables_are_the_librarys(derived):
    for name in ("eta", "mu", "rate"):
        assert same(derived[f"mom_{name}_star"], T.optimum("momentum")[name]), name
    assert same(derived["torch_p"], T.TORCH_NESTEROV["p"])
    assert same(derived["torch_b"], T.TORCH_NESTEROV["b"])


def test_the_librarys_results_are_the_textbook_formulas():
    """Polyak (1964) for momentum, Lessard, Recht & Packard (2016) for Nesterov."""
    z, eta, mu, lam, k = T.z, T.eta, T.mu, T.lam, T.kappa
    assert same(T.characteristic_polynomial("momentum"), z ** 2 - (1 + mu - eta * lam) * z + mu)
    assert same(T.characteristic_polynomial("nesterov"),
                z ** 2 - (1 + mu) * (1 - eta * lam) * z + mu * (1 - eta * lam))
    assert same(T.stable_limit("nesterov"), 2 * (1 + mu) / (1 + 2 * mu))
    assert same(T.optimum("gd")["rate"], (k - 1) / (k + 1))
    assert same(T.optimum("momentum")["rate"], (sp.sqrt(k) - 1) / (sp.sqrt(k) + 1))
    assert same(T.optimum("nesterov")["rate"], 1 - 2 / sp.sqrt(3 * k + 1))


@pytest.mark.parametrize("method", T.METHODS)
def test_optimal_settings_give_the_optimal_rate_and_no_grid_point_beats_it(method):
    p = quadratic(50.0, angle=0.3)
    lo, hi = p.eigenvalues.min(), p.eigenvalues.max()
    best = T.optimal_settings(method, lo, hi)
    at_best = float(T.rate(method, best["eta"], best["mu"], p.eigenvalues))
    assert at_best == pytest.approx(best["rate"], rel=1e-7)
    etas, mus = np.meshgrid(np.linspace(1e-3, 4.0, 300) / hi, np.linspace(0.0, 0.995, 300))
    grid = T.rate(method, etas, mus if method != "gd" else 0.0, p.eigenvalues)
    assert grid.min() >= best["rate"] - 1e-9


def test_largest_stable_eta_is_the_bound_over_lambda_max_and_bad_arguments_say_so():
    np.testing.assert_allclose(T.largest_stable_eta("momentum", [0.0, 0.5], 4.0), [0.5, 0.75])
    np.testing.assert_allclose(T.largest_stable_eta("nesterov", 0.5, 1.0), 1.5)
    with pytest.raises(ValueError, match="0 ≤ µ < 1"):
        T.largest_stable_eta("momentum", 1.0, 1.0)
    with pytest.raises(ValueError, match="positive-definite"):
        T.optimal_settings("momentum", 2.0, 1.0)
    for fn in (T.iteration_matrix, T.characteristic_polynomial, T.stable_limit, T.optimum):
        with pytest.raises(ValueError, match="use one of"):
            fn("adam")


@pytest.mark.parametrize("method", ["momentum", "nesterov"])
def test_spectral_radius_crosses_one_exactly_at_the_derived_stability_bound(method):
    bound = T.stable_limit(method)
    for mu in (0.0, 0.3, 0.9):
        x = float(bound.subs(T.mu, mu))  # the largest stable ηλ
        below = T.spectral_radius(method, (1 - 1e-6) * x, mu, 1.0)
        above = T.spectral_radius(method, (1 + 1e-6) * x, mu, 1.0)
        assert below < 1 < above


def test_optimal_momentum_has_every_mode_shrink_by_the_same_factor():
    lams = np.array([0.5, 2.0, 7.0, 50.0])
    rmin, rmax = np.sqrt(lams.min()), np.sqrt(lams.max())
    eta, mu = (2 / (rmin + rmax)) ** 2, ((rmax - rmin) / (rmax + rmin)) ** 2
    radii = T.spectral_radius("momentum", eta, mu, lams)
    np.testing.assert_allclose(radii, np.sqrt(mu), rtol=1e-6)


@pytest.mark.parametrize("method, eta, mu", [("gd", 0.15, 0.0), ("gd", 0.02, 0.0),
                                             ("momentum", 0.05, 0.6), ("momentum", 0.1, 0.3),
                                             ("nesterov", 0.05, 0.6), ("nesterov", 0.12, 0.2)])
def test_measured_rate_equals_the_predicted_rate(method, eta, mu):
    p = quadratic(12.0, angle=0.4)
    tr = run(OPTIMIZERS[method](eta, mu), p, p.x0, 400)
    err = np.linalg.norm(tr.thetas - p.minimizer, axis=-1)
    assert measured_rate(err) == pytest.approx(float(T.rate(method, eta, mu, p.eigenvalues)),
                                                 rel=2e-3)


def test_rate_broadcasts_over_a_grid_of_hyperparameters():
    etas, mus = np.meshgrid(np.linspace(0.01, 0.3, 5), np.linspace(0, 0.9, 4))
    r = T.rate("momentum", etas, mus, [1.0, 10.0])
    assert r.shape == (4, 5)
    assert r[0, 0] == pytest.approx(float(T.rate("momentum", etas[0, 0], mus[0, 0], [1.0, 10.0])))


def test_measured_rate_ignores_rounding_noise_and_rejects_bad_input():
    e = 0.5 ** np.arange(200.0)  # reaches 1e-60: everything past 1e-13 is left out
    assert measured_rate(e) == pytest.approx(0.5)
    assert np.isnan(measured_rate(np.ones(3)))
    with pytest.raises(ValueError, match="1-D"):
        measured_rate(np.ones((3, 3)))
    with pytest.raises(ValueError, match="method"):
        T.spectral_radius("adam", 0.1, 0.9, 1.0)


def test_trace_rate_is_the_measured_rate_of_one_runs_errors():
    p = quadratic(12.0, angle=0.4)
    tr = run(SGD(0.1), p, p.x0, 300)
    err = np.linalg.norm(tr.thetas - p.minimizer, axis=-1)
    assert trace_rate(tr, p.minimizer) == measured_rate(err)
    with pytest.raises(ValueError, match="one run"):
        trace_rate(run(SGD(0.1), p, np.zeros((2, 2)), 5), p.minimizer)
