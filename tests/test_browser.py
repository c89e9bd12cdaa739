"""The course in a real browser: JupyterLab in headless Chromium, started with the command
`make lab` runs.

- Every lecture notebook (notebooks/NN_*.ipynb, so each new lecture is covered as it lands):
  run all; no cell raises, no widget shows "Error displaying widget", every slider renders and
  moving it replaces its figure (the one image, not a second one), no error in the browser
  console. One screenshot per notebook goes to build/test-artifacts/lab/.
- A fixture notebook (tests/fixtures/lab/broken_widgets.ipynb) breaks each of these once; the
  checks must name each break, so none of them cannot fail.
- Two slider cases in detail (a blitted explorer, a plain LiveFigure): after the slider moved,
  the kernel holds the slider's value and the page shows exactly the kernel's figure.

The unit tests (test_widgets.py) check the Python side with a fake display handle; this checks
what they cannot: that the widget JavaScript renders the sliders, that moving one reaches the
kernel, and that ``display_handle.update`` replaces the image in the page rather than appending
a second one.

Needs Debian's Chromium and the `playwright` package (see browser_support.py); without either
the tests are skipped, except on CI (CI=true), where they fail.
"""
from __future__ import annotations

import base64
import io
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from browser_support import (ARTIFACTS, DRAG_JS, KERNEL_EXEC_JS, ROOT, require_browser,
                             start_lab)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = ARTIFACTS / "lab"
LECTURES = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
FIXTURE = ROOT / "tests" / "fixtures" / "lab" / "broken_widgets.ipynb"
TIMEOUT_MS = 45_000  # for each wait in the page (the kernel shares 2 cores with other tests)
RUN_ALL_TIMEOUT_MS = 900_000  # a whole lecture, run cell by cell in the browser

# Each case: the cell the notebook runs, the label of the slider moved, the name of the
# screenshots. momentum_explorer is lecture 02's (blitted: only the paths and curves are
# redrawn); the second is lecture 01's kind (a plain LiveFigure that redraws everything).
CASES = {
    "momentum_explorer": (
        "from course_lib.explorers import momentum_explorer\n"
        "momentum_explorer()",
        "step size η", "slider"),
    "live_figure": (
        "import numpy as np\n"
        "from course_lib import plots\n"
        "from course_lib.optim import SGD, run\n"
        "from course_lib.problems import quadratic\n"
        "from course_lib.widgets import LiveFigure, log_slider, slider\n"
        "\n"
        "p = quadratic(10.0)\n"
        "fig, ax = plots.new_figure()\n"
        "plots.contour(ax, p)\n"
        "path = plots.path(ax, np.zeros((1, 2)), color='tab:red')\n"
        "\n"
        "def update(eta, steps):\n"
        "    path.set_data(run(SGD(eta), p, p.x0, int(steps)).thetas)\n"
        "    ax.set_title(f'η = {eta:.3g}')\n"
        "\n"
        "LiveFigure(fig, update, {'eta': log_slider('step size η', 0.05, 1e-3, 1.0),\n"
        "                         'steps': slider('steps', 20, 1, 50, 1)})",
        "step size η", "livefigure"),
}
# Key presses on the slider's handle: a FloatLogSlider with step 0.01 (decades) moves by a
# factor 10**0.01 per press, so 40 presses multiply η by 10**0.4 ≈ 2.5.
PRESSES = 40


