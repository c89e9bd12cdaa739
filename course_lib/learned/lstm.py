"""The coordinatewise LSTM optimizer of Andrychowicz et al. (2016), §2.1 and §3:

    [g_t, h_{t+1}] = m(∇_t, h_t; φ),      θ_{t+1} = θ_t + g_t

m is a two-layer LSTM with 20 hidden units per layer that sees ONE coordinate of the gradient
(or its two preprocessed numbers) and returns that coordinate's step. The same φ serves every
coordinate, each with its own hidden state: the optimizer works for any number of parameters
and does not care how they are ordered.

One layer, for input x and state (h, c), with σ the logistic function:

    i = σ(x Wᵢ + h Uᵢ + bᵢ)       input gate
    f = σ(x W_f + h U_f + b_f)    forget gate
    o = σ(x Wₒ + h Uₒ + bₒ)       output gate
    z = tanh(x W_z + h U_z + b_z)  candidate
    c ← f ⊙ c + i ⊙ z;   h ← o ⊙ tanh(c)

and the step is g = s · (h₂ w + b) with the output scale s = 0.1 (the paper's public code
multiplies its output by 0.1 too), so an untrained network takes small steps.

Each gate has its own matrices (not one fused 4×20 matrix sliced afterwards): under autograd
slicing a fused product made the backward pass twice as slow. Meta-training alone uses
`fuse` and `fused_cell`: per layer one product of [x, h] with the four gates' matrices side
by side, cut by `split` (whose backward pass is one concatenation, not four scatters), and
the logistic function as one primitive. The same numbers to rounding (tested), and about
1.25× faster under autograd; in plain numpy `cell` is the faster of the two.
"""
from __future__ import annotations

from typing import NamedTuple

import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import expit

__all__ = ["GATES", "HIDDEN", "OUTPUT_SCALE", "LSTMState", "init_params", "zero_state", "cell",
           "fuse", "fused_cell", "n_inputs", "n_parameters"]

#: the four gates of a layer: input, forget, output, and the candidate z
GATES = ("i", "f", "o", "z")
HIDDEN = 20
OUTPUT_SCALE = 0.1
_LAYERS = ("1", "2")


class LSTMState(NamedTuple):
    """Hidden and cell state of both layers, shape (..., d, 20): one row per coordinate."""
    h1: np.ndarray
    c1: np.ndarray
    h2: np.ndarray
    c2: np.ndarray


def init_params(rng: np.random.Generator, n_in: int = 1, hidden: int = HIDDEN) -> dict:
    """φ as a dict of arrays: for layer ℓ ∈ {1, 2} and gate k, W{k}{ℓ} (inputs × hidden),
    U{k}{ℓ} (hidden × hidden), b{k}{ℓ} (hidden); the output layer w_out (hidden), b_out ().

    Weights ~ N(0, 1/(fan-in)), biases 0 except the forget gates' 1 (a memory that starts
    by keeping, the usual LSTM start), the output weights small.
    """
    if n_in not in (1, 2):
        raise ValueError(f"init_params(n_in={n_in}): the LSTM sees 1 input per coordinate "
                         "(the raw gradient) or 2 (the preprocessed pair).")
    params = {}
    for layer, k in zip(_LAYERS, (n_in, hidden)):
        scale = 1.0 / np.sqrt(k + hidden)
        for gate in GATES:
            params[f"W{gate}{layer}"] = rng.normal(0.0, scale, (k, hidden))
            params[f"U{gate}{layer}"] = rng.normal(0.0, scale, (hidden, hidden))
            params[f"b{gate}{layer}"] = np.full(hidden, 1.0 if gate == "f" else 0.0)
    params["w_out"] = rng.normal(0.0, 0.1 / np.sqrt(hidden), hidden)
    params["b_out"] = np.zeros(())
    return params


def n_inputs(params: dict) -> int:
    """Inputs per coordinate: 1 (raw gradient) or 2 (preprocessed)."""
    return int(np.shape(params["Wi1"])[0])


def n_parameters(params: dict) -> int:
    return int(sum(np.size(v) for v in params.values()))


def zero_state(shape, hidden: int = HIDDEN) -> LSTMState:
    """All zeros for θ of shape ``shape`` = (..., d)."""
    z = np.zeros(tuple(shape) + (hidden,))
    return LSTMState(z, z, z, z)


def _sigmoid(a):
    return 0.5 * (anp.tanh(0.5 * a) + 1.0)   # = 1/(1 + e^(−a)), without overflow


def _layer(params, layer, x, h, c):
    def pre(gate):
        return x @ params[f"W{gate}{layer}"] + h @ params[f"U{gate}{layer}"] \
            + params[f"b{gate}{layer}"]
    i, f, o = _sigmoid(pre("i")), _sigmoid(pre("f")), _sigmoid(pre("o"))
    c = f * c + i * anp.tanh(pre("z"))
    return o * anp.tanh(c), c


def cell(params: dict, x, state: LSTMState):
    """One step of the two-layer LSTM for every coordinate at once.

    x : (..., d, n_in), the (preprocessed) gradient coordinates. Returns the step g (..., d)
    (already multiplied by the output scale) and the new state. Works on numpy arrays and on
    autograd's traced values alike.
    """
    h1, c1 = _layer(params, "1", x, state.h1, state.c1)
    h2, c2 = _layer(params, "2", h1, state.h2, state.c2)
    step = OUTPUT_SCALE * (h2 @ params["w_out"] + params["b_out"])
    return step, LSTMState(h1, c1, h2, c2)


def fuse(params: dict) -> dict:
    """φ with each layer's gates side by side: M{ℓ} = [[W_i W_f W_o W_z], [U_i U_f U_o U_z]]
    ((inputs + hidden) × 4·hidden) and b{ℓ} = [b_i b_f b_o b_z], for `fused_cell`. Built once
    per segment (under autograd, its backward pass routes each block back to its gate)."""
    out = {"w_out": params["w_out"], "b_out": params["b_out"]}
    for layer in _LAYERS:
        out[f"M{layer}"] = anp.concatenate(
            [anp.concatenate([params[f"W{g}{layer}"] for g in GATES], axis=1),
             anp.concatenate([params[f"U{g}{layer}"] for g in GATES], axis=1)], axis=0)
        out[f"b{layer}"] = anp.concatenate([params[f"b{g}{layer}"] for g in GATES])
    return out


def _fused_layer(M, b, x, h, c):
    i, f, o, z = anp.split(anp.concatenate([x, h], axis=-1) @ M + b, 4, axis=-1)
    c = expit(f) * c + expit(i) * anp.tanh(z)
    return expit(o) * anp.tanh(c), c


def fused_cell(fused: dict, x, state: LSTMState):
    """`cell` for the weights of `fuse`: the same step and state to rounding."""
    h1, c1 = _fused_layer(fused["M1"], fused["b1"], x, state.h1, state.c1)
    h2, c2 = _fused_layer(fused["M2"], fused["b2"], h1, state.h2, state.c2)
    step = OUTPUT_SCALE * (h2 @ fused["w_out"] + fused["b_out"])
    return step, LSTMState(h1, c1, h2, c2)
