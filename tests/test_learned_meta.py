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
    config = meta.Config(tune_functions=50, eval_every=25, shortlist=0)
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


def test_a_segment_weight_scales_the_meta_gradient_and_not_the_reported_loss():
    """The paper's wₜ: ∂(w L)/∂φ = w ∂L/∂φ, and the loss reported is L itself."""
    params, fn, theta0, state0 = tiny()
    value, grads, theta, _ = meta.meta_gradient(params, fn, theta0, state0, 3)
    value_w, grads_w, theta_w, _ = meta.meta_gradient(params, fn, theta0, state0, 3,
                                                      weight=0.25)
    assert value_w == value
    np.testing.assert_array_equal(theta_w, theta)
    for k in grads:
        np.testing.assert_allclose(grads_w[k], 0.25 * grads[k], rtol=1e-12, atol=1e-300)


def test_relative_segments_weigh_each_segment_by_its_starting_loss(monkeypatch):
    """With relative=True the weight of a segment is 1 / (the batch's mean f at its start):
    the first segment of a trajectory gets 1 / mean f(θ₀)."""
    seen = []
    real = meta.meta_gradient

    def spy(params, fn, theta, state, steps, *, weight=1.0, **kw):
        seen.append((weight, float(np.mean(fn.f(theta)))))
        return real(params, fn, theta, state, steps, weight=weight, **kw)

    monkeypatch.setattr(meta, "meta_gradient", spy)
    config = meta.Config(tune_functions=20, eval_every=10, batch=4, shortlist=0)
    meta.train(0, config=config, meta_steps=6, seconds=None, progress=False)
    assert len(seen) == 6
    for weight, start in seen:
        assert weight == pytest.approx(1.0 / start, rel=1e-12)
    seen.clear()
    meta.train(0, config=meta.Config(tune_functions=20, eval_every=10, batch=4,
                                     relative=False, shortlist=0), meta_steps=2, seconds=None,
               progress=False)
    assert [w for w, _ in seen] == [1.0, 1.0]


def test_the_quadratic_checkpoint_score_is_the_distance_from_the_goal():
    """Below 0 exactly when both ratios to tuned Adam on the tuning set meet the goal; the
    worse of the two decides; a diverged run is never chosen."""
    task = meta.QuadraticTask(meta.Config(tune_functions=50, shortlist=0), seed=0)
    mean, median = task.adam["mean"], task.adam["median"]
    finals = np.full(50, 0.1 * median)
    finals[:10] = 0.5 * mean * 50 / 10      # mean ratio 0.5 + a little: the mean decides
    s = task.score(finals)
    ratio = np.mean(finals) / mean
    assert s == pytest.approx(np.log(ratio / meta.GOAL["mean"]))
    assert (s < 0) == (ratio <= meta.GOAL["mean"])
    finals_bad_median = np.full(50, 0.3 * median)   # mean ratio tiny, median ratio 0.3
    assert task.score(finals_bad_median) == pytest.approx(np.log(0.3 / 0.2))
    assert task.score(np.full(50, np.nan)) == np.inf


def test_the_fused_lstm_gives_the_same_meta_gradient():
    """Meta-training's fused gates: the same meta-loss, end point and meta-gradient."""
    for n_in, pre in ((1, False), (2, True)):
        params = init_params(np.random.default_rng(5), n_in)
        fn = Q.sample(6, 2, split="tune")
        state0 = zero_state(fn.theta0.shape)
        a = meta.meta_gradient(params, fn, fn.theta0, state0, 7, use_preprocess=pre)
        b = meta.meta_gradient(params, fn, fn.theta0, state0, 7, use_preprocess=pre,
                               fused=True)
        assert b[0] == pytest.approx(a[0], rel=1e-12)
        np.testing.assert_allclose(b[2], a[2], rtol=1e-10, atol=1e-14)
        for k in a[1]:
            np.testing.assert_allclose(b[1][k], a[1][k], rtol=1e-8, atol=1e-12)


def test_meets_goal_asks_for_both_ratios_at_or_under_their_goals():
    assert meta.meets_goal(0.55, 0.2) and not meta.meets_goal(0.56, 0.1)
    assert not meta.meets_goal(0.3, 0.21)
    np.testing.assert_array_equal(meta.meets_goal([0.5, 0.6, 0.5], [0.1, 0.1, 0.3]),
                                  [True, False, False])


