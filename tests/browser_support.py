"""What the browser tests share: Debian's Chromium through playwright, a page context that
records (and stops) every request that would leave the machine, console errors, and building
the decks and the book once per session.

Chromium is /usr/bin/chromium (``apt-get install chromium``), driven by the `playwright` package
of the dev extra (never ``playwright install``, which downloads a browser of its own). Without
them, or without npm for the decks' and book's scripts, the tests are skipped, except on CI
(CI=true), where they fail.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shlex
import shutil
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

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# --disable-background-networking and friends: Chromium's own connections (updates, field
# trials, sync) are refused on a closed network, and it is slower to start while it retries.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
#: schemes a page may load from without touching the network
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


#: page.evaluate(KERNEL_EXEC_JS, code): run code in the open notebook's kernel, return what it
#: printed (an error in the kernel raises in the page)
KERNEL_EXEC_JS = """async (code) => {
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


def _missing_or_skip(missing: list[str], what: str) -> None:
    if missing:
        reason = f"{what} needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run it (.ci/run installs it)", pytrace=False)
        pytest.skip(reason)


def require_browser() -> None:
    """Skip (fail on CI) when Chromium or playwright is missing."""
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (Debian: apt-get install chromium)")
    if find_spec("playwright") is None:
        missing.append("the playwright package (pip install -e '.[dev]', or make test)")
    _missing_or_skip(missing, "browser test")


def require_publishing() -> None:
    """Skip (fail on CI) when make or npm, which build the decks and the book, is missing."""
    missing = [f"{tool} (to build the decks and the book)" for tool in ("make", "npm")
               if shutil.which(tool) is None]
    _missing_or_skip(missing, "deck/book test")


