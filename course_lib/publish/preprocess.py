"""Changes an executed notebook needs before it becomes slides or a book page.

- `static_widgets`: a widget needs a kernel, which a deck or a book page does not have. Every
  widget output is replaced by a caption saying that the figure above it shows the default
  values (and which they are), and the notebook's saved widget state is dropped, so that no
  page asks a CDN for the widget renderer or shows "VBox(...)" or an error box. The static
  figure is already there: `LiveFigure` displays it as an ordinary image output.
- `flatten_subslides`: reveal.js puts subslides into vertical stacks, which a clicker
  (next/previous) visits but the left and right arrows skip. Every subslide becomes a slide, so
  each key that moves forward visits every slide, in order.
"""
from __future__ import annotations

import html

from nbformat.v4 import new_output

__all__ = ["WIDGET_VIEW", "WIDGET_STATE", "CAPTION_CLASS", "static_widgets",
           "flatten_subslides", "widget_controls"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CAPTION_CLASS = "course-widget-caption"


def _format(value, fmt: str | None) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    try:
        return format(value, fmt or ".3g")
    except (TypeError, ValueError):  # a readout format Python does not know (e.g. d3's "~g")
        return format(value, ".3g")


def widget_controls(state: dict, model_id: str) -> list[tuple[str, str]]:
    """(description, value) of every control under the widget ``model_id``, in display order,
    from a notebook's saved widget state (boxes are walked into; unknown models skipped)."""
    found, seen = [], set()

    def walk(mid: str) -> None:
        if mid in seen or mid not in state:
            return
        seen.add(mid)
        s = state[mid].get("state", {})
        for child in s.get("children", []) or []:
            if isinstance(child, str) and child.startswith("IPY_MODEL_"):
                walk(child[len("IPY_MODEL_"):])
        label = s.get("description")
        if not label:
            return
        if "value" in s and not isinstance(s["value"], (list, dict)):
            found.append((label, _format(s["value"], s.get("readout_format"))))
        elif "index" in s and s.get("_options_labels"):  # Dropdown, RadioButtons, …
            index = s["index"]
            if isinstance(index, int) and 0 <= index < len(s["_options_labels"]):
                found.append((label, str(s["_options_labels"][index])))

    walk(model_id)
    return found


def _caption(controls: list[tuple[str, str]]) -> str:
    values = ", ".join(f"{label} = {value}" for label, value in controls)
    return ("Figure at the default values" + (f" ({values})" if values else "")
            + ". The controls are live when the notebook runs in JupyterLab.")


def static_widgets(nb) -> int:
    """Replace each widget output of ``nb`` (in place) by a caption; returns how many."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW not in data:
                outputs.append(out)
                continue
            text = _caption(widget_controls(state, data[WIDGET_VIEW].get("model_id", "")))
            outputs.append(new_output("display_data", data={
                "text/html": f'<p class="{CAPTION_CLASS}">{html.escape(text)}</p>',
                "text/plain": text}))
            replaced += 1
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return replaced


def flatten_subslides(nb) -> int:
    """Turn every ``subslide`` cell of ``nb`` (in place) into a ``slide``; returns how many."""
    changed = 0
    for cell in nb.cells:
        show = cell.get("metadata", {}).get("slideshow", {})
        if show.get("slide_type") == "subslide":
            show["slide_type"] = "slide"
            changed += 1
    return changed
