"""Zeiler (2012): Adadelta is "robust to large, sudden gradients". Measured as notebook 03 does:
each racer with its long-valley setting, one gradient at step 100 has a spike of k × ∇L(θ₀)
added. The jump SGD, Momentum and Nesterov make grows in proportion to k; Adagrad, RMSprop,
Adadelta and Adam jump by the same amount for k = 10 and k = 1000 (they divide the spike by
its own root-mean-square), RMSprop least, then Adadelta. Afterwards the spike's square stays
in Adagrad's v for good."""
import numpy as np
import pytest

from course_lib import race as R
from course_lib.optim import run
from course_lib.problems import long_valley, with_gradient_spike

AT, STEPS = 100, 200


@pytest.fixture(scope="module")
def jumps():
    track = R.tracks()["long valley"]
    settings = R.tune(track)
    p = long_valley()
    g0 = p.grad(p.x0)
    out, finals = {}, {}
    for name in R.RACERS:
        opt = R.make(name, settings[name])
        finals[name, 0] = run(opt, p, p.x0, STEPS).loss
        for k in (10, 100, 1000):
            tr = run(opt, with_gradient_spike(p, AT, k * g0), p.x0, STEPS)
            out[name, k] = float(np.linalg.norm(tr.thetas[AT] - tr.thetas[AT - 1]))
            finals[name, k] = tr.loss
    return out, finals


def test_the_momentum_methods_jump_in_proportion_to_the_spike(jumps):
    out, _ = jumps
    for name in ("SGD", "Momentum", "Nesterov"):
        assert out[name, 1000] == pytest.approx(100 * out[name, 10], rel=0.02), name


def test_the_adaptive_methods_jump_as_far_for_a_spike_10_or_1000_times_the_gradient(jumps):
    out, _ = jumps
    for name in ("Adagrad", "RMSprop", "Adadelta", "Adam"):
        assert out[name, 10] <= out[name, 1000] < 1.1 * out[name, 10], name
    assert out["RMSprop", 100] < out["Adadelta", 100] < out["Adam", 100] < out["Adagrad", 100]


def test_adagrad_never_forgets_the_spike(jumps):
    _, finals = jumps
    assert finals["Adagrad", 100] > 1e-3 > 1e100 * finals["Adagrad", 0]


def test_the_spike_hits_exactly_one_step():
    p = long_valley()
    spiked = with_gradient_spike(p, 3, [5.0, -5.0])
    theta = np.array([-1.0, 0.5])
    got = [spiked.grad(theta) - p.grad(theta) for _ in range(5)]
    assert [np.abs(d).max() for d in got] == [0, 0, 5.0, 0, 0]
    with pytest.raises(ValueError, match="≥ 1"):
        with_gradient_spike(p, 0, [1.0, 1.0])
    with pytest.raises(ValueError, match="finite"):
        with_gradient_spike(p, 1, [np.inf, 0.0])
