"""Run the unit tests for stochastic optimization from the command line.

    python -m course_lib.unit_tests --quick                     # a few dozen cases, seconds
    python -m course_lib.unit_tests --full --out FILE.csv.gz    # the whole catalogue
    python -m course_lib.unit_tests --cases 'quad_bowl-*' --optimizers SGD Adam
    python -m course_lib.unit_tests --full --scheduler tcp://HOST:8786 --out FILE.csv.gz
    python -m course_lib.unit_tests --count                     # the catalogue's size

Writes the scored table (one row per case, optimizer and setting; gzip when FILE ends in .gz)
and prints how many settings of each optimizer fall in each class. The same seed gives the same
table whether it runs here, in N processes or on a dask cluster.
"""
from __future__ import annotations

import argparse
import sys
import time

from . import catalogue, harness, scoring


def _parser():
    ap = argparse.ArgumentParser(prog="python -m course_lib.unit_tests", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--full", action="store_true", help="every case of the catalogue")
    which.add_argument("--quick", action="store_true",
                       help="the quick subset (the default when no cases are chosen)")
    which.add_argument("--cases", nargs="+", metavar="PATTERN",
                       help="the cases whose names match these shell-style patterns")
    which.add_argument("--count", action="store_true",
                       help="print the catalogue's size against the paper's and exit")
    ap.add_argument("--optimizers", nargs="+", metavar="NAME",
                    help=f"run only these grids (default all: "
                         f"{', '.join(g.name for g in harness.GRIDS)}); the reference "
                         f"{harness.REFERENCE!r} is always run")
    ap.add_argument("--out", help="write the scored table here (.csv or .csv.gz)")
    ap.add_argument("--processes", type=int, default=None,
                    help="worker processes (default: one per core; 1 runs in this process)")
    ap.add_argument("--scheduler", metavar="ADDRESS",
                    help="run on a dask.distributed scheduler instead (needs the cluster "
                         "extra: pip install -e '.[cluster]')")
    ap.add_argument("--seed", type=int, default=0, help="the seed of every random stream")
    ap.add_argument("--repetitions", type=int, default=harness.REPETITIONS)
    ap.add_argument("--steps", type=int, default=harness.STEPS)
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    return ap


def _grids(names):
    if not names:
        return harness.GRIDS
    known = {g.name.lower(): g for g in harness.GRIDS}
    unknown = [n for n in names if n.lower() not in known]
    if unknown:
        raise ValueError(f"unknown optimizer(s) {unknown}; choose from "
                         f"{[g.name for g in harness.GRIDS]}.")
    chosen = {n.lower() for n in names} | {harness.REFERENCE.lower()}
    return tuple(g for g in harness.GRIDS if g.name.lower() in chosen)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.count:
        diff = catalogue.paper_differences()
        print(f"{diff['catalogue']} cases: the paper's code expands to {diff['paper']} names, "
              f"{diff['duplicates_left_out']} of them duplicates left out here, and misses "
              f"{diff['dropped_by_its_parser_added']} tests its table meant, listed here.")
        return 0
    try:
        if args.full:
            cases = catalogue.full()
        elif args.cases:
            cases = catalogue.select(args.cases)
        else:
            cases = catalogue.quick()
        grids = _grids(args.optimizers)
        started = time.perf_counter()
        results = harness.evaluate(cases, grids, repetitions=args.repetitions,
                                   steps=args.steps, seed=args.seed,
                                   processes=args.processes, scheduler=args.scheduler,
                                   progress=not args.no_progress)
    except (ValueError, TypeError, ImportError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    table = results.table()
    runs = sum(len(g.settings) for g in grids) * len(cases) * args.repetitions
    print(f"{len(cases)} cases × {len(grids)} optimizers ({runs:,} runs of {args.steps} steps) "
          f"in {elapsed:.1f} s")
    width = max(len(g.name) for g in grids)
    print(" " * width + "  " + "  ".join(f"{c:>16s}" for c in scoring.CLASSES))
    for name, counts in table.counts().items():
        print(f"{name:>{width}s}  " + "  ".join(f"{counts[c]:16d}" for c in scoring.CLASSES))
    if args.out:
        path = table.write_csv(args.out)
        print(f"wrote {len(table):,} rows to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
