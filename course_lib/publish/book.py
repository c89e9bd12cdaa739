"""The course book: the executed course as a static site, built with Jupyter Book 1.x (Sphinx).

Parts, in the order of the course map (course_map.SECTIONS; a section appears once its lecture
exists):

- Lectures: the executed lecture notebooks (figures with their alt text, each widget as its
  figure at the default values with a caption saying so);
- Exercises: the exercise notebooks as handed out (not executed: their answer cells raise
  NotImplementedError until a student writes the answer);
- For instructors: the executed solutions (answers and hidden tests), kept apart.

Jupyter Book 2.x is not used: it downloads its site template at build time, which fails
offline. The 1.x build reads nothing from the network, and its pages load nothing from it:
MathJax (SVG output, no web fonts) is copied into the book's _static folder, and the widget
renderer is never referenced. The site works from file:// or ``python -m http.server``.

    python -m course_lib.publish book --executed build/executed --out build/book \
        --node-modules build/web/node_modules
    # -> build/book/html/index.html
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from .course_map import ROOT, SECTIONS, Section
from .preprocess import static_widgets
from .slides import copy_assets

__all__ = ["TITLE", "PARTS", "book_sections", "toc", "config", "write_source", "build_book"]

TITLE = "Optimization for Deep Learning"
MATHJAX = "mathjax/es5/tex-svg-full.js"
#: (folder in the book and in the repository, part caption, executed?)
PARTS = (("notebooks", "Lectures", True),
         ("exercises", "Exercises", False),
         ("solutions", "For instructors: solutions", True))


def book_sections(root: Path = ROOT) -> list[Section]:
    """The sections whose lecture notebook exists, in course order."""
    return [s for s in SECTIONS if s.exists("notebooks", root)]


def toc(sections: list[Section], root: Path = ROOT) -> dict:
    """The book's table of contents (Jupyter Book's _toc.yml), from the course map."""
    parts = []
    for folder, caption, _ in PARTS:
        chapters = [{"file": f"{folder}/{s.stem}"} for s in sections if s.exists(folder, root)]
        if folder == "solutions":  # their notebooks carry the exercises' titles
            for chapter, s in zip(chapters, [s for s in sections if s.exists(folder, root)]):
                chapter["title"] = f"Solutions {s.heading}"
        if chapters:
            if folder == "solutions":
                chapters.insert(0, {"file": "solutions/index"})
            parts.append({"caption": caption, "chapters": chapters})
    return {"format": "jb-book", "root": "intro", "parts": parts}


def config() -> dict:
    """Jupyter Book's _config.yml: no execution (the notebooks come executed), local MathJax,
    no widget scripts, no launch or repository buttons (they point at the network)."""
    return {
        "title": TITLE,
        "author": "the course authors",
        "copyright": "the course authors",
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "parse": {"myst_enable_extensions": ["dollarmath", "amsmath"]},
        "html": {"use_repository_button": False, "use_issues_button": False,
                 "use_edit_page_button": False, "use_download_button": False,
                 "use_multitoc_numbering": False},
        "launch_buttons": {"notebook_interface": "classic", "binderhub_url": "",
                           "jupyterhub_url": "", "thebe": False, "colab_url": ""},
        "sphinx": {"config": {
            # Jupyter Book's extensions less sphinx_thebe: it puts a CDN address into every
            # page, twice (a script error), for a live-code button this book does not offer
            "extensions": ["sphinx_togglebutton", "sphinx_copybutton", "myst_nb", "jupyter_book",
                           "sphinx_comments", "sphinx_external_toc", "sphinx.ext.intersphinx",
                           "sphinx_design", "sphinx_book_theme"],
            # relative to _static: write_source puts MathJax into _mathjax/, which Sphinx copies
            # there (a folder named _static would make Jupyter Book load every .js file in it
            # on every page, MathJax twice)
            "html_static_path": ["_mathjax"],
            "mathjax_path": MATHJAX,
            # a TeX mistake shows as an error (the tests look for them), not as red text
            "mathjax3_config": {"options": {"enableMenu": False},
                                "tex": {"packages": {"[-]": ["noerrors", "noundefined"]}}},
            # Markdown printed by code (display(Markdown(...))) is parsed as MyST, so its $…$
            # is typeset like a Markdown cell's (myst-nb's default, commonmark, leaves it raw)
            "nb_render_markdown_format": "myst",
            # the widget outputs are replaced by captions; never load the widget renderer
            "nb_ipywidgets_js": {},
            "html_show_sourcelink": False,
            # the result snippets are fetched from the pages, which file:// refuses (CORS)
            "html_show_search_summary": False,
            # without it the theme's script logs an error ("invalid theme mode") on every page
            # a browser opens with no stored choice
            "html_context": {"default_mode": "light"},
            "html_theme_options": {"use_download_button": False,
                                   "use_fullscreen_button": False,
                                   "use_repository_button": False},
            # heading levels inside notebook outputs (Markdown printed by code) are the
            # notebook's business; broken links and missing pages still fail the build
            "suppress_warnings": ["mystnb.unknown_mime_type", "myst.header"],
        }},
    }


def _intro(sections: list[Section], root: Path) -> str:
    rows = ["| section | lecture | exercises | what you learn |", "|---|---|---|---|"]
    for s in sections:
        exercise = (f"[exercises](exercises/{s.stem}.ipynb)" if s.exists("exercises", root)
                    else "—")
        rows.append(f"| {s.heading} | [{s.title}](notebooks/{s.stem}.ipynb) | {exercise} | "
                    f"{s.learn} |")
    return "\n".join([
        f"# {TITLE}", "",
        "How neural networks are trained as optimization problems: from the empirical risk a "
        "network minimizes, through gradient descent and its adaptive and second-order "
        "relatives, to testing optimizers and learning them.", "",
        "This book is the executed course. Each lecture's interactive figures appear at their "
        "default values; to move the sliders, open the notebook in JupyterLab (`make lab` in "
        "the course repository). The exercises are shown as they are handed out: work on them "
        "in JupyterLab, where their test cells check your answers.", "",
        "## Course map", "", *rows, "",
        "The last part, *For instructors*, holds the exercises with their answers and the "
        "hidden tests the grader uses.", ""])


_INSTRUCTORS = """# For instructors

