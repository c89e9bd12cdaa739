"""Noise prototypes (Schaul, Antonoglou & Silver 2014): how a unit test corrupts the gradient.

Every prototype turns the true gradient g (one coordinate) into

    g̃ = M · g + A

with a random multiplier M and a random shift A drawn afresh at every gradient evaluation:

    name              M                       A          E[g̃]                 median of g̃
    noiseless         1                       0          g                     g
    gauss_add_σ       1                       σ ξ        g                     g
    gauss_mul_σ       exp(σ ξ)                0          e^(σ²/2) g            g
    cauchy_γ          1                       γ ζ        none (no mean)        g
    mask_p            0 (prob. p) or 1        0          (1 − p) g             g if p < ½

(ξ standard normal, ζ standard Cauchy.) The paper's levels: additive σ ∈ {0.01, 0.1, 10},
multiplicative σ ∈ {0.1, 1, 10}, Cauchy γ = 1, mask-out p ∈ {0.1, 0.9}.

Biased by design: multiplicative noise and mask-out scale the gradient by a positive factor on
average (e^(σ²/2), 1 − p). In the paper's model they scale the whole function alike (f̃ = M f),
so g̃ is an unbiased estimate of the gradient of E[f̃] = E[M] f, which has the same minima; the
normalised score (`scoring`) cancels the factor. Cauchy noise has no mean at all (its
outliers never average out): it is unbiased in the median. With σ = 10 the multiplicative
factor's mean e^50 is carried by draws too rare to ever be seen: its median, 1, is what a run
experiences.

The mask-out here really masks: with probability p the gradient is 0. The public optimBench
code tests ``if mask then`` on a Bernoulli draw, and in Lua the number 0 is true, so its
mask-out never masks (every gradient passes unchanged).
"""
from __future__ import annotations

import math
import re

import numpy as np

__all__ = ["Noise", "Noiseless", "GaussianAdditive", "GaussianMultiplicative", "Cauchy",
           "MaskOut", "NOISES", "noise"]


class Noise:
    """A noise prototype: ``variates(rng, size)`` draws the randomness of ``size`` gradient
    evaluations; ``apply(variates, level)`` turns it into (M, A) at noise level ``level``
    (``self.level`` times the drift factor, `nonstationary`). None stands for M = 1 or A = 0."""
    kind = ""
    #: E[M]: the factor by which the noisy gradient is biased on average (None: no mean)
    mean_factor: float | None = 1.0
    #: whether the level may drift (`nonstationary.NoiseDrift`)
    drifts = True

    def __init__(self, level: float):
        level = float(level)
        if not (math.isfinite(level) and level > 0):
            raise ValueError(f"{type(self).__name__}({level!r}): the noise level must be a "
                             "positive number.")
        self.level = level

    @property
    def name(self) -> str:
        # positional digits: a name never holds an exponent's '-' (cases' names split on '-')
        return f"{self.kind}_{np.format_float_positional(self.level, trim='-')}"

    @property
    def unbiased(self) -> bool:
        """E[g̃] = g."""
        return self.mean_factor == 1.0

    def variates(self, rng, size):
        return rng.standard_normal(size)

    def apply(self, variates, level):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}({self.level:g})"

    def __eq__(self, other):
        return type(other) is type(self) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


class Noiseless(Noise):
    """g̃ = g."""
    kind = "noiseless"
    drifts = False

    def __init__(self):
        self.level = 0.0

    @property
    def name(self) -> str:
        return "noiseless"

    def variates(self, rng, size):
        return None  # draws nothing: the stream stays where it is

    def apply(self, variates, level):
        return None, None

    def __repr__(self):
        return "Noiseless()"


class GaussianAdditive(Noise):
    """g̃ = g + σ ξ, ξ ~ N(0, 1): unbiased."""
    kind = "gauss_add"

    def apply(self, variates, level):
        return None, level * variates


class GaussianMultiplicative(Noise):
    """g̃ = exp(σ ξ) g, ξ ~ N(0, 1): E[g̃] = e^(σ²/2) g, median g (biased by design)."""
    kind = "gauss_mul"

    @property
    def mean_factor(self):
        return math.exp(self.level ** 2 / 2)

    def apply(self, variates, level):
        return np.exp(level * variates), None


class Cauchy(Noise):
    """g̃ = g + γ ζ, ζ standard Cauchy: heavy-tailed outliers; no mean, median g."""
    kind = "cauchy"
    mean_factor = None

    def variates(self, rng, size):
        return rng.standard_cauchy(size)

    def apply(self, variates, level):
        return None, level * variates


class MaskOut(Noise):
    """g̃ = 0 with probability p, else g (dropout-like): E[g̃] = (1 − p) g (biased by design)."""
    kind = "mask"
    drifts = False

    def __init__(self, level: float):
        super().__init__(level)
        if not self.level < 1:
            raise ValueError(f"MaskOut({level!r}): p is a probability of masking, in (0, 1).")

    @property
    def mean_factor(self):
        return 1.0 - self.level

    def variates(self, rng, size):
        return rng.random(size)

    def apply(self, variates, level):
        return (variates >= level).astype(float), None


_KINDS = {cls.kind: cls for cls in (GaussianAdditive, GaussianMultiplicative, Cauchy, MaskOut)}

NOISES = {n.name: n for n in (
    Noiseless(), GaussianAdditive(0.01), GaussianAdditive(0.1), GaussianAdditive(10),
    GaussianMultiplicative(0.1), GaussianMultiplicative(1), GaussianMultiplicative(10),
    Cauchy(1), MaskOut(0.1), MaskOut(0.9))}


def noise(name: str) -> Noise:
    """The noise called ``name``: 'noiseless' or KIND_LEVEL with KIND one of gauss_add,
    gauss_mul, cauchy, mask (e.g. 'gauss_add_0.1'); any positive level is accepted."""
    if name == "noiseless":
        return Noiseless()
    m = re.fullmatch(r"([a-z_]+)_([0-9.eE+-]+)", name)
    if not m or m.group(1) not in _KINDS:
        raise ValueError(f"unknown noise {name!r}: use 'noiseless' or KIND_LEVEL with KIND one "
                         f"of {', '.join(_KINDS)} (e.g. 'gauss_add_0.1'); the paper's are "
                         f"{', '.join(NOISES)}.")
    try:
        level = float(m.group(2))
    except ValueError:
        raise ValueError(f"noise {name!r}: {m.group(2)!r} is not a number.") from None
    return _KINDS[m.group(1)](level)