@contextlib.contextmanager
def build_lock():
    """One build at a time across pytest-xdist workers (decks and book share the executed
    notebooks): the others wait, then find everything up to date."""
    path = ROOT / "build" / ".publish.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def make(*targets: str, timeout: float = 1800) -> None:
    """Run ``make TARGETS`` at the repository root (incremental: a no-op when up to date)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    with build_lock():
        run = subprocess.run(["make", *targets], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=timeout)
    if run.returncode != 0:
        pytest.fail(f"make {' '.join(targets)} failed:\n{run.stdout[-6000:]}\n"
                    f"{run.stderr[-6000:]}", pytrace=False)


def launch(pw):
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                              headless=True, timeout=60_000)


class Offline:
    """A browser context in which every request that is not local is recorded and aborted
    (so nothing leaves the machine), plus the console errors of its pages."""

    def __init__(self, browser, allowed: tuple = (), **context_args):
        """``allowed``: URL prefixes that count as local too (a server on this machine)."""
        self.context = browser.new_context(**context_args)
        self.remote: list[str] = []
        self.errors: list[str] = []
        local = LOCAL_SCHEMES + tuple(allowed)
        self.context.route(lambda url: not url.startswith(local), self._stop)
        self.context.on("page", self._watch)

    def _stop(self, route):
        self.remote.append(route.request.url)
        route.abort()

    def _watch(self, page):
        page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"{page.url.rsplit('/', 1)[-1]}: console error: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(
            f"{page.url.rsplit('/', 1)[-1]}: uncaught {e}"))

    def new_page(self):
        return self.context.new_page()

    def report(self, add) -> None:
        """Pass each remote request (once, however often retried) and each console error to
        ``add(kind, message)``, kind "network" or "console"."""
        for url in dict.fromkeys(self.remote):
            add("network", f"requested from the network: {url}")
        for error in self.errors:
            if "net::ERR_FAILED" in error and self.remote:
                continue  # an aborted request above, logged once more by the browser
            add("console", error)

    def close(self):
        self.context.close()


# ------------------------------------------------------------------------------- JupyterLab
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_command(root: Path, port: int, token: str, base: Path) -> list[str]:
    """The command `make lab` runs (read from ``make -n``, its install step skipped, with this
    interpreter's environment as the venv), serving ``root`` on ``port``."""
    prefix = Path(sys.prefix)
    args = (f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0 "
            f"--ServerApp.token={token} "
            f"--LabApp.user_settings_dir={base / '.jupyter-settings'} "
            f"--LabApp.workspaces_dir={base / '.jupyter-workspaces'} "
            "--LabApp.expose_app_in_browser=True "
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    run = subprocess.run(["make", "-n", "-o", str(prefix / ".course-installed"), "lab",
                          f"VENV={prefix}", f"LAB_ROOT={root}", f"ARGS={args}"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.replace("\\\n", " ").splitlines()
    commands = [line for line in lines if f"{prefix}/bin/jupyter lab" in line]
    assert len(commands) == 1, f"make -n lab printed no single jupyter lab command:\n{run.stdout}"
    return shlex.split(commands[0])


def lab_settings(base: Path) -> dict:
    """Settings of a quiet, test-friendly JupyterLab under ``base``, and the environment for it
    (Jupyter's config, data and runtime folders there too: no user settings leak in)."""
    data = base / ".jupyter-data"
    # "python3" is this interpreter (the venv's under make test), whatever else is installed.
    spec = data / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
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
        # a test never writes its outputs back into a notebook
        "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(base / ".jupyter-config"),
               JUPYTER_DATA_DIR=str(data),
               JUPYTER_RUNTIME_DIR=str(base / ".jupyter-runtime"),
               JUPYTER_PLATFORM_DIRS="1", PYDEVD_DISABLE_FILE_VALIDATION="1",
               PYTHONUNBUFFERED="1")
    # as under make lab: the kernel picks its own matplotlib backend (inline)
    for name in ("MPLBACKEND", "JUPYTER_PATH", "JUPYTERLAB_SETTINGS_DIR",
                 "JUPYTERLAB_WORKSPACES_DIR"):
        env.pop(name, None)
    return env


class Lab:
    """A JupyterLab server in its own process group, on a free port with a random token,
    started with the command `make lab` runs."""

    def __init__(self, root: Path, base: Path, env: dict):
        self.base, self.token = base, secrets.token_hex(16)
        self.log_path = base / "jupyterlab.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = lab_command(root, self.port, self.token, base)
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




def start_lab(root: Path, base: Path, timeout: float = 60) -> Lab:
    """A running JupyterLab on ``root`` (retrying when the free port was taken meanwhile)."""
    env = lab_settings(base)
    for attempt in range(3):
        server = Lab(root, base, env)
        try:
            server.wait_ready(timeout)
            return server
        except RuntimeError:
            server.stop()
            if attempt == 2 or "address already in use" not in server.log().lower():
                raise


#: JS, run on a slider's handle with [x0, x1, y, seconds]: drag it from x0 to x1 at a steady
#: pace, one mouse event per animation frame as a real mouse delivers them (noUiSlider, the
#: widgets' slider, listens to mouse events). Driving the mouse through playwright instead
#: costs a round trip per move, which on 2 cores takes the CPU the kernel needs.
#: Resolves to {start, end, moves} (performance.now() times in ms).
DRAG_JS = """(handle, [x0, x1, y, seconds]) => new Promise((resolve) => {
  // the slider (noUiSlider) listens to mouse events, not pointer events, in Chromium
  const at = (x, yy, buttons) => ({clientX: x, clientY: yy, buttons, button: 0, bubbles: true,
                                   cancelable: true, composed: true, view: window});
  const r = handle.getBoundingClientRect();
  handle.dispatchEvent(new MouseEvent('mousedown', at(r.left + r.width / 2,
                                                          r.top + r.height / 2, 1)));
  const root = document.documentElement, start = performance.now();
  let moves = 0;
  const step = () => {
    const t = (performance.now() - start) / 1e3;
    const x = x0 + (x1 - x0) * Math.min(t / seconds, 1);
    root.dispatchEvent(new MouseEvent('mousemove', at(x, y, 1)));
    moves += 1;
    if (t < seconds) { requestAnimationFrame(step); return; }
    const end = performance.now();
    root.dispatchEvent(new MouseEvent('mouseup', at(x, y, 0)));
    resolve({start, end, moves});
  };
  requestAnimationFrame(step);
})"""
