"""Lecture 02's convergence theory on a quadratic: the results, and numbers computed from them.

On f(θ) = ½ (θ − θ*)ᵀA(θ − θ*) every first-order method of lecture 02 acts on each
eigen-coordinate of A separately, so one eigenvalue λ tells the whole story: the error e_t
along an eigenvector follows a linear recurrence, written as an iteration matrix acting on
(e_t, e_{t−1}). Notebook 02 derives every result below step by step in SymPy and asserts that
it equals the one stated here; tests/test_theory.py runs those derivation cells too, and checks
the numeric functions (lambdified from these very expressions) against rates measured from
`course_lib.optim`.

Results (symbols: η = ``eta``, µ = ``mu``, λ = ``lam``, κ = λ_max/λ_min = ``kappa``):

- `iteration_matrix(method)` and `characteristic_polynomial(method)`, det(zI − T);
- `stable_limit(method)`: the largest ηλ for which the error shrinks (0 ≤ µ < 1);
- `optimum(method)`: the best (η, µ) on a quadratic with eigenvalues in [λ_min, λ_max] and
  the rate it gives (gd, momentum: derived in the notebook; nesterov: Lessard et al. 2016);
- `TORCH_NESTEROV`: torch's Nesterov variables (p, b) in the course's (θ, m).

Numbers: `spectral_radius`, `rate`, `largest_stable_eta`, `optimal_settings`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

__all__ = ["eta", "mu", "lam", "lam_min", "lam_max", "kappa", "z", "theta", "m", "METHODS",
           "iteration_matrix", "characteristic_polynomial", "stable_limit", "optimum",
           "TORCH_NESTEROV", "spectral_radius", "rate", "largest_stable_eta",
           "optimal_settings"]

eta, mu, lam = sp.symbols("eta mu lambda", positive=True)
lam_min, lam_max, kappa = sp.symbols("lambda_min lambda_max kappa", positive=True)
z = sp.Symbol("z")
theta, m = sp.symbols("theta m")

METHODS = ("gd", "momentum", "nesterov")

_MATRICES = {
    # e_{t+1} = (1 − ηλ) e_t
    "gd": sp.Matrix([[1 - eta * lam]]),
    # m' = µm − ηλe, e' = e + m'  ⇒  e_{t+1} = (1 + µ − ηλ) e_t − µ e_{t−1}
    "momentum": sp.Matrix([[1 + mu - eta * lam, -mu], [1, 0]]),
    # m' = µm − ηλ(e + µm), e' = e + m'  ⇒  e_{t+1} = (1+µ)(1−ηλ) e_t − µ(1−ηλ) e_{t−1}
    "nesterov": sp.Matrix([[(1 + mu) * (1 - eta * lam), -mu * (1 - eta * lam)], [1, 0]]),
}

_STABLE_LIMITS = {"gd": sp.Integer(2), "momentum": 2 * (1 + mu),
                  "nesterov": 2 * (1 + mu) / (1 + 2 * mu)}

_sqrt_min, _sqrt_max = sp.sqrt(lam_min), sp.sqrt(lam_max)
_OPTIMA = {
    "gd": {"eta": 2 / (lam_min + lam_max), "mu": sp.Integer(0),
           "rate": (kappa - 1) / (kappa + 1)},
    # Polyak (1964): both edges of the complex-root band, every mode shrinks by √µ.
    "momentum": {"eta": 4 / (_sqrt_min + _sqrt_max) ** 2,
                 "mu": ((_sqrt_max - _sqrt_min) / (_sqrt_max + _sqrt_min)) ** 2,
                 "rate": (sp.sqrt(kappa) - 1) / (sp.sqrt(kappa) + 1)},
    # Lessard, Recht & Packard (2016): Nesterov's best settings on a quadratic (the notebook
    # checks them against a grid search).
    "nesterov": {"eta": 4 / (3 * lam_max + lam_min),
                 "mu": (sp.sqrt(3 * kappa + 1) - 2) / (sp.sqrt(3 * kappa + 1) + 2),
                 "rate": 1 - 2 / sp.sqrt(3 * kappa + 1)},
}

#: torch.optim.SGD(nesterov=True) keeps a parameter p and a buffer b; in the course's variables
#: p is the look-ahead point θ + µm and b = −m/η (with a constant η).
TORCH_NESTEROV = {"p": theta + mu * m, "b": -m / eta}


def _check(method):
    if method not in METHODS:
        raise ValueError(f"method={method!r}: use one of {METHODS}.")


def iteration_matrix(method: str) -> sp.Matrix:
    """T with (e_{t+1}, e_t)ᵀ = T (e_t, e_{t−1})ᵀ along an eigenvector with eigenvalue λ
    (GD: the 1×1 matrix of e_{t+1} = (1 − ηλ) e_t)."""
    _check(method)
    return _MATRICES[method]


def characteristic_polynomial(method: str) -> sp.Expr:
    """det(zI − T), expanded: its roots are the factors by which the error shrinks per step."""
    _check(method)
    return sp.expand(_MATRICES[method].charpoly(z).as_expr())


def stable_limit(method: str) -> sp.Expr:
    """The largest ηλ for which every root of the characteristic polynomial has modulus < 1
    (0 ≤ µ < 1): 2 for GD, 2(1 + µ) for momentum, 2(1 + µ)/(1 + 2µ) for Nesterov."""
    _check(method)
    return _STABLE_LIMITS[method]


def optimum(method: str) -> dict:
    """{"eta", "mu", "rate"}: the best settings on a quadratic whose eigenvalues lie in
    [λ_min, λ_max], and the rate (worst spectral radius) they give, in terms of κ."""
    _check(method)
    return dict(_OPTIMA[method])


@lru_cache(maxsize=None)
def _coefficients(method: str):
    """The characteristic polynomial z² − a z + b (or z − a) as numpy functions of η, µ, λ."""
    poly = sp.Poly(characteristic_polynomial(method), z)
    return [sp.lambdify((eta, mu, lam), -c if i == 1 else c, "numpy")
            for i, c in enumerate(poly.all_coeffs())]


def spectral_radius(method: str, eta_, mu_, lam_) -> np.ndarray:
    """max |root| of the characteristic polynomial (broadcasts over η, µ, λ): the factor by which
    the error along eigenvalue λ shrinks per step, asymptotically. ≥ 1 means no convergence."""
    _check(method)
    eta_, mu_, lam_ = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (eta_, mu_, lam_)))
    c = _coefficients(method)
    if method == "gd":
        return np.abs(np.broadcast_to(c[1](eta_, mu_, lam_), eta_.shape))
    a = np.broadcast_to(c[1](eta_, mu_, lam_), eta_.shape)
    b = np.broadcast_to(c[2](eta_, mu_, lam_), eta_.shape)
    root = np.emath.sqrt(a * a - 4 * b)
    return np.maximum(np.abs((a + root) / 2), np.abs((a - root) / 2))


def rate(method: str, eta_, mu_, eigenvalues) -> np.ndarray:
    """The predicted asymptotic rate on a quadratic: the worst spectral radius over its
    eigenvalues (the last axis of the result is reduced). Broadcasts over η and µ."""
    lams = np.asarray(eigenvalues, dtype=float)
    r = spectral_radius(method, np.asarray(eta_)[..., None], np.asarray(mu_)[..., None], lams)
    return r.max(axis=-1)


@lru_cache(maxsize=None)
def _limit_function(method: str):
    return sp.lambdify(mu, stable_limit(method), "numpy")


def largest_stable_eta(method: str, mu_, lam_max_) -> np.ndarray:
    """stable_limit(method) / λ_max as numbers (broadcasts over µ and λ_max): the step sizes
    below it converge on a quadratic whose largest eigenvalue is λ_max."""
    _check(method)
    mu_ = np.asarray(mu_, dtype=float)
    if np.any((mu_ < 0) | (mu_ >= 1)):
        raise ValueError(f"largest_stable_eta(mu={mu_!r}): the bound holds for 0 ≤ µ < 1.")
    return _limit_function(method)(mu_) / np.asarray(lam_max_, dtype=float)


@lru_cache(maxsize=None)
def _optimum_functions(method: str):
    args = (lam_min, lam_max)
    return {k: sp.lambdify(args, v.subs(kappa, lam_max / lam_min), "numpy")
            for k, v in optimum(method).items()}


def optimal_settings(method: str, lam_min_, lam_max_) -> dict:
    """`optimum(method)` as floats for a quadratic with eigenvalues in [λ_min, λ_max]:
    {"eta": η*, "mu": µ*, "rate": the rate at (η*, µ*)}."""
    _check(method)
    if not 0 < lam_min_ <= lam_max_:
        raise ValueError(f"optimal_settings(lam_min={lam_min_}, lam_max={lam_max_}): needs "
                         "0 < λ_min ≤ λ_max (a positive-definite quadratic).")
    return {k: float(f(lam_min_, lam_max_)) for k, f in _optimum_functions(method).items()}
