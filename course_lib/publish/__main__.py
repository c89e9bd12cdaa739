"""python -m course_lib.publish: execute notebooks, write decks and the book, sync README.

    python -m course_lib.publish execute notebooks/01_x.ipynb build/executed/notebooks/01_x.ipynb
    python -m course_lib.publish slides build/executed/notebooks/01_x.ipynb --out build/slides \\
        --node-modules build/web/node_modules
    python -m course_lib.publish book --executed build/executed --out build/book \\
        --node-modules build/web/node_modules
    python -m course_lib.publish readme [--check]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m course_lib.publish", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    ex = sub.add_parser("execute", help="run a notebook and save it with its outputs")
    ex.add_argument("source", type=Path)
    ex.add_argument("target", type=Path)
    ex.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")

    sl = sub.add_parser("slides", help="reveal.js decks from executed notebooks")
    sl.add_argument("executed", type=Path, nargs="+")
    sl.add_argument("--out", type=Path, required=True)
    sl.add_argument("--node-modules", type=Path, required=True,
                    help="npm folder with reveal.js and MathJax (see web/package.json)")

    bk = sub.add_parser("book", help="the course book (Jupyter Book 1.x)")
    bk.add_argument("--executed", type=Path, required=True,
                    help="folder with executed notebooks/ and solutions/")
    bk.add_argument("--out", type=Path, required=True)
    bk.add_argument("--node-modules", type=Path, required=True)

    rd = sub.add_parser("readme", help="regenerate README.md's course map")
    rd.add_argument("--check", action="store_true",
                    help="only check: exit 1 when README.md's course map is stale")
    rd.add_argument("--readme", type=Path, default=None)

    args = ap.parse_args(argv)
    if args.command == "execute":
        from .execute import execute_notebook
        print(f"executing {args.source} -> {args.target}", flush=True)
        execute_notebook(args.source, args.target, timeout=args.timeout)
    elif args.command == "slides":
        from .slides import export_deck
        for i, nb in enumerate(args.executed):
            # the assets are copied once per run, not once per deck
            out = export_deck(nb, args.out, args.node_modules if i == 0 else None)
            print(f"wrote {out}")
    elif args.command == "book":
        from .book import build_book
        print(f"wrote {build_book(args.executed, args.out, args.node_modules)}")
    elif args.command == "readme":
        from .course_map import ROOT, update_readme
        path = args.readme or ROOT / "README.md"
        text = path.read_text(encoding="utf-8")
        new = update_readme(text)
        if args.check:
            if new != text:
                print(f"{path}: the course map is stale; run python -m course_lib.publish "
                      "readme", file=sys.stderr)
                return 1
            return 0
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"updated the course map in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
