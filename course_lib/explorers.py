"""Interactive figures of the lectures, built on `LiveFigure` (sliders redraw in place).

Each function returns a LiveFigure whose ``update`` only changes artists' data; contours are
recomputed only when the problem itself changes (another function, another condition number),
and cached per problem. A loss axis whose limits follow its curves is the only part of the
background drawn again when they change (``update`` returns that axis).
"""
from __future__ import annotations

import numpy as np

from . import plots
from .theory import gradient_descent as theory, trace_rate
from .optim import SGD, Adadelta, Adagrad, Adam, Momentum, Nesterov, RMSprop, run
from .problems import beale, long_valley, quadratic, rosenbrock, saddle
from .widgets import LiveFigure, log_slider, slider

__all__ = ["gd_explorer", "momentum_explorer", "MOMENTUM_PROBLEMS", "adaptive_explorer",
           "ADAPTIVE_PROBLEMS", "rates_run"]

class _LogAxisFit:
    """Keeps a log-scale y axis around the curves drawn on it, and changes it only when needed.

    A change of the limits means drawing this axis again into the blitted background (a few
    times a blitted move; a full redraw, laid out anew, when its new tick labels need more
    room), so the limits change only when a curve leaves them, or when the curves fill less
    than a third of their decades (and by more than 4 decades), where they would look flat.
    New limits leave a margin of 20% of the curves' decades (at least one decade) on each side,
    and on a side where a curve left, half of the curves' decades: a slider dragged one way
    (η up, curves falling faster) then needs a few rescales, not one every few moves.
    """

    margin_fraction, min_margin, run_ahead = 0.2, 1.0, 0.5

    def __init__(self, ax):
        self.ax = ax
        self.limits = None  # log10 of the current limits
        _room_for_tick_labels(ax)

    def fit(self, curves) -> bool:
        """Fit the limits to the lines' positive finite y values; True when they changed."""
        ys = np.concatenate([np.asarray(c.get_ydata(), dtype=float) for c in curves])
        ys = ys[np.isfinite(ys) & (ys > 0)]
        if ys.size == 0:
            return False
        lo, hi = np.log10(ys.min()), np.log10(ys.max())
        margin = max(self.margin_fraction * (hi - lo), self.min_margin)
        ahead = max(margin, self.run_ahead * (hi - lo))
        if self.limits is None:
            new = (lo - margin, hi + margin)
        else:
            below, above = lo < self.limits[0], hi > self.limits[1]
            span, needed = self.limits[1] - self.limits[0], hi - lo + 2 * margin
            if not (below or above or (span > 3 * needed and span - needed > 4.0)):
                return False
            new = (lo - (ahead if below else margin), hi + (ahead if above else margin))
        self.limits = new
        self.ax.set_ylim(10 ** new[0], 10 ** new[1])
        return True


def _room_for_tick_labels(ax, widest: str = r"$\mathdefault{10^{-88}}$") -> None:
    """Put a log axis's y label as far from the axis as its widest tick label needs (two-digit
    negative exponents), instead of right next to the tick labels it has now. New limits then
    never change how much room the axis takes: they are drawn into the figure's layout as it
    is, where wider tick labels would otherwise move the label and lay the figure out anew."""
    from matplotlib.text import Text
    from matplotlib.transforms import ScaledTranslation

    fig = ax.figure
    tick = ax.yaxis.get_major_ticks()[0]
    probe = Text(0, 0, widest, fontproperties=tick.label1.get_fontproperties())
    probe.set_figure(fig)
    width = probe.get_window_extent(fig.canvas.get_renderer()).width * 72 / fig.dpi
    points = width + tick.get_tick_padding() + tick.get_pad() + ax.yaxis.labelpad
    ax.yaxis.set_label_coords(0.0, 0.5, transform=ax.transAxes + ScaledTranslation(
        -points / 72, 0.0, fig.dpi_scale_trans))


def _minimum_marker(ax):
    """A star for the minima, made animated by the caller: a blitted figure draws its animated
    artists over the background, so a star in the background would vanish under the paths."""
    (star,) = ax.plot([], [], "*", color="white", mec="k", ms=13, zorder=6, label="minimum")
    return star