def test_met_share_counts_resampled_sets_that_meet_both_goals():
    """Paired finals: far below Adam on every function meets both goals on every resampled
    set; the same as Adam meets neither; a good mean with a poor median fails; a diverged
    run meets nothing; unpaired finals are refused with a message."""
    adam = np.random.default_rng(0).lognormal(-4, 2, size=600)
    assert meta.met_share(0.1 * adam, adam, resamples=50) == 1.0
    assert meta.met_share(adam, adam, resamples=50) == 0.0
    assert meta.met_share(0.3 * adam, adam, resamples=50) == 0.0   # median ratio 0.3 > 0.2
    # between the goals: the median ratio sits at 0.2 with half the sets on each side
    share = meta.met_share(0.2 * adam, adam, resamples=400)
    assert 0.0 < share < 1.0
    assert meta.met_share(np.full(600, np.nan), adam) == 0.0
    with pytest.raises(ValueError, match="paired"):
        meta.met_share(adam[:10], adam)


def test_first_weight_scales_only_the_first_segments_meta_step():
    """With the first segment's weight 0 its meta-step leaves φ where it was (Adam's first
    step is the gradient's sign times η, so any weight above 0 would move it); the second
    segment's step moves φ whatever that weight."""
    cfg = dict(tune_functions=20, eval_every=10, batch=4, shortlist=0)
    start = init_params(np.random.default_rng([Q.SPLITS["train"], 0]))
    flat0, _ = flatten(start)

    def after(steps, w):
        r = meta.train(0, config=meta.Config(first_weight=w, **cfg), meta_steps=steps,
                       seconds=None, progress=False, calibrate=steps)
        assert r.best_step == steps          # the only checkpoint: φ after `steps`
        return flatten(r.params)[0]

    assert np.array_equal(after(1, 0.0), flat0)
    assert not np.allclose(after(1, 1.0), flat0)
    assert not np.allclose(after(2, 0.0), flat0)
    with pytest.raises(ValueError, match="first_weight"):
        meta.Config(first_weight=-1.0)


def test_the_shortlist_is_measured_again_and_the_best_share_kept():
    """The K checkpoints of lowest score are measured on the choice functions; the one kept
    has the largest met share, and at equal shares the lowest goal distance."""
    cfg = meta.Config(tune_functions=50, eval_every=10, batch=8, shortlist=3,
                      choice_functions=300)
    r = meta.train(1, config=cfg, meta_steps=60, seconds=None, progress=False)
    lowest = sorted(r.checkpoints, key=lambda c: (c[3], c[0]))[:3]
    assert [c[0] for c in r.choice] == [c[0] for c in lowest]
    assert [c[1] for c in r.choice] == [c[3] for c in lowest]
    kept = max(r.choice, key=lambda c: (c[2], -c[3]))
    assert r.best_step == kept[0]
    task = meta.QuadraticTask(cfg, seed=1)
    share, dist = task.final_choice(r.params)
    assert (share, dist) == pytest.approx(kept[2:])
    # without a shortlist the checkpoint of the lowest score is kept
    r0 = meta.train(1, config=meta.Config(tune_functions=50, eval_every=10, batch=8,
                                          shortlist=0), meta_steps=60, seconds=None,
                    progress=False)
    assert r0.choice == [] and r0.best_step == lowest[0][0]
    with pytest.raises(ValueError, match="shortlist=0"):
        meta.QuadraticTask(meta.Config(tune_functions=50, shortlist=0),
                           seed=1).final_choice(r.params)


def test_segment_losses_split_one_whole_trajectory_by_where_each_segment_starts():
    """Each segment's loss times the mean f where it starts adds up to the whole trajectory's
    meta-loss Σₜ mean f(θₜ) (one untruncated unroll)."""
    from course_lib.learned import report

    params = init_params(np.random.default_rng(3))
    q = Q.sample(30, 4, split="tune")
    config = meta.Config()
    parts, finals = report.segment_losses(params, q, config)
    assert len(parts) == config.steps // config.unroll
    theta, state, starts = q.theta0, zero_state(q.theta0.shape), []
    for _ in parts:
        starts.append(np.mean(q.f(theta)))
        _, theta, state = meta.unroll(params, q, theta, state, config.unroll)
    whole = meta.unroll(params, q, q.theta0, zero_state(q.theta0.shape), config.steps)[0]
    assert np.dot(parts, starts) == pytest.approx(whole, rel=1e-10)
    np.testing.assert_allclose(finals, meta.evaluate(params, q, q.theta0), rtol=1e-12)
