"""Adaptive learning rates (lecture 03) in SymPy: bias correction, Adagrad's decay, units.

Five results the lecture derives and `course_lib.optim.adaptive` obeys:

* Adam's bias correction. A running average m_t = β m_{t−1} + (1 − β) g_t started at m_0 = 0
  unrolls to m_t = (1 − β) Σᵢ β^{t−i} gᵢ; for a stationary gradient the geometric sum gives
  E[m_t] = (1 − βᵗ) E[g], so m̂ = m / (1 − βᵗ) is unbiased (`expected_moment`).
* Adagrad under a constant gradient g: v_t = t g², the per-coordinate rate η/√(t g² + ε) decays
  like 1/√t, and the distance travelled grows like 2η√t (`adagrad_effective_rate`, …).
* Units (Zeiler 2012, §3.2): describe the same problem in θ' = cθ. SGD's update becomes 1/c
  times its old value, although θ itself was multiplied by c; Adagrad's, RMSprop's and Adam's
  do not change; Adadelta's (at ε → 0) and Newton's are multiplied by c, as θ is
  (`update_scaling`).
* Adam is invariant to g → c·g, c > 0: exactly at ε = 0 (`adam_gradient_scaling`).
* Adadelta's first step has size √ε/√((1 − ρ) + ε/g²) → √(ε/(1 − ρ)) for |g| ≫ √ε, whatever
  g is: ε sets it, as η sets Adam's (`adadelta_first_step`).

Each function returns SymPy expressions; the ``*_fn`` helpers are the same expressions
lambdified for widgets and tests. Notebook 03 shows the derivations step by step and checks
them against these functions; tests/test_adaptive.py checks them against runs.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

__all__ = ["eta", "eps", "beta", "c", "g", "G", "t", "i", "v", "u", "m", "h",
           "ewma_unrolled", "expected_moment", "ewma_recurrence_solution",
           "bias_correction_factor", "adam_first_step",
           "adagrad_accumulator", "adagrad_effective_rate", "adagrad_rate_decay",
           "adagrad_distance_bounds", "UPDATES", "update_scaling", "adam_gradient_scaling",
           "rho", "adadelta_first_step",
           "bias_correction_fn", "adagrad_effective_rate_fn", "update_scaling_fn"]

eta, eps, beta, c = sp.symbols("eta epsilon beta c", positive=True)
rho = sp.Symbol("rho", positive=True)  # Adadelta's (and RMSprop's) decay, 0 < ρ < 1
g = sp.Symbol("g", real=True, nonzero=True)  # one coordinate of the gradient
G = sp.Symbol("G", real=True)                # E[g] (or E[g²]) of a stationary gradient
t = sp.Symbol("t", integer=True, positive=True)  # steps taken, this one included
i = sp.Symbol("i", integer=True, positive=True)
_gi = sp.IndexedBase("g")

# The records a step keeps, per coordinate: v (sums or averages of g²), m (average of g),
# u (Adadelta's average of Δθ²), h (the curvature, for Newton). All positive except m.
v, u, h = sp.symbols("v u h", positive=True)
m = sp.Symbol("m", real=True)


# ------------------------------------------------------------------------------ bias correction

def ewma_unrolled(beta_=beta) -> sp.Expr:
    """m_t = β m_{t−1} + (1 − β) g_t from m_0 = 0, unrolled: (1 − β) Σ_{i=1}^t β^{t−i} g_i."""
    return (1 - beta_) * sp.Sum(beta_ ** (t - i) * _gi[i], (i, 1, t))


def expected_moment(beta_=beta) -> sp.Expr:
    """E[m_t] when every g_i has the same mean G: (1 − β) G Σ β^{t−i}, a geometric sum,
    = (1 − βᵗ) G. With β = β1, G = E[g] this is Adam's m; with β = β2, G = E[g²] its v."""
    unrolled = ewma_unrolled(beta_).xreplace({_gi[i]: G})  # the expectation, term by term
    return G * sp.simplify(unrolled.doit() / G)


