"""Oracle tests: the course's SGD, Momentum and Nesterov against torch.optim.SGD, in float64.

Both sides use the very same gradient function: torch's parameter is moved by torch.optim, but
its ``.grad`` is set each step from ``problem.grad`` (numpy) inside the closure, so any
difference comes from the update rules alone. Trajectories of 200 steps must agree to a
norm-wise relative error ≤ 1e-10 at every step.

The mappings proved here (notebook 03's table of conventions):

* ``SGD(eta)`` ≡ ``torch.optim.SGD(lr=eta)``: θ_t = p_t.
* ``Momentum(eta, mu)`` (m ← µm − η∇L(θ); θ ← θ + m) ≡ ``SGD(lr=eta, momentum=mu,
  dampening=0)`` (b ← µb + g; p ← p − lr·b): θ_t = p_t and torch's buffer b_t = −m_t/η.
* ``Nesterov(eta, mu)`` (θ̃ = θ + µm; m ← µm − η∇L(θ̃); θ ← θ + m) ≡ ``SGD(..., nesterov=True)``
  under the look-ahead change of variable p_t = θ̃_t = θ_t + µ m_t (see the test's docstring).
* Schedules: ``SGD(step_decay(η₀, factor, every))`` ≡ SGD + ``StepLR(step_size=every,
  gamma=factor)``. With momentum, and with Nesterov, the two conventions part at the first
  decay: torch scales the whole buffer by the *current* lr, the course scales each gradient by
  the lr of its own step.
"""
import numpy as np
import pytest

torch = pytest.importorskip(
    "torch",
    reason="torch is not installed, so the torch.optim oracle tests cannot run (torch is not a "
           "course dependency; CI installs the CPU wheel with "
           "`.venv/bin/python -m pip install torch==2.13.0`)")

import sympy as sp  # noqa: E402

from course_lib import schedules  # noqa: E402
from course_lib.theory import gradient_descent as T  # noqa: E402
from course_lib.optim import SGD, Momentum, Nesterov, run  # noqa: E402
from course_lib.problems import quadratic, rosenbrock  # noqa: E402

pytestmark = pytest.mark.oracle

STEPS = 200
RTOL = 1e-10
MUS = [0.5, 0.9, 0.99]


# ------------------------------------------------------------------------------ helpers

def torch_trajectory(make_optimizer, problem, theta0, steps=STEPS, *, scheduler=None,
                     grad_scale=None):
    """Drive a torch optimizer on ``problem`` for ``steps`` steps in float64.

    ``make_optimizer([p])`` builds it; ``scheduler(opt)`` an optional lr scheduler stepped after
    each optimizer step; ``grad_scale(t)`` an optional factor the gradient of step t is
    multiplied by. Returns (p_0 … p_steps, torch's momentum buffers b_0 … b_steps) with
    b_0 = 0 (no buffer yet) and zeros throughout for plain SGD.
    """
    theta0 = np.array(theta0, dtype=np.float64)
    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([p])
    sched = scheduler(opt) if scheduler is not None else None
    t = 0

    def closure():
        x = p.detach().numpy()
        g = np.ascontiguousarray(problem.grad(x), dtype=np.float64)
        if grad_scale is not None:
            g = grad_scale(t) * g
        p.grad = torch.from_numpy(g)
        return torch.tensor(float(problem.f(x)), dtype=torch.float64)

    ps = [theta0.copy()]
    bufs = [np.zeros_like(theta0)]
    for t in range(steps):
        opt.step(closure)
        if sched is not None:
            sched.step()
        ps.append(p.detach().numpy().copy())
        buf = opt.state[p].get("momentum_buffer")
        bufs.append(np.zeros_like(theta0) if buf is None else buf.detach().numpy().copy())
    return np.array(ps), np.array(bufs)


