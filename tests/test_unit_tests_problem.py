"""A unit test as a stochastic Problem (course_lib.unit_tests.problem): the noise-free field is
the gradient of the value (rotated or not, with drifting offsets), the curl circles the start
and is no gradient, drifts change the landscape every 10 evaluations, the clock ticks on
gradients only, and θ of a wrong shape is refused with the shape to use."""
import math

import numpy as np
import pytest

from course_lib.optim import SGD, run
from course_lib.unit_tests import UnitTestProblem, case
from course_lib.unit_tests.nonstationary import EVERY


def numerical_gradient(problem, theta, h=1e-6):
    g = np.empty_like(theta)
    for i in range(theta.shape[-1]):
        e = np.zeros(theta.shape[-1])
        e[i] = h
        g[..., i] = (problem.f(theta + e) - problem.f(theta - e)) / (2 * h)
    return g


@pytest.mark.parametrize("name, ticks", [
    ("quad_convex.quad_bowl.gauss_nonconvex-steep-gauss_add_0.1", 0),
    ("laplace_nonconvex.laplace_convex.laplace_bowl.laplace_convex.laplace_nonconvex"
     "-normal-noiseless-offset_drift", 35),
    ("exponential-flat-gauss_add_10-scale_drift", 25),
    ("2d-quad_bowl:2-steep:2-gauss_add_0.1:2-rotated", 0),
    ("10d-laplace_convex.laplace_nonconvex.quad_convex:10-saddle+normal:9-noiseless:10", 0)])
def test_the_noise_free_field_is_the_gradient_of_the_value(name, ticks, rng):
    problem = case(name).problem(repetitions=5, seed=1)
    theta = rng.uniform(-0.3, 1.3, (5, problem.d))
    for _ in range(ticks):
        problem.grad(theta)
    field = problem.field(theta)
    numeric = numerical_gradient(problem, theta)
    np.testing.assert_allclose(field, numeric, rtol=1e-5, atol=1e-5 * np.abs(field).max())


def test_a_rotation_turns_the_landscape_and_keeps_the_start_value():
    plain = case("2d-abs+quad_bowl-steep+normal-noiseless:2").problem(repetitions=1)
    turned = case("2d-abs+quad_bowl-steep+normal-noiseless:2-rotated").problem(repetitions=1)
    assert turned.f(turned.x0) == plain.f(plain.x0) == 400.0
    Q = turned._Q[0]
    assert np.allclose(Q @ Q.T, np.eye(2)) and not np.allclose(Q, np.eye(2))
    theta = np.array([0.3, -0.2])
    assert turned.f(theta) == pytest.approx(plain.f(Q @ theta), rel=1e-14)
    np.testing.assert_allclose(turned.field(theta), Q.T @ plain.field(Q @ theta), rtol=1e-12)


def test_the_curl_circles_the_start_and_is_no_gradient(rng):
    curled = case("10d-abs:10-normal:10-noiseless:10-curled").problem(repetitions=1)
    plain = case("10d-abs:10-normal:10-noiseless:10").problem(repetitions=1)
    theta = rng.uniform(-0.5, 0.5, 10)
    extra = curled.field(theta) - plain.field(theta)
    assert curled.f(theta) == plain.f(theta)  # the value being scored is untouched
    assert abs(extra @ (theta - curled.x0)) <= 1e-12 * np.linalg.norm(extra)
    assert np.linalg.norm(extra) > 0.1 * np.linalg.norm(theta - curled.x0)
    # its Jacobian is antisymmetric (a rotation), so it is the gradient of no function
    J = np.stack([(curled.field(theta + e * 1e-6) - plain.field(theta + e * 1e-6) - extra)
                  / 1e-6 for e in np.eye(10)], axis=1)
    np.testing.assert_allclose(J, -J.T, atol=1e-6)
    assert np.linalg.norm(J, 2) == pytest.approx(1.0, rel=1e-6)


def test_scale_drift_refits_the_slope_every_10_evaluations():
    problem = case("line-normal-noiseless-scale_drift").problem(repetitions=3, seed=5)
    theta = problem.start()
    slopes = []
    for _ in range(4 * EVERY):
        slopes.append(problem.grad(theta)[:, 0])
    slopes = np.array(slopes)                                    # (evaluations, repetitions)
    periods = slopes.reshape(4, EVERY, 3)
    assert np.all(periods == periods[:, :1])                      # constant within a period
    assert np.all(periods[0] == -1.0)                             # period 0: as built
    factors = -periods[1:, 0]                                     # fresh exp(0.1 ξ) each period
    assert np.all(factors > 0) and len(np.unique(factors)) == factors.size
    assert np.all(np.abs(np.log(factors)) < 0.1 * 5)


