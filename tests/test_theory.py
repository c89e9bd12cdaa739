"""The SymPy convergence theory of lecture 02 against numbers measured from course_lib.optim."""
import numpy as np
import pytest
import sympy as sp

from course_lib.theory import gradient_descent as T
from course_lib.theory import measured_rate, trace_rate
from course_lib.optim import SGD, Momentum, Nesterov, run
from course_lib.problems import quadratic

OPTIMIZERS = {"gd": lambda eta, mu: SGD(eta), "momentum": Momentum, "nesterov": Nesterov}


def test_characteristic_polynomials_are_the_lectures_recurrences():
    z, eta, mu, lam = T.z, T.eta, T.mu, T.lam
    assert sp.simplify(T.characteristic_polynomial("gd") - (z - (1 - eta * lam))) == 0
    assert sp.simplify(T.characteristic_polynomial("momentum")
                       - (z ** 2 - (1 + mu - eta * lam) * z + mu)) == 0
    assert sp.simplify(T.characteristic_polynomial("nesterov")
                       - (z ** 2 - (1 + mu) * (1 - eta * lam) * z + mu * (1 - eta * lam))) == 0


def test_closed_forms_and_bounds():
    assert sp.simplify(T.gd_error_closed_form() - sp.Symbol("e_0") * (1 - T.eta * T.lam) ** T.t) == 0
    assert T.gd_stability_bound() == 2 / T.lam
    assert sp.simplify(T.momentum_stability_bound() - 2 * (1 + T.mu)) == 0
    assert sp.simplify(T.nesterov_stability_bound() - 2 * (1 + T.mu) / (1 + 2 * T.mu)) == 0
    opt = T.gd_optimal()
    assert sp.simplify(opt["eta"] - 2 / (T.lam_min + T.lam_max)) == 0
    assert sp.simplify(opt["rate"] - (T.kappa - 1) / (T.kappa + 1)) == 0
    mom = T.momentum_optimal()
    rk = sp.sqrt(T.kappa)
    assert sp.simplify(mom["rate"] - (rk - 1) / (rk + 1)) == 0
    assert sp.simplify(mom["eta"] - (2 / (sp.sqrt(T.lam_min) + sp.sqrt(T.lam_max))) ** 2) == 0
    assert sp.simplify(mom["mu"] - ((sp.sqrt(T.lam_max) - sp.sqrt(T.lam_min))
                                    / (sp.sqrt(T.lam_max) + sp.sqrt(T.lam_min))) ** 2) == 0


def test_torchs_nesterov_is_the_lookahead_form():
    assert T.nesterov_torch_equivalence() == 0


@pytest.mark.parametrize("method", ["momentum", "nesterov"])
def test_spectral_radius_crosses_one_exactly_at_the_derived_stability_bound(method):
    bound = T.momentum_stability_bound() if method == "momentum" else T.nesterov_stability_bound()
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
