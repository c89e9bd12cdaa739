"""Convergence theory of gradient descent, momentum and Nesterov on a quadratic, in SymPy.

On f(θ) = ½ θᵀAθ every first-order method of lecture 02 acts on each eigen-coordinate of A
separately, so one eigenvalue λ tells the whole story. Each method's error e_t along an
eigenvector obeys a linear recurrence; its iteration matrix, characteristic polynomial,
stability region and optimal hyperparameters are derived here symbolically, and the numeric
functions the notebooks and widgets use are lambdified from those very expressions.

Notebook 02 shows each derivation step (and checks it); tests compare the numeric functions
with the rates measured from `course_lib.optim`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

__all__ = ["eta", "mu", "lam", "lam_min", "lam_max", "kappa", "z",
           "iteration_matrix", "characteristic_polynomial", "gd_error_closed_form",
           "gd_stability_region", "gd_stability_bound", "gd_optimal", "momentum_stability_bound", "momentum_optimal",
           "nesterov_stability_bound", "nesterov_torch_equivalence", "spectral_radius",
           "rate", "METHODS"]

eta, mu, lam = sp.symbols("eta mu lambda", positive=True)
lam_min, lam_max, kappa = sp.symbols("lambda_min lambda_max kappa", positive=True)
z = sp.Symbol("z")
t = sp.Symbol("t", integer=True, nonnegative=True)

METHODS = ("gd", "momentum", "nesterov")


def iteration_matrix(method: str) -> sp.Matrix:
    """T with (e_{t+1}, e_t)ᵀ = T (e_t, e_{t−1})ᵀ along an eigenvector with eigenvalue λ.

    gd:        e' = (1 − ηλ) e                       (a 1×1 "matrix")
    momentum:  m' = µm − ηλe, e' = e + m'  ⇒  e_{t+1} = (1 + µ − ηλ) e_t − µ e_{t−1}
    nesterov:  m' = µm − ηλ(e + µm), e' = e + m'  ⇒  e_{t+1} = (1+µ)(1−ηλ) e_t − µ(1−ηλ) e_{t−1}
    """
    if method == "gd":
        return sp.Matrix([[1 - eta * lam]])
    e_prev, e_now = sp.symbols("e_prev e_now")
    m_now = e_now - e_prev  # θ_t = θ_{t−1} + m_t
    if method == "momentum":
        m_next = mu * m_now - eta * lam * e_now
    elif method == "nesterov":
        m_next = mu * m_now - eta * lam * (e_now + mu * m_now)
    else:
        raise ValueError(f"method={method!r}: use one of {METHODS}.")
    e_next = sp.expand(e_now + m_next)
    row = [e_next.coeff(e_now), e_next.coeff(e_prev)]
    return sp.Matrix([[sp.factor(row[0]), sp.factor(row[1])], [1, 0]])


def characteristic_polynomial(method: str) -> sp.Expr:
    """det(z I − T): its roots are the factors by which the error shrinks per step."""
    return sp.expand(iteration_matrix(method).charpoly(z).as_expr())


def gd_error_closed_form() -> sp.Expr:
    """e_t for gradient descent: solves e_{t+1} = (1 − ηλ) e_t with e_0 given."""
    e = sp.Function("e")
    e0 = sp.Symbol("e_0")
    return sp.rsolve(e(t + 1) - (1 - eta * lam) * e(t), e(t), {e(0): e0})


def gd_stability_region() -> sp.Rel:
    """The step sizes η > 0 with |1 − ηλ| < 1 (the error shrinks): η < 2/λ."""
    return sp.reduce_inequalities([1 - eta * lam < 1, 1 - eta * lam > -1], eta)


def gd_stability_bound() -> sp.Expr:
    """The largest stable step size, 2/λ."""
    return gd_stability_region().rhs


def gd_optimal() -> dict:
    """η* balancing the slowest and the fastest mode, 1 − η λ_min = −(1 − η λ_max), its rate."""
    eta_star = sp.solve(sp.Eq(1 - eta * lam_min, -(1 - eta * lam_max)), eta)[0]
    rate_star = sp.simplify((1 - eta_star * lam_min).subs(lam_max, kappa * lam_min))
    return {"eta": eta_star, "rate": sp.factor(rate_star)}


def _schur_conditions(poly) -> list:
    """Both roots of z² + a₁z + a₀ lie inside the unit circle iff p(1) > 0, p(−1) > 0, |a₀| < 1
    (Jury's test for degree 2)."""
    a0 = poly.subs(z, 0)
    return [sp.factor(poly.subs(z, 1)), sp.factor(poly.subs(z, -1)), a0]


def momentum_stability_bound() -> sp.Expr:
    """The largest ηλ for which momentum converges, 0 ≤ µ < 1: 2(1 + µ)."""
    p1, pm1, _ = _schur_conditions(characteristic_polynomial("momentum"))
    x = sp.Symbol("x", positive=True)  # x = ηλ
    return sp.solve(sp.Eq(pm1.subs(eta, x / lam), 0), x)[0]


def nesterov_stability_bound() -> sp.Expr:
    """The largest ηλ for which Nesterov converges, 0 ≤ µ < 1: 2(1 + µ)/(1 + 2µ)."""
    p1, pm1, _ = _schur_conditions(characteristic_polynomial("nesterov"))
    x = sp.Symbol("x", positive=True)
    return sp.factor(sp.solve(sp.Eq(pm1.subs(eta, x / lam), 0), x)[0])


def momentum_optimal() -> dict:
    """Polyak's optimal heavy ball: put ηλ_min and ηλ_max on the two edges of the region where
    the roots are complex, (1 − √µ)² ≤ ηλ ≤ (1 + √µ)²; there every mode shrinks by exactly √µ.

    Solved in a = √λ_min, b = √λ_max (so the square roots simplify), then written back."""
    s, a, b = sp.symbols("s a b", positive=True)  # s = √µ
    sols = sp.solve([sp.Eq(eta * a ** 2, (1 - s) ** 2), sp.Eq(eta * b ** 2, (1 + s) ** 2)],
                    [eta, s], dict=True)
    sol = [d for d in sols if d[s].subs({a: 1, b: 2}) < 1][0]  # the root with 0 < √µ < 1
    back = {a: sp.sqrt(lam_min), b: sp.sqrt(lam_max)}
    eta_star = sp.factor(sp.cancel(sol[eta])).subs(back)
    mu_star = sp.factor(sp.cancel(sol[s] ** 2)).subs(back)
    rate_star = sp.factor(sp.cancel(sol[s].subs(b, sp.sqrt(kappa) * a)))
    return {"eta": eta_star, "mu": mu_star, "rate": rate_star}


def nesterov_torch_equivalence() -> sp.Expr:
    """torch.optim.SGD(nesterov=True) iterates p with buffer b: b' = µb + g(p), p' = p − η(g + µb').
    Substituting p = θ + µm (the look-ahead point) and b = −m/η into torch's update and
    subtracting the course's θ̃' = θ' + µm' gives 0: the two are one method, with torch's
    parameter being the course's look-ahead point. Returns that difference (simplified)."""
    th, m, g = sp.symbols("theta m g")  # g = ∇f(θ̃), the gradient at the look-ahead point
    p, b = th + mu * m, -m / eta
    b_next = mu * b + g
    p_next = p - eta * (g + mu * b_next)
    m_next = mu * m - eta * g
    theta_next = th + m_next
    return sp.simplify(p_next - (theta_next + mu * m_next))


@lru_cache(maxsize=None)
def _coefficients(method: str):
    """The characteristic polynomial z² − a z + b (or z − a) as numpy functions of η, µ, λ."""
    poly = sp.Poly(characteristic_polynomial(method), z)
    coeffs = [sp.lambdify((eta, mu, lam), -c if i == 1 else c, "numpy")
              for i, c in enumerate(poly.all_coeffs())]
    return coeffs


def spectral_radius(method: str, eta_, mu_, lam_) -> np.ndarray:
    """max |root| of the characteristic polynomial (broadcasts over η, µ, λ): the factor by which
    the error along eigenvalue λ shrinks per step, asymptotically. ≥ 1 means no convergence."""
    if method not in METHODS:
        raise ValueError(f"method={method!r}: use one of {METHODS}.")
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
