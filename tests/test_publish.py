"""Publishing without a browser: README's course map and the book's contents come from one list,
widgets become captions, subslides become slides, and a deck's HTML carries alt text and
references nothing on the network. (The decks and the book in a real browser:
test_slides.py and test_book.py.)"""
import base64
import io
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib.publish import course_map
from course_lib.publish.book import PARTS, book_sections, toc
from course_lib.publish.preprocess import (CAPTION_CLASS, WIDGET_STATE, WIDGET_VIEW,
                                           flatten_subslides, static_widgets)

ROOT = course_map.ROOT


def test_readme_course_map_is_generated_from_the_course_map(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert course_map.update_readme(readme) == readme, (
        "README.md's course map differs from course_lib/publish/course_map.py: run "
        "`make readme` (python -m course_lib.publish readme)")


def test_readme_course_map_links_a_lecture_once_it_exists(tmp_path):
    section = course_map.SECTIONS[2]
    (tmp_path / "notebooks").mkdir()
    assert f"`{section.path('notebooks')}` (coming)" in course_map.readme_table(tmp_path)
    (tmp_path / section.path("notebooks")).write_text("{}")
    table = course_map.readme_table(tmp_path)
    assert f"[`{section.path('notebooks')}`]({section.path('notebooks')})" in table
    assert f"`{section.path('exercises')}` (coming)" in table


def test_readme_without_the_markers_is_an_error_that_says_where_the_table_goes():
    with pytest.raises(ValueError, match="course map block"):
        course_map.update_readme("# README\n")


def test_book_contents_follow_the_course_map_with_instructors_apart():
    sections = book_sections()
    assert [s.stem for s in sections] == [s.stem for s in course_map.SECTIONS
                                          if s.exists("notebooks")]
    contents = toc(sections)
    assert [p["caption"] for p in contents["parts"]] == [c for _, c, _ in PARTS]
    lectures, _, instructors = contents["parts"]
    assert [c["file"] for c in lectures["chapters"]] == [f"notebooks/{s.stem}" for s in sections]
    assert instructors["chapters"][0] == {"file": "solutions/index"}
    assert all(c["file"].startswith("solutions/") for c in instructors["chapters"])


def _png() -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1))
    fig.subplots().plot([0, 1], [1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode()


def _widget_notebook():
    """A notebook as nbclient leaves a LiveFigure: an image, then a VBox of two sliders."""
    nb = new_notebook()
    image = new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"},
                       metadata={"image/png": {"alt": "A line falling from left to right."}})
    widget = new_output("display_data", data={
        WIDGET_VIEW: {"model_id": "box", "version_major": 2, "version_minor": 0},
        "text/plain": "VBox(children=(FloatLogSlider(value=0.05), IntSlider(value=20)))"})
    nb.cells = [new_markdown_cell("## Explore", metadata={"slideshow": {"slide_type": "slide"}}),
                new_code_cell("explorer()", outputs=[image, widget],
                              metadata={"slideshow": {"slide_type": "subslide"}})]
    nb.metadata["widgets"] = {WIDGET_STATE: {"version_major": 2, "version_minor": 0, "state": {
        "box": {"model_name": "VBoxModel", "state": {
            "children": ["IPY_MODEL_eta", "IPY_MODEL_steps", "IPY_MODEL_problem"]}},
        "eta": {"model_name": "FloatLogSliderModel", "state": {
            "description": "step size η", "value": 0.0501187, "readout_format": ".3g"}},
        "steps": {"model_name": "IntSliderModel", "state": {
            "description": "steps", "value": 20, "readout_format": "d"}},
        "problem": {"model_name": "DropdownModel", "state": {
            "description": "problem", "index": 1, "_options_labels": ["quadratic", "Beale"]}},
    }}}
    return nb


def test_a_widget_becomes_a_caption_naming_its_default_values():
    nb = _widget_notebook()
    assert static_widgets(nb) == 1
    image, caption = nb.cells[1].outputs
    assert "image/png" in image["data"]
    assert WIDGET_VIEW not in caption["data"] and "widgets" not in nb.metadata
    text = caption["data"]["text/plain"]
    assert text.startswith("Figure at the default values (step size η = 0.0501, steps = 20, "
                           "problem = Beale)")
    assert "VBox" not in caption["data"]["text/html"]
    assert f'class="{CAPTION_CLASS}"' in caption["data"]["text/html"]


def test_subslides_become_slides_so_left_and_right_visit_every_slide():
    nb = _widget_notebook()
    assert flatten_subslides(nb) == 1
    assert [c.metadata["slideshow"]["slide_type"] for c in nb.cells] == ["slide", "slide"]


def test_a_deck_carries_alt_text_shows_captions_and_references_nothing_on_the_network(
        tmp_path):
    from course_lib.publish.slides import export_deck

    path = tmp_path / "explore.ipynb"
    nbformat.write(_widget_notebook(), path)
    html = export_deck(path, tmp_path / "out").read_text(encoding="utf-8")
    assert 'alt="A line falling from left to right."' in html
    assert "No description has been provided" not in html
    assert "Figure at the default values" in html
    assert WIDGET_VIEW not in html and WIDGET_STATE not in html
    # every script, stylesheet and image the deck loads is a relative path or inline data
    loads = re.findall(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]*)"', html)
    assert loads, "the deck loads no scripts at all"
    remote = [u for u in loads if re.match(r"^(?:[a-z]+:)?//", u)]
    assert not remote, f"the deck loads from the network: {remote}"
    assert 'navigationMode: "linear"' in html and "width: 1280" in html and "height: 720" in html
