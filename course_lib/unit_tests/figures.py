"""Reading a results table (`harness.Table`) as the paper's figure does, and summaries of it.

The paper (Schaul, Antonoglou & Silver 2014, its figure of results) draws one row per unit test
and, per algorithm, one small square per hyperparameter setting, coloured by the setting's
class (`scoring.CLASSES`). That is readable for a few dozen tests, not for thousands:

    settings_grid(ax, table, cases)    the paper's layout for a few cases (every setting)
    best_classes(table)                the best class any setting of each optimizer reaches
                                       on each case (what a tuned optimizer achieves)
    group(case)                        the kind of difficulty a case belongs to (its noise in
                                       one dimension, its drift, its dimension, rotation, curl)
    class_mosaic(ax, fractions, ...)   per group × optimizer, the shares of the classes as
                                       one stacked bar: the whole catalogue in one figure
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from . import scoring
from .catalogue import case as case_named

__all__ = ["RANK", "best_classes", "group", "GROUPS", "class_fractions", "class_mosaic",
           "settings_grid", "short_name", "SHORT"]

#: the order in which classes count as better: "much better" first, "unscored" last
RANK = {c: i for i, c in enumerate(scoring.CLASSES)}

#: the groups of `group`, in the order the summary figure lists them
GROUPS = ("1-D noiseless", "1-D additive σ ≤ 0.1", "1-D additive σ = 10", "1-D multiplicative",
          "1-D Cauchy", "1-D mask-out", "1-D slope drift", "1-D noise drift",
          "1-D offset drift", "2-D", "2-D rotated", "2-D curled", "10-D", "10-D rotated/curled")


def group(case) -> str:
    """The kind of difficulty of a case (a `Case` or its name), one of `GROUPS`: in one
    dimension the drift if it has one, else its noise; in several the dimension, and
    whether it is rotated or curled (curled wins)."""
    c = case_named(case) if isinstance(case, str) else case
    if c.dim == 1:
        drift = c.nonstationarity.name
        if drift != "stationary":
            return {"scale_drift": "1-D slope drift", "noise_drift": "1-D noise drift",
                    "offset_drift": "1-D offset drift"}[drift]
        n = c.noises[0]
        if n.kind == "gauss_add":
            return "1-D additive σ ≤ 0.1" if n.level <= 0.1 else "1-D additive σ = 10"
        return {"noiseless": "1-D noiseless", "gauss_mul": "1-D multiplicative",
                "cauchy": "1-D Cauchy", "mask": "1-D mask-out"}[n.kind]
    if c.dim == 2:
        return "2-D curled" if c.curled else ("2-D rotated" if c.rotated else "2-D")
    return "10-D rotated/curled" if (c.rotated or c.curled) else "10-D"


def best_classes(table, optimizers: Sequence[str] | None = None):
    """(cases, optimizers, classes): ``classes[i, j]`` is the best class (`RANK`) any setting
    of optimizer j reaches on case i, as an index into `scoring.CLASSES`. Cases in the order
    they first appear in the table."""
    cases = list(dict.fromkeys(table["case"].tolist()))
    if optimizers is None:
        optimizers = list(dict.fromkeys(table["optimizer"].tolist()))
    case_index = {c: i for i, c in enumerate(cases)}
    opt_index = {o: j for j, o in enumerate(optimizers)}
    keep = np.isin(table["optimizer"], list(optimizers))
    rows = np.fromiter((case_index[c] for c in table["case"][keep]), dtype=np.intp)
    cols = np.fromiter((opt_index[o] for o in table["optimizer"][keep]), dtype=np.intp)
    ranks = np.fromiter((RANK[k] for k in table["class"][keep]), dtype=np.intp)
    best = np.full((len(cases), len(optimizers)), len(RANK), dtype=np.intp)
    np.minimum.at(best, (rows, cols), ranks)
    missing = best == len(RANK)
    if missing.any():
        i, j = np.argwhere(missing)[0]
        raise ValueError(f"best_classes: optimizer {optimizers[j]!r} has no row for case "
                         f"{cases[i]!r}; was it run on every case?")
    return cases, list(optimizers), best


def class_fractions(best, labels, order=None):
    """(groups, counts, fractions): for every group label (in ``order``, default first
    appearance) the number of cases and, per optimizer, the share of its cases in each class:
    ``fractions`` has shape (groups, optimizers, classes)."""
    labels = np.asarray(labels, dtype=object)
    groups = [g for g in (order or dict.fromkeys(labels.tolist())) if np.any(labels == g)]
    n_classes = len(scoring.CLASSES)
    counts = np.array([np.count_nonzero(labels == g) for g in groups])
    fractions = np.stack([
        np.stack([np.bincount(best[labels == g, j], minlength=n_classes) / n
                  for j in range(best.shape[1])])
        for g, n in zip(groups, counts)])
    return groups, counts, fractions


def class_mosaic(ax, fractions, rows: Sequence[str], columns: Sequence[str]):
    """One stacked bar per (row, column) cell: the shares of the classes, much better (blue)
    on the left, then comparable, sometimes better, worse, diverged, unscored."""
    n_rows, n_cols, _ = fractions.shape
    for i in range(n_rows):
        for j in range(n_cols):
            left = j + 0.05
            for k, cls in enumerate(scoring.CLASSES):
                width = 0.9 * fractions[i, j, k]
                if width > 0:
                    ax.barh(i, width, left=left, height=0.8, color=scoring.COLOURS[cls],
                            edgecolor="none")
                    left += width
    ax.set_xlim(0, n_cols)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xticks(np.arange(n_cols) + 0.5, columns)
    ax.xaxis.tick_top()
    ax.set_yticks(np.arange(n_rows), rows)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)


#: the abbreviations of `short_name`
SHORT = {"quad_bowl": "bowl", "quad_convex": "qcvx", "exponential": "exp",
          "gauss_bowl": "gbowl", "gauss_convex": "gcvx", "gauss_nonconvex": "gncvx",
          "laplace_bowl": "lbowl", "laplace_convex": "lcvx", "laplace_nonconvex": "lncvx",
          "gauss_add_": "add", "gauss_mul_": "mul", "noiseless": "exact", "_drift": "",
          "rotated": "rot", "curled": "curl"}


def short_name(name: str) -> str:
    """A case's name with its longest words abbreviated, for axis labels (quad_bowl → bowl,
    gauss_nonconvex → gncvx, gauss_add_0.1 → add0.1, noiseless → exact, …)."""
    for long, short in SHORT.items():
        name = name.replace(long, short)
    return name


def settings_grid(ax, table, cases: Sequence[str], optimizers: Sequence[str] | None = None):
    """The paper's layout: a row per case, per optimizer a block with one cell per setting
    (in the grid's order), coloured by the setting's class. Returns the optimizers drawn."""
    from matplotlib.colors import ListedColormap

    if optimizers is None:
        optimizers = list(dict.fromkeys(table["optimizer"].tolist()))
    blocks, x = [], 0
    for o in optimizers:
        rows = table.select(optimizer=o)
        settings = list(dict.fromkeys(rows["setting"].tolist()))
        blocks.append((o, x, settings, rows))
        x += len(settings) + 3                          # a gap of 3 cells between optimizers
    image = np.full((len(cases), x - 3), np.nan)
    for o, start, settings, rows in blocks:
        where = {(c, s): k for c, s, k in zip(rows["case"], rows["setting"], rows["class"])}
        for i, c in enumerate(cases):
            for j, s in enumerate(settings):
                image[i, start + j] = RANK[where[c, s]]
    cmap = ListedColormap([scoring.COLOURS[c] for c in scoring.CLASSES]).with_extremes(
        bad="white")
    ax.imshow(np.ma.masked_invalid(image), cmap=cmap, vmin=-0.5, vmax=len(RANK) - 0.5,
              aspect="auto", interpolation="nearest")
    ax.set_xticks([start + (len(s) - 1) / 2 for _, start, s, _ in blocks],
                  [f"{o}\n({len(s)})" for o, _, s, _ in blocks])
    ax.xaxis.tick_top()
    ax.set_yticks(np.arange(len(cases)), [short_name(c) for c in cases])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return list(optimizers)
