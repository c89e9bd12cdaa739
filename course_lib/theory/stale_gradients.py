"""How far the step size must shrink when gradients arrive τ steps late (asynchronous SGD).

On f = ½ λ e², the delayed update θ_{t+1} = θ_t − η ∇f(θ_{t−τ}) (`optim.Delayed`) is the
linear recurrence e_{t+1} = e_t − a e_{t−τ} with a = ηλ. Its characteristic polynomial is

    p(z) = z^{τ+1} − z^τ + a,

and the error shrinks iff all τ + 1 roots lie inside the unit circle. At a → 0 the roots are
1 − a (inside) and 0 (τ-fold). A root can only leave through the circle, z = e^{iφ}, where
z^τ (z − 1) = −a: the modulus gives a = |e^{iφ} − 1| = 2 sin(φ/2), the phase
τφ + (φ + π)/2 = π (mod 2π), so φ = π/(2τ + 1) first, and the largest stable step is

    ηλ < 2 sin(π / (2(2τ + 1)))   ≈ π/(2τ + 1) for large τ:

τ = 0 gives GD's 2, τ = 1 gives 1, and every further step of delay shrinks it like 1/τ.
Notebook 02 derives this in SymPy; this module keeps the result and a numeric root check.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

__all__ = ["z", "a", "tau", "phi", "characteristic_polynomial", "unit_circle_factor",
           "crossing_angle", "stability_bound", "largest_stable_step", "spectral_radius"]

z = sp.Symbol("z")
a = sp.Symbol("a", positive=True)  # a = ηλ
tau = sp.Symbol("tau", integer=True, nonnegative=True)
phi = sp.Symbol("phi", positive=True)


def characteristic_polynomial(delay=tau) -> sp.Expr:
    """z^{τ+1} − z^τ + a, from e_{t+1} = e_t − a e_{t−τ} with e_t = z^t."""
    e = sp.Function("e")
    t = sp.Symbol("t", integer=True)
    recurrence = e(t + 1) - e(t) + a * e(t - delay)
    trial = recurrence.subs({e(t + 1): z ** (t + 1), e(t): z ** t, e(t - delay): z ** (t - delay)})
    return sp.powsimp(sp.expand(trial * z ** (delay - t)), force=True)


def unit_circle_factor() -> sp.Expr:
    """e^{iφ} − 1 written as modulus × phase: 2 sin(φ/2) · e^{i(φ + π)/2}."""
    return 2 * sp.sin(phi / 2) * sp.exp(sp.I * (phi + sp.pi) / 2)


def crossing_angle() -> sp.Expr:
    """The first angle at which a root reaches the unit circle: z^τ (z − 1) = −a needs phase
    τφ + (φ + π)/2 = π."""
    return sp.solve(sp.Eq(tau * phi + (phi + sp.pi) / 2, sp.pi), phi)[0]


def stability_bound() -> sp.Expr:
    """The largest stable ηλ as a function of τ: the modulus condition a = 2 sin(φ/2) at the
    crossing angle, 2 sin(π/(2(2τ + 1)))."""
    return sp.simplify(2 * sp.sin(crossing_angle() / 2))


_bound = sp.lambdify(tau, stability_bound(), "numpy")


def largest_stable_step(delay) -> np.ndarray:
    """2 sin(π/(2(2τ + 1))), the largest stable ηλ with gradients τ steps stale (broadcasts)."""
    delay = np.asarray(delay)
    if np.any(delay < 0) or np.any(delay != np.round(delay)):
        raise ValueError(f"largest_stable_step(delay={delay!r}): τ counts steps, a whole "
                         "number ≥ 0.")
    return np.asarray(_bound(delay.astype(float)), dtype=float)


def spectral_radius(a_, delay: int) -> np.ndarray:
    """max |root| of z^{τ+1} − z^τ + a for each a in ``a_`` (numerically, from the eigenvalues of
    the companion matrix): < 1 iff the delayed iteration converges."""
    if int(delay) != delay or delay < 0:
        raise ValueError(f"spectral_radius(delay={delay!r}): τ must be a whole number ≥ 0.")
    a_ = np.asarray(a_, dtype=float)
    n = int(delay) + 1
    # companion matrix of z^n + c_{n−1} z^{n−1} + … + c_0 with c_{n−1} = −1, c_0 = a
    C = np.zeros(a_.shape + (n, n))
    C[..., 0, 0] = 1.0
    C[..., 0, n - 1] -= a_
    if n > 1:
        C[..., 1:, :-1] = np.eye(n - 1)
    return np.abs(np.linalg.eigvals(C)).max(axis=-1)
