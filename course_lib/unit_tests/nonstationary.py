"""Non-stationarity (Schaul, Antonoglou & Silver 2014): the landscape changes while it is
being optimized, every ``every`` = 10 gradient evaluations (a *period*).

    stationary     nothing changes
    scale_drift    every period each coordinate's start slope f'(xs) is multiplied by a fresh
                   factor exp(0.1 ξ), and the shape is fitted again (steeper or flatter)
    noise_drift    every period each coordinate's noise level is multiplied by a fresh
                   factor exp(0.5 ξ)
    offset_drift   every period the whole landscape moves by 0.1 ξ per coordinate: a random
                   walk of the optimum, f_p(θ) = f(θ − o_p), o_p = o_(p−1) + 0.1 ξ_p

(ξ ~ N(0, 1), drawn per coordinate and period; period 0 is the landscape as built.) The
factors are fresh each period, not compounded, as in the paper's code; its offset drift,
though, adds each new step to the first offset only (it never updates the running offset),
so it is no random walk: here the offsets accumulate.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Nonstationarity", "Stationary", "ScaleDrift", "NoiseDrift", "OffsetDrift",
           "NONSTATIONARITIES", "nonstationarity", "EVERY"]

#: gradient evaluations per period
EVERY = 10


class Nonstationarity:
    """How one period's draws ξ (shape (periods, d)) change the landscape: ``slope_factor``,
    ``noise_factor`` and ``offset`` give per-period arrays (None: no change)."""
    name = ""
    sigma = 0.0

    def slope_factor(self, xi):
        return None

    def noise_factor(self, xi):
        return None

    def offset(self, xi):
        return None

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(self.name)


def _fresh_factor(xi, sigma):
    """exp(σ ξ_p) for every period p ≥ 1, 1 in period 0."""
    f = np.exp(sigma * xi)
    f[0] = 1.0
    return f


class Stationary(Nonstationarity):
    name = "stationary"


class ScaleDrift(Nonstationarity):
    """f'(xs) × exp(0.1 ξ), fresh every period."""
    name, sigma = "scale_drift", 0.1

    def slope_factor(self, xi):
        return _fresh_factor(xi, self.sigma)


class NoiseDrift(Nonstationarity):
    """noise level × exp(0.5 ξ), fresh every period."""
    name, sigma = "noise_drift", 0.5

    def noise_factor(self, xi):
        return _fresh_factor(xi, self.sigma)


class OffsetDrift(Nonstationarity):
    """θ's origin walks: o_p = o_(p−1) + 0.1 ξ_p, o_0 = 0."""
    name, sigma = "offset_drift", 0.1

    def offset(self, xi):
        steps = self.sigma * xi
        steps[0] = 0.0
        return np.cumsum(steps, axis=0)


NONSTATIONARITIES = {n.name: n for n in (Stationary(), ScaleDrift(), NoiseDrift(),
                                          OffsetDrift())}


def nonstationarity(name: str) -> Nonstationarity:
    try:
        return NONSTATIONARITIES[name]
    except KeyError:
        raise ValueError(f"unknown non-stationarity {name!r}; use one of "
                         f"{', '.join(NONSTATIONARITIES)}.") from None
