"""Gradient preprocessing of Andrychowicz et al. (2016, appendix A), p = 10."""
import numpy as np
import pytest

from course_lib.learned.preprocess import P, preprocess


def test_large_gradient_becomes_log_magnitude_over_p_and_sign():
    g = np.array([3.0, -0.5, 1e4])
    x = preprocess(g)
    np.testing.assert_allclose(x[..., 0], np.log(np.abs(g)) / P)
    np.testing.assert_array_equal(x[..., 1], np.sign(g))


def test_tiny_gradient_becomes_minus_one_and_scaled_value():
    g = np.array([1e-6, -2e-7, 0.0])
    x = preprocess(g)
    np.testing.assert_array_equal(x[..., 0], -1.0)
    np.testing.assert_allclose(x[..., 1], np.exp(P) * g)


def test_both_branches_meet_at_the_threshold():
    cut = np.exp(-P)
    below, above = preprocess(np.array([cut * (1 - 1e-9), -cut * (1 - 1e-9)])), \
        preprocess(np.array([cut, -cut]))
    np.testing.assert_allclose(below, above, atol=1e-8)


def test_inputs_stay_of_order_one_over_twenty_decades():
    x = preprocess(np.geomspace(1e-10, 1e10, 201) * np.resize([1, -1], 201))
    assert np.all(np.abs(x) <= 2.31)


def test_shape_gains_a_last_axis_of_two_and_input_is_not_changed():
    g = np.random.default_rng(0).normal(size=(3, 4, 5))
    copy = g.copy()
    assert preprocess(g).shape == (3, 4, 5, 2)
    np.testing.assert_array_equal(g, copy)


def test_p_sets_the_threshold():
    # |g| = 1e-3 is above e^-10 but below e^-5
    assert preprocess(np.array([1e-3]), p=10.0)[0, 0] > -1.0
    assert preprocess(np.array([1e-3]), p=5.0)[0, 0] == -1.0


@pytest.mark.parametrize("p", [0.0, -1.0, np.array([1.0, 2.0])])
def test_nonpositive_or_array_p_is_refused_with_a_message(p):
    with pytest.raises(ValueError, match="p must be a positive number"):
        preprocess(np.ones(3), p=p)
