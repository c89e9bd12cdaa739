"""Interactive figures of the lectures, built on `LiveFigure` (sliders redraw in place).

Each function returns a LiveFigure whose ``update`` only changes artists' data; contours are
recomputed only when the problem itself changes (another function, another condition number),
and cached per problem.
"""
from __future__ import annotations

import numpy as np

from . import plots
from .theory import gradient_descent as theory, trace_rate
from .optim import SGD, Momentum, Nesterov, run
from .problems import beale, quadratic, rosenbrock, saddle
from .widgets import LiveFigure, log_slider, slider

__all__ = ["gd_explorer", "momentum_explorer", "MOMENTUM_PROBLEMS"]

def gd_explorer(surfaces, eta: float = 0.5, steps: int = 60, start=(-0.8, -0.6),
                eta_range=(1e-2, 10.0)) -> LiveFigure:
    """Gradient descent on several 2-D surfaces side by side, and their loss curves (lecture 01).

    Controls: η (log scale), the number of steps, and the start as a fraction (−1 … 1) of each
    surface's window, so one start means the same relative place on every surface. Each
    surface needs a ``minimizer`` (the loss curves show L(θ_t) − L(θ*)). Blitted: moving η or
    the start redraws only the paths, curves and titles; changing the number of steps also
    rescales the loss axis.
    """
    fig, axes = plots.new_figure(ncols=len(surfaces) + 1, width=4.6, height=4.2)
    paths, curves, best, top = [], [], [], 0.0
    for p, ax in zip(surfaces, axes):
        if p.minimizer is None:
            raise ValueError(f"gd_explorer: surface {p.name!r} has no minimizer to measure "
                             "L − L* against; pass minimizer= when building it.")
        plots.contour(ax, p, n=120, levels=25)
        paths.append(plots.path(ax, np.zeros((1, 2)), color="tab:red"))
        curves.append(axes[-1].plot([], [], label=p.name.split(":")[0])[0])
        best.append(float(np.min(p.f(np.atleast_2d(p.minimizer)))))
        top = max(top, float(np.nanmax(plots.grid(p, 40)[2])) - best[-1])
    # fixed limits, so that the axes can stay in the blitted background
    axes[-1].set(yscale="log", ylim=(1e-16, 10 * top), xlabel="step $t$",
                 ylabel=r"$L(\theta_t) - L(\theta^*)$", title="loss curves")
    axes[-1].grid(alpha=0.3)
    axes[-1].legend(loc="upper right")
    shown = {"steps": None}

    def update(eta, steps, start_x, start_y):
        steps = int(steps)
        rescale = steps != shown["steps"]
        if rescale:
            axes[-1].set_xlim(0, steps)
            shown["steps"] = steps
        for p, ax, path, curve, f_min in zip(surfaces, axes, paths, curves, best):
            (x0, x1), (y0, y1) = p.bounds
            theta0 = [x0 + (start_x + 1) / 2 * (x1 - x0), y0 + (start_y + 1) / 2 * (y1 - y0)]
            trace = run(SGD(eta=eta), p, theta0, steps)
            path.set_data(trace.thetas)
            curve.set_data(np.arange(trace.steps + 1), np.maximum(trace.losses - f_min, 1e-16))
            status = (f"diverged at step {int(trace.diverged_at)}" if trace.diverged
                      else f"L − L* = {trace.loss - f_min:.2e}")
            ax.set_title(f"{p.name.split(':')[0]}\nη = {eta:.3g}: {status}", fontsize=10)
        return rescale

    animated = [a for path in paths for a in (path.line, path.start)] + curves \
        + [ax.title for ax in axes[:-1]]
    return LiveFigure(fig, update, {
        "eta": log_slider("step size η", eta, *eta_range),
        "steps": slider("steps", steps, 5, 300, 5),
        "start_x": slider("start (x, fraction of the window)", start[0], -1.0, 1.0, 0.05),
        "start_y": slider("start (y, fraction of the window)", start[1], -1.0, 1.0, 0.05),
    }, animated=animated, alt=(
        f"Gradient descent with step size η = {eta:g} for {steps} steps on "
        + ", ".join(p.name.split(":")[0] for p in surfaces)
        + ": each surface's contours with the path of the iterates, and a last panel with the "
          "loss gap L − L* against the step on a log scale."))


