"""Second-order methods (lecture 04) in SymPy: the results notebook 04 derives step by step.

* The second-order Taylor model m(p) = L + ∇Lᵀp + ½pᵀHp and the Newton step from its
  stationarity, H p = −∇L (`taylor_model`, `newton_step`).
* One Newton step solves a positive-definite quadratic exactly (`newton_on_quadratic`).
* The BFGS inverse update H⁺ = (I − ρszᵀ) H (I − ρzsᵀ) + ρssᵀ satisfies the secant equation
  H⁺z = s and stays symmetric, for any symmetric H (`bfgs_inverse_update`, in 2-D and 3-D).
* A Hessian-vector product is the directional derivative of the gradient:
  H v = d/dε ∇L(θ + εv) at ε = 0 (`hvp_as_directional_derivative`).
* Finite differences of the gradient along v: the forward difference (∇L(θ+εv) − ∇L(θ))/ε
  is off from Hv by ε/2 · (third derivative) + O(ε²), the central one by ε²/6 · (fourth) +
  O(ε⁴); with rounding ε_mach/ε added, the best ε is ~ε_mach^(1/2) and ~ε_mach^(1/3), the
  best error ~ε_mach^(1/2) and ~ε_mach^(2/3) (`finite_difference_error`).
* Linear CG on m(p) = ∇Lᵀp + ½pᵀHp: the exact step along d, α = −rᵀd / dᵀHd = rᵀr / dᵀHd
  (r = ∇m(p) = Hp + ∇L), and β = r₊ᵀHd / dᵀHd from conjugacy (`cg_step_length`,
  `cg_beta`); the lecture slide's first step (d₀ = +∇L) raises the model by
  (3/2)(∇Lᵀ∇L)²/∇LᵀH∇L, the correct one (d₀ = −∇L) lowers it by half that
  (`slide_cg_first_step`).

Each function returns SymPy objects; ``*_fn`` helpers are the lambdified results for widgets
and tests. `course_lib.optim.newton`, `quasi_newton` and `conjugate_gradient` implement them;
tests/test_second_order.py keeps both sides equal.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

__all__ = ["vector", "symmetric_matrix", "taylor_model", "newton_step", "newton_on_quadratic",
           "bfgs_inverse_update", "hvp_as_directional_derivative", "cg_step_length", "cg_beta",
           "slide_cg_first_step", "finite_difference_error", "quadratic_model_fn",
           "newton_step_fn", "bfgs_update_fn"]

L0 = sp.Symbol("L", real=True)      # the loss at θ
eps = sp.Symbol("epsilon", real=True)
alpha = sp.Symbol("alpha", real=True)


def vector(name: str, d: int) -> sp.Matrix:
    """A column of d real symbols name1 … named."""
    return sp.Matrix(sp.symbols(f"{name}1:{d + 1}", real=True))


def symmetric_matrix(name: str, d: int) -> sp.Matrix:
    """A symmetric d × d matrix of real symbols h_ij = h_ji (i ≤ j)."""
    entries = {}
    for i in range(d):
        for j in range(i, d):
            entries[i, j] = entries[j, i] = sp.Symbol(f"{name}{i + 1}{j + 1}", real=True)
    return sp.Matrix(d, d, lambda i, j: entries[i, j])


def taylor_model(d: int = 2) -> dict:
    """m(p) = L + ∇Lᵀp + ½ pᵀHp in d dimensions, with its gradient ∇m = ∇L + Hp and Hessian H
    (the model is exact for a quadratic L)."""
    g, H, p = vector("g", d), symmetric_matrix("h", d), vector("p", d)
    m = L0 + (g.T * p)[0] + sp.Rational(1, 2) * (p.T * H * p)[0]
    grad = sp.Matrix([sp.diff(m, pi) for pi in p])
    return {"m": sp.expand(m), "g": g, "H": H, "p": p, "grad": sp.simplify(grad),
            "hessian": sp.hessian(m, list(p))}


def newton_step(d: int = 2) -> dict:
    """Set ∇m(p) = 0 and solve: p = −H⁻¹∇L (for an invertible H), and the model's value there,
    m(p*) = L − ½ ∇LᵀH⁻¹∇L: a decrease exactly when ∇LᵀH⁻¹∇L > 0 (e.g. H positive definite)."""
    model = taylor_model(d)
    p, g, H = model["p"], model["g"], model["H"]
    solution = sp.solve(list(model["grad"]), list(p), dict=True)[0]
    step = sp.Matrix([sp.simplify(solution[pi]) for pi in p])
    value = sp.simplify(model["m"].subs(solution))
    return {"step": step, "expected": -H.inv() * g, "value": value,
            "expected_value": L0 - sp.Rational(1, 2) * (g.T * H.inv() * g)[0], **model}


def newton_on_quadratic(d: int = 2) -> dict:
    """L(θ) = ½(θ − c)ᵀA(θ − c) + L*: from any θ, θ − A⁻¹∇L(θ) = c, the minimizer, in one step.
    Returns the new point and θ_new − c (which simplifies to 0)."""
    theta, c, A = vector("theta", d), vector("c", d), symmetric_matrix("a", d)
    grad = A * (theta - c)
    new = theta - A.inv() * grad
    return {"theta": theta, "c": c, "A": A, "new": sp.simplify(new),
            "error": sp.simplify(new - c)}


def bfgs_inverse_update(d: int = 2) -> dict:
    """H⁺ = (I − ρ s zᵀ) H (I − ρ z sᵀ) + ρ s sᵀ, ρ = 1/(sᵀz), for a symmetric H of symbols.

    ``secant`` = H⁺z − s and ``asymmetry`` = H⁺ − H⁺ᵀ both simplify to zero matrices: every
    update meets the secant equation and keeps H symmetric (notebook 04 does d = 2 and 3)."""
    H, s, z = symmetric_matrix("h", d), vector("s", d), vector("z", d)
    rho = 1 / (s.T * z)[0]
    identity = sp.eye(d)
    new = (identity - rho * s * z.T) * H * (identity - rho * z * s.T) + rho * s * s.T
    # cancel (common denominator, then cancel) proves both zero, twice as fast as simplify
    return {"H": H, "s": s, "z": z, "rho": rho, "new": new,
            "secant": (new * z - s).applyfunc(sp.cancel),
            "asymmetry": (new - new.T).applyfunc(sp.cancel)}


def hvp_as_directional_derivative(expr, symbols) -> dict:
    """For a loss ``expr`` in ``symbols``: the directional derivative of the gradient along v,
    d/dε ∇L(θ + εv) at ε = 0, against the Hessian times v. ``difference`` simplifies to 0."""
    symbols = list(symbols)
    v = vector("v", len(symbols))
    grad = sp.Matrix([sp.diff(expr, s) for s in symbols])
    shifted = grad.subs({s: s + eps * vi for s, vi in zip(symbols, v)}, simultaneous=True)
    directional = sp.diff(shifted, eps).subs(eps, 0)
    product = sp.hessian(expr, symbols) * v
    return {"v": v, "directional": sp.simplify(directional), "product": sp.simplify(product),
            "difference": sp.simplify(directional - product)}


def cg_step_length(d: int = 2) -> dict:
    """The exact step along a direction dvec from p: minimize m(p + α d) over α.
    dm/dα = (Hp + ∇L)ᵀd + α dᵀHd = 0 gives α = −rᵀd / dᵀHd with r = Hp + ∇L = ∇m(p); in CG,
    d = −r + β d_prev with rᵀd_prev = 0, so α = rᵀr / dᵀHd."""
    model = taylor_model(d)
    p, g, H = model["p"], model["g"], model["H"]
    dvec = vector("d", d)
    along = model["m"].subs({pi: pi + alpha * di for pi, di in zip(p, dvec)}, simultaneous=True)
    a = sp.solve(sp.diff(along, alpha), alpha)[0]
    r = H * p + g
    return {"alpha": sp.simplify(a), "expected": -(r.T * dvec)[0] / (dvec.T * H * dvec)[0],
            "r": r, "d": dvec, **model}


def cg_beta(d: int = 2) -> dict:
    """β for the next direction d₊ = −r₊ + β d, from conjugacy d₊ᵀ H d = 0:
    β = r₊ᵀH d / dᵀH d."""
    H, r_next, dvec = symmetric_matrix("h", d), vector("r", d), vector("d", d)
    beta = sp.Symbol("beta", real=True)
    conj = ((-r_next + beta * dvec).T * H * dvec)[0]
    b = sp.solve(conj, beta)[0]
    return {"beta": sp.simplify(b),
            "expected": (r_next.T * H * dvec)[0] / (dvec.T * H * dvec)[0]}


def slide_cg_first_step(d: int = 2) -> dict:
    """The slide's first CG step against the correct one, from p = 0 (θ read as p):

    slide:   d₀ = +∇L, α = d₀ᵀ(H·0 + ∇L)/d₀ᵀHd₀ = ∇Lᵀ∇L/∇LᵀH∇L > 0, p₁ = α∇L;
    correct: d₀ = −∇L, the same α, p₁ = −α∇L.
    ``slide_change`` = m(p₁) − m(0) = (3/2)(∇Lᵀ∇L)²/∇LᵀH∇L (> 0 for positive-definite H: the
    model rises); ``correct_change`` = −½(∇Lᵀ∇L)²/∇LᵀH∇L (< 0)."""
    model = taylor_model(d)
    p, g, H, m = model["p"], model["g"], model["H"], model["m"]
    gg, gHg = (g.T * g)[0], (g.T * H * g)[0]
    a = gg / gHg

    def change(step):
        return sp.simplify(m.subs(dict(zip(p, step)), simultaneous=True) - L0)
    return {"alpha": a, "slide_change": change(a * g), "correct_change": change(-a * g),
            "slide_expected": sp.Rational(3, 2) * gg ** 2 / gHg,
            "correct_expected": -sp.Rational(1, 2) * gg ** 2 / gHg}


def finite_difference_error(kind: str = "central") -> dict:
    """Hv by differences of the gradient along v, in one dimension along the line θ + εv:
    with g(ε) = vᵀ∇L(θ + εv), g′(0) = vᵀHv is what the difference estimates.

    ``truncation``: the leading term of (difference − g′(0)) as ε → 0 (SymPy's series):
    ε g″(0)/2 (forward), ε² g‴(0)/6 (central); ``order``: its power of ε.
    With rounding, each gradient is off by about u·G (u = ε_mach, G the size of the
    gradient), so the difference is off by about u G/ε: the total c ε^k + u G/ε is smallest
    at ``best_eps`` = (u G/(k c))^(1/(k+1)), where it is ``best_error`` ∝ u^(k/(k+1)):
    u^(1/2) forward, u^(2/3) central."""
    if kind not in ("forward", "central"):
        raise ValueError(f"finite_difference_error(kind={kind!r}): use 'forward' or 'central'.")
    e = sp.Symbol("epsilon", positive=True)
    g = sp.Function("g")
    if kind == "forward":
        difference = (g(e) - g(0)) / e
    else:
        difference = (g(e) - g(-e)) / (2 * e)
    exact = sp.diff(g(e), e).subs(e, 0)
    gap = sp.series(difference, e, 0, 4).removeO().doit() - exact
    gap = sp.expand(gap)
    order = min(k for k in range(1, 4) if sp.simplify(gap.coeff(e, k)) != 0)
    truncation = sp.simplify(gap.coeff(e, order)) * e ** order
    u, G, c = sp.symbols("u G c", positive=True)
    total = c * e ** order + u * G / e
    best = sp.solve(sp.diff(total, e), e)[0]
    return {"difference": difference, "truncation": truncation, "order": order,
            "total": total, "best_eps": sp.simplify(best),
            "best_error": sp.simplify(total.subs(e, best)), "u": u, "G": G, "c": c,
            "epsilon": e}


# ------------------------------------------------------------------------------ lambdified

@lru_cache(maxsize=None)
def _lambdified(name: str, d: int):
    if name == "model":
        model = taylor_model(d)
        args = [L0, *model["g"], *_upper(model["H"]), *model["p"]]
        return sp.lambdify(args, model["m"], "numpy")
    if name == "newton":
        nt = newton_step(d)
        return sp.lambdify([*nt["g"], *_upper(nt["H"])], list(nt["step"]), "numpy")
    if name == "bfgs":
        b = bfgs_inverse_update(d)
        return sp.lambdify([*_upper(b["H"]), *b["s"], *b["z"]], b["new"].tolist(), "numpy")
    raise KeyError(name)


def _upper(M):
    """The entries h_ij, i ≤ j, of a symmetric matrix of symbols, row by row."""
    n = M.shape[0]
    return [M[i, j] for i in range(n) for j in range(i, n)]


def _upper_values(H):
    import numpy as np
    H = np.asarray(H, dtype=float)
    n = H.shape[-1]
    return [H[..., i, j] for i in range(n) for j in range(i, n)]


def quadratic_model_fn(L, g, H, p):
    """m(p) = L + gᵀp + ½pᵀHp from the lambdified SymPy model (2-D; p may carry leading axes),
    e.g. for drawing the model's contours next to the loss's."""
    import numpy as np
    p = np.asarray(p, dtype=float)
    fn = _lambdified("model", 2)
    return fn(L, *np.asarray(g, dtype=float), *_upper_values(H), p[..., 0], p[..., 1])


def newton_step_fn(g, H):
    """−H⁻¹g from the lambdified SymPy solution (2-D), as an array of shape (2,)."""
    import numpy as np
    return np.array(_lambdified("newton", 2)(*np.asarray(g, dtype=float), *_upper_values(H)),
                    dtype=float)


def bfgs_update_fn(H, s, z):
    """The BFGS inverse update of a symmetric H (d = 2 or 3) from the lambdified SymPy result."""
    import numpy as np
    H = np.asarray(H, dtype=float)
    d = H.shape[-1]
    out = _lambdified("bfgs", d)(*_upper_values(H), *np.asarray(s, dtype=float),
                                 *np.asarray(z, dtype=float))
    return np.array(out, dtype=float)
