"""Publishing the course: reveal.js decks for lecturers, the course book, README's course map.

- `course_map`: the one list of sections; README's table and the book's contents come from it.
- `execute`: a notebook run top to bottom, saved with its outputs (what decks and book show).
- `preprocess`: widgets become their static figure plus a caption; subslides become slides.
- `slides`: the decks (nbconvert with templates/course_reveal), offline, 1280×720.
- `book`: the book (Jupyter Book 1.x), offline.

The command line is ``python -m course_lib.publish {execute,slides,book,readme}``; the Makefile's
``make slides`` and ``make book`` call it.
"""
