"""Several dimensions from 1-D tests (Schaul, Antonoglou & Silver 2014): their sum, a random
rotation, a curl.

Sum (the paper's L1 combination). Coordinate i carries its own 1-D test F_i (shape, scale and
noise); the landscape is

    f(z) = Σᵢ |F_i(z_i)|,        ∂f/∂z_i = sign(F_i(z_i)) F_i'(z_i)

(in one dimension f = F_1 itself, no absolute value, as in the paper). The terms are separable:
an optimizer that treats coordinates one by one (the adaptive ones) is at its best here.

Rotation. f_Q(θ) = f(Q θ) with Q a random orthogonal matrix (Haar distributed, drawn from the
case's seed): the same landscape turned so that no coordinate axis lines up with its
structure. Its gradient is ∇f_Q(θ) = Qᵀ ∇f(Qθ). The start moves with it, θ₀ = Qᵀ z_s, so every
run starts from the same value as in the unrotated test. (The paper's code multiplies the
gradient by Q instead of Qᵀ, which for a non-symmetric Q is not the gradient of anything: the
field it optimizes is rotated twice.)

Curl. The gradient field gets a rotational part that no function has,

    g(θ) = ∇f(θ) + κ K (θ − θ₀),      K = −Kᵀ, ‖K‖₂ = 1, κ = 1,

K a random antisymmetric matrix (in 2-D ±[[0, −1], [1, 0]]). Since K is antisymmetric,
(θ − θ₀)ᵀK(θ − θ₀) = 0: the added field circles around the start without pushing toward or
away from it, and is no gradient (its curl is 2κK ≠ 0). Gradient methods then chase a field
that is not conservative, as in games or actor-critic learning. (The paper's code adds κ Q θ
with Q orthogonal, whose symmetric part (Q + Qᵀ)/2 is a gradient after all, of the quadratic
½ θᵀ(Q + Qᵀ)θ/2, which changes the landscape it scores; here only the rotational part is
added, so the value being scored is untouched.)
"""
from __future__ import annotations

import numpy as np

__all__ = ["random_rotation", "random_curl", "CURL_STRENGTH", "sum_of_abs"]

#: κ, the strength of the curl (the paper's code: 1)
CURL_STRENGTH = 1.0


def random_rotation(rng, d: int) -> np.ndarray:
    """A Haar-distributed random orthogonal d × d matrix: Q from the QR factorisation of a
    Gaussian matrix, with R's diagonal made positive (Mezzadri 2007)."""
    if d < 2:
        raise ValueError(f"a rotation needs at least 2 dimensions, got d = {d}.")
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def random_curl(rng, d: int) -> np.ndarray:
    """A random antisymmetric d × d matrix K with spectral norm 1."""
    if d < 2:
        raise ValueError(f"a curl needs at least 2 dimensions, got d = {d}.")
    g = rng.standard_normal((d, d))
    k = g - g.T
    return k / np.linalg.norm(k, 2)


def sum_of_abs(values, slopes, axis=0):
    """f = Σᵢ |F_i| and ∂f/∂z_i = sign(F_i) F_i' (coordinates along ``axis``)."""
    return np.abs(values).sum(axis=axis), np.sign(values) * slopes
