"""Lecture 05a's explorer: the harness's runs of one optimizer on one 1-D unit test, classed
as the paper's scoring does."""
import numpy as np
import pytest

from course_lib.unit_tests import GRIDS, evaluate
from course_lib.unit_tests.explorer import TESTS, runs, unit_test_explorer


def test_the_explorers_verdict_is_the_harness_class_for_a_setting_of_the_grid():
    test = "cliff-steep-gauss_add_0.1"
    live = unit_test_explorer(test=test, optimizer="Adam", eta=0.1)
    adam = next(g for g in GRIDS if g.name == "Adam")
    table = evaluate([test], grids=(GRIDS[0], adam), processes=1, progress=False).table()
    row = table.select(optimizer="Adam", setting="eta=0.1 beta1=0.9 beta2=0.999")
    assert f": {row['class'][0]}, score {row['score'][0]:.2f}" in live.alt


def test_the_explorers_runs_are_the_harness_runs():
    test = "quad_bowl-normal-gauss_add_10"
    sgd = GRIDS[0]
    eta = sgd.settings[30]["eta"]
    _, trace = runs(test, "SGD", eta)
    table = evaluate([test], grids=(sgd,), processes=1, progress=False).table()
    row = table.select(setting=sgd.labels[30])
    median_change = np.median(trace.losses[-1]) - trace.losses[0, 0]
    assert np.isclose(median_change, row["median_change"][0], rtol=1e-12)


def test_moving_a_control_redraws_the_figure_and_its_alt_text():
    live = unit_test_explorer()
    before, png = live.alt, live.png()
    live.controls["optimizer"].value = "momentum"
    assert live.alt != before and "momentum" in live.alt
    assert live.png() != png


@pytest.mark.parametrize("kwargs, message", [
    ({"test": "2d-quad_bowl:2-normal:2-gauss_add_0.1:2-rotated"}, "choose one of"),
    ({"test": "quad_bowl-normal-noiseless", "optimizer": "Lion"}, "unknown optimizer")])
def test_tests_and_optimizers_it_cannot_draw_are_refused_with_the_choices(kwargs, message):
    with pytest.raises(ValueError, match=message):
        if "optimizer" in kwargs:
            runs(kwargs["test"], kwargs["optimizer"], 0.1)
        else:
            unit_test_explorer(**kwargs)


def test_the_explorer_offers_the_quick_subsets_one_dimensional_tests():
    assert "quad_bowl-normal-gauss_add_0.1" in TESTS and all(not t[0].isdigit() for t in TESTS)
