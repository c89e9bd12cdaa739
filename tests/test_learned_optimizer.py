"""The learned optimizer follows the course's optimizer protocol: batched over leading axes,
pure steps, accepted by run() and by the unit-test harness."""
import numpy as np
import pytest

from course_lib.learned import LearnedOptimizer, load, shipped_quadratic
from course_lib.learned import quadratics as Q
from course_lib.learned.lstm import init_params
from course_lib.optim import run
from course_lib.problems import quadratic
from course_lib.unit_tests import Grid, evaluate


@pytest.fixture(scope="module")
def opt():
    return load("quadratic")


def test_a_batch_of_runs_equals_the_runs_one_by_one(opt):
    q = Q.sample(6, 11, split="test", dim=4)
    prob = Q.problem(q)
    batched = run(opt, prob, q.theta0, 15)
    for i in range(q.n):
        one = Q.problem(Q.Quadratics(q.W[i:i + 1], q.y[i:i + 1], q.theta0[i:i + 1]))
        alone = run(opt, one, q.theta0[i:i + 1], 15)
        np.testing.assert_allclose(alone.losses[:, 0], batched.losses[:, i], rtol=1e-10)


def test_two_leading_axes_are_runs_too(opt):
    prob = quadratic(kappa=10.0, d=3, rng=np.random.default_rng(0))
    theta0 = np.random.default_rng(1).normal(size=(2, 3, 3))
    tr = run(opt, prob, theta0, 10)
    assert tr.losses.shape == (11, 2, 3)
    flat = run(opt, prob, theta0.reshape(6, 3), 10)
    np.testing.assert_allclose(tr.losses.reshape(11, 6), flat.losses, rtol=1e-12)


def test_a_step_does_not_change_its_inputs(opt):
    prob = quadratic(kappa=10.0, d=3, rng=np.random.default_rng(0))
    theta = np.array([[1.0, -2.0, 0.5]])
    state = opt.init(theta)
    theta_copy, h1_copy = theta.copy(), state.h1.copy()
    new_theta, new_state = opt.step(theta, state, prob)
    np.testing.assert_array_equal(theta, theta_copy)
    np.testing.assert_array_equal(state.h1, h1_copy)
    assert new_state.t == 1 and not np.array_equal(new_theta, theta)


def test_state_has_one_lstm_row_per_coordinate_and_run(opt):
    state = opt.init(np.zeros((5, 7)))
    assert state.h1.shape == state.c2.shape == (5, 7, 20) and state.t == 0


def test_the_update_is_theta_plus_the_lstm_output(opt):
    """θ ← θ + g with g the LSTM's output: a coordinate whose gradient is the same gets the
    same step whatever its value of θ."""
    class Flat:
        dim = 2

        def grad(self, theta):
            return np.ones_like(theta)

    theta = np.array([[0.0, 5.0]])
    new, _ = opt.step(theta, opt.init(theta), Flat())
    step = new - theta
    assert step[0, 0] == pytest.approx(step[0, 1], rel=1e-12)


def test_run_lowers_a_held_out_quadratic(opt):
    q = Q.sample(20, 99, split="test")
    tr = run(opt, Q.problem(q), q.theta0, 100)
    assert np.median(tr.loss) < 1e-2 * np.median(tr.losses[0])


def test_weights_with_two_inputs_preprocess_the_gradient():
    params = init_params(np.random.default_rng(0), n_in=2)
    opt = LearnedOptimizer(params)
    assert opt.preprocessed
    prob = quadratic(kappa=10.0, d=3, rng=np.random.default_rng(0))
    # preprocessing sees log|g|: gradients 1e3 times larger give steps of a similar size
    small = run(opt, prob, np.full(3, 1e-3), 1).thetas[1] - 1e-3
    big = run(opt, prob, np.full(3, 1.0), 1).thetas[1] - 1.0
    assert np.max(np.abs(big)) < 10 * np.max(np.abs(small))


def test_incomplete_weights_are_refused_with_a_message():
    params = init_params(np.random.default_rng(0))
    del params["Wi1"]
    with pytest.raises(ValueError, match="lack"):
        LearnedOptimizer(params)


def test_unknown_shipped_name_is_refused_with_a_message():
    with pytest.raises(ValueError, match="shipped weights are"):
        load("resnet")


def test_the_unit_test_harness_runs_it_unchanged():
    grid = Grid("learned LSTM", shipped_quadratic, ())
    cases = ["quad_bowl-normal-noiseless", "abs-normal-gauss_add_0.1",
             "2d-quad_bowl:2-normal:2-gauss_add_0.1:2-rotated"]
    results = evaluate(cases, grids=[grid], repetitions=2, steps=20, processes=1,
                       progress=False)
    finals = results.finals["learned LSTM"]
    assert finals.shape == (3, 1, 2)
    assert np.all(np.isfinite(finals))
    # on the noise-free bowl it makes progress
    assert finals[0].max() < results.f0[0]
