"""The optimizer race of lecture 03: the seven first-order optimizers of the course started
together on Beale's function, a long narrow valley and a saddle, with and without noise.

Alec Radford's animations of this race are copied by every course; they have no Adam, no noise,
no code and no settings next to the picture. Here every racer is built from one number, its
*step size*: η for SGD, Momentum, Nesterov, Adagrad, RMSprop and Adam, and for Adadelta, which
has no η, the size of its first steps, √(ε/(1 − ρ)) (`course_lib.theory.adaptive.
adadelta_first_step`), which fixes its ε. The other settings are the usual ones (`FIXED`).

How the step sizes are chosen (`tune`): on Beale and the valley, a sweep over hundreds of step
sizes (one batched run per optimizer) gives the loss after the race; each racer gets the step
size whose *worst* loss within ±0.1 decade is lowest, a setting that stays good when it is off
by 26%. On the saddle every larger step escapes sooner, so there is nothing to tune: all racers
get the same step size (`Track.fixed_step`).

The race is scored (`Race.scores`) by the gap L(θ_T) − L* at the end (Beale, valley) or by the
step at which a racer escapes the saddle, L(θ_t) ≤ −1. With noise (`with_gradient_noise`, σ per
track) every racer sees the same noise sequence, and a race of several runs (seeds) is scored by
the median.

Pictures: `animate` (a matplotlib FuncAnimation; `to_html` renders it to JavaScript HTML with
its frames embedded, no ffmpeg; `save_gif` writes a GIF with Pillow) and `small_multiples` (one
panel per racer and track, for print and slides). Legends, panel texts and `caption` are
generated from the optimizers' hyperparameters.

    python -m course_lib.race --out build/animations     # the GIFs (make animations)
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from . import plots
from .optim import SGD, Adadelta, Adagrad, Adam, Momentum, Nesterov, RMSprop, run
from .problems import Problem, beale, long_valley, saddle, with_gradient_noise

__all__ = ["RACERS", "COLORS", "FIXED", "SYMBOLS", "STEP_SIZES", "ESCAPE_LEVEL", "Track",
           "Race", "tracks", "make", "step_size", "label", "sweep", "tune", "robust_best",
           "decades_below", "race", "caption", "animate", "RaceAnimation", "to_html",
           "save_gif", "small_multiples", "main"]

#: the racers, in the order of the lecture
RACERS = ("SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adadelta", "Adam")
#: one colour per racer, the same in every figure (GD, momentum, Nesterov as in lecture 02)
COLORS = {"SGD": "tab:blue", "Momentum": "tab:orange", "Nesterov": "tab:green",
          "Adagrad": "tab:red", "RMSprop": "tab:purple", "Adadelta": "tab:brown", "Adam": "black"}
#: the settings that are not tuned: the usual values (lecture 02's µ; the lecture's ρ for
#: RMSprop; Zeiler's ρ for Adadelta; Kingma & Ba's β1, β2, ε)
FIXED = {"Momentum": {"mu": 0.9}, "Nesterov": {"mu": 0.9}, "Adagrad": {"eps": 1e-8},
         "RMSprop": {"rho": 0.9, "eps": 1e-8}, "Adadelta": {"rho": 0.95},
         "Adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}}
_CLASSES = {"SGD": SGD, "Momentum": Momentum, "Nesterov": Nesterov, "Adagrad": Adagrad,
            "RMSprop": RMSprop, "Adadelta": Adadelta, "Adam": Adam}
#: how a hyperparameter is written in legends and captions
SYMBOLS = {"eta": "η", "mu": "µ", "rho": "ρ", "eps": "ε", "beta1": "β₁", "beta2": "β₂"}


def make(name: str, step, **settings):
    """The racer ``name`` with step size ``step`` (a number, or an array of one per run).

    ``step`` is η, except for Adadelta, which has no η: there it is the size of its first steps
    √(ε/(1 − ρ)), so ε = step² (1 − ρ). ``settings`` override `FIXED` (e.g. ``mu=0.5``).
    """
    if name not in _CLASSES:
        raise ValueError(f"make({name!r}, ...): the racers are {', '.join(RACERS)}.")
    step = np.asarray(step, dtype=float) if np.ndim(step) else float(step)
    if np.any(np.asarray(step) <= 0):
        raise ValueError(f"make({name!r}, step={step!r}): the step size must be > 0.")
    kw = {**FIXED.get(name, {}), **settings}
    if name == "Adadelta":
        return Adadelta(rho=kw["rho"], eps=step ** 2 * (1 - kw["rho"]))
    return _CLASSES[name](step, **kw)


def step_size(opt) -> float:
    """The inverse of `make`: η, or Adadelta's first-step size √(ε/(1 − ρ))."""
    if isinstance(opt, Adadelta):
        return float(np.sqrt(opt.eps / (1 - opt.rho)))
    return float(opt.eta)


