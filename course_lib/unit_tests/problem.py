"""Unit tests as a `Problem` with stochastic gradients, batched over cases, settings and
repetitions, each repetition with its own seeded random stream.

``UnitTestProblem(cases, repetitions, seed)`` holds C cases of one structure (the same dimension,
shapes per coordinate, rotation and curl: `catalogue.Case.structure`) and R repetitions. θ has
shape (C, S₁, …, R, d): the cases first (no axis when C = 1), any number of axes for
hyperparameter settings, the repetitions (no axis when R = 1), the coordinates. Every optimizer
of the course runs on it unchanged (`course_lib.optim.run`), one batched call per step.

Randomness. Each repetition r of case c draws from its own streams, children of one seed
sequence made from the seed and the case's name (`course_lib.optim.per_run_rngs`): one stream
for the gradient noise, one for the drift of a non-stationary case, and one more, shared by the
repetitions, for the case's rotation and curl. So the numbers depend on (seed, case, r) alone,
never on which other cases, settings or processes share the computation. Every setting and
every optimizer meets the same draws in repetition r (common random numbers: comparisons are not
blurred by luck).

The clock. The noise is drawn per gradient evaluation and the landscape drifts every
`nonstationary.EVERY` evaluations, so the problem counts ``evaluations``: each ``grad`` call is
one tick for every run in the batch (the course's first-order optimizers evaluate one gradient
per step; a method that evaluates more, or takes finite-difference Hessian-vector products of
the gradient, ticks more often). ``f`` is the noise-free value of the landscape as it is now
(the period of the last gradient evaluation), the value a test scores; it does not tick.
``reset()`` sets the clock back to 0, so the next run meets the same draws again.
"""
from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from ..optim import per_run_rngs
from ..problems import Problem
from .combine import CURL_STRENGTH, random_curl, random_rotation
from .nonstationary import EVERY

__all__ = ["UnitTestProblem", "case_seed_sequence", "BLOCK"]

#: gradient evaluations drawn at a time (a multiple of EVERY); a longer run draws more blocks
BLOCK = 100


def case_seed_sequence(seed: int, name: str) -> np.random.SeedSequence:
    """The seed sequence of one case: the seed and a hash of the case's name (stable across
    Python sessions and machines, unlike ``hash``)."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r}: use a non-negative integer.")
    digest = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    return np.random.SeedSequence([int(seed), digest])


class _CaseStreams:
    """The random streams of one case and the draws made from them so far."""

    def __init__(self, case, repetitions, seed):
        self.case = case
        root = case_seed_sequence(seed, case.name)
        structure, noise, drift = (np.random.SeedSequence(root.entropy, spawn_key=(k,))
                                   for k in range(3))
        d = case.dim
        # drawn in a fixed order from the case's own stream: the same Q and K in every batch
        rng = np.random.default_rng(structure)
        self.rotation = random_rotation(rng, d) if case.rotated else None
        self.curl = random_curl(rng, d) if case.curled else None
        self.noise = per_run_rngs(noise, (repetitions,))
        self.drift = per_run_rngs(drift, (repetitions,))
        # consecutive coordinates with the same kind of noise draw together
        self.noise_runs = []
        i = 0
        while i < d:
            j = i
            while j < d and type(case.noises[j]) is type(case.noises[i]):
                j += 1
            self.noise_runs.append((i, j))
            i = j
        self.xi = [np.empty((0, d)) for _ in range(repetitions)]  # drift draws per period

    def draw_block(self, r):
        """The noise variates of the next BLOCK evaluations of repetition r, coordinate by
        coordinate ((BLOCK,) arrays, or None where there is no noise), and its drift draws for
        the next BLOCK // EVERY periods."""
        out = [None] * self.case.dim
        for i, j in self.noise_runs:
            v = self.case.noises[i].variates(self.noise[r], (BLOCK, j - i))
            if v is not None:
                for k in range(i, j):
                    out[k] = v[:, k - i]
        if self.case.nonstationarity.name != "stationary":
            self.xi[r] = np.concatenate([self.xi[r],
                                         self.drift[r].standard_normal((BLOCK // EVERY,
                                                                        self.case.dim))])
        return out