def _notebook(source: str) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "cells": [{"cell_type": "code", "id": "slider-cell", "metadata": {},
                       "execution_count": None, "outputs": [], "source": source}]}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a copy of the lecture notebooks (a test never writes into notebooks/),
    the fixture notebook and the two slider cases."""
    require_browser()
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "course"
    (root / "notebooks").mkdir(parents=True)
    for name in LECTURES:
        shutil.copy(ROOT / "notebooks" / name, root / "notebooks" / name)
    (root / "fixtures").mkdir()
    shutil.copy(FIXTURE, root / "fixtures" / FIXTURE.name)
    for name, (source, _, _) in CASES.items():
        (root / f"{name}.ipynb").write_text(json.dumps(_notebook(source), indent=1))
    server = start_lab(root, base)
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------------------- helpers
def _pixels(src: str):
    """The image of a data: URL as an RGB array."""
    import numpy as np
    from PIL import Image

    assert src.startswith("data:image/png;base64,"), f"not an inline PNG: {src[:60]!r}"
    with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as im:
        return np.asarray(im.convert("RGB"))


_ERROR_MSG = re.compile(r'"msg_type"\s*:\s*"error"')
_STDERR_MSG = re.compile(r'"name"\s*:\s*"stderr"')
_EXCEPTION = re.compile(r'"ename"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"evalue"\s*:\s*"((?:[^"\\]|\\.)*)"')
_ANSI = re.compile(r"(?:\x1b|\\u001b)\[[0-9;]*m")


def _kernel_errors(frames) -> list[str]:
    """Python errors among the kernel's websocket messages: an exception in a slider's
    callback is sent as an error message of the comm message, not shown in the cell."""
    found = []
    for frame in frames:
        text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        if _ERROR_MSG.search(text) or (_STDERR_MSG.search(text) and "Traceback" in text):
            m = _EXCEPTION.search(text)
            found.append(f"{m.group(1)}: {m.group(2)}" if m else _ANSI.sub("", text)[-1500:])
    return found


def _kernel_idle_js() -> str:
    """JS: the current notebook's kernel is idle (it has handled every message sent so far)."""
    return ("() => { const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            " const k = nb && nb.sessionContext && nb.sessionContext.session"
            " && nb.sessionContext.session.kernel;"
            " return !!k && k.status === 'idle' && !nb.sessionContext.pendingInput; }")


# Run in the notebook's kernel, outside the notebook: the LiveFigure the cell returned
# (Out[1]), its η and its current image. The answer is printed, so no output reaches the cell.
_KERNEL_STATE = ("import base64 as _b64, json as _json\n"
                 "_live = Out[max(Out)]\n"
                 "print(_json.dumps({'eta': _live.controls['eta'].value,"
                 " 'png': _b64.b64encode(_live.png()).decode()}))")


