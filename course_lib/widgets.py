"""Sliders that redraw a figure in place.

`LiveFigure` shows a figure as an ordinary image output (so a notebook read without a kernel,
or run by nbval, still shows the correct picture at the default values) and puts sliders under
it. Moving a slider calls ``update(**values)``, which changes the artists' data (no new
contours, no new axes), re-renders, and replaces the displayed image through its display id.

With ``animated=[artists]`` the figure is blitted: everything else (contours, axes, ticks) is
rendered once into a background that is reused, and a slider move draws only the animated
artists on top of it. ``update`` returns True when the background itself changed (another
problem, another window) and must be rendered again.

Sliders follow the hand: they send their value while being dragged (``continuous_update``),
and the figure always ends at the newest value without replaying stale ones. The browser side
of ipywidgets throttles each control: at most one update is on its way to the kernel, and while
it is (until the kernel reports idle, after the redraw), newer values replace each other in a
buffer, so only the newest is sent next. The kernel redraws once per update it receives,
inside the handling of that message: redrawing later, from the event loop, would report the
kernel idle before the figure is done, and ipykernel 7 handles a message that arrives while
another still holds the shell lock without ever reporting idle for it, which leaves the
browser's throttle waiting for good (the slider's last value never reaches the kernel; seen
in benchmarks/bench_browser.py's drag check).

One user action, one redraw: a control's reactions (`LiveFigure.on_change`, e.g. a problem menu
that resets the sliders to that problem's defaults) run inside `LiveFigure.hold`, so the
controls they set are redrawn once, together, for their final values; a change that leaves
every value as shown (a reset to the same value) redraws nothing.

An update that changes only some axes' limits (a loss axis that follows its curves) returns
those axes: their area of the background is cleared and they alone are drawn again in the
layout the figure already has, a tenth to a half of a full redraw (whose layout pass measures
every text of the figure). When their new tick labels no
longer fit that layout (they would run into a neighbour or off the figure), the figure is laid
out and drawn in full instead.
"""
from __future__ import annotations

import contextlib
import struct
import zlib
from collections.abc import Iterable
from typing import Callable, Dict, Optional, Sequence, Union

import ipywidgets as W
import numpy as np
from IPython.display import Image, display

__all__ = ["LiveFigure", "encode_png", "log_slider", "slider"]


def slider(description: str, value: float, min: float, max: float, step: float,
           **kw) -> W.FloatSlider:
    return W.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         continuous_update=True, readout_format=".3g",
                         style={"description_width": "initial"},
                         layout=W.Layout(width="420px"), **kw)


def log_slider(description: str, value: float, min: float, max: float, **kw) -> W.FloatLogSlider:
    """A slider over [min, max] spaced in decades (for step sizes and condition numbers)."""
    import math
    return W.FloatLogSlider(value=value, base=10, min=math.log10(min), max=math.log10(max),
                            step=0.01, description=description, continuous_update=True,
                            readout_format=".3g", style={"description_width": "initial"},
                            layout=W.Layout(width="420px"), **kw)


