"""Every deck in a real browser, as a lecturer presents it: Chromium at 1280×720 opens
build/slides/NN_*.slides.html from file:// (no server, no network) and visits every slide.

Checked for each deck: every request stays on the machine, reveal.js and MathJax are ready and
nothing logs an error, every equation is typeset (no raw ``$…$`` or ``\\frac``, no TeX error),
no slide is empty, nothing on a slide extends past the 1280×720 slide box or is cut inside a
scrolling box, every figure has real alt text, widgets appear as their figure with a caption
(never as widget text), next/previous and the arrow keys visit every slide in order, and the
speaker view shows the notes, offline.

A fixture deck (tests/fixtures/slides/broken_deck.ipynb) breaks one rule per slide; the last
tests check that each check catches exactly its broken slide, so none of them cannot fail.

The decks are built once per session by ``make slides`` (incremental; a prerequisite-free run
builds them first). Screenshots of failing slides go to build/test-artifacts/slides/.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from browser_support import (ARTIFACTS, ROOT, Offline, make, require_browser,
                             require_publishing)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LECTURES = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
SLIDES = ROOT / "build" / "slides"
FIXTURE = ROOT / "tests" / "fixtures" / "slides" / "broken_deck.ipynb"
SHOTS = ARTIFACTS / "slides"
WIDTH, HEIGHT = 1280, 720
TOLERANCE = 1.0  # px on the slide: sub-pixel rounding is not overflow
PLACEHOLDER_ALT = "No description has been provided for this image"

# What one slide looks like to the checks, measured in the page (slide px = css px / scale).
_INSPECT_SLIDE = r"""(i) => {
  Reveal.slide(i);
  const slide = Reveal.getCurrentSlide();
  const scale = Reveal.getScale();
  const box = document.querySelector('.reveal .slides').getBoundingClientRect();
  const shown = (el) => {
    if (el.closest('aside.notes')) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const short = (s, n = 50) => { s = (s || '').replace(/\s+/g, ' ').trim();
                                  return s.length > n ? s.slice(0, n) + '…' : s; };
  const describe = (el) => {
    const tag = el.tagName.toLowerCase();
    if (tag === 'img') return `figure (alt "${short(el.getAttribute('alt'), 40)}")`;
    if (tag === 'mjx-container') return 'equation';
    if (tag === 'pre') return `code "${short(el.textContent.split('\n')[0], 40)}"`;
    if (tag === 'table') return `table "${short(el.textContent, 30)}"`;
    if (el.classList.contains('course-widget-caption')) return 'widget caption';
    return `${tag} "${short(el.textContent, 40)}"`;
  };
  // content, outermost first: an overflowing paragraph is reported, not its words
  const content = [...slide.querySelectorAll(
      'h1, h2, h3, h4, h5, h6, p, li, table, pre, img, mjx-container, .course-widget-caption')]
    .filter(shown);
  const overflow = [], reported = [];
  for (const el of content) {
    if (reported.some((r) => r.contains(el))) continue;
    const r = el.getBoundingClientRect();
    const past = {right: (r.right - box.right) / scale, bottom: (r.bottom - box.bottom) / scale,
                  left: (box.left - r.left) / scale, top: (box.top - r.top) / scale};
    const sides = Object.entries(past).filter(([, v]) => v > %(tol)s);
    if (sides.length) {
      reported.push(el);
      overflow.push(`${describe(el)} extends past the slide's ` +
        sides.map(([s, v]) => `${s} edge by ${Math.round(v)} px`).join(' and '));
    }
  }
  const clipped = [];
  for (const el of slide.querySelectorAll('*')) {
    if (!shown(el) || el.closest('mjx-container')) continue;
    const cs = getComputedStyle(el);
    const cutX = cs.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + %(tol)s;
    const cutY = cs.overflowY !== 'visible' && el.scrollHeight > el.clientHeight + %(tol)s;
    if (cutX || cutY)
      clipped.push(`${describe(el)} is cut inside its box: ` +
        `${el.scrollWidth}×${el.scrollHeight} px of content in ${el.clientWidth}×${el.clientHeight}`);
  }
  const prose = slide.cloneNode(true);
  prose.querySelectorAll('aside.notes, pre, code, mjx-container, script, style')
       .forEach((e) => e.remove());
  const text = prose.textContent.replace(/\s+/g, ' ').trim();
  const heading = slide.querySelector('h1, h2, h3, h4');
  return {
    title: short(heading ? heading.textContent.replace('¶', '') : text, 60),
    overflow, clipped,
    text,
    visibleText: short(slide.innerText, 400),
    texErrors: [...slide.querySelectorAll(
        'mjx-merror, [data-mml-node="merror"], [data-mjx-error]')]
      .map((e) => e.getAttribute('data-mjx-error') || e.getAttribute('title')
                  || e.textContent),
    images: [...slide.querySelectorAll('img')].filter(shown)
      .map((im) => ({alt: im.getAttribute('alt'), width: im.naturalWidth})),
    captions: slide.querySelectorAll('.course-widget-caption').length,
    widgetScripts: document.querySelectorAll('script[type*="jupyter.widget"]').length,
    notes: [...slide.querySelectorAll('aside.notes')].map((n) => short(n.textContent, 200)),
    hasContent: [...slide.querySelectorAll('img, pre, mjx-container, table')].some(shown)
                || slide.innerText.trim().length > 0,
  };
}""" % {"tol": TOLERANCE}

_RAW_MATH = re.compile(r"\$[^$\s][^$]*\$|\$\$|\\(?:frac|sum|theta|eta|nabla|mathbb|mathrm|"
                       r"begin|left|right|sqrt|alpha|beta|mu|kappa|lambda)\b|\\\(|\\\[")
_WIDGET_TEXT = re.compile(r"\b(?:VBox|HBox|Box|FloatSlider|FloatLogSlider|IntSlider|Dropdown|"
                          r"interactive|Output|Checkbox)\(|Error displaying widget")


@dataclass
class Deck:
    """Everything the checks found in one deck: problems by kind, each message naming the
    slide (n/total and its heading), the element and by how much."""
    name: str
    total: int = 0
    problems: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)  # slide number -> its notes
    captions: int = 0

    def add(self, kind: str, message: str) -> None:
        self.problems.setdefault(kind, []).append(message)

    def report(self, *kinds: str) -> str:
        lines = [m for k in kinds for m in self.problems.get(k, [])]
        return f"{self.name}: {len(lines)} problem(s)\n  " + "\n  ".join(lines)

    def slides_with(self, kind: str) -> set:
        return {int(m.split("/")[0].split()[-1]) for m in self.problems.get(kind, [])
                if m.startswith("slide ")}


def _open(offline: Offline, path: Path):
    page = offline.new_page()
    page.set_default_timeout(30_000)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("() => window.Reveal && Reveal.isReady() && window.MathJax"
                           " && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")
    # no animation between slides: each is measured where it rests
    page.evaluate("() => Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
    return page


def _navigation(page, deck: Deck) -> None:
    """Next (PageDown, as a clicker sends) and the right arrow each visit every slide once,
    in order; fragments take extra presses on their slide."""
    for key in ("PageDown", "ArrowRight"):
        page.evaluate("() => Reveal.slide(0, 0, -1)")
        seen = [page.evaluate("() => Reveal.getIndices().h")]
        for _ in range(4 * deck.total + 20):
            if page.evaluate("() => Reveal.isLastSlide() && !Reveal.availableFragments().next"):
                break
            page.keyboard.press(key)
            h = page.evaluate("() => Reveal.getIndices().h")
            if h != seen[-1]:
                seen.append(h)
        if seen != list(range(deck.total)):
            deck.add("navigation", f"{key} from the first slide visits slides "
                                   f"{[h + 1 for h in seen]}, not 1 … {deck.total} in order")
        vertical = page.evaluate("() => document.querySelectorAll("
                                 "'.reveal .slides > section > section').length")
        if vertical > deck.total:
            deck.add("navigation", f"{vertical - deck.total} slide(s) sit in vertical stacks")


def _speaker_view(page, offline: Offline, deck: Deck) -> None:
    """Press S on a slide with notes: the speaker view opens (a window of its own, written by
    the notes plugin, no network) and shows that slide's notes."""
    if not deck.notes:
        deck.add("notes", "the deck has no speaker notes (markdown cells of slide type notes)")
        return
    number, text = next(iter(deck.notes.items()))
    page.evaluate(f"() => Reveal.slide({number - 1})")
    with page.expect_popup() as popup_info:
        page.keyboard.press("s")
    view = popup_info.value
    try:
        view.wait_for_function(
            "(t) => { const n = document.querySelector('.speaker-controls-notes .value');"
            " return !!n && n.textContent.replace(/\\s+/g, ' ').includes(t); }",
            arg=text[:40], timeout=20_000)
        # the current slide, a copy of the deck in a frame (playwright reaches into it; the
        # page itself cannot, file:// pages being of no common origin)
        current = next(f for f in view.frames if "receiver" in f.url and "upcoming" not in f.url)
        current.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=20_000)
        shown = current.evaluate("() => Reveal.getIndices().h") + 1
        if shown != number:
            deck.add("notes", f"slide {number}/{deck.total}: the speaker view shows slide {shown}")
    except Exception as exc:
        deck.add("notes", f"slide {number}/{deck.total}: the speaker view did not show its "
                          f"notes {text[:40]!r} with the current slide ({exc.__class__.__name__})")
    finally:
        view.close()


