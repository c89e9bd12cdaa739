"""The summaries behind lecture 05a's results figures: the best class per test and optimizer,
the kinds of difficulty, the shares per group, the paper's grid, and which tests have a lower
bound."""
import numpy as np
import pytest

from course_lib.plots import new_figure
from course_lib.unit_tests import case, catalogue, evaluate, figures, scoring
from course_lib.unit_tests.harness import GRIDS, Table


def _table(rows):
    """A Table from (case, optimizer, setting, class) rows."""
    columns = list(zip(*rows))
    return Table({k: np.array(v, dtype=object)
                  for k, v in zip(("case", "optimizer", "setting", "class"), columns)})


def test_best_classes_takes_the_best_class_any_setting_reaches():
    table = _table([("a", "SGD", "1", "worse"), ("a", "SGD", "2", "comparable"),
                    ("a", "Adam", "1", "diverged"), ("a", "Adam", "2", "much better"),
                    ("b", "SGD", "1", "unscored"), ("b", "SGD", "2", "unscored"),
                    ("b", "Adam", "1", "sometimes better"), ("b", "Adam", "2", "worse")])
    cases, optimizers, best = figures.best_classes(table)
    assert cases == ["a", "b"] and optimizers == ["SGD", "Adam"]
    names = np.array(scoring.CLASSES, dtype=object)[best]
    assert names.tolist() == [["comparable", "much better"], ["unscored", "sometimes better"]]


def test_best_classes_names_an_optimizer_missing_a_case():
    table = _table([("a", "SGD", "1", "worse"), ("b", "SGD", "1", "worse"),
                    ("a", "Adam", "1", "worse")])
    with pytest.raises(ValueError, match="'Adam' has no row for case 'b'"):
        figures.best_classes(table)


def test_every_catalogue_case_falls_in_one_of_the_listed_groups():
    labels = {figures.group(c) for c in catalogue.full()}
    assert labels == set(figures.GROUPS)
    assert figures.group("quad_bowl-normal-gauss_add_10") == "1-D additive σ = 10"
    assert figures.group("quad_bowl-normal-gauss_add_0.1-offset_drift") == "1-D offset drift"
    assert figures.group("2d-cliff+line-normal:2-noiseless:2-rotated-curled") == "2-D curled"


def test_class_fractions_are_shares_of_each_groups_cases():
    best = np.array([[0, 1], [1, 1], [3, 4]])
    groups, counts, fractions = figures.class_fractions(best, ["x", "x", "y"], ["y", "x", "z"])
    assert groups == ["y", "x"] and counts.tolist() == [1, 2]
    assert np.allclose(fractions.sum(axis=-1), 1.0)
    assert fractions[1, 0, 0] == 0.5 and fractions[1, 0, 1] == 0.5
    assert fractions[0, 1, 4] == 1.0


def test_the_papers_grid_colours_every_setting_of_every_case():
    cases = ["quad_bowl-normal-noiseless", "cliff-steep-gauss_add_0.1"]
    table = evaluate(cases, GRIDS[:2], processes=1, progress=False).table()
    fig, ax = new_figure(width=8, height=2)
    figures.settings_grid(ax, table, cases)
    image = ax.get_images()[0].get_array()
    width = sum(len(g.settings) for g in GRIDS[:2]) + 3
    assert image.shape == (2, width)
    assert image.mask[:, len(GRIDS[0].settings):len(GRIDS[0].settings) + 3].all()
    assert not image.mask[:, :len(GRIDS[0].settings)].any()


def test_short_names_abbreviate_the_long_words_only():
    assert figures.short_name("quad_bowl-normal-gauss_add_0.1") == "bowl-normal-add0.1"
    assert figures.short_name("abs-steep-noiseless-offset_drift") == "abs-steep-exact-offset"


@pytest.mark.parametrize("name, bounded", [
    ("quad_bowl-normal-noiseless", True), ("line-normal-noiseless", False),
    ("ridge-steep-noiseless", False), ("relu-normal-noiseless", True),
    ("exponential-flat-noiseless", True), ("cliff-normal-noiseless", True),
    ("line-saddle-noiseless", False), ("quad_bowl-saddle-noiseless", False),
    ("2d-line:2-normal:2-noiseless:2", True)])
def test_a_test_is_bounded_below_unless_it_falls_forever_on_one_side(name, bounded):
    assert case(name).bounded_below is bounded
