"""Run a notebook top to bottom in a fresh kernel and save it with its outputs: the executed
copies under build/executed/ are what the slides and the book are made from (the notebooks
themselves are committed without outputs).

Figures go through the inline backend, as in JupyterLab, so that every figure is an image
output; the widgets' state is saved with the notebook (their controls' default values end up
in the slides' and the book's captions).
"""
from __future__ import annotations

import os
from pathlib import Path

import nbformat

__all__ = ["execute_notebook", "INLINE_BACKEND"]

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def execute_notebook(src: Path, dst: Path, timeout: int = 600) -> Path:
    """Execute ``src`` (working directory: its folder) and write the result to ``dst``.

    A cell that raises stops the run with nbclient's CellExecutionError, which names the cell
    and shows the traceback: a deck or a book page is never made from a broken notebook.
    """
    from nbclient import NotebookClient

    src, dst = Path(src), Path(dst)
    nb = nbformat.read(src, as_version=4)
    # The kernel inherits this process's environment; tests and benchmarks set Agg, which
    # would leave figures out of the outputs.
    previous = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    try:
        NotebookClient(nb, timeout=timeout, store_widget_state=True,
                       resources={"metadata": {"path": str(src.parent.resolve())}}).execute()
    finally:
        if previous is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = previous
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".ipynb.part")
    nbformat.write(nb, tmp)
    tmp.replace(dst)  # a run that was interrupted never leaves a half-written notebook behind
    return dst