def label(opt, *, short: bool = False) -> str:
    """"Adam (η = 0.3, β₁ = 0.9, β₂ = 0.999, ε = 1e-08)" from the optimizer's hyperparameters;
    ``short``: only the tuned number ("Adam η = 0.3"; Adadelta: "ε = 2.4e-05")."""
    name = type(opt).__name__
    values = {h: getattr(opt, h) for h in opt.hyperparameters}
    if short:
        key = "eps" if name == "Adadelta" else "eta"
        return f"{name} {SYMBOLS[key]} = {float(values[key]):.2g}"
    return f"{name} ({', '.join(f'{SYMBOLS[h]} = {float(v):.3g}' for h, v in values.items())})"


@dataclass(frozen=True)
class Track:
    """One race: a 2-D problem, its start, the number of steps, the noise σ of its noisy race,
    how it is scored, and (saddle) the step size every racer gets instead of a tuned one."""
    name: str
    problem: Problem
    steps: int
    sigma: float
    score: str = "gap"            # "gap": L(θ_T) − L*; "escape": first step with L ≤ −1
    fixed_step: Optional[float] = None
    window: Optional[tuple] = None  # ((x0, x1), (y0, y1)) drawn; default: the problem's bounds

    @property
    def start(self) -> np.ndarray:
        return self.problem.x0

    @property
    def best_loss(self) -> float:
        return float(np.min(self.problem.f(np.atleast_2d(self.problem.minimizer))))


#: the loss below which a run has escaped the saddle x² − y²: y² ≥ 1 + x², so |y| ≥ 1
ESCAPE_LEVEL = -1.0
#: the step sizes `tune` tries: 701 values from 1e-5 to 100, 100 per decade
STEP_SIZES = np.geomspace(1e-5, 1e2, 701)


def tracks(steps: int = 150) -> dict:
    """The three races. Beale from its standard start (1, 1.5); the long valley from (−10, 1);
    the saddle x² − y² from (−1, 10⁻³), just off its stable direction (the x axis), where the
    escaping coordinate's gradient 2y is tiny. The noisy races add Gaussian noise of 1% of
    ‖∇L(θ₀)‖ to every gradient coordinate. On the saddle every racer's step size is 0.05."""
    out = {}
    # Beale's standard window reaches x, y = ±4.5, where L is 10⁵; the race stays nearer
    for name, problem, score, fixed, window in (
            ("Beale", beale(), "gap", None, ((-1.5, 4.0), (-2.0, 2.0))),
            ("long valley", long_valley(), "gap", None, None),
            ("saddle", saddle(), "escape", 0.05, None)):
        sigma = 0.01 * float(np.linalg.norm(problem.grad(problem.x0)))
        out[name] = Track(name, problem, steps, float(f"{sigma:.2g}"), score, fixed,
                          window or problem.bounds)
    return out


def _scores(track: Track, losses: np.ndarray) -> np.ndarray:
    """Per run: the final gap L(θ_T) − L* (nan if diverged), or the escape step (inf: never)."""
    if track.score == "escape":
        hit = losses <= ESCAPE_LEVEL
        return np.where(hit.any(axis=0), hit.argmax(axis=0), np.inf).astype(float)
    return losses[-1] - track.best_loss


def _problem(track: Track, sigma: float, seed) -> Problem:
    return track.problem if sigma == 0 else with_gradient_noise(track.problem, sigma, seed)


