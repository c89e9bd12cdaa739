"""Opening the box: feed an optimizer synthetic gradient sequences and read off what it does,
as Maheswaranathan et al. (2020, "Reverse engineering learned optimizers reveals known and
novel mechanisms") did for learned optimizers.

The gradients are scripted (they do not depend on θ), one sequence per run, and the optimizer
is driven through its ordinary protocol, so the learned optimizer and the hand-designed ones
of lectures 02–03 answer the same questions:

    constant      g, g, g, …             the step size: −Δθ/g, and how it depends on |g|
    alternating   g, −g, g, …            does it damp an oscillating gradient (momentum does)?
    impulse       g, 0, 0, …             the memory: how long one gradient keeps moving θ
    growing       g, rg, r²g, …          does the step follow |g|, or is it clipped/normalised?
"""
from __future__ import annotations

import numpy as np

__all__ = ["Scripted", "responses", "constant", "alternating", "impulse", "growing",
           "step_size", "memory", "damping", "scale_response"]


class Scripted:
    """A 'problem' whose gradient at the t-th call is row t of ``grads`` (T, K), for K runs
    of one coordinate each (θ of shape (K, 1)), whatever θ is."""

    def __init__(self, grads):
        self.grads = np.asarray(grads, dtype=float)
        self.t = 0
        self.dim = 1
        self.name = "scripted gradients"

    def grad(self, theta):
        g = self.grads[self.t][:, None]
        self.t += 1
        return np.broadcast_to(g, np.shape(theta)).copy()


def responses(opt, grads) -> np.ndarray:
    """The steps Δθₜ = θₜ₊₁ − θₜ (T, K) the optimizer takes when its t-th gradient is
    grads[t] (grads of shape (T, K): K sequences side by side, each its own run)."""
    grads = np.asarray(grads, dtype=float)
    if grads.ndim != 2:
        raise ValueError(f"responses(opt, grads): grads must be (T steps, K sequences), got "
                         f"shape {grads.shape}; for one sequence use grads[:, None].")
    script = Scripted(grads)
    theta = np.zeros((grads.shape[1], 1))
    state = opt.init(theta)
    steps = np.empty_like(grads)
    for t in range(grads.shape[0]):
        new, state = opt.step(theta, state, script)
        steps[t] = (new - theta)[:, 0]
        theta = new
    return steps


def constant(g, T: int) -> np.ndarray:
    """(T, K): the gradient g (one value per sequence) at every step."""
    g = np.atleast_1d(np.asarray(g, dtype=float))
    return np.broadcast_to(g, (T, g.size)).copy()


def alternating(g, T: int) -> np.ndarray:
    """(T, K): g, −g, g, −g, …"""
    return constant(g, T) * (-1.0) ** np.arange(T)[:, None]


def impulse(g, T: int) -> np.ndarray:
    """(T, K): g at the first step, 0 after."""
    out = np.zeros((T, np.size(g)))
    out[0] = g
    return out


def growing(g0, rate: float, T: int) -> np.ndarray:
    """(T, K): g0 · rateᵗ."""
    return constant(g0, T) * rate ** np.arange(T)[:, None]


def _net(opt, grads):
    """Steps with the response to all-zero gradients taken away (a learned optimizer may move
    with no gradient at all: its bias); the rest is what the gradients caused."""
    return responses(opt, grads) - responses(opt, np.zeros_like(grads))


def step_size(opt, magnitudes, T: int = 20) -> np.ndarray:
    """−Δθ/g under a constant gradient g of each magnitude, at every step: (T, K). SGD gives η
    at every magnitude; Adam (ε → 0) gives η/|g|, a step of η whatever |g| is."""
    g = np.asarray(magnitudes, dtype=float)
    return -_net(opt, constant(g, T)) / g


def memory(opt, g: float = 1.0, T: int = 30) -> np.ndarray:
    """The impulse response Δθₜ/Δθ₀ (T,) to a single gradient g: momentum µ gives µᵗ, a
    method without memory 1, 0, 0, …"""
    r = _net(opt, impulse([g], T))[:, 0]
    return r / r[0]


def damping(opt, g: float = 1.0, T: int = 30) -> float:
    """How much smaller the steps are under an alternating gradient than under a constant one
    of the same size (mean |Δθ| over the last half): 1 without memory, (1 − µ)/(1 + µ) for
    heavy-ball momentum's steady state."""
    alt = np.abs(_net(opt, alternating([g], T))[T // 2:, 0]).mean()
    const = np.abs(_net(opt, constant([g], T))[T // 2:, 0]).mean()
    return float(alt / const)


def scale_response(opt, g0: float = 1e-3, rate: float = 1.5, T: int = 30):
    """(gradients (T,), steps (T,)) along a geometrically growing gradient: a step that
    follows g grows by the same factor each step; a clipped one levels off."""
    grads = growing([g0], rate, T)
    return grads[:, 0], _net(opt, grads)[:, 0]