class LiveFigure:
    """A figure plus the controls that update it.

    Parameters
    ----------
    fig : matplotlib Figure with an Agg canvas (`course_lib.plots.new_figure` makes one).
    update : ``update(**values)`` sets the artists' data for the controls' current values.
        With ``animated`` it says what else changed: True when the static background must be
        drawn again (and laid out: new contours, new labels), an Axes or a collection of Axes
        when only those axes' static parts changed (their limits), False or None otherwise.
    controls : name → ipywidget; the names are the keyword arguments of ``update``.
    animated : the artists that change on every update (blitting), or None to redraw all.
    alt : the figure's alternative text (what it shows at the default values), carried in the
        image output's metadata as `course_lib.plots.show` does.

    ``frames`` counts the renders of a new state (one per user action; the tests count them).
    """

    def __init__(self, fig, update: Callable[..., Union[None, bool, object]],
                 controls: Dict[str, W.ValueWidget], animated: Optional[Sequence] = None,
                 alt: str = ""):
        self.fig, self._update, self.controls = fig, update, controls
        self.alt = " ".join(alt.split())
        self.animated = list(animated) if animated is not None else None
        for artist in self.animated or ():
            artist.set_animated(True)
        self._background = None
        self._regions = None  # axes → its area of the background (pixels), for partial redraws
        self._partial_redraws = False  # whether ``update`` has asked for one yet
        self._layout = fig.get_layout_engine()  # used for each full background, then frozen
        self._handle = None
        self._shown = None  # the values the canvas was last rendered for
        self._holding, self._stale = 0, False
        self._reactions: Dict[str, list] = {}
        self.frames = 0
        # Observed from the start, so the figure follows its controls whether or not it has
        # been displayed yet (a notebook may set a control before showing the figure).
        for name, widget in controls.items():
            widget.observe(lambda change, name=name: self._changed(name, change), names="value")
        self.update()

    def values(self) -> dict:
        return {name: w.value for name, w in self.controls.items()}

    @contextlib.contextmanager
    def hold(self):
        """Batch changes: controls set inside ``with live.hold():`` redraw the figure once, on
        leaving the outermost ``with``, for their final values."""
        self._holding += 1
        try:
            yield self
        finally:
            self._holding -= 1
            if not self._holding and self._stale:
                self._stale = False
                self._refresh()

    def on_change(self, name: str, reaction: Callable[[dict], None]) -> None:
        """Call ``reaction(change)`` (traitlets' change: ``change["new"]`` is the new value)
        whenever control ``name`` changes, before the figure is redrawn; controls the reaction
        sets join the same single redraw."""
        if name not in self.controls:
            raise ValueError(f"on_change({name!r}, ...): no such control; the controls are "
                             f"{list(self.controls)}.")
        self._reactions.setdefault(name, []).append(reaction)

    def _changed(self, name: str, change) -> None:
        with self.hold():
            reactions = self._reactions.get(name, ())
            # A slider that sends its value while dragged also sends it back, snapped to its
            # step, when the kernel sets it (the browser's slider moves and reports where it
            # went): a second message, a second redraw. Sliders a reaction may set do not
            # report moves until it is done.
            quiet = [w for w in self.controls.values() if reactions and w is not change["owner"]
                     and getattr(w, "continuous_update", False)]
            for widget in quiet:
                widget.continuous_update = False
            try:
                for reaction in reactions:
                    reaction(change)
            finally:
                for widget in quiet:
                    widget.continuous_update = True
            self._stale = True

    def _refresh(self) -> None:
        """Redraw unless the canvas already shows the controls' values."""
        if self.values() != self._shown:
            self.update()

    def render(self, redraw_background: Union[bool, object] = False) -> None:
        """Render into the canvas: all of it, or the animated artists over the background.

        ``redraw_background``: True to lay out and draw the background again, an Axes or a
        collection of Axes to draw only those again into it (see ``update``).
        """
        canvas = self.fig.canvas
        if self.animated is None:
            canvas.draw()
            return
        partial = _as_axes(redraw_background)
        if ((partial is None and redraw_background) or self._background is None
                or (partial and not self._redraw_axes(partial))):
            # Lay the figure out for the new background (new labels may need room), draw it
            # (animated artists are left out of a full draw), then freeze that layout: the
            # animated artists are drawn later in the positions the background was made for.
            if self._layout is not None:
                self.fig.set_layout_engine(self._layout)
            canvas.draw()
            self.fig.set_layout_engine("none")
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._regions = None
            if self._partial_redraws:  # measured now rather than in the middle of a drag
                self._regions = self._measure_regions()
        canvas.restore_region(self._background)
        with _whole_line_text(canvas.get_renderer()):
            for artist in self.animated:
                if artist.get_visible():
                    self.fig.draw_artist(artist)

    def _redraw_axes(self, changed: list) -> bool:
        """Draw the static parts of the ``changed`` axes again into the background, in the
        current layout; False (nothing done) when they need a new layout or a full draw."""
        fig = self.fig
        renderer = fig.canvas.get_renderer()
        face = np.asarray(fig.patch.get_facecolor())
        # Only the figure's own patch and its axes are restored by clearing an area: any
        # other figure-level artist (a suptitle, a figure legend), a see-through figure or a
        # figure frame is left to a full draw.
        others = [a for a in fig.get_children() if a is not fig.patch and a not in fig.axes
                  and a.get_visible() and not a.get_animated()]
        if others or face[3] < 1 or fig.patch.get_linewidth() > 0:
            return False
        self._partial_redraws = True
        if self._regions is None:
            self._regions = self._measure_regions()
        old = self._regions  # the areas the background was drawn with
        if any(ax not in old for ax in changed):  # hidden when it was drawn
            return False
        new = {ax: _padded(ax.get_tightbbox(renderer)) for ax in changed}
        full = fig.bbox
        for ax, box in new.items():
            inside = (box.x0 >= full.x0 and box.y0 >= full.y0 and box.x1 <= full.x1
                      and box.y1 <= full.y1)
            # new labels off the figure or into a neighbour they did not touch before
            if not inside or any(box.overlaps(b) and not old[ax].overlaps(b)
                                 for other, b in old.items() if other not in new):
                return False
        areas = {ax: [old[ax], new[ax]] for ax in changed}
        grown = True
        while grown:  # a neighbour whose area is cleared is drawn again too
            grown = False
            for other, b in old.items():
                if other not in areas and any(b.overlaps(a) for boxes in areas.values()
                                              for a in boxes):
                    areas[other], grown = [b], True
        if len(areas) == len(old):
            return False
        fig.canvas.restore_region(self._background)
        pixels = np.asarray(fig.canvas.buffer_rgba())
        height, width = pixels.shape[:2]
        fill = np.round(face * 255).astype(np.uint8)
        for box in (b for boxes in areas.values() for b in boxes):
            x0, x1 = max(int(np.floor(box.x0)), 0), min(int(np.ceil(box.x1)), width)
            y0, y1 = max(height - int(np.ceil(box.y1)), 0), min(height - int(np.floor(box.y0)),
                                                                 height)
            pixels[y0:y1, x0:x1] = fill
        for ax in fig.axes:  # in the figure's drawing order
            if ax in areas:
                ax.draw(renderer)  # leaves out the animated artists, as a full draw does
        self._background = fig.canvas.copy_from_bbox(fig.bbox)
        self._regions = {**old, **new}
        return True

    def _measure_regions(self) -> dict:
        """Each axes' area of the background: its tight box (ticks, labels, title, legend)."""
        renderer = self.fig.canvas.get_renderer()
        return {ax: _padded(ax.get_tightbbox(renderer)) for ax in self.fig.axes
                if ax.get_visible()}

    def png(self) -> bytes:
        """The rendered canvas as PNG bytes."""
        return encode_png(np.asarray(self.fig.canvas.buffer_rgba()))

    def update(self, *_):
        """Run ``update`` for the controls' values, render, and replace the displayed image."""
        values = self.values()
        changed = self._update(**values)
        self.render(redraw_background=changed)
        self._shown = values
        self.frames += 1
        if self._handle is not None:
            self._handle.update(Image(self.png()), metadata=self._metadata())

    def _metadata(self) -> dict:
        return {"image/png": {"alt": self.alt}} if self.alt else {}

    def _ipython_display_(self):
        self._handle = display(Image(self.png()), metadata=self._metadata(), display_id=True)
        display(W.VBox(list(self.controls.values())))