def sweep(track: Track, name: str, steps, *, sigma: float = 0.0, seed=0, runs: int = 1):
    """The score of racer ``name`` for each step size in ``steps``: ONE batched run of
    len(steps) × runs settings (θ₀ of shape (K, runs, 2)). Returns the scores (K,), the median
    over the runs (which differ only by their noise, drawn from ``seed``)."""
    steps_ = np.asarray(steps, dtype=float)
    opt = make(name, steps_[:, None, None])
    theta0 = np.broadcast_to(track.start, (steps_.size, runs, 2))
    tr = run(opt, _problem(track, sigma, seed), theta0, track.steps, keep_thetas=False)
    return np.median(_scores(track, tr.losses.reshape(tr.losses.shape[0], -1))
                     .reshape(steps_.size, runs), axis=1)


def robust_best(steps, scores, window: float = 0.1) -> float:
    """The step size whose worst score within ±``window`` decades is lowest (nan, a divergence,
    counts as worst): good, and still good when the step size is off by a factor 10^window.
    ``steps`` must be log-spaced."""
    steps, scores = np.asarray(steps, dtype=float), np.asarray(scores, dtype=float)
    log = np.log10(steps)
    bad = np.where(np.isnan(scores), np.inf, scores)
    worst = np.array([bad[np.abs(log - x) <= window + 1e-9].max() for x in log])
    if not np.isfinite(worst).any():
        raise ValueError("robust_best: every step size diverges or never scores; widen the grid.")
    return float(steps[int(np.argmin(worst))])


def tune(track: Track, grid=None) -> dict:
    """Each racer's step size on ``track``: the `robust_best` of a `sweep` over ``grid``
    (default `STEP_SIZES`), or ``track.fixed_step``."""
    if track.fixed_step is not None:
        return {name: track.fixed_step for name in RACERS}
    grid = STEP_SIZES if grid is None else np.asarray(grid, dtype=float)
    return {name: robust_best(grid, sweep(track, name, grid)) for name in RACERS}


@dataclass
class Race:
    """Who ran (``optimizers``), what they did (``traces``: runs of shape (steps+1, runs, 2))
    and their ``scores`` (per racer, one per run)."""
    track: Track
    sigma: float
    seed: int
    optimizers: dict
    traces: dict = field(repr=False)
    scores: dict

    @property
    def median(self) -> dict:
        return {name: float(np.median(s)) for name, s in self.scores.items()}

    @property
    def standings(self) -> list:
        """Racers from first to last by their median score (diverged runs, nan, last)."""
        med = self.median
        return sorted(med, key=lambda n: (np.isnan(med[n]), med[n]))

    @property
    def winner(self) -> str:
        return self.standings[0]

    def describe(self, name: str) -> str:
        """A racer's result in words: "L − L* = 3.1e-07", "escaped at step 21", "diverged"."""
        s = self.median[name]
        if np.isnan(s):
            return "diverged"
        if self.track.score == "escape":
            return "never escaped" if np.isinf(s) else f"escaped at step {s:.0f}"
        return f"L − L* = {s:.2g}"


def race(track: Track, step_sizes: dict, *, sigma: float = 0.0, seed: int = 0,
         runs: int = 1) -> Race:
    """Run every racer with its step size (``step_sizes``: name → step) on ``track``; with
    ``sigma`` > 0 every racer sees the same noise (``seed``), ``runs`` independent runs each."""
    optimizers = {name: make(name, step_sizes[name]) for name in RACERS}
    traces, scores = {}, {}
    theta0 = np.broadcast_to(track.start, (runs, 2))
    for name, opt in optimizers.items():
        tr = run(opt, _problem(track, sigma, seed), theta0, track.steps)
        traces[name] = tr
        scores[name] = _scores(track, tr.losses)
    return Race(track, sigma, seed, optimizers, traces, scores)