def gd_explorer(surfaces, eta: float = 0.5, steps: int = 60, start=(-0.8, -0.6),
                eta_range=(1e-2, 10.0), saddles=None) -> LiveFigure:
    """Gradient descent θ_{t+1} = θ_t − η ∇L(θ_t) on several 2-D surfaces side by side, and
    their loss curves L(θ_t) − L(θ*) (lecture 01).

    Controls: η (log scale), the number of steps, and the start as a fraction (−1 … 1) of each
    surface's window, so one start means the same relative place on every surface. Each
    surface needs a ``minimizer`` (marked with a star, drawn above the paths). ``saddles``
    optionally gives, per surface, saddle points to mark with a cross: a list as long as
    ``surfaces`` of arrays (k, 2) or None.

    Blitted: a slider move redraws only the paths, markers, curves and titles. The loss axis
    follows the curves: its limits change (that axis drawn again) only when a curve leaves them
    or the curves fill less than a third of them; its x axis changes with the number of steps.
    """
    saddles = [None] * len(surfaces) if saddles is None else list(saddles)
    if len(saddles) != len(surfaces):
        raise ValueError(f"gd_explorer: saddles= needs one entry per surface ({len(surfaces)}), "
                         f"None where a surface has no saddle to mark; got {len(saddles)}.")
    fig, axes = plots.new_figure(ncols=len(surfaces) + 1, width=11.0 / (len(surfaces) + 1),
                                 height=4.0)
    paths, markers, curves, best = [], [], [], []
    for p, ax, sad in zip(surfaces, axes, saddles):
        if p.minimizer is None:
            raise ValueError(f"gd_explorer: surface {p.name!r} has no minimizer to measure "
                             "L − L* against; pass minimizer= when building it.")
        cs = plots.contour(ax, p, n=120, levels=25, mark_minima=False)
        cbar = fig.colorbar(cs, ax=ax, fraction=0.06, pad=0.02, ticks=cs.levels[::4],
                            format="%.2g")
        cbar.ax.set_title("L", fontsize=10)
        paths.append(plots.path(ax, np.zeros((1, 2)), color="tab:red"))
        star = _minimum_marker(ax)
        m = np.atleast_2d(p.minimizer)
        star.set_data(m[:, 0], m[:, 1])
        markers.append(star)
        if sad is not None:
            sad = np.atleast_2d(sad)
            markers.append(ax.plot(sad[:, 0], sad[:, 1], "X", color="white", mec="k", ms=10,
                                   zorder=6, label="saddle point")[0])
        curves.append(axes[-1].plot([], [], label=p.name.split(":")[0])[0])
        best.append(float(np.min(p.f(m))))
    axes[-1].set(yscale="log", xlabel="step $t$", ylabel=r"$L(\theta_t) - L(\theta^*)$")
    axes[-1].grid(alpha=0.3)
    # above the axes, where no curve can run under it
    axes[-1].legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=9, frameon=False)
    loss_axis = _LogAxisFit(axes[-1])
    shown = {"steps": None, "live": None}

    def describe(eta, steps, start_x, start_y, results):
        where = "; ".join(f"{name}: {status}" for name, status in results)
        return (f"Gradient descent with step size η = {eta:.3g} for {steps} steps, started at "
                f"({start_x:.2f}, {start_y:.2f}) as fractions of each window. One panel per "
                f"surface ({', '.join(n for n, _ in results)}): filled contours of the loss "
                "with a colour bar, the minima as white stars"
                + (", saddle points as white crosses" if any(s is not None for s in saddles)
                   else "")
                + ", the path of the iterates in red from a ring at the start. Last panel: "
                "the gap L(θ_t) − L(θ*) against the step "
                f"t on a log scale, one curve per surface. At the end: {where}.")

    def update(eta, steps, start_x, start_y):
        steps = int(steps)
        rescale = steps != shown["steps"]
        if rescale:
            axes[-1].set_xlim(0, steps)
            shown["steps"] = steps
        results = []
        for p, ax, path, curve, f_min in zip(surfaces, axes, paths, curves, best):
            (x0, x1), (y0, y1) = p.bounds
            theta0 = [x0 + (start_x + 1) / 2 * (x1 - x0), y0 + (start_y + 1) / 2 * (y1 - y0)]
            trace = run(SGD(eta=eta), p, theta0, steps)
            path.set_data(trace.thetas)
            gap = trace.losses - f_min
            curve.set_data(np.arange(trace.steps + 1), np.where(gap > 0, gap, np.nan))
            status = (f"diverged at step {int(trace.diverged_at)}" if trace.diverged
                      else f"L − L* = {trace.loss - f_min:.2e}")
            ax.set_title(f"{p.name.split(':')[0]}\nη = {eta:.3g}: {status}", fontsize=10)
            results.append((p.name.split(":")[0], status))
        rescale = loss_axis.fit(curves) or rescale
        shown["alt"] = describe(eta, steps, start_x, start_y, results)
        if shown["live"] is not None:
            shown["live"].alt = shown["alt"]
        return [axes[-1]] if rescale else False

    # drawn in this order over the background: markers after paths, so they stay visible
    animated = [a for path in paths for a in (path.line, path.start)] + markers + curves \
        + [ax.title for ax in axes[:-1]]
    live = LiveFigure(fig, update, {
        "eta": log_slider("step size η", eta, *eta_range),
        "steps": slider("steps", steps, 5, 300, 5),
        "start_x": slider("start (x, fraction of the window)", start[0], -1.0, 1.0, 0.05),
        "start_y": slider("start (y, fraction of the window)", start[1], -1.0, 1.0, 0.05),
    }, animated=animated)
    # the first update ran inside LiveFigure(...); from now on each update refreshes the text
    live.alt, shown["live"] = shown["alt"], live
    return live


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
    star = _minimum_marker(ax)
    # Measured: a wide pale band; theory: a thin dashed line of the same colour drawn on top of
    # it, so that where the two agree (GD on a quadratic, exactly) both stay visible.
    curves = [ax_loss.plot([], [], color=c, lw=3.2, alpha=0.35, label=n, zorder=2,
                           solid_capstyle="butt")[0] for n, _, c in _METHODS]
    predicted = [ax_loss.plot([], [], color=c, lw=1.3, ls=(0, (4, 2)), zorder=3)[0]
                 for _, _, c in _METHODS]
    # The numbers go under the loss plot, not over its curves. Short texts: rendering glyphs
    # costs time on every slider move (blitting redraws them).
    header = ax_info.text(0.0, 0.95, "", transform=ax_info.transAxes, fontsize=8.5, va="top")
    legend = ax_info.text(0.3, 0.95, "", transform=ax_info.transAxes, fontsize=8.5, va="top")
    notes = [ax_info.text(0.0, 0.66 - 0.3 * i, "", transform=ax_info.transAxes, color=c,
                          fontsize=8.5, va="top") for i, (_, _, c) in enumerate(_METHODS)]
    ax_loss.set(yscale="log", xlabel="step $t$")
    ax_loss.grid(alpha=0.3)
    ax.legend(handles=[pt.line for pt in paths] + [star], loc="lower right", fontsize=8)
    loss_axis = _LogAxisFit(ax_loss)
    # Blitting draws the animated artists in this order, over the background: the star after
    # the paths, the theory lines after the measured curves.
    animated = [a for pt in paths for a in (pt.line, pt.start)] + [star] + curves + predicted \
        + notes + [header]
    state = {"key": None, "contour": [], "live": None}
    cache = {}

    def problem_for(name, kappa_):
        key = (name, round(float(kappa_), 6) if name == "quadratic" else None)
        if key not in cache:
            cache[key] = MOMENTUM_PROBLEMS[name][0](kappa_)
        return key, cache[key]

    def redraw_background(p, steps, f_star):
        """New contours and minimum marker, and the step axis for this problem."""
        for artist in state["contour"]:
            artist.remove()
        before = set(ax.collections) | set(ax.lines)
        plots.contour(ax, p, n=150, levels=25, mark_minima=False)
        state["contour"] = [a for a in list(ax.collections) + list(ax.lines) if a not in before]
        m = np.atleast_2d(p.minimizer) if p.minimizer is not None else np.empty((0, 2))
        star.set_data(m[:, 0], m[:, 1])
        ax_loss.set_xlim(0, steps)
        ax_loss.set_ylabel(r"$f(\theta_t) - f^*$" if p.minimizer is not None
                           else r"decrease $f(\theta_0) - f(\theta_t)$")
        ax_loss.set_title("loss" + (" (dashed: the theory's rate)"
                                    if hasattr(p, "eigenvalues") else ""))
        # static, so drawn once into the background rather than on every slider move
        legend.set_text("rate ρ per step: theory / measured" if hasattr(p, "eigenvalues") else "")

    def describe(p, eta, mu, notes, is_quadratic):
        gap = "f(θ_t) − f*" if p.minimizer is not None else "the decrease f(θ_0) − f(θ_t)"
        return (
            f"Gradient descent (blue), momentum (orange) and Nesterov (green) on {p.name} with "
            f"η = {eta:.3g}, µ = {mu:.2f}. Left: filled contours with the three paths of "
            "iterates from one start (a ring)"
            + (", the minimum a white star" if p.minimizer is not None else "")
            + f". Right: {gap} against the step t on a log scale, "
            + ("measured as wide pale lines, the theory's rate ρ^(2t) as dashed lines on top; "
               "below it, the rate per step, theory / measured: " if is_quadratic
               else "one line per method; below it: ")
            + "; ".join(notes) + ".")

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
        state["alt"] = describe(p, eta, mu, [n.get_text() for n in notes], is_quadratic)
        if state["live"] is not None:
            state["live"].alt = state["alt"]
        refit = loss_axis.fit(curves)
        return True if new_background else [ax_loss] if refit else False

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
    live = LiveFigure(fig, update, controls, animated=animated)
    # the first update ran inside LiveFigure(...); from now on each update refreshes the text
    live.alt, state["live"] = state["alt"], live

    def reset_defaults(change):
        # each problem has its own scale of step sizes: jump to its defaults (one redraw, of
        # the new problem at its defaults: the LiveFigure batches what a reaction sets)
        _, eta_default, mu_default, _, _ = MOMENTUM_PROBLEMS[change["new"]]
        controls["eta"].value, controls["mu"].value = eta_default, mu_default
        controls["start_x"].value, controls["start_y"].value = _start_fraction(change["new"])

    live.on_change("problem", reset_defaults)
    return live