def rel_err(a, b):
    """Norm-wise relative error at each step: ‖a_t − b_t‖ / max(‖a_t‖, ‖b_t‖), the denominator
    floored at 1e-8 × the trajectory's largest norm so that iterates passing near 0 cannot turn
    a rounding-level difference into a large ratio."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    num = np.linalg.norm(a - b, axis=-1)
    den = np.maximum(np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1))
    return num / np.maximum(den, 1e-8 * den.max())


def assert_same_trajectory(got, expected, what, rtol=RTOL):
    assert got.shape == expected.shape, f"{what}: shapes {got.shape} vs {expected.shape}"
    assert np.all(np.isfinite(got)) and np.all(np.isfinite(expected)), \
        f"{what}: a trajectory left the finite range; use a smaller step size"
    err = rel_err(got, expected)
    worst = int(np.argmax(err))
    assert err[worst] <= rtol, (f"{what}: relative error {err[worst]:.3g} at step {worst} "
                                f"(> {rtol:g}); got {got[worst]}, expected {expected[worst]}")


#: torch's Nesterov parameter p in the course's variables (θ, m, µ): lecture 02's result
TORCH_P = sp.lambdify((T.theta, T.m, T.mu), T.TORCH_NESTEROV["p"], "numpy")


def lookahead(thetas, mu):
    """θ̃_t = θ_t + µ m_t with m_t = θ_t − θ_{t−1} (m_0 = 0, so θ̃_0 = θ_0): torch's p_t, by the
    change of variables the theory module states (T.TORCH_NESTEROV)."""
    return TORCH_P(thetas, velocities(thetas), mu)


def velocities(thetas):
    """m_t = θ_t − θ_{t−1} for t ≥ 1 and m_0 = 0: the course's state after t steps."""
    m = np.zeros_like(thetas)
    m[1:] = np.diff(thetas, axis=0)
    return m


# ------------------------------------------------------------------------------ problems
# Step sizes: a fraction of the stability limit on each quadratic (GD: ηλmax < 2, heavy ball:
# ηλmax < 2(1+µ), Nesterov: ηλmax < 2(1+µ)/(1+2µ)), and a fixed small η on Rosenbrock
# (its curvature at the start is ≈ 1.5e3), checked to stay finite for 200 steps.

def _quad(kappa, d, seed):
    rng = np.random.default_rng(seed)
    center = rng.standard_normal(d)
    return quadratic(kappa, d, angle=rng.uniform(0, np.pi), rng=rng, center=center)


QUADRATICS = [  # (κ, d, seed)
    (10.0, 2, 0), (1e3, 2, 1), (50.0, 5, 2), (1e3, 5, 3), (1e2, 10, 4), (1e3, 10, 5),
]


def problems():
    """(id, problem, start, eta for SGD, eta for momentum/Nesterov given µ)."""
    out = []
    for kappa, d, seed in QUADRATICS:
        p = _quad(kappa, d, seed)
        start = p.x0 + np.random.default_rng(seed + 100).standard_normal(d)
        lmax = p.eigenvalues.max()
        out.append(pytest.param(p, start, 1.0 / lmax,
                                lambda mu, lmax=lmax: 0.5 * 2 * (1 + mu) / lmax,
                                lambda mu, lmax=lmax: 0.7 * 2 * (1 + mu) / (1 + 2 * mu) / lmax,
                                id=f"quadratic-k{kappa:g}-d{d}-s{seed}"))
    for d in (2, 6):
        p = rosenbrock(d)
        out.append(pytest.param(p, p.x0, 2e-4, lambda mu: 2e-4, lambda mu: 2e-4,
                                id=f"rosenbrock-d{d}"))
    return out


PROBLEMS = problems()


# ------------------------------------------------------------------------------ constant η

@pytest.mark.parametrize("problem, start, eta_gd, eta_hb, eta_nag", PROBLEMS)
def test_sgd_equals_torch_sgd(problem, start, eta_gd, eta_hb, eta_nag):
    ours = run(SGD(eta_gd), problem, start, STEPS).thetas
    theirs, _ = torch_trajectory(lambda ps: torch.optim.SGD(ps, lr=eta_gd), problem, start)
    assert_same_trajectory(theirs, ours, f"SGD(eta={eta_gd:g}) vs torch SGD on {problem.name}")


@pytest.mark.parametrize("mu", MUS)
@pytest.mark.parametrize("problem, start, eta_gd, eta_hb, eta_nag", PROBLEMS)
def test_momentum_equals_torch_sgd_with_momentum_and_buffer_is_minus_m_over_eta(
        problem, start, eta_gd, eta_hb, eta_nag, mu):
    """θ_t = p_t for every t, and torch's momentum buffer b_t = −m_t/η."""
    eta = eta_hb(mu)
    ours = run(Momentum(eta, mu), problem, start, STEPS).thetas
    theirs, bufs = torch_trajectory(
        lambda ps: torch.optim.SGD(ps, lr=eta, momentum=mu, dampening=0), problem, start)
    what = f"Momentum(eta={eta:g}, mu={mu}) vs torch SGD(momentum={mu}) on {problem.name}"
    assert_same_trajectory(theirs, ours, what)
    # The buffer is a velocity in gradient units: m_t = θ_t − θ_{t−1} = −η b_t.
    m = velocities(ours)
    scale = np.abs(m).max()
    np.testing.assert_allclose(-eta * bufs, m, rtol=0, atol=1e-9 * scale,
                               err_msg=what + ": torch's buffer is not −m/η")


