"""The paper's network experiment scaled to this machine (Andrychowicz et al. 2016, §3.2, MNIST
there): an MLP with one hidden layer of 20 sigmoid units and a softmax output, trained on
mini-batches of 128 of scikit-learn's 8×8 digits, with the LSTM optimizer's gradients
preprocessed (`preprocess`).

    ŷ = softmax(W₂ᵀ[σ(W₁ᵀx̃); 1]),   x̃ = [x; 1],   θ = (W₁, W₂) flattened (65·20 + 21·10)

`Digits` is one optimizee: f(θ) is the cross-entropy on the whole training split, ∇ the
gradient of a mini-batch drawn from its own random stream (so a run is repeatable from its
seed). θ may carry leading batch axes; every run then sees the same mini-batches.
"""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np

from ..data import load_digits
from . import meta

__all__ = ["HIDDEN", "BATCH", "SPLITS", "Digits", "glorot", "DigitsTask", "CONFIG"]

HIDDEN, BATCH, CLASSES = 20, 128, 10
#: the mini-batch streams of meta-training, tuning and testing never meet (as for quadratics)
SPLITS = {"train": 10, "tune": 11, "test": 12}
#: meta-training on the MLP: preprocessed gradients, 4 networks per meta-step, the meta
#: learning rate 3e-3 → 3e-4, the paper's unweighted meta-loss (wₜ = 1, the first segment's
#: too), the per-gate LSTM under autograd and the checkpoint of the lowest score: the
#: settings the shipped mlp_digits.npz was trained with (the quadratics' defaults moved on)
CONFIG = meta.Config(preprocess=True, batch=4, tune_functions=8, eval_every=25, lr=3e-3,
                     lr_final=3e-4, relative=False, fused=False, first_weight=1.0,
                     shortlist=0)


def _sigmoid(z):
    return 0.5 * (anp.tanh(0.5 * z) + 1.0)


def glorot(rng, n_in: int = 65, hidden: int = HIDDEN, classes: int = CLASSES, shape=()):
    """Starting weights, Glorot-uniform, shape (*shape, P)."""
    b1, b2 = np.sqrt(6 / (n_in + hidden)), np.sqrt(6 / (hidden + 1 + classes))
    return np.concatenate([rng.uniform(-b1, b1, tuple(shape) + (n_in * hidden,)),
                           rng.uniform(-b2, b2, tuple(shape) + ((hidden + 1) * classes,))],
                          axis=-1)


class Digits:
    """One optimizee: the 20-sigmoid-unit MLP on the digits' training split (75%, `load_digits`
    seed 0), mini-batch gradients of ``batch`` examples drawn from ``seed``'s stream."""

    def __init__(self, seed: int, *, split: str = "test", hidden: int = HIDDEN,
                 batch: int = BATCH, split_seed=0):
        if split not in SPLITS:
            raise ValueError(f"Digits(split={split!r}): use one of {sorted(SPLITS)}.")
        data = load_digits(seed=split_seed)
        self.X = np.concatenate([data.X_train, np.ones((len(data.X_train), 1))], axis=1)
        self.Y = np.eye(CLASSES)[data.y_train]
        self.X_test = np.concatenate([data.X_test, np.ones((len(data.X_test), 1))], axis=1)
        self.y_test = data.y_test
        self.hidden, self.batch = hidden, batch
        self.p = self.X.shape[1]
        self.dim = self.p * hidden + (hidden + 1) * CLASSES
        self.rng = np.random.default_rng([SPLITS[split], int(seed)])
        self.name = f"MLP ({hidden} sigmoid units) on the digits"

    def _unpack(self, theta):
        lead = theta.shape[:-1]
        split = self.p * self.hidden
        return (anp.reshape(theta[..., :split], lead + (self.p, self.hidden)),
                anp.reshape(theta[..., split:], lead + (self.hidden + 1, CLASSES)))

    def loss(self, theta, X, Y):
        """Mean cross-entropy on (X, Y), one value per run; autograd can trace it."""
        W1, W2 = self._unpack(theta)
        H = _sigmoid(X @ W1)
        S = H @ W2[..., :-1, :] + W2[..., -1:, :]
        top = anp.max(S, axis=-1, keepdims=True)
        lse = top[..., 0] + anp.log(anp.sum(anp.exp(S - top), axis=-1))
        return anp.mean(lse - anp.sum(Y * S, axis=-1), axis=-1)

    def f(self, theta):
        """The loss on the whole training split."""
        return self.loss(theta, self.X, self.Y)

    def batch_grad(self, theta, X, Y):
        """∇ of the mean cross-entropy on (X, Y), by back-propagation (plain numpy)."""
        theta = np.asarray(theta, dtype=float)
        W1, W2 = self._unpack(theta)
        H = _sigmoid(X @ W1)
        S = H @ W2[..., :-1, :] + W2[..., -1:, :]
        P = np.exp(S - S.max(axis=-1, keepdims=True))
        P /= P.sum(axis=-1, keepdims=True)
        dS = (P - Y) / len(X)
        dW2 = np.concatenate([np.swapaxes(H, -1, -2) @ dS, dS.sum(axis=-2, keepdims=True)],
                             axis=-2)
        dZ = (dS @ np.swapaxes(W2[..., :-1, :], -1, -2)) * H * (1 - H)
        dW1 = X.T @ dZ
        lead = theta.shape[:-1]
        return np.concatenate([dW1.reshape(lead + (-1,)), dW2.reshape(lead + (-1,))], axis=-1)

    def grad(self, theta):
        """The gradient on the next mini-batch of this optimizee's stream."""
        idx = self.rng.choice(len(self.X), size=self.batch, replace=False)
        return self.batch_grad(theta, self.X[idx], self.Y[idx])

    def error_rate(self, theta) -> np.ndarray:
        """Fraction of the test split misclassified, per run."""
        W1, W2 = self._unpack(np.asarray(theta, dtype=float))
        S = _sigmoid(self.X_test @ W1) @ W2[..., :-1, :] + W2[..., -1:, :]
        return np.mean(np.argmax(S, axis=-1) != self.y_test, axis=-1)


