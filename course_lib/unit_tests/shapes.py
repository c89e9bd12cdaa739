"""1-D shape prototypes (Schaul, Antonoglou & Silver 2014), concatenated into shapes.

A prototype is a short stretch of a curve with one character: a line, the bottom of a
quadratic bowl, the convex flank of a quadratic, an exponential, a Gaussian or a Laplace well
(its bowl, convex or non-convex part), or a kink (abs, relu, bend, cliff, ridge). A shape
concatenates prototypes over a scale's interval [xs, xe] (`scales`), each on an equal share of
it. Each prototype is fitted to the value and slope it must start with, which are the previous
one's value and slope where it ends, so the shape's value and slope are continuous at every
junction; only a kink breaks the slope, by design, inside its own stretch. Outside [xs, xe] the
first and last pieces go on by their formulas.

Every piece is stored in one generic form, so a shape of any mix of prototypes is evaluated
by the same few array operations (one gather per point picks the piece):

    f(x)  = a0 + u (a1 + a2 u) + w exp(−(k1 + k2 u) u − kabs |u|),      u = x − at
    f'(x) = a1 + 2 a2 u − w exp(…) (k1 + 2 k2 u + kabs sign u)

    line         f = fs + f'(xs) u                          (at = xs)
    quadratic    f = c + a u²                               (at = the vertex)
    exponential  f = fs − (s/b)(e^(−b u) − 1)               (at = xs, b = ln 1000 / (xe − xs))
    Gaussian     f = a − b exp(−u²/c²)                      (at = µ, c the bandwidth)
    Laplace      f = a − b exp(−|u|/c)                      (at = µ)
    kink         two lines meeting at xm                    (two pieces)

Where each prototype sits on its well (which part of a Gaussian, how far a quadratic's vertex
is) follows the paper's optimBench code (Lua/Torch7), read, not copied; the docstrings give
the numbers. Parameters broadcast: xs, xe, f(xs) and f'(xs) may be arrays (one value per case,
repetition, coordinate), and a whole batch of curves is built and evaluated at once.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["Piece", "Prototype", "Line", "QuadraticBowl", "QuadraticConvex", "Exponential",
           "GaussianBowl", "GaussianConvex", "GaussianNonConvex", "LaplaceBowl",
           "LaplaceConvex", "LaplaceNonConvex", "Abs", "Relu", "Bend", "Cliff", "Ridge",
           "PROTOTYPES", "prototype", "Shape", "Curve"]

COEFFICIENTS = ("at", "a0", "a1", "a2", "w", "k1", "k2", "kabs")
#: exponents below this are evaluated at it (see Curve.value_and_slope)
EXPONENT_FLOOR = -600.0


class Piece(NamedTuple):
    """One piece in the generic form (see the module's docstring), valid from ``start`` on."""
    start: np.ndarray
    at: np.ndarray
    a0: np.ndarray
    a1: np.ndarray = 0.0
    a2: np.ndarray = 0.0
    w: np.ndarray = 0.0
    k1: np.ndarray = 0.0
    k2: np.ndarray = 0.0
    kabs: np.ndarray = 0.0


class Prototype:
    """A stretch of curve fitted to its start: ``pieces(xs, xe, fs, fprime, before)``.

    ``fs`` and ``fprime`` are the value and slope it must start with; ``before`` is the last
    non-zero slope any earlier prototype started with (None for the first prototype; nan
    where there was none). ``terms`` names the generic coefficients it uses besides at, a0.
    """
    name = ""
    terms: frozenset = frozenset()

    def pieces(self, xs, xe, fs, fprime, before) -> list:
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Line(Prototype):
    """f = fs + f'(xs)(x − xs)."""
    name, terms = "line", frozenset({"a1"})

    def pieces(self, xs, xe, fs, fprime, before):
        return [Piece(xs, xs, fs, a1=fprime)]


class _Quadratic(Prototype):
    terms = frozenset({"a2"})

    def vertex(self, xs, xe, fprime):
        raise NotImplementedError

    def pieces(self, xs, xe, fs, fprime, before):
        xo = self.vertex(xs, xe, fprime)
        a = fprime / (2 * (xs - xo))
        return [Piece(xs, xo, fs - a * (xs - xo) ** 2, a2=a)]


class QuadraticBowl(_Quadratic):
    """The bottom of a parabola: vertex at the middle, so f(xe) = f(xs) and f'(xe) = −f'(xs)."""
    name = "quad_bowl"

    def vertex(self, xs, xe, fprime):
        return (xs + xe) / 2


class QuadraticConvex(_Quadratic):
    """A flank of a parabola: the slope shrinks to a tenth across the stretch going down
    (f'(xs) < 0: vertex at (xe − 0.1 xs)/0.9) and grows tenfold going up (vertex at
    (10 xs − xe)/9)."""
    name = "quad_convex"

    def vertex(self, xs, xe, fprime):
        return np.where(fprime > 0, (10 * xs - xe) / 9, (xe - 0.1 * xs) / 0.9)


class Exponential(Prototype):
    """f = fs − (s/b)(e^(−b(x − xs)) − 1), s = f'(xs): the slope falls by a factor 1000 across
    the stretch (b = ln 1000 / (xe − xs)); a long flattening tail."""
    name, terms = "exponential", frozenset({"w", "k1"})

    def pieces(self, xs, xe, fs, fprime, before):
        b = math.log(1000.0) / (xe - xs)
        return [Piece(xs, xs, fs + fprime / b, w=-fprime / b, k1=b)]


class _Well(Prototype):
    """A well f = a − b φ((x − µ)/c) fitted so that f(xs) = fs and f'(xs) = s; the variant
    chooses the bandwidth c and the centre µ (which part of the well the stretch covers).
    A zero slope gives b = 0: a flat stretch."""

    def centre(self, xs, xe, fprime):
        """(c, µ) for this part of the well."""
        raise NotImplementedError


class _Gaussian(_Well):
    terms = frozenset({"w", "k2"})

    def pieces(self, xs, xe, fs, fprime, before):
        c, mu = self.centre(xs, xe, fprime)
        e = np.exp(-((xs - mu) / c) ** 2)
        b = c ** 2 * fprime / (2 * (xs - mu) * e)
        return [Piece(xs, mu, fs + b * e, w=-b, k2=1 / c ** 2)]


class GaussianBowl(_Gaussian):
    """The bottom of a Gaussian well, µ ± 0.1 c (c = 5 (xe − xs), µ the middle)."""
    name = "gauss_bowl"

    def centre(self, xs, xe, fprime):
        c = 5 * (xe - xs)
        return c, xs + 0.1 * c


class GaussianConvex(_Gaussian):
    """A convex flank of a Gaussian well: from the inflection point µ ∓ c/√2 to 0.1 c from
    the centre (c = 10 (xe − xs)/(5√2 − 1))."""
    name = "gauss_convex"

    def centre(self, xs, xe, fprime):
        c = 10 * (xe - xs) / (5 * math.sqrt(2) - 1)
        return c, np.where(fprime > 0, xs - 0.1 * c, xe + 0.1 * c)


class GaussianNonConvex(_Gaussian):
    """A non-convex (concave) flank of a Gaussian well: from 4 c out to the inflection point
    (c = 2 (xe − xs)/(8 − √2)); going down it starts almost flat and steepens."""
    name = "gauss_nonconvex"

    def centre(self, xs, xe, fprime):
        c = 2 * (xe - xs) / (8 - math.sqrt(2))
        return c, np.where(fprime > 0, xe - 4 * c, xs + 4 * c)


class _Laplace(_Well):
    terms = frozenset({"w", "kabs"})

    def pieces(self, xs, xe, fs, fprime, before):
        c, mu = self.centre(xs, xe, fprime)
        e = np.exp(-np.abs(xs - mu) / c)
        b = c * fprime / (e * np.sign(xs - mu))
        return [Piece(xs, mu, fs + b * e, w=-b, kabs=1 / c)]


class LaplaceBowl(_Laplace):
    """The tip of a Laplace well, µ ± 0.1 c (c = (xe − xs)/0.2): a kink at the middle, where
    the slope jumps from −|s| to +|s|."""
    name = "laplace_bowl"

    def centre(self, xs, xe, fprime):
        c = (xe - xs) / 0.2
        return c, xs + 0.1 * c


class LaplaceConvex(_Laplace):
    """A flank of a Laplace well from c to 0.1 c from the tip (c = (xe − xs)/0.9). The well
    a − b e^(−|u|/c) is concave on each side of its tip: the paper's 'convex' names the
    steep part near the tip, 'non-convex' the flat far part."""
    name = "laplace_convex"

    def centre(self, xs, xe, fprime):
        c = (xe - xs) / 0.9
        return c, np.where(fprime > 0, xs - 0.1 * c, xs + c)


class LaplaceNonConvex(_Laplace):
    """The far flank of a Laplace well, from 8 c to c from the tip (c = (xe − xs)/7)."""
    name = "laplace_nonconvex"

    def centre(self, xs, xe, fprime):
        c = (xe - xs) / 7
        return c, np.where(fprime > 0, xs - c, xs + 8 * c)


class _Kink(Prototype):
    """Two straight segments with slopes ls then le, meeting at xm where both have the same
    length: (xm − xs) √(1 + ls²) = (xe − xm) √(1 + le²). The value is continuous at xm, the
    slope jumps: the kink is the difficulty."""
    terms = frozenset({"a1"})

    def slopes(self, fprime, before):
        raise NotImplementedError

    def pieces(self, xs, xe, fs, fprime, before):
        ls, le = self.slopes(fprime, before)
        gamma = np.sqrt((1 + ls ** 2) / (1 + le ** 2))
        xm = (gamma * xs + xe) / (1 + gamma)
        return [Piece(xs, xs, fs, a1=ls), Piece(xm, xm, fs + ls * (xm - xs), a1=le)]


class Abs(_Kink):
    """|x|: the slope s turns into −s (a V at the bottom, or a Λ at the top)."""
    name = "abs"

    def slopes(self, fprime, before):
        return fprime, -fprime


class Relu(_Kink):
    """The slope s turns into 0: a plateau after a slope."""
    name = "relu"

    def slopes(self, fprime, before):
        return fprime, np.zeros_like(fprime)


class Bend(_Kink):
    """A plateau that bends back into the last slope seen: 0 turns into s. It must start flat:
    after a relu, or as the first prototype (then it ignores the scale's start slope s and
    bends into it)."""
    name = "bend"

    def slopes(self, fprime, before):
        if before is None:
            return np.zeros_like(fprime), fprime
        if np.any(fprime != 0):
            raise ValueError("a bend must start flat (slope 0), as it does after a relu; here "
                             "the slope before it is not 0. Put a relu before it, "
                             "e.g. 'relu.bend.line'.")
        return fprime, np.where(np.isnan(before), fprime, before)


class _Steepening(_Kink):
    factor = 0.0

    def slopes(self, fprime, before):
        if np.any(fprime == 0):
            raise ValueError(f"a {self.name} multiplies the slope before it by {self.factor:g}, "
                             "but that slope is 0 here (after a relu?): put it where the curve "
                             "is not flat.")
        return fprime, self.factor * fprime


class Cliff(_Steepening):
    """The slope s turns into −10 s: going down, a wall ten times as steep."""
    name, factor = "cliff", -10.0


class Ridge(_Steepening):
    """The slope s turns into 10 s: going down, the ground drops ten times as steeply."""
    name, factor = "ridge", 10.0


PROTOTYPES = {p.name: p for p in (
    Line(), QuadraticBowl(), QuadraticConvex(), Exponential(), GaussianBowl(), GaussianConvex(),
    GaussianNonConvex(), LaplaceBowl(), LaplaceConvex(), LaplaceNonConvex(), Abs(), Relu(),
    Bend(), Cliff(), Ridge())}


def prototype(name: str) -> Prototype:
    """The prototype called ``name``."""
    try:
        return PROTOTYPES[name]
    except KeyError:
        raise ValueError(f"unknown prototype {name!r}; the prototypes are "
                         f"{', '.join(PROTOTYPES)}.") from None


class Shape:
    """Prototypes concatenated left to right, each on an equal share of [xs, xe].

    ``Shape.parse("quad_convex.relu.bend.line")`` reads the name a shape prints as (prototype
    names joined by dots); ``shape.build(xs, xe, fs, fprime)`` fits it to a scale and returns
    the `Curve`.
    """

    def __init__(self, prototypes):
        prototypes = tuple(prototype(p) if isinstance(p, str) else p for p in prototypes)
        if not prototypes:
            raise ValueError("a shape needs at least one prototype, e.g. Shape(['quad_bowl']).")
        for p in prototypes:
            if not isinstance(p, Prototype):
                raise TypeError(f"Shape([...]) takes prototypes or their names, got {p!r}.")
        self.prototypes = prototypes
        self.name = ".".join(p.name for p in prototypes)

    @classmethod
    def parse(cls, name: str) -> "Shape":
        return cls(name.split("."))

    def __repr__(self):
        return f"Shape({self.name!r})"

    def __eq__(self, other):
        return isinstance(other, Shape) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    @property
    def terms(self) -> frozenset:
        return frozenset().union(*(p.terms for p in self.prototypes))

    def build(self, xs, xe, fs, fprime) -> "Curve":
        """Fit every prototype in turn: each starts with the value and slope at which the one
        before it ends. Arrays broadcast: one curve per entry."""
        xs, xe, fs, fprime = np.broadcast_arrays(*(np.asarray(a, dtype=float)
                                                   for a in (xs, xe, fs, fprime)))
        if np.any(~(xs < xe)):
            raise ValueError("Shape.build: every interval must run left to right (xs < xe).")
        n = len(self.prototypes)
        dx = (xe - xs) / n
        pieces, junctions = [], []
        before = None
        start, value, slope = xs, fs, fprime
        for i, proto in enumerate(self.prototypes):
            end = xe if i == n - 1 else xs + (i + 1) * dx
            if i:
                junctions.append(len(pieces))
            new = proto.pieces(start, end, value, slope, before)
            before = np.where(slope != 0, slope, np.nan if before is None else before)
            pieces.extend(new)
            value, slope = _evaluate_piece(new[-1], end)
            start = end
        return Curve(pieces, junctions, self.terms, self.name)


def _evaluate_piece(piece: Piece, x):
    """(f, f') of one piece at x, by the generic form."""
    u = np.asarray(x, dtype=float) - piece.at
    e = piece.w * np.exp(np.maximum(-(piece.k1 + piece.k2 * u) * u - piece.kabs * np.abs(u),
                                    EXPONENT_FLOOR))
    value = piece.a0 + u * (piece.a1 + piece.a2 * u) + e
    slope = piece.a1 + 2 * piece.a2 * u - e * (piece.k1 + 2 * piece.k2 * u
                                                + piece.kabs * np.sign(u))
    return value, slope


class Curve:
    """A shape fitted to a scale: its pieces, ready to evaluate at any x (broadcasting against
    the parameters' shape ``shape``).

    ``junctions``: indices i of the pieces that start a new prototype (value and slope are
    continuous there: piece i − 1 and piece i agree at ``piece(i).start``); the other starts
    are kinks inside a prototype.
    """

    def __init__(self, pieces, junctions, terms, name=""):
        self.name = name
        self.pieces = list(pieces)
        self.junctions = list(junctions)
        self.terms = frozenset(terms)
        shape = np.broadcast_shapes(*(np.shape(c) for p in pieces for c in p))
        self.shape = shape
        # only the coefficients some piece uses are gathered and evaluated
        self.columns = ("at", "a0", "a1") + tuple(c for c in COEFFICIENTS[3:] if c in self.terms)
        # (columns, pieces × parameters): one gather takes every column of each x's piece,
        # and each column comes out contiguous (strided columns would make the arithmetic
        # after it several times slower)
        table = np.stack([np.stack([np.broadcast_to(getattr(p, c), shape) for p in pieces])
                          for c in self.columns])                  # (columns, n, *shape)
        self._size = int(np.prod(shape, dtype=int))
        self._table = table.reshape(len(self.columns), len(pieces) * self._size)
        self._single = table[:, 0] if len(pieces) == 1 else None
        self._base = np.arange(self._size).reshape(shape)
        self.starts = np.stack([np.broadcast_to(p.start, shape) for p in pieces[1:]]) \
            if len(pieces) > 1 else np.empty((0,) + shape)

    def __repr__(self):
        return f"Curve({self.name!r}, {len(self.pieces)} pieces, parameters {self.shape})"

    def _coefficients(self, x):
        """The columns of the piece each x falls in: for each x, the last piece whose start is
        ≤ x (the first piece left of everything)."""
        if self._single is not None:
            return self._single
        k = (x >= self.starts[0]).astype(np.intp)
        for s in self.starts[1:]:
            k += x >= s
        k *= self._size
        k += self._base
        return self._table.take(k, axis=1)

    def value_and_slope(self, x, *, value=True, slope=True):
        """f(x) and f'(x) by the generic form (either may be skipped: None in its place)."""
        x = np.asarray(x, dtype=float)
        c = dict(zip(self.columns, self._coefficients(x)))
        u = x - c["at"]
        a2, w = c.get("a2"), c.get("w")
        f = g = None
        if value:
            f = c["a0"] + u * (c["a1"] if a2 is None else c["a1"] + a2 * u)
        if slope:
            g = c["a1"] + 2 * a2 * u if a2 is not None else \
                np.array(np.broadcast_to(c["a1"], u.shape))
        if w is not None:
            exponent, rate = 0.0, 0.0
            if "k1" in c:
                exponent, rate = exponent - c["k1"] * u, rate + c["k1"]
            if "k2" in c:
                exponent, rate = exponent - c["k2"] * u * u, rate + 2 * c["k2"] * u
            if "kabs" in c:
                exponent, rate = exponent - c["kabs"] * np.abs(u), rate + c["kabs"] * np.sign(u)
            # e^(−600) ≈ 3e−261 stands for anything smaller: numpy's exp is up to 30 times
            # slower where its result underflows, and far out on a well every run would pay
            e = w * np.exp(np.maximum(exponent, EXPONENT_FLOOR))
            if value:
                f = f + e
            if slope:
                g = g - e * rate
        return f, g

    def value(self, x):
        return self.value_and_slope(x, slope=False)[0]

    def slope(self, x):
        return self.value_and_slope(x, value=False)[1]

    def piece_value_and_slope(self, i: int, x):
        """(f, f') of piece i's formula at x, wherever x is: how continuity at a junction is
        checked (piece i − 1 and piece i at the junction)."""
        return _evaluate_piece(self.pieces[i], x)
