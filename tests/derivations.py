"""The lecture notebooks' derivation cells (tag "derivation"), run outside the notebook.

A notebook shows its derivation as SymPy steps and asserts the results against its theory
module (nbval runs those asserts). The tests run the same cells in one namespace, without the
notebook's experiments, and compare what they define with the library: the two stay equal
when only the library or only a derivation cell changes. Lectures 04-05 use it the same way.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import sympy as sp

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_derivation_cells(stem: str, at_least: int) -> dict:
    """The namespace left by notebooks/<stem>.ipynb's derivation cells, run in order
    (IPython magics dropped); fails if the notebook has fewer than ``at_least`` of them."""
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"
             and "derivation" in c.metadata.get("tags", [])]
    assert len(cells) >= at_least, (f"notebook {stem} lost derivation cells (tag: derivation): "
                                     f"{len(cells)} left, expected at least {at_least}")
    namespace: dict = {}
    for cell in cells:
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith("%"))
        exec(compile(source, f"<{stem}, derivation cell {cell.id}>", "exec"), namespace)
    return namespace


def same(a, b) -> bool:
    """Two SymPy expressions (or numbers) that simplify to the same thing."""
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0
