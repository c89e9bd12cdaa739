"""Learning problems on real data: the handwritten digits that scikit-learn ships (no download).

Each model turns a data set {(xᵢ, yᵢ)} into the empirical risk L(θ) = (1/N) Σ ℓ(yᵢ, ŷ(xᵢ; θ))
(+ an optional L2 penalty on the weights, never on the bias) as a `DataProblem`: a `Problem`
that also knows its examples, so `problem.batch(idx)` is the same loss on a mini-batch and
`run(..., batch_size=...)` can do stochastic gradient descent.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import numpy as np

from .problems import Problem

__all__ = ["Digits", "load_digits", "DataProblem", "least_squares", "logistic_regression",
           "Autoencoder", "deep_autoencoder", "sparse_initialisation", "AUTOENCODER_LAYERS",
           "softmax_regression", "mlp", "add_bias", "sigmoid", "softmax", "logsumexp"]


class Digits(NamedTuple):
    """A train/test split of the 8×8 digits; pixels scaled to [0, 1]."""
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    images_train: np.ndarray
    images_test: np.ndarray


def load_digits(classes=None, test_fraction: float = 0.25, seed: int = 0) -> Digits:
    """The 1,797 scikit-learn digits, optionally only ``classes`` (e.g. (3, 8)), split at random.

    Labels are kept as the digits themselves; for two classes use ``y == classes[1]`` as 0/1.
    The split is stratified by class and reproducible from ``seed``.
    """
    from sklearn.datasets import load_digits as _sk_load

    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction={test_fraction}: use a fraction strictly between 0 and 1.")
    d = _sk_load()
    X, y, images = d.data / 16.0, d.target.astype(int), d.images / 16.0
    if classes is not None:
        classes = list(classes)
        bad = [c for c in classes if c not in range(10)]
        if bad:
            raise ValueError(f"classes={classes}: digits are 0…9, got {bad}.")
        keep = np.isin(y, classes)
        X, y, images = X[keep], y[keep], images[keep]
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        test[rng.choice(idx, size=int(round(test_fraction * len(idx))), replace=False)] = True
    return Digits(X[~test], y[~test], X[test], y[test], images[~test], images[test])


def add_bias(X: np.ndarray) -> np.ndarray:
    """Append a column of ones, so the last parameter is the bias b in ŷ = wᵀx + b."""
    X = np.asarray(X, dtype=float)
    return np.concatenate([X, np.ones(X.shape[:-1] + (1,))], axis=-1)


def sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)), computed without overflow for large |z|."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def logsumexp(s, axis=-1):
    """log Σ exp(s) along ``axis``, shifted by the maximum so that nothing overflows (2–3× faster
    than np.logaddexp.reduce, which the risk of every SGD step on the digits calls)."""
    s = np.asarray(s, dtype=float)
    top = s.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.exp(s - top).sum(axis=axis))


def softmax(s, axis=-1):
    s = np.asarray(s, dtype=float)
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class DataProblem(Problem):
    """A `Problem` whose loss is an average over examples (X, y); ``batch(idx)`` restricts it."""

    def __init__(self, build: Callable, X, y, *, name: str, l2: float, x0=None):
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        if X.ndim != 2:
            raise ValueError(f"{name}: X must be a 2-D array (examples × features), got shape "
                             f"{X.shape}.")
        if len(y) != len(X):
            raise ValueError(f"{name}: X has {len(X)} examples but y has {len(y)}; pass one "
                             "label per row of X.")
        if l2 < 0:
            raise ValueError(f"{name}: l2={l2} must be ≥ 0 (it is a penalty weight).")
        self._build, self.X, self.y, self.l2 = build, X, y, l2
        f, grad, hvp, predict, dim, value_and_grad = build(add_bias(X), y, l2)
        self.predict = predict
        super().__init__(f, grad, None, hvp, name=name, dim=dim,
                         x0=np.zeros(dim) if x0 is None else x0, value_and_grad=value_and_grad)

    @property
    def n_examples(self) -> int:
        return len(self.y)

    def batch(self, idx) -> "DataProblem":
        """The same loss averaged over the examples ``idx`` only (a mini-batch)."""
        return DataProblem(self._build, self.X[idx], self.y[idx], name=self.name, l2=self.l2,
                           x0=self.x0)

    def error_rate(self, theta, X, y) -> np.ndarray:
        """Fraction of examples (X, y) that θ classifies wrongly (shape: θ's batch shape)."""
        return np.mean(self.predict(theta, X) != np.asarray(y), axis=-1)


def _penalty(theta, l2):
    w = theta[..., :-1]
    return 0.5 * l2 * np.sum(w * w, axis=-1), l2 * np.concatenate(
        [w, np.zeros_like(theta[..., -1:])], axis=-1)


def _least_squares(Xb, y, l2):
    y = y.astype(float)
    n = len(y)

    def f(t):
        r = np.asarray(t, dtype=float) @ Xb.T - y
        return 0.5 * np.mean(r * r, axis=-1) + _penalty(t, l2)[0]

    def grad(t):
        t = np.asarray(t, dtype=float)
        return (t @ Xb.T - y) @ Xb / n + _penalty(t, l2)[1]

    def value_and_grad(t):
        t = np.asarray(t, dtype=float)
        r = t @ Xb.T - y
        pen, dpen = _penalty(t, l2)
        return 0.5 * np.mean(r * r, axis=-1) + pen, r @ Xb / n + dpen

    def hvp(t, v):
        v = np.asarray(v, dtype=float)
        hv = (v @ Xb.T) @ Xb / n + _penalty(v, l2)[1]
        return np.broadcast_to(hv, np.broadcast_shapes(np.shape(t), hv.shape)).copy()

    def predict(t, X):
        return np.asarray(t, dtype=float) @ add_bias(X).T

    return f, grad, hvp, predict, Xb.shape[1], value_and_grad


def least_squares(X, y, l2: float = 0.0) -> DataProblem:
    """L(w, b) = (1/2N) Σ (wᵀxᵢ + b − yᵢ)² + (λ/2)‖w‖²: linear regression (convex)."""
    return DataProblem(_least_squares, X, y, name="least squares", l2=l2)


def _logistic(Xb, y, l2):
    if not np.all(np.isin(y, (0, 1))):
        raise ValueError("logistic_regression needs labels 0/1; for two digits a, b pass "
                         "y = (labels == b).astype(int).")
    y = y.astype(float)
    n = len(y)

    def f(t):
        z = np.asarray(t, dtype=float) @ Xb.T
        # ℓ = log(1 + e^z) − y z is the cross-entropy −y log σ(z) − (1−y) log(1 − σ(z)).
        return np.mean(np.logaddexp(0.0, z) - y * z, axis=-1) + _penalty(t, l2)[0]

    def grad(t):
        t = np.asarray(t, dtype=float)
        return (sigmoid(t @ Xb.T) - y) @ Xb / n + _penalty(t, l2)[1]

    def value_and_grad(t):
        t = np.asarray(t, dtype=float)
        z = t @ Xb.T
        pen, dpen = _penalty(t, l2)
        return (np.mean(np.logaddexp(0.0, z) - y * z, axis=-1) + pen,
                (sigmoid(z) - y) @ Xb / n + dpen)

    def hvp(t, v):
        t, v = np.asarray(t, dtype=float), np.asarray(v, dtype=float)
        p = sigmoid(t @ Xb.T)
        return (p * (1 - p) * (v @ Xb.T)) @ Xb / n + _penalty(v, l2)[1]

    def predict(t, X):
        return (np.asarray(t, dtype=float) @ add_bias(X).T > 0).astype(int)

    return f, grad, hvp, predict, Xb.shape[1], value_and_grad


def logistic_regression(X, y, l2: float = 0.0) -> DataProblem:
    """Binary cross-entropy of ŷ = σ(wᵀx + b), labels 0/1, + (λ/2)‖w‖² (convex in θ)."""
    return DataProblem(_logistic, X, y, name="logistic regression", l2=l2)


def _softmax(n_classes):
    def build(Xb, y, l2):
        y = np.asarray(y).astype(int)
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"softmax_regression: labels must be 0…{n_classes - 1}, got "
                             f"{y.min()}…{y.max()}; pass n_classes=.")
        n, p = Xb.shape
        Y = np.eye(n_classes)[y]
        mask = np.ones((p, n_classes))
        mask[-1] = 0.0  # no penalty on the biases (last row of W)

        def W(t):
            t = np.asarray(t, dtype=float)
            return t.reshape(t.shape[:-1] + (p, n_classes))

        def f(t):
            S = Xb @ W(t)
            lse = logsumexp(S)
            pen = 0.5 * l2 * np.sum(mask * W(t) ** 2, axis=(-2, -1))
            return np.mean(lse - np.sum(Y * S, axis=-1), axis=-1) + pen

        def grad(t):
            Wt = W(t)
            G = Xb.T @ (softmax(Xb @ Wt) - Y) / n + l2 * mask * Wt
            return G.reshape(G.shape[:-2] + (p * n_classes,))

        def value_and_grad(t):
            Wt = W(t)
            S = Xb @ Wt
            lse = logsumexp(S)
            value = np.mean(lse - np.sum(Y * S, axis=-1), axis=-1) \
                + 0.5 * l2 * np.sum(mask * Wt ** 2, axis=(-2, -1))
            G = Xb.T @ (np.exp(S - lse[..., None]) - Y) / n + l2 * mask * Wt
            return value, G.reshape(G.shape[:-2] + (p * n_classes,))

        def hvp(t, v):
            P = softmax(Xb @ W(t))
            dS = Xb @ W(v)
            dP = P * (dS - np.sum(P * dS, axis=-1, keepdims=True))
            Hv = Xb.T @ dP / n + l2 * mask * W(v)
            return Hv.reshape(Hv.shape[:-2] + (p * n_classes,))

        def predict(t, X):
            return np.argmax(add_bias(X) @ W(t), axis=-1)

        return f, grad, hvp, predict, p * n_classes, value_and_grad
    return build


