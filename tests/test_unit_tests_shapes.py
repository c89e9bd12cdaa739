"""The 1-D shapes of the unit tests (course_lib.unit_tests.shapes): every prototype starts with
the value and slope it is given and ends where the paper's code puts it; every shape of the
catalogue is continuous in value and slope at each junction, at every scale and under a
drifted slope; the slope is the derivative of the value."""
import numpy as np
import pytest

from course_lib.unit_tests import catalogue
from course_lib.unit_tests.scales import SCALES, Scale, scale
from course_lib.unit_tests.shapes import PROTOTYPES, Shape

#: every scale, each with its slope as built and drifted down and up (scale_drift)
_SC = list(SCALES.values())
_FACTORS = np.array([np.exp(-0.3), 1.0, np.exp(0.3)])
XS, XE, FS = (np.array([getattr(s, a) for s in _SC])[:, None] for a in ("xs", "xe", "fs"))
FPRIME = np.array([s.fprime for s in _SC])[:, None] * _FACTORS


def catalogue_shapes():
    names = set()
    for c in catalogue.full():
        names.update(s.name for s in c.shapes)
    return sorted(names)


def test_the_catalogue_uses_every_prototype():
    used = {p for name in catalogue_shapes() for p in name.split(".")}
    assert used == set(PROTOTYPES)


