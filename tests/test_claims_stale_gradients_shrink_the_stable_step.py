"""Claim: "parallelizable, optional asynchronous updates" — at a price: with gradients τ steps
stale, the largest stable step size shrinks like 1/τ (theory.stale_gradients, optim.Delayed)."""
import numpy as np
import pytest
import sympy as sp

from course_lib.optim import SGD, Delayed, run
from course_lib.problems import quadratic
from course_lib.theory import stale_gradients as S


def test_the_characteristic_polynomial_is_the_delayed_recurrences():
    z, a = S.z, S.a
    assert sp.expand(S.characteristic_polynomial(0) - (z - 1 + a)) == 0
    assert sp.expand(S.characteristic_polynomial(3) - (z ** 4 - z ** 3 + a)) == 0
    assert sp.simplify(S.characteristic_polynomial() - (z ** (S.tau + 1) - z ** S.tau + a)) == 0


def test_the_derived_bound_is_gds_two_without_delay_and_one_with_a_delay_of_one():
    bound = S.stability_bound()
    assert bound.subs(S.tau, 0) == 2 and sp.nsimplify(bound.subs(S.tau, 1)) == 1
    assert sp.simplify(sp.expand_complex(sp.exp(sp.I * S.phi) - 1 - S.unit_circle_factor())) == 0
    assert S.crossing_angle() == sp.pi / (2 * S.tau + 1)


@pytest.mark.parametrize("tau", range(16))
def test_a_root_crosses_the_unit_circle_exactly_at_the_bound(tau):
    b = float(S.largest_stable_step(tau))
    below, at, above = S.spectral_radius([0.999 * b, b, 1.001 * b], tau)
    assert below < 1 < above and at == pytest.approx(1.0, abs=1e-9)
    # and nowhere below it: every smaller step is stable
    assert np.all(S.spectral_radius(np.linspace(1e-3, 0.999 * b, 200), tau) < 1)


def test_measured_largest_stable_step_matches_the_theory_within_two_percent():
    p = quadratic(1.0, d=1)  # λ = 1, so η is ηλ
    taus = np.arange(9)
    etas = np.geomspace(0.05, 2.2, 400)
    T, E = np.meshgrid(taus, etas, indexing="ij")
    tr = run(Delayed(SGD(eta=E[..., None]), tau=T[..., None]), p, np.ones(T.shape + (1,)), 4000,
             keep_thetas=False)
    shrinks = ~tr.diverged & (np.abs(tr.theta[..., 0]) < 1.0)
    measured = np.array([etas[row].max() for row in shrinks])
    np.testing.assert_allclose(measured, S.largest_stable_step(taus), rtol=0.02)
    assert np.all(np.diff(measured) < 0)


def test_delayed_sgd_converges_at_the_rate_of_the_largest_root():
    p = quadratic(1.0, d=1)
    for tau, a in ((1, 0.3), (2, 0.2), (4, 0.1)):
        tr = run(Delayed(SGD(a), tau), p, np.ones(1), 400)
        errors = np.abs(tr.thetas[:, 0])
        rate = np.exp(np.polyfit(np.arange(200, 401), np.log(errors[200:]), 1)[0])
        assert rate == pytest.approx(float(S.spectral_radius(a, tau)), rel=2e-3)


def test_bad_delays_are_refused_with_a_message():
    with pytest.raises(ValueError, match="whole number"):
        S.largest_stable_step(1.5)
    with pytest.raises(ValueError, match="whole number"):
        S.spectral_radius(0.1, -1)
