"""The paper's scoring (course_lib.unit_tests.scoring): results normalised by tuned SGD's
improvement and sorted into its colour classes at its thresholds."""
import numpy as np
import pytest

from course_lib.unit_tests import scoring

F0 = 200.0
REF = -1.0  # tuned SGD improved by 1


def classify(finals):
    score, n_poor, label = scoring.classify(np.array(finals, dtype=float), F0, REF)
    return float(score), int(n_poor), label.item() if hasattr(label, "item") else label


def reps(*changes):
    """Ten final values: F0 plus the given changes, the last one repeated to fill ten."""
    changes = list(changes) + [changes[-1]] * (10 - len(changes))
    return [F0 + c for c in changes]


@pytest.mark.parametrize("finals, expected", [
    (reps(-1.0), "comparable"),                          # exactly tuned SGD: s = 1
    (reps(-2.0), "comparable"),                          # s = 2 is not yet much better
    (reps(-2.5), "much better"),
    (reps(-0.1), "worse"),                               # s = 0.1: a tenth is not enough
    (reps(+1.0), "worse"),                               # worse than the start
    (reps(*[np.nan] * 5, -1.0), "diverged"),             # half blew up: the median is inf
    (reps(*[2e10] * 6, -1.0), "diverged"),               # above 1e10 counts as diverged
    (reps(*[np.nan] * 3, -1.0), "sometimes better"),     # 3 of 10 failed: more than a quarter
    (reps(*[np.nan] * 2, -1.0), "comparable"),           # 2 of 10: reliable enough
    (reps(0.0, 0.0, 0.0, -3.0), "sometimes better"),     # good median, 3 poor repetitions
])
def test_results_fall_in_the_papers_colour_classes(finals, expected):
    assert classify(finals)[2] == expected


def test_the_score_is_the_fraction_of_tuned_sgds_improvement():
    score, n_poor, _ = classify(reps(-1.0, -1.0, -1.0, -1.0, -0.6, -0.6, -0.05))
    assert score == pytest.approx(0.6)  # the median of the changes is −0.6
    assert n_poor == 4                  # four repetitions at −0.05: below 0.1 of SGD's


def test_a_test_without_a_yardstick_is_unscored():
    sgd = np.array([[0.0, 0.3, np.inf]])  # no learning rate improves on the start
    ref = scoring.reference_change(sgd)
    assert np.isnan(ref).all()
    _, _, label = scoring.classify(np.array(reps(-1.0)), F0, ref[0])
    assert label == "unscored"
    assert scoring.reference_change(np.array([[0.1, -0.3, -2.0]]))[0] == -2.0


def test_values_beyond_1e10_are_capped_as_in_the_papers_code():
    assert scoring.clamp([np.nan, 3e10, -5e12, 1.0]).tolist() == [np.inf, np.inf, -1e10, 1.0]
    # an unbounded descent is a large improvement, not a divergence
    assert classify(reps(-1e13))[2] == "much better"


def test_every_class_has_the_papers_colour():
    assert set(scoring.COLOURS) == set(scoring.CLASSES)
    assert (scoring.POOR, scoring.MUCH_BETTER, scoring.UNRELIABLE, scoring.HUGE) == \
        (0.1, 2.0, 0.25, 1e10)
