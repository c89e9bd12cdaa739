"""Figures the notebooks share: loss contours with optimizer paths.

Plot windows come from the problem (``problem.bounds``), never from a constant in a notebook.
Functions draw on an Axes they are given and return the artists a slider will update.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["new_figure", "new_mosaic", "show", "contour", "path", "Path", "grid"]


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 4.2,
               **kw) -> tuple:
    """A Figure not managed by pyplot (so the inline backend does not show it twice)."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)  # a real canvas, so fig.canvas.draw() renders (as savefig does)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes.ravel() if axes.size > 1 else axes[0, 0]


def new_mosaic(layout, width: float, height: float, **kw) -> tuple:
    """Like `new_figure`, for a `subplot_mosaic` layout: returns (fig, dict of named axes)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplot_mosaic(layout, **kw)


def show(fig, alt: str) -> None:
    """Display ``fig`` in the notebook with ``alt`` as its alternative text.

    The text says what the figure shows (axes, curves, the point it makes) for a reader who
    cannot see it; it travels in the output's metadata (``image/png`` → ``alt``), where the
    course's slide and book templates read it. Use it instead of ending a cell with ``fig``.
    """
    if not isinstance(alt, str) or len(alt.strip()) < 10:
        raise ValueError("plots.show(fig, alt=...): describe what the figure shows in a "
                         "sentence (at least 10 characters), e.g. alt=\"Loss against step for "
                         "three step sizes; the largest diverges.\"")
    from IPython.display import display
    display(fig, metadata={"image/png": {"alt": " ".join(alt.split())}})


def grid(problem, n: int = 200, bounds=None):
    """X, Y, Z = f on an n × n grid over ``bounds`` (default: the problem's window)."""
    (x0, x1), (y0, y1) = bounds or problem.bounds
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    Xg, Yg = np.meshgrid(xs, ys)
    Z = problem.f(np.stack([Xg, Yg], axis=-1))
    return Xg, Yg, Z


def contour(ax, problem, *, bounds=None, n: int = 200, levels: int = 30, log: Optional[bool] = None,
            filled: bool = True, mark_minima: bool = True):
    """Contours of a 2-D problem. ``log`` spaces the levels geometrically (default: when f ≥ 0
    and spans several decades, as on Rosenbrock)."""
    Xg, Yg, Z = grid(problem, n, bounds)
    zmin, zmax = np.nanmin(Z), np.nanmax(Z)
    if log is None:
        log = zmin >= 0 and zmax > 100 * max(np.percentile(Z, 5) - zmin, 1e-12)
    if log:
        lo = max(np.percentile(Z, 0.5) - zmin, 1e-3 * (np.percentile(Z, 50) - zmin), 1e-12)
        lv = zmin + np.concatenate([[0.0], np.geomspace(lo, zmax - zmin, levels - 1)])
    else:
        lv = np.linspace(zmin, zmax, levels)
    cs = (ax.contourf if filled else ax.contour)(Xg, Yg, Z, levels=lv, cmap="viridis",
                                                   alpha=0.85 if filled else 1.0)
    if filled:
        ax.contour(Xg, Yg, Z, levels=lv, colors="k", linewidths=0.3, alpha=0.4)
    if mark_minima and problem.minimizer is not None:
        m = np.atleast_2d(problem.minimizer)
        ax.plot(m[:, 0], m[:, 1], "*", color="white", mec="k", ms=13, zorder=5,
                label="minimum" if len(m) == 1 else "minima")
    ax.set_xlim(Xg.min(), Xg.max())
    ax.set_ylim(Yg.min(), Yg.max())
    names = [str(s) for s in problem.symbols] if problem.symbols else ["θ₁", "θ₂"]
    ax.set_xlabel(getattr(problem, "axis_labels", names)[0])
    ax.set_ylabel(getattr(problem, "axis_labels", names)[1])
    ax.set_title(problem.name)
    return cs


class Path:
    """An optimizer's iterates θ₀, θ₁, … drawn as a line with dots and a ring at θ₀."""

    def __init__(self, ax, thetas, *, label: Optional[str] = None, color=None, ms: float = 3):
        (self.line,) = ax.plot([], [], marker="o", ms=ms, lw=1.4, color=color, label=label,
                               zorder=4)
        (self.start,) = ax.plot([], [], "o", ms=8, mfc="none", mec=self.line.get_color(),
                                mew=1.5, zorder=4)
        self.set_data(thetas)

    def set_data(self, thetas):
        thetas = np.asarray(thetas, dtype=float)
        self.line.set_data(thetas[:, 0], thetas[:, 1])
        self.start.set_data(thetas[:1, 0], thetas[:1, 1])


def path(ax, thetas, *, label: Optional[str] = None, color=None, ms: float = 3) -> Path:
    """Draw iterates (steps+1, 2) on ``ax``; ``.set_data(new_thetas)`` moves them."""
    return Path(ax, thetas, label=label, color=color, ms=ms)
