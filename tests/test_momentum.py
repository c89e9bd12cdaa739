"""Momentum and Nesterov: reductions, closed forms, rates, stability, batching, bad input.

Property tests (Hypothesis) draw the problem (positive-definite quadratics of any small
dimension, condition number and rotation; Rosenbrock from random starts) and the
hyperparameters; the theory is the lecture's (notebook 02):

* on f = ½ (θ − θ*)ᵀ A (θ − θ*), A = Q diag(λ) Qᵀ, each eigen-coordinate e = Qᵀ(θ − θ*) evolves
  on its own: GD e_t = (1 − ηλ)^t e_0; heavy ball e_{t+1} = (1 + µ − ηλ) e_t − µ e_{t−1};
* heavy ball is stable iff 0 ≤ µ < 1 and 0 < ηλ < 2(1 + µ) for every λ;
* tuned, GD contracts at (κ − 1)/(κ + 1) per step and heavy ball at (√κ − 1)/(√κ + 1).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.optim import SGD, Momentum, MomentumState, Nesterov, run
from course_lib.problems import quadratic, rosenbrock

# ------------------------------------------------------------------------------ strategies

dims = st.integers(1, 6)
kappas = st.floats(1.0, 1e3)
seeds = st.integers(0, 2**32 - 1)
mus = st.floats(0.0, 0.99)


def make_quadratic(kappa, d, seed):
    """A random positive-definite quadratic: eigenvalues λmin … κλmin, random rotation and
    minimizer; the start is a random point at distance ~1 from the minimizer."""
    rng = np.random.default_rng(seed)
    lam_min = float(rng.uniform(0.1, 10.0))
    center = rng.uniform(-3, 3, d)
    p = quadratic(kappa, d, lam_min=lam_min, angle=float(rng.uniform(0, np.pi)), rng=rng,
                  center=center)
    start = center + rng.standard_normal(d)
    return p, start


def eigen_coordinates(p, thetas):
    """e = Qᵀ(θ − θ*) along the last axis."""
    return (np.asarray(thetas) - p.minimizer) @ p.eigenvectors


def assert_close_normwise(got, expected, rtol, what=""):
    """max_t ‖got_t − expected_t‖ ≤ rtol · max_t ‖expected_t‖ (a scale for the whole run)."""
    err = np.linalg.norm(got - expected, axis=-1).max()
    scale = np.linalg.norm(expected, axis=-1).max()
    assert err <= rtol * scale, f"{what}: error {err:.3g} > {rtol:g} × {scale:.3g}"


# ------------------------------------------------------------------------------ µ = 0 is GD

@settings(max_examples=30, deadline=None)
@given(kappa=kappas, d=dims, seed=seeds, frac=st.floats(0.01, 1.2), steps=st.integers(1, 40),
       method=st.sampled_from([Momentum, Nesterov]))
def test_mu_zero_is_sgd_exactly_on_quadratics(kappa, d, seed, frac, steps, method):
    p, start = make_quadratic(kappa, d, seed)
    eta = frac * 2 / p.eigenvalues.max()  # frac > 1 diverges: nan at the same steps then
    ours = run(method(eta, 0.0), p, start, steps)
    gd = run(SGD(eta), p, start, steps)
    np.testing.assert_array_equal(ours.thetas, gd.thetas)
    np.testing.assert_array_equal(ours.diverged_at, gd.diverged_at)


@settings(max_examples=30, deadline=None)
@given(x=st.floats(-2, 2), y=st.floats(-1, 3), eta=st.floats(1e-5, 2e-3),
       steps=st.integers(1, 60), method=st.sampled_from([Momentum, Nesterov]))
def test_mu_zero_is_sgd_exactly_on_rosenbrock(x, y, eta, steps, method):
    p = rosenbrock()
    ours = run(method(eta, 0.0), p, np.array([x, y]), steps)
    gd = run(SGD(eta), p, np.array([x, y]), steps)
    np.testing.assert_array_equal(ours.thetas, gd.thetas)


# ------------------------------------------------------------------------------ closed forms

@settings(max_examples=40, deadline=None)
@given(kappa=kappas, d=dims, seed=seeds, frac=st.floats(0.01, 0.99), steps=st.integers(1, 80))
def test_gd_on_any_quadratic_follows_the_closed_form(kappa, d, seed, frac, steps):
    """θ_t = θ* + Q (1 − ηλ)^t Qᵀ (θ_0 − θ*) for every t."""
    p, start = make_quadratic(kappa, d, seed)
    eta = frac * 2 / p.eigenvalues.max()
    tr = run(SGD(eta), p, start, steps)
    t = np.arange(steps + 1)[:, None]
    e0 = p.eigenvectors.T @ (start - p.minimizer)
    predicted = p.minimizer + ((1 - eta * p.eigenvalues) ** t * e0) @ p.eigenvectors.T
    assert_close_normwise(tr.thetas - p.minimizer, predicted - p.minimizer, 1e-10,
                          "GD vs closed form")


@settings(max_examples=40, deadline=None)
@given(kappa=kappas, d=dims, seed=seeds, mu=mus, frac=st.floats(0.01, 0.99),
       steps=st.integers(1, 80))
def test_momentum_on_a_quadratic_follows_the_two_term_recurrence_per_eigenvalue(
        kappa, d, seed, mu, frac, steps):
    """e_1 = (1 − ηλ) e_0 and e_{t+1} = (1 + µ − ηλ) e_t − µ e_{t−1}, per eigen-coordinate."""
    p, start = make_quadratic(kappa, d, seed)
    eta = frac * 2 * (1 + mu) / p.eigenvalues.max()
    tr = run(Momentum(eta, mu), p, start, steps)
    assert tr.diverged_at == -1
    lam = p.eigenvalues
    e = np.empty((steps + 1, d))
    e[0] = p.eigenvectors.T @ (start - p.minimizer)
    e[1] = (1 - eta * lam) * e[0]
    for t in range(1, steps):
        e[t + 1] = (1 + mu - eta * lam) * e[t] - mu * e[t - 1]
    assert_close_normwise(eigen_coordinates(p, tr.thetas), e, 1e-9,
                          f"Momentum(eta={eta:g}, mu={mu:g}) vs the eigen recurrence")


@settings(max_examples=25, deadline=None)
@given(kappa=kappas, d=dims, seed=seeds, mu=mus, frac=st.floats(0.01, 0.99),
       steps=st.integers(1, 80))
def test_nesterov_on_a_quadratic_follows_its_recurrence_per_eigenvalue(
        kappa, d, seed, mu, frac, steps):
    """Nesterov: e_{t+1} = (1 + µ)(1 − ηλ) e_t − µ(1 − ηλ) e_{t−1}, e_1 = (1 − ηλ) e_0."""
    p, start = make_quadratic(kappa, d, seed)
    eta = frac * 2 * (1 + mu) / (1 + 2 * mu) / p.eigenvalues.max()
    tr = run(Nesterov(eta, mu), p, start, steps)
    c = 1 - eta * p.eigenvalues
    e = np.empty((steps + 1, d))
    e[0] = p.eigenvectors.T @ (start - p.minimizer)
    e[1] = c * e[0]
    for t in range(1, steps):
        e[t + 1] = (1 + mu) * c * e[t] - mu * c * e[t - 1]
    assert_close_normwise(eigen_coordinates(p, tr.thetas), e, 1e-9, "Nesterov recurrence")


# ------------------------------------------------------------------------------ batching

@settings(max_examples=15, deadline=None)
@given(seed=seeds, B=st.integers(1, 5), method=st.sampled_from([Momentum, Nesterov]),
       kappa=kappas, d=dims)
def test_a_batched_run_equals_the_same_runs_one_by_one(seed, B, method, kappa, d):
    rng = np.random.default_rng(seed)
    p, _ = make_quadratic(kappa, d, seed)
    mu_arr = rng.uniform(0, 0.99, B)
    # Some settings beyond the stability limit: those runs diverge alone, at the same step.
    eta_arr = rng.uniform(0.05, 1.3, B) * 2 / p.eigenvalues.max()
    starts = p.minimizer + rng.standard_normal((B, d))
    batched = run(method(eta=eta_arr[:, None], mu=mu_arr[:, None]), p, starts, 60)
    for i in range(B):
        single = run(method(eta=eta_arr[i], mu=mu_arr[i]), p, starts[i], 60)
        assert batched.diverged_at[i] == single.diverged_at
        ok = np.isfinite(single.losses)
        # A batch multiplies by A as a matrix product, one run as a matrix-vector product:
        # equal up to the order of the sums, i.e. rounding.
        np.testing.assert_allclose(batched.thetas[ok, i], single.thetas[ok], rtol=1e-9,
                                   atol=1e-9 * np.abs(single.thetas[ok]).max())
        assert np.all(np.isnan(batched.thetas[~ok, i]))


@pytest.mark.parametrize("method", [Momentum, Nesterov])
def test_a_batch_with_two_batch_axes_on_rosenbrock_equals_the_single_runs(method):
    """θ of shape (3, 4, 2) with η and µ of shape (3, 4, 1): 12 runs, each equal to its own.

    Equal to rounding, not bit for bit: numpy may evaluate x**2 of a scalar and of an array
    through different code paths (seen: f differing by one ulp), which a CPU may change.
    """
    p = rosenbrock()
    etas = np.geomspace(1e-4, 3e-3, 3)[:, None] * np.ones((3, 4))
    mus_ = np.ones((3, 1)) * np.array([0.0, 0.5, 0.9, 0.99])
    starts = np.random.default_rng(3).uniform(-1.5, 1.5, (3, 4, 2))
    batched = run(method(eta=etas[..., None], mu=mus_[..., None]), p, starts, 150)
    assert batched.thetas.shape == (151, 3, 4, 2) and batched.diverged_at.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            single = run(method(eta=etas[i, j], mu=mus_[i, j]), p, starts[i, j], 150)
            assert batched.diverged_at[i, j] == single.diverged_at
            ok = np.isfinite(single.losses)
            assert_close_normwise(batched.thetas[ok, i, j], single.thetas[ok], 1e-10,
                                  f"run ({i}, {j}) of the batch")
            np.testing.assert_allclose(batched.losses[ok, i, j], single.losses[ok],
                                       rtol=1e-9, atol=1e-12)
            assert np.all(np.isnan(batched.thetas[~ok, i, j]))


def test_two_batch_axes_equal_one_flattened_axis():
    p = quadratic(50.0, 3, rng=np.random.default_rng(0))
    etas = np.linspace(0.005, 0.06, 6).reshape(2, 3)
    mus_ = np.array([[0.5, 0.8, 0.9], [0.0, 0.95, 0.99]])
    starts = np.broadcast_to(p.x0, (2, 3, 3))
    for method in (Momentum, Nesterov):
        two = run(method(eta=etas[..., None], mu=mus_[..., None]), p, starts, 80)
        flat = run(method(eta=etas.reshape(-1, 1), mu=mus_.reshape(-1, 1)), p,
                   starts.reshape(6, 3), 80)
        np.testing.assert_allclose(two.thetas.reshape(81, 6, 3), flat.thetas, rtol=1e-12,
                                   atol=1e-14)


# ------------------------------------------------------------------------------ purity

finite = st.floats(-5, 5)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), method=st.sampled_from([Momentum, Nesterov]), batch=st.integers(0, 3),
       mu=mus, eta=st.floats(1e-4, 1e-2))
def test_a_step_never_mutates_theta_or_the_state(data, method, batch, mu, eta):
    p = rosenbrock()
    shape = (batch, 2) if batch else (2,)
    theta = np.array(data.draw(st.lists(finite, min_size=int(np.prod(shape)),
                                        max_size=int(np.prod(shape))))).reshape(shape)
    m = np.array(data.draw(st.lists(finite, min_size=theta.size,
                                    max_size=theta.size))).reshape(shape)
    state = MomentumState(m=m, t=3)
    theta_before, m_before = theta.copy(), m.copy()
    theta.flags.writeable = False  # an in-place update would raise here
    m.flags.writeable = False
    opt = method(eta, mu)
    new_theta, new_state = opt.step(theta, state, p)
    np.testing.assert_array_equal(theta, theta_before)
    np.testing.assert_array_equal(state.m, m_before)
    assert state.t == 3 and new_state.t == 4
    # The results are fresh arrays: updating them later cannot reach back into the inputs.
    for out in (new_theta, new_state.m):
        assert not np.shares_memory(out, theta) and not np.shares_memory(out, m)
    # And the step is the lecture's formula.
    look = theta + mu * m if method is Nesterov else theta
    np.testing.assert_allclose(new_state.m, mu * m - eta * p.grad(look), rtol=1e-12)
    np.testing.assert_allclose(new_theta, theta + new_state.m, rtol=1e-12)


def test_init_starts_from_zero_velocity_and_does_not_alias_theta():
    theta = np.array([[1.0, 2.0], [3.0, 4.0]])
    state = Momentum(0.1, 0.9).init(theta)
    np.testing.assert_array_equal(state.m, np.zeros((2, 2)))
    assert state.t == 0 and not np.shares_memory(state.m, theta)


# ------------------------------------------------------------------------------ rates

def _rate(errors, t1, t2):
    """Per-step contraction between steps t1 and t2 of ‖e_t‖, using the largest norm over a
    short window at each end (robust to a component passing through 0)."""
    n = np.linalg.norm(errors, axis=-1)
    w = 5
    return (n[t2 - w:t2].max() / n[t1 - w:t1].max()) ** (1 / (t2 - t1))


@pytest.mark.parametrize("d", [2, 5])
@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_tuned_gd_and_heavy_ball_attain_the_textbook_rates(kappa, d):
    """η* = 2/(λmin+λmax) gives GD (κ−1)/(κ+1); η* = (2/(√λmin+√λmax))², µ* = ((√κ−1)/(√κ+1))²
    give heavy ball (√κ−1)/(√κ+1). The minimizer is 0, so ‖θ_t‖ never meets rounding at θ*."""
    p = quadratic(kappa, d, rng=np.random.default_rng(int(kappa) + d))
    lmin, lmax = p.eigenvalues.min(), p.eigenvalues.max()
    sq = np.sqrt(kappa)
    rho_gd, rho_hb = (kappa - 1) / (kappa + 1), (sq - 1) / (sq + 1)
    start = p.x0 + np.random.default_rng(d).standard_normal(d)

    # GD: both extreme modes contract at exactly ρ, so the measured rate is ρ.
    steps = int(min(600, 150 / -np.log(rho_gd)))
    gd = run(SGD(2 / (lmin + lmax)), p, start, steps, divergence=1e300)
    rate = _rate(gd.thetas, steps // 2, steps)
    assert rate == pytest.approx(rho_gd, rel=0.01)

    # Heavy ball: every mode has modulus √µ* = ρ; the extreme ones are double roots, so
    # ‖e_t‖ ~ t ρ^t: over [T/2, T] the polynomial factor adds 2^(2/T), ~1 % at T = 200.
    eta = (2 / (np.sqrt(lmin) + np.sqrt(lmax))) ** 2
    steps = int(min(600, max(200, 150 / -np.log(rho_hb))))
    hb = run(Momentum(eta, rho_hb ** 2), p, start, steps, divergence=1e300)
    rate_hb = _rate(hb.thetas, steps // 2, steps)
    assert rate_hb == pytest.approx(rho_hb, rel=0.03)
    assert rate_hb < rate  # momentum pays off: √κ instead of κ
    # And the iterates really went down by that much overall (not just at the end).
    assert np.linalg.norm(hb.thetas[-1]) < (1.05 * rho_hb) ** steps * 10 * np.linalg.norm(start)


# ------------------------------------------------------------------------------ stability

@settings(max_examples=20, deadline=None)
@given(kappa=st.floats(1.0, 100.0), d=dims, seed=seeds, mu=st.floats(0.0, 0.95),
       margin=st.floats(0.01, 0.05))
def test_heavy_ball_is_stable_just_below_eta_lmax_2_1_plus_mu_and_diverges_just_above(
        kappa, d, seed, mu, margin):
    p, start = make_quadratic(kappa, d, seed)
    # A start with a clear component along the steepest direction, which decides stability.
    start = start + p.eigenvectors[:, -1]
    limit = 2 * (1 + mu) / p.eigenvalues.max()
    steps = 3000
    below = run(Momentum((1 - margin) * limit, mu), p, start, steps, keep_thetas=False)
    assert below.diverged_at == -1
    assert below.losses[-1] <= below.losses[0]
    above = run(Momentum((1 + margin) * limit, mu), p, start, steps, keep_thetas=False)
    assert above.diverged_at >= 0, (f"ηλmax = {(1 + margin) * 2 * (1 + mu):.4g} > 2(1+µ) = "
                                    f"{2 * (1 + mu):.4g} should diverge within {steps} steps")


def test_the_stability_limit_in_one_batch_of_step_sizes():
    """A sweep over ηλmax across 2(1+µ): exactly the settings above the limit diverge."""
    p = quadratic(20.0, 4, rng=np.random.default_rng(1))
    mu = 0.6
    factors = np.array([0.5, 0.9, 0.98, 1.02, 1.1, 1.5])
    etas = factors * 2 * (1 + mu) / p.eigenvalues.max()
    start = np.broadcast_to(p.x0 + p.eigenvectors[:, -1], (6, 4))
    tr = run(Momentum(eta=etas[:, None], mu=mu), p, start, 2000, keep_thetas=False)
    np.testing.assert_array_equal(tr.diverged_at >= 0, factors > 1)


# ------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize("method", [Momentum, Nesterov])
@pytest.mark.parametrize("mu", [1.5, -0.1])
def test_mu_outside_0_1_is_refused_with_a_message_naming_mu(method, mu):
    with pytest.raises(ValueError, match=r"mu"):
        method(eta=0.01, mu=mu)


@pytest.mark.parametrize("method", [Momentum, Nesterov])
def test_a_negative_step_size_is_refused(method):
    with pytest.raises(ValueError, match=r"eta"):
        method(eta=-0.01, mu=0.9)


@pytest.mark.parametrize("name", ["eta", "mu"])
@pytest.mark.parametrize("method", [Momentum, Nesterov])
def test_a_hyperparameter_array_that_does_not_match_the_runs_says_to_add_an_axis(method, name):
    p = quadratic(10.0)
    values = {"eta": np.full(3, 0.01), "mu": np.full(3, 0.9)}
    kwargs = {"eta": 0.01, "mu": 0.9, name: values[name]}  # shape (3,), not (3, 1)
    theta = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"\[:, None\]") as info:
        run(method(**kwargs), p, theta, 5)
    assert name in str(info.value)
    with pytest.raises(ValueError, match=r"\[:, None\]"):
        method(**kwargs).init(theta)
    # The suggested fix works.
    kwargs[name] = values[name][:, None]
    assert run(method(**kwargs), p, theta + 1, 5).thetas.shape == (6, 3, 2)