def inspect_deck(browser, path: Path, name: str) -> Deck:
    deck = Deck(name)
    offline = Offline(browser, viewport={"width": WIDTH, "height": HEIGHT})
    try:
        try:
            page = _open(offline, path)
        except Exception as exc:
            deck.add("ready", f"reveal.js and MathJax not ready: {exc}")
            return deck
        deck.total = page.evaluate("() => Reveal.getTotalSlides()")
        for i in range(deck.total):
            s = page.evaluate(_INSPECT_SLIDE, i)
            where = f"slide {i + 1}/{deck.total} ({s['title']!r})"
            bad = False
            for message in s["overflow"]:
                deck.add("overflow", f"{where}: {message}")
                bad = True
            for message in s["clipped"]:
                deck.add("overflow", f"{where}: {message}")
                bad = True
            raw = _RAW_MATH.findall(s["text"])
            if raw:
                deck.add("math", f"{where}: raw TeX on the slide: {sorted(set(raw))[:5]}")
                bad = True
            for err in s["texErrors"]:
                deck.add("math", f"{where}: TeX error: {err}")
                bad = True
            if not s["hasContent"]:
                deck.add("empty", f"{where}: the slide is empty")
                bad = True
            for im in s["images"]:
                if not (im["alt"] or "").strip() or im["alt"] == PLACEHOLDER_ALT:
                    deck.add("alt", f"{where}: a figure without alt text (alt={im['alt']!r}); "
                                    "show it with plots.show(fig, alt=...) or "
                                    "LiveFigure(..., alt=...)")
                    bad = True
            widget = _WIDGET_TEXT.findall(s["visibleText"])
            if widget or s["widgetScripts"]:
                deck.add("widget", f"{where}: widget text instead of its figure: "
                                   f"{widget or 'a widget-view script'}")
                bad = True
            deck.captions += s["captions"]
            if s["notes"]:
                deck.notes[i + 1] = s["notes"][0]
            if bad:
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / f"{name}_slide{i + 1:02d}.png"))
        _navigation(page, deck)
        _speaker_view(page, offline, deck)
        page.close()
    finally:
        offline.report(deck.add)
        offline.close()
    return deck


