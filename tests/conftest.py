"""Settings every test shares: off-screen matplotlib, Hypothesis profiles, a seeded generator."""
import os
import sys
from pathlib import Path

# Before anything imports matplotlib: the tests (and the kernels nbval starts, which inherit
# this environment) draw off-screen, with or without a display.
os.environ["MPLBACKEND"] = "Agg"
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Notebooks kept under tests/ are fixtures (e.g. submissions for the grader), not lecture
# notebooks: nbval (make test passes --nbval-lax) must not try to run them.
collect_ignore_glob = ["*.ipynb"]

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is in the dev extra; without it the property tests skip
    pass
else:
    # No per-example deadline: timings on a loaded 2-core CI machine say nothing about
    # correctness. CI replays the same examples every run, so a red CI is reproducible.
    settings.register_profile("dev", deadline=None)
    settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE",
                                         "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def rng():
    """A fresh generator with a fixed seed: a test draws the same numbers every run."""
    return np.random.default_rng(20261128)


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test opened, so figures never pile up across tests."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by playwright (skipped where it is missing, except
    on CI): one per test module, shared by its tests."""
    from browser_support import launch, require_browser
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch(pw)
        try:
            yield chromium
        finally:
            chromium.close()