def softmax_regression(X, y, n_classes: int = 10, l2: float = 0.0) -> DataProblem:
    """Multiclass cross-entropy of softmax(Wᵀx + b); θ is W (features+1 × classes) flattened."""
    return DataProblem(_softmax(n_classes), X, y, name="softmax regression", l2=l2)


def _mlp(hidden, n_classes):
    def build(Xb, y, l2):
        y = np.asarray(y).astype(int)
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"mlp: labels must be 0…{n_classes - 1}, got {y.min()}…{y.max()}; "
                             "pass n_classes=.")
        n, p = Xb.shape
        h, k = hidden, n_classes
        split = p * h
        Y = np.eye(k)[y]
        # no penalty on the biases: the last row of each weight matrix
        mask1 = np.ones((p, h))
        mask1[-1] = 0.0
        mask2 = np.ones((h + 1, k))
        mask2[-1] = 0.0

        def unpack(t):
            t = np.asarray(t, dtype=float)
            lead = t.shape[:-1]
            return t[..., :split].reshape(lead + (p, h)), t[..., split:].reshape(lead + (h + 1, k))

        def forward(t, X=Xb):
            W1, W2 = unpack(t)
            H = np.tanh(X @ W1)
            Hb = np.concatenate([H, np.ones(H.shape[:-1] + (1,))], axis=-1)
            return W1, W2, H, Hb, Hb @ W2

        def value(W1, W2, S):
            lse = logsumexp(S)
            pen = 0.5 * l2 * (np.sum(mask1 * W1 ** 2, axis=(-2, -1))
                              + np.sum(mask2 * W2 ** 2, axis=(-2, -1)))
            return np.mean(lse - np.sum(Y * S, axis=-1), axis=-1) + pen

        def backward(W1, W2, H, Hb, S):
            dS = (softmax(S) - Y) / n                       # ∂L/∂S, (..., n, k)
            dW2 = np.swapaxes(Hb, -1, -2) @ dS + l2 * mask2 * W2
            dZ = (dS @ np.swapaxes(W2[..., :-1, :], -1, -2)) * (1 - H ** 2)
            dW1 = Xb.T @ dZ + l2 * mask1 * W1
            lead = dW1.shape[:-2]
            return np.concatenate([dW1.reshape(lead + (split,)),
                                   dW2.reshape(lead + ((h + 1) * k,))], axis=-1)

        def f(t):
            W1, W2, _, _, S = forward(t)
            return value(W1, W2, S)

        def grad(t):
            return backward(*forward(t))

        def value_and_grad(t):
            W1, W2, H, Hb, S = forward(t)
            return value(W1, W2, S), backward(W1, W2, H, Hb, S)

        def predict(t, X):
            return np.argmax(forward(t, add_bias(X))[-1], axis=-1)

        return f, grad, None, predict, split + (h + 1) * k, value_and_grad
    return build