class _MetaView:
    """An optimizee as meta-training sees it: mini-batch gradients, and as f (the meta-loss's
    terms) the loss on a fixed subset of the training examples (cheaper than all of them)."""

    def __init__(self, digits: Digits, subset):
        self.digits, self.Xs, self.Ys = digits, digits.X[subset], digits.Y[subset]

    def f(self, theta):
        return self.digits.loss(theta, self.Xs, self.Ys)

    def grad(self, theta):
        return self.digits.grad(theta)


class DigitsTask:
    """`meta.train`'s task for the MLP: each trajectory ``config.batch`` networks from
    Glorot starts sharing one mini-batch stream; f the loss on 256 training examples. A
    checkpoint is judged by the full training loss after ``config.steps`` steps of
    ``config.tune_functions`` networks on the "tune" streams."""

    def __init__(self, config, seed: int, subset: int = 256):
        self.config, self.seed, self.subset = config, int(seed), subset

    def draw(self, rng):
        digits = Digits(int(rng.integers(2 ** 62)), split="train")
        view = _MetaView(digits, rng.choice(len(digits.X), self.subset, replace=False))
        return view, glorot(rng, shape=(self.config.batch,))

    def tune_finals(self, params):
        finals = []
        for k in range(self.config.tune_functions):
            digits = Digits(1000 * self.seed + k, split="tune")
            theta0 = glorot(np.random.default_rng([SPLITS["tune"], self.seed, k]), shape=(1,))
            finals.append(run_lstm(params, digits, theta0, self.config.steps)[0][-1])
        return np.concatenate(finals)


def run_lstm(params, digits: Digits, theta0, steps: int, record_every: int = None,
             preprocessed: bool = True):
    """(full training losses (steps+1, runs) or every ``record_every`` steps, final θ) of the
    LSTM optimizer with weights ``params`` on ``digits`` (gradients preprocessed unless the
    weights take raw ones)."""
    from .lstm import cell, zero_state
    from .preprocess import preprocess

    record_every = record_every or steps
    theta = np.asarray(theta0, dtype=float)
    state = zero_state(theta.shape)
    out = [digits.f(theta)]
    for t in range(1, steps + 1):
        g = digits.grad(theta)
        step, state = cell(params, preprocess(g) if preprocessed else g[..., None], state)
        theta = theta + step
        if t % record_every == 0 or t == steps:
            out.append(digits.f(theta))
    return np.array(out), theta


#: held-out mini-batch streams and starts of the notebook's comparison
TEST_SEEDS = (0, 1, 2)
NETWORKS = 10


def tune_baseline(name: str = "Adam", steps: int = 100, grid=None,
                  networks: int = 10) -> float:
    """The learning rate of ``name`` (race settings) with the lowest mean full training loss
    after ``steps`` steps on ``networks`` Glorot starts, on a "train" mini-batch stream."""
    from ..optim import run
    from ..race import make
    from .baselines import GRID

    grid = GRID if grid is None else np.asarray(grid, dtype=float)
    digits = Digits(10 ** 6, split="train")
    theta0 = glorot(np.random.default_rng([SPLITS["train"], 10 ** 6]), shape=(networks,))
    start = np.broadcast_to(theta0, (grid.size,) + theta0.shape)
    tr = run(make(name, grid[:, None, None]), digits, start, steps, keep_thetas=False,
             record_every=steps)
    means = np.nan_to_num(np.mean(tr.losses[-1], axis=-1), nan=np.inf)
    return float(grid[int(np.argmin(means))])


