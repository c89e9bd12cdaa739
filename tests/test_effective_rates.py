"""`effective_rate(before, after)` of lecture 03's optimizers: the per-coordinate step size the
explorer draws is the one the step used (step = −rate · g, or −rate · m̂ for Adam), and
Adagrad's equals the derived η/√(t g² + ε) under a constant gradient."""
import numpy as np
import pytest

from course_lib.optim import AMSGrad, Adadelta, Adagrad, Adam, RMSprop
from course_lib.problems import Problem, quadratic, rosenbrock
from course_lib.theory.adaptive import adagrad_effective_rate_fn

B = 4
ETAS = np.geomspace(1e-3, 1e-1, B)[:, None]
EPSS = np.array([0.0, 1e-8, 1e-4, 1e-2])[:, None]


def _steps(opt, problem, theta, n=30):
    """(before, after, θ_t, θ_{t+1}, g_t) for n steps."""
    state = opt.init(theta)
    for _ in range(n):
        before, g = state, problem.grad(theta)
        new_theta, state = opt.step(theta, state, problem)
        yield before, state, theta, new_theta, g
        theta = new_theta


@pytest.mark.parametrize("opt", [Adagrad(ETAS, EPSS), RMSprop(ETAS, 0.9, EPSS),
                                 Adadelta(0.95, EPSS + 1e-6)],
                         ids=["Adagrad", "RMSprop", "Adadelta"])
@pytest.mark.parametrize("problem", [rosenbrock(), quadratic(100.0)], ids=["rosenbrock", "quad"])
def test_the_step_is_minus_the_effective_rate_times_the_gradient(opt, problem):
    theta = np.broadcast_to(problem.x0, (B, 2)).copy()
    for before, after, th, new, g in _steps(opt, problem, theta):
        assert np.allclose(new - th, -opt.effective_rate(before, after) * g, rtol=1e-12,
                           atol=1e-15)


@pytest.mark.parametrize("cls", [Adam, AMSGrad])
def test_adams_step_is_minus_the_effective_rate_times_m_hat(cls):
    b1 = np.array([0.0, 0.5, 0.9, 0.99])[:, None]
    opt = cls(ETAS, b1, 0.999, EPSS)
    p = rosenbrock()
    theta = np.broadcast_to(p.x0, (B, 2)).copy()
    for before, after, th, new, g in _steps(opt, p, theta):
        m_hat = after.m / (1 - b1 ** after.t)
        assert np.allclose(new - th, -opt.effective_rate(before, after) * m_hat, rtol=1e-12,
                           atol=1e-15)


def test_adagrads_effective_rate_under_a_constant_gradient_is_the_derived_one():
    g = np.array([0.3, -2.0])
    p = Problem(lambda th: np.sum(g * th, axis=-1), lambda th: np.broadcast_to(g, th.shape),
                name="plane", dim=2)
    opt = Adagrad(0.1, 1e-3)
    rates = [opt.effective_rate(b, a) for b, a, *_ in _steps(opt, p, np.zeros(2), 50)]
    t = np.arange(1, 51)[:, None]
    assert np.allclose(rates, adagrad_effective_rate_fn(0.1, g, 1e-3, t), rtol=1e-13)


def test_at_eps_zero_a_coordinate_without_gradient_has_rate_zero_not_nan():
    p = Problem(lambda th: 0.5 * th[..., 0] ** 2, lambda th: th * np.array([1.0, 0.0]),
                name="x²/2", dim=2)
    for opt in (Adagrad(0.1, 0.0), RMSprop(0.1, 0.9, 0.0), Adam(0.1, 0.9, 0.999, 0.0)):
        with np.errstate(all="raise"):
            for before, after, *_ in _steps(opt, p, np.array([1.0, 0.0]), 5):
                rate = opt.effective_rate(before, after)
                assert rate[1] == 0.0 and rate[0] > 0