def caption(r: Race) -> str:
    """The settings and outcome of one race, in words, from the hyperparameters used."""
    noise = (f"gradients with Gaussian noise σ = {r.sigma:g} (seed {r.seed}"
             + (f", median of {len(next(iter(r.scores.values())))} runs" if
                len(next(iter(r.scores.values()))) > 1 else "") + ")"
             if r.sigma else "exact gradients")
    start = ", ".join(f"{v:g}" for v in r.track.start)
    who = "; ".join(f"{label(opt)}: {r.describe(name)}" for name, opt in r.optimizers.items())
    return (f"{r.track.name}, {r.track.steps} steps from ({start}), {noise}. {who}. "
            f"Winner: {r.winner}.")


# ------------------------------------------------------------------------------ pictures

def _background(ax, track: Track, n: int = 150):
    """Light filled contours (log-spaced where the loss spans decades) over the track's window,
    the minimum a star. Few levels: flat bands keep the frames small."""
    cs = plots.contour(ax, track.problem, bounds=track.window, n=n, levels=12)
    cs.set_cmap("Greys")
    cs.set_alpha(0.45)
    ax.set_title("")
    return cs


def _first_run(trace) -> np.ndarray:
    return trace.thetas[:, 0, :]


def animate(rows: Sequence[Sequence[Race]], *, every: int = 1, interval: int = 60,
            width: float = 11.0) -> "RaceAnimation":
    """A FuncAnimation of the races: one panel per race (``rows`` of races, e.g. exact and
    noisy), the racers' paths growing step by step (the first run of each race), frames at
    steps 0, every, 2·every, …. `to_html` and `save_gif` render it."""
    from matplotlib.lines import Line2D

    rows = [list(r) for r in rows]
    ncols = max(len(r) for r in rows)
    steps = max(race_.track.steps for r in rows for race_ in r)
    fig, axes = plots.new_figure(ncols=ncols, nrows=len(rows), width=width / ncols,
                                 height=0.5 * width / ncols + 0.45)
    axes = np.reshape(np.atleast_1d(axes), (len(rows), ncols))
    lines, titles = [], []
    for row, ax_row in zip(rows, axes):
        for r, ax in zip(row, ax_row):
            _background(ax, r.track)
            ax.set(xlabel="", ylabel="")
            ax.tick_params(labelsize=7)
            kind = f"noise σ = {r.sigma:g}" if r.sigma else "exact gradients"
            titles.append((ax.title, f"{r.track.name}, {kind}"))
            for name in RACERS:
                (line,) = ax.plot([], [], "-", color=COLORS[name], lw=1.3, alpha=0.9)
                (head,) = ax.plot([], [], "o", color=COLORS[name], ms=4.5, mec="white",
                                  mew=0.6)
                lines.append((line, head, _first_run(r.traces[name])))
        for ax in ax_row[len(row):]:
            ax.axis("off")
    # One track (exact and noisy, say): every panel has the same settings, and the legend
    # gives them; several tracks: the names only (each track has its own settings).
    settings = {n: {label(r.optimizers[n], short=True) for row in rows for r in row}
                for n in RACERS}
    handles = [Line2D([], [], color=COLORS[n], marker="o", ms=4.5,
                      label=next(iter(settings[n])) if len(settings[n]) == 1 else n)
               for n in RACERS]
    named_only = all(len(v) > 1 for v in settings.values())
    fig.legend(handles=handles, loc="outside lower center", fontsize=8, frameon=False,
               ncol=len(RACERS) if named_only else 4)
    frames = list(range(0, steps + 1, every))
    if frames[-1] != steps:
        frames.append(steps)

    def draw(t):
        for line, head, path in lines:
            k = min(t, len(path) - 1)
            line.set_data(path[:k + 1, 0], path[:k + 1, 1])
            head.set_data(path[k:k + 1, 0], path[k:k + 1, 1])
        for title, text in titles:
            title.set_text(f"{text}: step {t}")
            title.set_fontsize(8.5)
        return moving

    moving = [a for line, head, _ in lines for a in (line, head)] + [t for t, _ in titles]
    draw(steps)  # the layout is made for the widest titles
    return RaceAnimation(fig, draw, frames, moving, interval)


