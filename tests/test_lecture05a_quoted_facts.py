"""The numbers lecture 05a's Markdown quotes without printing them are the library's: the
scales, the drift constants, the yardstick's grid, the run length, the kinks' factors."""
import numpy as np

from course_lib.unit_tests import GRIDS
from course_lib.unit_tests.harness import REFERENCE, REPETITIONS, STEPS
from course_lib.unit_tests.nonstationary import EVERY, NoiseDrift, OffsetDrift, ScaleDrift
from course_lib.unit_tests.scales import SCALES
from course_lib.unit_tests.shapes import PROTOTYPES, Cliff, Ridge


def test_the_scales_the_lecture_quotes():
    quoted = {"normal": (0, 1, 200, -1), "steep": (0, 1, 200, -10), "saddle": (0, 1, 200, 1),
              "flat": (0, 1, 2, -0.1)}
    assert {name: (s.xs, s.xe, s.fs, s.fprime) for name, s in SCALES.items()} == quoted


def test_the_drifts_the_lecture_quotes():
    assert EVERY == 10
    assert (ScaleDrift.sigma, NoiseDrift.sigma, OffsetDrift.sigma) == (0.1, 0.5, 0.1)


def test_the_yardstick_and_the_run_length_the_lecture_quotes():
    sgd = next(g for g in GRIDS if g.name == REFERENCE)
    etas = [s["eta"] for s in sgd.settings]
    assert sgd is GRIDS[0] and len(etas) == 34
    assert np.isclose(min(etas), 1e-10) and max(etas) == 1.0
    assert (REPETITIONS, STEPS) == (10, 100) and len(GRIDS) == 8


def test_the_prototypes_and_kinks_the_lecture_quotes():
    assert len(PROTOTYPES) == 15
    assert (Cliff.factor, Ridge.factor) == (-10.0, 10.0)
