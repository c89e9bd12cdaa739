"""Lecture 03: adaptive learning rates — Adagrad, RMSprop, Adadelta, Adam and AMSGrad.

Each rule divides the gradient, coordinate by coordinate, by the root of a running record of
its squares: squares, roots, products and quotients below are all per coordinate.

Where ε sits. The lecture writes ε inside the root, g / √(v + ε), for every rule; the papers,
torch.optim and (partly) optax put it outside, g / (√v + ε). The code follows the lecture.
With ε = 0 both forms are the same rule; for ε > 0 each docstring gives the exact mapping to
torch.optim and optax where one exists and says so where none does (tests/
test_oracle_torch_adaptive.py pins every torch row, notebook 03 shows the table).

ε = 0 is accepted (except by Adadelta, which needs ε to start). The denominator √(v + ε) is
then 0 only where every gradient of that coordinate so far was 0, and then the numerator is 0
too (or where they were so tiny, |g| < 1.5e-162, that their squares underflow to 0). Such a
coordinate does not move: 0/0 is read as 0, the step's limit as ε → 0 (for every ε > 0 that
step is exactly 0). torch.optim gives nan there (±inf after an underflow); optax's adagrad
gives 0, as here.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Optimizer, check_theta

__all__ = ["Adagrad", "AdagradState", "RMSprop", "RMSpropState", "Adadelta", "AdadeltaState",
           "Adam", "AdamState", "AMSGrad", "AMSGradState", "Projected"]


def _over_root(x, s, eps):
    """x / √s, where s = (a record of squared gradients) + ε ≥ 0; 0/0 is read as 0 (see the
    module's docstring: s = 0 only where ε = 0 and the coordinate has seen no gradient)."""
    if np.all(np.asarray(eps) > 0):  # s ≥ ε > 0: the plain quotient
        return x / np.sqrt(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s == 0, 0.0, x / np.sqrt(s))


class AdagradState(NamedTuple):
    v: np.ndarray  # Σ g²: the sum of the squared gradients so far, per coordinate
    t: int         # steps taken so far


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer 2011), in the lecture's form:

        v ← v + g²;   θ ← θ − η g / √(v + ε)          (g = ∇L(θ))

    Each coordinate gets its own step size η/√(v + ε), small where gradients have been large.
    It only ever shrinks: under a constant gradient it decays like 1/√t
    (`course_lib.theory.adaptive.adagrad_effective_rate`).

    The paper's diagonal version puts δ outside the root: θ ← θ − η g / (δ + √v).
    torch.optim.Adagrad does too (sum ← sum + g²; p ← p − lr·g/(√sum + eps), eps = 1e-10, the
    sum starting at initial_accumulator_value = 0), but a starting sum of ε puts ε inside the
    root exactly:

        Adagrad(eta, eps) ≡ torch.optim.Adagrad(lr=eta, eps=0, initial_accumulator_value=eps),

    torch's sum being v + ε. torch's lr_decay=k is the schedule η/(1 + k t):
    Adagrad(schedules.inverse_time(eta, k), eps) ≡ the same call with lr_decay=k.
    optax.adagrad(eta, initial_accumulator_value=0, eps=eps) is this form exactly (optax's
    defaults are 0.1 and 1e-7).
    """

    hyperparameters = ("eta", "eps")

    def __init__(self, eta=0.01, eps=1e-8):
        self._hyper("eta", eta, schedule=True)
        self._hyper("eps", eps)

    def init(self, theta) -> AdagradState:
        theta = check_theta(theta)
        self._check_batch(theta)
        return AdagradState(v=np.zeros_like(theta), t=0)

    def step(self, theta, state: AdagradState, problem):
        g = problem.grad(theta)
        v = state.v + g ** 2
        step = self.rate(self.eta, state.t) * _over_root(g, v + self.eps, self.eps)
        return theta - step, AdagradState(v=v, t=state.t + 1)

    def effective_rate(self, before: AdagradState, after: AdagradState):
        """η/√(v + ε) per coordinate: the step size by which the step from state ``before`` to
        state ``after`` multiplied the gradient (0 where 0/0, as in the step)."""
        return self.rate(self.eta, before.t) * _over_root(1.0, after.v + self.eps, self.eps)


class RMSpropState(NamedTuple):
    v: np.ndarray  # running average of g², per coordinate
    t: int


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012, Coursera lecture 6e), in the lecture's form:

        v ← ρ v + (1 − ρ) g²;   θ ← θ − η g / √(v + ε)

    Adagrad with a memory that fades: v averages the last ~1/(1 − ρ) squared gradients instead
    of summing all of them, so the step size can grow again when gradients get smaller.
    The lecture slide divides by √v with no ε at all and uses ρ = 0.9.

    torch.optim.RMSprop(lr=eta, alpha=rho, eps=eps_t) (centered=False, momentum=0) divides by
    √v + eps_t, eps_t outside the root; its defaults are alpha = 0.99 (not 0.9) and
    eps_t = 1e-8. With eps = eps_t = 0 the two are the same rule. For ε > 0 no choice of eps_t
    makes them equal (√(v + ε) − √v depends on v, and torch's v cannot start at ε): from the
    same state the course's step is torch's times (√v + eps_t)/√(v + ε) ≈ 1 + eps_t/√v − ε/(2v),
    and the oracle test pins what that does to a run.
    optax.rmsprop(eta, decay=rho, eps=eps) (eps_in_sqrt=True, its default) is this form exactly.
    """

    hyperparameters = ("eta", "rho", "eps")

    def __init__(self, eta=0.01, rho=0.9, eps=1e-8):
        self._hyper("eta", eta, schedule=True)
        # ρ = 1 would keep v at 0 for ever: a step of η g / √ε, or a division by zero at ε = 0.
        self._hyper("rho", rho, high=1.0, high_open=True)
        self._hyper("eps", eps)

    def init(self, theta) -> RMSpropState:
        theta = check_theta(theta)
        self._check_batch(theta)
        return RMSpropState(v=np.zeros_like(theta), t=0)

    def step(self, theta, state: RMSpropState, problem):
        g = problem.grad(theta)
        v = self.rho * state.v + (1 - self.rho) * g ** 2
        step = self.rate(self.eta, state.t) * _over_root(g, v + self.eps, self.eps)
        return theta - step, RMSpropState(v=v, t=state.t + 1)

    def effective_rate(self, before: RMSpropState, after: RMSpropState):
        """η/√(v + ε) per coordinate, the step size of the step from ``before`` to ``after``."""
        return self.rate(self.eta, before.t) * _over_root(1.0, after.v + self.eps, self.eps)


