"""Problems: every gradient against finite differences, every 2-D derivative against SymPy."""
import numpy as np
import pytest
import sympy as sp

from course_lib import problems as P
from course_lib.data import load_digits

RNG = np.random.default_rng(20261128)

TWO_D = [P.rosenbrock(), P.beale(), P.himmelblau(), P.booth(), P.saddle(), P.quadratic(10.0),
         P.quadratic(100.0, angle=0.3), P.two_unit_network()]
HIGH_D = [P.rosenbrock(5), P.rosenbrock(6, "extended"), P.rosenbrock(7, "chained"),
          P.quadratic(50.0, d=6, rng=np.random.default_rng(1))]


def _data_problems():
    d = load_digits(classes=(3, 8), seed=1)
    y01 = (d.y_train == 8).astype(int)
    full = load_digits(seed=2)
    return [P.least_squares(d.X_train, y01, l2=0.1), P.logistic_regression(d.X_train, y01),
            P.logistic_regression(d.X_train, y01, l2=0.3),
            P.softmax_regression(full.X_train[:200], full.y_train[:200], l2=0.01),
            P.mlp(full.X_train[:100], full.y_train[:100], hidden=5, l2=0.01,
                  rng=np.random.default_rng(3))]


DATA = _data_problems()
ALL = TWO_D + HIGH_D + DATA


def _fd_grad(f, theta, h=1e-6):
    g = np.zeros_like(theta)
    for i in range(theta.shape[-1]):
        e = np.zeros(theta.shape[-1])
        e[i] = h
        g[..., i] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


def _points(p, n=4):
    scale = 0.1 if p.dim > 10 else 1.0
    return scale * RNG.standard_normal((n, p.dim))