class RaceAnimation:
    """Built by `animate`: a matplotlib FuncAnimation (``.animation``) plus a fast renderer of
    its frames (``rendered_frames``) for `to_html` and `save_gif`.

    ``Animation.save`` draws the whole figure twice per frame (its contour backgrounds
    included): seconds for a race. Here the backgrounds are drawn once and each frame redraws
    only the moving artists (blitting), the frames the FuncAnimation would produce.
    """

    def __init__(self, fig, draw, steps, moving, interval: int):
        from matplotlib.animation import FuncAnimation

        self.fig, self.draw, self.steps, self.moving = fig, draw, list(steps), list(moving)
        self.interval = interval
        self.animation = FuncAnimation(fig, draw, frames=self.steps, interval=interval,
                                       blit=False, repeat=True)

    def rendered_frames(self, dpi: int = 80):
        """The frames as (h, w, 3) uint8 images, one per entry of ``steps``."""
        canvas = self.fig.canvas
        self.fig.set_dpi(dpi)
        for artist in self.moving:
            artist.set_animated(True)
        try:
            canvas.draw()                          # the layout, and the static background
            engine = self.fig.get_layout_engine()
            self.fig.set_layout_engine("none")     # keep every frame in that layout
            background = canvas.copy_from_bbox(self.fig.bbox)
            for t in self.steps:
                self.draw(t)
                canvas.restore_region(background)
                for artist in self.moving:
                    self.fig.draw_artist(artist)
                yield np.asarray(canvas.buffer_rgba())[..., :3].copy()
            self.fig.set_layout_engine(engine)
        finally:
            for artist in self.moving:
                artist.set_animated(False)
        # the FuncAnimation warns when it is discarded unrendered; its frames were rendered here
        self.animation._draw_was_started = True


# Font Awesome icons of matplotlib's HTML player, which it loads from a CDN, replaced by text
# (characters every system font has: ⏮ ⏸ ⏭ are missing from many and show as boxes)
_ICONS = {"fa-minus": "−", "fa-fast-backward": "«", "fa-step-backward": "‹",
          "fa-play fa-flip-horizontal": "◀", "fa-pause": "||", "fa-play": "▶",
          "fa-step-forward": "›", "fa-fast-forward": "»", "fa-plus": "+"}


def _palette(rgb, colors: int = 64):
    """A frame with a palette of ``colors`` colours: the figures are flat bands and a few line
    colours, which an octree palette keeps (median cut spends it on the greys and turns the
    racers' colours grey), undithered."""
    from PIL import Image

    return Image.fromarray(rgb).quantize(colors=colors, method=Image.Quantize.FASTOCTREE,
                                         dither=Image.Dither.NONE)


def _png(rgb) -> bytes:
    """A frame as a palette PNG: a sixth of a full-colour PNG, half a JPEG, and sharp."""
    from io import BytesIO

    buf = BytesIO()
    _palette(rgb).save(buf, format="PNG")
    return buf.getvalue()


def to_html(anim: RaceAnimation, alt: str, *, dpi: int = 80) -> str:
    """The animation in matplotlib's JavaScript player (what ``Animation.to_jshtml`` makes:
    every frame embedded, no ffmpeg), made to work offline and described: the player's icon
    font, which it would fetch from a CDN, is replaced by text symbols, and the frame image
    gets ``alt``. Palette PNG frames keep the page small (`_png`)."""
    import base64
    import tempfile

    from matplotlib.animation import HTMLWriter

    if not isinstance(alt, str) or len(alt.strip()) < 10:
        raise ValueError("to_html(anim, alt=...): describe what the animation shows in a "
                         "sentence (at least 10 characters).")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "race.html"
        writer = HTMLWriter(fps=1000 / anim.interval, embed_frames=True, default_mode="loop")
        writer.frame_format = "png"
        writer.setup(anim.fig, path, dpi)
        # the writer's own grab_frame would savefig the whole figure: hand it our frames
        writer._saved_frames = [base64.encodebytes(_png(rgb)).decode("ascii")
                                for rgb in anim.rendered_frames(dpi)]
        writer.finish()
        html = path.read_text()
    html = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">', "", html)
    for icon, text in _ICONS.items():
        html = html.replace(f'<i class="fa {icon}"></i>', text)
    if "fa fa-" in html or "https://" in html:
        raise RuntimeError("to_html: matplotlib's player asks the network for something new; "
                           "update course_lib.race._ICONS.")
    alt_attr = " ".join(alt.split()).replace("&", "&amp;").replace('"', "&quot;")
    html, n = re.subn(r'(<img id="_anim_img\w+")', rf'\1 alt="{alt_attr}"', html)
    if n != 1:
        raise RuntimeError("to_html: the player's frame image was not found; matplotlib's "
                           "template changed.")
    return html


