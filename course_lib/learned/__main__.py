"""Meta-train the LSTM optimizer and write its weights.

    python -m course_lib.learned train [--seed S] [--seconds 120] [--out FILE.npz]
    python -m course_lib.learned train --seed 0 --meta-steps 1500     # repeat a run exactly
    python -m course_lib.learned train --task mlp                     # the digits MLP
    python -m course_lib.learned ablation     # the meta-loss weights and the input, compared
    python -m course_lib.learned reliability  # one run of the recipe, from ten seeds
    python -m course_lib.learned truncation   # truncation's bias, checkpoint by checkpoint
    python -m course_lib.learned choose build/learned/r*.npz  # best run on tuning functions

Writes FILE.npz (the weights φ; default build/learned/quadratic_10d.npz, never over the
shipped weights in course_lib/learned/) and FILE.json (seed, command, CPU and wall time, the
number of meta-steps, the meta-loss curve, the checkpoints on the tuning set, the held-out
ratios against tuned Adam) and FILE.png (the meta-loss curve). Set OMP_NUM_THREADS=1 (and
OPENBLAS_NUM_THREADS=1) to measure single-core time; the run does it for numpy's BLAS itself.
"""
from __future__ import annotations

import argparse
import sys

from .report import train_and_save

#: where a run writes unless told: not over the shipped weights (copy a run you want to ship
#: to course_lib/learned/)
OUT_DIR = "build/learned"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.learned",
                                     description="Meta-train the LSTM optimizer "
                                                 "(Andrychowicz et al. 2016).")
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="meta-train on 10-D quadratics and save the weights")
    tr.add_argument("--seed", type=int, default=0, help="seed of the training stream (0)")
    tr.add_argument("--seconds", type=float, default=120.0,
                    help="budget of process CPU time in seconds (120)")
    tr.add_argument("--meta-steps", type=int, default=None,
                    help="take exactly this many meta-steps instead (repeats a recorded run)")
    tr.add_argument("--stop-at", type=int, default=None,
                    help="with --meta-steps N: stop after this many (repeats a run that its "
                         "time budget cut short; its record gives both)")
    tr.add_argument("--shortlist", type=int, default=None,
                    help="checkpoints measured again at the end on 4,000 tuning functions "
                         "(default 4; 0 keeps the best tuning score, as the shipped weights "
                         "were made)")
    tr.add_argument("--preprocess", action="store_true",
                    help="feed the LSTM (log|g|/p, sign g) instead of g (quadratics)")
    tr.add_argument("--task", choices=("quadratic", "mlp"), default="quadratic",
                    help="the optimizees: 10-D quadratics (default) or the digits MLP "
                         "(always preprocessed)")
    tr.add_argument("--out", default=None,
                    help=f"weights file (.npz; default {OUT_DIR}/quadratic_10d.npz, or "
                         f"{OUT_DIR}/mlp_digits.npz with --task mlp)")
    tr.add_argument("--test-functions", type=int, default=1000,
                    help="held-out functions per seed for the reported ratios (1000)")
    ab = sub.add_parser("ablation", help="compare the meta-loss weights and the LSTM's input "
                                          "at the same budget (course_lib/results/"
                                          "learned_ablation.json, about 40 minutes)")
    rl = sub.add_parser("reliability", help="the recipe from ten training seeds, with and "
                                            "without its second look at the checkpoints, on "
                                            "held-out sets (course_lib/results/learned_"
                                            "reliability.json, about 50 minutes)")
    for cmd, seeds in ((ab, "training seeds per variant (3)"), (rl, "training seeds, 0 … N−1 "
                                                                    "(10)")):
        cmd.add_argument("--meta-steps", type=int, default=1500,
                         help="meta-steps of every run (1500)")
        cmd.add_argument("--seeds", type=int, default=3 if cmd is ab else 10, help=seeds)
        cmd.add_argument("--out", default=None, help="where to write the record (.json)")
    tc = sub.add_parser("truncation", help="truncation's bias: every checkpoint's segment "
                                           "losses with the first segment weighted 1 and 0.3 "
                                           "(course_lib/results/learned_truncation.json, about "
                                           "5 minutes)")
    tc.add_argument("--meta-steps", type=int, default=1500, help="meta-steps of each run (1500)")
    tc.add_argument("--seed", type=int, default=0, help="training seed (0)")
    tc.add_argument("--out", default=None, help="where to write the record (.json)")
    ch = sub.add_parser("choose", help="of several finished runs, name the one that does best "
                                       "on 5,000 tuning functions (never held-out ones)")
    ch.add_argument("paths", nargs="+", help="the runs' .npz files (each with its .json)")
    args = parser.parse_args(argv)
    if args.command == "choose":
        from .report import choose
        result = choose(args.paths)
        for r in result["runs"]:
            print(f"{r['path']}: seed {r['seed']}, mean ratio {r['mean_ratio']:.3f}, median "
                  f"ratio {r['median_ratio']:.3f}, score {r['score']:+.3f}, both goals on "
                  f"{r['met_share']:.0%} of resampled sets (tuning functions)")
        print(f"chosen: {result['chosen']}")
        return 0
    if args.command in ("ablation", "reliability"):
        if args.meta_steps < 1 or args.seeds < 1:
            parser.error("--meta-steps and --seeds must be positive integers")
        from . import report
        getattr(report, args.command)(train_seeds=tuple(range(args.seeds)),
                                      meta_steps=args.meta_steps, out=args.out)
        return 0
    if args.command == "truncation":
        if args.meta_steps < 1 or args.seed < 0:
            parser.error("--meta-steps must be a positive integer and --seed at least 0")
        from .report import truncation
        truncation(seed=args.seed, meta_steps=args.meta_steps, out=args.out)
        return 0
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    if args.meta_steps is not None and args.meta_steps < 1:
        parser.error("--meta-steps must be a positive integer")
    if args.stop_at is not None and (args.meta_steps is None
                                     or not 1 <= args.stop_at <= args.meta_steps):
        parser.error("--stop-at K needs --meta-steps N with 1 ≤ K ≤ N")
    if args.out is not None and not args.out.endswith(".npz"):
        parser.error("--out must name an .npz file")
    if args.shortlist is not None and (args.shortlist < 0 or args.task == "mlp"):
        parser.error("--shortlist K must be at least 0, and is for the quadratics (the MLP's "
                     "record pins its own configuration)")
    command = "python -m course_lib.learned " + " ".join(argv if argv is not None
                                                         else sys.argv[1:])
    if args.task == "mlp":
        from .mlp import train_and_save as train_mlp
        train_mlp(seed=args.seed, seconds=args.seconds, meta_steps=args.meta_steps,
                  out=args.out or f"{OUT_DIR}/mlp_digits.npz", command=command,
                  stop_at=args.stop_at)
        return 0
    args.out = args.out or f"{OUT_DIR}/quadratic_10d.npz"
    train_and_save(seed=args.seed, seconds=args.seconds, meta_steps=args.meta_steps,
                   stop_at=args.stop_at,
                   preprocess=args.preprocess, out=args.out, command=command,
                   test_functions=args.test_functions,
                   **({} if args.shortlist is None else {"shortlist": args.shortlist}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