#: lecture 03's explorer: problem name → (factory, default η, steps, window or None for the
#: problem's bounds); Beale's bounds reach x, y = ±4.5, far from where the paths go
ADAPTIVE_PROBLEMS = {
    "long valley": (long_valley, 0.3, 120, None),
    "Beale": (beale, 0.1, 150, ((-1.5, 4.0), (-2.0, 2.0))),
    "saddle": (saddle, 0.05, 60, None),
}
_ADAPTIVE = (("Adagrad", "tab:red"), ("RMSprop", "tab:purple"), ("Adadelta", "tab:brown"),
             ("Adam", "black"))


def _adaptive_optimizers(eta, one_minus_beta1, one_minus_beta2, one_minus_rho, eps):
    return (Adagrad(eta, eps), RMSprop(eta, 1 - one_minus_rho, eps),
            Adadelta(1 - one_minus_rho, eps),
            Adam(eta, 1 - one_minus_beta1, 1 - one_minus_beta2, eps))


def rates_run(opt, problem, theta0, steps: int, limit: float = 1e6):
    """Run one adaptive optimizer from θ₀ (shape (d,)) for ``steps`` steps, keeping what the
    explorer draws: the iterates θ₀ … θ_T, shape (T + 1, d), and each step's per-coordinate
    step size (`effective_rate`), shape (T, d); nan from the step where θ leaves ±``limit``
    or stops being finite."""
    d = np.shape(theta0)[-1]
    thetas = np.full((steps + 1, d), np.nan)
    rates = np.full((steps, d), np.nan)
    theta, state = np.asarray(theta0, dtype=float), opt.init(theta0)
    thetas[0] = theta
    with np.errstate(all="ignore"):
        for t in range(steps):
            before = state
            theta, state = opt.step(theta, state, problem)
            if not np.abs(theta).max() < limit:  # also False for nan and ±inf
                break
            thetas[t + 1] = theta
            rates[t] = opt.effective_rate(before, state)
    return thetas, rates


