"""Adagrad, RMSprop, Adadelta, Adam and AMSGrad: properties, the theory of lecture 03, bad input.

Property tests (Hypothesis) draw problems (random quadratics, Rosenbrock from random starts),
hyperparameters and scalings. Each result of `course_lib.theory.adaptive` is checked against
steps and runs of `course_lib.optim.adaptive`:

* Adam's bias correction: E[m_t] = (1 − β1ᵗ) E[g] for a stationary gradient, so m̂ = m/(1 − β1ᵗ);
* Adagrad under a constant gradient: rate η/√(t g² + ε), ~1/√t, distance ~2η√t;
* units: in θ' = cθ, SGD's update is 1/c times its old value, Adadelta's (ε → 0) c times;
* Adam is invariant to g → c·g, c > 0, at ε = 0.
"""
import functools
import warnings

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_momentum import assert_close_normwise, make_quadratic

from course_lib.optim import SGD, run
from course_lib.optim.adaptive import (AMSGrad, AMSGradState, Adadelta, AdadeltaState, Adagrad,
                                       AdagradState, Adam, AdamState, RMSprop, RMSpropState)
from course_lib.problems import Problem, quadratic, rosenbrock
from course_lib.theory import adaptive as T

# ------------------------------------------------------------------------------ strategies

dims = st.integers(1, 6)
kappas = st.floats(1.0, 1e3)
seeds = st.integers(0, 2**32 - 1)
betas = st.floats(0.0, 0.999)
rhos = st.floats(0.0, 0.999)
scales = st.floats(1e-3, 1e3)


def optimizers(eps=None):
    """One of the five optimizers with hyperparameters drawn from their usual ranges (ε = 0
    allowed for all but Adadelta, unless ``eps`` fixes it)."""
    eps_ = st.just(eps) if eps is not None else st.sampled_from([0.0, 1e-8, 1e-4])
    return st.one_of(
        st.builds(Adagrad, eta=st.floats(1e-3, 0.3), eps=eps_),
        st.builds(RMSprop, eta=st.floats(1e-4, 1e-2), rho=rhos, eps=eps_),
        st.builds(Adadelta, rho=rhos, eps=st.sampled_from([1e-8, 1e-6])),
        st.builds(Adam, eta=st.floats(1e-4, 1e-2), beta1=betas, beta2=betas, eps=eps_),
        st.builds(AMSGrad, eta=st.floats(1e-4, 1e-2), beta1=betas, beta2=betas, eps=eps_))


def linear(G):
    """f(θ) = G·θ: the same gradient G everywhere, the 'stationary gradient' of the theory."""
    G = np.asarray(G, dtype=float)
    return Problem(lambda th: np.asarray(th) @ G, lambda th: np.broadcast_to(G, np.shape(th)),
                   name="linear", dim=G.size)


def scaled_loss(problem, c):
    """c·f: every gradient multiplied by c."""
    return Problem(lambda th: c * problem.f(th), lambda th: c * problem.grad(th),
                   name=f"{c:g}·{problem.name}", dim=problem.dim)


def in_units(problem, c):
    """The same problem in the coordinates θ' = cθ: f'(θ') = f(θ'/c), ∇f'(θ') = ∇f(θ'/c)/c."""
    return Problem(lambda th: problem.f(np.asarray(th) / c),
                   lambda th: problem.grad(np.asarray(th) / c) / c,
                   name=f"{problem.name} in θ' = {c:g}θ", dim=problem.dim)


@functools.cache
def numeric(name):
    """A theory result as a numpy function, derived and lambdified once per test session."""
    if name == "expected_moment":
        return sp.lambdify((T.beta, T.t, T.G), T.expected_moment())
    if name == "adam_first_step":
        return sp.lambdify((T.eta, T.g, T.eps), T.adam_first_step()["step"])
    if name == "adam_gradient_scaling":
        return sp.lambdify((T.c, T.eps, T.v), T.adam_gradient_scaling())
    raise KeyError(name)


