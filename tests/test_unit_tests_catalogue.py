"""The catalogue of unit tests (course_lib.unit_tests.catalogue): its size against the paper's
code, stable names that read back to their cases, a quick subset that touches every kind of
difficulty, batches that depend on the cases alone, and clear errors for names that are not
cases."""
import collections

import pytest

from course_lib.unit_tests import catalogue
from course_lib.unit_tests.catalogue import Case, batches, case, full, quick, select
from course_lib.unit_tests.noise import NOISES, noise
from course_lib.unit_tests.nonstationary import NoiseDrift
from course_lib.unit_tests.scales import scale
from course_lib.unit_tests.shapes import Shape


def test_the_catalogue_has_the_papers_expansion_less_its_duplicates_plus_what_it_dropped():
    diff = catalogue.paper_differences()
    assert diff == {"paper": 3940, "duplicates_left_out": 244,
                    "dropped_by_its_parser_added": 36, "catalogue": 3732}
    assert 3940 - 244 + 36 == len(full())
    assert collections.Counter(c.dim for c in full()) == {1: 3404, 2: 188, 10: 140}


def test_every_name_is_unique_and_reads_back_to_its_case():
    names = [c.name for c in full()]
    assert len(set(names)) == len(names)
    for c in full()[::7]:
        assert case(c.name) == c


@pytest.mark.parametrize("name", [
    "quad_bowl-normal-gauss_add_0.1",
    "quad_convex.relu.bend.line-steep-noiseless-offset_drift",
    "10d-abs+quad_bowl:9-normal+saddle:9-gauss_add_0.1:10",
    "2d-cliff+line-normal:2-noiseless:2-rotated-curled"])
def test_names_follow_the_documented_grammar(name):
    assert name in {c.name for c in full()}
    c = case(name)
    assert c.name == name
    assert c.dim == (1 if not name[0].isdigit() else int(name.split("d-")[0]))


def test_a_case_is_composed_of_its_parts():
    c = Case((Shape.parse("abs"), Shape.parse("quad_bowl")), (scale("normal"), scale("steep")),
             (noise("gauss_add_0.01"), noise("gauss_add_10")), rotated=True)
    assert c.name == "2d-abs+quad_bowl-normal+steep-gauss_add_0.01+gauss_add_10-rotated"
    assert c.noise_kind == "gauss_add"
    assert c.structure == (("abs", "quad_bowl"), True, False)


def test_the_quick_subset_touches_every_dimension_noise_drift_rotation_and_curl():
    q = quick()
    assert {c.dim for c in q} == {1, 2, 10}
    assert {n.kind for c in q for n in c.noises} == {n.kind for n in NOISES.values()}
    assert {c.nonstationarity.name for c in q} == {"stationary", "scale_drift", "noise_drift",
                                                   "offset_drift"}
    assert any(c.rotated for c in q) and any(c.curled for c in q)
    assert set(q) <= set(full())


def test_batches_hold_one_structure_and_every_case_once():
    cases = full()
    chunks = batches(cases, max_cases=64)
    assert sorted(c.name for chunk in chunks for c in chunk) == sorted(c.name for c in cases)
    assert all(len({c.structure for c in chunk}) == 1 and len(chunk) <= 64 for chunk in chunks)
    # a group is split evenly, not into a full chunk and a remainder
    sizes = collections.defaultdict(list)
    for chunk in chunks:
        sizes[chunk[0].structure].append(len(chunk))
    assert all(max(s) - min(s) <= 1 for s in sizes.values())
    assert batches(cases, max_cases=64) == chunks


def test_select_matches_shell_patterns():
    rotated = select(["*-rotated*"])
    assert rotated and all(c.rotated for c in rotated)
    assert [c.name for c in select("quad_bowl-normal-gauss_add_0.1")] == \
        ["quad_bowl-normal-gauss_add_0.1"]
    with pytest.raises(ValueError, match="no case matches.*names look like"):
        select(["nothing-*"])


@pytest.mark.parametrize("name, message", [
    ("", "give a case name"),
    ("quad_bowl-normal", "SHAPE-SCALE-NOISE"),
    ("bowl-normal-noiseless", "unknown prototype 'bowl'"),
    ("quad_bowl-huge-noiseless", "unknown scale 'huge'"),
    ("quad_bowl-normal-loud", "unknown noise 'loud'"),
    ("quad_bowl-normal-noiseless-wobbly", "unknown suffix 'wobbly'"),
    ("2d-abs-normal:2-noiseless:2", "1 shapes for 2 coordinates"),
    ("2d-abs:1+abs:1-normal:2-noiseless:2", "is written '2d-abs:2-normal:2-noiseless:2'"),
    ("quad_bowl-normal-noiseless-rotated", "at least 2 coordinates"),
    ("quad_bowl-normal-noiseless-noise_drift", "noise drift needs a noise"),
])
def test_names_that_are_not_cases_are_refused_with_the_reason(name, message):
    with pytest.raises(ValueError, match=message):
        case(name)


def test_a_case_needs_one_shape_scale_and_noise_per_coordinate():
    with pytest.raises(ValueError, match="one shape, scale and noise per coordinate"):
        Case((Shape.parse("abs"),), (scale("normal"), scale("normal")), (noise("noiseless"),))
    with pytest.raises(TypeError, match="expected Noise"):
        Case((Shape.parse("abs"),), (scale("normal"),), ("noiseless",))
    with pytest.raises(ValueError, match="noise drift"):
        Case((Shape.parse("abs"),), (scale("normal"),), (noise("mask_0.1"),), NoiseDrift())
