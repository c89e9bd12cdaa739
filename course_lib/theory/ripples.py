"""Where gradient descent stops on a bowl with small bumps, and when momentum rolls on.

The loss is `course_lib.problems.rippled_quadratic`, f(x) = ½ λ x² + a (1 − cos ωx).

1. Traps. f′(x) = λx + aω sin ωx can only vanish where λ|x| ≤ aω (the ripple's slope beats
   the bowl's): that is the trap zone. f″ = λ + aω² cos ωx, so f is convex, with no traps at
   all, iff aω² ≤ λ.
2. Gradient descent with a small step goes downhill and stops at the first minimum it meets:
   from outside the zone, the outermost local minimum x_GD (just inside aω/λ when many
   ripples fit in the zone). Every minimum is a stable fixed point of GD iff η (λ + aω²) < 2;
   beyond that GD itself jumps out of the sharpest ripples.
3. Heavy ball is a ball with friction. With η = h² and µ = 1 − γh, the recurrence
   x_{t+1} − x_t = µ (x_t − x_{t−1}) − η f′(x_t) becomes, to leading order in h,
   ẍ + γ ẋ + f′(x) = 0 in the time t√η: the friction is γ = (1 − µ)/√η.
4. On a tilted washboard f = g x + a (1 − cos ωx) a ball keeps running as long as what the
   tilt gives per ripple, g · 2π/ω, pays for what friction takes along the slowest path that
   still crosses the bump (the separatrix, speed v = 2√a cos(ωx/2)): γ ∫ v dx = 8γ√a/ω. So it
   stops once the slope falls below the retrapping slope g_r = 4γ√a/π.
5. Momentum rolls past the point where GD stops iff g_r < λ x_GD, i.e.
   µ > 1 − (π/4) λ x_GD √(η/a).

Notebook 02 shows these steps in SymPy; this module keeps the same results, lambdified, for
the tests and the measured map.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

__all__ = ["x", "a", "omega", "lam", "eta", "mu", "gamma", "g", "loss", "trap_zone",
           "convexity_threshold", "continuous_limit", "separatrix_speed", "retrapping_slope",
           "gd_stop", "gd_stable_step", "momentum_passes_above"]

x, g = sp.symbols("x g", real=True)
a, omega, lam, eta, gamma = sp.symbols("a omega lambda eta gamma", positive=True)
mu = sp.Symbol("mu", nonnegative=True)


def loss() -> sp.Expr:
    """f(x) = ½ λ x² + a (1 − cos ωx)."""
    return lam * x ** 2 / 2 + a * (1 - sp.cos(omega * x))


def trap_zone() -> sp.Expr:
    """The largest |x| where f′ can vanish: λx = aω (|sin| ≤ 1), i.e. x = aω/λ."""
    return sp.solve(sp.Eq(lam * x, a * omega), x)[0]


def convexity_threshold() -> sp.Expr:
    """The amplitude below which f″ = λ + aω² cos ωx > 0 everywhere (no traps): a = λ/ω²."""
    return sp.solve(sp.Eq(sp.diff(loss(), x, 2).subs(sp.cos(omega * x), -1), 0), a)[0]


def continuous_limit() -> sp.Expr:
    """The heavy ball's recurrence, expanded for small h with η = h², µ = 1 − γh: the h²
    coefficient of x(s+h) − (1+µ) x(s) + µ x(s−h) + η F(x(s)), i.e. ẍ + γẋ + F(x)."""
    s, h = sp.symbols("s h", positive=True)
    X, F = sp.Function("x"), sp.Function("F")
    m = 1 - gamma * h
    residual = X(s + h) - (1 + m) * X(s) + m * X(s - h) + h ** 2 * F(X(s))
    series = sp.series(residual, h, 0, 3).removeO()
    return sp.simplify(sp.expand(series).coeff(h, 2).doit())


def separatrix_speed() -> sp.Expr:
    """Speed of a ball that just reaches the top of each bump (energy 2a) on a(1 − cos ωx),
    for −π/ω < x < π/ω: ½v² + a(1 − cos ωx) = 2a."""
    v = sp.Symbol("v", positive=True)
    speed = sp.solve(sp.Eq(v ** 2 / 2 + a * (1 - sp.cos(omega * x)), 2 * a), v)[0]
    return sp.simplify(sp.trigsimp(speed.rewrite(sp.cos)).subs(
        sp.cos(omega * x), 2 * sp.cos(omega * x / 2) ** 2 - 1))


def retrapping_slope() -> sp.Expr:
    """The tilt g at which gain per ripple g·2π/ω equals the friction loss γ ∫ v dx over one
    ripple, v the separatrix speed: g_r = 4γ√a/π."""
    v = 2 * sp.sqrt(a) * sp.cos(omega * x / 2)
    lost = gamma * sp.integrate(v, (x, -sp.pi / omega, sp.pi / omega))
    return sp.solve(sp.Eq(g * 2 * sp.pi / omega, lost), g)[0]


def gd_stop(amplitude, omega_: float, lam_: float) -> np.ndarray:
    """x_GD: the outermost local minimum on x > 0 (0 when f is convex), where GD with a small
    step coming from larger x stops. Broadcasts over ``amplitude``."""
    from scipy.optimize import brentq

    def one(a_):
        edge = a_ * omega_ / lam_
        if a_ * omega_ ** 2 <= lam_ or edge <= 0:
            return 0.0
        xs = np.linspace(0.0, edge, int(200 * edge * omega_ / (2 * np.pi)) + 200)
        fp = lam_ * xs + a_ * omega_ * np.sin(omega_ * xs)
        up = np.flatnonzero((fp[:-1] < 0) & (fp[1:] >= 0))  # f′ from − to +: a minimum
        if not len(up):
            return 0.0
        i = up[-1]
        return brentq(lambda v: lam_ * v + a_ * omega_ * np.sin(omega_ * v), xs[i], xs[i + 1],
                      xtol=1e-14)

    amplitude = np.asarray(amplitude, dtype=float)
    return np.vectorize(one, otypes=[float])(amplitude)


def gd_stable_step(amplitude, omega_: float, lam_: float) -> np.ndarray:
    """The step size below which every minimum, however sharp, holds GD: 2/(λ + aω²)."""
    return 2.0 / (lam_ + np.asarray(amplitude, dtype=float) * omega_ ** 2)


def momentum_passes_above(eta_, amplitude, omega_: float, lam_: float) -> np.ndarray:
    """The momentum µ above which heavy ball rolls past GD's stopping point x_GD:
    g_r = (4/π)(1 − µ)√(a/η) < λ x_GD  ⇔  µ > 1 − (π/4) λ x_GD √(η/a). Broadcasts."""
    eta_ = np.asarray(eta_, dtype=float)
    amplitude = np.asarray(amplitude, dtype=float)
    return 1 - np.pi / 4 * lam_ * gd_stop(amplitude, omega_, lam_) * np.sqrt(eta_ / amplitude)
