"""The catalogue of unit tests (Schaul, Antonoglou & Silver 2014) and its stable names.

A `Case` is one unit test: per coordinate a shape (`shapes`), a scale (`scales`) and a noise
(`noise`); a non-stationarity (`nonstationary`); in several dimensions the sum of the
coordinates' tests, optionally rotated and curled (`combine`). ``case.problem()`` makes it a
stochastic `Problem`.

Names. A 1-D case is ``SHAPE-SCALE-NOISE[-DRIFT]``, e.g. ``quad_bowl-normal-gauss_add_0.1`` or
``quad_convex.relu.bend.line-steep-noiseless-offset_drift`` (a shape's prototypes are joined
by dots). A case in d dimensions is ``Dd-SHAPES-SCALES-NOISES[-DRIFT][-rotated][-curled]``, each
list giving the coordinates left to right as ``ITEM[:COUNT]`` joined by ``+``, e.g.
``10d-abs+quad_bowl:9-normal+saddle:9-gauss_add_0.1:10-rotated``. ``case(name)`` reads a name
back; names are the keys of the results table and never change.

The full expansion follows the paper's public code (optimBench, ``function_definitions.lua``),
which lists 45 one-dimensional shapes and 30 multi-dimensional combinations with the noises,
scales, rotations, curls and drifts each is expanded over. Expanded as written it gives 3940
names (`PAPER_EXPANSION`). Two things differ here, both counted by `paper_differences()`:

- 244 of those names are duplicates: the code leaves a noise drift out on a noiseless or a
  mask-out test (there is no noise level to drift), which then equals its stationary twin.
  Here those combinations are not listed.
- In 7 multi-dimensional rows one scale is written without a dimension count (``normal``
  where ``normal|2|`` is meant), and the code's parser expands such an entry to nothing: 36
  tests the table meant to have are missing. Here they are listed.

So the catalogue has 3940 − 244 + 36 = 3732 cases: "several thousand", as the paper says.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

from .noise import NOISES, Noise, noise
from .nonstationary import NONSTATIONARITIES, Nonstationarity, Stationary, nonstationarity
from .scales import SCALES, Scale, scale
from .shapes import Shape

__all__ = ["Case", "case", "full", "quick", "select", "batches", "PAPER_EXPANSION",
           "paper_differences"]

#: names optimBench's function_definitions.lua expands to (its 45 + 30 rows, as written)
PAPER_EXPANSION = 3940


def _runs(items) -> list:
    """[(item, count), …] for consecutive equal items."""
    out = []
    for item in items:
        if out and out[-1][0] == item:
            out[-1][1] += 1
        else:
            out.append([item, 1])
    return [tuple(x) for x in out]


@dataclass(frozen=True)
class Case:
    """One unit test. ``shapes``, ``scales``, ``noises``: one per coordinate."""
    shapes: tuple
    scales: tuple
    noises: tuple
    nonstationarity: Nonstationarity = field(default_factory=Stationary)
    rotated: bool = False
    curled: bool = False

    def __post_init__(self):
        d = len(self.shapes)
        if not (len(self.scales) == len(self.noises) == d) or d == 0:
            raise ValueError(f"Case: give one shape, scale and noise per coordinate; got "
                             f"{len(self.shapes)} shapes, {len(self.scales)} scales, "
                             f"{len(self.noises)} noises.")
        for what, items, cls in (("shapes", self.shapes, Shape), ("scales", self.scales, Scale),
                                 ("noises", self.noises, Noise)):
            for item in items:
                if not isinstance(item, cls):
                    raise TypeError(f"Case({what}=...): expected {cls.__name__} objects, got "
                                    f"{item!r}.")
        if (self.rotated or self.curled) and d < 2:
            raise ValueError("a rotation or a curl needs at least 2 coordinates.")
        drift = self.nonstationarity
        if drift.name == "noise_drift" and not any(n.drifts for n in self.noises):
            raise ValueError(f"{self.name}: a noise drift needs a noise with a level to drift "
                             "(not noiseless or mask-out); the paper's code leaves such a case "
                             "stationary.")

    @property
    def dim(self) -> int:
        return len(self.shapes)

    @property
    def structure(self) -> tuple:
        """What cases batched into one problem must share: dimension, shapes, rotation, curl."""
        return (tuple(s.name for s in self.shapes), self.rotated, self.curled)

    @property
    def name(self) -> str:
        drift = self.nonstationarity.name
        flags = ([] if drift == "stationary" else [drift]) + \
            (["rotated"] if self.rotated else []) + (["curled"] if self.curled else [])
        if self.dim == 1:
            parts = [self.shapes[0].name, self.scales[0].name, self.noises[0].name]
        else:
            def listing(items):
                return "+".join(name if k == 1 else f"{name}:{k}"
                                for name, k in _runs([i.name for i in items]))
            parts = [f"{self.dim}d", listing(self.shapes), listing(self.scales),
                     listing(self.noises)]
        return "-".join(parts + flags)

    @property
    def bounded_below(self) -> bool:
        """Whether the landscape has a lower bound. In several dimensions always
        (f = Σᵢ |F_i| ≥ 0); in one, unless the curve goes down forever on one side (a line, a
        ridge or a bend at an end), where going further always scores better: f still falls
        by more than |f'(xs)| between 10³ and 10⁶ intervals out."""
        if self.dim > 1:
            return True
        sc = self.scales[0]
        curve = self.shapes[0].build(sc.xs, sc.xe, sc.fs, sc.fprime)
        width = sc.xe - sc.xs
        with np.errstate(over="ignore", invalid="ignore"):
            near = curve.value(np.array([sc.xs - 1e3 * width, sc.xe + 1e3 * width]))
            far = curve.value(np.array([sc.xs - 1e6 * width, sc.xe + 1e6 * width]))
        return not bool(np.any(far < near - abs(sc.fprime)))

    @property
    def noise_kind(self) -> str:
        """The noise's kind if every coordinate has the same kind, else 'mixed'."""
        kinds = {n.kind for n in self.noises}
        return kinds.pop() if len(kinds) == 1 else "mixed"

    def __repr__(self):
        return f"Case({self.name!r})"

    def problem(self, repetitions: int = 10, seed: int = 0):
        """This test as a stochastic `Problem` (`problem.UnitTestProblem`): θ of shape
        (..., R, d) for R = ``repetitions`` > 1, (..., d) for 1."""
        from .problem import UnitTestProblem
        return UnitTestProblem([self], repetitions=repetitions, seed=seed)