# ------------------------------------------------------------------------------- the test
@pytest.mark.parametrize("case", list(CASES))
def test_moving_a_slider_replaces_the_figure_in_jupyterlab(case, lab, browser):
    from playwright.sync_api import expect

    _, label, shot = CASES[case]
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / f"{shot}_failure.png").unlink(missing_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    frames, console = [], []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(data)))
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    try:
        # A workspace of its own, reset: only this notebook open (not the last test's too).
        page.goto(f"{lab.url}/lab/workspaces/{case}/tree/{case}.ipynb?reset&token={lab.token}",
                  wait_until="domcontentloaded", timeout=60_000)
        # The notebook is open, its kernel (this interpreter) started and idle.
        page.wait_for_function(
            "() => { const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            " return !!nb && !!nb.content && nb.context && nb.context.isReady"
            f" && nb.context.path === '{case}.ipynb'; }}", timeout=60_000)
        page.wait_for_function(_kernel_idle_js(), timeout=60_000)

        # Run the cell (as the Run menu's "Run All Cells" does); resolves once it has run.
        ok = page.evaluate("() => window.jupyterapp.commands.execute("
                           "'notebook:run-all-cells')")
        panel_id = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
        cell = page.locator(f"[id='{panel_id}'] .jp-Notebook .jp-CodeCell").first
        errors = cell.locator('.jp-OutputArea-output[data-mime-type='
                              '"application/vnd.jupyter.stderr"]')
        assert ok, f"the cell raised:\n{errors.all_inner_texts()}"

        image = cell.locator(".jp-OutputArea-output img")
        eta = cell.locator(".widget-slider").filter(
            has=page.locator(".widget-label", has_text=label))
        eta.locator(".noUi-handle").wait_for(state="visible")
        image.wait_for(state="visible")
        readout = eta.locator(".widget-readout")
        before_value = readout.inner_text()
        before = image.get_attribute("src")
        page.wait_for_function(_kernel_idle_js())
        cell.screenshot(path=str(SHOTS / f"{shot}_before.png"))
        log_start = lab.log_size()

        # Move η: focus the handle and press →, as a person using the keyboard would. Each
        # press sends the new value; while one is on its way to the kernel the widget model
        # keeps only the newest of the others (ipywidgets' throttle).
        handle = eta.locator(".noUi-handle")
        handle.focus()
        for _ in range(PRESSES):
            handle.press("ArrowRight")
        expect(readout).not_to_have_text(before_value, timeout=TIMEOUT_MS)
        after_value = readout.inner_text()
        assert float(after_value) > float(before_value), (
            f"the slider moved the wrong way: readout {before_value} -> {after_value}")

        # The image changes, and stays put once the kernel has handled every move.
        page.wait_for_function(
            "([img, old]) => { const el = document.querySelector(img);"
            " return !!el && el.getAttribute('src') !== old; }",
            arg=[f"[id='{panel_id}'] .jp-CodeCell .jp-OutputArea-output img", before])
        settled, deadline = None, time.monotonic() + 20
        while time.monotonic() < deadline:
            page.wait_for_function(_kernel_idle_js())
            now = image.get_attribute("src")
            if now == settled:
                break
            settled = now
            page.wait_for_timeout(500)
        cell.screenshot(path=str(SHOTS / f"{shot}_after.png"))

        # The kernel got the slider's value, and the page shows the kernel's figure for it.
        state = json.loads(page.evaluate(KERNEL_EXEC_JS, _KERNEL_STATE))
        assert state["eta"] == pytest.approx(float(after_value), rel=5e-3), (
            f"the kernel has η = {state['eta']}, the slider shows {after_value}")

        # Replaced, not appended: still one image, then the sliders (two outputs).
        assert image.count() == 1, f"{image.count()} images after the update, expected 1"
        assert cell.locator(".jp-OutputArea-child").count() == 2
        old, new = _pixels(before), _pixels(settled)
        assert old.shape == new.shape, f"the figure changed size: {old.shape} -> {new.shape}"
        changed = (old != new).any(axis=-1).mean()
        assert changed > 1e-4, f"only {changed:.2%} of the pixels changed"
        assert (new == _pixels("data:image/png;base64," + state["png"])).all(), (
            "the page does not show the kernel's current figure (a lost update)")

        # No Python error: not in the cell, not from the callbacks (their errors go to the
        # kernel's messages and log, not to the cell).
        assert errors.count() == 0, errors.all_inner_texts()
        raised = _kernel_errors(frames)
        assert not raised, f"Python error(s) in the kernel while the slider moved: {raised}"
        log = lab.log(log_start)
        assert "Traceback" not in log and "Exception in" not in log, log[-3000:]
    except BaseException:
        try:
            page.screenshot(path=str(SHOTS / f"{shot}_failure.png"), full_page=True)
        except Exception:
            pass
        print("browser console:", *console[-30:], sep="\n  ")
        print("JupyterLab log:", lab.log()[-4000:], sep="\n")
        raise
    finally:
        context.close()


# ------------------------------------------------------------------------------- every notebook
@dataclass
class Run:
    """What running one notebook in JupyterLab showed: problems by kind, each naming the cell."""
    name: str
    problems: dict = field(default_factory=dict)
    sliders: int = 0

    def add(self, kind: str, message: str) -> None:
        self.problems.setdefault(kind, []).append(message)

    def report(self, *kinds: str) -> str:
        lines = [m for k in kinds for m in self.problems.get(k, [])]
        return f"{self.name}: {len(lines)} problem(s)\n  " + "\n  ".join(lines)

    def cells_with(self, kind: str) -> set:
        return {int(m.split(":")[0].split()[-1]) for m in self.problems.get(kind, [])}


_OPEN_JS = ("(path) => { const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            " return !!nb && !!nb.content && nb.context && nb.context.isReady"
            " && nb.context.path === path; }")
_CELL_ERRORS_JS = """() => {
  const out = [];
  window.jupyterapp.shell.currentWidget.content.widgets.forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    const outputs = cell.model.outputs;
    for (let k = 0; k < outputs.length; k++) {
      const o = outputs.get(k).toJSON();
      if (o.output_type === 'error') out.push([i + 1, `${o.ename}: ${o.evalue}`]);
    }
  });
  return out;
}"""
_CELL_SRCS_JS = """(i) => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[i - 1]
    .querySelectorAll('.jp-OutputArea-output img')].map((im) => im.getAttribute('src'))"""


