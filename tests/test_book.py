"""The course book (make book) as a reader gets it, with no network: every page loads from
file:// with nothing requested from the network and no console error, math is typeset (no raw
TeX, no TeX error), every internal link and anchor resolves, every figure has alt text,
widgets appear as captioned figures, search finds the lectures, and the site also works from
``python -m http.server``.

A fixture site (tests/fixtures/book/) breaks each rule once (a missing page, a missing anchor,
raw math, a script from a CDN); the last tests check that each check names exactly those.
The book is built once per session by ``make book`` (incremental).
"""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from browser_support import ROOT, Offline, make, require_publishing

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BOOK = ROOT / "build" / "book" / "html"
FIXTURE = ROOT / "tests" / "fixtures" / "book"
PLACEHOLDER_ALT = "No description has been provided for this image"
_RAW_MATH = re.compile(r"\$[^$\s][^$]*\$|\\(?:frac|sum|theta|eta|nabla|mathbb|mathrm|begin|"
                       r"left|right|sqrt|alpha|beta|mu|kappa|lambda)\b|\\\(|\\\[")
_WIDGET_TEXT = re.compile(r"\b(?:VBox|HBox|FloatSlider|FloatLogSlider|IntSlider|Dropdown|"
                          r"interactive)\(|Error displaying widget")


# ------------------------------------------------------------------------------- links (no browser)
class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links, self.loads = set(), [], []
        self.redirect = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            self.redirect = (a.get("content") or "").partition("url=")[2].strip()
            self.links.append(self.redirect)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for key in ("src", "href") if tag in ("script", "img", "link", "iframe") else ():
            if a.get(key):
                self.loads.append(a[key])


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html")
                  if not {"_static", "_sources", "_images"} & set(p.relative_to(site).parts))


def link_problems(site: Path) -> list[str]:
    """Internal links to missing pages or anchors, and anything a page loads from the web."""
    problems, parsed = [], {}

    def parsed_page(path: Path) -> _Links:
        if path not in parsed:
            parsed[path] = _parse(path)
        return parsed[path]

    for page in pages(site):
        name = page.relative_to(site).as_posix()
        info = parsed_page(page)
        for url in info.loads:
            if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I):
                problems.append(f"{name}: loads {url} from the network")
        for url in info.links:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:
                continue  # a link a reader may follow; never loaded by the page
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{name}: link to {url}: no such file")
            elif parts.fragment and target.suffix == ".html" \
                    and unquote(parts.fragment) not in parsed_page(target).ids:
                problems.append(f"{name}: link to {url}: no anchor #{parts.fragment}")
    return problems


# ------------------------------------------------------------------------------- pages in Chromium
_INSPECT_PAGE = r"""async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const main = document.querySelector('main, article, [role=main]') || document.body;
  const prose = main.cloneNode(true);
  prose.querySelectorAll('pre, code, mjx-container, script, style, .highlight, textarea, '
                         + '.headerlink').forEach((e) => e.remove());
  return {
    text: prose.textContent.replace(/\s+/g, ' '),
    visible: document.body.innerText,
    equations: document.querySelectorAll('mjx-container').length,
    texErrors: [...document.querySelectorAll('mjx-merror, [data-mml-node="merror"]')]
      .map((e) => e.getAttribute('data-mjx-error') || e.textContent),
    images: [...document.querySelectorAll('main img, article img')]
      .map((im) => ({src: (im.getAttribute('src') || '').slice(0, 60),
                     alt: im.getAttribute('alt'), loaded: im.complete && im.naturalWidth > 0})),
    captions: document.querySelectorAll('.course-widget-caption').length,
  };
}"""


@dataclass
class Site:
    problems: dict = field(default_factory=dict)
    equations: dict = field(default_factory=dict)  # page -> typeset equations
    captions: int = 0

    def add(self, kind: str, message: str) -> None:
        self.problems.setdefault(kind, []).append(message)

    def report(self, *kinds: str) -> str:
        lines = [m for k in kinds for m in self.problems.get(k, [])]
        return f"{len(lines)} problem(s)\n  " + "\n  ".join(lines)

    def pages_with(self, kind: str) -> set:
        return {m.split(":")[0] for m in self.problems.get(kind, [])}