def steps_of(opt, problem, theta0, steps):
    """θ_0 … θ_T and the state after each step (index 0: after init)."""
    theta = np.array(theta0, dtype=float)
    state = opt.init(theta)
    thetas, states = [theta], [state]
    for _ in range(steps):
        theta, state = opt.step(theta, state, problem)
        thetas.append(theta)
        states.append(state)
    return np.array(thetas), states


# ------------------------------------------------------------------------------ Adam

@settings(max_examples=40, deadline=None)
@given(kappa=kappas, d=dims, seed=seeds, c=scales, eta=st.floats(1e-4, 1e-2), b1=betas,
       b2=st.floats(0.9, 0.999), steps=st.integers(1, 40))
def test_adams_run_is_unchanged_when_the_gradient_is_scaled_by_c(kappa, d, seed, c, eta, b1,
                                                                 b2, steps):
    """At ε = 0, m → c m and v → c² v, so m̂/√v̂ is unchanged: the same iterates to rounding
    (the rounding of c·g is the only difference). β2 ≥ 0.9: with a short memory (β2 = 0.25,
    seen) v̂ follows g² down to ~0 near the minimum, where m̂/√v̂ magnifies a 1-ulp difference
    a thousandfold within 30 steps; the one-step test below covers every β2."""
    p, start = make_quadratic(kappa, d, seed)
    opt = Adam(eta, b1, b2, 0.0)
    plain = run(opt, p, start, steps).thetas
    scaled = run(opt, scaled_loss(p, c), start, steps).thetas
    assert_close_normwise(scaled, plain, 1e-12, f"Adam on c·f, c = {c:g}")


@settings(max_examples=20, deadline=None)
@given(x=st.floats(-2, 2), y=st.floats(-1, 3), k=st.integers(-20, 20), b1=betas, b2=betas)
def test_adams_run_is_bitwise_unchanged_when_the_gradient_is_scaled_by_a_power_of_two(
        x, y, k, b1, b2):
    """With c = 2^k every product by c is exact in floating point, and so is √(c² v) = c √v."""
    p = rosenbrock()
    opt = Adam(1e-2, b1, b2, 0.0)
    plain = run(opt, p, np.array([x, y]), 30).thetas
    scaled = run(opt, scaled_loss(p, 2.0 ** k), np.array([x, y]), 30).thetas
    np.testing.assert_array_equal(scaled, plain)


@settings(max_examples=40, deadline=None)
@given(c=scales, eps=st.floats(1e-12, 1.0), seed=seeds, d=dims, t=st.integers(1, 50))
def test_adams_step_under_scaled_gradients_follows_the_derived_ratio_for_eps_above_zero(
        c, eps, seed, d, t):
    """From states (m, v) and (c m, c² v) at step t, the steps on f and c·f differ by the factor
    c √(v̂ + ε)/√(c² v̂ + ε) of `adam_gradient_scaling` (1 at ε = 0, not 1 for ε > 0).
    β1 = 0 (m = g) keeps a near-cancellation in m from blurring the ratio."""
    rng = np.random.default_rng(seed)
    p = linear(rng.uniform(0.1, 2.0, d) * rng.choice([-1, 1], d))
    m, v = rng.standard_normal(d), rng.uniform(0.01, 2.0, d)
    theta = rng.standard_normal(d)
    opt = Adam(1e-2, 0.0, 0.999, eps)
    step = opt.step(theta, AdamState(m=m, v=v, t=t), p)[0] - theta
    step_c = opt.step(theta, AdamState(m=c * m, v=c ** 2 * v, t=t), scaled_loss(p, c))[0] - theta
    # The state after this step, bias-corrected: what the derivation calls v̂.
    v_hat = (0.999 * v + 0.001 * p.grad(theta) ** 2) / (1 - 0.999 ** (t + 1))
    ratio = numeric("adam_gradient_scaling")(c, eps, v_hat)
    np.testing.assert_allclose(step_c / step, ratio, rtol=1e-9)


def test_adams_gradient_scaling_is_exactly_one_at_eps_zero_and_not_above():
    assert T.adam_gradient_scaling(0) == 1
    assert sp.simplify(T.adam_gradient_scaling() - 1) != 0


