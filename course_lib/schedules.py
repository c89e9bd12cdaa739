"""Learning-rate schedules η(t): pass one wherever an optimizer takes a step size ``eta``.

With noisy gradients a constant η leaves θ bouncing in a ball whose size grows with η. Robbins
& Monro (1951): SGD converges (under mild conditions) if Σ η_t = ∞ (it can still travel
anywhere) and Σ η_t² < ∞ (the noise it adds stays finite) — sufficient, not necessary. 1/t decay
satisfies both; step decay forever makes Σ η_t finite, so in practice it is stopped after a few
drops or run for a fixed budget. Cosine annealing decays smoothly over a budget fixed in
advance; a linear warm-up ramps the step size up over the first steps and then hands over to
any other schedule.
``t`` counts the steps already taken (0 for the first step). Step sizes may be numpy arrays
(one per run, e.g. ``eta0=etas[:, None]``): every formula broadcasts.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Schedule", "constant", "step_decay", "inverse_time", "exponential", "cosine",
           "warmup", "stack"]


def _positive(name, value):
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name}={value!r}: must be finite and ≥ 0.")
    return value


def _steps(where, name, value):
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{where}({name}={value!r}): use a positive whole number of steps.")
    return int(value)


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


def cosine(eta0, steps: int, eta_min=0.0) -> Schedule:
    """η_t = η_min + (η₀ − η_min) · (1 + cos(π t / T)) / 2 for t ≤ T = ``steps``; η_min after.

    Cosine annealing (Loshchilov & Hutter 2017, SGDR, here without restarts): one smooth decay
    over a budget of T steps fixed in advance. It stays near η₀ for the first steps (fast
    progress while far from the minimum), falls fastest mid-way, and spends the last steps at
    small η, where the noise ball shrinks. The only setting is the budget: no decay times or
    factors to tune, which is why it is the default of many training recipes.
    Equals ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=T, eta_min=η_min)`` for t ≤ T
    (torch's curve rises again after T; this one stays at η_min).
    """
    _positive("eta0", eta0)
    _positive("eta_min", eta_min)
    steps = _steps("cosine", "steps", steps)
    if np.any(np.asarray(eta_min, dtype=float) > np.asarray(eta0, dtype=float)):
        raise ValueError(f"cosine(eta0={eta0!r}, eta_min={eta_min!r}): the schedule decays from "
                         "eta0 to eta_min, so use eta_min ≤ eta0 (e.g. eta_min=0).")

    def fn(t):
        return eta_min + (eta0 - eta_min) * 0.5 * (1.0 + np.cos(np.pi * min(t, steps) / steps))
    return Schedule(fn, f"cosine(η₀={eta0}, steps={steps}, η_min={eta_min})")


def warmup(then, steps: int, start_factor: float = 0.0) -> Schedule:
    """A linear warm-up over W = ``steps`` steps, then the schedule ``then`` (or a constant η):

        η_t = η_W · (s + (1 − s) · t / W)   for t < W     (η_W = then(0), s = start_factor)
        η_t = then(t − W)                   for t ≥ W     (then's clock starts after warm-up)

    For the first steps, when the step size that suits the rest of training is too large:
    at the start the curvature along the path can be higher than later, and any state
    estimated from gradients (adaptive methods, lecture 03) is still poor. Goyal et al.
    (2017) warm up for 5 epochs to train with large mini-batches and a step size scaled with
    the batch; transformer recipes warm up, then decay with a cosine.
    Composes with every schedule: ``warmup(cosine(η₀, T − W), W)`` spends T steps in all.
    ``start_factor`` s ∈ [0, 1]: 0 starts from η = 0 (the first step then moves nothing).
    torch: ``LinearLR(start_factor=s, total_iters=W)`` for a constant η, and
    ``SequentialLR([LinearLR(...), then's scheduler], milestones=[W])`` otherwise (s > 0).
    """
    steps = _steps("warmup", "steps", steps)
    if not 0 <= start_factor <= 1:
        raise ValueError(f"warmup(start_factor={start_factor!r}): use a fraction in [0, 1] of "
                         "the step size the warm-up ends at (0 starts from η = 0).")
    if not callable(then):
        try:
            value = np.asarray(then, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"warmup(then={then!r}): pass the schedule that follows the warm-up "
                            "(e.g. cosine(1.0, 1000)) or a constant step size.") from None
        then = constant(_positive("then", value if value.ndim else float(value)))

    def fn(t):
        if t >= steps:
            return then(t - steps)
        return then(0) * (start_factor + (1.0 - start_factor) * t / steps)
    return Schedule(fn, f"warmup({then!r}, steps={steps}, start_factor={start_factor})")


def stack(*schedules) -> Schedule:
    """Several schedules side by side: η_t = (a(t), b(t), …) as a column of shape (k, 1).

    One value per run, so ``run(SGD(stack(a, b, c)), problem, np.zeros((3, d)), ...)`` takes
    three runs in one batched call; with mini-batches they all see the same batches, so the
    differences between them come from the schedules alone. Numbers stand for constants.
    """
    if not schedules:
        raise ValueError("stack(): pass the schedules to run side by side, e.g. "
                         "stack(constant(1.0), cosine(1.0, 1000)).")
    parts = [s if callable(s) else constant(s) for s in schedules]

    def fn(t):
        values = [np.asarray(s(t), dtype=float) for s in parts]
        if any(v.ndim for v in values):
            raise ValueError("stack(...): each schedule must give one number per step; stack "
                             "schedules whose step sizes are plain numbers.")
        return np.array(values)[:, None]
    return Schedule(fn, "stack(" + ", ".join(map(repr, parts)) + ")")
