"""Sliders that redraw a figure in place.

`LiveFigure` shows a figure as an ordinary output (so a notebook read without a kernel, or run
by nbval, still shows the correct picture at the default values) and puts sliders under it.
Moving a slider calls ``update(**values)``, which changes the artists' data (no new contours,
no new axes), and replaces the displayed image through its display id.
"""
from __future__ import annotations

from typing import Callable, Dict

import ipywidgets as W
from IPython.display import display

__all__ = ["LiveFigure", "log_slider", "slider"]


def slider(description: str, value: float, min: float, max: float, step: float,
           **kw) -> W.FloatSlider:
    return W.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         continuous_update=False, readout_format=".3g",
                         style={"description_width": "initial"},
                         layout=W.Layout(width="420px"), **kw)


def log_slider(description: str, value: float, min: float, max: float, **kw) -> W.FloatLogSlider:
    """A slider over [min, max] spaced in decades (for step sizes and condition numbers)."""
    import math
    return W.FloatLogSlider(value=value, base=10, min=math.log10(min), max=math.log10(max),
                            step=0.01, description=description, continuous_update=False,
                            readout_format=".3g", style={"description_width": "initial"},
                            layout=W.Layout(width="420px"), **kw)


class LiveFigure:
    """A figure plus the controls that update it.

    Parameters
    ----------
    fig : matplotlib Figure (made with `course_lib.plots.new_figure`, not pyplot).
    update : ``update(**values)`` sets the artists' data for the controls' current values.
    controls : name → ipywidget; the names are the keyword arguments of ``update``.
    """

    def __init__(self, fig, update: Callable[..., None], controls: Dict[str, W.ValueWidget]):
        self.fig, self._update, self.controls = fig, update, controls
        self._handle = None
        self.update()

    def values(self) -> dict:
        return {name: w.value for name, w in self.controls.items()}

    def update(self, *_):
        self._update(**self.values())
        if self._handle is not None:
            self._handle.update(self.fig)

    def _ipython_display_(self):
        if self._handle is None:
            for w in self.controls.values():
                w.observe(self.update, names="value")
        self._handle = display(self.fig, display_id=True)
        display(W.VBox(list(self.controls.values())))