def compare(opt, etas: dict, seed: int, steps: int = 100, networks: int = NETWORKS,
            record_every: int = 5) -> dict:
    """Full training loss (recorded every ``record_every`` steps) of the learned optimizer
    ``opt`` and of each baseline {name: η} on held-out stream ``seed``: {name: (T, networks)},
    plus "steps" and the test error rates at the end ("error": {name: (networks,)})."""
    from ..optim import run
    from ..race import make

    theta0 = glorot(np.random.default_rng([SPLITS["test"], seed]), shape=(networks,))
    out, errors = {}, {}
    digits = Digits(seed, split="test")
    losses, theta = run_lstm(opt.params, digits, theta0, steps, record_every,
                             preprocessed=opt.preprocessed)
    out["learned"], errors["learned"] = losses, digits.error_rate(theta)
    for name, eta in etas.items():
        digits = Digits(seed, split="test")   # the same mini-batches for every optimizer
        tr = run(make(name, eta), digits, theta0, steps, record_every=record_every)
        out[name] = tr.losses
        errors[name] = digits.error_rate(tr.theta)
    out["steps"] = np.r_[np.arange(0, steps + 1, record_every)[:len(losses)]]
    out["error"] = errors
    return out


def train_and_save(seed: int = 0, seconds: float = 120.0, meta_steps=None, out=None,
                   command: str = "", stop_at=None) -> dict:
    """Meta-train on the MLP (`DigitsTask`), compare with tuned Adam on the held-out streams,
    write the weights and their record (.json) beside the default path."""
    import time
    from pathlib import Path

    from threadpoolctl import threadpool_limits

    from .optimizer import LearnedOptimizer, save

    out = Path(out or Path(__file__).with_name("mlp_digits.npz"))
    with threadpool_limits(limits=1):
        result = meta.train(seed, config=CONFIG, task=DigitsTask(CONFIG, seed),
                            meta_steps=meta_steps, seconds=None if meta_steps else seconds,
                            stop_at=stop_at)
        t0 = time.process_time()
        eta = tune_baseline("Adam")
        opt = LearnedOptimizer(result.params)
        held = []
        for s in TEST_SEEDS:
            c = compare(opt, {"Adam": eta}, s)
            held.append({"seed": s, "networks": NETWORKS,
                         "learned_mean": float(np.mean(c["learned"][-1])),
                         "adam_mean": float(np.mean(c["Adam"][-1])),
                         "mean_ratio": float(np.mean(c["learned"][-1])
                                             / np.mean(c["Adam"][-1])),
                         "learned_error": float(np.mean(c["error"]["learned"])),
                         "adam_error": float(np.mean(c["error"]["Adam"]))})
    info = {"paper": "Andrychowicz et al. 2016, §3.2 (MNIST there; the digits here)",
            "command": command
            or f"python -m course_lib.learned train --task mlp --seed {seed}",
            "repeat_exactly": f"python -m course_lib.learned train --task mlp --seed {seed} "
                              f"{result.repeat_args()}",
            "seed": int(seed), "preprocess": True,
            "config": {k: getattr(result.config, k)
                       for k in result.config.__dataclass_fields__},
            "meta_steps": int(result.meta_steps), "best_step": int(result.best_step),
            "train_cpu_seconds": round(result.cpu_seconds, 2),
            "train_wall_seconds": round(result.wall_seconds, 2), "threads": 1,
            "meta_loss": [round(float(v), 5) for v in result.losses],
            "checkpoints": [{"meta_step": c[0], "tune_mean": c[1], "tune_median": c[2],
                             "score": c[3]} for c in result.checkpoints],
            "adam_learning_rate": eta, "held_out": held,
            "measure_cpu_seconds": round(time.process_time() - t0, 2)}
    save(result.params, out, info)
    print(f"wrote {out} ({result.meta_steps} meta-steps, {result.cpu_seconds:.1f} s CPU)")
    for r in held:
        print(f"held-out stream {r['seed']}: mean final training loss learned "
              f"{r['learned_mean']:.3f}, tuned Adam {r['adam_mean']:.3f} (ratio "
              f"{r['mean_ratio']:.2f}); test error {r['learned_error']:.1%} vs "
              f"{r['adam_error']:.1%}")
    return info