@settings(max_examples=50, deadline=None)
@given(g=st.lists(st.floats(-1e3, 1e3).filter(lambda x: abs(x) > 1e-6), min_size=1,
                  max_size=6), eta=st.floats(1e-5, 1.0), b1=betas, b2=betas)
def test_adams_first_step_moves_every_coordinate_by_eta(g, eta, b1, b2):
    """m̂_1 = g and v̂_1 = g², so at ε = 0 the first step is η sign(g), whatever g's size."""
    g = np.array(g)
    theta0 = np.zeros_like(g)
    for opt in (Adam(eta, b1, b2, 0.0), AMSGrad(eta, b1, b2, 0.0)):
        theta1, state = opt.step(theta0, opt.init(theta0), linear(g))
        np.testing.assert_allclose(np.abs(theta1 - theta0), eta, rtol=1e-14)
        np.testing.assert_array_equal(np.sign(theta1), -np.sign(g))
    # For ε > 0, the derived −η g/√(g² + ε).
    theta1, _ = Adam(eta, b1, b2, 1e-3).step(theta0, Adam().init(theta0), linear(g))
    np.testing.assert_allclose(theta1 - theta0, numeric("adam_first_step")(eta, g, 1e-3),
                               rtol=1e-13)


def test_adams_first_step_derived_is_eta_in_size_at_eps_zero():
    first = T.adam_first_step()
    assert first["m_hat"] == T.g and first["v_hat"] == T.g ** 2
    assert first["magnitude_at_eps_0"] == T.eta


@settings(max_examples=30, deadline=None)
@given(G=st.floats(-5, 5).filter(lambda x: abs(x) > 1e-3), b1=betas, b2=betas,
       steps=st.integers(1, 60))
