"""Claim: "gradient descent can be stopped by small bumps; momentum rolls over them".

Pinned on `rippled_quadratic`, f(x) = ½λx² + a(1 − cos ωx), against `theory.ripples`: where
stationary points can exist, when there are none, where GD stops, and the momentum above which
heavy ball rolls past that point (measured on one batched η × µ × amplitude grid).
"""
import numpy as np
import pytest
import sympy as sp

from course_lib.optim import SGD, Momentum, run
from course_lib.problems import numerical_grad, rippled_quadratic
from course_lib.theory import ripples as R

OMEGA, LAM = 8 * np.pi, 1.0


def test_rippled_quadratic_derivatives_are_the_sympy_ones_and_broadcast_per_run():
    amps = np.array([0.0, 0.02, 0.08])
    p = rippled_quadratic(amplitude=amps[:, None], omega=OMEGA, lam=LAM)
    theta = np.random.default_rng(0).uniform(-3, 3, (3, 4, 1))
    np.testing.assert_allclose(p.grad(theta), numerical_grad(p.f)(theta), rtol=1e-6, atol=1e-7)
    x, a, w, l = p.symbols[0], *sp.symbols("a omega lambda", real=True)
    assert sp.simplify(p.expr - (l * x ** 2 / 2 + a * (1 - sp.cos(w * x)))) == 0
    single = rippled_quadratic(amplitude=0.02, omega=OMEGA, lam=LAM)
    np.testing.assert_allclose(p.f(theta)[1], single.f(theta[1]))
    with pytest.raises(ValueError, match="does not broadcast"):
        p.f(np.zeros((4, 1)))
    with pytest.raises(ValueError, match="≥ 0"):
        rippled_quadratic(amplitude=-0.1)


def test_stationary_points_exist_only_in_the_trap_zone_and_not_at_all_below_the_threshold():
    assert R.trap_zone() == R.a * R.omega / R.lam
    assert R.convexity_threshold() == R.lam / R.omega ** 2
    xs = np.linspace(0, 6, 200001)
    for a in (0.02, 0.08):
        p = rippled_quadratic(amplitude=a, omega=OMEGA, lam=LAM)
        g = p.grad(xs[:, None])[:, 0]
        zeros = xs[1:][np.sign(g[1:]) != np.sign(g[:-1])]
        edge = float(R.trap_zone().subs({R.a: a, R.omega: OMEGA, R.lam: LAM}))
        assert len(zeros) > 1 and zeros.max() <= edge
    below = 0.9 * LAM / OMEGA ** 2
    p = rippled_quadratic(amplitude=below, omega=OMEGA, lam=LAM)
    assert np.all(p.hess(xs[:, None]) > 0)
    assert R.gd_stop(below, OMEGA, LAM) == 0.0


def test_heavy_balls_continuous_limit_and_retrapping_slope_are_the_stated_closed_forms():
    s = sp.Symbol("s", positive=True)
    ode = R.continuous_limit()
    X, F = sp.Function("x"), sp.Function("F")
    assert sp.simplify(ode - (X(s).diff(s, 2) + R.gamma * X(s).diff(s) + F(X(s)))) == 0
    assert sp.simplify(R.retrapping_slope() - 4 * R.gamma * sp.sqrt(R.a) / sp.pi) == 0
    speed = R.separatrix_speed().subs({R.a: 0.3, R.omega: 2.0})
    for xv in np.linspace(-1.5, 1.5, 7):  # energy ½v² + a(1 − cos ωx) = 2a along the path
        v = float(speed.subs(R.x, xv))
        assert v ** 2 / 2 + 0.3 * (1 - np.cos(2.0 * xv)) == pytest.approx(0.6)


def test_gd_stops_at_the_outermost_minimum_for_every_step_that_keeps_all_minima_stable():
    amps = np.array([0.02, 0.08])
    stops = R.gd_stop(amps, OMEGA, LAM)
    etas = np.linspace(0.05, 0.95, 6)[None, :] * R.gd_stable_step(amps, OMEGA, LAM)[:, None]
    p = rippled_quadratic(amplitude=amps[:, None], omega=OMEGA, lam=LAM)
    tr = run(SGD(eta=etas[..., None]), p, np.full((2, 6, 1), 5.0), 8000, keep_thetas=False)
    np.testing.assert_allclose(tr.theta[..., 0], np.broadcast_to(stops[:, None], (2, 6)),
                               atol=1e-6)
    assert np.all(stops > 0.8 * amps * OMEGA / LAM)  # just inside the trap zone's edge


def test_momentum_rolls_past_gds_stop_just_above_the_derived_momentum():
    amps = np.array([0.02, 0.08])
    etas = np.geomspace(0.002, 0.012, 4)
    mus = np.linspace(0.0, 0.98, 50)
    A, E, M = np.meshgrid(amps, etas, mus, indexing="ij")
    p = rippled_quadratic(amplitude=amps[:, None, None], omega=OMEGA, lam=LAM)
    tr = run(Momentum(eta=E[..., None], mu=M[..., None]), p, np.full(A.shape + (1,), 5.0), 3000,
             keep_thetas=False)
    stops = R.gd_stop(amps, OMEGA, LAM)
    passed = np.abs(tr.theta[..., 0]) < stops[:, None, None] - 0.05
    # below the boundary heavy ball stops exactly where GD stops
    predicted = R.momentum_passes_above(E, A, OMEGA, LAM)
    below = M < predicted - 0.08
    np.testing.assert_allclose(np.abs(tr.theta[..., 0])[below],
                               np.broadcast_to(stops[:, None, None], A.shape)[below], atol=1e-6)
    # the first µ that rolls on lies within 0.07 of the derived boundary
    first = mus[np.argmax(passed, axis=-1)]
    assert np.all(passed.any(axis=-1))
    np.testing.assert_allclose(first, predicted[..., 0], atol=0.07)