def _as_axes(changed) -> Optional[list]:
    """The axes an update named (an Axes or a collection of Axes), or None when it answered
    with a truth value."""
    from matplotlib.axes import Axes

    if isinstance(changed, Axes):
        return [changed]
    if changed is None or isinstance(changed, (bool, np.bool_)) \
            or not isinstance(changed, Iterable):
        return None
    return list(changed)


@contextlib.contextmanager
def _whole_line_text(renderer):
    """Draw plain, unrotated text a line at a time, as matplotlib's Agg renderer did up to 3.10.

    Matplotlib 3.11 places every glyph of a line by itself, in Python: on the explorers' texts
    (the numbers under the plots, the titles) that is most of a blitted frame's cost, 1.5–9 ms
    per text. FreeType lays out and renders the whole line in one call, 3–9 times faster; the
    glyphs are the same, the line's position is rounded to whole pixels (at most half a pixel
    from where 3.11 puts it). Math text, rotated text and text with font features or a
    language set go through matplotlib's own path.
    """
    from matplotlib.backends.backend_agg import get_hinting_flag

    if not hasattr(renderer, "_draw_text_glyphs_and_boxes"):  # before 3.11: whole lines already
        yield
        return
    own = renderer.draw_text

    def draw_text(gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath or angle or (mtext is not None and (mtext.get_fontfeatures()
                                                      or mtext.get_language())):
            return own(gc, x, y, s, prop, angle, ismath, mtext)
        font = renderer._prepare_font(prop)
        font.set_text(s, 0.0, flags=get_hinting_flag())
        font.draw_glyphs_to_bitmap(antialiased=gc.get_antialiased())
        descent = font.get_descent() / 64.0
        xo, yo = font.get_bitmap_offset()
        # draw_text_image takes the bitmap's left side and its bottom row, y downwards
        renderer._renderer.draw_text_image(font.get_image(), round(x + xo / 64.0),
                                           round(y + yo / 64.0 + descent) + 1, 0, gc)

    renderer.draw_text = draw_text
    try:
        yield
    finally:
        del renderer.draw_text  # the class's method again


def _padded(box, pixels: float = 2.0):
    """A bounding box grown by a couple of pixels: anti-aliased edges of glyphs and lines."""
    return box.padded(pixels)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def encode_png(rgba: np.ndarray) -> bytes:
    """A PNG of an (h, w, 4) uint8 image, made for speed: every row unfiltered, zlib level 1,
    and no alpha channel when the image is opaque (as a figure is).

    PNG encoding is a third of what a slider move costs in the kernel. A plot is mostly flat
    colour, which zlib compresses well without PNG's row filters; on the explorers' figures
    this is about twice as fast as PIL's encoder at its fastest level, and the file is smaller.
    """
    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"encode_png: expected an (h, w, 4) uint8 RGBA array, got "
                         f"{rgba.dtype} of shape {rgba.shape}")
    opaque = bool(rgba[..., 3].min() == 255)
    pixels = rgba[..., :3] if opaque else rgba
    h, w, c = pixels.shape
    rows = np.empty((h, 1 + w * c), np.uint8)
    rows[:, 0] = 0  # filter type None
    # the pixels copied once, straight into the rows after each filter byte
    np.copyto(np.lib.stride_tricks.as_strided(rows[:, 1:], (h, w, c), (1 + w * c, c, 1)),
              pixels)
    header = struct.pack(">IIBBBBB", w, h, 8, 2 if opaque else 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows, 1)) + _chunk(b"IEND", b""))
