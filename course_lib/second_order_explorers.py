"""Lecture 04's explorer: damped Newton and L-BFGS on Rosenbrock, with the quadratic model.

`second_order_explorer` draws, on Rosenbrock's contours, the path of Newton's method with
damping λ (`Newton(lam=λ, modify="damping")`: it solves (H + µI) p = −∇L with µ ≥ λ, µ large
enough for a positive-definite matrix) and the path of `LBFGS(m)`, and at Newton's iterate
θ_k the quadratic model the step minimizes, m(p) = L + ∇Lᵀp + ½ pᵀ(H + µI)p, as three of
its level sets (ellipses around its minimizer, the one through θ_k among them) and the step
to its minimizer. A second panel shows L(θ_t) − L* against the iteration for both.

Blitted as lecture 01–03's explorers (`course_lib.widgets.LiveFigure`): a slider move redraws
the paths, the ellipses, the curves and the titles over the contours rendered once.
"""
from __future__ import annotations

import numpy as np

from . import plots
from .optim import LBFGS, Newton, run
from .problems import rosenbrock
from .widgets import LiveFigure, log_slider, slider

__all__ = ["second_order_explorer", "model_ellipses", "EXPLORER_STEPS"]

#: iterations each method may take in the explorer (both usually stop far earlier)
EXPLORER_STEPS = 200

#: the model's level sets drawn: m(p) − m(p*) as fractions of its value at p = 0 (θ_k itself)
LEVELS = (0.1, 0.4, 1.0)


def model_ellipses(theta, g, A, levels=LEVELS, n: int = 120):
    """The level sets of m(p) = gᵀp + ½ pᵀA p (A positive definite) around θ, as points.

    m(p) = m(p*) + ½ (p − p*)ᵀA(p − p*) with p* = −A⁻¹g, so the set m − m(p*) = c is the
    ellipse p* + √(2c) A^(−1/2) u, ‖u‖ = 1. ``levels`` are c as fractions of
    m(0) − m(p*) = ½ gᵀA⁻¹g (1.0: the ellipse through θ). Returns (curves (k, n, 2) in θ's
    coordinates, the model's minimizer θ + p*)."""
    A = np.asarray(A, dtype=float)
    w, Q = np.linalg.eigh(A)
    if w[0] <= 0:
        raise ValueError(f"model_ellipses: A has eigenvalues {w}; the level sets are ellipses "
                         "only for a positive-definite A (damp it: H + µI).")
    p_star = -np.linalg.solve(A, g)
    top = 0.5 * float(g @ -p_star)
    t = np.linspace(0.0, 2 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)], axis=-1)  # (n, 2)
    half_inverse = Q @ np.diag(1 / np.sqrt(w)) @ Q.T     # A^(−1/2)
    curves = np.stack([theta + p_star + np.sqrt(2 * c * top) * circle @ half_inverse.T
                       for c in levels])
    return curves, theta + p_star


