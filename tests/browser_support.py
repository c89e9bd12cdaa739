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
import os
import shutil
import subprocess
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

    def __init__(self, browser, **context_args):
        self.context = browser.new_context(**context_args)
        self.remote: list[str] = []
        self.errors: list[str] = []
        self.context.route(lambda url: not url.startswith(LOCAL_SCHEMES), self._stop)
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

    def close(self):
        self.context.close()
