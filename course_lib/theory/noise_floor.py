"""The noise floor of SGD, momentum and Nesterov with a constant step: how far above the minimum
stochastic gradients keep the loss, and how µ changes it.

Along one eigenvector of a quadratic (curvature λ), a stochastic gradient is λe + ξ with
noise ξ of mean 0 and variance σ², fresh at every step. Each method is then a linear system
s_{t+1} = A s_t + b ξ_t in its state s = (e, m) (just e for SGD). Its error does not go to 0:
it settles into a stationary distribution whose covariance P solves the Lyapunov equation

    P = A P Aᵀ + σ² b bᵀ,

and the expected excess loss is E[½ λ e²] = ½ λ P_ee. For momentum (Polyak's form of the
lecture) this gives

    Var(e) = η σ² (1 + µ) / (λ (1 − µ) (2(1 + µ) − ηλ)),

so for small ηλ the floor is ≈ ¼ σ² η/(1 − µ): the same as SGD's with the effective step
η/(1 − µ). Momentum at the same η sits 1/(1 − µ) times higher (10× at µ = 0.9); at the same
effective step it is no better and no worse. Notebook 02 derives this in SymPy and measures it
on the digits.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

__all__ = ["eta", "mu", "lam", "sigma2", "transition", "stationary_covariance",
           "stationary_variance", "excess_loss", "noise_floor", "METHODS"]

eta, lam, sigma2 = sp.symbols("eta lambda sigma^2", positive=True)
mu = sp.Symbol("mu", nonnegative=True)

METHODS = ("sgd", "momentum", "nesterov")


def transition(method: str) -> tuple:
    """(A, b) with s_{t+1} = A s_t + b ξ_t, s = (e, m) (SGD: s = e), gradient λe + ξ:

    sgd:       e' = (1 − ηλ) e − ηξ
    momentum:  m' = µm − η(λe + ξ),             e' = e + m'
    nesterov:  m' = µm − η(λ(e + µm) + ξ),      e' = e + m'
    """
    if method == "sgd":
        return sp.Matrix([[1 - eta * lam]]), sp.Matrix([-eta])
    e, m, xi = sp.symbols("e m xi")
    if method == "momentum":
        m_next = mu * m - eta * (lam * e + xi)
    elif method == "nesterov":
        m_next = mu * m - eta * (lam * (e + mu * m) + xi)
    else:
        raise ValueError(f"method={method!r}: use one of {METHODS}.")
    new = [sp.expand(e + m_next), sp.expand(m_next)]
    A = sp.Matrix([[row.coeff(e), row.coeff(m)] for row in new])
    b = sp.Matrix([row.coeff(xi) for row in new])
    return A, b


@lru_cache(maxsize=None)
def stationary_covariance(method: str) -> sp.Matrix:
    """P solving P = A P Aᵀ + σ² b bᵀ (symmetric), the covariance the noise settles into."""
    A, b = transition(method)
    n = A.shape[0]
    entries = sp.symbols(f"p0:{n * (n + 1) // 2}")
    P = sp.zeros(n, n)
    k = 0
    for i in range(n):
        for j in range(i, n):
            P[i, j] = P[j, i] = entries[k]
            k += 1
    equations = list(P - A * P * A.T - sigma2 * b * b.T)
    solution = sp.solve(equations, entries, dict=True)[0]
    return P.subs(solution).applyfunc(sp.factor)


def stationary_variance(method: str) -> sp.Expr:
    """Var(e) in the stationary state: the first diagonal entry of the covariance."""
    return sp.factor(stationary_covariance(method)[0, 0])


def excess_loss(method: str) -> sp.Expr:
    """E[½ λ e²] = ½ λ Var(e): how far above the minimum the loss hovers on average."""
    return sp.factor(lam * stationary_variance(method) / 2)


@lru_cache(maxsize=None)
def _excess_loss_numeric(method: str):
    return sp.lambdify((eta, mu, lam, sigma2), excess_loss(method), "numpy")


@lru_cache(maxsize=None)
def _transition_numeric(method: str):
    return sp.lambdify((eta, mu, lam), transition(method)[0], "numpy")


def _stable(method, e, m, lams) -> np.ndarray:
    """Whether every eigenvalue of A lies inside the unit circle (else no stationary state)."""
    e, m, lams = np.broadcast_arrays(e, m, lams)
    A = np.asarray(_transition_numeric(method)(e, m, lams) + 0 * e[None, None], dtype=float)
    A = np.moveaxis(A, (0, 1), (-2, -1))
    return np.abs(np.linalg.eigvals(A)).max(axis=-1) < 1


def noise_floor(method: str, eta_, mu_, eigenvalues, noise_variances) -> np.ndarray:
    """Σᵢ ½ λᵢ Var(eᵢ): the stationary excess loss on a quadratic with eigenvalues λᵢ and
    gradient-noise variances σᵢ² along its eigenvectors (last axis summed; broadcasts over
    η and µ). inf where the iteration is unstable."""
    if method not in METHODS:
        raise ValueError(f"method={method!r}: use one of {METHODS}.")
    lams = np.asarray(eigenvalues, dtype=float)
    s2 = np.asarray(noise_variances, dtype=float)
    e, m = np.asarray(eta_, dtype=float)[..., None], np.asarray(mu_, dtype=float)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_mode = _excess_loss_numeric(method)(e, m, lams, s2) * np.ones_like(m)
    return np.where(_stable(method, e, m, lams), per_mode, np.inf).sum(axis=-1)