class AdadeltaState(NamedTuple):
    v: np.ndarray  # E[g²]: running average of the squared gradients
    u: np.ndarray  # E[Δθ²]: running average of the squared updates
    t: int


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012, Algorithm 1), with v = E[g²] and u = E[Δθ²]:

        v ← ρ v + (1 − ρ) g²
        Δθ = −√(u + ε) / √(v + ε) · g          (u from the steps before this one)
        u ← ρ u + (1 − ρ) Δθ²
        θ ← θ + Δθ

    No learning rate: √u carries the units of θ and g/√v none, so Δθ has the units of θ
    (`course_lib.theory.adaptive.update_scaling`). The lecture's slide writes the numerator
    with the previous update alone, √(Δθ²_{t−1} + ε); the code follows Zeiler's running average.
    ε is inside both roots, and it is what starts Adadelta: u begins at 0, so the first step is
    √ε g/√((1 − ρ)g² + ε). ε = 0 is refused: the numerator would stay 0 and θ never move.
    Zeiler's values: ρ = 0.95, ε = 1e-6.

    torch.optim.Adadelta(lr=1.0, rho=rho, eps=eps) is this algorithm exactly (torch's default
    ρ is 0.9). torch's lr ≠ 1 multiplies each step but accumulates the unscaled Δθ in u: that
    is not Adadelta of a rescaled problem and has no equivalent here.
    optax.adadelta(learning_rate=1.0, rho=rho, eps=eps) is this algorithm too. Its default
    learning_rate=None skips the scaling by −η altogether (optax 0.2.9.dev source:
    scale_by_learning_rate(None) is the identity), so θ moves by +√(u + ε)/√(v + ε) · g: uphill.
    """

    hyperparameters = ("rho", "eps")

    def __init__(self, rho=0.95, eps=1e-6):
        # ρ = 1 would keep u and v at 0 for ever, and Adadelta would be θ ← θ − g.
        self._hyper("rho", rho, high=1.0, high_open=True)
        self._hyper("eps", eps)
        if np.any(np.asarray(eps) == 0):
            raise ValueError(f"Adadelta(eps={eps!r}): ε must be > 0. It is what starts Adadelta: "
                             "u = E[Δθ²] begins at 0, so with ε = 0 every step √(u + ε)/√(v + ε)"
                             "·g is 0 and θ never moves. Use e.g. eps=1e-6 (Zeiler's value).")

    def init(self, theta) -> AdadeltaState:
        theta = check_theta(theta)
        self._check_batch(theta)
        return AdadeltaState(v=np.zeros_like(theta), u=np.zeros_like(theta), t=0)

    def step(self, theta, state: AdadeltaState, problem):
        g = problem.grad(theta)
        v = self.rho * state.v + (1 - self.rho) * g ** 2
        delta = -np.sqrt(state.u + self.eps) / np.sqrt(v + self.eps) * g
        u = self.rho * state.u + (1 - self.rho) * delta ** 2
        return theta + delta, AdadeltaState(v=v, u=u, t=state.t + 1)

    def effective_rate(self, before: AdadeltaState, after: AdadeltaState):
        """√(u + ε)/√(v + ε) per coordinate, the step size of the step from ``before`` to
        ``after``: u is the record of squared updates before that step, v includes its g."""
        return np.sqrt(before.u + self.eps) / np.sqrt(after.v + self.eps)


class AdamState(NamedTuple):
    m: np.ndarray  # running average of g (first moment), not bias-corrected
    v: np.ndarray  # running average of g² (second moment), not bias-corrected
    t: int


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1), in the lecture's form:

        m ← β1 m + (1 − β1) g;      v ← β2 v + (1 − β2) g²
        m̂ = m / (1 − β1ᵗ);          v̂ = v / (1 − β2ᵗ)        (t counts this step: 1, 2, …)
        θ ← θ − η m̂ / √(v̂ + ε)

    Momentum (m) plus RMSprop (v) plus bias correction: m and v start at 0, so for a
    stationary gradient E[m_t] = (1 − β1ᵗ) E[g] and E[v_t] = (1 − β2ᵗ) E[g²]
    (`course_lib.theory.adaptive.expected_moment`); m̂ and v̂ undo those factors. At ε = 0 a step
    is unchanged when every gradient is multiplied by c > 0, and the first step moves every
    coordinate (with g ≠ 0) by exactly η (m̂ = g, v̂ = g²).

    The paper and torch.optim.Adam(lr=eta, betas=(beta1, beta2), eps=eps_t) put ε outside:
    θ ← θ − η m̂ / (√v̂ + eps_t), eps_t = 1e-8. With eps = eps_t = 0 they are this rule exactly;
    for ε > 0 no choice of eps_t makes them equal (the oracle test pins the difference).
    optax.adam(eta, b1=beta1, b2=beta2, eps=0, eps_root=eps) is this form exactly;
    optax.adam(eta, b1, b2, eps=eps_t) is the paper's.
    """

    hyperparameters = ("eta", "beta1", "beta2", "eps")

    def __init__(self, eta=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self._hyper("eta", eta, schedule=True)
        # β = 1 would make the bias corrections 1/(1 − βᵗ) divide by zero.
        self._hyper("beta1", beta1, high=1.0, high_open=True)
        self._hyper("beta2", beta2, high=1.0, high_open=True)
        self._hyper("eps", eps)

    def init(self, theta) -> AdamState:
        theta = check_theta(theta)
        self._check_batch(theta)
        return AdamState(m=np.zeros_like(theta), v=np.zeros_like(theta), t=0)

    def step(self, theta, state: AdamState, problem):
        g = problem.grad(theta)
        t = state.t + 1
        m = self.beta1 * state.m + (1 - self.beta1) * g
        v = self.beta2 * state.v + (1 - self.beta2) * g ** 2
        m_hat = m / (1 - self.beta1 ** t)
        v_hat = v / (1 - self.beta2 ** t)
        step = self.rate(self.eta, state.t) * _over_root(m_hat, v_hat + self.eps, self.eps)
        return theta - step, AdamState(m=m, v=v, t=t)

    def effective_rate(self, before: AdamState, after: AdamState):
        """η/√(v̂ + ε) per coordinate, the step size of the step from ``before`` to ``after``.
        It multiplies m̂, the running average of the gradients, not the gradient itself."""
        v_hat = self._second_moment(after) / (1 - self.beta2 ** after.t)
        return self.rate(self.eta, before.t) * _over_root(1.0, v_hat + self.eps, self.eps)

    def _second_moment(self, state):
        return state.v


class AMSGradState(NamedTuple):
    m: np.ndarray
    v: np.ndarray
    v_max: np.ndarray  # the largest v so far (before bias correction), per coordinate
    t: int


class AMSGrad(Adam):
    """AMSGrad (Reddi, Kale & Kumar 2018) as torch.optim.Adam(amsgrad=True) computes it, in the
    lecture's ε-inside form:

        m, v as in Adam;   v_max ← max(v_max, v)
        θ ← θ − η m̂ / √(v_max / (1 − β2ᵗ) + ε)       (m̂ = m / (1 − β1ᵗ))

    v_max never decreases, so a coordinate's step cannot blow up when its recent gradients are
    small; on Reddi et al.'s online problem that is what keeps Adam from drifting to the worst
    point. The order is torch's: the maximum of the uncorrected v, then the bias correction of
    the current step. Reddi et al.'s Algorithm 2 has no bias correction (and analyses
    α_t = α/√t with a projection). optax.amsgrad takes the maximum of the bias-corrected v̂
    (bias_correction_nu=True, its default) or uses v uncorrected (False): neither is torch's
    order, so there is no optax equivalent.

    AMSGrad(eta, beta1, beta2, 0) ≡ torch.optim.Adam(lr=eta, betas=(beta1, beta2), eps=0,
    amsgrad=True); for ε > 0 the two differ as Adam and torch's Adam do.
    """

    def init(self, theta) -> AMSGradState:
        adam = super().init(theta)
        return AMSGradState(m=adam.m, v=adam.v, v_max=np.zeros_like(adam.v), t=0)

    def step(self, theta, state: AMSGradState, problem):
        g = problem.grad(theta)
        t = state.t + 1
        m = self.beta1 * state.m + (1 - self.beta1) * g
        v = self.beta2 * state.v + (1 - self.beta2) * g ** 2
        v_max = np.maximum(state.v_max, v)
        m_hat = m / (1 - self.beta1 ** t)
        v_hat = v_max / (1 - self.beta2 ** t)
        step = self.rate(self.eta, state.t) * _over_root(m_hat, v_hat + self.eps, self.eps)
        return theta - step, AMSGradState(m=m, v=v, v_max=v_max, t=t)

    def _second_moment(self, state):
        return state.v_max  # η/√(v_max/(1 − β2ᵗ) + ε): the step size never grows back


class Projected(Optimizer):
    """A step of ``optimizer``, then θ clipped into the box [low, high] (per coordinate):

        θ ← Π(θ − step),   Π(θ) = min(max(θ, low), high)

    The setting of Reddi, Kale & Kumar (2018): their online algorithms keep x in a feasible set
    F by projecting each iterate. (Their Adam projects in the norm weighted by √v̂; onto a box
    that is the same clipping, coordinate by coordinate.) The inner optimizer's state is
    updated as if no projection had happened, as in their algorithms.
    """

    hyperparameters = ()

    def __init__(self, optimizer, low, high):
        if not (hasattr(optimizer, "init") and hasattr(optimizer, "step")):
            raise TypeError(f"Projected({optimizer!r}, ...): the first argument must be an "
                            "optimizer, e.g. Projected(Adam(0.1), -1.0, 1.0).")
        low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
        if not np.all(low < high):
            raise ValueError(f"Projected(..., low={low}, high={high}): every low must be below "
                             "its high (the box [low, high] must not be empty).")
        self.optimizer, self.low, self.high = optimizer, low, high

    def init(self, theta):
        return self.optimizer.init(theta)

    def step(self, theta, state, problem):
        theta, state = self.optimizer.step(theta, state, problem)
        return np.clip(theta, self.low, self.high), state

    def __repr__(self):
        return f"Projected({self.optimizer!r}, low={self.low.tolist()}, high={self.high.tolist()})"