# ------------------------------------------------------------------------------- fixtures
_decks: dict = {}


@pytest.fixture(scope="module")
def built():
    require_browser()
    require_publishing()
    make("slides")


def lecture_deck(browser, name: str) -> Deck:
    if name not in _decks:
        path = SLIDES / f"{name}.slides.html"
        assert path.exists(), f"make slides did not write {path}"
        _decks[name] = inspect_deck(browser, path, name)
    return _decks[name]


@pytest.fixture(scope="module")
def broken(browser, tmp_path_factory):
    """The fixture deck, executed and exported the way make slides does it."""
    require_publishing()
    from course_lib.publish.execute import execute_notebook
    from course_lib.publish.slides import export_deck

    make("build/web/node_modules/.installed")
    tmp = tmp_path_factory.mktemp("broken_deck")
    executed = execute_notebook(FIXTURE, tmp / "executed" / FIXTURE.name)
    path = export_deck(executed, tmp / "slides", ROOT / "build" / "web" / "node_modules")
    return inspect_deck(browser, path, "broken_deck")


# ------------------------------------------------------------------------------- lectures
@pytest.mark.parametrize("name", LECTURES)
def test_deck_loads_only_local_files_and_logs_no_error(name, built, browser):
    deck = lecture_deck(browser, name)
    assert not {"network", "console", "ready"} & deck.problems.keys(), \
        deck.report("ready", "network", "console")