def run_in_lab(page, lab, path: str, name: str, console: list) -> Run:
    """Open ``path`` (relative to the server's root), run all cells, then move every slider."""
    run = Run(name)
    workspace = re.sub(r"\W", "-", path)
    page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{path}?reset&token={lab.token}",
              wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_function(_OPEN_JS, arg=path, timeout=60_000)
    page.wait_for_function(_kernel_idle_js(), timeout=60_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(_kernel_idle_js(), timeout=RUN_ALL_TIMEOUT_MS)
    for cell, error in page.evaluate(_CELL_ERRORS_JS):
        run.add("error", f"cell {cell}: raised {error}")
    frames_before_sliders = len(run_frames(page))

    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    for i in range(1, cells.count() + 1):
        cell = cells.nth(i - 1)
        # ipywidgets shows a widget it cannot display as an error icon, its message on click
        broken = cell.locator(".jupyter-widgets-error-widget").count()
        broken += cell.locator(".jp-OutputArea-output").filter(
            has_text="Error displaying widget").count()
        if broken:
            run.add("widget", f"cell {i}: {broken} widget(s) show \"Error displaying widget\" "
                              "(see the console errors for why)")
        for j, slider in enumerate(cell.locator(".widget-slider").all()):
            run.sliders += 1
            label = slider.locator(".widget-label").first.inner_text().strip()
            handle = slider.locator(".noUi-handle")
            if not handle.is_visible():
                run.add("slider", f"cell {i}: the slider {label!r} does not render")
                continue
            before = page.evaluate(_CELL_SRCS_JS, i)
            readout = slider.locator(".widget-readout")
            value = readout.inner_text()
            handle.scroll_into_view_if_needed()
            handle.focus()
            handle.press("ArrowRight")
            if readout.inner_text() == value:  # at its maximum: move it the other way
                handle.press("ArrowLeft")
            try:
                page.wait_for_function(
                    f"(old) => {{ const now = ({_CELL_SRCS_JS})({i});"
                    " return now.some((src, k) => src !== old[k]); }",
                    arg=before, timeout=20_000)
            except Exception:
                run.add("slider", f"cell {i}: moving the slider {label!r} (from {value}) did "
                                  "not change its figure")
            page.wait_for_function(_kernel_idle_js(), timeout=TIMEOUT_MS)
            after = page.evaluate(_CELL_SRCS_JS, i)
            if len(after) != len(before):
                run.add("slider", f"cell {i}: moving the slider {label!r} left {len(after)} "
                                  f"images where there were {len(before)} (appended, not "
                                  "replaced)")
    for cell, error in page.evaluate(_CELL_ERRORS_JS):
        message = f"cell {cell}: raised {error}"
        if message not in run.problems.get("error", []):
            run.add("error", message)
    for frame_error in _kernel_errors(run_frames(page)[frames_before_sliders:]):
        run.add("error", f"cell 0: a slider's callback raised {frame_error}")
    for line in console:
        run.add("console", f"cell 0: {line}")
    return run


def run_frames(page) -> list:
    return getattr(page, "_course_frames", [])


def _page(browser, lab):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    console, frames = [], []
    page._course_frames = frames
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(data)))
    page.on("console", lambda m: m.type == "error" and console.append(m.text))
    page.on("pageerror", lambda e: console.append(f"uncaught {e}"))
    return context, page, console


_runs: dict = {}


def lecture_run(browser, lab, name: str) -> Run:
    if name not in _runs:
        context, page, console = _page(browser, lab)
        try:
            _runs[name] = run_in_lab(page, lab, f"notebooks/{name}", name, console)
            SHOTS.mkdir(parents=True, exist_ok=True)
            first_slider = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-slider")
            if first_slider.count():
                first_slider.first.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / f"{Path(name).stem}.png"))
        finally:
            context.close()
    return _runs[name]


@pytest.mark.parametrize("name", LECTURES)
def test_lecture_runs_in_jupyterlab_without_an_error(name, lab, browser):
    run = lecture_run(browser, lab, name)
    assert not {"error", "console"} & run.problems.keys(), run.report("error", "console")


@pytest.mark.parametrize("name", LECTURES)
def test_lecture_widgets_render_and_every_slider_replaces_its_figure(name, lab, browser):
    run = lecture_run(browser, lab, name)
    assert not {"widget", "slider"} & run.problems.keys(), run.report("widget", "slider")


