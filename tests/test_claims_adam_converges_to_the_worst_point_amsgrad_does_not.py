"""Adam's regret bound (Kingma & Ba 2015) does not hold: on Reddi, Kale & Kumar's (2018) online
problem — gradients C, −1, −1, … on x ∈ [−1, 1], C = 3, β1 = 0, β2 = 1/(1 + C²) = 0.1 — Adam
drifts to x = +1, the point of *largest* regret, with a constant step and with their α/√t alike;
AMSGrad, whose v_max never forgets the large gradient, goes to the best point x = −1.
Notebook 03 runs the same experiment and prints these numbers."""
import numpy as np
import pytest

from course_lib.optim import AMSGrad, Adam, SGD, run
from course_lib.optim.adaptive import Projected
from course_lib.problems import reddi_online
from course_lib.schedules import Schedule

C, BETA2 = 3.0, 0.1


def one_over_sqrt_t(eta):
    return Schedule(lambda t: eta / np.sqrt(t + 1), f"{eta}/√t")


def final_x(cls, eta, steps):
    opt = Projected(cls(eta, beta1=0.0, beta2=BETA2, eps=0.0), -1.0, 1.0)
    return run(opt, reddi_online(C), [0.0], steps, keep_thetas=False).theta[0]


def test_the_paper_setting_is_beta2_one_over_one_plus_c_squared():
    assert BETA2 == pytest.approx(1 / (1 + C ** 2))


@pytest.mark.parametrize("eta", [0.1, one_over_sqrt_t(0.1)], ids=["constant", "1/sqrt(t)"])
def test_adam_ends_at_the_worst_point(eta):
    assert final_x(Adam, eta, 3000) == 1.0


def test_amsgrad_ends_near_the_best_point():
    assert final_x(AMSGrad, 0.1, 3000) == pytest.approx(-0.9302, abs=1e-3)
    assert final_x(AMSGrad, one_over_sqrt_t(0.1), 3000) < -0.998
    assert final_x(AMSGrad, one_over_sqrt_t(0.1), 30000) < -0.9995


def test_adams_regret_per_step_is_the_worst_possible_while_amsgrads_vanishes():
    """Regret R_T = Σ f_t(x_t) − Σ f_t(−1) = Σ g_t (x_t + 1). Over the last 999 steps (333
    periods) Adam's is the largest possible, 2(C − 2)/3 per step (it sits at +1, to within
    0.2%), AMSGrad's nearly 0, and its average R_T/T keeps falling (→ 0 with α/√t)."""
    T = 3000
    g = np.where(np.arange(1, T + 1) % 3 == 1, C, -1.0)
    out = {}
    for cls in (Adam, AMSGrad):
        opt = Projected(cls(one_over_sqrt_t(0.1), 0.0, BETA2, 0.0), -1.0, 1.0)
        xs = run(opt, reddi_online(C), [0.0], T).thetas[:-1, 0]  # x_t played at step t
        out[cls.__name__] = (g * (xs + 1.0))                    # f_t(x_t) − f_t(−1)
    assert out["Adam"][-999:].mean() == pytest.approx(2 * (C - 2) / 3, rel=0.01)
    assert out["AMSGrad"][-999:].mean() < 0.01
    assert out["AMSGrad"].mean() < out["AMSGrad"][:1000].mean() / 2


def test_reddis_problem_hands_out_the_gradients_in_order_and_a_fresh_one_restarts():
    p = reddi_online(C)
    gs = [float(p.grad(np.zeros(1))[0]) for _ in range(7)]
    assert gs == [C, -1, -1, C, -1, -1, C]
    assert float(reddi_online(C).grad(np.zeros(1))[0]) == C
    assert p.f(np.array([[-1.0], [1.0]])).tolist() == [-(C - 2) / 3, (C - 2) / 3]
    with pytest.raises(ValueError, match="C > 2"):
        reddi_online(2.0)


def test_projection_clips_every_iterate_and_leaves_the_inner_state_alone():
    inner = SGD(0.5)
    opt = Projected(inner, -1.0, 1.0)
    p = reddi_online(C)
    tr = run(opt, p, [0.9], 6)
    assert tr.thetas.min() >= -1 and tr.thetas.max() <= 1
    # projection onto a box: the inner step, then clip
    xs = [0.9]
    for g in (C, -1, -1, C, -1, -1):
        xs.append(float(np.clip(xs[-1] - 0.5 * g, -1, 1)))
    assert np.allclose(tr.thetas[:, 0], xs)
    with pytest.raises(ValueError, match="must be below"):
        Projected(SGD(0.1), 1.0, -1.0)
    with pytest.raises(TypeError, match="must be an optimizer"):
        Projected(0.1, -1.0, 1.0)
