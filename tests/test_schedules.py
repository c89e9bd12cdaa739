"""Step sizes in lecture 02: the schedules (values, torch's schedulers, bad arguments) and the
claims the notebook makes about step sizes on the digits (tuned per batch size; annealing).

The digits claims run the notebook's procedure at a smaller size and assert on what does not
depend on the machine: losses per example seen and per step, never timings.
"""
import numpy as np
import pytest

from course_lib import schedules as S
from course_lib.data import load_digits
from course_lib.optim import SGD, run
from course_lib.problems import softmax_regression


# ------------------------------------------------------------------------------ values

def test_cosine_starts_at_eta0_is_halfway_at_half_the_budget_and_ends_at_eta_min():
    s = S.cosine(2.0, 100, eta_min=0.2)
    assert s(0) == pytest.approx(2.0)
    assert s(50) == pytest.approx(1.1)          # (η₀ + η_min) / 2
    assert s(25) == pytest.approx(0.2 + 1.8 * (1 + np.cos(np.pi / 4)) / 2)
    assert s(100) == pytest.approx(0.2)
    assert s(250) == pytest.approx(0.2)         # stays at η_min after the budget
    values = [s(t) for t in range(101)]
    assert np.all(np.diff(values) < 0)           # decreasing over the whole budget


def test_warmup_ramps_linearly_then_hands_over_to_the_next_schedule_from_its_start():
    s = S.warmup(S.step_decay(1.0, factor=0.5, every=10), steps=4, start_factor=0.0)
    assert [s(t) for t in range(5)] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert s(4 + 9) == 1.0 and s(4 + 10) == 0.5   # the decay counts from the end of warm-up
    half = S.warmup(0.8, steps=10, start_factor=0.5)
    assert half(0) == pytest.approx(0.4) and half(5) == pytest.approx(0.6)
    assert half(10) == half(1000) == 0.8