@pytest.fixture(scope="module")
def broken_run(browser, lab):
    context, page, console = _page(browser, lab)
    try:
        return run_in_lab(page, lab, f"fixtures/{FIXTURE.name}", FIXTURE.name, console)
    finally:
        context.close()


# the kind of problem -> the fixture's cells that must raise it (cell 2 is a working explorer)
BROKEN_CELLS = {"slider": {3}, "widget": {4}, "error": {6}}


@pytest.mark.parametrize("kind", sorted(BROKEN_CELLS))
def test_each_notebook_check_fails_on_exactly_its_broken_fixture_cell(kind, broken_run):
    assert broken_run.cells_with(kind) == BROKEN_CELLS[kind], broken_run.report(kind)


def test_a_console_error_is_caught(broken_run):
    assert any("fixture: an error in the console" in m
               for m in broken_run.problems.get("console", [])), broken_run.report("console")


def test_the_fixture_explorer_works_so_the_checks_do_not_cry_wolf(broken_run):
    assert broken_run.sliders == 2
    flagged = set().union(*(broken_run.cells_with(k) for k in broken_run.problems))
    assert 2 not in flagged, broken_run.report(*broken_run.problems)


# every new figure in a cell's outputs (an update may replace the <img> or only its src)
_COUNT_IMAGES = """(cell) => { window.__shown = [];
  let last = cell.querySelector('.jp-OutputArea-output img').getAttribute('src');
  new MutationObserver(() => {
    const img = cell.querySelector('.jp-OutputArea-output img');
    const src = img && img.getAttribute('src');
    if (src && src !== last) { last = src; window.__shown.push([performance.now(), src]); }
  }).observe(cell, {subtree: true, childList: true, attributes: true,
                    attributeFilter: ['src']}); }"""


def test_dragging_a_slider_updates_the_figure_while_dragging_and_ends_at_the_last_value(
        lab, browser):
    """The figure follows the hand (it changes before the mouse is released) and, once the
    kernel is idle, shows the kernel's figure for the value the slider ended on."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{lab.url}/lab/workspaces/drag/tree/live_figure.ipynb?reset&token="
                  f"{lab.token}", wait_until="domcontentloaded", timeout=60_000)
        page.wait_for_function(_OPEN_JS, arg="live_figure.ipynb", timeout=60_000)
        page.wait_for_function(_kernel_idle_js(), timeout=60_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(_kernel_idle_js(), timeout=60_000)
        cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").first
        eta = cell.locator(".widget-slider").filter(
            has=page.locator(".widget-label", has_text="step size η"))
        handle = eta.locator(".noUi-handle")
        handle.wait_for(state="visible")
        image = cell.locator(".jp-OutputArea-output img")
        cell.element_handle().evaluate(_COUNT_IMAGES)
        track = eta.locator(".noUi-target").bounding_box()
        y = track["y"] + track["height"] / 2
        drag = handle.evaluate(DRAG_JS, [track["x"] + 0.3 * track["width"],
                                         track["x"] + 0.8 * track["width"], y, 1.0])
        during = page.evaluate("([a, b]) => window.__shown.filter(([t]) => t >= a && t <= b)"
                               ".length", [drag["start"], drag["end"]])
        assert drag["moves"] >= 10, f"only {drag['moves']} mouse moves in the drag"
        settled, deadline = None, time.monotonic() + 30
        while time.monotonic() < deadline:
            page.wait_for_function(_kernel_idle_js())
            now = page.evaluate("() => window.__shown.length")
            if now == settled:
                break
            settled = now
            page.wait_for_timeout(500)
        readout = float(eta.locator(".widget-readout").inner_text())
        state = json.loads(page.evaluate(KERNEL_EXEC_JS, _KERNEL_STATE))
        assert during >= 1, (f"the figure did not change while the slider was dragged "
                             f"({drag['moves']} mouse moves); it waits for the release")
        assert state["eta"] == pytest.approx(readout, rel=5e-3), (
            f"after the drag the slider reads {readout}, the kernel has {state['eta']}: the "
            "last value was lost")
        assert image.get_attribute("src") == "data:image/png;base64," + state["png"], (
            "after the drag the page does not show the kernel's figure for the last value")
        assert image.count() == 1
    finally:
        context.close()