@pytest.mark.parametrize("mu", MUS)
@pytest.mark.parametrize("problem, start, eta_gd, eta_hb, eta_nag", PROBLEMS)
def test_nesterov_equals_torch_nesterov_at_the_lookahead_point(
        problem, start, eta_gd, eta_hb, eta_nag, mu):
    """torch's p_t is the course's look-ahead point θ̃_t = θ_t + µ m_t, with the same index t.

    Index alignment (t = number of steps taken, m_t = θ_t − θ_{t−1} the course's velocity
    after t steps, m_0 = 0):

        p_0 = θ_0                                    (= θ̃_0, since m_0 = 0)
        p_t = θ_t + µ (θ_t − θ_{t−1})   for t ≥ 1     (= θ̃_t, where step t+1 takes its gradient)
        b_t = −m_t / η                               (torch's momentum buffer)

    Proof by induction: θ̃_{t+1} = θ_{t+1} + µ m_{t+1} = θ̃_t − µ m_t + (1 + µ) m_{t+1}, and with
    m_{t+1} = µ m_t − η g(θ̃_t) this is θ̃_t − η (1 + µ) g(θ̃_t) + µ² m_t. torch computes
    b_{t+1} = µ b_t + g(p_t), p_{t+1} = p_t − η (g(p_t) + µ b_{t+1})
            = p_t − η (1 + µ) g(p_t) − η µ² b_t: the same recurrence under p = θ̃, b = −m/η.
    Both sequences evaluate their gradient at the same points, so p_t − θ̃_t is rounding only.
    The naive reading p_t = θ_t is wrong (checked below), and so is a shift by one step.
    """
    eta = eta_nag(mu)
    ours = run(Nesterov(eta, mu), problem, start, STEPS).thetas
    theirs, bufs = torch_trajectory(
        lambda ps: torch.optim.SGD(ps, lr=eta, momentum=mu, dampening=0, nesterov=True),
        problem, start)
    what = f"Nesterov(eta={eta:g}, mu={mu}) vs torch SGD(nesterov=True) on {problem.name}"
    assert_same_trajectory(theirs, lookahead(ours, mu), what + " (p_t vs θ_t + µ m_t)")
    m = velocities(ours)
    np.testing.assert_allclose(-eta * bufs, m, rtol=0, atol=1e-9 * np.abs(m).max(),
                               err_msg=what + ": torch's buffer is not −m/η")
    # The mapping matters: p_t is neither θ_t nor θ_{t+1}.
    assert rel_err(theirs, ours).max() > 1e-6
    assert rel_err(theirs[1:-1], ours[2:]).max() > 1e-6
    # And back: θ_t = (p_t + µ θ_{t−1}) / (1 + µ) recovers the course's iterates from torch's.
    recovered = (theirs[1:] + mu * ours[:-1]) / (1 + mu)
    assert_same_trajectory(recovered, ours[1:], what + " (θ recovered from p)")


# ------------------------------------------------------------------------------ batched runs

