"""Meta-training of the LSTM optimizer: autograd's meta-gradient against finite differences,
the dropped second-derivative term, clipping, and a short run that learns."""
import numpy as np
import pytest
from autograd.misc.flatten import flatten

from course_lib.learned import meta
from course_lib.learned import quadratics as Q
from course_lib.learned.lstm import init_params, zero_state


def tiny():
    """A tiny configuration: 3 hidden units, 2 functions of 3 dimensions, 4 steps."""
    rng = np.random.default_rng(7)
    params = init_params(rng, 1, hidden=3)
    fn = Q.sample(2, 5, split="train", dim=3)
    return params, fn, fn.theta0, zero_state(fn.theta0.shape, hidden=3)


class Replay:
    """The same f, but the gradients replayed from a recording (constants)."""

    def __init__(self, fn, grads):
        self.f, self.grads, self.k = fn.f, grads, 0

    def grad(self, theta):
        g = self.grads[self.k]
        self.k += 1
        return g


class Recording:
    def __init__(self, fn):
        self.f, self._grad, self.grads = fn.f, fn.grad, []

    def grad(self, theta):
        g = self._grad(theta)
        self.grads.append(np.array(g))
        return g


def directional_fd(loss, params, direction, h=1e-6):
    flat, unflatten = flatten(params)
    up, down = unflatten(flat + h * direction), unflatten(flat - h * direction)
    return (loss(up) - loss(down)) / (2 * h)


def test_full_meta_gradient_matches_finite_differences():
    params, fn, theta0, state0 = tiny()
    _, grads, _, _ = meta.meta_gradient(params, fn, theta0, state0, 4, second_order=True)
    g_flat, _ = flatten(grads)
    rng = np.random.default_rng(1)
    for _ in range(3):
        u = rng.normal(size=g_flat.size)
        fd = directional_fd(lambda p: meta.segment_loss(p, fn, theta0, state0, 4,
                                                        second_order=True), params, u)
        assert g_flat @ u == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_dropped_meta_gradient_is_the_derivative_with_the_gradients_held_fixed():
    """The paper's meta-gradient (∂∇f/∂φ dropped) is the exact derivative of the same
    meta-loss in which each ∇ₜ is a constant: replay the gradients seen at φ and differentiate
    that by finite differences."""
    params, fn, theta0, state0 = tiny()
    rec = Recording(fn)
    meta.unroll(params, rec, theta0, state0, 4)
    _, grads, _, _ = meta.meta_gradient(params, fn, theta0, state0, 4)
    g_flat, _ = flatten(grads)
    rng = np.random.default_rng(2)
    for _ in range(3):
        u = rng.normal(size=g_flat.size)
        fd = directional_fd(lambda p: meta.segment_loss(p, Replay(fn, rec.grads), theta0,
                                                        state0, 4), params, u)
        assert g_flat @ u == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_dropping_second_derivatives_changes_the_meta_gradient():
    params, fn, theta0, state0 = tiny()
    # steps large enough that θ, and so ∇f(θ), depends on φ noticeably
    params = {**params, "w_out": 30 * params["w_out"]}
    full, _ = flatten(meta.meta_gradient(params, fn, theta0, state0, 4, second_order=True)[1])
    dropped, _ = flatten(meta.meta_gradient(params, fn, theta0, state0, 4)[1])
    assert np.linalg.norm(full - dropped) > 1e-3 * np.linalg.norm(full)


def test_segment_continues_where_the_last_one_ended():
    params, fn, theta0, state0 = tiny()
    whole, theta_w, _ = meta.unroll(params, fn, theta0, state0, 4)
    first, theta1, state1 = meta.unroll(params, fn, theta0, state0, 2)
    second, theta2, _ = meta.unroll(params, fn, theta1, state1, 2)
    assert first + second == pytest.approx(whole, rel=1e-12)
    np.testing.assert_allclose(theta2, theta_w)


def test_meta_loss_is_the_sum_of_the_mean_losses_after_each_step():
    params, fn, theta0, state0 = tiny()
    total = 0.0
    theta, state = theta0, state0
    for _ in range(3):
        _, theta, state = meta.unroll(params, fn, theta, state, 1)
        total += np.mean(fn.f(theta))
    assert meta.segment_loss(params, fn, theta0, state0, 3) == pytest.approx(total, rel=1e-12)


def test_clipping_scales_to_global_norm_and_leaves_small_gradients_alone():
    g = {"a": np.array([3.0, 0.0]), "b": np.array(4.0)}
    clipped, norm = meta.clip_by_global_norm(g, 1.0)
    assert norm == pytest.approx(5.0)
    assert np.sqrt(np.sum(clipped["a"] ** 2) + clipped["b"] ** 2) == pytest.approx(1.0)
    same, _ = meta.clip_by_global_norm(g, 10.0)
    np.testing.assert_array_equal(same["a"], g["a"])


def test_second_order_with_preprocessing_is_refused():
    params, fn, theta0, state0 = tiny()
    with pytest.raises(ValueError, match="raw-gradient"):
        meta.unroll(params, fn, theta0, state0, 2, use_preprocess=True, second_order=True)


def test_fifty_meta_steps_lower_the_meta_loss():
    config = meta.Config(tune_functions=50, eval_every=25)
    fn = Q.sample(64, 3, split="tune")

    def trajectory_loss(params):
        return meta.segment_loss(params, fn, fn.theta0, zero_state(fn.theta0.shape), 100)

    start = init_params(np.random.default_rng([Q.SPLITS["train"], 4]))
    result = meta.train(4, config=config, meta_steps=50, seconds=None, progress=False)
    assert result.meta_steps == 50 and len(result.losses) == 50
    assert trajectory_loss(result.params) < 0.7 * trajectory_loss(start)


def test_train_needs_a_budget():
    with pytest.raises(ValueError, match="meta_steps=N or a time budget"):
        meta.train(0, meta_steps=None, seconds=None)


def test_trajectory_must_be_whole_segments():
    with pytest.raises(ValueError, match="whole number of segments"):
        meta.Config(steps=100, unroll=30)
