"""The optimizer protocol, run() and SGD: batching, divergence, counting, schedules, bad input."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import schedules
from course_lib.data import load_digits
from course_lib.optim import SGD, run
from course_lib.problems import logistic_regression, quadratic, rosenbrock


def test_sgd_step_is_theta_minus_eta_times_gradient_and_does_not_mutate_inputs():
    p = rosenbrock()
    theta = np.array([-1.2, 1.0])
    before = theta.copy()
    opt = SGD(eta=1e-3)
    state = opt.init(theta)
    new, state2 = opt.step(theta, state, p)
    np.testing.assert_array_equal(theta, before)
    np.testing.assert_allclose(new, theta - 1e-3 * p.grad(theta))
    assert state.t == 0 and state2.t == 1


def test_a_batched_sweep_equals_the_same_runs_done_one_by_one():
    p = quadratic(30.0)
    etas = np.array([0.001, 0.01, 0.05, 0.07, 0.2])
    starts = np.random.default_rng(0).standard_normal((5, 2))
    batched = run(SGD(eta=etas[:, None]), p, starts, 50)
    for i, eta in enumerate(etas):
        single = run(SGD(eta=eta), p, starts[i], 50)
        # Equal up to rounding: numpy's SIMD kernels order a d-term sum by array shape, so a
        # batch and a single run can differ in the last bit (seen here, on AVX-512).
        np.testing.assert_allclose(batched.thetas[:, i], single.thetas, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(batched.losses[:, i], single.losses, rtol=1e-13)
        assert batched.diverged_at[i] == single.diverged_at


def test_two_batch_axes_broadcast_like_one():
    p = quadratic(10.0)
    etas = np.linspace(0.01, 0.25, 12).reshape(3, 4)
    tr = run(SGD(eta=etas[..., None]), p, np.broadcast_to(p.x0, (3, 4, 2)), 30)
    assert tr.thetas.shape == (31, 3, 4, 2) and tr.losses.shape == (31, 3, 4)
    flat = run(SGD(eta=etas.reshape(-1, 1)), p, np.broadcast_to(p.x0, (12, 2)), 30)
    np.testing.assert_array_equal(tr.losses.reshape(31, 12), flat.losses)


@settings(max_examples=40, deadline=None)
@given(kappa=st.floats(1.0, 1e3), angle=st.floats(0, np.pi), frac=st.floats(0.01, 0.99),
       steps=st.integers(1, 60))
def test_gd_on_a_quadratic_follows_the_closed_form_in_eigen_coordinates(kappa, angle, frac, steps):
    p = quadratic(kappa, angle=angle)
    eta = frac * 2 / p.eigenvalues.max()
    tr = run(SGD(eta), p, p.x0, steps)
    e0 = p.eigenvectors.T @ (p.x0 - p.minimizer)
    predicted = p.minimizer + p.eigenvectors @ ((1 - eta * p.eigenvalues) ** steps * e0)
    np.testing.assert_allclose(tr.theta, predicted, rtol=1e-9, atol=1e-12)


def test_divergence_stops_the_run_reports_the_step_and_warns_nothing():
    p = quadratic(100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = run(SGD(eta=0.05), p, p.x0, 1000)  # 0.05 > 2/λmax = 0.02
    k = int(tr.diverged_at)
    assert 1 <= k < 100
    assert np.all(np.isfinite(tr.losses[:k])) and np.all(np.isnan(tr.losses[k:]))
    assert np.all(np.isnan(tr.thetas[k:]))
    assert tr.n_grad == k  # stopped early: no gradients after the divergence
    assert "diverged at step" in repr(tr)


def test_in_a_batch_only_the_unstable_runs_are_marked_diverged():
    p = quadratic(100.0)
    etas = np.array([0.005, 0.019, 0.021, 0.1])
    tr = run(SGD(eta=etas[:, None]), p, np.broadcast_to(p.x0, (4, 2)), 400)
    assert tr.diverged.tolist() == [False, False, True, True]
    assert tr.diverged_at[3] < tr.diverged_at[2]


def test_evaluations_are_counted_per_run():
    p = quadratic(5.0)
    tr = run(SGD(0.1), p, np.zeros((7, 2)) + p.x0, 25)
    assert tr.n_grad == 25 and tr.n_f == 0 and tr.n_hvp == 0 and tr.n_examples is None


def _digits_problem():
    d = load_digits(classes=(3, 8), seed=0)
    return logistic_regression(d.X_train, (d.y_train == 8).astype(int), l2=1e-2)


def test_minibatch_sgd_sees_each_example_once_per_epoch_and_counts_examples():
    p = _digits_problem()
    n = p.n_examples
    tr = run(SGD(0.5), p, np.zeros(p.dim), 2 * ((n + 31) // 32), batch_size=32, rng=0)
    assert tr.n_examples == 2 * n
    full = run(SGD(0.5), p, np.zeros(p.dim), 3)
    assert full.n_examples == 3 * n


def test_minibatch_runs_repeat_with_the_same_seed_and_differ_with_another():
    p = _digits_problem()
    a = run(SGD(0.5), p, None, 40, batch_size=8, rng=np.random.default_rng(1))
    b = run(SGD(0.5), p, None, 40, batch_size=8, rng=np.random.default_rng(1))
    c = run(SGD(0.5), p, None, 40, batch_size=8, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(a.losses, b.losses)
    assert not np.array_equal(a.losses, c.losses)


def test_online_sgd_with_annealing_ends_closer_to_the_optimum_than_a_constant_step():
    p = _digits_problem()
    best = run(SGD(2.0), p, None, 3000).loss
    const = run(SGD(0.5), p, None, 2000, batch_size=1, rng=3).losses[-200:].mean()
    annealed = run(SGD(schedules.inverse_time(0.5, k=0.01)), p, None, 2000, batch_size=1,
                   rng=3).losses[-200:].mean()
    assert annealed - best < const - best


def test_schedules_give_the_documented_step_sizes():
    assert schedules.step_decay(1.0, 0.5, 10)(25) == 0.25
    assert schedules.inverse_time(1.0, 0.5)(4) == pytest.approx(1 / 3)
    assert schedules.exponential(2.0, 0.5)(3) == 0.25
    assert schedules.constant(0.3)(1000) == 0.3
    p = quadratic(4.0)
    tr = run(SGD(schedules.step_decay(0.1, 0.5, 2)), p, p.x0, 4)
    theta = p.x0
    for eta in (0.1, 0.1, 0.05, 0.05):
        theta = theta - eta * p.grad(theta)
    np.testing.assert_allclose(tr.theta, theta)


def test_keep_thetas_false_keeps_losses_and_the_final_iterate():
    p = quadratic(10.0)
    a = run(SGD(0.1), p, p.x0, 20)
    b = run(SGD(0.1), p, p.x0, 20, keep_thetas=False)
    assert b.thetas is None
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.theta, b.theta)


@pytest.mark.parametrize("call, error, match", [
    (lambda: SGD(eta=-0.1), ValueError, "negative step size"),
    (lambda: SGD(eta=np.array([0.1, -1.0])), ValueError, "eta must be ≥ 0"),
    (lambda: SGD(eta="fast"), TypeError, "number"),
    (lambda: SGD(eta=np.nan), ValueError, "finite"),
    (lambda: run(SGD(0.1), quadratic(), [np.nan, 1.0], 5), ValueError, "non-finite"),
    (lambda: run(SGD(0.1), quadratic(), [1.0, 2.0, 3.0], 5), ValueError, "last axis"),
    (lambda: run(SGD(0.1), quadratic(), 1.0, 5), ValueError, "scalar"),
    (lambda: run(SGD(0.1), quadratic(), None, -3), ValueError, "non-negative"),
    (lambda: run(SGD(np.ones(3)), quadratic(), np.zeros((3, 2)), 5), ValueError, r"\[:, None\]"),
    (lambda: run(SGD(0.1), quadratic(), None, 5, batch_size=4), ValueError, "data problem"),
    (lambda: run(SGD(0.1), _digits_problem(), None, 5, batch_size=4), ValueError, "rng"),
    (lambda: run(SGD(0.1), _digits_problem(), None, 5, batch_size=0, rng=1), ValueError, "from 1"),
    (lambda: run("sgd", quadratic(), None, 5), TypeError, "not an optimizer"),
])
def test_bad_input_raises_a_message_that_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_gradient_computed_alongside_the_loss_is_counted_once_and_gives_the_same_run():
    from course_lib.problems import Problem
    p = quadratic(20.0)
    plain = Problem(p.f, p.grad, name="no fusion", x0=p.x0)  # same functions, nothing shared
    assert p.fuses_value_and_grad and not plain.fuses_value_and_grad
    a, b = run(SGD(0.04), p, p.x0, 30), run(SGD(0.04), plain, p.x0, 30)
    np.testing.assert_allclose(a.thetas, b.thetas, rtol=1e-13)
    assert a.n_grad == b.n_grad == 30


# -------------------------------------------------------------------------------------------
# Mini-batches per run, recording every k steps, and delayed (stale) gradients.

def _counting_data(n=12):
    """ℓ(θ; x) = θ·x on the examples x = 0 … n−1: an SGD(eta=1) step subtracts the mean of its
    mini-batch, so θ tells which examples a run has seen."""
    from course_lib.problems import EmpiricalRisk
    return EmpiricalRisk(lambda t, x: t[..., 0] * x, lambda t, x: np.broadcast_to(
        x, np.broadcast_shapes(t[..., 0].shape, np.shape(x)))[..., None], np.arange(float(n)),
        name="counting", dim=1, x0=[0.0])


def test_per_run_sampling_gives_each_run_its_own_minibatches_and_shared_sampling_does_not():
    p = _counting_data()
    start = np.zeros((6, 1))
    shared = run(SGD(1.0), p, start, 5, batch_size=2, rng=0)
    own = run(SGD(1.0), p, start, 5, batch_size=2, rng=0, sampling="per_run")
    assert np.all(shared.thetas == shared.thetas[:, :1])
    assert len(np.unique(own.thetas[1, :, 0])) > 1


def test_every_run_sees_each_example_once_per_epoch_with_per_run_sampling():
    p = _counting_data(12)
    own = run(SGD(1.0), p, np.zeros((20, 1)), 12, batch_size=3, rng=1, sampling="per_run")
    # after each epoch (4 batches of 3) every run has subtracted Σx/3 = 22, whatever the order
    np.testing.assert_allclose(own.thetas[[4, 8, 12], :, 0],
                               [[-22.0], [-44.0], [-66.0]] * np.ones(20))
    assert len(np.unique(np.round(own.thetas[2, :, 0], 9))) > 1  # mid-epoch: runs differ
    assert own.n_examples == 12 * 3


def test_a_run_of_a_per_run_batch_repeats_alone_with_its_own_seed():
    p = _digits_problem()
    seeds = [11, 12, 13]
    etas = np.array([0.2, 0.5, 1.0])
    batched = run(SGD(eta=etas[:, None]), p, np.zeros((3, p.dim)), 30, batch_size=8, rng=seeds,
                  sampling="per_run")
    for i in range(3):
        alone = run(SGD(eta=etas[i:i + 1, None]), p, np.zeros((1, p.dim)), 30, batch_size=8,
                    rng=[seeds[i]], sampling="per_run")
        np.testing.assert_allclose(batched.losses[:, i], alone.losses[:, 0], rtol=1e-12)
    # one run with its own stream sees what shared sampling from that stream shows it
    shared = run(SGD(0.5), p, None, 30, batch_size=8, rng=12)
    np.testing.assert_allclose(batched.losses[:, 1], shared.losses, rtol=1e-12)


def test_native_per_run_batches_equal_the_run_by_run_fallback():
    p = _counting_data(10)

    class OneIndexSetOnly(type(p)):
        per_run_batches = False

    q = OneIndexSetOnly(p._parts[0], p._parts[1], p.data, name="fallback", dim=1, x0=[0.0])
    start = np.zeros((2, 3, 1))
    a = run(SGD(0.3), p, start, 9, batch_size=4, rng=5, sampling="per_run")
    b = run(SGD(0.3), q, start, 9, batch_size=4, rng=5, sampling="per_run")
    np.testing.assert_allclose(a.thetas, b.thetas, rtol=1e-14)
    assert a.n_examples == b.n_examples == 3 * 10  # three epochs of batches 4, 4, 2


def test_record_every_keeps_exactly_the_recorded_steps_of_the_full_run():
    p = quadratic(10.0)
    full = run(SGD(0.05), p, p.x0, 23)
    sparse = run(SGD(0.05), p, p.x0, 23, record_every=5)
    np.testing.assert_array_equal(sparse.recorded_at, [0, 5, 10, 15, 20, 23])
    np.testing.assert_array_equal(sparse.losses, full.losses[sparse.recorded_at])
    np.testing.assert_array_equal(sparse.thetas, full.thetas[sparse.recorded_at])
    np.testing.assert_array_equal(sparse.theta, full.theta)
    assert sparse.steps == full.steps == 23 and sparse.n_grad == 23


def test_record_every_reports_a_divergence_at_the_next_recorded_step():
    p = quadratic(100.0)
    every = run(SGD(0.05), p, p.x0, 400)
    sparse = run(SGD(0.05), p, p.x0, 400, record_every=10)
    k = int(every.diverged_at)
    assert int(sparse.diverged_at) == 10 * -(-k // 10)
    assert np.isnan(sparse.loss)


def test_delayed_sgd_follows_the_stale_gradient_recurrence():
    from course_lib.optim import Delayed
    p = quadratic(4.0)
    eta, tau, steps = 0.05, 3, 40
    tr = run(Delayed(SGD(eta), tau), p, p.x0, steps)
    thetas = [p.x0]
    for t in range(steps):
        thetas.append(thetas[-1] - eta * p.grad(thetas[max(t - tau, 0)]))
    np.testing.assert_allclose(tr.thetas, np.array(thetas), rtol=1e-12, atol=1e-15)


def test_delay_zero_is_the_wrapped_optimizer_and_array_delays_equal_separate_runs():
    from course_lib.optim import Delayed, Momentum, Nesterov
    p = quadratic(20.0)
    for opt in (SGD(0.03), Momentum(0.02, 0.8), Nesterov(0.02, 0.8)):
        np.testing.assert_array_equal(run(Delayed(opt, 0), p, p.x0, 30).thetas,
                                      run(opt, p, p.x0, 30).thetas)
    taus = np.array([0, 1, 2, 5])
    batched = run(Delayed(Momentum(0.01, 0.5), tau=taus[:, None]), p,
                  np.broadcast_to(p.x0, (4, 2)), 60)
    for i, tau in enumerate(taus):
        alone = run(Delayed(Momentum(0.01, 0.5), int(tau)), p, p.x0, 60)
        np.testing.assert_allclose(batched.thetas[:, i], alone.thetas, rtol=1e-12, atol=1e-15)


def test_a_delayed_step_does_not_mutate_its_inputs():
    from course_lib.optim import Delayed
    p = quadratic(5.0)
    opt = Delayed(SGD(0.1), 2)
    theta = p.x0.copy()
    state = opt.init(theta)
    history = state.history.copy()
    opt.step(theta, state, p)
    np.testing.assert_array_equal(theta, p.x0)
    np.testing.assert_array_equal(state.history, history)


@pytest.mark.parametrize("call, error, match", [
    (lambda: run(SGD(0.1), _digits_problem(), None, 5, batch_size=4, rng=1, sampling="mine"),
     ValueError, "per_run"),
    (lambda: run(SGD(0.1), quadratic(), None, 5, sampling="per_run"), ValueError, "batch_size"),
    (lambda: run(SGD(0.1), _digits_problem(), np.zeros((3, 65)), 5, batch_size=4, rng=[1, 2],
                 sampling="per_run"), ValueError, "one seed per run"),
    (lambda: run(SGD(0.1), quadratic(), None, 5, record_every=0), ValueError, "positive integer"),
    (lambda: __import__("course_lib.optim", fromlist=["Delayed"]).Delayed(SGD(0.1), 1.5),
     ValueError, "whole number"),
    (lambda: __import__("course_lib.optim", fromlist=["Delayed"]).Delayed(SGD(0.1), -1),
     ValueError, "tau must be ≥ 0"),
    (lambda: __import__("course_lib.optim", fromlist=["Delayed"]).Delayed("sgd", 1),
     TypeError, "not an optimizer"),
])
def test_bad_sampling_recording_and_delay_arguments_say_what_to_pass(call, error, match):
    with pytest.raises(error, match=match):
        call()
