"""The four scales of Schaul, Antonoglou & Silver (2014): where a 1-D shape lives and how steep.

A scale fixes the interval [xs, xe] a shape is drawn over, the value f(xs) and the slope f'(xs)
at its start; every prototype of the shape is then fitted to those numbers (`shapes`). A test
starts at xs. The four are the paper's (and its optimBench code's):

    name     xs  xe   f(xs)   f'(xs)
    normal    0   1    200     −1
    steep     0   1    200    −10      ten times the slope
    saddle    0   1    200     +1      the start climbs to the right: a shape turned upside
                                       down (in several dimensions, with other coordinates
                                       going down, a saddle)
    flat      0   1      2    −0.1     a tenth of the slope, a hundredth of the height
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Scale", "SCALES", "scale"]


@dataclass(frozen=True)
class Scale:
    """Where a shape starts and ends (xs, xe), its value f(xs) = fs and slope f'(xs) = fprime."""
    name: str
    xs: float
    xe: float
    fs: float
    fprime: float

    def __post_init__(self):
        if not self.xs < self.xe:
            raise ValueError(f"Scale {self.name!r}: the interval must run left to right, xs < xe; "
                             f"got xs={self.xs}, xe={self.xe}.")


SCALES = {s.name: s for s in (
    Scale("normal", 0.0, 1.0, 200.0, -1.0),
    Scale("steep", 0.0, 1.0, 200.0, -10.0),
    Scale("saddle", 0.0, 1.0, 200.0, 1.0),
    Scale("flat", 0.0, 1.0, 2.0, -0.1),
)}


def scale(name: str) -> Scale:
    """The scale called ``name`` (one of normal, steep, saddle, flat)."""
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; the scales are {', '.join(SCALES)}.") from None