@pytest.mark.parametrize("method", ["momentum", "nesterov", "sgd"])
def test_a_batched_run_equals_one_torch_run_per_setting(method):
    p = _quad(200.0, 4, 7)
    lmax = p.eigenvalues.max()
    B = 6
    rng = np.random.default_rng(11)
    mus = np.array([0.0, 0.3, 0.5, 0.8, 0.9, 0.99])
    if method == "nesterov":
        etas = rng.uniform(0.2, 0.8, B) * 2 * (1 + mus) / (1 + 2 * mus) / lmax
        opt = Nesterov(eta=etas[:, None], mu=mus[:, None])
    elif method == "momentum":
        etas = rng.uniform(0.2, 0.8, B) * 2 * (1 + mus) / lmax
        opt = Momentum(eta=etas[:, None], mu=mus[:, None])
    else:
        etas = rng.uniform(0.2, 0.9, B) * 2 / lmax
        opt = SGD(eta=etas[:, None])
    starts = p.x0 + rng.standard_normal((B, 4))
    batched = run(opt, p, starts, STEPS).thetas
    assert batched.shape == (STEPS + 1, B, 4)
    for i in range(B):
        eta, mu = float(etas[i]), float(mus[i])
        if method == "sgd":
            make = lambda ps: torch.optim.SGD(ps, lr=eta)  # noqa: E731
        else:
            make = lambda ps: torch.optim.SGD(  # noqa: E731
                ps, lr=eta, momentum=mu, nesterov=method == "nesterov" and mu > 0)
        theirs, _ = torch_trajectory(make, p, starts[i])
        # torch refuses nesterov=True with momentum=0; there Nesterov is plain momentum (= GD).
        ours = lookahead(batched[:, i], mu) if method == "nesterov" else batched[:, i]
        assert_same_trajectory(theirs, ours, f"{method} run {i} (eta={eta:g}, mu={mu}) of a "
                                             "batch vs torch")


# ------------------------------------------------------------------------------ schedules

@pytest.mark.parametrize("factor, every", [(0.5, 50), (0.1, 60), (0.3, 1)])
@pytest.mark.parametrize("problem, start, eta_gd, eta_hb, eta_nag",
                         [PROBLEMS[1], PROBLEMS[4], PROBLEMS[-2], PROBLEMS[-1]])
def test_sgd_with_step_decay_equals_torch_steplr(problem, start, eta_gd, eta_hb, eta_nag,
                                                  factor, every):
    """η_t = η₀ factor^⌊t/every⌋ (t = steps taken) is StepLR(step_size=every, gamma=factor)
    stepped once after every optimizer step."""
    ours = run(SGD(schedules.step_decay(eta_gd, factor, every)), problem, start, STEPS).thetas
    theirs, _ = torch_trajectory(
        lambda ps: torch.optim.SGD(ps, lr=eta_gd), problem, start,
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=every,
                                                              gamma=factor))
    assert_same_trajectory(theirs, ours, f"SGD(step_decay({eta_gd:g}, {factor}, {every})) vs "
                                         f"torch SGD + StepLR on {problem.name}")


def _momentum_with_decay(problem, start, eta0, mu, factor, every):
    sched = schedules.step_decay(eta0, factor, every)
    ours = run(Momentum(sched, mu), problem, start, STEPS).thetas
    theirs, bufs = torch_trajectory(
        lambda ps: torch.optim.SGD(ps, lr=eta0, momentum=mu), problem, start,
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=every,
                                                              gamma=factor))
    return sched, ours, theirs, bufs


@pytest.mark.parametrize("mu", [0.5, 0.9])
@pytest.mark.parametrize("problem, start, eta_gd, eta_hb, eta_nag",
                         [PROBLEMS[1], PROBLEMS[3], PROBLEMS[-2]])