def save_gif(anim: RaceAnimation, path, *, dpi: int = 80) -> Path:
    """Write the animation as a GIF with Pillow (no ffmpeg), looping. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [_palette(rgb) for rgb in anim.rendered_frames(dpi)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=anim.interval,
                   loop=0, optimize=True)
    return path


def small_multiples(races: Sequence[Race], *, width: float = 11.0):
    """The races as a grid of small panels, one row per race and one column per racer, each
    with that racer's whole path and, under it, its setting and its result: the animation's
    last frame, readable in print and on a slide."""
    n = len(races)
    panel = width / len(RACERS)
    fig, axes = plots.new_figure(ncols=len(RACERS), nrows=n, width=panel,
                                 height=0.82 * panel + 0.1)
    axes = np.reshape(np.atleast_1d(axes), (n, len(RACERS)))
    for r, ax_row in zip(races, axes):
        for name, ax in zip(RACERS, ax_row):
            _background(ax, r.track, n=100)
            path = _first_run(r.traces[name])
            ax.plot(path[:, 0], path[:, 1], "-", color=COLORS[name], lw=1.2)
            ax.plot(path[:1, 0], path[:1, 1], "o", mfc="none", mec=COLORS[name], ms=6)
            ax.plot(path[-1:, 0], path[-1:, 1], "o", color=COLORS[name], ms=4, mec="white",
                    mew=0.6)
            won = name == r.winner
            # under the panel, where it hides no path
            ax.set_xlabel(f"{label(r.optimizers[name], short=True).split(' ', 1)[1]}\n"
                          + ("winner: " if won else "") + r.describe(name), fontsize=7,
                          fontweight="bold" if won else "normal", labelpad=2)
            ax.set(ylabel="", xticks=[], yticks=[])
            if r is races[0]:
                ax.set_title(name, fontsize=9, color=COLORS[name])
        ax_row[0].set_ylabel(f"{r.track.name}" + (f"\nσ = {r.sigma:g}" if r.sigma else ""),
                             fontsize=8.5)
    return fig


# ------------------------------------------------------------------------------ make animations

def main(argv=None) -> list:
    """``python -m course_lib.race --out DIR``: a GIF per track, exact and noisy gradients side
    by side, every step; prints what it wrote. Returns the paths."""
    parser = argparse.ArgumentParser(prog="python -m course_lib.race",
                                     description="Write the optimizer race as GIFs (Pillow).")
    parser.add_argument("--out", default="build/animations", help="folder for the GIFs")
    parser.add_argument("--steps", type=int, default=150, help="steps per race (150)")
    parser.add_argument("--every", type=int, default=1, help="a frame every k steps (1)")
    args = parser.parse_args(argv)
    written = []
    for key, track in tracks(args.steps).items():
        sizes = tune(track)
        pair = [race(track, sizes), race(track, sizes, sigma=track.sigma, seed=0)]
        anim = animate([pair], every=args.every, width=10.0)
        path = Path(args.out) / f"race_{key.replace(' ', '_')}.gif"
        save_gif(anim, path)
        print(f"{path}: {caption(pair[0])} | {caption(pair[1])}")
        written.append(path)
    return written


if __name__ == "__main__":
    main()


def decades_below(steps, scores, level) -> float:
    """How wide, in decades, the set of step sizes whose score is ≤ ``level`` is (diverged
    runs, nan, are not): the measure of how forgiving a method is about its step size.
    ``steps`` must be evenly log-spaced."""
    steps, scores = np.asarray(steps, dtype=float), np.asarray(scores, dtype=float)
    per_point = np.log10(steps[-1] / steps[0]) / (steps.size - 1)
    return float(np.count_nonzero(np.nan_to_num(scores, nan=np.inf) <= level) * per_point)