@pytest.mark.parametrize("name", catalogue_shapes())
def test_value_and_slope_are_continuous_at_every_junction_of_every_catalogue_shape(name):
    shape = Shape.parse(name)
    curve = shape.build(XS, XE, FS, FPRIME)
    assert len(curve.junctions) == len(shape.prototypes) - 1
    for k, i in enumerate(curve.junctions, start=1):
        x = np.broadcast_to(curve.pieces[i].start, curve.shape)
        # junctions sit at the ends of equal shares of [xs, xe]
        np.testing.assert_allclose(x, np.broadcast_to(XS + k * (XE - XS) / len(shape.prototypes),
                                                      x.shape), rtol=1e-12)
        f_left, g_left = curve.piece_value_and_slope(i - 1, x)
        f_right, g_right = curve.piece_value_and_slope(i, x)
        np.testing.assert_allclose(f_right, f_left, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name}: value jumps at junction {k}")
        np.testing.assert_allclose(g_right, g_left, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name}: slope jumps at junction {k}")
        # and the evaluation of the whole curve agrees with the piece on the right
        f, g = curve.value_and_slope(x)
        np.testing.assert_allclose(f, f_right, rtol=1e-13)
        np.testing.assert_allclose(g, g_right, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", sorted(set(PROTOTYPES) - {"bend"}))
def test_every_prototype_starts_with_the_value_and_slope_it_is_given(name):
    curve = Shape([name]).build(XS, XE, FS, FPRIME)
    f, g = curve.value_and_slope(np.broadcast_to(XS, curve.shape))
    np.testing.assert_allclose(f, np.broadcast_to(FS, curve.shape), rtol=1e-12)
    np.testing.assert_allclose(g, np.broadcast_to(FPRIME, curve.shape), rtol=1e-9)


def test_a_bend_starts_flat_and_bends_into_the_scales_slope():
    curve = Shape(["bend"]).build(0.0, 1.0, 200.0, -1.0)
    assert curve.slope(0.0) == 0.0 and curve.slope(1.0) == -1.0
    assert curve.value(0.2) == 200.0  # still on the plateau


# (prototype, scale, slope at xe / slope at xs): where the paper's code puts each prototype
ENDS = [("line", "normal", 1.0), ("quad_bowl", "normal", -1.0), ("quad_bowl", "saddle", -1.0),
        ("quad_convex", "normal", 0.1), ("quad_convex", "saddle", 10.0),
        ("exponential", "normal", 1e-3), ("exponential", "flat", 1e-3),
        ("gauss_bowl", "steep", -1.0), ("laplace_bowl", "normal", -1.0),
        ("abs", "normal", -1.0), ("relu", "steep", 0.0), ("cliff", "normal", -10.0),
        ("cliff", "saddle", -10.0), ("ridge", "flat", 10.0)]


@pytest.mark.parametrize("name, scale_name, ratio", ENDS)
def test_each_prototype_ends_with_the_slope_the_paper_gives_it(name, scale_name, ratio):
    s = scale(scale_name)
    curve = Shape([name]).build(s.xs, s.xe, s.fs, s.fprime)
    assert curve.slope(s.xe) == pytest.approx(ratio * s.fprime, rel=1e-9, abs=1e-15)


def test_symmetric_prototypes_end_at_the_height_they_start():
    for name in ("quad_bowl", "gauss_bowl", "laplace_bowl", "abs"):
        curve = Shape([name]).build(0.0, 1.0, 200.0, -1.0)
        assert curve.value(1.0) == pytest.approx(200.0, rel=1e-12), name


def test_the_gaussian_flanks_meet_at_the_inflection_point():
    """Non-convex from 4c out to c/√2, convex from there on: the curvature changes sign
    exactly at the junction of gauss_nonconvex.gauss_convex."""
    curve = Shape.parse("gauss_nonconvex.gauss_convex").build(0.0, 1.0, 200.0, -1.0)
    j = float(curve.pieces[1].start)
    h = 1e-4
    curvature = [(curve.slope(x + h) - curve.slope(x - h)) / (2 * h)
                 for x in (j - 0.05, j + 0.05)]
    assert curvature[0] < 0 < curvature[1]


def test_a_kink_keeps_the_value_and_breaks_the_slope_at_equal_segment_lengths():
    for name, factor in (("abs", -1.0), ("relu", 0.0), ("cliff", -10.0), ("ridge", 10.0)):
        curve = Shape([name]).build(0.0, 1.0, 200.0, -1.0)
        xm = float(curve.pieces[1].start)
        f_left, g_left = curve.piece_value_and_slope(0, xm)
        f_right, g_right = curve.piece_value_and_slope(1, xm)
        assert f_left == pytest.approx(f_right, rel=1e-14)
        assert (g_left, g_right) == (-1.0, pytest.approx(-factor))
        # the two segments have the same length
        left = xm * np.hypot(1, g_left)
        right = (1 - xm) * np.hypot(1, g_right)
        assert left == pytest.approx(right, rel=1e-12), name


@pytest.mark.parametrize("name", catalogue_shapes())
def test_the_slope_is_the_derivative_of_the_value(name, rng):
    curve = Shape.parse(name).build(0.0, 1.0, 200.0, -1.0)
    # points inside pieces, away from junctions, kinks and Laplace tips
    breaks = [float(p.start) for p in curve.pieces[1:]] + \
        [float(p.at) for p in curve.pieces if np.any(np.asarray(p.kabs) != 0)]
    x = rng.uniform(-0.2, 1.2, 400)
    h = 1e-6
    x = x[np.min(np.abs(x[:, None] - np.array(breaks + [9.0])), axis=1) > 10 * h]
    numeric = (curve.value(x + h) - curve.value(x - h)) / (2 * h)
    f, g = curve.value_and_slope(x)
    scale_ = 1 + np.abs(f) / h * 1e-15 + np.abs(g)
    assert np.all(np.abs(numeric - g) <= 1e-5 * scale_)


def test_a_batch_of_scales_builds_the_same_curves_as_one_at_a_time():
    shape = Shape.parse("quad_convex.relu.bend.quad_bowl")
    batch = shape.build(XS, XE, FS, FPRIME)
    x = np.linspace(-0.5, 1.5, 41)[:, None, None]
    fb, gb = batch.value_and_slope(x)
    for i, s in enumerate(_SC):
        for j, factor in enumerate(_FACTORS):
            one = shape.build(s.xs, s.xe, s.fs, s.fprime * factor)
            f, g = one.value_and_slope(x[:, 0, 0])
            np.testing.assert_allclose(fb[:, i, j], f, rtol=1e-14)
            np.testing.assert_allclose(gb[:, i, j], g, rtol=1e-14, atol=1e-15)


def test_a_bend_after_a_slope_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="must start flat.*relu"):
        Shape.parse("line.bend").build(0.0, 1.0, 200.0, -1.0)


def test_a_cliff_on_a_plateau_is_refused():
    with pytest.raises(ValueError, match="cliff.*slope is 0"):
        Shape.parse("relu.cliff").build(0.0, 1.0, 200.0, -1.0)


def test_unknown_prototypes_and_scales_name_the_known_ones():
    with pytest.raises(ValueError, match="unknown prototype 'bowl'.*quad_bowl"):
        Shape.parse("bowl")
    with pytest.raises(ValueError, match="unknown scale 'huge'.*normal, steep, saddle, flat"):
        scale("huge")
    with pytest.raises(ValueError, match="xs < xe"):
        Scale("backwards", 1.0, 0.0, 1.0, -1.0)
    with pytest.raises(ValueError, match="left to right"):
        Shape(["line"]).build(1.0, 0.0, 1.0, -1.0)