def ewma_recurrence_solution(beta_=beta) -> sp.Expr:
    """The same result without unrolling: solve E[m_t] = β E[m_{t−1}] + (1 − β) G, E[m_0] = 0."""
    M = sp.Function("M")
    solution = sp.rsolve(M(t) - beta_ * M(t - 1) - (1 - beta_) * G, M(t), {M(0): 0})
    return G * sp.simplify(solution / G)


def bias_correction_factor(beta_=beta) -> sp.Expr:
    """The factor k with E[k m_t] = G for every t: 1/(1 − βᵗ) (m̂ = m/(1 − βᵗ))."""
    k = sp.Symbol("k")
    return 1 / sp.simplify(1 / sp.solve(sp.Eq(k * expected_moment(beta_), G), k)[0])


def adam_first_step() -> dict:
    """Adam's first step along a coordinate with gradient g: m̂_1 = g, v̂_1 = g², so
    Δθ_1 = −η g/√(g² + ε); its magnitude is η at ε = 0, whatever g is."""
    b1, b2 = sp.symbols("beta1 beta2", positive=True)
    m1, v1 = (1 - b1) * g, (1 - b2) * g ** 2          # one step from m_0 = v_0 = 0
    m_hat = sp.simplify(m1 * bias_correction_factor(b1).subs(t, 1))
    v_hat = sp.simplify(v1 * bias_correction_factor(b2).subs(t, 1))
    step = -eta * m_hat / sp.sqrt(v_hat + eps)
    return {"m_hat": m_hat, "v_hat": v_hat, "step": step,
            "magnitude_at_eps_0": sp.sqrt(sp.simplify(step.subs(eps, 0) ** 2))}


# ------------------------------------------------------------------------------ Adagrad

def adagrad_accumulator() -> sp.Expr:
    """v_t = Σ_{i=1}^t g² = t g² under a constant gradient g."""
    return sp.summation(g ** 2, (i, 1, t))


def adagrad_effective_rate() -> sp.Expr:
    """The per-coordinate step size of step t under a constant gradient: η/√(t g² + ε)."""
    return eta / sp.sqrt(adagrad_accumulator() + eps)


def adagrad_rate_decay() -> sp.Expr:
    """lim_{t→∞} √t · η/√(t g² + ε) = η/|g|: the rate decays like 1/√t (for any ε)."""
    return sp.limit(sp.sqrt(t) * adagrad_effective_rate(), t, sp.oo)


def adagrad_distance_bounds() -> tuple:
    """Distance travelled in t steps under a constant gradient at ε = 0: each step moves by
    η (η g/√(i g²) = η sign g), so the distance is η Σ_{i=1}^t 1/√i, squeezed between two
    integrals of s^(−1/2): 2η(√(t+1) − 1) ≤ distance ≤ η(2√t − 1). It grows like 2η√t: Adagrad
    never stops under a constant push, but slows down."""
    s = sp.Symbol("s", positive=True)
    lower = eta * sp.integrate(1 / sp.sqrt(s), (s, 1, t + 1))
    upper = eta * (1 + sp.integrate(1 / sp.sqrt(s), (s, 1, t)))
    return sp.simplify(lower), sp.simplify(upper)


# ------------------------------------------------------------------------------ units

#: Δθ of each rule, for one coordinate, from its records (ε inside the roots, as the lecture).
UPDATES = {
    "sgd": -eta * g,
    "adagrad": -eta * g / sp.sqrt(v + eps),   # v = Σ g²
    "rmsprop": -eta * g / sp.sqrt(v + eps),   # v = average of g²
    "adam": -eta * m / sp.sqrt(v + eps),      # m, v bias-corrected
    "adadelta": -sp.sqrt(u + eps) / sp.sqrt(v + eps) * g,
    "newton": -g / h,
}