def mlp(X, y, hidden: int = 16, n_classes: int = 10, l2: float = 0.0,
        rng: Optional[np.random.Generator] = None) -> DataProblem:
    """A network with one tanh hidden layer and a softmax output, cross-entropy loss:
    ŷ = softmax(W₂ᵀ[tanh(W₁ᵀx̃); 1]) with θ = (W₁, W₂) flattened (biases as last rows).

    Non-convex (hidden units can be permuted). Gradients by hand-written backpropagation,
    Hessian-vector products by finite differences of them. The standard start ``x0`` is a
    Glorot-uniform draw from ``rng`` (θ = 0 would be a saddle point: every unit the same).
    """
    if int(hidden) < 1:
        raise ValueError(f"mlp(hidden={hidden}): use at least one hidden unit.")
    rng = np.random.default_rng(0) if rng is None else rng
    p = np.asarray(X).shape[-1] + 1
    b1, b2 = np.sqrt(6 / (p + hidden)), np.sqrt(6 / (hidden + 1 + n_classes))
    x0 = np.concatenate([rng.uniform(-b1, b1, p * hidden),
                         rng.uniform(-b2, b2, (hidden + 1) * n_classes)])
    return DataProblem(_mlp(int(hidden), n_classes), X, y, name=f"MLP ({hidden} hidden)",
                       l2=l2, x0=x0)


