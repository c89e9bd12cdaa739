"""Linear conjugate gradient on the quadratic model, with matrix–vector products only.

Hessian-free optimization never forms A = H + λI (or G + λI): it minimizes the model

    m(p) = ∇Lᵀp + ½ pᵀA p,   whose minimizer solves   A p = −∇L,

by conjugate gradient, which touches A only through products A v. Written for the model
(Nocedal & Wright 2006, Algorithm 5.2, with b = −∇L), starting from p₀ (0, or a warm start):

    r₀ = A p₀ + ∇L   (the model's gradient at p₀),   d₀ = −r₀
    α = rᵀr / dᵀA d;   p ← p + α d;   r_new = r + α A d
    β = r_newᵀr_new / rᵀr;   d ← −r_new + β d

In exact arithmetic it reaches the minimizer in at most d iterations; in floating point,
rounding erodes the conjugacy of the directions, the more so the larger κ(A) and d, so the
residual after d iterations is small but not zero (tests pin ≤ 1e-6 for κ = 100, d ≤ 10).
The lecture's slide
writes d₀ = ∇L and α = dᵀ(Hθ + ∇L)/dᵀHd: its first step climbs the model (notebook 04
shows where it goes wrong and runs it).
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple, Optional

import numpy as np

__all__ = ["conjugate_gradient", "CGResult", "martens_should_stop",
           "slide_conjugate_gradient"]


class CGResult(NamedTuple):
    p: np.ndarray            # the last iterate, (*B, d)
    model: np.ndarray        # m(p) = ∇Lᵀp + ½pᵀAp at the last iterate, (*B)
    iterations: np.ndarray   # iterations each run took, (*B) int
    products: int            # products A v computed (each on the whole batch)
    reason: np.ndarray       # why each run stopped: "residual", "progress", "max_iter",
    #                          "negative curvature" (dᵀAd ≤ 0: A is not positive definite)
    saved: tuple             # (i, p_i, m(p_i)) kept at i = ⌈γʲ⌉ for Martens' backtracking
    history: Optional[list]  # m(p_i) for i = 0, 1, … when asked for (record=True)


def martens_should_stop(models, i, eps=5e-4):
    """Martens (2010)'s relative-progress test after iteration i (models[j] = m(p_j)):
    with k = max(10, ⌈0.1 i⌉), stop when i > k, m(p_i) < 0 and
    (m(p_i) − m(p_{i−k})) / m(p_i) < k ε — the last k iterations lowered the model by less
    than a fraction kε of its value. ``models`` may hold one value per run (arrays)."""
    k = max(10, math.ceil(0.1 * i))
    if i <= k:
        return np.zeros(np.shape(models[i]), dtype=bool)
    m_i, m_old = np.asarray(models[i]), np.asarray(models[i - k])
    with np.errstate(divide="ignore", invalid="ignore"):
        return (m_i < 0) & ((m_i - m_old) / m_i < k * eps)


def conjugate_gradient(A: Callable, g, p0=None, *, tol: float = 1e-10,
                       max_iter: Optional[int] = None, progress_eps: Optional[float] = None,
                       preconditioner=None, save_gamma: Optional[float] = None,
                       record: bool = False) -> CGResult:
    """Minimize m(p) = gᵀp + ½pᵀA p (solve A p = −g) by conjugate gradient, batched over runs.

    A : the product v ↦ A v for v of shape (*B, d) (one call per iteration, +1 for a warm start).
    g : (*B, d), the gradient ∇L at θ. p0 : the start (default 0).
    tol : stop a run once ‖r‖ ≤ tol ‖g‖ (r = A p + g, the residual of A p = −g).
    max_iter : at most this many iterations (default d, enough in exact arithmetic).
    progress_eps : also stop by Martens' relative progress of m (`martens_should_stop`;
        Martens uses 5e-4).
    preconditioner : a positive diagonal M (*B, d): CG on M^(−1/2) A M^(−1/2), i.e. with
        z = r / M in place of r (α = rᵀz / dᵀAd, β = r_newᵀz_new / rᵀz, d ← −z + βd).
    save_gamma : keep the iterates at i = ⌈γʲ⌉ (Martens: γ = 1.3) for backtracking.
    record : keep m(p_i) of every iteration in ``history``.

    A run stops at its own iteration; the others go on (a stopped run's p no longer moves).
    Where dᵀAd ≤ 0 the model is unbounded below along d: that run stops at its current p.
    """
    g = np.asarray(g, dtype=float)
    batch, d = g.shape[:-1], g.shape[-1]
    max_iter = d if max_iter is None else int(max_iter)
    if p0 is None:
        p = np.zeros_like(g)
        r = g.copy()
        products = 0
    else:
        p = np.array(np.broadcast_to(p0, g.shape), dtype=float)
        r = A(p) + g
        products = 1
    M = None if preconditioner is None else np.broadcast_to(preconditioner, g.shape)
    z = r if M is None else r / M
    dvec = -z
    rz = np.einsum("...i,...i->...", r, z)
    g_norm = np.linalg.norm(g, axis=-1)
    active = np.linalg.norm(r, axis=-1) > tol * g_norm
    reason = np.where(active, "", "residual").astype(object)
    iterations = np.zeros(batch, dtype=int)
    model = 0.5 * np.einsum("...i,...i->...", p, r + g)  # m(p) = ½ pᵀ(r + g)
    models = [model]
    saved = []
    save_at = set()
    if save_gamma is not None:
        j = 0
        while math.ceil(save_gamma ** j) <= max_iter:
            save_at.add(math.ceil(save_gamma ** j))
            j += 1
    for i in range(1, max_iter + 1):
        if not active.any():
            break
        Ad = A(dvec)
        products += 1
        curv = np.einsum("...i,...i->...", dvec, Ad)
        negative = active & ~(curv > 0)
        if negative.any():
            reason = np.where(negative, "negative curvature", reason)
            active = active & ~negative
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(active, rz / curv, 0.0)
        p = p + alpha[..., None] * dvec
        r = r + alpha[..., None] * Ad
        z = r if M is None else r / M
        rz_new = np.einsum("...i,...i->...", r, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = np.where(active, rz_new / rz, 0.0)
        dvec = np.where(active[..., None], -z + beta[..., None] * dvec, dvec)
        rz = np.where(active, rz_new, rz)
        iterations = iterations + active
        model = np.where(active, 0.5 * np.einsum("...i,...i->...", p, r + g), model)
        models.append(model)
        if i in save_at:
            saved.append((i, p, model))
        small = active & (np.linalg.norm(r, axis=-1) <= tol * g_norm)
        stalled = active & ~small & (martens_should_stop(models, i, progress_eps)
                                     if progress_eps is not None else False)
        reason = np.where(small, "residual", np.where(stalled, "progress", reason))
        active = active & ~small & ~stalled
    reason = np.where(active, "max_iter", reason)
    return CGResult(p, model, iterations, products, reason, tuple(saved),
                    models if record else None)


def slide_conjugate_gradient(A: Callable, g, iterations: int) -> np.ndarray:
    """The seed lecture's CG slide, taken literally, for m(p) = gᵀp + ½pᵀAp (θ read as the
    iterate p, ∇L = g the fixed gradient at the outer point), from p = 0:

        d₀ = ∇L;  repeat:  α = dᵀ(A p + ∇L) / dᵀA d;  p ← p + α d;
                           β = ∇LᵀA d / dᵀA d;  d ← −∇L + β d.

    Returns m(p_i) for i = 0 … ``iterations`` (*B, iterations + 1). Its first step goes uphill
    (d₀ = +∇L with α > 0), and then β₀ = ∇LᵀA∇L/∇LᵀA∇L = 1 makes d₁ = −∇L + ∇L = 0: the
    next α is 0/0, and m is nan from there on (CG proper uses the residual A p + ∇L in both
    places). Notebook 04 runs it next to `conjugate_gradient`."""
    g = np.asarray(g, dtype=float)
    p = np.zeros_like(g)
    d = g.copy()
    models = [np.zeros(g.shape[:-1])]
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 once d = 0: nan, as it is
        for _ in range(int(iterations)):
            Ad = A(d)
            dAd = np.einsum("...i,...i->...", d, Ad)
            alpha = np.einsum("...i,...i->...", d, A(p) + g) / dAd
            p = p + alpha[..., None] * d
            beta = np.einsum("...i,...i->...", g, Ad) / dAd
            d = -g + beta[..., None] * d
            models.append(np.einsum("...i,...i->...", g, p)
                          + 0.5 * np.einsum("...i,...i->...", p, A(p)))
    return np.stack(models, axis=-1)