The notebooks in this part are the exercises **with their answers** and the instructor's
hidden tests (`solutions/` in the course repository). `make exercises` generates the students'
versions from them and `make grade` grades submitted notebooks against these tests.

Students: try the exercises first.
"""


def write_source(src: Path, executed: Path, node_modules: Path, root: Path = ROOT) -> Path:
    """Lay out the book's source folder ``src`` (replaced if it exists)."""
    src, executed = Path(src), Path(executed)
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    sections = book_sections(root)
    for folder, _, was_executed in PARTS:
        for s in sections:
            if not s.exists(folder, root):
                continue
            origin = executed / s.path(folder) if was_executed else root / s.path(folder)
            if not origin.exists():
                raise FileNotFoundError(
                    f"{origin} is missing: execute {s.path(folder)} first (make book does: "
                    f"python -m course_lib.publish execute {s.path(folder)} {origin})")
            nb = nbformat.read(origin, as_version=4)
            static_widgets(nb)
            (src / folder).mkdir(exist_ok=True)
            nbformat.write(nb, src / s.path(folder))
    (src / "intro.md").write_text(_intro(sections, root), encoding="utf-8")
    if (src / "solutions").exists():
        (src / "solutions" / "index.md").write_text(_INSTRUCTORS, encoding="utf-8")
    # YAML is a superset of JSON: no YAML writer needed
    (src / "_toc.yml").write_text(json.dumps(toc(sections, root), indent=1), encoding="utf-8")
    (src / "_config.yml").write_text(json.dumps(config(), indent=1), encoding="utf-8")
    copy_assets(node_modules, src / "_mathjax", files=("mathjax/LICENSE", MATHJAX))
    return src


def build_book(executed: Path, out: Path, node_modules: Path, root: Path = ROOT) -> Path:
    """Write the book's source to ``out/src`` and build its HTML into ``out/html``.

    Sphinx warnings fail the build (a broken link or a missing page is an error, not a line
    in a log). Returns the path of the front page.
    """
    out = Path(out)
    src = write_source(out / "src", executed, node_modules, root)
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    # Jupyter Book 1.x has no `python -m jupyter_book`; its click command, in this interpreter
    cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build",
           str(src), "--path-output",
           str(out / "jb"), "--builder", "html", "-W", "--keep-going", "--all"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed ({' '.join(cmd)}):\n"
                           f"{run.stdout[-4000:]}\n{run.stderr[-4000:]}")
    shutil.copytree(out / "jb" / "_build" / "html", html)
    return html / "index.html"