@pytest.mark.parametrize("name", LECTURES)
def test_deck_typesets_every_equation(name, built, browser):
    deck = lecture_deck(browser, name)
    assert "math" not in deck.problems, deck.report("math")


@pytest.mark.parametrize("name", LECTURES)
def test_every_slide_fits_the_1280x720_slide_with_nothing_cut(name, built, browser):
    deck = lecture_deck(browser, name)
    assert "overflow" not in deck.problems, deck.report("overflow")


@pytest.mark.parametrize("name", LECTURES)
def test_no_slide_is_empty(name, built, browser):
    deck = lecture_deck(browser, name)
    assert "empty" not in deck.problems, deck.report("empty")


@pytest.mark.parametrize("name", LECTURES)
def test_every_figure_has_alt_text(name, built, browser):
    deck = lecture_deck(browser, name)
    assert "alt" not in deck.problems, deck.report("alt")


@pytest.mark.parametrize("name", LECTURES)
def test_widgets_show_their_figure_with_a_caption_never_widget_text(name, built, browser):
    deck = lecture_deck(browser, name)
    assert "widget" not in deck.problems, deck.report("widget")


@pytest.mark.parametrize("name", LECTURES)
def test_next_and_the_arrow_keys_visit_every_slide_in_order(name, built, browser):
    deck = lecture_deck(browser, name)
    assert "navigation" not in deck.problems, deck.report("navigation")


@pytest.mark.parametrize("name", LECTURES)
def test_speaker_view_shows_the_notes_offline(name, built, browser):
    deck = lecture_deck(browser, name)
    assert "notes" not in deck.problems, deck.report("notes")


# ------------------------------------------------------------------------------- the checks fail
# slide number in the fixture deck -> the one kind of problem it must raise
BROKEN = {2: "overflow", 3: "overflow", 4: "overflow", 5: "math", 6: "math", 8: "empty",
          9: "alt", 10: "widget"}
GOOD = {1, 7, 11, 12}  # the title, the network slide (a deck-level problem), explorer, code


@pytest.mark.parametrize("kind", sorted(set(BROKEN.values())))
def test_each_slide_check_fails_on_exactly_its_broken_fixture_slide(kind, broken):
    expected = {n for n, k in BROKEN.items() if k == kind}
    assert broken.slides_with(kind) == expected, broken.report(kind)


def test_the_fixture_deck_has_its_slides_and_no_false_alarms(broken):
    assert broken.total == 12, f"the fixture deck has {broken.total} slides, expected 12"
    flagged = set().union(*(broken.slides_with(k) for k in broken.problems))
    assert not flagged & GOOD, broken.report(*broken.problems)


def test_a_request_to_the_network_is_caught(broken):
    assert broken.problems.get("network") == [
        "requested from the network: https://cdn.example.invalid/logo.png"]


def test_the_overflow_message_names_the_element_and_the_excess(broken):
    messages = broken.problems["overflow"]
    assert any(re.fullmatch(r"slide 3/12 \('A figure whose size is fixed in its HTML'\): "
                            r"figure \(alt \"a rising line\"\) extends past the slide's bottom "
                            r"edge by \d+ px", m) for m in messages), messages
    assert any(re.fullmatch(r"slide 4/12 \('A table in a scrolling box'\): div \"column 0.*\" "
                            r"is cut inside its box: \d+×\d+ px of content in 600×\d+", m)
               for m in messages), messages


def test_the_fixture_explorer_is_its_figure_with_a_caption(broken):
    assert broken.captions == 1


def test_the_fixture_speaker_view_and_navigation_work(broken):
    assert not {"notes", "navigation", "ready"} & broken.problems.keys(), \
        broken.report("notes", "navigation", "ready")
    assert set(broken.notes) == {1, 11}