class UnitTestProblem(Problem):
    """C unit-test cases of one structure × R repetitions as one stochastic `Problem`.

    ``grad(θ)`` is the noisy gradient field (one tick of the clock), ``f(θ)`` the noise-free
    value now, ``field(θ)`` the noise-free field now (the gradient, plus the curl where there
    is one), ``start(settings)`` the starting points, shape (C, *settings, R, d).
    """

    def __init__(self, cases: Sequence, repetitions: int = 10, seed: int = 0):
        cases = list(cases)
        if not cases:
            raise ValueError("UnitTestProblem needs at least one case, e.g. "
                             "[catalogue.case('quad_bowl-normal-gauss_add_0.1')].")
        if not isinstance(repetitions, (int, np.integer)) or repetitions < 1:
            raise ValueError(f"repetitions={repetitions!r}: use a positive whole number.")
        structures = {c.structure for c in cases}
        if len(structures) > 1:
            raise ValueError("UnitTestProblem batches cases of one structure (dimension, shapes "
                             "per coordinate, rotation, curl); these have "
                             f"{len(structures)}. Split them with catalogue.batches(cases).")
        self.cases = cases
        self.repetitions = R = int(repetitions)
        self.seed = seed
        self.n_cases = C = len(cases)
        first = cases[0]
        self.d = d = first.dim
        self._streams = [_CaseStreams(c, R, seed) for c in cases]

        def per_coordinate(attr):
            return np.array([[getattr(c.scales[i], attr) for c in cases] for i in range(d)]
                            ).reshape(d, C, 1, 1)
        self._xs, self._xe, self._fs, self._fprime = (per_coordinate(a) for a in
                                                      ("xs", "xe", "fs", "fprime"))
        self._groups = []  # (coordinate slice, shape): consecutive coordinates of one shape
        i = 0
        while i < d:
            j = i
            while j < d and first.shapes[j] == first.shapes[i]:
                j += 1
            self._groups.append((slice(i, j), first.shapes[i]))
            i = j
        self.rotated, self.curled = first.rotated, first.curled
        self._Q = np.stack([s.rotation for s in self._streams]) if self.rotated else None
        self._K = np.stack([s.curl for s in self._streams]) if self.curled else None
        # the start: z_s in the shape's frame, θ₀ = Qᵀ z_s
        zs = self._xs[:, :, 0, 0]                                        # (d, C)
        self._theta0 = zs if self._Q is None else np.einsum("cij,ic->jc", self._Q, zs)
        nonstat = [c.nonstationarity for c in cases]
        self._has = {"slope": any(n.name == "scale_drift" for n in nonstat),
                     "offset": any(n.name == "offset_drift" for n in nonstat),
                     "multiplier": any(n.kind in ("gauss_mul", "mask")
                                       for c in cases for n in c.noises),
                     "shift": any(n.kind in ("gauss_add", "cauchy")
                                  for c in cases for n in c.noises)}
        self._M = np.ones((0, d, C, 1, R)) if self._has["multiplier"] else None
        self._A = np.zeros((0, d, C, 1, R)) if self._has["shift"] else None
        self._slope_factor = np.ones((0, d, C, 1, R))
        self._offset = np.zeros((0, d, C, 1, R))
        self._curves = {}
        self.evaluations = 0
        x0 = None
        if C == 1:
            x0 = self._theta0[:, 0]
        name = cases[0].name if C == 1 else f"{C} unit tests ({cases[0].name}, …)"
        super().__init__(self.f, self.grad, name=name, x0=x0, dim=d)

    # -------------------------------------------------------------------------------- draws
    def _ensure(self, periods_needed: int):
        """Draw blocks until the draws cover ``periods_needed`` periods."""
        while self._slope_factor.shape[0] < periods_needed:
            self._draw_block()

    def _draw_block(self):
        d, C, R = self.d, self.n_cases, self.repetitions
        P = BLOCK // EVERY
        M = np.ones((BLOCK, d, C, 1, R)) if self._M is not None else None
        A = np.zeros((BLOCK, d, C, 1, R)) if self._A is not None else None
        done = self._slope_factor.shape[0]  # periods drawn before this block
        slope = np.ones((P, d, C, 1, R))
        offset = np.zeros((P, d, C, 1, R))
        for c, (case, streams) in enumerate(zip(self.cases, self._streams)):
            drift = case.nonstationarity
            for r in range(R):
                variates = streams.draw_block(r)
                xi = streams.xi[r]
                noise_factor = np.ones((P, d))
                if drift.name == "scale_drift":
                    slope[:, :, c, 0, r] = drift.slope_factor(xi.copy())[done:done + P]
                elif drift.name == "offset_drift":
                    offset[:, :, c, 0, r] = drift.offset(xi.copy())[done:done + P]
                elif drift.name == "noise_drift":
                    noise_factor = drift.noise_factor(xi.copy())[done:done + P]
                level = np.repeat(noise_factor, EVERY, axis=0)             # (BLOCK, d)
                for i, v in enumerate(variates):
                    if v is None:
                        continue
                    noise = case.noises[i]
                    m, a = noise.apply(v, noise.level * level[:, i])
                    if m is not None:
                        M[:, i, c, 0, r] = m
                    if a is not None:
                        A[:, i, c, 0, r] = a
        if M is not None:
            self._M = np.concatenate([self._M, M])
        if A is not None:
            self._A = np.concatenate([self._A, A])
        self._slope_factor = np.concatenate([self._slope_factor, slope])
        self._offset = np.concatenate([self._offset, offset])

    def _curve_set(self, period):
        """The fitted curves of each coordinate group in this period (refitted each period
        only when some case's slope drifts)."""
        key = period if self._has["slope"] else 0
        curves = self._curves.get(key)
        if curves is None:
            fprime = self._fprime * self._slope_factor[period] if self._has["slope"] \
                else self._fprime
            curves = [shape.build(self._xs[sl], self._xe[sl], self._fs[sl], fprime[sl])
                      for sl, shape in self._groups]
            self._curves[key] = curves
        return curves

    # -------------------------------------------------------------------------------- layout
    def _frame(self, theta):
        """θ (C, S…, R, d) as an array (d, C, S, R) (a view when θ is coordinate-major)."""
        theta = np.asarray(theta, dtype=float)
        d, C, R = self.d, self.n_cases, self.repetitions
        if theta.ndim == 0 or theta.shape[-1] != d:
            raise ValueError(f"{self.name}: θ has shape {theta.shape}, but the tests have "
                             f"d = {d} coordinates; θ's last axis must have length {d}.")
        lead = theta.shape[:-1]
        settings = lead
        if R > 1:
            if not lead or lead[-1] != R:
                raise ValueError(
                    f"{self.name}: θ has shape {theta.shape}; with {R} repetitions θ's "
                    f"second-to-last axis must have length {R} (shape (..., {R}, {d})), one "
                    "entry per repetition. Build θ with problem.start(settings).")
            settings = settings[:-1]
        if C > 1:
            if not settings or settings[0] != C:
                raise ValueError(
                    f"{self.name}: θ has shape {theta.shape}; with {C} cases θ's first axis "
                    f"must have length {C} (shape ({C}, ..., {d})). Build θ with "
                    "problem.start(settings).")
            settings = settings[1:]
        S = int(np.prod(settings, dtype=int))
        return np.moveaxis(theta, -1, 0).reshape(d, C, S, R), theta.shape

    def start(self, settings=()) -> np.ndarray:
        """θ₀ for every run: shape (C, *settings, R, d) (no C axis when C = 1, no R axis when
        R = 1), coordinate-major."""
        settings = (settings,) if isinstance(settings, (int, np.integer)) else tuple(settings)
        shape = ((self.n_cases,) if self.n_cases > 1 else ()) + settings + \
            ((self.repetitions,) if self.repetitions > 1 else ())
        cases = (self.n_cases,) if self.n_cases > 1 else ()
        z = self._theta0.reshape((self.d,) + cases + (1,) * (len(shape) - len(cases)))
        return np.moveaxis(np.ascontiguousarray(np.broadcast_to(z, (self.d,) + shape)), 0, -1)

    # -------------------------------------------------------------------------------- values
    def reset(self):
        """Back to evaluation 0: the next run meets the same draws as the first."""
        self.evaluations = 0

    def _period_now(self):
        return max(self.evaluations - 1, 0) // EVERY

    def _values_and_slopes(self, z, period, *, value, slope):
        """Per coordinate F_i and F_i' at z (d, C, S, R) in the shape's frame."""
        F = np.empty_like(z) if value else None
        G = np.empty_like(z) if slope else None
        for (sl, _), curve in zip(self._groups, self._curve_set(period)):
            f, g = curve.value_and_slope(z[sl], value=value, slope=slope)
            if value:
                F[sl] = f
            if slope:
                G[sl] = g
        return F, G

    def _shape_frame(self, y):
        """z = Q y per case (y and z of shape (d, C, S, R))."""
        if self._Q is None:
            return y
        return np.einsum("cij,jcsr->icsr", self._Q, y)

    def _value(self, z, period):
        need_sign = self.d > 1
        F, _ = self._values_and_slopes(z, period, value=True, slope=False)
        return np.abs(F).sum(axis=0) if need_sign else F[0]

    def f(self, theta):
        """The noise-free value of the landscape now (no tick)."""
        period = self._period_now()
        self._ensure(period + 1)
        z, shape = self._frame(theta)
        y = z - self._offset[period] if self._has["offset"] else z
        value = self._value(self._shape_frame(y), period)
        return value.reshape(shape[:-1])

    def _field(self, theta, t, period):
        """The field at θ in ``period``, with the noise of evaluation t (None: noise-free)."""
        self._ensure(period + 1)
        z, shape = self._frame(theta)
        y = z - self._offset[period] if self._has["offset"] else z
        zq = self._shape_frame(y)
        multi = self.d > 1
        F, g = self._values_and_slopes(zq, period, value=multi, slope=True)
        if multi:
            g *= np.sign(F)
        if t is not None:
            if self._M is not None:
                g *= self._M[t]
            if self._A is not None:
                g += self._A[t]
        if self._Q is not None:
            g = np.einsum("cij,icsr->jcsr", self._Q, g)
        if self._K is not None:
            g += CURL_STRENGTH * np.einsum("cij,jcsr->icsr", self._K,
                                           y - self._theta0[:, :, None, None])
        return np.moveaxis(g.reshape((self.d,) + shape[:-1]), 0, -1)

    def grad(self, theta):
        """The noisy gradient field at θ; one tick of the clock."""
        t = self.evaluations
        g = self._field(theta, t, t // EVERY)
        self.evaluations = t + 1
        return g

    def field(self, theta):
        """The noise-free field now (no tick): ∇f, plus the curl's rotation where there is one.
        E[grad] = field for unbiased noise (`noise`)."""
        return self._field(theta, None, self._period_now())
