"""Measurements the course ships, so that a notebook shows a long run's result without redoing it.

Each file here is written by one documented command, named in the notebook that reads it and in
README.md, from a fixed seed; a notebook that plots a shipped file also runs a small version of
the same experiment live, so a student sees the code produce numbers of the same kind.

    from course_lib.results import path
    np.load(path("second_order_autoencoder.npz"))
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["DIR", "path"]

DIR = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """The shipped file ``name``; a clear error names the command that writes it when missing."""
    p = DIR / name
    if not p.exists():
        shipped = sorted(q.name for q in DIR.iterdir() if q.suffix != ".py" and q.is_file())
        raise FileNotFoundError(
            f"course_lib/results/{name} is not shipped (shipped: {', '.join(shipped) or 'none'}). "
            "The notebook that reads it names the command that regenerates it.")
    return p