def test_under_a_constant_gradient_m_is_1_minus_beta_t_times_g_and_m_hat_is_g(G, b1, b2, steps):
    """The deterministic case of E[m_t] = (1 − β1ᵗ) E[g]: with g_t = G always, m_t itself is."""
    _, states = steps_of(Adam(1e-3, b1, b2, 0.0), linear([G]), [0.0], steps)
    t = np.arange(1, steps + 1)
    m = np.array([s.m[0] for s in states[1:]])
    v = np.array([s.v[0] for s in states[1:]])
    expected_m = numeric("expected_moment")
    np.testing.assert_allclose(m, expected_m(b1, t, G), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(v, expected_m(b2, t, G ** 2), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(m * T.bias_correction_fn(b1, t), G, rtol=1e-12)
    np.testing.assert_allclose(v * T.bias_correction_fn(b2, t), G ** 2, rtol=1e-12)


def test_under_a_noisy_stationary_gradient_the_average_m_is_1_minus_beta_t_times_its_mean():
    """E[m_t] = (1 − β1ᵗ) E[g], measured: 20,000 runs of Adam in one batch, each seeing its own
    noisy gradients of mean G; the mean of m_t over the runs against the derived value, within
    4 standard errors."""
    rng = np.random.default_rng(3)
    G, sigma, beta1, n = np.array([0.5, -2.0]), 1.0, 0.9, 20_000
    p = Problem(lambda th: np.zeros(np.shape(th)[:-1]),
                lambda th: G + sigma * rng.standard_normal(np.shape(th)), name="noisy", dim=2)
    _, states = steps_of(Adam(1e-3, beta1, 0.999, 1e-8), p, np.zeros((n, 2)), 30)
    expected = numeric("expected_moment")
    for t in (1, 3, 10, 30):
        m = states[t].m
        # m_t = (1 − β) Σ β^{t−i} g_i: its standard deviation is σ (1 − β) √(Σ β^{2(t−i)}).
        sd = sigma * (1 - beta1) * np.sqrt(np.sum(beta1 ** (2 * np.arange(t))))
        assert np.all(np.abs(m.mean(axis=0) - expected(beta1, t, G)) < 4 * sd / np.sqrt(n))
    # Without the bias correction, the early average is far from G; with it, it is G.
    assert np.all(np.abs(states[3].m.mean(axis=0) - G) > 0.5 * np.abs(G))
    m_hat = states[3].m.mean(axis=0) * T.bias_correction_fn(beta1, 3)
    sd_hat = sigma * (1 - beta1) * np.sqrt(1 + beta1 ** 2 + beta1 ** 4) / (1 - beta1 ** 3)
    np.testing.assert_allclose(m_hat, G, atol=4 * sd_hat / np.sqrt(n))


def test_the_two_derivations_of_the_bias_agree():
    """Unrolled geometric sum and solved recurrence: both (1 − βᵗ) G; the factor is 1/(1 − βᵗ)."""
    assert sp.simplify(T.expected_moment() - (1 - T.beta ** T.t) * T.G) == 0
    assert sp.simplify(T.ewma_recurrence_solution() - T.expected_moment()) == 0
    assert sp.simplify(T.bias_correction_factor() - 1 / (1 - T.beta ** T.t)) == 0
    unrolled = T.ewma_unrolled().subs(T.t, 3).doit()
    g = sp.IndexedBase("g")
    b = T.beta
    by_hand = (1 - b) * (b ** 2 * g[1] + b * g[2] + g[3])
    assert sp.expand(unrolled - by_hand) == 0


# ------------------------------------------------------------------------------ AMSGrad

@settings(max_examples=30, deadline=None)
@given(G=st.lists(st.floats(-5, 5), min_size=1, max_size=4), b1=betas, b2=betas,
       eps=st.sampled_from([0.0, 1e-8]), steps=st.integers(1, 40))
def test_amsgrad_is_adam_while_v_never_decreases(G, b1, b2, eps, steps):
    """Under a constant gradient v only grows, v_max = v, and AMSGrad is Adam (to rounding:
    once v settles at G², a rounding of v one ulp down is all that could set them apart)."""
    p, start = linear(G), np.zeros(len(G))
    adam = run(Adam(1e-2, b1, b2, eps), p, start, steps).thetas
    ams = run(AMSGrad(1e-2, b1, b2, eps), p, start, steps).thetas
    np.testing.assert_allclose(ams, adam, rtol=1e-13, atol=1e-300)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, b2=betas, steps=st.integers(2, 60))
def test_amsgrads_v_max_never_decreases_and_bounds_v(seed, b2, steps):
    rng = np.random.default_rng(seed)
    p = Problem(lambda th: np.zeros(np.shape(th)[:-1]),
                lambda th: rng.standard_normal(np.shape(th)) * rng.uniform(0, 3), name="noise",
                dim=3)
    _, states = steps_of(AMSGrad(1e-2, 0.9, b2, 0.0), p, np.zeros(3), steps)
    v_max = np.array([s.v_max for s in states])
    assert np.all(np.diff(v_max, axis=0) >= 0)
    assert np.all(v_max >= np.array([s.v for s in states]))


# ------------------------------------------------------------------------------ Adagrad

@settings(max_examples=40, deadline=None)
@given(seed=seeds, d=dims, steps=st.integers(1, 60), eps=st.sampled_from([0.0, 1e-8, 1.0]))
def test_adagrads_accumulator_never_decreases_and_is_the_sum_of_squared_gradients(
        seed, d, steps, eps):
    rng = np.random.default_rng(seed)
    p = Problem(lambda th: np.zeros(np.shape(th)[:-1]),
                lambda th: rng.standard_normal(np.shape(th)) * (rng.uniform() < 0.7),
                name="noise, sometimes zero", dim=d)
    grads = []

    def recorded(theta):
        grads.append(p.grad(theta))
        return grads[-1]

    recorder = Problem(p.f, recorded, dim=d)
    _, states = steps_of(Adagrad(0.1, eps), recorder, np.zeros(d), steps)
    v = np.array([s.v for s in states])
    assert np.all(np.diff(v, axis=0) >= 0)
    np.testing.assert_array_equal(v[1:], np.cumsum(np.array(grads) ** 2, axis=0))


@settings(max_examples=40, deadline=None)
@given(g=st.floats(-100, 100).filter(lambda x: abs(x) > 1e-3), eta=st.floats(1e-3, 1.0),
       eps=st.sampled_from([0.0, 1e-8, 1e-2, 1.0]), steps=st.integers(1, 200))
def test_adagrads_measured_rate_under_a_constant_gradient_is_the_derived_one(g, eta, eps, steps):
    """|θ_t − θ_{t−1}| / |g| is the rate η/√(t g² + ε) of `adagrad_effective_rate`."""
    thetas = run(Adagrad(eta, eps), linear([g]), [0.0], steps).thetas[:, 0]
    measured = np.abs(np.diff(thetas)) / abs(g)
    t = np.arange(1, steps + 1)
    np.testing.assert_allclose(measured, T.adagrad_effective_rate_fn(eta, g, eps, t), rtol=1e-9)


def test_adagrads_rate_decays_like_one_over_sqrt_t_and_its_distance_like_2_eta_sqrt_t():
    assert sp.simplify(T.adagrad_accumulator() - T.t * T.g ** 2) == 0
    assert sp.simplify(T.adagrad_rate_decay() - T.eta / sp.Abs(T.g)) == 0
    g, eta, steps = 0.7, 0.05, 10_000
    thetas = run(Adagrad(eta, 0.0), linear([g]), [0.0], steps, keep_thetas=True).thetas[:, 0]
    t = np.arange(1, steps + 1)
    rate = np.abs(np.diff(thetas)) / g
    # √t · rate is η/|g| at every t when ε = 0 (and only in the limit when ε > 0).
    np.testing.assert_allclose(np.sqrt(t) * rate, eta / g, rtol=1e-10)
    lower, upper = (sp.lambdify((T.eta, T.t), b) for b in T.adagrad_distance_bounds())
    distance = np.abs(thetas[1:] - thetas[0])
    assert np.all(lower(eta, t) <= distance * (1 + 1e-12))
    assert np.all(distance <= upper(eta, t) * (1 + 1e-12))
    assert distance[-1] / (2 * eta * np.sqrt(steps)) == pytest.approx(1, abs=1e-2)
    # With ε > 0 the rate approaches the same limit from below.
    slow = run(Adagrad(eta, 1.0), linear([g]), [0.0], steps).thetas[:, 0]
    scaled = np.sqrt(t) * np.abs(np.diff(slow)) / g
    assert np.all(np.diff(scaled) > 0) and scaled[-1] == pytest.approx(eta / g, rel=1e-3)


# ------------------------------------------------------------------------------ units

@settings(max_examples=40, deadline=None)
@given(c=scales, seed=seeds, d=dims, rho=rhos, eps=st.floats(1e-10, 1e-2), t=st.integers(0, 50))
def test_adadeltas_update_scales_as_derived_when_theta_is_rescaled(c, seed, d, rho, eps, t):
    """One step in θ' = cθ from the rescaled records (v' = v/c², u' = c² u) over the step in θ
    is `update_scaling`'s √(c²u + ε)√(v + ε) / (√(u + ε)√(v + c²ε)), per coordinate (v being
    the record after this step's gradient): c only where ε is negligible."""
    rng = np.random.default_rng(seed)
    p, _ = make_quadratic(10.0, d, seed)
    theta = np.zeros(d)  # so that θ_1 is the step itself, not a difference of larger numbers
    g = p.grad(theta)
    assume(np.all(np.abs(g) > 1e-6 * np.abs(g).max()))  # a ratio of two rounded ~0s says nothing
    v, u = rng.uniform(0.01, 3.0, d), rng.uniform(0.0, 3.0, d)
    opt = Adadelta(rho, eps)
    step = opt.step(theta, AdadeltaState(v=v, u=u, t=t), p)[0] - theta
    step_c = opt.step(c * theta, AdadeltaState(v=v / c ** 2, u=c ** 2 * u, t=t),
                      in_units(p, c))[0] - c * theta
    v_now = rho * v + (1 - rho) * g ** 2
    np.testing.assert_allclose(step_c / step, T.update_scaling_fn("adadelta", c, eps, v_now, u),
                               rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(c=scales, seed=seeds, d=dims)
def test_in_rescaled_units_adadeltas_update_scales_like_theta_and_sgds_like_one_over_theta(
        c, seed, d):
    """Records much larger than ε (here u, v ≥ 1e6 ε): Adadelta's update is c times its old
    value, as θ' = cθ is; SGD's is 1/c times (exactly: ∇f' = ∇f/c)."""
    rng = np.random.default_rng(seed)
    p, _ = make_quadratic(10.0, d, seed)
    theta = np.zeros(d)  # the step is θ_1 itself (the minimizer, hence ∇f(0), is random)
    g = p.grad(theta)
    assume(np.all(np.abs(g) > 1e-6 * np.abs(g).max()))
    eps = 1e-14
    v, u = rng.uniform(0.01, 3.0, d), rng.uniform(0.01, 3.0, d)
    opt = Adadelta(0.9, eps)
    step = opt.step(theta, AdadeltaState(v=v, u=u, t=5), p)[0] - theta
    step_c = opt.step(c * theta, AdadeltaState(v=v / c ** 2, u=c ** 2 * u, t=5),
                      in_units(p, c))[0] - c * theta
    np.testing.assert_allclose(step_c / step, c, rtol=1e-5)
    sgd = SGD(0.1)
    step = sgd.step(theta, sgd.init(theta), p)[0] - theta
    step_c = sgd.step(c * theta, sgd.init(theta), in_units(p, c))[0] - c * theta
    np.testing.assert_allclose(step_c / step, 1 / c, rtol=1e-9)


def test_the_derived_unit_scalings():
    expected = {"sgd": 1 / T.c, "adagrad": 1, "rmsprop": 1, "adam": 1, "adadelta": T.c,
                "newton": T.c}
    for method, value in expected.items():
        assert sp.simplify(T.update_scaling(method, 0) - value) == 0, method
    # With ε > 0 Adadelta's ratio is not c: ε sets a scale of its own.
    assert sp.simplify(T.update_scaling("adadelta") - T.c) != 0
    with pytest.raises(ValueError, match="update_scaling"):
        T.update_scaling("adamw")


def test_adadeltas_first_step_is_set_by_eps_not_by_the_gradient():
    """u starts at 0, so Δθ_1 = −√ε g/√((1 − ρ) g² + ε) ≈ −√(ε/(1 − ρ)) sign(g): the same size
    for gradients 10⁶ apart."""
    rho, eps = 0.95, 1e-6
    for g in (1.0, 1e3, 1e6):
        theta1, _ = Adadelta(rho, eps).step(np.zeros(1), Adadelta().init(np.zeros(1)),
                                            linear([g]))
        np.testing.assert_allclose(theta1, -np.sqrt(eps) * g / np.sqrt((1 - rho) * g * g + eps),
                                   rtol=1e-14)
        assert abs(theta1[0]) == pytest.approx(np.sqrt(eps / (1 - rho)), rel=1e-3)


# ------------------------------------------------------------------------------ ε = 0

@pytest.mark.parametrize("opt", [Adagrad(0.1, 0.0), RMSprop(0.01, 0.9, 0.0),
                                 Adam(0.01, 0.9, 0.999, 0.0), AMSGrad(0.01, 0.9, 0.999, 0.0)],
                         ids=repr)
def test_at_eps_zero_a_coordinate_without_gradient_stays_put_without_warnings(opt):
    """0/0 is read as 0: ½(x² + 3y²) started on y = 0 never moves y, and warns nothing."""
    p = quadratic(3.0, 2, angle=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = run(opt, p, np.array([[1.0, 0.0], [0.5, 0.0]]), 40)
    assert np.all(tr.thetas[..., 1] == 0.0) and np.all(np.isfinite(tr.thetas))
    assert np.all(np.abs(tr.thetas[-1, :, 0]) < np.abs(tr.thetas[0, :, 0]))


def test_eps_zero_and_eps_above_zero_in_one_batch_each_follow_their_own_rule():
    p = quadratic(3.0, 2, angle=0.0)
    epss = np.array([0.0, 1e-3, 0.0])
    start = np.array([[1.0, 0.0], [1.0, 0.5], [1.0, 0.5]])
    batched = run(Adam(0.01, 0.9, 0.999, epss[:, None]), p, start, 30).thetas
    for i in range(3):
        single = run(Adam(0.01, 0.9, 0.999, epss[i]), p, start[i], 30).thetas
        np.testing.assert_allclose(batched[:, i], single, rtol=1e-13, atol=1e-300)


# ------------------------------------------------------------------------------ batching

@settings(max_examples=25, deadline=None)
@given(seed=seeds, B=st.integers(1, 4), kind=st.sampled_from(["Adagrad", "RMSprop", "Adadelta",
                                                              "Adam", "AMSGrad"]),
       problem=st.sampled_from(["quadratic", "rosenbrock"]), d=dims)
def test_a_batched_run_equals_the_same_runs_one_by_one(seed, B, kind, problem, d):
    """B settings in one call, each equal to its own run to rounding.

    The problems' gradients are computed coordinate by coordinate (Rosenbrock, an axis-aligned
    quadratic), so a batch and a single run do the same arithmetic. A rotated quadratic's
    matrix product may sum in another order for a batch (1 ulp), which RMSprop and Adam near a
    minimum at ε = 0 can amplify past 1e-12 in 40 steps (seen); those batches are checked
    against torch in test_oracle_torch_adaptive.py, at settings that do not amplify.
    """
    rng = np.random.default_rng(seed)
    if problem == "quadratic":
        center = rng.uniform(-3, 3, d)
        p = quadratic(100.0, d, angle=0.0, center=center)
        starts = center + rng.standard_normal((B, d))
    else:
        p = rosenbrock()
        starts = rng.uniform(-1.5, 1.5, (B, 2))
    eta = rng.uniform(1e-3, 1e-2, B)
    eps = rng.choice([0.0, 1e-8, 1e-4], B)
    rho = rng.uniform(0.9, 0.999, B)
    b1 = rng.uniform(0.0, 0.95, B)
    if kind == "Adagrad":
        make = lambda s: Adagrad(eta[s], eps[s])  # noqa: E731
    elif kind == "RMSprop":
        make = lambda s: RMSprop(eta[s], rho[s], eps[s])  # noqa: E731
    elif kind == "Adadelta":
        make = lambda s: Adadelta(rho[s], 1e-6)  # noqa: E731
    else:
        cls = Adam if kind == "Adam" else AMSGrad
        make = lambda s: cls(eta[s], b1[s], rho[s], eps[s])  # noqa: E731
    batched = run(make(np.s_[:, None]), p, starts, 40)
    for i in range(B):
        single = run(make(i), p, starts[i], 40)
        assert_close_normwise(batched.thetas[:, i], single.thetas, 1e-13, f"{kind} run {i}")
        # A loss near 0 is a difference of larger terms: its rounding is set by the run's scale.
        np.testing.assert_allclose(batched.losses[:, i], single.losses, rtol=1e-13,
                                   atol=1e-13 * np.abs(single.losses).max())


# ------------------------------------------------------------------------------ purity

STATES = {Adagrad: lambda a: AdagradState(v=a[0] ** 2, t=3),
          RMSprop: lambda a: RMSpropState(v=a[0] ** 2, t=3),
          Adadelta: lambda a: AdadeltaState(v=a[0] ** 2, u=a[1] ** 2, t=3),
          Adam: lambda a: AdamState(m=a[1], v=a[0] ** 2, t=3),
          AMSGrad: lambda a: AMSGradState(m=a[1], v=a[0] ** 2, v_max=a[0] ** 2 + 1, t=3)}


@settings(max_examples=40, deadline=None)
@given(data=st.data(), opt=optimizers(), batch=st.integers(0, 3))
def test_a_step_never_mutates_theta_or_the_state(data, opt, batch):
    p = rosenbrock()
    shape = (batch, 2) if batch else (2,)
    n = int(np.prod(shape))
    arrays = [np.array(data.draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
              .reshape(shape) for _ in range(3)]
    theta = arrays[2]
    state = STATES[type(opt)](arrays)
    before = [theta.copy()] + [np.copy(f) for f in state]
    theta.flags.writeable = False  # an in-place update would raise here
    for field in state[:-1]:
        field.flags.writeable = False
    new_theta, new_state = opt.step(theta, state, p)
    for old, now in zip(before, [theta] + list(state)):
        np.testing.assert_array_equal(now, old)
    assert new_state.t == state.t + 1 == 4
    for out in [new_theta] + list(new_state[:-1]):
        assert all(not np.shares_memory(out, a) for a in [theta] + list(state[:-1]))


@pytest.mark.parametrize("cls", [Adagrad, RMSprop, Adadelta, Adam, AMSGrad])
def test_init_starts_from_zero_records_named_after_the_lectures_symbols(cls):
    theta = np.array([[1.0, 2.0], [3.0, 4.0]])
    state = cls().init(theta)
    assert state.t == 0
    fields = {"Adagrad": ("v", "t"), "RMSprop": ("v", "t"), "Adadelta": ("v", "u", "t"),
              "Adam": ("m", "v", "t"), "AMSGrad": ("m", "v", "v_max", "t")}[cls.__name__]
    assert state._fields == fields
    for name in fields[:-1]:
        record = getattr(state, name)
        np.testing.assert_array_equal(record, np.zeros((2, 2)))
        assert not np.shares_memory(record, theta)


# ------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize("call, match", [
    (lambda: Adagrad(eta=-0.1), r"Adagrad\(eta=-0.1\): eta must be ≥ 0 — a negative step"),
    (lambda: Adagrad(eps=-1e-8), r"Adagrad\(eps=-1e-08\): eps must be ≥ 0"),
    (lambda: RMSprop(rho=1.0), r"RMSprop\(rho=1.0\): rho must be < 1"),
    (lambda: RMSprop(rho=-0.1), r"rho must be ≥ 0"),
    (lambda: RMSprop(eta=np.array([0.1, np.nan])), r"eta=.*must be finite"),
    (lambda: Adadelta(eps=0.0), r"Adadelta\(eps=0.0\): ε must be > 0. It is what starts"),
    (lambda: Adadelta(rho=1.5), r"Adadelta\(rho=1.5\): rho must be < 1"),
    (lambda: Adam(beta1=1.0), r"Adam\(beta1=1.0\): beta1 must be < 1"),
    (lambda: Adam(beta2=1.0), r"Adam\(beta2=1.0\): beta2 must be < 1"),
    (lambda: AMSGrad(beta2=-0.5), r"AMSGrad\(beta2=-0.5\): beta2 must be ≥ 0"),
    (lambda: Adam(eps=-1.0), r"Adam\(eps=-1.0\): eps must be ≥ 0"),
], ids=["adagrad-eta", "adagrad-eps", "rmsprop-rho-1", "rmsprop-rho-negative", "rmsprop-nan",
        "adadelta-eps-0", "adadelta-rho", "adam-beta1", "adam-beta2", "amsgrad-beta2",
        "adam-eps"])
def test_a_bad_hyperparameter_is_refused_with_a_message_naming_it(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("cls", [Adagrad, RMSprop, Adam])
def test_a_hyperparameter_that_is_not_a_number_is_a_type_error(cls):
    with pytest.raises(TypeError, match=r"eps=\.\.\.\) must be a number or an array of numbers"):
        cls(eps="small")


@pytest.mark.parametrize("cls, name", [(Adagrad, "eps"), (RMSprop, "rho"), (Adadelta, "rho"),
                                       (Adam, "beta1"), (AMSGrad, "beta2"), (Adam, "eta")])
def test_a_hyperparameter_array_that_does_not_match_the_runs_says_to_add_an_axis(cls, name):
    values = {"eta": 0.01, "eps": 1e-8, "rho": 0.9, "beta1": 0.9, "beta2": 0.99}
    theta = np.zeros((3, 2))
    bad = {name: np.full(3, values[name])}  # shape (3,), not (3, 1)
    with pytest.raises(ValueError, match=r"\[:, None\]") as info:
        run(cls(**bad), quadratic(10.0), theta, 5)
    assert name in str(info.value)
    good = {name: np.full((3, 1), values[name])}
    assert run(cls(**good), quadratic(10.0), theta + 1, 5).thetas.shape == (6, 3, 2)
