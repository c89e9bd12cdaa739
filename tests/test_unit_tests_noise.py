"""Noise of the unit tests (course_lib.unit_tests.noise, .problem): on average each noisy
gradient equals the true gradient, or the documented positive multiple of it for the noises
biased by design; Cauchy and strong multiplicative noise are unbiased in the median; mask-out
really masks; every repetition draws from its own stream.

The statistical checks draw a few thousand repetitions from a fixed seed (so they give the same
verdict every run) and allow 5 standard errors (a true claim fails them with probability below
1e-6 for a fresh seed)."""
import math

import numpy as np
import pytest

from course_lib.unit_tests import case
from course_lib.unit_tests.noise import NOISES, MaskOut, noise

N = 2000
Z = 5.0


def samples(name, *, ticks=0, at=0.3, repetitions=N):
    """(noisy gradients (N, d), the noise-free field (d,)) of case ``name`` at θ = ``at`` in
    every coordinate, after ``ticks`` earlier evaluations."""
    problem = case(name).problem(repetitions=repetitions, seed=11)
    theta = np.full((repetitions, problem.d), at)
    for _ in range(ticks):
        problem.grad(theta)
    field = problem.field(theta)
    g = problem.grad(theta)
    assert np.all(field == field[0]), "every repetition has the same noise-free field"
    return g, field[0]


def assert_mean(g, expected, what):
    se = g.std(axis=0, ddof=1) / math.sqrt(len(g))
    z = (g.mean(axis=0) - expected) / se
    assert np.all(np.abs(z) <= Z), f"{what}: mean off by {z} standard errors"


def assert_median(g, expected, what):
    """P(g̃ ≤ g) = ½: the true gradient is the median of the noisy one (a sign test)."""
    below = np.mean(g <= expected, axis=0)
    assert np.all(np.abs(below - 0.5) <= Z * 0.5 / math.sqrt(len(g))), \
        f"{what}: {below} of the draws fall below the true gradient, not half"


UNBIASED = ["quad_bowl-normal-gauss_add_0.01", "quad_bowl-normal-gauss_add_0.1",
            "gauss_bowl-steep-gauss_add_10", "quad_convex.line-flat-gauss_add_0.1-scale_drift",
            "2d-abs+quad_bowl-steep+normal-gauss_add_0.01+gauss_add_10-rotated-curled",
            "10d-quad_bowl:10-saddle:10-gauss_add_0.1:10"]


@pytest.mark.parametrize("name", UNBIASED)
def test_the_mean_noisy_gradient_equals_the_true_gradient(name):
    g, field = samples(name)
    assert_mean(g, field, name)


def test_a_drifting_noise_level_keeps_the_mean():
    g, field = samples("abs-normal-gauss_add_10-noise_drift", ticks=25)
    assert_mean(g, field, "noise drift, period 2")


@pytest.mark.parametrize("name", ["gauss_mul_0.1", "gauss_mul_1", "mask_0.1", "mask_0.9"])
def test_noise_biased_by_design_scales_the_mean_by_the_documented_factor(name):
    g, field = samples(f"line-normal-{name}")
    factor = NOISES[name].mean_factor
    assert factor == {"gauss_mul_0.1": math.exp(0.005), "gauss_mul_1": math.exp(0.5),
                      "mask_0.1": 0.9, "mask_0.9": pytest.approx(0.1)}[name]
    assert not NOISES[name].unbiased
    assert_mean(g, factor * field, name)


@pytest.mark.parametrize("name", ["cauchy_1", "gauss_mul_10"])
def test_cauchy_and_strong_multiplicative_noise_are_unbiased_in_the_median(name):
    g, field = samples(f"quad_bowl-flat-{name}")
    assert_median(g, field, name)
    if name == "cauchy_1":
        assert NOISES[name].mean_factor is None  # no mean to be unbiased in
        assert np.max(np.abs(g)) > 100 * np.abs(field).max()  # the outliers are there


@pytest.mark.parametrize("p", [0.1, 0.9])
def test_mask_out_really_masks(p):
    g, field = samples(f"quad_bowl-normal-mask_{p:g}")
    zero = g == 0
    assert abs(zero.mean() - p) <= Z * math.sqrt(p * (1 - p) / len(g))
    assert np.all(g[~zero] == field)  # what is not masked passes unchanged


def test_noiseless_gradients_are_exact():
    g, field = samples("quad_convex.relu.bend.line-steep-noiseless", repetitions=3)
    assert np.array_equal(g, np.broadcast_to(field, g.shape))


def test_every_repetition_draws_from_its_own_stream():
    few, _ = samples("quad_bowl-normal-gauss_add_0.1", repetitions=3)
    many, _ = samples("quad_bowl-normal-gauss_add_0.1", repetitions=7)
    assert np.array_equal(few, many[:3])  # repetition r is the same however many there are
    assert len(np.unique(many)) == 7


def test_additive_noise_is_independent_from_one_evaluation_to_the_next():
    problem = case("line-normal-gauss_add_10").problem(repetitions=N, seed=3)
    theta = np.zeros((N, 1))
    a, b = problem.grad(theta)[:, 0], problem.grad(theta)[:, 0]
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r) <= Z / math.sqrt(N)


def test_noise_names_read_back_and_bad_ones_are_explained():
    for name in NOISES:
        assert noise(name).name == name
    assert noise("gauss_add_0.30").name == "gauss_add_0.3"
    with pytest.raises(ValueError, match="unknown noise 'gaussian'.*gauss_add_0.1"):
        noise("gaussian")
    with pytest.raises(ValueError, match="probability"):
        MaskOut(1.5)
    with pytest.raises(ValueError, match="positive"):
        noise("gauss_add_0")
