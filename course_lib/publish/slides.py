"""reveal.js decks from executed notebooks, with the course's template (templates/course_reveal).

A deck is ``OUT/NN_<section>.slides.html`` next to ``OUT/_assets/`` (reveal.js, its notes
plugin and MathJax, copied from the npm packages pinned in web/package-lock.json). Nothing is
loaded from the network: copy OUT as a folder and the decks work on any laptop, from file:// or
from ``python -m http.server``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from .preprocess import flatten_subslides, static_widgets

__all__ = ["SLIDE_WIDTH", "SLIDE_HEIGHT", "ASSETS", "TEMPLATES", "copy_assets", "export_deck"]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720
ASSETS = "_assets"  # folder next to the decks, referenced relatively from each deck

#: what the decks load, relative to node_modules (licences travel with the code)
ASSET_FILES = ("reveal.js/LICENSE", "reveal.js/dist/reveal.js", "reveal.js/dist/reveal.css",
               "reveal.js/dist/theme/white.css", "reveal.js/dist/theme/fonts/source-sans-pro",
               "reveal.js/plugin/notes/notes.js", "mathjax/LICENSE",
               "mathjax/es5/tex-svg-full.js")


def copy_assets(node_modules: Path, dest: Path, files=ASSET_FILES) -> Path:
    """Copy the files the pages load from an npm ``node_modules`` folder into ``dest``."""
    node_modules = Path(node_modules)
    missing = [f for f in files if not (node_modules / f).exists()]
    if missing:
        raise FileNotFoundError(
            f"{node_modules} lacks {missing}: install the pinned packages first (make slides "
            "does: npm ci in build/web with course_lib/publish/web/package-lock.json).")
    for rel in files:
        src, dst = node_modules / rel, Path(dest) / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)
    return Path(dest)


def exporter():
    """nbconvert's SlidesExporter set up with the course template, 1280×720, no prompts."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    c = Config()
    c.SlidesExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.SlidesExporter.template_name = "course_reveal"
    c.SlidesExporter.reveal_url_prefix = f"{ASSETS}/reveal.js"
    c.SlidesExporter.reveal_theme = "white"
    c.SlidesExporter.reveal_transition = "slide"
    c.SlidesExporter.reveal_width = str(SLIDE_WIDTH)
    c.SlidesExporter.reveal_height = str(SLIDE_HEIGHT)
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    return SlidesExporter(config=c)


def export_deck(executed: Path, out_dir: Path, node_modules: Path | None = None) -> Path:
    """Write ``out_dir/<name>.slides.html`` from the executed notebook ``executed``; with
    ``node_modules``, also (re)copy the assets into ``out_dir/_assets``."""
    executed, out_dir = Path(executed), Path(out_dir)
    nb = nbformat.read(executed, as_version=4)
    static_widgets(nb)
    flatten_subslides(nb)
    body, _ = exporter().from_notebook_node(
        nb, resources={"metadata": {"name": executed.stem}, "course": {"assets": ASSETS}})
    out_dir.mkdir(parents=True, exist_ok=True)
    if node_modules is not None:
        copy_assets(node_modules, out_dir / ASSETS)
    out = out_dir / f"{executed.stem}.slides.html"
    out.write_text(body, encoding="utf-8")
    return out
