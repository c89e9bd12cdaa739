"""Claim: "high-variance updates can hop out of local minima". On `two_cluster_location` (a
shallow minimum beside a deep one), runs started in the shallow minimum, each with its own
mini-batches (run(..., sampling="per_run")): small batches escape, large ones and full-batch
gradient descent stay."""
import numpy as np
import pytest

from course_lib.optim import SGD, run
from course_lib.problems import EmpiricalRisk, numerical_grad, two_cluster_location


def test_the_problem_has_a_shallow_minimum_a_barrier_and_a_deep_minimum():
    p = two_cluster_location()
    pts = np.array([[p.shallow], [p.barrier], [p.deep]])
    np.testing.assert_allclose(p.grad(pts), 0.0, atol=1e-12)
    f_shallow, f_barrier, f_deep = p.f(pts)
    assert f_deep < f_shallow < f_barrier
    assert p.shallow < p.barrier < p.deep
    h = p.hess(pts)[:, 0, 0]
    assert h[0] > 0 > h[1] and h[2] > 0
    theta = np.linspace(-4, 4, 9)[:, None]
    np.testing.assert_allclose(p.grad(theta), numerical_grad(p.f)(theta), atol=1e-7)
    with pytest.raises(ValueError, match="share"):
        two_cluster_location(share=0.7)


def test_a_minibatch_is_the_mean_loss_over_its_examples_for_shared_and_per_run_indices():
    p = two_cluster_location(n=50)
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 50, (4, 7))
    theta = rng.normal(size=(4, 1))
    per_run = p.batch(idx)
    assert isinstance(per_run, EmpiricalRisk) and per_run.n_examples == 7
    for r in range(4):
        one = p.batch(idx[r])
        np.testing.assert_allclose(per_run.grad(theta)[r], one.grad(theta[r]))
        np.testing.assert_allclose(per_run.f(theta)[r], np.mean(1 - np.exp(
            -(theta[r, 0] - p.x[idx[r]]) ** 2 / 2)))
    with pytest.raises(ValueError, match="already a mini-batch"):
        per_run.batch([0])


def _fraction_in_deep_basin(p, eta, batch_size, seeds=100, steps=1000, sampling="per_run"):
    start = np.full((seeds, 1), p.shallow)
    tr = run(SGD(eta), p, start, steps, batch_size=batch_size, rng=0, sampling=sampling,
             keep_thetas=False, record_every=steps)
    return np.mean(tr.theta[:, 0] > p.barrier), tr


def test_small_batches_escape_the_shallow_minimum_and_large_ones_stay():
    p = two_cluster_location()
    online, _ = _fraction_in_deep_basin(p, 2.0, 1)
    large, _ = _fraction_in_deep_basin(p, 2.0, 32)
    assert online > 0.6 and large == 0.0
    gd = run(SGD(2.0), p, np.array([p.shallow]), 1000)
    assert gd.theta[0] == pytest.approx(p.shallow, abs=1e-9)


def test_with_shared_minibatches_every_repetition_is_the_same_run():
    p = two_cluster_location()
    _, shared = _fraction_in_deep_basin(p, 2.0, 1, seeds=20, steps=200, sampling="shared")
    assert np.all(shared.theta == shared.theta[0])
    _, own = _fraction_in_deep_basin(p, 2.0, 1, seeds=20, steps=200)
    assert len(np.unique(own.theta)) == 20
