"""Lecture 04's methods: Newton, BFGS / L-BFGS, conjugate gradient and Hessian-free — each
claim of the lecture as a behaviour, the counts in the Trace checked by an independent
counter, batching, purity and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import problems as P
from course_lib.optim import (BFGS, LBFGS, HessianFree, Newton, backtracking,
                              conjugate_gradient, run, strong_wolfe, two_loop)
from course_lib.optim.conjugate_gradient import martens_should_stop
from course_lib.theory import second_order as T


def random_spd(rng, d, kappa):
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (Q * np.geomspace(1.0, kappa, d)) @ Q.T


def quadratic_problem(A, c):
    A = (A + A.T) / 2
    return P.Problem(lambda t: 0.5 * np.einsum("...i,ij,...j->...", t - c, A, t - c),
                     lambda t: (t - c) @ A, lambda t: np.broadcast_to(A, np.shape(t) + (len(c),)),
                     name="random quadratic", x0=np.zeros(len(c)), minimizer=c, dim=len(c))


class Counted:
    """An independent tally of what an optimizer asks of a problem, one count per call."""

    def __init__(self, problem):
        self.p, self.name, self.dim, self.x0 = problem, problem.name, problem.dim, problem.x0
        self.calls = {"f": 0, "grad": 0, "hess": 0, "hvp": 0, "gnvp": 0}
        if hasattr(problem, "gnvp"):
            self.gnvp = self._gnvp

    def f(self, t):
        self.calls["f"] += 1
        return self.p.f(t)

    def grad(self, t):
        self.calls["grad"] += 1
        return self.p.grad(t)

    def value_and_grad(self, t):
        self.calls["f"] += 1
        self.calls["grad"] += 1
        return self.p.f(t), self.p.grad(t)

    def hess(self, t):
        self.calls["hess"] += 1
        return self.p.hess(t)

    def hvp(self, t, v):
        self.calls["hvp"] += 1
        return self.p.hvp(t, v)

    def _gnvp(self, t, v):
        self.calls["gnvp"] += 1
        return self.p.gnvp(t, v)


# ------------------------------------------------------------------------------ Newton

@settings(max_examples=25, deadline=None)
@given(d=st.integers(1, 12), log_kappa=st.floats(0, 6), seed=st.integers(0, 10_000))
def test_newton_solves_a_random_positive_definite_quadratic_in_one_step(d, log_kappa, seed):
    rng = np.random.default_rng(seed)
    A, c = random_spd(rng, d, 10 ** log_kappa), rng.standard_normal(d)
    p = quadratic_problem(A, c)
    theta0 = 3 * rng.standard_normal(d)
    theta1, _ = Newton(gtol=0).step(theta0, Newton(gtol=0).init(theta0), p)
    scale = 10 ** log_kappa * (1 + np.abs(theta0 - c).max())  # rounding grows with κ
    np.testing.assert_allclose(theta1, c, atol=1e-9 * scale)


def test_newton_direction_is_the_sympy_solution_of_the_model_stationarity():
    rng = np.random.default_rng(0)
    for _ in range(5):
        H, g = random_spd(rng, 2, 50), rng.standard_normal(2)
        np.testing.assert_allclose(Newton().direction(H, g), T.newton_step_fn(g, H),
                                   rtol=1e-10)


def test_plain_newton_goes_to_the_saddle_and_the_abs_remedy_goes_downhill():
    p = P.beale()  # from its start (1, 1.5) plain Newton walks into Beale's saddle at (0, 1)
    plain = run(Newton(), p, p.x0, 50)
    assert plain.stopped_at >= 0
    np.testing.assert_allclose(plain.theta, [0.0, 1.0], atol=1e-6)
    H = p.hess(plain.theta)
    assert np.linalg.eigvalsh(H)[0] < 0 < np.linalg.eigvalsh(H)[1]  # a saddle, not a minimum
    for modify in ("abs", "damping"):
        fixed = run(Newton(modify=modify), p, p.x0, 100)
        np.testing.assert_allclose(fixed.theta, [3.0, 0.5], atol=1e-5)


def test_plain_newton_where_its_direction_climbs_raises_and_names_the_remedies():
    p = P.saddle()  # x² − y²: at (1, 1) the Newton direction −H⁻¹∇L = (−1, −1) climbs
    with pytest.raises(ValueError, match=r"eigenvalues.*uphill.*modify='abs'"):
        run(Newton(), p, [1.0, 1.0], 3)
    pure = run(Newton(line_search=False), p, [1.0, 1.0], 3)  # the pure iteration: one step
    np.testing.assert_allclose(pure.theta, [0.0, 0.0], atol=1e-14)


def test_newton_with_a_singular_hessian_says_how_to_damp_it():
    p = P.Problem(lambda t: (t[..., 0] + t[..., 1]) ** 2, lambda t: 2 * (t[..., :1] + t[..., 1:])
                  * np.ones(2), lambda t: np.full(np.shape(t) + (2,), 2.0), name="flat", dim=2)
    with pytest.raises(ValueError, match="singular.*lam > 0"):
        run(Newton(), p, [1.0, 0.0], 2)
    assert run(Newton(lam=1e-3), p, [1.0, 0.0], 50).stopped_at >= 0


def test_newton_without_a_hessian_builds_it_from_d_hessian_vector_products():
    p = P.two_unit_network()  # no hess, no hvp: finite differences of the gradient
    tr = run(Newton(modify="abs"), p, p.x0, 40)
    assert tr.stopped_at > 0 and tr.n_hess == 0
    assert tr.n_hvp == 2 * (tr.stopped_at)  # d = 2 products per step
    assert np.abs(p.grad(tr.theta)).max() <= 1e-5


# ------------------------------------------------------------------------------ quasi-Newton

@pytest.mark.parametrize("d", [2, 5, 12])
def test_lbfgs_with_full_memory_and_exact_line_search_ends_within_d_plus_one_iterations(d):
    rng = np.random.default_rng(d)
    p = quadratic_problem(random_spd(rng, d, 100.0), rng.standard_normal(d))
    # c2 → 0 makes the strong Wolfe step the exact minimizer along p (on a quadratic the cubic
    # interpolation finds it in one trial)
    opt = LBFGS(m=d, c1=1e-12, c2=1e-9, gtol=1e-8)
    tr = run(opt, p, 5 * rng.standard_normal(d), 10 * d)
    assert 0 < tr.stopped_at <= d + 1
    np.testing.assert_allclose(tr.theta, p.minimizer, atol=1e-6)


def test_two_loop_equals_dense_bfgs_updates_from_gamma_identity():
    rng = np.random.default_rng(1)
    d, k = 4, 3
    s = [rng.standard_normal(d) for _ in range(k)]
    A = random_spd(rng, d, 10)
    z = [A @ si for si in s]  # curvature pairs of a quadratic: sᵀz > 0
    gamma = float(s[-1] @ z[-1] / (z[-1] @ z[-1]))
    H = gamma * np.eye(d)
    for si, zi in zip(s, z):
        H = _bfgs(H, si, zi)
    g = rng.standard_normal(d)
    rho = tuple(np.array(1 / (si @ zi)) for si, zi in zip(s, z))
    np.testing.assert_allclose(two_loop(g, tuple(s), tuple(z), rho, np.array(gamma)), H @ g,
                               rtol=1e-10)


def _bfgs(H, s, z):
    rho = 1 / (s @ z)
    V = np.eye(len(s)) - rho * np.outer(s, z)
    return V @ H @ V.T + rho * np.outer(s, s)


def test_bfgs_update_meets_the_secant_equation_and_matches_the_sympy_update():
    rng = np.random.default_rng(2)
    for d in (2, 3):
        H = random_spd(rng, d, 5)
        s, z = rng.standard_normal(d), rng.standard_normal(d)
        z = z if s @ z > 0 else -z
        new = T.bfgs_update_fn(H, s, z)
        np.testing.assert_allclose(new @ z, s, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(new, new.T, rtol=1e-12)
        np.testing.assert_allclose(new, _bfgs(H, s, z), rtol=1e-10)


@pytest.mark.parametrize("make", [lambda: LBFGS(), lambda: BFGS()])
def test_quasi_newton_reaches_the_minimum_of_rosenbrock_and_stops_on_the_gradient(make):
    p = P.rosenbrock()
    tr = run(make(), p, p.x0, 500)
    assert 0 < tr.stopped_at < 60
    np.testing.assert_allclose(tr.theta, [1.0, 1.0], atol=1e-5)
    assert np.abs(p.grad(tr.theta)).max() <= 1e-5
    # once stopped, run() repeats the final values (a step would leave them unchanged)
    np.testing.assert_array_equal(tr.thetas[tr.stopped_at:], np.broadcast_to(
        tr.theta, tr.thetas[tr.stopped_at:].shape))


# ------------------------------------------------------------------------------ line searches

def test_strong_wolfe_returns_steps_that_meet_both_conditions():
    rng = np.random.default_rng(3)
    problems = [P.rosenbrock(), P.beale(), P.wood(), P.trigonometric(10)]
    for p in problems:
        theta = p.x0 + 0.3 * rng.standard_normal((5, p.dim))
        loss, g = p.value_and_grad(theta)
        for scale in (1e-3, 1.0, 1e3):  # first trials far too short, about right, far too long
            d = -scale * g
            ls = strong_wolfe(p, theta, d, loss, g, c1=1e-4, c2=0.9)
            slope0 = np.einsum("ri,ri->r", g, d)
            assert ls.ok.all()
            assert np.all(ls.loss <= loss + 1e-4 * ls.alpha * slope0)
            slope = np.einsum("ri,ri->r", p.grad(ls.theta), d)
            assert np.all(np.abs(slope) <= 0.9 * np.abs(slope0) + 1e-12)
            np.testing.assert_allclose(ls.loss, p.f(ls.theta))
            np.testing.assert_allclose(ls.grad, p.grad(ls.theta))


def test_backtracking_stops_at_the_first_armijo_step_of_the_halving_sequence():
    p = P.rosenbrock()
    theta = np.array([-1.2, 1.0])
    g = p.grad(theta)
    ls = backtracking(p, theta, -g, p.f(theta), -g @ g, c1=1e-4, rho=0.5)
    alphas = 0.5 ** np.arange(60)
    armijo = p.f(theta - alphas[:, None] * g) <= p.f(theta) - 1e-4 * alphas * (g @ g)
    assert ls.alpha == alphas[np.argmax(armijo)] and ls.ok


# ------------------------------------------------------------------------------ CG

@pytest.mark.parametrize("d", [1, 2, 5, 10])
def test_cg_solves_a_d_dimensional_positive_definite_system_within_d_iterations(d):
    """In exact arithmetic CG ends within d iterations. In floating point rounding erodes the
    directions' conjugacy, the more so the larger κ and d: with κ = 100 and d ≤ 10 the relative
    residual after d iterations stays below 1e-6 (seen: ≤ 2e-7), where the κ bound alone,
    2 ((√κ − 1)/(√κ + 1))ᵏ, would need k ≈ ½√κ ln(2e6) ≈ 73 iterations."""
    for seed in range(10):
        rng = np.random.default_rng(seed)
        A, g = random_spd(rng, d, 100.0), rng.standard_normal((3, d))  # three runs at once
        res = conjugate_gradient(lambda v: v @ A, g, tol=0.0)
        assert np.all(res.iterations <= d)
        residual = np.linalg.norm(res.p @ A + g, axis=-1) / np.linalg.norm(g, axis=-1)
        assert np.all(residual <= 1e-6)


def test_cg_solves_the_damped_system_h_plus_lambda_p_equals_minus_the_gradient():
    p = P.trigonometric(20)
    theta = p.x0 + 0.1
    g = p.grad(theta)
    H = np.stack([p.hvp(theta, e) for e in np.eye(20)], axis=-1)
    for lam in (0.1, 1.0, 10.0):
        res = conjugate_gradient(lambda v: p.hvp(theta, v) + lam * v, g, tol=1e-12,
                                 max_iter=200)
        np.testing.assert_allclose(res.p, np.linalg.solve(H + lam * np.eye(20), -g),
                                   rtol=1e-8, atol=1e-12)
        assert res.model < 0  # the model m(p) = gᵀp + ½pᵀ(H + λI)p went down


def test_the_slides_cg_climbs_the_model_and_the_course_cg_descends():
    rng = np.random.default_rng(4)
    H, g = random_spd(rng, 2, 10), rng.standard_normal(2)
    alpha = g @ g / (g @ H @ g)

    def m(p):
        return g @ p + 0.5 * p @ H @ p
    assert m(alpha * g) == pytest.approx(1.5 * (g @ g) ** 2 / (g @ H @ g))  # slide: d₀ = +∇L
    first = conjugate_gradient(lambda v: v @ H, g, max_iter=1)
    assert m(first.p) == pytest.approx(-0.5 * (g @ g) ** 2 / (g @ H @ g))


def test_martens_rule_stops_once_k_iterations_gain_less_than_k_eps_of_the_model():
    stalled = [-1.0 - 1e-6 * i for i in range(40)]
    assert not martens_should_stop(stalled, 10)  # needs i > k = 10
    assert martens_should_stop(stalled, 11)
    falling = [-float(i) for i in range(40)]
    assert not martens_should_stop(falling, 30)


# ------------------------------------------------------------------------------ Hessian-free

@pytest.mark.parametrize("curvature", ["gauss-newton", "hessian", "finite-difference"])
def test_hessian_free_reaches_the_minimum_with_each_curvature_product(curvature):
    p = P.wood()
    tr = run(HessianFree(curvature=curvature), p, p.x0, 400)
    assert tr.stopped_at > 0 and np.abs(p.grad(tr.theta)).max() <= 1e-5
    np.testing.assert_allclose(tr.theta, np.ones(4), atol=1e-4)
    if curvature == "gauss-newton":
        assert tr.n_gnvp > 0 and tr.n_hvp == 0
    elif curvature == "hessian":
        assert tr.n_hvp > 0 and tr.n_gnvp == 0
    else:  # each product is two gradient evaluations, counted as such
        assert tr.n_hvp == tr.n_gnvp == 0 and tr.n_grad > 2 * tr.stopped_at


def test_hessian_free_adapts_the_damping_by_the_reduction_ratio():
    p = P.rosenbrock()
    opt = HessianFree(lam=1.0, curvature="hessian")
    theta, state = p.x0, opt.init(p.x0)
    for _ in range(15):
        lam = state.lam.copy()
        theta, state = opt.step(theta, state, p)
        expected = lam * 1.5 if state.rho < 0.25 else lam / 1.5 if state.rho > 0.75 else lam
        assert state.lam == pytest.approx(expected)


def test_hessian_free_asked_for_gauss_newton_on_a_problem_without_it_says_what_to_use():
    with pytest.raises(ValueError, match="no Gauss–Newton product.*curvature='hessian'"):
        run(HessianFree(curvature="gauss-newton"), P.rosenbrock(), [-1.2, 1.0], 2)


# ------------------------------------------------------------------------------ counting

@pytest.mark.parametrize("make", [lambda: LBFGS(), lambda: BFGS(), lambda: Newton(),
                                  lambda: Newton(modify="abs", line_search=False),
                                  lambda: HessianFree(), lambda: HessianFree(curvature="hessian")])
def test_the_trace_counts_what_an_independent_counter_counts(make):
    p = P.powell_singular()
    counted = Counted(p)
    opt = make()
    trace = run(opt, p, p.x0, 30)
    theta, state = p.x0, opt.init(p.x0)
    for _ in range(trace.stopped_at if trace.stopped_at > 0 else 30):
        theta, state = opt.step(theta, state, counted)
    np.testing.assert_allclose(theta, trace.theta)
    c = counted.calls
    assert (trace.n_f, trace.n_grad, trace.n_hess, trace.n_hvp, trace.n_gnvp) == \
        (c["f"], c["grad"], c["hess"], c["hvp"], c["gnvp"])
    assert trace.n_f + trace.n_grad > 0


def test_lbfgs_evaluates_loss_and_gradient_together_once_per_line_search_trial():
    p = P.rosenbrock()
    tr = run(LBFGS(), p, p.x0, 200)
    assert tr.n_f == tr.n_grad and tr.n_f >= tr.stopped_at + 1


# ------------------------------------------------------------------------------ batching, purity

@pytest.mark.parametrize("make", [lambda: LBFGS(m=5), lambda: BFGS(),
                                  lambda: Newton(modify="abs"), lambda: HessianFree()])
def test_a_batch_of_starts_runs_like_each_start_alone(make):
    p = P.helical_valley()
    starts = p.x0 + np.random.default_rng(5).standard_normal((3, 3))
    batch = run(make(), p, starts, 80)
    for i in range(3):
        alone = run(make(), p, starts[i], 80)
        # equal to rounding: a batch takes its dot products with einsum, a single run with
        # BLAS's dot, and the last bits they differ in grow a little as the curvature pairs
        # of a nearly converged run become tiny
        np.testing.assert_allclose(batch.thetas[:, i], alone.thetas, rtol=1e-8, atol=1e-9)
        assert batch.stopped_at[i] == alone.stopped_at


@pytest.mark.parametrize("make", [lambda: LBFGS(), lambda: BFGS(), lambda: Newton(),
                                  lambda: HessianFree()])
def test_a_step_does_not_change_its_inputs(make):
    p = P.wood()
    opt = make()
    theta = p.x0.copy()
    state = opt.init(theta)
    for _ in range(3):
        before = (theta.copy(), [np.copy(x) for x in state if isinstance(x, np.ndarray)])
        new, new_state = opt.step(theta, state, p)
        np.testing.assert_array_equal(theta, before[0])
        for a, b in zip([x for x in state if isinstance(x, np.ndarray)], before[1]):
            np.testing.assert_array_equal(a, b)
        theta, state = new, new_state


@pytest.mark.parametrize("call, message", [
    (lambda: LBFGS(m=0), "m is how many"),
    (lambda: LBFGS(c1=0.9, c2=0.5), "0 < c1 < c2 < 1"),
    (lambda: LBFGS(c1=np.array([1e-4, 1e-3])), "one number"),
    (lambda: LBFGS(max_evals=0), "at least one trial"),
    (lambda: Newton(modify="clip"), "modify='clip'"),
    (lambda: Newton(lam=-1.0), "lam must be"),
    (lambda: HessianFree(lam=0.0), "lam must be > 0"),
    (lambda: HessianFree(curvature="fisher"), "curvature='fisher'"),
    (lambda: HessianFree(max_cg=0), "at least one iteration"),
    (lambda: HessianFree(boost=1.0), "must be > 1"),
    (lambda: HessianFree(max_evals=0), "at least one trial"),
])
def test_bad_settings_get_a_message_that_says_what_to_pass(call, message):
    with pytest.raises(ValueError, match=message):
        call()
