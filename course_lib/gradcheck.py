"""Gradient check: compare a gradient you derived with central finite differences (lecture 01).

For each coordinate i the numerical derivative is the central difference

    nᵢ = (f(θ + ε eᵢ) − f(θ − ε eᵢ)) / 2ε = ∂ᵢf(θ) + O(ε²)

(`course_lib.problems.numerical_grad`), and the analytic one aᵢ is what ``grad(θ)`` returns.
They are compared by their relative error, as in CS231n's notes on gradient checks, with one
safeguard for tiny entries:

    rᵢ = |aᵢ − nᵢ| / max(|aᵢ|, |nᵢ|, FLOOR·|f(θ)|),      FLOOR = 10⁻².

Why the floor: f(θ) is computed to about ε_mach·|f(θ)| (rounding), so nᵢ carries an error of
about ε_mach·|f(θ)|/ε, ≈ 2·10⁻¹⁰·|f(θ)| at the default ε = 10⁻⁶. Measured against its own size,
a correct entry of 10⁻⁵·|f(θ)| would show a relative error near 10⁻⁵ and fail. Entries below
the floor are measured against the floor instead, so at the default ε their rounding error is
≈ 2·10⁻⁸ relative, well under `THRESHOLD`; a wrong entry is still caught whenever it is off by
more than THRESHOLD·FLOOR·|f(θ)| = 10⁻⁸·|f(θ)|. With a much smaller ε rounding grows like 1/ε and
correct gradients fail: the left arm of the V in lecture 01's plot of the error against ε.

    result = gradient_check(problem.f, problem.grad, theta)
    print(result)            # passed or FAILED, the worst entry, a hint for a constant factor
    assert result.ok
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from .problems import numerical_grad

__all__ = ["gradient_check", "GradCheck", "THRESHOLD", "FLOOR"]

#: A correct gradient passes when every relative error is below this. With the default
#: ε = 1e-6 in float64 a central difference is accurate to ~1e-10 relative (truncation
#: ε²·|f'''|/6 ≈ 2e-13, rounding ε_mach·|f|/ε ≈ 2e-10, for f and its derivatives of order one;
#: smaller entries are floored, see above), while a wrong formula (a missing factor or term, a
#: flipped sign) is off by 1e-3 … 1 relative: 1e-6 leaves a wide margin on both sides.
THRESHOLD = 1e-6

#: entries smaller than FLOOR·|f(θ)| are compared against that level, not their own size
FLOOR = 1e-2


class GradCheck(NamedTuple):
    """The outcome of `gradient_check`. The arrays have θ's shape (..., d); coordinates that
    were not checked hold NaN in ``relative_errors`` and ``numerical``."""

    max_relative_error: float
    relative_errors: np.ndarray
    numerical: np.ndarray
    analytic: np.ndarray
    worst_index: Tuple[int, ...]

    @property
    def ok(self) -> bool:
        """True when every checked entry's relative error is below `THRESHOLD` (1e-6)."""
        return bool(self.max_relative_error < THRESHOLD)

    def __str__(self) -> str:
        checked = ~np.isnan(self.relative_errors)
        failing = int(np.sum(self.relative_errors[checked] >= THRESHOLD))
        verdict = "passed" if self.ok else "FAILED"
        i = self.worst_index
        lines = [
            f"gradient check {verdict}: max relative error {self.max_relative_error:.1e} "
            f"(a correct gradient stays below {THRESHOLD:.0e})",
            f"  {int(checked.sum())} of {self.analytic.size} entries checked"
            + (f", {failing} above {THRESHOLD:.0e}" if failing else "")
            + f"; worst at index {i}: analytic {self.analytic[i]:.6e}, "
              f"numerical {self.numerical[i]:.6e}",
        ]
        hint = _constant_factor_hint(self.analytic[checked], self.numerical[checked])
        if not self.ok and hint:
            lines.append("  " + hint)
        return "\n".join(lines)


def _constant_factor_hint(a: np.ndarray, n: np.ndarray) -> Optional[str]:
    """'analytic ≈ c × numerical' when one factor c ≠ 1 explains (nearly) all of the gap."""
    if not (np.isfinite(a).all() and np.isfinite(n).all()) or not np.any(n):
        return None
    c = float(a @ n / (n @ n))  # least-squares fit a ≈ c·n
    if abs(c - 1) < 1e-3 or np.linalg.norm(a - c * n) > 1e-2 * np.linalg.norm(a):
        return None
    if abs(c + 1) < 1e-3:
        return "analytic ≈ −1 × numerical: the sign is flipped (a step would go uphill)."
    return (f"analytic ≈ {c:.3g} × numerical: off by a constant factor (e.g. a sum over the "
            "N examples instead of their mean gives a factor N, a missing ½ a factor 2).")