class _OnePoint:
    """A 2-D problem whose gradient at one point (θ of shape (2,)) is computed with Python
    floats from its SymPy expression: numpy spends ~1 µs on each operation of a single number,
    and the adaptive explorer takes ~500 gradient steps per slider move. Where a float
    overflows (a path far off, about to be cut) numpy's gradient answers instead, inf or nan
    as everywhere else. Anything else is the problem's own."""

    def __init__(self, problem):
        import sympy as sp

        self._problem = problem
        self._grad = sp.lambdify(problem.symbols, [sp.diff(problem.expr, s)
                                                   for s in problem.symbols], "math")

    def grad(self, theta):
        if np.shape(theta) == (2,):
            try:
                return np.array(self._grad(float(theta[0]), float(theta[1])))
            except (OverflowError, ValueError, ZeroDivisionError):
                pass
        return self._problem.grad(theta)

    def __getattr__(self, name):
        return getattr(self._problem, name)


def _settings(opt) -> tuple:
    """What a run of ``opt`` depends on besides the problem and the start: its class and its
    (numeric) hyperparameters."""
    return (type(opt).__name__,) + tuple(float(getattr(opt, h)) for h in opt.hyperparameters)


def adaptive_explorer(problem: str = "long valley", eta=None, beta1: float = 0.9,
                      beta2: float = 0.999, rho: float = 0.9, eps: float = 1e-8) -> LiveFigure:
    """Adagrad, RMSprop, Adadelta and Adam from one start (lecture 03): their paths over the
    contours and, next to them, each coordinate's effective step size over time (the factor
    the step multiplies the gradient by, or Adam's m̂: `effective_rate` of each optimizer),
    with SGD's constant η and Adagrad's constant-gradient theory η/√(t g₀² + ε) for reference.

    Controls: the problem, η (Adagrad, RMSprop, Adam), 1 − β₁ and 1 − β₂ (Adam), 1 − ρ
    (RMSprop and Adadelta, which has no η), ε (all four), on log scales. Choosing a problem
    resets η to that problem's default.
    """
    if problem not in ADAPTIVE_PROBLEMS:
        raise ValueError(f"problem={problem!r}: choose one of {list(ADAPTIVE_PROBLEMS)}.")
    import ipywidgets as W

    from .theory.adaptive import adagrad_effective_rate_fn

    fig, axd = plots.new_mosaic([["paths", "rate_x"], ["paths", "rate_y"], ["info", "info"]],
                                width=10.8, height=5.4, height_ratios=[2.1, 2.1, 0.55])
    ax, ax_info = axd["paths"], axd["info"]
    rate_axes = (axd["rate_x"], axd["rate_y"])
    ax_info.axis("off")
    paths = [plots.path(ax, np.zeros((1, 2)), color=c, label=n, ms=2) for n, c in _ADAPTIVE]
    star = _minimum_marker(ax)
    curves, theory, sgd = [], [], []
    for k, ax_r in enumerate(rate_axes):
        # measured: wide and pale, so Adagrad's theory (thin, dashed, on top) stays visible
        curves.append([ax_r.plot([], [], color=c, lw=2.6, alpha=0.55, label=n,
                                 solid_capstyle="butt")[0] for n, c in _ADAPTIVE])
        theory.append(ax_r.plot([], [], color="tab:red", lw=1.0, ls=(0, (4, 2)), zorder=3,
                                label="Adagrad's theory, g constant = g(θ₀)")[0])
        sgd.append(ax_r.plot([], [], color="tab:gray", lw=1.0, ls=":",
                             label="SGD: η for every coordinate")[0])
        ax_r.set(yscale="log", ylabel=f"step size of θ{'₁₂'[k]}")
        ax_r.grid(alpha=0.3)
    rate_axes[1].set_xlabel("step $t$")
    rate_axes[0].set_title("effective step size per coordinate", fontsize=10)
    ax_info.legend(handles=[theory[0], sgd[0]], fontsize=8, loc="upper right", frameon=False,
                   borderaxespad=0.0)
    fits = [_LogAxisFit(ax_r) for ax_r in rate_axes]
    header = ax_info.text(0.0, 1.0, "", transform=ax_info.transAxes, fontsize=8.5, va="top")
    # two columns of results, left of the legend
    notes = [ax_info.text(0.27 * (i % 2), 0.6 - 0.38 * (i // 2), "", transform=ax_info.transAxes,
                          color=c, fontsize=8.5, va="top") for i, (_, c) in enumerate(_ADAPTIVE)]
    animated = [a for pt in paths for a in (pt.line, pt.start)] + [star] \
        + [c for row in curves for c in row] + theory + sgd + notes + [header]
    state = {"key": None, "contour": [], "live": None}
    cache = {}
    # each method's last run: a slider that only some methods read (Adadelta has no η; only
    # Adam reads β₁ and β₂) leaves the others' runs as they were, so they are not run again
    last_runs = {}

    def redraw_background(name, p, steps):
        for artist in state["contour"]:
            artist.remove()
        before = set(ax.collections) | set(ax.lines)
        plots.contour(ax, p, bounds=ADAPTIVE_PROBLEMS[name][3], n=150, levels=25,
                      mark_minima=False)
        state["contour"] = [a for a in list(ax.collections) + list(ax.lines) if a not in before]
        m = np.atleast_2d(p.minimizer) if p.minimizer is not None else np.empty((0, 2))
        star.set_data(m[:, 0], m[:, 1])
        ax.legend(handles=[pt.line for pt in paths] + ([star] if len(m) else []),
                  loc="lower right", fontsize=8)
        for ax_r in rate_axes:
            ax_r.set_xlim(0, steps)

    def describe(p, values, results):
        return (f"Adagrad (red), RMSprop (purple), Adadelta (brown) and Adam (black) on "
                f"{p.name} from its standard start, {values}. Left: filled contours with the "
                "four paths of iterates from a ring at the start"
                + (", the minimum a white star" if p.minimizer is not None else "")
                + ". Right, one panel per coordinate: each method's effective step size "
                "against the step t on a log scale, with SGD's constant η dotted and "
                "Adagrad's constant-gradient theory dashed. At the end: "
                + "; ".join(results) + ".")

    def update(problem, eta, one_minus_beta1, one_minus_beta2, one_minus_rho, eps):
        factory, _, steps, _ = ADAPTIVE_PROBLEMS[problem]
        if problem not in cache:
            made = factory()
            cache[problem] = (made, _OnePoint(made) if getattr(made, "expr", None) is not None
                              and len(made.symbols or ()) == 2 else made)
        p, fast = cache[problem]
        new_background = problem != state["key"]
        if new_background:
            redraw_background(problem, p, steps)
            state["key"] = problem
        f_star = None if p.minimizer is None else float(np.min(p.f(np.atleast_2d(p.minimizer))))
        t = np.arange(1, steps + 1)
        results = []
        opts = _adaptive_optimizers(eta, one_minus_beta1, one_minus_beta2, one_minus_rho, eps)
        for (name, _), opt, path, note, k in zip(_ADAPTIVE, opts, paths, notes, range(4)):
            key = (problem, _settings(opt))
            if last_runs.get(name, (None,))[0] != key:
                last_runs[name] = (key, rates_run(opt, fast, p.x0, steps))
            thetas, rates = last_runs[name][1]
            path.set_data(thetas[np.isfinite(thetas[:, 0])])
            for c in range(2):
                curves[c][k].set_data(t, rates[:, c])
            last = np.flatnonzero(np.isfinite(thetas[:, 0]))[-1]
            if last < steps:
                text = f"{name}: left the plot at step {last + 1}"
            elif f_star is not None:
                text = f"{name}: L − L* = {float(p.f(thetas[-1])) - f_star:.2e}"
            else:
                text = f"{name}: L = {float(p.f(thetas[-1])):.3g}"
            note.set_text(text)
            results.append(text)
        g0 = p.grad(p.x0)
        for c in range(2):
            theory[c].set_data(t, adagrad_effective_rate_fn(eta, g0[c], eps, t))
            sgd[c].set_data([0, steps], [eta, eta])
        values = (f"η = {eta:.3g}, 1 − β₁ = {one_minus_beta1:.3g}, "
                  f"1 − β₂ = {one_minus_beta2:.3g}, 1 − ρ = {one_minus_rho:.3g}, ε = {eps:.3g}")
        header.set_text(values)
        state["alt"] = describe(p, values, results)
        if state["live"] is not None:
            state["live"].alt = state["alt"]
        refit = [ax_r for fit, ax_r, row, th, sg in zip(fits, rate_axes, curves, theory, sgd)
                 if fit.fit(list(row) + [th, sg])]
        return True if new_background else refit

    default_eta = ADAPTIVE_PROBLEMS[problem][1] if eta is None else eta
    controls = {
        "problem": W.Dropdown(options=list(ADAPTIVE_PROBLEMS), value=problem,
                              description="problem"),
        "eta": log_slider("step size η", default_eta, 1e-4, 10.0),
        "one_minus_beta1": log_slider("1 − β₁ (Adam)", 1 - beta1, 1e-3, 1.0),
        "one_minus_beta2": log_slider("1 − β₂ (Adam)", 1 - beta2, 1e-4, 1.0),
        "one_minus_rho": log_slider("1 − ρ (RMSprop, Adadelta)", 1 - rho, 1e-3, 1.0),
        "eps": log_slider("ε", eps, 1e-12, 1.0),
    }
    live = LiveFigure(fig, update, controls, animated=animated)
    live.alt, state["live"] = state["alt"], live

    def reset_eta(change):
        controls["eta"].value = ADAPTIVE_PROBLEMS[change["new"]][1]

    live.on_change("problem", reset_eta)
    return live
