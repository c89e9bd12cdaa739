"""The digits MLP of the network experiment: back-propagation against autograd, batched runs,
and a short meta-training on it that runs."""
import numpy as np
import pytest
from autograd import elementwise_grad

from course_lib.learned import mlp


@pytest.fixture(scope="module")
def digits():
    return mlp.Digits(0, split="test")


def test_backpropagation_equals_autograd(digits):
    theta = mlp.glorot(np.random.default_rng(1), shape=(3,))
    X, Y = digits.X[:40], digits.Y[:40]
    by_hand = digits.batch_grad(theta, X, Y)
    auto = elementwise_grad(lambda t: digits.loss(t, X, Y).sum())(theta)
    np.testing.assert_allclose(by_hand, auto, rtol=1e-9, atol=1e-12)


def test_network_has_twenty_sigmoid_units_and_1510_parameters(digits):
    assert digits.hidden == 20 and digits.dim == 65 * 20 + 21 * 10


def test_minibatch_streams_repeat_from_their_seed():
    theta = mlp.glorot(np.random.default_rng(2), shape=(2,))
    a, b = mlp.Digits(5, split="train"), mlp.Digits(5, split="train")
    np.testing.assert_array_equal(a.grad(theta), b.grad(theta))
    c = mlp.Digits(5, split="test")
    assert not np.array_equal(a.grad(theta), c.grad(theta))


def test_unknown_split_is_refused_with_a_message():
    with pytest.raises(ValueError, match="use one of"):
        mlp.Digits(0, split="validation")