#: problem name → (factory of κ, default η, default µ, steps, default start or None for x0)
MOMENTUM_PROBLEMS = {
    "quadratic": (lambda kappa: quadratic(kappa), 0.05, 0.7, 100, (-2.0, 2.0)),
    "Rosenbrock": (lambda kappa: rosenbrock(), 1.5e-3, 0.9, 300, None),
    "Beale": (lambda kappa: beale(), 3e-3, 0.9, 300, None),
    "saddle": (lambda kappa: saddle(), 0.05, 0.7, 60, None),
}


def _start_fraction(name):
    """The default start of a problem as fractions of its window (what the sliders hold)."""
    factory, *_, start = MOMENTUM_PROBLEMS[name]
    p = factory(10.0)
    start = p.x0 if start is None else start
    return tuple(float(2 * (s - lo) / (hi - lo) - 1) for s, (lo, hi) in zip(start, p.bounds))
_METHODS = (("GD", "gd", "tab:blue"), ("momentum", "momentum", "tab:orange"),
            ("Nesterov", "nesterov", "tab:green"))


def _optimizers(eta, mu):
    return (SGD(eta), Momentum(eta, mu), Nesterov(eta, mu))


def momentum_explorer(problem: str = "quadratic", kappa: float = 10.0, eta=None, mu=None,
                      start=None) -> LiveFigure:
    """GD, momentum and Nesterov from one start: paths over the contours, loss curves (log) and,
    on a quadratic, each method's predicted rate (lecture theory) next to the measured one.

    Controls: the problem, κ (quadratic only), η, µ, and the start as a fraction of the window
    (−1 … 1; default: the problem's standard start). Choosing a problem resets η, µ and the start
    to that problem's defaults.
    """
    if problem not in MOMENTUM_PROBLEMS:
        raise ValueError(f"problem={problem!r}: choose one of {list(MOMENTUM_PROBLEMS)}.")
    import ipywidgets as W

    fig, axd = plots.new_mosaic([["paths", "loss"], ["paths", "info"]], width=10.8, height=5.0,
                                height_ratios=[4.2, 1.0])
    ax, ax_loss, ax_info = axd["paths"], axd["loss"], axd["info"]
    ax_info.axis("off")
    paths = [plots.path(ax, np.zeros((1, 2)), color=c, label=n, ms=2) for n, _, c in _METHODS]
    curves = [ax_loss.plot([], [], color=c, lw=1.6, label=n)[0] for n, _, c in _METHODS]
    predicted = [ax_loss.plot([], [], color=c, lw=1, ls="--")[0] for _, _, c in _METHODS]
    # The numbers go under the loss plot, not over its curves. Short texts: rendering glyphs
    # costs time on every slider move (blitting redraws them).
    header = ax_info.text(0.0, 0.95, "", transform=ax_info.transAxes, fontsize=8.5, va="top")
    legend = ax_info.text(0.3, 0.95, "", transform=ax_info.transAxes, fontsize=8.5, va="top")
    notes = [ax_info.text(0.0, 0.66 - 0.3 * i, "", transform=ax_info.transAxes, color=c,
                          fontsize=8.5, va="top") for i, (_, _, c) in enumerate(_METHODS)]
    ax_loss.set(yscale="log", xlabel="step $t$")
    ax_loss.grid(alpha=0.3)
    ax.legend(handles=[pt.line for pt in paths], loc="lower right", fontsize=8)
    animated = [a for pt in paths for a in (pt.line, pt.start)] + curves + predicted + notes \
        + [header]
    state = {"key": None, "contour": []}
    cache = {}

    def problem_for(name, kappa_):
        key = (name, round(float(kappa_), 6) if name == "quadratic" else None)
        if key not in cache:
            cache[key] = MOMENTUM_PROBLEMS[name][0](kappa_)
        return key, cache[key]

    def redraw_background(p, steps, f_star):
        """New contours, and loss axes fixed for this problem (so they can stay static)."""
        for artist in state["contour"]:
            artist.remove()
        before = set(ax.collections) | set(ax.lines)
        plots.contour(ax, p, n=150, levels=25)
        state["contour"] = [a for a in list(ax.collections) + list(ax.lines) if a not in before]
        _, _, Z = plots.grid(p, 40)
        top = np.nanmax(np.abs(Z - (f_star if p.minimizer is not None else np.nanmin(Z))))
        ax_loss.set_xlim(0, steps)
        ax_loss.set_ylim((1e-14 if p.minimizer is not None else 1e-3) * top, 10 * top)
        ax_loss.set_ylabel(r"$f(\theta_t) - f^*$" if p.minimizer is not None
                           else r"decrease $f(\theta_0) - f(\theta_t)$")
        ax_loss.set_title("loss" + (" (dashed: the theory's rate)"
                                    if hasattr(p, "eigenvalues") else ""))
        # static, so drawn once into the background rather than on every slider move
        legend.set_text("rate ρ per step: theory / measured" if hasattr(p, "eigenvalues") else "")

    def update(problem, kappa, eta, mu, start_x, start_y):
        key, p = problem_for(problem, kappa)
        steps = MOMENTUM_PROBLEMS[problem][3]
        f_star = 0.0 if p.minimizer is None else float(np.min(p.f(np.atleast_2d(p.minimizer))))
        new_background = key != state["key"]
        if new_background:
            redraw_background(p, steps, f_star)
            state["key"] = key
        (x0, x1), (y0, y1) = p.bounds
        theta0 = [x0 + (start_x + 1) / 2 * (x1 - x0), y0 + (start_y + 1) / 2 * (y1 - y0)]
        is_quadratic = hasattr(p, "eigenvalues")
        t = np.arange(steps + 1)
        for (name, method, _), opt, path, curve, pred, note in zip(
                _METHODS, _optimizers(eta, mu), paths, curves, predicted, notes):
            tr = run(opt, p, theta0, steps)
            path.set_data(tr.thetas)
            # with no minimum (the saddle) show how far the loss has come down instead
            gap = tr.losses - f_star if p.minimizer is not None else tr.losses[0] - tr.losses
            curve.set_data(t, np.where(gap > 0, gap, np.nan))
            text = f"{name}: "
            if is_quadratic:
                rho = float(theory.rate(method, eta, mu, p.eigenvalues))
                # the loss is quadratic in the error, so it falls like ρ^(2t); anchor the line
                # halfway, where the slowest mode dominates (early steps still hold fast modes)
                k = steps // 2 if np.isfinite(gap[steps // 2]) and gap[steps // 2] > 0 else 0
                pred.set_data(t, gap[k] * rho ** (2.0 * (t - k)) if rho < 1
                              else np.full(t.shape, np.nan))
                text += f"{rho:.4f} / "
                if not tr.diverged:
                    text += f"{trace_rate(tr, p.minimizer):.4f}"
            else:
                pred.set_data([], [])
            if tr.diverged:
                text += f"diverged at step {int(tr.diverged_at)}"
            elif not is_quadratic:
                text += f"{'f − f*' if p.minimizer is not None else 'decrease'} = {gap[-1]:.2e}"
            note.set_text(text)
        header.set_text(f"η = {eta:.3g}, µ = {mu:.2f}")
        return new_background

    start = _start_fraction(problem) if start is None else start
    controls = {
        "problem": W.Dropdown(options=list(MOMENTUM_PROBLEMS), value=problem,
                              description="problem"),
        "kappa": log_slider("κ (quadratic)", kappa, 1.0, 1000.0),
        "eta": log_slider("step size η", eta if eta is not None else MOMENTUM_PROBLEMS[problem][1],
                          1e-4, 3.0),
        "mu": slider("momentum µ", mu if mu is not None else MOMENTUM_PROBLEMS[problem][2],
                     0.0, 0.99, 0.01),
        "start_x": slider("start x (fraction of window)", start[0], -1.0, 1.0, 0.02),
        "start_y": slider("start y (fraction of window)", start[1], -1.0, 1.0, 0.02),
    }
    live = LiveFigure(fig, update, controls, animated=animated, alt=(
        f"Gradient descent, momentum and Nesterov on the {problem} problem: contours with the "
        "three paths of iterates from the same start, and their losses against the step on a "
        "log scale."))

    def reset_defaults(change):
        # each problem has its own scale of step sizes: jump to its defaults
        _, eta_default, mu_default, _, _ = MOMENTUM_PROBLEMS[change["new"]]
        controls["eta"].value, controls["mu"].value = eta_default, mu_default
        controls["start_x"].value, controls["start_y"].value = _start_fraction(change["new"])

    controls["problem"].observe(reset_defaults, names="value")
    return live