def inspect_site(browser, site: Path, base_url: str | None = None, names=None) -> Site:
    """Open every page (or ``names``) of ``site`` from file:// (or from ``base_url``)."""
    result = Site()
    for message in link_problems(site):
        result.add("links", message)
    allowed = (base_url,) if base_url else ()
    offline = Offline(browser, viewport={"width": 1280, "height": 900}, allowed=allowed)
    try:
        for page_path in pages(site):
            name = page_path.relative_to(site).as_posix()
            if names is not None and name not in names:
                continue
            if _parse(page_path).redirect is not None:
                continue  # a redirect (index.html -> intro.html): its target is checked
            page = offline.new_page()
            page.set_default_timeout(30_000)
            url = f"{base_url}/{name}" if base_url else page_path.as_uri()
            page.goto(url, wait_until="load")
            s = page.evaluate(_INSPECT_PAGE)
            result.equations[name] = s["equations"]
            raw = _RAW_MATH.findall(s["text"])
            if raw:
                result.add("math", f"{name}: raw TeX on the page: {sorted(set(raw))[:5]}")
            for err in s["texErrors"]:
                result.add("math", f"{name}: TeX error: {err}")
            for im in s["images"]:
                if not (im["alt"] or "").strip() or im["alt"] == PLACEHOLDER_ALT:
                    result.add("alt", f"{name}: a figure without alt text ({im['src']}…)")
                if not im["loaded"]:
                    result.add("links", f"{name}: an image that does not load ({im['src']}…)")
            widget = _WIDGET_TEXT.findall(s["visible"])
            if widget:
                result.add("widget", f"{name}: widget text instead of its figure: {widget}")
            result.captions += s["captions"]
            page.close()
    finally:
        offline.report(result.add)
        offline.close()
    return result


# ------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def book(browser):
    require_publishing()
    make("book")
    assert (BOOK / "index.html").exists(), "make book did not write build/book/html/index.html"
    return inspect_site(browser, BOOK)


@pytest.fixture(scope="module")
def broken(browser, tmp_path_factory):
    from course_lib.publish.slides import copy_assets

    require_publishing()
    make("build/web/node_modules/.installed")
    site = tmp_path_factory.mktemp("broken_book")
    for page in FIXTURE.glob("*.html"):
        shutil.copy(page, site / page.name)
    copy_assets(ROOT / "build" / "web" / "node_modules", site / "_static",
                files=("mathjax/es5/tex-svg-full.js",))
    return inspect_site(browser, site)


# ------------------------------------------------------------------------------- the book
def test_every_page_loads_offline_without_a_console_error(book):
    assert not {"network", "console"} & book.problems.keys(), book.report("network", "console")


def test_every_internal_link_and_anchor_resolves(book):
    assert "links" not in book.problems, book.report("links")


def test_math_is_typeset_on_every_page_and_the_lectures_have_equations(book):
    assert "math" not in book.problems, book.report("math")
    lectures = {n: k for n, k in book.equations.items() if n.startswith("notebooks/")}
    assert lectures and all(lectures.values()), f"typeset equations per lecture: {lectures}"


def test_every_figure_has_alt_text_and_widgets_are_captioned_figures(book):
    assert not {"alt", "widget"} & book.problems.keys(), book.report("alt", "widget")
    assert book.captions >= 1, "no widget caption in the book: the explorers are missing"


def test_the_book_has_lectures_exercises_and_a_separate_instructor_part():
    from course_lib.publish.book import book_sections

    for s in book_sections():
        assert (BOOK / "notebooks" / f"{s.stem}.html").exists()
        if s.exists("exercises"):
            assert (BOOK / "exercises" / f"{s.stem}.html").exists()
        if s.exists("solutions"):
            assert (BOOK / "solutions" / f"{s.stem}.html").exists()
    intro = (BOOK / "intro.html").read_text(encoding="utf-8")
    assert "For instructors" in intro and "Lectures" in intro and "Exercises" in intro


def test_search_finds_the_lectures_offline(book, browser):
    offline = Offline(browser, viewport={"width": 1280, "height": 900})
    try:
        page = offline.new_page()
        page.goto((BOOK / "search.html").as_uri() + "?q=gradient", wait_until="load")
        page.wait_for_function("() => document.querySelectorAll('#search-results li').length",
                               timeout=30_000)
        hits = page.locator("#search-results li a").all_inner_texts()
        assert any("Gradient descent" in h for h in hits), hits
        assert not offline.remote and not offline.errors, (offline.remote, offline.errors)
    finally:
        offline.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_book_works_from_python_http_server(book, browser):
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(BOOK)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{base}/index.html", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        first = sorted(n for n in book.equations if n.startswith("notebooks/"))[:1]
        served = inspect_site(browser, BOOK, base_url=base, names={"intro.html", *first})
        assert not {"network", "console", "math"} & served.problems.keys(), \
            served.report("network", "console", "math")
        assert served.equations.get(first[0]), "no equation typeset on the served lecture"
    finally:
        server.terminate()
        server.wait(timeout=10)


# ------------------------------------------------------------------------------- the checks fail
def test_a_missing_page_and_a_missing_anchor_are_caught(broken):
    assert sorted(broken.problems.get("links", [])) == [
        "index.html: link to good.html#no-such-section: no anchor #no-such-section",
        "index.html: link to missing.html: no such file",
        "remote.html: loads https://cdn.example.invalid/mathjax/tex-svg.js from the network"]


def test_raw_math_is_caught_only_where_mathjax_did_not_run(broken):
    assert broken.pages_with("math") == {"raw.html"}, broken.report("math")
    assert broken.equations["index.html"] == 1 and broken.equations["good.html"] == 1


def test_a_request_to_the_network_is_caught(broken):
    assert broken.problems.get("network") == [
        "requested from the network: https://cdn.example.invalid/mathjax/tex-svg.js"]
