"""With a constant step and noisy gradients the loss hovers above the minimum. The stationary
excess loss (theory.noise_floor, a Lyapunov equation solved in SymPy) is ≈ ¼σ²η/(1 − µ) for
momentum and Nesterov: the floor of SGD with the effective step η/(1 − µ). Checked against
runs on a noisy quadratic, one noise stream per run."""
import numpy as np
import pytest
import sympy as sp

from course_lib.optim import SGD, Momentum, Nesterov, run
from course_lib.problems import Problem
from course_lib.theory import noise_floor as N


def test_momentum_variance_is_the_closed_form_and_all_floors_follow_the_effective_step():
    eta, mu, lam, s2 = N.eta, N.mu, N.lam, N.sigma2
    closed = eta * s2 * (1 + mu) / (lam * (1 - mu) * (2 * (1 + mu) - eta * lam))
    assert sp.simplify(N.stationary_variance("momentum") - closed) == 0
    assert sp.simplify(N.stationary_variance("sgd") - eta * s2 / (lam * (2 - eta * lam))) == 0
    assert sp.simplify(N.stationary_variance("momentum").subs(mu, 0)
                       - N.stationary_variance("sgd")) == 0
    for method in ("momentum", "nesterov"):
        assert sp.simplify(sp.limit(N.excess_loss(method) / eta, eta, 0)
                           - s2 / (4 * (1 - mu))) == 0


def test_the_covariance_solves_the_lyapunov_equation():
    for method in N.METHODS:
        A, b = N.transition(method)
        P = N.stationary_covariance(method)
        assert sp.simplify(P - A * P * A.T - N.sigma2 * b * b.T) == sp.zeros(*P.shape)


def _noisy_quadratic(lams, sigma, rng):
    """½ Σ λᵢ θᵢ² whose gradient carries fresh N(0, σ²) noise in each coordinate and run."""
    lams = np.asarray(lams, dtype=float)
    return Problem(lambda t: 0.5 * np.sum(lams * np.asarray(t) ** 2, axis=-1),
                   lambda t: lams * np.asarray(t) + sigma * rng.standard_normal(np.shape(t)),
                   name="noisy quadratic", dim=len(lams))


@pytest.mark.parametrize("opt, method", [(SGD(0.05), "sgd"), (Momentum(0.01, 0.8), "momentum"),
                                         (Nesterov(0.01, 0.8), "nesterov")])
def test_measured_floor_matches_the_stationary_theory(opt, method):
    lams, sigma = [0.5, 2.0], 1.0
    p = _noisy_quadratic(lams, sigma, np.random.default_rng(4))
    tr = run(opt, p, np.zeros((400, 2)), 3000, keep_thetas=False)
    measured = tr.losses[1000:].mean()
    eta = opt.eta
    mu = getattr(opt, "mu", 0.0)
    predicted = float(N.noise_floor(method, eta, mu, lams, [sigma ** 2] * 2))
    assert measured == pytest.approx(predicted, rel=0.05)


def test_unstable_settings_have_an_infinite_floor_and_bad_methods_are_named():
    assert N.noise_floor("momentum", 5.0, 0.9, [1.0], [1.0]) == np.inf
    with pytest.raises(ValueError, match="one of"):
        N.noise_floor("adam", 0.1, 0.9, [1.0], [1.0])