# ------------------------------------------------------------------ lecture 04's autoencoder

#: Martens (2010)'s deep autoencoders, narrowed for the 8×8 digits: 64 pixels through a
#: 2-unit code and back. Hidden layers logistic, the code layer linear, the output logistic.
AUTOENCODER_LAYERS = (64, 32, 16, 8, 2, 8, 16, 32, 64)


def sparse_initialisation(layers, rng: np.random.Generator, nonzero: int = 15,
                          scale: float = 1.0) -> np.ndarray:
    """Martens (2010, §5)'s sparse initialisation, flattened as `deep_autoencoder` packs θ:
    each unit gets ``nonzero`` incoming weights drawn from N(0, scale²) (all of them where
    the layer below has fewer units), every other weight and every bias 0."""
    parts = []
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        W = np.zeros((n_in + 1, n_out))  # last row: the biases
        k = min(nonzero, n_in)
        for j in range(n_out):
            rows = rng.choice(n_in, size=k, replace=False)
            W[rows, j] = scale * rng.standard_normal(k)
        parts.append(W.ravel())
    return np.concatenate(parts)


class Autoencoder(DataProblem):
    """A deep autoencoder's training loss as a `DataProblem` (targets are the inputs), with
    its Gauss–Newton product ``gnvp(θ, v)`` and the floor ``entropy`` of its loss.

    Layers l = 1 … L: z_l = a_{l−1} W_l + b_l, a_l = σ(z_l) (the code layer: a_l = z_l), and
    the loss the cross-entropy of σ(z_L) against the pixels x ∈ [0, 1], summed over pixels and
    averaged over examples, + (l2/2)‖W‖² (no penalty on biases):
        L(θ) = (1/N) Σᵢ Σⱼ [log(1 + e^{z_ij}) − x_ij z_ij] + (l2/2)‖W‖².
    Its smallest possible value (σ(z) = x) is ``entropy`` = (1/N) Σᵢ Σⱼ H(x_ij): the training
    error the lecture plots is L − entropy (the excess cross-entropy).

    G v = Jᵀ diag(σ'(z_L))/N J v + l2 (v_W, 0), J = ∂z_L/∂θ (cross-entropy on a logistic
    output is a matching loss: G is its Gauss–Newton matrix, positive semi-definite): Jv by a
    forward pass of directional derivatives (the R-operator, Pearlmutter 1994), Jᵀu by back-
    propagation, reusing the forward pass at θ of the previous call when θ is the same.
    θ may carry leading batch axes (*B, d), as every course problem.
    """

    def __init__(self, X, layers=AUTOENCODER_LAYERS, *, l2: float = 0.0, x0=None,
                 name: str = "deep autoencoder"):
        layers = tuple(int(n) for n in layers)
        X = np.asarray(X, dtype=float)
        if len(layers) < 2 or min(layers) < 1:
            raise ValueError(f"deep_autoencoder(layers={layers}): give at least an input and an "
                             "output layer, each with at least one unit, e.g. (64, 8, 64).")
        if X.ndim != 2 or X.shape[1] != layers[0] or layers[-1] != layers[0]:
            raise ValueError(f"deep_autoencoder: X has shape {np.shape(X)}, layers {layers}; an "
                             "autoencoder's first and last layers must both have X.shape[1] "
                             "units (the digits: 64).")
        if np.any(X < 0) or np.any(X > 1):
            raise ValueError("deep_autoencoder: the cross-entropy needs pixels in [0, 1]; scale "
                             "X first (load_digits already gives X / 16).")
        self.layers = layers
        code = int(np.argmin(layers))
        self.linear = tuple(l == code for l in range(1, len(layers)))  # the code layer
        self._shapes = [(a + 1, b) for a, b in zip(layers[:-1], layers[1:])]
        self._splits = np.cumsum([0] + [a * b for a, b in self._shapes])
        mask = np.concatenate([np.r_[np.ones((a - 1) * b), np.zeros(b)]
                               for a, b in self._shapes])
        self._mask = mask
        self._cache = None
        super().__init__(self._build_fns, X, X, name=name, l2=l2,
                         x0=np.zeros(self._splits[-1]) if x0 is None else x0)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -(X * np.log(X) + (1 - X) * np.log1p(-X))
        self.entropy = float(np.mean(np.sum(np.nan_to_num(h), axis=-1)))

    # -- the network
    def weights(self, theta):
        """[(W_l, b_l)] for θ (*B, d): W_l (*B, n_{l−1}, n_l), b_l (*B, 1, n_l)."""
        theta = np.asarray(theta, dtype=float)
        lead = theta.shape[:-1]
        out = []
        for (a, b), s, e in zip(self._shapes, self._splits[:-1], self._splits[1:]):
            Wb = theta[..., s:e].reshape(lead + (a, b))
            out.append((Wb[..., :-1, :], Wb[..., -1:, :]))
        return out

    def _forward(self, theta, X):
        acts, zs = [X], []
        for (W, b), linear in zip(self.weights(theta), self.linear):
            z = acts[-1] @ W + b
            zs.append(z)
            acts.append(z if linear else expit(z))
        return acts, zs

    def _backward(self, theta, acts, dz):
        """∂/∂θ of Σ dz·z_L through the network (dz: (*B, N, n_L)), as a flat (*B, d)."""
        grads = []
        Ws = self.weights(theta)
        for l in range(len(Ws) - 1, -1, -1):
            W, _ = Ws[l]
            a = acts[l]
            grads.append((np.swapaxes(a, -1, -2) @ dz, np.sum(dz, axis=-2, keepdims=True)))
            if l:
                da = dz @ np.swapaxes(W, -1, -2)
                dz = da if self.linear[l - 1] else da * acts[l] * (1 - acts[l])
        lead = dz.shape[:-2]
        flat = [np.concatenate([gW, gb], axis=-2).reshape(lead + (-1,))
                for gW, gb in reversed(grads)]
        return np.concatenate(flat, axis=-1)

    def _build_fns(self, Xb, X, l2):
        X = np.asarray(X, dtype=float)
        n = len(X)
        mask = self._mask

        def value(z, theta):
            # log(1 + e^z) = max(z, 0) + log(1 + e^−|z|): 4× faster than np.logaddexp
            softplus = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
            ce = np.sum(softplus - X * z, axis=-1)
            return np.mean(ce, axis=-1) + 0.5 * l2 * np.sum(mask * theta * theta, axis=-1)

        def f(t):
            t = np.asarray(t, dtype=float)
            return value(self._forward(t, X)[1][-1], t)

        def value_and_grad(t):
            t = np.asarray(t, dtype=float)
            acts, zs = self._forward(t, X)
            g = self._backward(t, acts, (expit(zs[-1]) - X) / n)
            return value(zs[-1], t), g + l2 * mask * t

        def grad(t):
            return value_and_grad(t)[1]

        def predict(t, X_new):
            return expit(self._forward(t, np.asarray(X_new, dtype=float))[1][-1])

        return f, grad, None, predict, self._splits[-1], value_and_grad

    def gnvp(self, theta, v):
        """G v = Jᵀ (σ'(z_L)/N) J v + l2 (v_W, 0): one forward pass of directional derivatives
        and one backward pass (the forward pass at θ is cached between calls at one θ)."""
        theta, v = np.broadcast_arrays(np.asarray(theta, dtype=float),
                                       np.asarray(v, dtype=float))
        if self._cache is None or not (self._cache[0].shape == theta.shape
                                       and np.array_equal(self._cache[0], theta)):
            self._cache = (theta.copy(), *self._forward(theta, self.X))
        _, acts, zs = self._cache
        Ra = 0.0
        for l, ((W, _), (V, Vb), linear) in enumerate(zip(self.weights(theta), self.weights(v),
                                                          self.linear)):
            Rz = acts[l] @ V + Vb + (Ra @ W if l else 0.0)
            Ra = Rz if linear else acts[l + 1] * (1 - acts[l + 1]) * Rz
        out = acts[-1]
        u = out * (1 - out) * Rz / len(self.X)
        return self._backward(theta, acts, u) + self.l2 * self._mask * v

    def fisher_diagonal(self, theta):
        """(1/N) Σᵢ ∇ℓᵢ(θ)², the diagonal of the empirical Fisher matrix (Martens' statistic
        for his CG preconditioner), ℓᵢ example i's loss with the penalty, without forming the
        N per-example gradients: a weight's gradient on example i is a_i·δ_i (the unit's
        input times its backpropagated error), so its mean square is (1/N) Σᵢ a_i² δ_i²."""
        theta = np.asarray(theta, dtype=float)
        acts, zs = self._forward(theta, self.X)
        Ws = self.weights(theta)
        dz = expit(zs[-1]) - self.X               # per example, not divided by N
        squares, means = [], []
        n = len(self.X)
        for l in range(len(Ws) - 1, -1, -1):
            a = acts[l]
            squares.append((np.swapaxes(a * a, -1, -2) @ (dz * dz) / n,
                            np.mean(dz * dz, axis=-2, keepdims=True)))
            means.append((np.swapaxes(a, -1, -2) @ dz / n, np.mean(dz, axis=-2, keepdims=True)))
            if l:
                da = dz @ np.swapaxes(Ws[l][0], -1, -2)
                dz = da if self.linear[l - 1] else da * acts[l] * (1 - acts[l])
        lead = theta.shape[:-1]

        def flat(parts):
            return np.concatenate([np.concatenate([w, b], axis=-2).reshape(lead + (-1,))
                                   for w, b in reversed(parts)], axis=-1)
        penalty = self.l2 * self._mask * theta   # the same in every example's gradient
        return flat(squares) + 2 * penalty * flat(means) + penalty * penalty

    def batch(self, idx) -> "Autoencoder":
        """The same loss on the examples ``idx`` only (its own ``entropy``)."""
        return Autoencoder(self.X[idx], self.layers, l2=self.l2, x0=self.x0, name=self.name)

    def reconstruct(self, theta, X=None):
        """σ(z_L): the reconstructions of X (default: the training examples)."""
        return self.predict(theta, self.X if X is None else X)


def expit(z):
    """σ(z) by scipy.special.expit: as `sigmoid`, twice as fast (the autoencoder's hot loop)."""
    from scipy.special import expit as _expit
    return _expit(z)


def deep_autoencoder(X, layers=AUTOENCODER_LAYERS, l2: float = 0.0,
                     rng: Optional[np.random.Generator] = None) -> Autoencoder:
    """Lecture 04's test of Hessian-free's claim: the deep, narrow autoencoder of the digits
    (64-32-16-8-2-8-16-32-64 by default), started at Martens' sparse initialisation drawn from
    ``rng`` (default: seed 0). See `Autoencoder`."""
    rng = np.random.default_rng(0) if rng is None else rng
    x0 = sparse_initialisation(layers, rng)
    return Autoencoder(X, layers, l2=l2, x0=x0)
