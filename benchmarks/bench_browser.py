"""Sliders in a real browser: every explorer of course_lib.explorers in JupyterLab (started as
`make lab` starts it), in Debian's Chromium driven by playwright.

- Key press → new image: the step-size slider's handle gets a key press (→, later ←); the time
  from the keydown event to the new figure decoded in the page. Goals: median ≤ 50 ms, 90th
  percentile ≤ 80 ms. Reference: the kernel's share, the same explorer's update, draw and PNG
  encoding timed in the kernel in the same run.
- A 1-second drag of that handle across the track: the figure updates at least 10 times while
  the hand moves (≤ 100 ms per update), and once the kernel is idle the page shows exactly the
  kernel's figure for the slider's final value (checked; the benchmark fails otherwise).
- An explorer with a problem menu: choosing another problem (which resets the sliders to that
  problem's defaults) is one user action and draws one new figure in the kernel (checked by
  its frame count; the benchmark fails otherwise); the row reports the time to the new image.

Needs /usr/bin/chromium and the playwright package (as tests/test_browser.py); without them it
returns no rows and says why.
"""
from __future__ import annotations

import base64
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import ROOT, Row, Timing

sys.path.insert(0, str(ROOT / "tests"))
import browser_support as bs  # noqa: E402  (the tests' Chromium and JupyterLab set-up)

KEY_MEDIAN_LIMIT, KEY_P90_LIMIT, DRAG_LIMIT = 0.050, 0.080, 0.100  # seconds
DRAG_SECONDS = 1.0
#: how to build an explorer that needs arguments (others are called without any)
SETUPS = {"gd_explorer": ("from course_lib.problems import quadratic, rosenbrock\n"
                          "live = gd_explorer([quadratic(10.0), rosenbrock()])")}

_IDLE = ("() => { const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
         " const k = nb && nb.sessionContext && nb.sessionContext.session"
         " && nb.sessionContext.session.kernel;"
         " return !!k && k.status === 'idle' && !nb.sessionContext.pendingInput; }")
# Times (performance.now, ms) at which the cell's figure changed and was decoded, and the last
# keydown or menu change: installed once the notebook has run.
_WATCH = """(cellIndex) => {
  const cell = document.querySelectorAll(
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[cellIndex];
  window.__changes = []; window.__key = null;
  let last = cell.querySelector('.jp-OutputArea-output img').getAttribute('src');
  new MutationObserver(() => {
    const img = cell.querySelector('.jp-OutputArea-output img');
    const src = img && img.getAttribute('src');
    if (!src || src === last) return;
    last = src;
    img.decode().then(() => window.__changes.push(performance.now()),
                      () => window.__changes.push(performance.now()));
  }).observe(cell, {subtree: true, childList: true, attributes: true,
                    attributeFilter: ['src']});
  document.addEventListener('keydown', () => { window.__key = performance.now(); }, true);
  document.addEventListener('change', () => { window.__key = performance.now(); }, true);
}"""


def _explorers() -> list[str]:
    import course_lib.explorers as ex
    return [n for n in ex.__all__ if n.endswith("_explorer") and callable(getattr(ex, n))]


def _notebook(name: str) -> dict:
    setup = SETUPS.get(name, f"live = {name}()")
    source = f"%matplotlib inline\nfrom course_lib.explorers import {name}\n{setup}\nlive"
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "cells": [{"cell_type": "code", "id": "explorer", "metadata": {},
                       "execution_count": None, "outputs": [], "source": source}]}


def _kernel_share(page, control: str, values) -> list[float]:
    """Seconds per update, draw and PNG of the explorer, timed in its kernel."""
    code = (
        "import json as _j, time as _t\n"
        "_times = []\n"
        f"for _v in {list(values)!r}:\n"
        "    _t0 = _t.perf_counter()\n"
        f"    _changed = live._update(**{{**live.values(), {control!r}: _v}})\n"
        "    live.render(_changed)\n"
        "    live.png()\n"
        "    _times.append(_t.perf_counter() - _t0)\n"
        "live.render(live._update(**live.values()))\n"
        "print(_j.dumps(_times))")
    return json.loads(page.evaluate(bs.KERNEL_EXEC_JS, code))