def _coordinates(coords, d: int, rng) -> np.ndarray:
    if coords is None:
        return np.arange(d)
    if isinstance(coords, (int, np.integer)) and not isinstance(coords, bool):
        if coords < 1:
            raise ValueError(f"gradient_check(coords={coords}): the number of coordinates to "
                             "check at random must be at least 1 (or coords=None for all).")
        if coords >= d:
            return np.arange(d)
        rng = np.random.default_rng(0) if rng is None else rng
        return np.sort(rng.choice(d, size=int(coords), replace=False))
    idx = np.asarray(coords)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"gradient_check(coords=...): give None (all {d} coordinates), a number "
                         "k of coordinates drawn at random, or a list of coordinate indices; "
                         f"got {coords!r}.")
    if idx.min() < -d or idx.max() >= d:
        raise ValueError(f"gradient_check(coords=...): indices must lie in 0 … {d - 1} for θ "
                         f"with d = {d} coordinates; got {idx.min()} … {idx.max()}.")
    idx = np.unique(idx % d)
    return idx


def gradient_check(f: Callable, grad: Callable, theta, *, eps: float = 1e-6,
                   coords: Union[None, int, Sequence[int]] = None,
                   rng: Optional[np.random.Generator] = None) -> GradCheck:
    """Compare ``grad(θ)`` with central differences of ``f`` at θ, entry by entry.

    Parameters
    ----------
    f : the loss, batched like every course problem: θ of shape (..., d) → shape (...).
    grad : the gradient to check: θ of shape (..., d) → shape (..., d).
    theta : one point, shape (d,), or a batch of points, shape (..., d), checked all at once
        (2 evaluations of f per checked coordinate, each on the whole batch).
    eps : the finite-difference step ε (default 1e-6, where the error of a central difference
        in float64 is near its smallest; see lecture 01's plot of the error against ε).
    coords : which coordinates to check: None for all d; a number k for k coordinates drawn
        at random from ``rng`` (for a θ too long to check whole, as CS231n does); or a list of
        indices.
    rng : the generator for ``coords=k`` (default ``np.random.default_rng(0)``, so a rerun
        checks the same coordinates).

    Returns
    -------
    GradCheck(max_relative_error, relative_errors, numerical, analytic, worst_index), with
    ``.ok`` true when the largest relative error is below `THRESHOLD`; ``worst_index`` indexes
    θ (and the arrays) at the worst entry; ``print(result)`` explains the outcome.
    """
    theta = np.array(theta, dtype=float)  # a copy: f and grad never see the caller's array
    if theta.ndim == 0:
        raise ValueError("gradient_check: θ must have shape (d,) or (..., d), got a scalar; "
                         "for a function of one number, pass np.array([w]).")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"gradient_check(eps={eps!r}): the step ε must be a positive number, "
                         "e.g. the default 1e-6.")
    if not np.all(np.isfinite(theta)):
        raise ValueError("gradient_check: θ contains NaN or inf; check at a finite point.")
    batch, d = theta.shape[:-1], theta.shape[-1]

    value = np.asarray(f(theta), dtype=float)
    if value.shape != batch:
        raise ValueError(
            f"gradient_check: f(θ) for θ of shape {theta.shape} must return shape {batch}, one "
            f"loss per point, but returned shape {value.shape}. Is f batched over leading "
            "axes (as the course's problems are)? If it takes one θ of shape (d,) only, check "
            "one point at a time.")
    if not np.all(np.isfinite(value)):
        raise ValueError("gradient_check: f(θ) is NaN or inf at the point given; check the "
                         "gradient where the loss is finite.")
    analytic = np.asarray(grad(theta.copy()), dtype=float)
    if analytic.shape != theta.shape:
        raise ValueError(
            f"gradient_check: grad(θ) must have θ's shape {theta.shape}, one partial "
            f"derivative per coordinate, but returned shape {analytic.shape}."
            + (" (transposed?)" if analytic.shape == theta.shape[::-1] else ""))

    idx = _coordinates(coords, d, rng)
    if idx.size == d:
        measured = numerical_grad(f, eps)(theta)
    else:
        def f_of_checked(phi):
            # f as a function of the checked coordinates only, the others held at θ's values
            point = np.array(theta)
            point[..., idx] = phi
            return f(point)
        measured = numerical_grad(f_of_checked, eps)(theta[..., idx])

    numerical = np.full(theta.shape, np.nan)
    numerical[..., idx] = measured
    a, n = analytic[..., idx], measured
    floor = FLOOR * np.abs(value)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
        rel = np.where(a == n, 0.0, np.abs(a - n) / scale)
    rel = np.where(np.isfinite(a) & np.isfinite(n), rel, np.inf)  # a NaN gradient fails
    relative_errors = np.full(theta.shape, np.nan)
    relative_errors[..., idx] = rel

    k = int(np.argmax(rel))
    worst = np.unravel_index(k, rel.shape)
    worst_index = tuple(int(j) for j in worst[:-1]) + (int(idx[worst[-1]]),)
    return GradCheck(float(rel.flat[k]), relative_errors, numerical, analytic, worst_index)
