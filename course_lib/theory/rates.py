"""Rates measured from runs: the per-step factor by which an error shrinks, fitted to a trace.

The theory modules predict rates; these functions measure them, so a notebook or a test can
print the two side by side.
"""
from __future__ import annotations

import numpy as np

__all__ = ["measured_rate", "trace_rate"]


def measured_rate(errors, floor: float = 1e-13, skip: float = 0.3) -> float:
    """The per-step factor fitted to errors e_t (e.g. ‖θ_t − θ*‖) by least squares on log e_t.

    The first ``skip`` fraction of the steps (transients) and everything after the error falls
    below ``floor`` × e_0 (rounding) are left out. nan when too few steps remain.
    """
    e = np.asarray(errors, dtype=float)
    if e.ndim != 1:
        raise ValueError(f"measured_rate needs a 1-D sequence of errors, got shape {e.shape}.")
    good = np.isfinite(e) & (e > floor * e[0])
    last = np.argmin(good) if not good.all() else len(e)
    first = int(skip * last)
    seg = np.arange(first, last)
    if len(seg) < 5:
        return float("nan")
    slope = np.polyfit(seg, np.log(e[seg]), 1)[0]
    return float(np.exp(slope))


def trace_rate(trace, minimizer, **kw) -> float:
    """`measured_rate` of a single run's errors ‖θ_t − θ*‖ (a `Trace` kept with its thetas)."""
    if trace.thetas is None or trace.thetas.ndim != 2:
        raise ValueError("trace_rate needs the iterates of one run: run(...) with keep_thetas=True "
                         "and θ₀ of shape (d,).")
    return measured_rate(np.linalg.norm(trace.thetas - np.asarray(minimizer), axis=-1), **kw)