def _parse_list(text: str, d: int, make, what: str, name: str) -> tuple:
    items = []
    for part in text.split("+"):
        m = re.fullmatch(r"([^:]+)(?::(\d+))?", part)
        if not m:
            raise ValueError(f"case {name!r}: cannot read {what} {part!r} (ITEM or ITEM:COUNT).")
        items += [make(m.group(1))] * int(m.group(2) or 1)
    if len(items) != d:
        raise ValueError(f"case {name!r}: {len(items)} {what} for {d} coordinates; give one "
                         f"per coordinate (ITEM:COUNT repeats an item).")
    return tuple(items)


def case(name: str) -> Case:
    """The case with this name (see the module's docstring for the grammar)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"case({name!r}): give a case name such as "
                         "'quad_bowl-normal-gauss_add_0.1'.")
    parts = name.split("-")
    m = re.fullmatch(r"(\d+)d", parts[0])
    d = int(m.group(1)) if m else 1
    fields = parts[1:4] if m else parts[:3]
    flags = parts[4:] if m else parts[3:]
    if len(fields) < 3 or d < 1:
        raise ValueError(f"case {name!r}: expected SHAPE-SCALE-NOISE (1-D) or "
                         "Dd-SHAPES-SCALES-NOISES, e.g. 'quad_bowl-normal-gauss_add_0.1'.")
    shapes = _parse_list(fields[0], d, Shape.parse, "shapes", name)
    scales = _parse_list(fields[1], d, scale, "scales", name)
    noises = _parse_list(fields[2], d, noise, "noises", name)
    drift, rotated, curled = Stationary(), False, False
    for flag in flags:
        if flag in NONSTATIONARITIES:
            drift = nonstationarity(flag)
        elif flag in ("rotated", "curled"):
            rotated, curled = rotated or flag == "rotated", curled or flag == "curled"
        else:
            raise ValueError(f"case {name!r}: unknown suffix {flag!r}; use one of "
                             f"{', '.join(list(NONSTATIONARITIES)[1:])}, rotated, curled.")
    out = Case(shapes, scales, noises, drift, rotated, curled)
    if out.name != name:
        raise ValueError(f"case {name!r} is written {out.name!r}: use that name (items in "
                         "order, repeats as ITEM:COUNT, suffixes drift-rotated-curled).")
    return out


# ------------------------------------------------------------------------------ expansion
#: 1-D shapes expanded over every noise (optimBench's first 8 rows)
ALL_NOISE_SHAPES = ("line", "quad_bowl", "abs", "bend", "relu", "gauss_bowl", "cliff", "ridge")
#: 1-D shapes expanded over noiseless and the additive Gaussian noises (its next 37 rows)
ADDITIVE_NOISE_SHAPES = (
    "quad_convex.line", "gauss_nonconvex.line", "gauss_convex.line", "laplace_nonconvex.line",
    "laplace_convex.line", "exponential", "quad_convex.exponential",
    "gauss_nonconvex.exponential", "gauss_convex.exponential", "laplace_nonconvex.exponential",
    "laplace_convex.exponential", "line.exponential", "quad_convex.relu",
    "gauss_nonconvex.relu", "gauss_convex.relu", "laplace_convex.relu",
    "gauss_nonconvex.gauss_convex.gauss_bowl.gauss_convex.gauss_nonconvex",
    "laplace_nonconvex.laplace_convex.laplace_bowl.laplace_convex.laplace_nonconvex",
    "line.quad_bowl.line", "quad_convex.abs.quad_convex", "quad_convex.cliff.quad_convex",
    "quad_convex.cliff.gauss_nonconvex", "quad_convex.quad_bowl.gauss_nonconvex",
    "quad_convex.abs.gauss_nonconvex", "cliff.exponential", "cliff.quad_bowl",
    "quad_convex.cliff.quad_bowl", "quad_bowl.cliff.exponential", "relu.bend.line",
    "quad_convex.relu.bend.line", "gauss_nonconvex.relu.line", "relu.bend.quad_bowl",
    "quad_convex.relu.bend.quad_bowl", "gauss_nonconvex.relu.bend.quad_bowl",
    "relu.bend.exponential", "quad_convex.relu.bend.exponential",
    "gauss_nonconvex.relu.bend.exponential")
ADDITIVE = ("noiseless", "gauss_add_0.01", "gauss_add_0.1", "gauss_add_10")
_L3 = "laplace_convex.laplace_nonconvex.quad_convex"

# Multi-dimensional rows: (shapes as (name, count) runs, noise variants, scale variants,
# rotations, curls). A variant lists (name, count) runs; "paper drops" marks the scale
# variants optimBench's parser expands to nothing (written without a count).
_UNIFORM = "uniform"
_2D_NOISES = ([("noiseless", 2)], [("gauss_add_0.1", 2)],
              [("gauss_add_0.01", 1), ("gauss_add_10", 1)],
              [("gauss_add_10", 1), ("gauss_add_0.01", 1)])
_10D_NOISES = tuple([(n, 10)] for n in ADDITIVE)
_10D_ALL_GAUSS = _10D_NOISES + tuple([(n, 10)] for n in ("gauss_mul_0.1", "gauss_mul_1",
                                                          "gauss_mul_10"))


def _s(*runs, drops=False):
    return (list(runs), drops)


_ALL_SCALES_2 = tuple(_s((s, 2)) for s in SCALES)
_ALL_SCALES_10 = tuple(_s((s, 10)) for s in SCALES)
MULTI_D_ROWS = (
    ([("quad_bowl", 2)], _2D_NOISES, _ALL_SCALES_2, (False, True), (False,)),
    ([("abs", 1), ("quad_bowl", 1)], _2D_NOISES,
     (_s(("normal", 2), drops=True), _s(("steep", 1), ("normal", 1)),
      _s(("normal", 1), ("steep", 1))), (False, True), (False, True)),
    ([("quad_bowl", 1), ("line", 1)], _2D_NOISES,
     (_s(("normal", 2)), _s(("steep", 1), ("normal", 1))), (False,), (False,)),
    ([("line", 2)], _2D_NOISES, (_s(("normal", 2)),), (False,), (False,)),
    ([("relu", 1), ("line", 1)], _2D_NOISES, (_s(("normal", 2)),), (False,), (False,)),
    ([("exponential", 1), ("line", 1)], _2D_NOISES,
     (_s(("normal", 2)), _s(("steep", 1), ("normal", 1))), (False,), (False,)),
    ([("abs", 1), ("line", 1)], _2D_NOISES,
     (_s(("normal", 2), drops=True), _s(("steep", 1), ("normal", 1))), (False,), (False,)),
    ([("abs", 2)], _2D_NOISES, (_s(("normal", 2)),), (False, True), (False, True)),
    ([("cliff", 1), ("abs", 1)], _2D_NOISES,
     (_s(("normal", 2)), _s(("steep", 1), ("normal", 1))), (False,), (False,)),
    ([("cliff", 1), ("line", 1)], _2D_NOISES, (_s(("normal", 2)),), (False, True),
     (False, True)),
    ([("cliff", 1), ("quad_bowl", 1)], _2D_NOISES, (_s(("normal", 2)),), (False, True),
     (False, True)),
    ([("exponential", 1), ("quad_bowl", 1)], _2D_NOISES, (_s(("normal", 2)),), (False,),
     (False,)),
    ([("gauss_nonconvex", 1), ("abs", 1)], _2D_NOISES, (_s(("saddle", 1), ("normal", 1)),),
     (False,), (False,)),
    ([("gauss_nonconvex", 1), ("quad_bowl", 1)], _2D_NOISES,
     (_s(("saddle", 1), ("normal", 1)),), (False,), (False,)),
    ([(_L3, 2)], _2D_NOISES, (_s(("normal", 2)), _s(("saddle", 1), ("normal", 1))), (False,),
     (False,)),
    # 10 dimensions
    ([("quad_bowl", 10)], _10D_ALL_GAUSS, _ALL_SCALES_10, (False,), (False,)),
    ([(_L3, 10)], _10D_NOISES, (_s(("normal", 10)), _s(("saddle", 1), ("normal", 9))),
     (False,), (False,)),
    ([("abs", 1), ("quad_bowl", 9)], _10D_NOISES,
     (_s(("normal", 10), drops=True), _s(("normal", 1), ("saddle", 9)),
      _s(("normal", 1), ("steep", 9))), (False,), (False,)),
    ([("quad_bowl", 1), ("line", 9)], _10D_NOISES,
     (_s(("normal", 10), drops=True), _s(("steep", 1), ("normal", 9))), (False,), (False,)),
    ([("line", 10)], _10D_NOISES, (_s(("normal", 10)),), (False,), (False,)),
    ([("relu", 1), ("line", 9)], _10D_NOISES, (_s(("normal", 10)),), (False,), (False,)),
    ([("exponential", 1), ("line", 9)], _10D_NOISES,
     (_s(("normal", 10)), _s(("steep", 1), ("normal", 9))), (False,), (False,)),
    ([("abs", 1), ("line", 9)], _10D_NOISES,
     (_s(("normal", 10), drops=True), _s(("steep", 1), ("normal", 9))), (False,), (False,)),
    ([("abs", 10)], _10D_NOISES, (_s(("normal", 10)),), (False, True), (False, True)),
    ([("cliff", 1), ("abs", 9)], _10D_NOISES,
     (_s(("normal", 10), drops=True), _s(("steep", 1), ("normal", 9))), (False,), (False,)),
    ([("cliff", 1), ("line", 9)], _10D_NOISES, (_s(("normal", 10)),), (False, True),
     (False, True)),
    ([("cliff", 1), ("quad_bowl", 9)], _10D_NOISES, (_s(("normal", 10)),), (False, True),
     (False,)),
    ([("exponential", 1), ("quad_bowl", 9)], _10D_NOISES, (_s(("normal", 10)),), (False,),
     (False,)),
    ([("gauss_nonconvex", 1), ("abs", 9)], _10D_NOISES, (_s(("saddle", 1), ("normal", 9)),),
     (False,), (False,)),
    ([("gauss_nonconvex", 1), ("quad_bowl", 9)], _10D_NOISES,
     (_s(("saddle", 1), ("normal", 9)),), (False,), (False,)),
)


def _expand(runs, make) -> tuple:
    return tuple(make(name) for name, k in runs for _ in range(k))


def _one_d_cases(shape_names, noise_names):
    for shape_name in shape_names:
        shape = Shape.parse(shape_name)
        for noise_name in noise_names:
            nz = noise(noise_name)
            for scale_name in SCALES:
                for drift in NONSTATIONARITIES.values():
                    if drift.name == "noise_drift" and not nz.drifts:
                        continue
                    yield Case((shape,), (scale(scale_name),), (nz,), drift)


def _multi_d_cases():
    for shape_runs, noise_variants, scale_variants, rotations, curls in MULTI_D_ROWS:
        shapes = _expand(shape_runs, Shape.parse)
        for noise_runs in noise_variants:
            for scale_runs, _ in scale_variants:
                for rotated in rotations:
                    for curled in curls:
                        yield Case(shapes, _expand(scale_runs, scale),
                                   _expand(noise_runs, noise), Stationary(), rotated, curled)


@lru_cache(maxsize=1)
def full() -> tuple:
    """Every case of the full expansion, in a fixed order (1-D, then 2-D, then 10-D)."""
    cases = list(_one_d_cases(ALL_NOISE_SHAPES, NOISES))
    cases += _one_d_cases(ADDITIVE_NOISE_SHAPES, ADDITIVE)
    cases += _multi_d_cases()
    return tuple(cases)


def paper_differences() -> dict:
    """How the catalogue's count relates to the paper's code's expansion (the module's
    docstring): its duplicates (noise drifts on tests without a noise level) and the tests it
    misses (scale variants its parser drops)."""
    no_level = {False: sum(not noise(n).drifts for n in ADDITIVE),
                True: sum(not n.drifts for n in NOISES.values())}
    duplicates = sum(no_level[all_noise] * len(SCALES) * count
                     for all_noise, count in ((True, len(ALL_NOISE_SHAPES)),
                                              (False, len(ADDITIVE_NOISE_SHAPES))))
    dropped = sum(len(noises) * len(rot) * len(curl)
                  for _, noises, scales_, rot, curl in MULTI_D_ROWS
                  for _, drops in scales_ if drops)
    return {"paper": PAPER_EXPANSION, "duplicates_left_out": duplicates,
            "dropped_by_its_parser_added": dropped,
            "catalogue": len(full())}


#: the quick subset: one or two cases per kind of difficulty (a few seconds in all), each with
#: a yardstick (some SGD rate improves on its start, so every optimizer is scored on it)
QUICK = (
    "quad_bowl-normal-noiseless", "quad_bowl-normal-gauss_add_0.1",
    "quad_bowl-normal-gauss_add_10", "quad_bowl-steep-gauss_mul_1", "quad_bowl-normal-cauchy_1",
    "quad_bowl-normal-mask_0.9", "abs-normal-gauss_add_0.1", "cliff-steep-gauss_add_0.1",
    "ridge-flat-noiseless", "relu.bend.line-normal-gauss_add_0.01",
    "gauss_nonconvex.gauss_convex.gauss_bowl.gauss_convex.gauss_nonconvex-normal-noiseless",
    "line-saddle-gauss_add_0.1", "exponential-normal-gauss_add_0.1",
    "quad_bowl-normal-gauss_add_0.1-scale_drift", "quad_bowl-normal-gauss_add_0.1-noise_drift",
    "quad_bowl-normal-gauss_add_0.1-offset_drift",
    "2d-quad_bowl:2-normal:2-gauss_add_0.1:2-rotated",
    "2d-abs+quad_bowl-steep+normal-gauss_add_0.01+gauss_add_10-curled",
    "2d-cliff+line-normal:2-noiseless:2-rotated-curled",
    "10d-quad_bowl:10-steep:10-gauss_mul_1:10",
    "10d-abs:10-normal:10-gauss_add_0.1:10-rotated-curled",
)


def quick() -> tuple:
    """A small subset touching every kind of difficulty: shapes with kinks and cliffs, every
    noise, the three drifts, rotation and curl in 2 and 10 dimensions."""
    return tuple(case(n) for n in QUICK)


def select(patterns: Sequence[str], cases=None) -> tuple:
    """The cases (of the full catalogue by default) whose name matches any shell-style pattern,
    e.g. ``select(['quad_bowl-*', '*-rotated*'])``."""
    cases = full() if cases is None else cases
    if isinstance(patterns, str):
        patterns = [patterns]
    out = tuple(c for c in cases if any(fnmatch.fnmatchcase(c.name, p) for p in patterns))
    if not out:
        raise ValueError(f"no case matches {list(patterns)}; names look like "
                         f"{full()[1].name!r} or {full()[-1].name!r}.")
    return out


def batches(cases, max_cases: int = 64) -> list:
    """The cases grouped by structure (first appearance first) and cut into consecutive chunks
    of at most ``max_cases`` (groups split evenly): the units of work of the harness. They
    depend on the list of cases alone, never on the engine or the number of processes."""
    if not isinstance(max_cases, (int, np.integer)) or max_cases < 1:
        raise ValueError(f"batches(max_cases={max_cases!r}): use a positive whole number.")
    groups = {}
    for c in cases:
        groups.setdefault(c.structure, []).append(c)
    out = []
    for group in groups.values():
        n = -(-len(group) // max_cases)
        q, r = divmod(len(group), n)  # the first r chunks get one more
        starts = [k * q + min(k, r) for k in range(n + 1)]
        out += [group[a:b] for a, b in zip(starts, starts[1:])]
    return out
