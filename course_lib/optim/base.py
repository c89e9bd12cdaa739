"""The optimizer protocol and the checks every optimizer shares.

An optimizer is two pure functions (as in optax): ``state = opt.init(θ)`` and
``θ', state' = opt.step(θ, state, problem)``. The state is a NamedTuple whose fields carry the
lecture's symbols (m, v, t, …). A step never mutates its inputs.

Hyperparameters are numbers, numpy arrays or (for step sizes) schedules η(t). An array holds
one value per run and broadcasts against θ's leading axes: with θ of shape (B, d) pass
``eta=etas[:, None]`` (shape (B, 1)); B settings then run as one batched computation.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Optimizer", "check_theta"]


def check_theta(theta, dim=None, *, what="theta"):
    """θ as a float array of shape (..., d) with finite entries, or a ValueError saying why not."""
    try:
        arr = np.asarray(theta, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be an array of numbers, got {type(theta).__name__}.") \
            from None
    if arr.ndim == 0:
        raise ValueError(f"{what} is a scalar; pass a vector of shape (d,), e.g. np.array([x]).")
    if dim is not None and arr.shape[-1] != dim:
        raise ValueError(f"{what} has shape {arr.shape} but the problem has d = {dim} parameters:"
                         f" its last axis must have length {dim} (shape (..., {dim})).")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{what} has a non-finite entry (nan or inf) at index {tuple(bad)}; "
                         "start from finite values.")
    return arr


class Optimizer:
    """Base of the course's optimizers: hyperparameter checks and a readable repr."""

    #: names of the hyperparameters, in the constructor's order
    hyperparameters: tuple = ()

    def _hyper(self, name, value, *, low=0.0, low_open=False, high=None, high_open=False,
               schedule=False):
        """Store a hyperparameter after checking it (a number, an array, or a schedule)."""
        if schedule and callable(value):
            setattr(self, name, value)
            return
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{type(self).__name__}({name}=...) must be a number or an array of "
                            f"numbers, got {type(value).__name__}.") from None
        cls = type(self).__name__
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{cls}({name}={value!r}): must be finite.")
        if np.any(arr < low) or (low_open and np.any(arr == low)):
            rng = f"{'>' if low_open else '≥'} {low:g}"
            raise ValueError(f"{cls}({name}={value!r}): {name} must be {rng}"
                             + (" — a negative step size climbs the loss instead of descending;"
                                " use e.g. eta=0.1." if name == "eta" else "."))
        if high is not None and (np.any(arr > high) or (high_open and np.any(arr == high))):
            rng = f"{'<' if high_open else '≤'} {high:g}"
            raise ValueError(f"{cls}({name}={value!r}): {name} must be {rng}.")
        setattr(self, name, value if arr.ndim == 0 else arr)

    def _check_batch(self, theta):
        """Each array hyperparameter must broadcast to θ's leading axes (one value per run)."""
        run_shape = theta.shape[:-1] + (1,)
        for name in self.hyperparameters:
            value = getattr(self, name)
            if callable(value):  # a schedule: check the shape of its values
                value = np.asarray(value(0), dtype=float)
            shape = np.shape(value)
            if not shape:
                continue
            try:
                ok = np.broadcast_shapes(shape, run_shape) == run_shape
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(
                    f"{type(self).__name__}: {name} has shape {shape}, which does not broadcast "
                    f"to θ's runs {theta.shape[:-1]} (θ has shape {theta.shape}). Give one value "
                    f"per run with a trailing axis of length 1, e.g. {name}={name}s[:, None] for "
                    f"θ of shape (B, d).")

    def rate(self, value, t):
        """The value of a hyperparameter at step t (schedules are called, numbers returned)."""
        return value(t) if callable(value) else value

    def __repr__(self):
        def show(v):
            return f"array{np.shape(v)}" if np.ndim(v) else repr(v)
        args = ", ".join(f"{n}={show(getattr(self, n))}" for n in self.hyperparameters)
        return f"{type(self).__name__}({args})"