def test_offset_drift_is_a_random_walk_of_the_optimum():
    """The quadratic bowl's minimum moves by 0.1 ξ each period and the steps add up: after p
    periods its variance over the repetitions is p × 0.01."""
    R = 2000
    problem = case("quad_bowl-normal-noiseless-offset_drift").problem(repetitions=R, seed=2)
    theta = np.zeros((R, 1))
    minima = []
    for t in range(6 * EVERY):
        g = problem.grad(theta)[:, 0]
        if t % EVERY == 0:
            minima.append(-g / 2)  # f = (x − o − ½)² + c: at x = 0, g = −2(o + ½)
    moves = np.diff(np.array(minima), axis=0)
    assert np.allclose(minima[0], 0.5)
    np.testing.assert_allclose(moves.std(axis=1), 0.1, rtol=5 / math.sqrt(2 * R))
    var5 = np.var(minima[5] - 0.5)
    assert abs(var5 - 0.05) <= 5 * 0.05 * math.sqrt(2 / R)


def test_gradients_tick_the_clock_values_do_not_and_reset_replays_the_draws():
    problem = case("abs-normal-gauss_add_0.1-noise_drift").problem(repetitions=4, seed=9)
    theta = problem.start()
    problem.f(theta)
    problem.field(theta)
    assert problem.evaluations == 0
    first = [problem.grad(theta) for _ in range(3)]
    assert problem.evaluations == 3
    assert not np.array_equal(first[0], first[1])
    problem.reset()
    again = [problem.grad(theta) for _ in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_runs_beyond_one_block_of_draws_continue_the_streams():
    problem = case("quad_bowl-normal-gauss_add_0.1-offset_drift").problem(repetitions=3)
    trace = run(SGD(0.1), problem, problem.start(), 250, keep_thetas=False)
    assert np.all(np.isfinite(trace.losses))
    assert problem.evaluations == 250


def test_the_same_seed_gives_the_same_draws_and_another_seed_others():
    def draws(seed):
        p = case("quad_bowl-normal-gauss_add_0.1").problem(repetitions=3, seed=seed)
        return p.grad(p.start())
    assert np.array_equal(draws(4), draws(4))
    assert not np.array_equal(draws(4), draws(5))


def test_a_case_gives_the_same_numbers_alone_and_in_a_batch():
    names = ["quad_bowl-steep-gauss_mul_1", "quad_bowl-normal-cauchy_1-noise_drift",
             "quad_bowl-flat-gauss_add_10-offset_drift"]
    batch = UnitTestProblem([case(n) for n in names], repetitions=4, seed=0)
    theta = batch.start((2,))
    etas = np.array([0.01, 0.1])[:, None, None]
    together = run(SGD(etas), batch, theta, 30, keep_thetas=False).losses
    for i, n in enumerate(names):
        alone = case(n).problem(repetitions=4, seed=0)
        one = run(SGD(etas), alone, alone.start((2,)), 30, keep_thetas=False).losses
        np.testing.assert_allclose(together[:, i], one, rtol=1e-12)


def test_theta_of_a_wrong_shape_is_refused_with_the_shape_to_use():
    problem = case("quad_bowl-normal-gauss_add_0.1").problem(repetitions=10)
    with pytest.raises(ValueError, match=r"second-to-last axis must have length 10"):
        problem.grad(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="d = 1 coordinates"):
        problem.grad(np.zeros((10, 2)))
    batch = UnitTestProblem([case("line-normal-noiseless"), case("line-steep-noiseless")],
                            repetitions=1)
    with pytest.raises(ValueError, match=r"first axis must have length 2"):
        batch.grad(np.zeros((3, 1)))


def test_cases_of_different_structure_cannot_share_a_problem():
    with pytest.raises(ValueError, match="one structure.*batches"):
        UnitTestProblem([case("line-normal-noiseless"), case("abs-normal-noiseless")])
    with pytest.raises(ValueError, match="at least one case"):
        UnitTestProblem([])
    with pytest.raises(ValueError, match="repetitions"):
        case("line-normal-noiseless").problem(repetitions=0)
    with pytest.raises(ValueError, match="seed"):
        case("line-normal-noiseless").problem(seed=-1)