def _measure(bs, page, lab, name: str, presses: int) -> dict:
    page.goto(f"{lab.url}/lab/workspaces/{name}/tree/{name}.ipynb?reset&token={lab.token}",
              wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_function(
        "(p) => { const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " return !!nb && nb.context && nb.context.isReady && nb.context.path === p; }",
        arg=f"{name}.ipynb", timeout=60_000)
    page.wait_for_function(_IDLE, timeout=60_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(_IDLE, timeout=300_000)
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").first
    sliders = cell.locator(".widget-slider")
    sliders.first.wait_for(state="visible", timeout=60_000)
    eta = sliders.filter(has=page.locator(".widget-label", has_text="η"))
    slider = eta.first if eta.count() else sliders.first
    label = slider.locator(".widget-label").first.inner_text().strip()
    control = json.loads(page.evaluate(bs.KERNEL_EXEC_JS, (
        "import json as _j\n"
        f"print(_j.dumps([k for k, w in live.controls.items() if w.description == {label!r}]"
        "[0]))")))
    handle = slider.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    page.evaluate(_WATCH, 0)

    latencies = []
    for k in range(presses):
        seen = page.evaluate("() => window.__changes.length")
        handle.focus()
        handle.press("ArrowRight" if k < presses // 2 else "ArrowLeft")
        page.wait_for_function("(n) => window.__changes.length > n", arg=seen, timeout=30_000)
        page.wait_for_function(_IDLE, timeout=30_000)
        page.wait_for_timeout(50)
        latencies.append(page.evaluate("() => (window.__changes.at(-1) - window.__key) / 1e3"))

    # A drag across the middle half of the track at a steady pace for DRAG_SECONDS, as mouse
    # events dispatched in the page once per animation frame (as a mouse delivers them).
    # Driving the mouse from here instead costs a round trip per move through playwright,
    # which on a 2-core machine takes the CPU the kernel needs and measures the driver.
    track = slider.locator(".noUi-target").bounding_box()
    y = track["y"] + track["height"] / 2
    x0, x1 = track["x"] + 0.25 * track["width"], track["x"] + 0.75 * track["width"]
    drag = handle.evaluate(bs.DRAG_JS, [x0, x1, y, DRAG_SECONDS])
    start, end, moves = drag["start"], drag["end"], drag["moves"]
    during = page.evaluate("([a, b]) => window.__changes.filter((t) => t >= a && t <= b).length",
                           [start, end])
    # settled: the kernel idle and no new image for half a second
    while True:
        page.wait_for_function(_IDLE, timeout=30_000)
        n = page.evaluate("() => window.__changes.length")
        page.wait_for_timeout(500)
        if page.evaluate("() => window.__changes.length") == n:
            break
    readout = slider.locator(".widget-readout").inner_text()
    state = json.loads(page.evaluate(bs.KERNEL_EXEC_JS, (
        "import base64 as _b, json as _j\n"
        f"print(_j.dumps({{'value': live.controls[{control!r}].value,"
        " 'png': _b.b64encode(live.png()).decode()}))")))
    shown = cell.locator(".jp-OutputArea-output img").first.get_attribute("src")
    if shown != "data:image/png;base64," + state["png"]:
        raise AssertionError(f"{name}: after the drag the page does not show the kernel's "
                             f"figure (slider {label!r} reads {readout}, kernel has "
                             f"{state['value']:.4g})")
    if abs(float(readout) - state["value"]) > 5e-3 * max(abs(state["value"]), 1e-12):
        raise AssertionError(f"{name}: the slider reads {readout}, the kernel has "
                             f"{state['value']}")
    values = [state["value"] * f for f in (0.8, 0.9, 1.1, 1.2)] * 3
    kernel = _kernel_share(page, control, values)
    return {"label": label, "latencies": latencies, "drag_updates": during, "moves": moves,
            "drag_seconds": (end - start) / 1e3, "kernel": kernel,
            "menu": _menu_change(page, cell, name)}


def _frames(page) -> int:
    return json.loads(page.evaluate(bs.KERNEL_EXEC_JS, "print(live.frames)"))


def _menu_change(page, cell, name: str):
    """Choose the next problem in the explorer's menu: (seconds from the change to the new
    image, the menu's new value), or None without a menu. Fails unless the kernel drew one
    figure for it."""
    menu = cell.locator(".widget-dropdown").filter(
        has=page.locator(".widget-label", has_text="problem"))
    if not menu.count():
        return None
    select = menu.first.locator("select")
    options = select.locator("option").all_inner_texts()
    current = select.evaluate("(s) => s.options[s.selectedIndex].text")
    choice = options[(options.index(current) + 1) % len(options)]
    before, seen = _frames(page), page.evaluate("() => window.__changes.length")
    select.select_option(label=choice)
    page.wait_for_function("(n) => window.__changes.length > n", arg=seen, timeout=30_000)
    page.wait_for_function(_IDLE, timeout=30_000)
    page.wait_for_timeout(300)
    drawn = _frames(page) - before
    if drawn != 1:
        raise AssertionError(f"{name}: choosing {choice!r} in the problem menu drew {drawn} "
                             "figures in the kernel; one user action must draw one")
    return (page.evaluate("() => (window.__changes[window.__changes.length - 1]"
                          " - window.__key) / 1e3"), choice)


def bench_browser(quick: bool = False, repeat: int = 7):
    from importlib.util import find_spec

    if not os.access(bs.CHROMIUM, os.X_OK) or find_spec("playwright") is None:
        print("bench_browser: skipped, needs /usr/bin/chromium and the playwright package")
        return []
    from playwright.sync_api import sync_playwright

    presses = 10 if quick else max(30, 4 * repeat)
    base = Path(tempfile.mkdtemp(prefix="bench_browser_"))
    root = base / "course"
    root.mkdir()
    names = _explorers()
    for name in names:
        (root / f"{name}.ipynb").write_text(json.dumps(_notebook(name)))
    rows = []
    lab = bs.start_lab(root, base)
    try:
        with sync_playwright() as pw:
            browser = bs.launch(pw)
            for name in names:
                context = browser.new_context(viewport={"width": 1400, "height": 1100})
                page = context.new_page()
                page.set_default_timeout(45_000)
                try:
                    m = _measure(bs, page, lab, name, presses)
                finally:
                    context.close()
                lat, kernel = sorted(m["latencies"]), m["kernel"]
                p90 = lat[min(len(lat) - 1, int(round(0.9 * (len(lat) - 1))))]
                ref = statistics.median(kernel)
                timing = Timing(statistics.median(lat), ref, m["latencies"], kernel)
                what = (f"`{name}` in JupyterLab (Chromium, playwright), slider {m['label']!r}: "
                        f"{len(lat)} key presses, each timed from the keydown event to the new "
                        "figure decoded in the page, the next press once the kernel is idle. "
                        "Reference: the same explorer's update, draw and PNG encoding timed "
                        "inside its kernel.")
                rows.append(Row(name=f"{name}: key press → new image, median",
                                measured=timing.measured,
                                reference_name="kernel update+draw+PNG", reference=ref,
                                goal=None, limit=KEY_MEDIAN_LIMIT, description=what,
                                timing=timing))
                rows.append(Row(name=f"{name}: key press → new image, 90th percentile",
                                measured=p90, reference_name="kernel update+draw+PNG",
                                reference=ref, goal=None, limit=KEY_P90_LIMIT,
                                description="The 90th percentile of the presses above."))
                per_update = m["drag_seconds"] / max(m["drag_updates"], 1)
                rows.append(Row(
                    name=f"{name}: {m['drag_seconds']:.2f}-second drag, time per figure update "
                         f"({m['drag_updates']} updates)",
                    measured=per_update, reference_name="key press median",
                    reference=timing.measured, goal=None, limit=DRAG_LIMIT,
                    description=(f"The handle of {m['label']!r} dragged across the "
                                 f"middle half of its track, {m['moves']} mouse moves (one "
                                 f"per animation frame) over "
                                 f"{m['drag_seconds']:.2f} s: {m['drag_updates']} new figures while "
                                 "the hand moved (goal ≥ 10, i.e. ≤ 100 ms per update); after "
                                 "it the page showed exactly the kernel's figure for the "
                                 "slider's final value (checked).")))
                if m["menu"] is not None:
                    seconds, choice = m["menu"]
                    rows.append(Row(
                        name=f"{name}: problem menu → new image (one redraw)",
                        measured=seconds, reference_name="key press median",
                        reference=timing.measured, goal=None,
                        description=(f"The problem menu set to {choice!r} (the sliders jump to "
                                     "its defaults): from the change event to the new figure "
                                     "decoded in the page, a new background (contours, layout) "
                                     "included. The kernel drew exactly one figure for it "
                                     "(checked), not one per slider the menu reset. One "
                                     "change: a single time, no median.")))
            browser.close()
    finally:
        lab.stop()
    return rows
