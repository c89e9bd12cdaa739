"""Lessard, Recht & Packard (2016, §4.6): heavy ball with the step sizes that are optimal on
quadratics (Polyak's) does not converge on a strongly convex piecewise quadratic with m = 1,
L = 25; from some starts it settles into a limit cycle. GD and Nesterov at their own
settings converge from every start."""
import numpy as np
import pytest
import sympy as sp

from course_lib.optim import SGD, Momentum, Nesterov, run
from course_lib.problems import lessard_piecewise_quadratic, numerical_grad

M, L = 1.0, 25.0
POLYAK = (4 / (np.sqrt(L) + np.sqrt(M)) ** 2,
          ((np.sqrt(L) - np.sqrt(M)) / (np.sqrt(L) + np.sqrt(M))) ** 2)  # (1/9, 4/9)


def test_the_function_is_strongly_convex_and_smooth_with_continuous_pieces():
    p = lessard_piecewise_quadratic(M, L)
    x = p.symbols[0]
    pieces = [piece for piece, _ in p.expr.args]
    for knot, left, right in ((1, pieces[0], pieces[1]), (2, pieces[1], pieces[2])):
        assert (left - right).subs(x, knot) == 0
        assert sp.diff(left - right, x).subs(x, knot) == 0
    xs = np.linspace(-4, 5, 9001)[:, None]
    assert set(np.unique(p.hess(xs))) == {M, L}
    np.testing.assert_allclose(p.grad(xs), numerical_grad(p.f)(xs), atol=1e-5)
    assert p.f(xs).min() == pytest.approx(0.0, abs=1e-9) and p.grad(np.zeros(1))[0] == 0
    with pytest.raises(ValueError, match="0 < m < L"):
        lessard_piecewise_quadratic(5, 1)


def _exact_cycle():
    """Solve the 3-cycle p → q → r → p of heavy ball when p, q lie on the L-piece x < 1 and r on
    the L-piece x ≥ 2 (the pieces the numerical cycle visits)."""
    p, q, r = sp.symbols("p q r")
    eta, mu = sp.Rational(1, 9), sp.Rational(4, 9)
    grad = {p: 25 * p, q: 25 * q, r: 25 * r - 24}
    cyc = [p, q, r]
    eqs = [sp.Eq(cyc[(i + 1) % 3], cyc[i] - eta * grad[cyc[i]] + mu * (cyc[i] - cyc[i - 1]))
           for i in range(3)]
    sol = sp.solve(eqs, cyc, dict=True)[0]
    return sorted(float(sol[s]) for s in cyc)


def test_heavy_ball_with_polyaks_settings_ends_in_a_three_cycle_and_never_converges():
    prob = lessard_piecewise_quadratic(M, L)
    tr = run(Momentum(*POLYAK), prob, [3.3], 600)
    tail = tr.thetas[-30:, 0]
    np.testing.assert_allclose(tail[3:], tail[:-3], atol=1e-9)  # period 3
    assert np.min(np.abs(tr.thetas[200:, 0])) > 0.5  # it never comes near the minimum 0
    assert tr.losses[-30:].min() > 5.0
    cycle = _exact_cycle()
    np.testing.assert_allclose(sorted(tail[-3:]), cycle, atol=1e-9)
    assert cycle[1] < 1 <= 2 <= cycle[2]  # the pieces the solve assumed: two below 1, one above 2


def test_from_a_batch_of_starts_some_cycle_and_gd_and_nesterov_converge_from_all():
    prob = lessard_piecewise_quadratic(M, L)
    starts = np.linspace(-5, 5, 401)[:, None]
    heavy = run(Momentum(*POLYAK), prob, starts, 2000, keep_thetas=False)
    cycling = np.abs(heavy.theta[:, 0]) > 1e-3
    assert 0.05 < cycling.mean() < 0.5
    in_paper_interval = (starts[:, 0] > 3.1) & (starts[:, 0] < 3.45)
    assert np.all(cycling[in_paper_interval])
    gd = run(SGD(2 / (L + M)), prob, starts, 2000, keep_thetas=False)
    # Nesterov at its own quadratic-optimal settings (Lessard et al.), the counterpart of
    # Polyak's for heavy ball (its textbook η = 1/L would be an exact step on the L-pieces)
    r = np.sqrt(3 * L / M + 1)
    nag = run(Nesterov(4 / (3 * L + M), (r - 2) / (r + 2)), prob, starts, 2000,
              keep_thetas=False)
    assert np.abs(gd.theta).max() < 1e-10 and np.abs(nag.theta).max() < 1e-10
