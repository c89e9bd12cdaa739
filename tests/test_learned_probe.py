"""The probes read off the hand-designed rules what lectures 02–03 derived: SGD's step size is
η at every |g|, heavy-ball momentum's impulse response is µᵗ and it damps an alternating
gradient, RMSprop's step does not depend on |g|."""
import numpy as np
import pytest

from course_lib.learned import probe
from course_lib.optim import SGD, Adam, Momentum, RMSprop


def test_sgd_step_size_is_eta_at_every_gradient_size():
    sizes = probe.step_size(SGD(0.05), np.geomspace(1e-3, 1e3, 7), T=5)
    np.testing.assert_allclose(sizes, 0.05, rtol=1e-12)


def test_momentum_memory_is_mu_to_the_t():
    mem = probe.memory(Momentum(0.1, 0.8), T=10)
    np.testing.assert_allclose(mem, 0.8 ** np.arange(10), rtol=1e-12)


def test_sgd_has_no_memory_and_does_not_damp_oscillation():
    np.testing.assert_allclose(probe.memory(SGD(0.1), T=5), [1, 0, 0, 0, 0], atol=1e-15)
    assert probe.damping(SGD(0.1)) == pytest.approx(1.0)


def test_momentum_damps_an_alternating_gradient_by_its_steady_state_factor():
    mu = 0.9
    assert probe.damping(Momentum(0.1, mu), T=400) == pytest.approx((1 - mu) / (1 + mu),
                                                                     rel=1e-2)


def test_rmsprop_step_does_not_depend_on_the_gradient_size():
    sizes = probe.step_size(RMSprop(0.01, 0.9, eps=0.0), np.geomspace(1e-3, 1e3, 7), T=30)
    steps = np.abs(sizes[-1] * np.geomspace(1e-3, 1e3, 7))
    np.testing.assert_allclose(steps, steps[0], rtol=1e-9)


def test_growing_gradient_response_follows_sgd_and_levels_off_for_adam():
    g, sgd = probe.scale_response(SGD(0.1), g0=1e-3, rate=1.5, T=20)
    np.testing.assert_allclose(sgd, -0.1 * g, rtol=1e-12)
    _, adam = probe.scale_response(Adam(0.1, eps=0.0), g0=1e-3, rate=1.5, T=20)
    # the gradient grows 1.5¹⁹ ≈ 2,200-fold; Adam's step by less than 3-fold
    assert np.abs(adam).max() < 3 * np.abs(adam).min()


def test_responses_take_one_sequence_per_column_and_refuse_other_shapes():
    steps = probe.responses(SGD(1.0), np.ones((4, 3)))
    assert steps.shape == (4, 3)
    with pytest.raises(ValueError, match=r"grads\[:, None\]"):
        probe.responses(SGD(1.0), np.ones(4))