def second_order_explorer(lam: float = 1e-3, m: int = 5, k: int = 3) -> LiveFigure:
    """Damping λ of Newton's method, memory m of L-BFGS, and the iteration k whose quadratic
    model is drawn, on Rosenbrock from (−1.2, 1). Returns a `LiveFigure`."""
    problem = rosenbrock()
    f_star = float(problem.f(problem.minimizer))
    fig, (ax, ax_loss) = plots.new_figure(ncols=2, width=5.4, height=4.2)
    plots.contour(ax, problem, n=160, levels=25, bounds=((-1.5, 1.5), (-0.6, 1.7)))
    newton_path = plots.path(ax, problem.x0[None], color="tab:red", label="Newton, damped")
    lbfgs_path = plots.path(ax, problem.x0[None], color="tab:blue", label="L-BFGS")
    ellipses = [ax.plot([], [], "--", color="white", lw=1.1, zorder=5)[0] for _ in LEVELS]
    ellipses[-1].set_label("its quadratic model at θ_k")
    (step_line,) = ax.plot([], [], "-", color="white", lw=2.0, zorder=6)
    (target,) = ax.plot([], [], "X", color="white", mec="k", ms=10, zorder=7,
                        label="the model's minimum")
    ax.legend(loc="upper center", fontsize=8, framealpha=0.85)
    curves = {name: ax_loss.plot([], [], marker=".", ms=3, color=c, label=name)[0]
              for name, c in (("Newton", "tab:red"), ("L-BFGS", "tab:blue"))}
    ax_loss.set(yscale="log", ylim=(1e-17, 1e3), xlabel="iteration $t$",
                ylabel=r"$L(\theta_t) - L^*$")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend(loc="upper right", fontsize=9)
    state = {"live": None, "alt": ""}

    def describe(lam, m, k, newton_steps, lbfgs_steps, newton_gap, lbfgs_gap, k_shown):
        return (f"Rosenbrock's contours from (−1.2, 1) to the minimum (1, 1) (white star). Red: "
                f"Newton's method with damping λ = {lam:.3g} and a backtracking line search, "
                f"{newton_steps} iterations to L − L* = {newton_gap:.1e}. Blue: L-BFGS with "
                f"memory m = {m}, {lbfgs_steps} iterations to L − L* = {lbfgs_gap:.1e}. "
                f"White dashed ellipses: level sets of the damped quadratic model at Newton's "
                f"iterate θ_{k_shown}, the outer one through θ_{k_shown}, and a white cross at "
                "the model's minimum with the full step to it. Right: L(θ_t) − L* against the "
                "iteration t on a log scale for both methods.")

    def update(lam, m, k):
        m, k = int(m), int(k)
        newton = Newton(lam=lam, modify="damping")
        tr_n = run(newton, problem, problem.x0, EXPLORER_STEPS)
        tr_l = run(LBFGS(m=m), problem, problem.x0, EXPLORER_STEPS)
        steps = {}
        for name, tr, path in (("Newton", tr_n, newton_path), ("L-BFGS", tr_l, lbfgs_path)):
            last = tr.steps if tr.stopped_at is None or tr.stopped_at < 0 \
                else int(tr.stopped_at)
            path.set_data(tr.thetas[:last + 1])
            gap = np.maximum(tr.losses[:last + 1] - f_star, 1e-17)
            curves[name].set_data(np.arange(last + 1), gap)
            steps[name] = (last, float(gap[-1]))
        k_shown = min(k, steps["Newton"][0])
        theta_k = tr_n.thetas[k_shown]
        A = newton.modified_hessian(problem.hess(theta_k))
        rings, minimum = model_ellipses(theta_k, problem.grad(theta_k), A)
        for line, ring in zip(ellipses, rings):
            line.set_data(ring[:, 0], ring[:, 1])
        step_line.set_data([theta_k[0], minimum[0]], [theta_k[1], minimum[1]])
        target.set_data([minimum[0]], [minimum[1]])
        ax.set_title(f"Newton (λ = {lam:.2g}): {steps['Newton'][0]} it.; "
                     f"L-BFGS (m = {m}): {steps['L-BFGS'][0]} it.\nmodel at θ_{k_shown}",
                     fontsize=10)
        # the iteration axis grows in steps of 10 only: a new range redraws the background
        right = 10 * int(np.ceil(max(steps["Newton"][0], steps["L-BFGS"][0], 5) / 10))
        rescale = right != state.get("right")
        if rescale:
            ax_loss.set_xlim(0, right)
            state["right"] = right
        state["alt"] = describe(lam, m, k, steps["Newton"][0], steps["L-BFGS"][0],
                                steps["Newton"][1], steps["L-BFGS"][1], k_shown)
        if state["live"] is not None:
            state["live"].alt = state["alt"]
        return rescale

    animated = [newton_path.line, newton_path.start, lbfgs_path.line, lbfgs_path.start,
                *ellipses, step_line, target, *curves.values(), ax.title]
    live = LiveFigure(fig, update, {
        "lam": log_slider("Newton's damping λ", lam, 1e-4, 1e3),
        "m": slider("L-BFGS memory m", m, 1, 20, 1),
        "k": slider("model at Newton's iterate k", k, 0, 60, 1),
    }, animated=animated)
    live.alt, state["live"] = state["alt"], live
    return live
