"""The course's sliders work in a real browser: JupyterLab in headless Chromium runs a notebook
with a `LiveFigure`, a slider is moved with the keyboard, and the figure above it changes.

The unit tests (test_widgets.py) check the Python side with a fake display handle; this checks
what they cannot: that the widget JavaScript renders the sliders, that moving one reaches the
kernel, and that ``display_handle.update`` replaces the image in the page rather than appending
a second one.

Needs Debian's Chromium (/usr/bin/chromium: ``apt-get install chromium``) and the `playwright`
package (dev extra); without either the tests are skipped, except on CI (CI=true), where they
fail. Screenshots go to build/browser/ (the figure before and after the slider moved, and the
page of a failed test).
"""
from __future__ import annotations

import base64
import io
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib.util import find_spec
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
# --disable-background-networking and friends: Chromium's own connections (updates, field
# trials, sync) are refused on a closed network, and it is slower to start while it retries.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT = 60  # s, until JupyterLab answers
TIMEOUT_MS = 45_000  # for each wait in the page (the kernel shares 2 cores with other tests)

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


# ------------------------------------------------------------------------------- set-up
def _require_browser():
    """Skip (fail on CI) when Chromium or playwright is missing."""
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (Debian: apt-get install chromium)")
    if find_spec("playwright") is None:
        missing.append("the playwright package (pip install -e '.[dev]', or make test)")
    if missing:
        reason = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run it (.ci/run installs Chromium)", pytrace=False)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook(source: str) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "cells": [{"cell_type": "code", "id": "slider-cell", "metadata": {},
                       "execution_count": None, "outputs": [], "source": source}]}


def _write_lab_dir(base: Path) -> dict:
    """Notebooks, a kernelspec for this interpreter and quiet JupyterLab settings; the env."""
    for name, (source, _, _) in CASES.items():
        (base / f"{name}.ipynb").write_text(json.dumps(_notebook(source), indent=1))
    data = base / ".jupyter-data"
    # "python3" is this interpreter (the venv's under make test), whatever else is installed.
    spec = data / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    settings = base / ".jupyter-settings"
    for plugin, values in {
        # no "get Jupyter news?" toast over the output, no update check
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                        "checkForUpdates": False},
        # every cell in the DOM, never virtualized away
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(base / ".jupyter-config"),
               JUPYTER_DATA_DIR=str(data),
               JUPYTER_RUNTIME_DIR=str(base / ".jupyter-runtime"),
               JUPYTER_PLATFORM_DIRS="1", PYDEVD_DISABLE_FILE_VALIDATION="1",
               MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTERLAB_SETTINGS_DIR", None)
    env.pop("JUPYTERLAB_WORKSPACES_DIR", None)
    return env


class Lab:
    """A JupyterLab server in its own process group, on a free port with a random token."""

    def __init__(self, base: Path, env: dict):
        self.base, self.token = base, secrets.token_hex(16)
        self.log_path = base / "jupyterlab.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
                f"--port={self.port}", "--ServerApp.port_retries=0",
                f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={base}",
                f"--LabApp.user_settings_dir={base / '.jupyter-settings'}",
                f"--LabApp.workspaces_dir={base / '.jupyter-workspaces'}",
                "--LabApp.expose_app_in_browser=True",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if os.geteuid() == 0:
            args.append("--allow-root")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, cwd=base, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def log(self, start: int = 0) -> str:
        return self.log_path.read_bytes()[start:].decode(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n"
                                   f"{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}",
                                            timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"JupyterLab did not answer within {timeout} s:\n"
                           f"{self.log()[-3000:]}")

    def stop(self) -> None:
        """Shut the server down, its kernels with it; kill whatever is left, in bounded time."""
        try:
            import psutil
            started = psutil.Process(self.proc.pid).children(recursive=True)
        except Exception:  # psutil missing (it comes with ipykernel) or the server is gone
            started = []
        if self.proc.poll() is None:
            try:  # the API's shutdown stops the kernels too (they run in sessions of their own)
                req = urllib.request.Request(f"{self.url}/api/shutdown?token={self.token}",
                                             method="POST")
                urllib.request.urlopen(req, timeout=5).close()
                self.proc.wait(timeout=10)
            except Exception:
                pass
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        for child in started:  # kernels the shutdown did not reach
            try:
                child.kill()
            except Exception:
                pass
        self._log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require_browser()
    base = tmp_path_factory.mktemp("jupyterlab")
    env = _write_lab_dir(base)
    for attempt in range(3):  # the free port may be taken between choosing and binding it
        server = Lab(base, env)
        try:
            server.wait_ready(SERVER_START_TIMEOUT)
            break
        except RuntimeError:
            server.stop()
            if attempt == 2 or "address already in use" not in server.log().lower():
                raise
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True, timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()


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
_KERNEL_STATE_JS = """async (code) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const future = kernel.requestExecute({code, silent: false, store_history: false});
    let out = "", error = null;
    future.onIOPub = (msg) => {
        if (msg.header.msg_type === "stream") out += msg.content.text;
        if (msg.header.msg_type === "error") error = msg.content.ename + ": " + msg.content.evalue;
    };
    await future.done;
    if (error) throw new Error(error);
    return out;
}"""


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
        # press is a "change" event, which is what a slider with continuous_update=False
        # sends to the kernel (the widget model holds back new states while it waits).
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
        state = json.loads(page.evaluate(_KERNEL_STATE_JS, _KERNEL_STATE))
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
