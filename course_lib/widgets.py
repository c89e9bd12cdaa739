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
"""
from __future__ import annotations

import struct
import zlib
from typing import Callable, Dict, Optional, Sequence

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
    update : ``update(**values)`` sets the artists' data for the controls' current values;
        with ``animated`` it returns True when the static background must be redrawn.
    controls : name → ipywidget; the names are the keyword arguments of ``update``.
    animated : the artists that change on every update (blitting), or None to redraw all.
    alt : the figure's alternative text (what it shows at the default values), carried in the
        image output's metadata as `course_lib.plots.show` does.
    """

    def __init__(self, fig, update: Callable[..., Optional[bool]],
                 controls: Dict[str, W.ValueWidget], animated: Optional[Sequence] = None,
                 alt: str = ""):
        self.fig, self._update, self.controls = fig, update, controls
        self.alt = " ".join(alt.split())
        self.animated = list(animated) if animated is not None else None
        for artist in self.animated or ():
            artist.set_animated(True)
        self._background = None
        self._layout = fig.get_layout_engine()  # used for each background, then frozen
        self._handle = None
        self._observing = False
        self.update()

    def values(self) -> dict:
        return {name: w.value for name, w in self.controls.items()}

    def render(self, redraw_background: bool = False) -> None:
        """Render into the canvas: all of it, or the animated artists over the background."""
        canvas = self.fig.canvas
        if self.animated is None:
            canvas.draw()
            return
        if redraw_background or self._background is None:
            # Lay the figure out for the new background (new labels may need room), draw it
            # (animated artists are left out of a full draw), then freeze that layout: the
            # animated artists are drawn later in the positions the background was made for.
            if self._layout is not None:
                self.fig.set_layout_engine(self._layout)
            canvas.draw()
            self.fig.set_layout_engine("none")
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        canvas.restore_region(self._background)
        for artist in self.animated:
            if artist.get_visible():
                self.fig.draw_artist(artist)

    def png(self) -> bytes:
        """The rendered canvas as PNG bytes."""
        return encode_png(np.asarray(self.fig.canvas.buffer_rgba()))

    def update(self, *_):
        changed = self._update(**self.values())
        self.render(redraw_background=bool(changed))
        if self._handle is not None:
            self._handle.update(Image(self.png()), metadata=self._metadata())

    def _metadata(self) -> dict:
        return {"image/png": {"alt": self.alt}} if self.alt else {}

    def _ipython_display_(self):
        if not self._observing:
            for w in self.controls.values():
                w.observe(self.update, names="value")
            self._observing = True
        self._handle = display(Image(self.png()), metadata=self._metadata(), display_id=True)
        display(W.VBox(list(self.controls.values())))


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
    rows[:, 1:] = pixels.reshape(h, w * c)
    header = struct.pack(">IIBBBBB", w, h, 8, 2 if opaque else 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + _chunk(b"IEND", b""))
