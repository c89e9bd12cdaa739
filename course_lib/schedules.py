"""Learning-rate schedules η(t): pass one wherever an optimizer takes a step size ``eta``.

With noisy gradients a constant η leaves θ bouncing in a ball whose size grows with η. Robbins
& Monro (1951): SGD converges (under mild conditions) if Σ η_t = ∞ (it can still travel
anywhere) and Σ η_t² < ∞ (the noise it adds stays finite) — sufficient, not necessary. 1/t decay
satisfies both; step decay forever makes Σ η_t finite, so in practice it is stopped after a few
drops or run for a fixed budget.
``t`` counts the steps already taken (0 for the first step).
"""
from __future__ import annotations

import numpy as np

__all__ = ["Schedule", "constant", "step_decay", "inverse_time", "exponential"]


def _positive(name, value):
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name}={value!r}: must be finite and ≥ 0.")
    return value


class Schedule:
    """A step size that depends on the step count: ``schedule(t) -> η_t``."""

    def __init__(self, fn, description: str):
        self._fn, self.description = fn, description

    def __call__(self, t: int):
        return self._fn(t)

    def __repr__(self):
        return self.description


def constant(eta) -> Schedule:
    """η_t = η."""
    _positive("eta", eta)
    return Schedule(lambda t: eta, f"constant(η={eta})")


def step_decay(eta0, factor: float = 0.5, every: int = 100) -> Schedule:
    """η_t = η₀ · factor^⌊t / every⌋: divide the step size every ``every`` steps."""
    _positive("eta0", eta0)
    if not 0 < factor <= 1:
        raise ValueError(f"step_decay(factor={factor}): use a factor in (0, 1].")
    if int(every) < 1:
        raise ValueError(f"step_decay(every={every}): use a positive number of steps.")
    return Schedule(lambda t: eta0 * factor ** (t // every),
                    f"step_decay(η₀={eta0}, factor={factor}, every={every})")


def inverse_time(eta0, k: float = 0.01) -> Schedule:
    """η_t = η₀ / (1 + k t): the 1/t annealing of Robbins–Monro."""
    _positive("eta0", eta0)
    _positive("k", k)
    return Schedule(lambda t: eta0 / (1.0 + k * t), f"inverse_time(η₀={eta0}, k={k})")


def exponential(eta0, gamma: float = 0.99) -> Schedule:
    """η_t = η₀ γ^t."""
    _positive("eta0", eta0)
    if not 0 < gamma <= 1:
        raise ValueError(f"exponential(gamma={gamma}): use γ in (0, 1].")
    return Schedule(lambda t: eta0 * gamma ** t, f"exponential(η₀={eta0}, γ={gamma})")