def test_momentum_with_a_decaying_lr_parts_from_torch_at_the_first_decay(
        problem, start, eta_gd, eta_hb, eta_nag, mu):
    """The documented difference between the conventions once η varies.

    The course:  m ← µ m − η_t g;        θ ← θ + m   (each gradient keeps the lr of its step)
    torch:       b ← µ b + g;  p ← p − η_t b         (the current lr rescales the whole buffer)

    b = −m/η only holds while η is constant: θ_0 … θ_every agree with torch's p (the first
    `every` steps use η₀), θ_{every+1} does not. At that step torch moves by −η₁(µ b + g) and
    the course by −η₀ µ b − η₁ g (m = −η₀ b): torch's step minus the course's is
    η₀ µ (1 − factor) b, i.e. torch shrinks the velocity at once, the course lets the momentum
    gathered at η₀ decay at its own rate µ. torch's trajectory is the
    course's momentum with the velocity rescaled at each change of lr,
    m ← µ (η_t/η_{t−1}) m − η_t g, and the course's own rule is torch's SGD(lr=1) fed η_t g.
    """
    factor, every = 0.5, 50
    eta0 = eta_hb(mu)
    sched, ours, theirs, bufs = _momentum_with_decay(problem, start, eta0, mu, factor, every)
    what = f"Momentum(step_decay({eta0:g}, {factor}, {every}), mu={mu}) on {problem.name}"
    # Identical while the lr is constant ...
    assert_same_trajectory(theirs[:every + 1], ours[:every + 1], what + ", before the decay")
    # ... and different from the first step taken with the decayed lr on.
    err = rel_err(theirs, ours)
    assert err[every + 1] > 1e-8, f"{what}: expected torch to differ right after the decay"
    assert np.all(err[every + 1:] > 1e-8)
    # The size of that first difference is exactly η₀ µ (1 − factor) b_every (torch − course):
    # torch brakes at once, the course keeps the velocity gathered at η₀ (m_every = −η₀ b_every).
    jump = (theirs[every + 1] - theirs[every]) - (ours[every + 1] - ours[every])
    np.testing.assert_allclose(jump, eta0 * mu * (1 - factor) * bufs[every],
                               rtol=1e-7, atol=1e-12 * np.abs(ours).max())

    # The course's rule is m ← µ m − η_t g, written out by hand ...
    theta, m = np.array(start, dtype=float), np.zeros(len(start))
    by_hand = [theta]
    for t in range(STEPS):
        m = mu * m - sched(t) * problem.grad(theta)
        theta = theta + m
        by_hand.append(theta)
    assert_same_trajectory(np.array(by_hand), ours, what + " vs m ← µm − η_t g", rtol=1e-12)
    # ... which torch reproduces with lr=1 and the lr folded into the gradient (b = −m).
    folded, _ = torch_trajectory(lambda ps: torch.optim.SGD(ps, lr=1.0, momentum=mu), problem,
                                 start, grad_scale=sched)
    assert_same_trajectory(folded, ours, what + " vs torch SGD(lr=1) on η_t g")

    # torch's own trajectory is the course's update with the velocity rescaled by η_t/η_{t−1}.
    theta, m = np.array(start, dtype=float), np.zeros(len(start))
    rescaled = [theta]
    for t in range(STEPS):
        ratio = sched(t) / sched(t - 1) if t > 0 else 1.0
        m = mu * ratio * m - sched(t) * problem.grad(theta)
        theta = theta + m
        rescaled.append(theta)
    assert_same_trajectory(theirs, np.array(rescaled), what + ": torch vs rescaled velocity")


@pytest.mark.parametrize("mu", [0.5, 0.9])
@pytest.mark.parametrize("problem, start, eta_gd, eta_hb, eta_nag",
                         [PROBLEMS[1], PROBLEMS[3], PROBLEMS[-2]])
def test_nesterov_with_a_decaying_lr_parts_from_torch_at_the_first_decay(
        problem, start, eta_gd, eta_hb, eta_nag, mu):
    """The conventions table's Nesterov row: p_t = θ_t + µ m_t holds for a constant η only.

    Up to step `every` both use η₀ and agree. The first step with η₁ = factor·η₀ moves torch's
    p by −η₁(1 + µ) g − η₁ µ² b and the course's look-ahead point by (1 + µ) m' − µ m =
    −η₁(1 + µ) g + µ² m = −η₁(1 + µ) g − η₀ µ² b (m = −η₀ b, g the same gradient, taken at the
    same point): torch's step minus the course's is (η₀ − η₁) µ² b_every, and from there on the
    trajectories differ.
    """
    factor, every = 0.5, 50
    eta0 = eta_nag(mu)
    sched = schedules.step_decay(eta0, factor, every)
    ours = lookahead(run(Nesterov(sched, mu), problem, start, STEPS).thetas, mu)
    theirs, bufs = torch_trajectory(
        lambda ps: torch.optim.SGD(ps, lr=eta0, momentum=mu, nesterov=True), problem, start,
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=every,
                                                              gamma=factor))
    what = f"Nesterov(step_decay({eta0:g}, {factor}, {every}), mu={mu}) on {problem.name}"
    assert_same_trajectory(theirs[:every + 1], ours[:every + 1], what + ", before the decay")
    err = rel_err(theirs, ours)
    assert np.all(err[every + 1:] > 1e-8), f"{what}: expected torch to differ after the decay"
    jump = (theirs[every + 1] - theirs[every]) - (ours[every + 1] - ours[every])
    np.testing.assert_allclose(jump, (eta0 - factor * eta0) * mu ** 2 * bufs[every],
                               rtol=1e-7, atol=1e-12 * np.abs(ours).max())