@pytest.mark.parametrize("p", ALL, ids=lambda p: p.name)
def test_gradient_matches_finite_differences(p):
    theta = _points(p)
    np.testing.assert_allclose(p.grad(theta), _fd_grad(p.f, theta), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("p", ALL, ids=lambda p: p.name)
def test_hessian_vector_product_matches_finite_differences_of_the_gradient(p):
    theta, v = _points(p, 3), RNG.standard_normal((3, p.dim))
    h = 1e-6
    fd = (p.grad(theta + h * v) - p.grad(theta - h * v)) / (2 * h)
    np.testing.assert_allclose(p.hvp(theta, v), fd, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("p", TWO_D[:-1] + HIGH_D, ids=lambda p: p.name)
def test_hessian_is_symmetric_and_matches_hvp(p):
    theta, v = _points(p, 3), RNG.standard_normal((3, p.dim))
    H = p.hess(theta)
    assert H.shape == (3, p.dim, p.dim)
    np.testing.assert_allclose(H, np.swapaxes(H, -1, -2), atol=1e-12)
    np.testing.assert_allclose(np.einsum("bij,bj->bi", H, v), p.hvp(theta, v), rtol=1e-10)


@pytest.mark.parametrize("p", [q for q in TWO_D if q.expr is not None], ids=lambda p: p.name)
def test_2d_gradient_and_hessian_equal_the_sympy_derivation(p):
    x, y = p.symbols
    grad_sym = [sp.diff(p.expr, s) for s in (x, y)]
    hess_sym = sp.hessian(p.expr, (x, y))
    for pt in _points(p, 5):
        subs = {x: pt[0], y: pt[1]}
        assert float(p.expr.subs(subs)) == pytest.approx(float(p.f(pt)), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(p.grad(pt), [float(g.subs(subs)) for g in grad_sym],
                                   rtol=1e-12, atol=1e-10)
        np.testing.assert_allclose(p.hess(pt), np.array(hess_sym.subs(subs), dtype=float),
                                   rtol=1e-12, atol=1e-10)


def test_high_dimensional_rosenbrock_equals_its_sympy_sum():
    for form, d in (("chained", 4), ("extended", 4)):
        p = P.rosenbrock(d, form)
        xs = sp.symbols(f"x0:{d}", real=True)
        pairs = zip(range(d - 1), range(1, d)) if form == "chained" else \
            zip(range(0, d, 2), range(1, d, 2))
        expr = sum(100 * (xs[j] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i, j in pairs)
        pt = RNG.standard_normal(d)
        subs = dict(zip(xs, pt))
        np.testing.assert_allclose(p.grad(pt), [float(sp.diff(expr, s).subs(subs)) for s in xs],
                                   rtol=1e-12)
        np.testing.assert_allclose(p.hess(pt), np.array(sp.hessian(expr, xs).subs(subs),
                                                        dtype=float), rtol=1e-12)


def test_chained_rosenbrock_equals_scipy_rosen():
    from scipy.optimize import rosen, rosen_der, rosen_hess
    p = P.rosenbrock(9)
    pt = RNG.standard_normal(9)
    assert p.f(pt) == pytest.approx(rosen(pt), rel=1e-13)
    np.testing.assert_allclose(p.grad(pt), rosen_der(pt), rtol=1e-12)
    np.testing.assert_allclose(p.hess(pt), rosen_hess(pt), rtol=1e-12)


@pytest.mark.parametrize("p", ALL, ids=lambda p: p.name)
def test_functions_broadcast_over_leading_axes(p):
    theta = _points(p, 6).reshape(2, 3, p.dim)
    f, g = p.f(theta), p.grad(theta)
    assert f.shape == (2, 3) and g.shape == (2, 3, p.dim)
    for i in range(2):
        for j in range(3):
            assert f[i, j] == pytest.approx(float(p.f(theta[i, j])), rel=1e-12)
            np.testing.assert_allclose(g[i, j], p.grad(theta[i, j]), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("p", [q for q in TWO_D + HIGH_D if q.minimizer is not None],
                         ids=lambda p: p.name)
def test_known_minimizers_are_stationary(p):
    for m in np.atleast_2d(p.minimizer):
        np.testing.assert_allclose(p.grad(m), 0.0, atol=1e-8)
    assert p.minimum_distance(np.atleast_2d(p.minimizer)).max() == 0.0


def test_quadratic_has_the_requested_condition_number_and_eigenvalues():
    p = P.quadratic(kappa=250.0, d=5, rng=np.random.default_rng(3), lam_min=0.5)
    ev = np.linalg.eigvalsh(p.A)
    assert ev.max() / ev.min() == pytest.approx(250.0)
    np.testing.assert_allclose(np.sort(ev), np.sort(p.eigenvalues))
    assert ev.min() == pytest.approx(0.5)


def test_saddle_has_no_minimizer_and_an_indefinite_hessian():
    p = P.saddle()
    assert p.minimizer is None
    assert np.linalg.eigvalsh(p.hess(np.zeros(2))).tolist() == [-2.0, 2.0]


def test_minibatch_loss_is_the_loss_on_those_examples():
    p = DATA[1]
    idx = np.array([3, 17, 40])
    sub = p.batch(idx)
    direct = P.logistic_regression(p.X[idx], p.y[idx])
    theta = _points(p, 2)
    np.testing.assert_allclose(sub.f(theta), direct.f(theta))
    assert sub.n_examples == 3
    # the average of the per-example gradients is the full gradient
    per_example = np.mean([p.batch([i]).grad(theta) for i in range(p.n_examples)], axis=0)
    np.testing.assert_allclose(per_example, p.grad(theta), rtol=1e-10, atol=1e-12)


def test_digits_split_is_stratified_reproducible_and_disjoint():
    a, b = load_digits(seed=5), load_digits(seed=5)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert len(a.y_train) + len(a.y_test) == 1797
    assert set(np.unique(a.y_test)) == set(range(10))
    counts = np.bincount(a.y_test) / np.bincount(np.concatenate([a.y_train, a.y_test]))
    assert np.all(np.abs(counts - 0.25) < 0.02)
    rows_train = {r.tobytes() for r in a.X_train}
    assert sum(r.tobytes() in rows_train for r in a.X_test) < 5  # digits has a few duplicates


@pytest.mark.parametrize("call, match", [
    (lambda: P.Problem(lambda t: t.sum(-1), None, name="f only"), "has no gradient"),
    (lambda: P.quadratic(kappa=0.5), "condition number"),
    (lambda: P.rosenbrock(3, "extended"), "must be even"),
    (lambda: P.rosenbrock(2, "banana"), "chained"),
    (lambda: P.logistic_regression(np.ones((4, 2)), np.array([0, 1, 2, 1])), "labels 0/1"),
    (lambda: P.least_squares(np.ones((4, 2)), np.ones(3)), "one label per row"),
    (lambda: load_digits(classes=(3, 12)), "0…9"),
])
def test_bad_input_raises_a_message_that_names_the_fix(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


@pytest.mark.parametrize("p", [q for q in ALL if q.fuses_value_and_grad], ids=lambda p: p.name)
def test_fused_value_and_grad_equals_f_and_grad(p):
    theta = _points(p, 3)
    value, g = p.value_and_grad(theta)
    np.testing.assert_allclose(value, p.f(theta), rtol=1e-12)
    np.testing.assert_allclose(g, p.grad(theta), rtol=1e-12, atol=1e-15)


def test_mlp_loss_is_unchanged_when_its_hidden_units_are_permuted():
    full = load_digits(seed=2)
    p = P.mlp(full.X_train[:150], full.y_train[:150], hidden=4, rng=np.random.default_rng(0))
    n_in, h, k = 65, 4, 10
    W1 = p.x0[:n_in * h].reshape(n_in, h)
    W2 = p.x0[n_in * h:].reshape(h + 1, k)
    perm = np.array([2, 0, 3, 1])
    swapped = np.concatenate([W1[:, perm].ravel(), np.vstack([W2[perm], W2[-1:]]).ravel()])
    assert not np.allclose(swapped, p.x0)
    assert p.f(swapped) == pytest.approx(p.f(p.x0), rel=1e-12)


@pytest.mark.parametrize("p", [P.rosenbrock(), DATA[2], DATA[4]], ids=lambda p: p.name)
def test_hessian_matrix_is_symmetric_and_its_columns_are_hessian_vector_products(p):
    theta = _points(p, 1)[0]
    H = p.hessian_matrix(theta)
    assert H.shape == (p.dim, p.dim)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    e = np.zeros(p.dim)
    e[3 % p.dim] = 1.0
    np.testing.assert_allclose(H @ e, p.hvp(theta, e), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="one point"):
        p.hessian_matrix(np.zeros((2, p.dim)))


def test_numerical_grad_the_fallback_named_in_the_missing_gradient_error_is_accurate():
    p = P.beale()
    theta = _points(p, 3)
    np.testing.assert_allclose(P.numerical_grad(p.f)(theta), p.grad(theta), rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ the one-unit network
# Lecture 01 shows with it that a single tanh unit fit by squared error is non-convex already.

@pytest.mark.parametrize("rng_seed", [None, 1])
def test_one_unit_network_fits_the_same_data_as_the_two_unit_network(rng_seed):
    rng = (lambda: None) if rng_seed is None else (lambda: np.random.default_rng(rng_seed))
    one, two = P.one_unit_network(rng=rng()), P.two_unit_network(rng=rng())
    np.testing.assert_array_equal(one.x, two.x)
    np.testing.assert_array_equal(one.y, two.y)
    # one unit with weight w is the two-unit network with its second unit switched off
    w = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(one.f(w[:, None]), two.f(np.c_[w, np.zeros_like(w)]), rtol=1e-14)


def test_one_unit_network_is_non_convex_with_negative_curvature_where_the_unit_is_reversed():
    p = P.one_unit_network(rng=np.random.default_rng(1))
    w = np.linspace(-4.0, 7.0, 1101)
    curvature = p.hess(w[:, None])[:, 0, 0]
    assert curvature.min() < -0.5  # clearly negative, not rounding
    assert np.all(curvature[w <= -0.5] < 0)  # the unit's sign opposes the targets' there
    assert p.hess(p.minimizer)[0, 0] > 0
    np.testing.assert_allclose(p.grad(p.minimizer), 0.0, atol=1e-8)
    # convexity would put f below its chords; on [-2, 0] it is above
    f_mid, f_chord = p.f(np.array([-1.0])), (p.f(np.array([-2.0])) + p.f(np.array([0.0]))) / 2
    assert f_mid > f_chord


def test_one_unit_network_gradient_and_hessian_match_finite_differences():
    p = P.one_unit_network(rng=np.random.default_rng(1))
    w = np.array([[-2.5], [-0.52], [0.0], [0.7], [3.0]])
    np.testing.assert_allclose(p.grad(w), _fd_grad(p.f, w), rtol=1e-7, atol=1e-9)
    h = 1e-6
    fd_hess = (p.grad(w + h) - p.grad(w - h)) / (2 * h)
    np.testing.assert_allclose(p.hess(w)[..., 0], fd_hess, rtol=1e-6, atol=1e-8)


def test_one_unit_network_broadcasts_over_leading_axes():
    p = P.one_unit_network()
    w = RNG.standard_normal((2, 3, 1))
    assert p.f(w).shape == (2, 3)
    assert p.grad(w).shape == (2, 3, 1)
    assert p.hess(w).shape == (2, 3, 1, 1)
    for i in range(2):
        for j in range(3):
            assert p.f(w[i, j]) == pytest.approx(p.f(w)[i, j], rel=1e-14)
            np.testing.assert_allclose(p.grad(w[i, j]), p.grad(w)[i, j], rtol=1e-14)
            np.testing.assert_allclose(p.hess(w[i, j]), p.hess(w)[i, j], rtol=1e-14)
