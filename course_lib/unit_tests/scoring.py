"""The paper's scoring (Schaul, Antonoglou & Silver 2014): every result measured against tuned
SGD on the same test, then sorted into colour classes.

A run's result is the noise-free value f at its last step (`problem`); over the repetitions of
one setting on one test the *median* counts. The yardstick is plain SGD tuned on that test: the
best median over 34 learning rates log-spaced from 1e−10 to 1 (`harness.GRIDS`). With f₀ the
value at the start, a result's normalised score is the fraction of tuned SGD's improvement
it achieves,

    s = (f − f₀) / (f_SGD − f₀)      (1: as good as tuned SGD, 0: no progress, < 0: worse
                                      than the start)

Colour classes, with the thresholds of the paper's code (optimBench, experiment_entry.lua):

    diverged          red      the median is not finite or above 1e10 (at least half the
                               repetitions blew up)
    worse             orange   s ≤ 0.1: less than a tenth of tuned SGD's improvement
    sometimes better  yellow   s > 0.1, but more than a quarter of the repetitions score
                               below 0.1 (or diverged): good on some seeds, not reliably
    much better       blue     s > 2, reliably: more than twice tuned SGD's improvement
    comparable        green    0.1 < s ≤ 2, reliably
    unscored          grey     no SGD learning rate improves on the start: no yardstick

Values below −1e10 count as −1e10 (an unbounded descent, as on a line, is capped as in the
paper's code). The code has a sixth colour, violet, for a good median with some repetitions
failed; here a failed repetition counts as one scoring below 0.1, so such a setting is yellow
when more than a quarter failed and otherwise keeps its class. It also drops a test that has
no yardstick; here it stays in the table as unscored.

Why the noise-free value: the paper scores the expected value of the noisy function at the
end. In one dimension, for every noise prototype, that is a positive multiple of the
noise-free value (`noise`: E[M] f, the start and tuned SGD's alike), so the normalised score is
the same. In several dimensions the paper's code sums |F̃_i| of noisy F̃_i, which differs from
Σ|F_i| only where some F_i is near 0; the noise-free sum is what is scored here.
"""
from __future__ import annotations

import numpy as np

__all__ = ["POOR", "MUCH_BETTER", "UNRELIABLE", "HUGE", "CLASSES", "COLOURS", "clamp",
           "median_change", "reference_change", "normalised", "classify"]

#: a repetition scoring below this fraction of tuned SGD's improvement is poor
POOR = 0.1
#: above this score a reliable result is much better than tuned SGD
MUCH_BETTER = 2.0
#: more than this fraction of poor repetitions makes a result unreliable
UNRELIABLE = 0.25
#: values above count as diverged, values below −HUGE count as −HUGE
HUGE = 1e10

CLASSES = ("much better", "comparable", "sometimes better", "worse", "diverged", "unscored")
#: the paper's figure's colours
COLOURS = {"much better": "#1f5fd6", "comparable": "#2ca02c", "sometimes better": "#f2c600",
           "worse": "#ff8c1a", "diverged": "#d62728", "unscored": "#bdbdbd"}


def clamp(values) -> np.ndarray:
    """Final values as the scoring reads them: nan and values above 1e10 become +inf
    (diverged), values below −1e10 become −1e10."""
    v = np.array(values, dtype=float)
    v[~(v <= HUGE)] = np.inf
    np.maximum(v, -HUGE, out=v)
    return v


def median_change(finals, f0) -> np.ndarray:
    """Median over the last axis (the repetitions) of f − f₀, after `clamp` (+inf when at least
    half the repetitions diverged)."""
    return np.median(clamp(finals), axis=-1) - np.asarray(f0, dtype=float)


def reference_change(sgd_median_changes) -> np.ndarray:
    """Tuned SGD's change on each test: the lowest median change over the learning rates (last
    axis); nan where none is below 0 (no rate improves on the start)."""
    best = np.min(np.asarray(sgd_median_changes, dtype=float), axis=-1)
    return np.where(best < 0, best, np.nan)


def normalised(change, reference) -> np.ndarray:
    """s = (f − f₀)/(f_SGD − f₀): 1 = as good as tuned SGD (nan without a reference)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(change, dtype=float) / np.asarray(reference, dtype=float)


def classify(finals, f0, reference):
    """(score, n_poor, classes) of results with repetitions on the last axis of ``finals``;
    ``f0`` and ``reference`` (tuned SGD's median change) broadcast against the rest."""
    v = clamp(finals)
    f0 = np.asarray(f0, dtype=float)
    ref = np.asarray(reference, dtype=float)
    median = np.median(v, axis=-1)
    score = normalised(median - f0, ref)
    per_run = normalised(v - f0[..., None], ref[..., None])
    n_poor = np.count_nonzero(~(per_run >= POOR), axis=-1)  # a diverged one (−inf) is poor
    n = v.shape[-1]
    labels = np.select(
        [~(ref < 0), ~np.isfinite(median), score <= POOR, n_poor > UNRELIABLE * n,
         score > MUCH_BETTER],
        ["unscored", "diverged", "worse", "sometimes better", "much better"],
        default="comparable")
    return score, n_poor, labels.astype(object)
