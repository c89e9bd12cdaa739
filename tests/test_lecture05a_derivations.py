"""Notebook 05a's SymPy derivations give what course_lib.unit_tests builds: the fit of a
Gaussian well to the value and slope where the previous piece ends, the corner of a cliff
where both segments are equally long, the mean and variance of each noise prototype (the
library's `mean_factor`), the curl's field circling the start, and the score's invariance to
a positive rescaling of f."""
import numpy as np
import pytest
import sympy as sp

from course_lib.unit_tests import scoring
from course_lib.unit_tests.noise import GaussianAdditive, GaussianMultiplicative, MaskOut
from course_lib.unit_tests.shapes import (Cliff, GaussianBowl, GaussianConvex,
                                          GaussianNonConvex, Ridge)
from derivations import run_derivation_cells, same


@pytest.fixture(scope="module")
def derived():
    """What the notebook's derivation cells define (see tests/derivations.py)."""
    return run_derivation_cells("05a_unit_tests_for_optimization", at_least=8)


@pytest.mark.parametrize("variant", [GaussianBowl(), GaussianConvex(), GaussianNonConvex()],
                         ids=lambda v: v.name)
@pytest.mark.parametrize("start", [(0.0, 1.0, 200.0, -1.0), (0.0, 1.0, 200.0, 1.0),
                                   (-2.0, 0.5, 2.0, -0.1)])
def test_the_notebooks_well_fit_is_every_gaussian_pieces(derived, variant, start):
    fit, a, b = derived["fit"], derived["a"], derived["b"]
    xs, xe, fs, s = (np.float64(v) for v in start)
    c, mu = variant.centre(xs, xe, s)
    piece, = variant.pieces(xs, xe, fs, s, None)
    values = {derived["u_s"]: xs - mu, derived["f_s"]: fs, derived["s"]: s, derived["c"]: c}
    assert np.isclose(float(fit[a].subs(values)), piece.a0, rtol=1e-12)
    assert np.isclose(float(fit[b].subs(values)), -piece.w, rtol=1e-12)


@pytest.mark.parametrize("kink, factor", [(Cliff(), -10), (Ridge(), 10)], ids=["cliff", "ridge"])
@pytest.mark.parametrize("s", [-1.0, -10.0, 1.0, -0.1])
def test_the_notebooks_equal_length_corner_is_the_librarys(derived, kink, factor, s):
    corner = derived["corner"].subs(derived["l_e"], factor * derived["l_s"])
    _, second = kink.pieces(np.float64(0.0), np.float64(1.0), np.float64(200.0),
                            np.float64(s), None)
    value = float(corner.subs({derived["x_s"]: 0.0, derived["x_e"]: 1.0, derived["l_s"]: s}))
    assert np.isclose(value, second.start, rtol=1e-12)


def test_the_notebooks_cliff_corner_is_the_equal_length_solution(derived):
    x_m, x_s, x_e, l_s = (derived[k] for k in ("x_m", "x_s", "x_e", "l_s"))
    lengths = ((derived["corner_cliff"] - x_s) * sp.sqrt(1 + l_s ** 2)
               - (x_e - derived["corner_cliff"]) * sp.sqrt(1 + 100 * l_s ** 2))
    assert same(lengths, 0)
    assert x_m not in derived["corner_cliff"].free_symbols


def test_the_notebooks_noise_moments_are_the_librarys_mean_factors(derived):
    g, sigma, p = derived["g"], derived["sigma"], derived["p"]
    moments = derived["moments"]
    assert same(moments["additive"][0], g) and same(moments["additive"][1], sigma ** 2)
    assert same(moments["multiplicative"][0], g * sp.exp(sigma ** 2 / 2))
    assert same(moments["multiplicative"][1], g ** 2 * (sp.exp(sigma ** 2) - 1)
                * sp.exp(sigma ** 2))
    assert same(moments["mask-out"][0], (1 - p) * g)
    assert same(moments["mask-out"][1], p * (1 - p) * g ** 2)
    for level in (0.1, 1.0, 10.0):
        assert np.isclose(float(derived["bias_mul"].subs(sigma, level)),
                          GaussianMultiplicative(level).mean_factor)
        assert GaussianAdditive(level).mean_factor == 1.0
    for level in (0.1, 0.5, 0.9):
        assert np.isclose(float(derived["bias_mask"].subs(p, level)), MaskOut(level).mean_factor)


def test_the_notebooks_curl_neither_pushes_nor_is_a_gradient(derived):
    assert derived["push"] == 0
    assert same(derived["curl"], 2 * derived["k_"])


def test_the_notebooks_score_is_the_librarys_and_ignores_positive_rescaling(derived):
    assert same(derived["rescaled"], derived["score"])
    rng = np.random.default_rng(0)
    f, f0, f_sgd = rng.uniform(-100, 100, (3, 20))
    assert np.allclose(derived["score_fn"](f, f0, f_sgd),
                       scoring.normalised(f - f0, f_sgd - f0))