# The same problem in θ' = cθ: L'(θ') = L(θ'/c), so g' = g/c, h' = h/c², the records built from
# them follow (v' = v/c², m' = m/c), and Adadelta's record of squared steps, u' = c² u, is what
# it would be had every earlier step been taken in the new coordinates.
_RESCALED = {g: g / c, h: h / c ** 2, v: v / c ** 2, m: m / c, u: c ** 2 * u}


def update_scaling(method: str, eps_: sp.Expr = eps) -> sp.Expr:
    """Δθ'/Δθ: the update in θ' = cθ over the update in θ, from the same point and records.

    A rule whose updates carry the units of θ gives c (θ' = cθ, so Δθ' should be cΔθ): Newton,
    and Adadelta at ε = 0. SGD gives 1/c; Adagrad, RMSprop and Adam give 1 at ε = 0 (their
    steps are η-sized whatever the units). Pass ``eps_=0`` for the ε → 0 limit.
    """
    if method not in UPDATES:
        raise ValueError(f"update_scaling(method={method!r}): use one of {sorted(UPDATES)}.")
    before = UPDATES[method].subs(eps, eps_)
    return sp.simplify(before.subs(_RESCALED, simultaneous=True) / before)


def adam_gradient_scaling(eps_: sp.Expr = eps) -> sp.Expr:
    """Adam's step with every gradient multiplied by c > 0 over its step without: m̂ → c m̂,
    v̂ → c² v̂, so the ratio is c √(v̂ + ε)/√(c² v̂ + ε): exactly 1 at ε = 0."""
    before = UPDATES["adam"].subs(eps, eps_)
    return sp.simplify(before.subs({m: c * m, v: c ** 2 * v}, simultaneous=True) / before)


def adadelta_first_step() -> dict:
    """Adadelta's first step along a coordinate with gradient g, from u = v = 0:
    v₁ = (1 − ρ) g², Δθ₁ = −√ε g/√((1 − ρ) g² + ε). For |g| ≫ √ε its size tends to
    √(ε/(1 − ρ)), whatever g is: ε sets the size of Adadelta's first steps, the role η plays
    for Adam (whose first step is η)."""
    v1 = (1 - rho) * g ** 2                           # v ← ρv + (1 − ρ)g², from v = 0
    step = -sp.sqrt(eps) / sp.sqrt(v1 + eps) * g      # −√(u + ε)/√(v₁ + ε)·g with u = 0
    a = sp.Symbol("a", positive=True)                     # a = 1 − ρ > 0, so SymPy knows ρ < 1
    large_g = sp.limit(sp.Abs(step.subs(rho, 1 - a)), g, sp.oo).subs(a, 1 - rho)
    return {"v1": v1, "step": step, "size_for_large_g": large_g}


# ------------------------------------------------------------------------------ numbers

@lru_cache(maxsize=None)
def _bias_correction():
    return sp.lambdify((beta, t), bias_correction_factor(), "numpy")


def bias_correction_fn(beta_, t_):
    """1/(1 − βᵗ) as numbers (broadcasts over β and t; t counts this step, from 1)."""
    return _bias_correction()(np.asarray(beta_, dtype=float), np.asarray(t_))


@lru_cache(maxsize=None)
def _adagrad_rate():
    return sp.lambdify((eta, g, eps, t), adagrad_effective_rate(), "numpy")


def adagrad_effective_rate_fn(eta_, g_, eps_, t_):
    """η/√(t g² + ε) as numbers: the step size of step t (from 1) under a constant gradient g."""
    return _adagrad_rate()(*(np.asarray(a, dtype=float) for a in (eta_, g_, eps_, t_)))


@lru_cache(maxsize=None)
def _update_scaling(method: str):
    return sp.lambdify((c, eps, v, u), update_scaling(method), "numpy")


def update_scaling_fn(method: str, c_, eps_, v_=1.0, u_=1.0):
    """`update_scaling` as numbers, for the records v (of g²) and u (Adadelta's, of Δθ²)."""
    return _update_scaling(method)(*(np.asarray(a, dtype=float) for a in (c_, eps_, v_, u_)))