def test_warmup_then_cosine_spends_the_budget_it_is_given():
    T, W = 100, 10
    s = S.warmup(S.cosine(1.0, T - W), W)
    assert s(W - 1) < s(W) == pytest.approx(1.0)
    assert s(W + (T - W) // 2) == pytest.approx(0.5)
    assert s(T) == pytest.approx(0.0, abs=1e-15)


def test_schedules_broadcast_over_an_array_of_step_sizes():
    etas = np.array([0.1, 1.0])[:, None]
    s = S.warmup(S.cosine(etas, 10), 5)
    np.testing.assert_allclose(s(2), 0.4 * etas)
    np.testing.assert_allclose(s(5 + 5), 0.5 * etas)


def test_stack_runs_several_schedules_as_one_batch_of_runs():
    p = softmax_regression(*load_digits(seed=0)[:2], l2=1e-3)
    parts = (S.constant(0.5), S.cosine(0.5, 30), S.warmup(S.cosine(0.5, 20), 10))
    both = run(SGD(S.stack(*parts)), p, np.zeros((3, p.dim)), 30, batch_size=16, rng=3,
               keep_thetas=False)
    for i, part in enumerate(parts):
        alone = run(SGD(part), p, None, 30, batch_size=16, rng=3, keep_thetas=False)
        np.testing.assert_allclose(both.losses[:, i], alone.losses, rtol=1e-12)
    assert S.stack(0.1, S.constant(0.2))(7).shape == (2, 1)


@pytest.mark.parametrize("make, match", [
    (lambda: S.cosine(1.0, 0), "positive whole number"),
    (lambda: S.cosine(1.0, 10.5), "positive whole number"),
    (lambda: S.cosine(0.1, 10, eta_min=0.5), "eta_min ≤ eta0"),
    (lambda: S.cosine(-1.0, 10), "≥ 0"),
    (lambda: S.warmup(1.0, 0), "positive whole number"),
    (lambda: S.warmup(1.0, 10, start_factor=1.5), r"\[0, 1\]"),
    (lambda: S.warmup(-0.1, 10), "≥ 0"),
    (lambda: S.stack(), "pass the schedules"),
])
def test_bad_arguments_say_what_to_pass(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_warmup_of_something_that_is_not_a_schedule_says_what_to_pass():
    with pytest.raises(TypeError, match="schedule that follows"):
        S.warmup("cosine", 10)
    with pytest.raises(ValueError, match="one number per step"):
        S.stack(S.constant(np.ones((2, 1))), 0.1)(0)


# ------------------------------------------------------------------------------ torch

def torch_lrs(make_scheduler, steps, lr):
    """The learning rate torch uses at steps 0 … steps−1 (scheduler stepped after each step)."""
    torch = pytest.importorskip("torch", reason="torch is not installed (oracle tests only)")
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    sched = make_scheduler(torch.optim.lr_scheduler, opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


def ours(schedule, steps):
    return np.array([schedule(t) for t in range(steps)], dtype=float)


@pytest.mark.oracle
@pytest.mark.parametrize("T, eta_min", [(50, 0.0), (37, 0.05)])
def test_cosine_equals_torch_cosine_annealing_lr_over_its_budget(T, eta_min):
    theirs = torch_lrs(lambda L, o: L.CosineAnnealingLR(o, T_max=T, eta_min=eta_min), T + 1, 0.5)
    np.testing.assert_allclose(ours(S.cosine(0.5, T, eta_min), T + 1), theirs, rtol=1e-12,
                               atol=1e-15)


@pytest.mark.oracle
@pytest.mark.parametrize("W, start", [(10, 0.1), (7, 1 / 3)])
def test_warmup_of_a_constant_equals_torch_linear_lr(W, start):
    theirs = torch_lrs(lambda L, o: L.LinearLR(o, start_factor=start, total_iters=W), 3 * W, 0.2)
    np.testing.assert_allclose(ours(S.warmup(0.2, W, start), 3 * W), theirs, rtol=1e-12)


@pytest.mark.oracle
def test_warmup_then_cosine_equals_torch_sequential_lr():
    W, T, start = 8, 40, 0.25

    def make(L, o):
        return L.SequentialLR(o, [L.LinearLR(o, start_factor=start, total_iters=W),
                                  L.CosineAnnealingLR(o, T_max=T - W, eta_min=0.01)],
                              milestones=[W])
    theirs = torch_lrs(make, T + 1, 1.0)
    np.testing.assert_allclose(ours(S.warmup(S.cosine(1.0, T - W, 0.01), W, start), T + 1),
                               theirs, rtol=1e-12)


@pytest.mark.oracle
def test_step_decay_and_exponential_equal_torch_steplr_and_exponentiallr():
    np.testing.assert_allclose(ours(S.step_decay(0.3, 0.5, 7), 30),
                               torch_lrs(lambda L, o: L.StepLR(o, 7, gamma=0.5), 30, 0.3),
                               rtol=1e-12)
    np.testing.assert_allclose(ours(S.exponential(0.3, 0.9), 30),
                               torch_lrs(lambda L, o: L.ExponentialLR(o, 0.9), 30, 0.3),
                               rtol=1e-12)


# ------------------------------------------------------------------------------ the digits

GRID = 2.0 ** np.arange(-5, 6)   # notebook 02's grid, epochs and seeds
EPOCHS = 2


@pytest.fixture(scope="module")
def digits_risk():
    d = load_digits(seed=0)
    return softmax_regression(d.X_train, d.y_train, l2=1e-3)


def tune(problem, b, grid=GRID, epochs=EPOCHS, seed=1):
    """Notebook 02's procedure: one batched run over the η grid; the criterion is the mean
    training risk over the last epoch. Returns (tuned η, its risk, index in grid, its losses)."""
    per_epoch = problem.n_examples // b
    tr = run(SGD(eta=grid[:, None]), problem, np.zeros((len(grid), problem.dim)),
             epochs * per_epoch, batch_size=b, rng=seed, drop_last=True, keep_thetas=False)
    score = np.mean(tr.losses[-per_epoch:], axis=0)
    score = np.where(np.isfinite(score), score, np.inf)
    k = int(np.argmin(score))
    return grid[k], score[k], k, tr.losses[:, k]


@pytest.fixture(scope="module")
def tuned(digits_risk):
    """Batch sizes 8, 32, 128 and full batch (online SGD, the slow one, in its own test)."""
    N = digits_risk.n_examples
    return {b: tune(digits_risk, b) for b in (8, 32, 128, N)}


def test_per_example_the_smaller_batch_wins_once_each_has_its_tuned_step_size(tuned):
    risks = [risk for _, risk, _, _ in tuned.values()]
    assert np.all(np.diff(risks) > 0), f"tuned risks by batch size {list(tuned)}: {risks}"


def test_the_tuned_step_size_grows_with_the_batch_and_lies_inside_the_grid(tuned):
    etas = [eta for eta, *_ in tuned.values()]
    assert np.all(np.diff(etas) >= 0) and etas[-1] > etas[0], f"tuned η: {etas}"
    for b, (_, _, k, _) in tuned.items():
        assert 0 < k < len(GRID) - 1, f"b = {b}: the tuned η is at the grid's edge"


def test_per_step_the_larger_mini_batch_reaches_a_risk_level_first(tuned, digits_risk):
    """What makes mini-batches win per second while a step costs about the same for every
    small b: the larger mini-batch needs fewer steps; full batch never gets there in its
    budget of two steps."""
    level = 0.9
    steps = {b: int(np.argmax(losses <= level)) if np.any(losses <= level) else None
             for b, (*_, losses) in tuned.items()}
    assert steps[digits_risk.n_examples] is None
    assert steps[128] < steps[32] < steps[8], f"steps to reach risk {level}: {steps}"


@pytest.mark.slow
def test_online_sgd_beats_every_mini_batch_per_example(tuned, digits_risk):
    eta, risk, k, _ = tune(digits_risk, 1)
    assert 0 < k < len(GRID) - 1
    assert eta < tuned[8][0]
    assert risk < min(r for _, r, _, _ in tuned.values())


def test_a_constant_step_stalls_at_a_noise_floor_that_annealing_goes_below(digits_risk):
    """Notebook 02's annealing run (b = 8, η₀ = 1, 12 epochs): from epoch 4 on the constant
    step's epoch-mean gap no longer improves (a noise floor); every decaying schedule ends at
    least 3 times below it; warm-up keeps the risk of the first epoch below its start."""
    from course_lib.problems import reference_minimizer
    b, epochs = 8, 12
    per_epoch = digits_risk.n_examples // b
    budget = epochs * per_epoch
    parts = (S.constant(1.0), S.step_decay(1.0, 0.5, 2 * per_epoch),
             S.inverse_time(1.0, 1 / per_epoch), S.cosine(1.0, budget),
             S.warmup(S.cosine(1.0, budget - per_epoch), per_epoch))
    tr = run(SGD(S.stack(*parts)), digits_risk, np.zeros((len(parts), digits_risk.dim)),
             budget, batch_size=b, rng=2, drop_last=True, keep_thetas=False)
    gap = tr.losses - digits_risk.f(reference_minimizer(digits_risk))
    means = gap[1:].reshape(epochs, per_epoch, -1).mean(axis=1)
    constant = means[:, 0]
    assert constant[-1] > 0.7 * constant[3:].max()
    assert np.all(means[-1, 1:] < constant[-1] / 3)
    first = tr.losses[:per_epoch + 1]
    assert first[:, 0].max() > tr.losses[0, 0] >= first[:, 4].max()
