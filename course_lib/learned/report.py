"""The quadratic experiment of Andrychowicz et al. (2016, §3.1, Fig. 2 left), measured: the
learned optimizer against SGD, Nesterov, RMSprop and Adam, each with its learning rate tuned
on the training family, on held-out functions, and the run that makes the shipped weights.

Held-out sets are 1,000 functions each (`quadratics.sample(1000, seed, split="test")`): with
100 a few nearly singular W rule the mean. The ratios compare final losses f(θ₁₀₀), mean
and median over the functions, learned over tuned Adam (the best baseline on this family).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from . import baselines as B
from . import meta
from . import quadratics as Q
from .optimizer import LearnedOptimizer, save

__all__ = ["TEST_SEEDS", "MORE_TEST_SEEDS", "BASELINE_SEED", "DEFAULT_OUT", "tuned_baselines",
           "final_losses", "ratios", "train_and_save", "extend_record", "ABLATION",
           "ABLATION_FILE", "ablation", "RELIABILITY", "RELIABILITY_FILE", "reliability",
           "segment_losses", "TRUNCATION_FILE", "truncation", "CHOOSE_STREAM",
           "CHOOSE_FUNCTIONS", "choice_score", "choose"]

#: the held-out test sets the notebook and the tests report (1,000 functions each)
TEST_SEEDS = (0, 1, 2, 3, 4)
#: more held-out sets, so that no conclusion rests on a lucky five
MORE_TEST_SEEDS = tuple(range(25))
#: the "train"-split functions on which the baselines' learning rates are tuned
BASELINE_SEED, BASELINE_FUNCTIONS = B.BASELINE_SEED, B.BASELINE_FUNCTIONS
DEFAULT_OUT = str(Path(__file__).with_name("quadratic_10d.npz"))


def tuned_baselines(names=B.NAMES) -> dict:
    """{name: learning rate} tuned on 1,000 training functions (mean of f(θ₁₀₀))."""
    return B.tuned(names)


def final_losses(opt, q: Q.Quadratics, steps: int = Q.STEPS) -> np.ndarray:
    """f(θ_T) of every function of ``q`` under the learned optimizer ``opt``."""
    return meta.evaluate(opt.params, q, q.theta0, steps, use_preprocess=opt.preprocessed)


def ratios(opt, seed: int, adam_eta: float, n: int = 1000, steps: int = Q.STEPS) -> dict:
    """Mean and median of f(θ_T) on held-out set ``seed``: learned over tuned Adam."""
    q = Q.sample(n, seed, split="test")
    learned = final_losses(opt, q, steps)
    adam = B.final_losses("Adam", adam_eta, q, steps, record_every=steps)[-1]
    return {"seed": int(seed), "functions": int(n),
            "mean_ratio": float(np.mean(learned) / np.mean(adam)),
            "median_ratio": float(np.median(learned) / np.median(adam)),
            "learned_mean": float(np.mean(learned)),
            "learned_median": float(np.median(learned)),
            "adam_mean": float(np.mean(adam)), "adam_median": float(np.median(adam))}


def _plot_curve(result, path):
    import matplotlib
    matplotlib.use("Agg")
    from .. import plots

    fig, ax = plots.new_figure(width=8.0, height=3.6)
    k = np.arange(1, len(result.losses) + 1)
    ax.plot(k, result.losses, color="0.7", lw=0.6, label="meta-loss of each meta-step")
    w = 25
    if len(result.losses) > w:
        smooth = np.convolve(result.losses, np.ones(w) / w, mode="valid")
        ax.plot(k[w - 1:], smooth, color="tab:red", lw=1.5, label=f"mean of {w}")
    ax.set(yscale="log", xlabel="meta-step (one segment of 20 optimizee steps)",
           ylabel="mean f over the segment", title="meta-training")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=90)


def _clipped_by_segment(result) -> list:
    """The share of meta-steps whose meta-gradient was above the clip, for each segment of
    the trajectory (1 … steps/unroll)."""
    segments = result.config.steps // result.config.unroll
    over = np.asarray(result.grad_norms) > result.config.clip
    position = np.arange(over.size) % segments
    return [round(float(np.mean(over[position == k])), 4) if np.any(position == k) else None
            for k in range(segments)]


def train_and_save(seed: int = 0, seconds: float = 120.0, meta_steps=None,
                   preprocess: bool = False, out=None, command: str = "",
                   test_functions: int = 1000, stop_at=None,
                   shortlist: int = meta.Config.shortlist) -> dict:
    """Meta-train (`meta.train`, the recipe `meta.Config()` with ``preprocess`` and
    ``shortlist``), then measure on the held-out sets and write the weights, the record
    (.json) and the meta-loss curve (.png). Returns the record."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from threadpoolctl import threadpool_limits

    out = Path(out or DEFAULT_OUT)
    with threadpool_limits(limits=1):
        result = meta.train(seed, config=meta.Config(preprocess=preprocess,
                                                     shortlist=shortlist),
                            meta_steps=meta_steps, seconds=None if meta_steps else seconds,
                            stop_at=stop_at)
        t0 = time.process_time()
        etas = tuned_baselines()
        opt = LearnedOptimizer(result.params)
        held_out = [ratios(opt, s, etas["Adam"], test_functions) for s in TEST_SEEDS]
        measure_cpu = time.process_time() - t0
    info = {
        "paper": "Andrychowicz et al. 2016, Learning to learn by gradient descent by gradient "
                 "descent",
        "command": command or f"python -m course_lib.learned train --seed {seed}",
        # the shortlist always named: a later change of its default must not change the run
        "repeat_exactly": f"python -m course_lib.learned train --seed {seed} "
                          f"{result.repeat_args()} --shortlist {shortlist}"
                          + (" --preprocess" if preprocess else ""),
        "seed": int(seed), "preprocess": bool(preprocess),
        "config": {k: getattr(result.config, k) for k in result.config.__dataclass_fields__},
        "meta_steps": int(result.meta_steps), "planned_steps": int(result.planned_steps),
        "best_step": int(result.best_step),
        "train_cpu_seconds": round(result.cpu_seconds, 2),
        "train_wall_seconds": round(result.wall_seconds, 2),
        "threads": 1,
        "meta_loss": [round(float(v), 5) for v in result.losses],
        "trajectory_final_loss": [round(float(v), 5) for v in result.trajectory_losses],
        "clipped_share_by_segment": _clipped_by_segment(result),
        "checkpoints": [{"meta_step": c[0], "tune_mean": c[1], "tune_median": c[2],
                         "score": c[3]} for c in result.checkpoints],
        "final_choice": [{"meta_step": k, "score": sc, "met_share": share,
                          "goal_distance": dist} for k, sc, share, dist in result.choice],
        "baseline_learning_rates": etas,
        "held_out": held_out,
        "measure_cpu_seconds": round(measure_cpu, 2),
    }
    save(result.params, out, info)
    _plot_curve(result, out.with_suffix(".png"))
    print(f"wrote {out} ({result.meta_steps} meta-steps, {result.cpu_seconds:.1f} s CPU, "
          f"{result.wall_seconds:.1f} s wall; checkpoint of meta-step {result.best_step})")
    for r in held_out:
        print(f"held-out seed {r['seed']}: mean ratio {r['mean_ratio']:.3f}, median ratio "
              f"{r['median_ratio']:.3f} (learned / tuned Adam, {r['functions']} functions)")
    return info


def extend_record(path=DEFAULT_OUT, seeds=MORE_TEST_SEEDS,
                  key: str = "held_out_more") -> dict:
    """Measure the weights at ``path`` on the held-out sets ``seeds`` (1,000 functions each,
    against the Adam of their record) and add the results to their record under ``key``
    (default ``held_out_more``). Returns the record.

        python -c "from course_lib.learned import report; report.extend_record()"
    """
    import json

    from threadpoolctl import threadpool_limits

    from .optimizer import load

    path = Path(path)
    opt = load(path)
    eta = opt.info["baseline_learning_rates"]["Adam"]
    with threadpool_limits(limits=1):
        more = [ratios(opt, s, eta) for s in seeds]
    info = dict(opt.info)
    info[key] = more
    path.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n")
    return info


#: what the meta-loss weights and the LSTM's input do, at the same number of meta-steps:
#: (label, the settings that differ from `meta.Config()`), each checkpoint the best tuning
#: score (shortlist=0, as the shipped weights were made) but the last row's
ABLATION = (
    ("the paper's meta-loss (wₜ = 1), preprocessed gradients", dict(relative=False,
                                                                    preprocess=True,
                                                                    shortlist=0)),
    ("the paper's meta-loss (wₜ = 1), raw gradients", dict(relative=False, shortlist=0)),
    ("relative segments, preprocessed gradients", dict(preprocess=True, shortlist=0)),
    ("relative segments, raw gradients (shipped)", dict(shortlist=0)),
    ("… and the first segment's meta-gradient × 0.3", dict(first_weight=0.3, shortlist=0)),
    ("… and the 4 best checkpoints measured again on 4,000 functions",
     dict(first_weight=0.3, shortlist=4)),
)
ABLATION_FILE = "learned_ablation.json"


def ablation(train_seeds=(0, 1, 2), test_seeds=tuple(range(10)), meta_steps: int = 1500,
             out=None, progress: bool = True) -> dict:
    """Meta-train every variant of `ABLATION` from each of ``train_seeds`` for ``meta_steps``
    meta-steps (one BLAS thread), and measure each chosen checkpoint on the held-out sets
    ``test_seeds`` (1,000 functions each) against Adam with its tuned learning rate. Writes
    ``out`` (default course_lib/results/learned_ablation.json) and returns the record.
    A row already in ``out`` with the same whole configuration, seed, meta-steps, held-out
    sets and Adam is kept, not trained again (a run repeats bit for bit): adding a variant
    costs only its own runs.

        python -m course_lib.learned ablation          # about 40 minutes on one core
    """
    from ..results import DIR

    out = Path(out) if out is not None else DIR / ABLATION_FILE
    return _measured_runs(ABLATION, train_seeds, test_seeds, meta_steps, out, _records((out,)),
                          "python -m course_lib.learned ablation", progress)


#: what one run of the recipe is worth, from many seeds: as the shipped weights were made
#: (the best tuning score kept), and the recipe now, its 4 best checkpoints measured again on
#: 4,000 functions (the same training run: the shortlist changes only which one is kept)
RELIABILITY = (
    ("the best tuning score kept (the shipped weights' recipe)", dict(shortlist=0)),
    ("the 4 best measured again on 4,000 functions (the recipe now)", dict(shortlist=4)),
)
RELIABILITY_FILE = "learned_reliability.json"


def reliability(train_seeds=tuple(range(10)), test_seeds=tuple(range(10)),
                meta_steps: int = 1500, out=None, reuse=(), progress: bool = True,
                confirm_seeds=tuple(range(25, 125))) -> dict:
    """How much one run of the recipe is worth: each variant of `RELIABILITY` meta-trained
    from each of ``train_seeds`` for ``meta_steps`` meta-steps, each chosen checkpoint
    measured on the held-out sets ``test_seeds`` against tuned Adam, as in `ablation` (whose
    rows of the shipped weights' recipe are reused, like rows already in ``out`` or in the
    records ``reuse``). Writes ``out`` (default course_lib/results/learned_reliability.json).

    The two variants differ only in the checkpoint they keep from the same run. Where they
    differ, the run is trained once more and both checkpoints are measured on the held-out
    sets ``confirm_seeds`` as well (the record's "confirmation"): sets that played no part
    in making the second look the default.

        python -m course_lib.learned reliability       # about 50 minutes on one core
    """
    import json

    from threadpoolctl import threadpool_limits

    from ..results import DIR

    out = Path(out) if out is not None else DIR / RELIABILITY_FILE
    old = _records((out, DIR / ABLATION_FILE, *reuse))    # read before out is written
    record = _measured_runs(RELIABILITY, train_seeds, test_seeds, meta_steps, out, old,
                            "python -m course_lib.learned reliability", progress)
    (before, _), (now, settings) = RELIABILITY
    best = {(r["variant"], r["train_seed"]): r["best_step"] for r in record["rows"]}
    kept = {(c["train_seed"], c["checkpoints"][before], c["checkpoints"][now]): c
            for o in old if "confirmation" in o
            and (o["meta_steps"], o["adam_eta"], o["confirmation"]["test_seeds"])
            == (meta_steps, record["adam_eta"], list(confirm_seeds))
            for c in o["confirmation"]["runs"]}
    runs = []
    with threadpool_limits(limits=1):
        for seed in train_seeds:
            steps = {before: best[(before, seed)], now: best[(now, seed)]}
            if steps[before] == steps[now]:
                continue
            run_ = kept.get((int(seed), steps[before], steps[now]))
            if run_ is None:
                config = meta.Config(**settings)
                task = _Watched(config, seed)
                result = meta.train(seed, config=config, meta_steps=meta_steps, seconds=None,
                                    progress=False, task=task)
                if result.best_step != steps[now]:
                    raise RuntimeError(f"reliability: seed {seed} kept meta-step "
                                       f"{result.best_step} when trained again, not "
                                       f"{steps[now]}: the run did not repeat.")
                phi = {step: p for (step, *_), p in zip(result.checkpoints, task.seen)}
                run_ = {"train_seed": int(seed), "checkpoints": steps,
                        "mean_ratio": {}, "median_ratio": {}}
                for label, step in steps.items():
                    held = [ratios(LearnedOptimizer(phi[step]), s, record["adam_eta"])
                            for s in confirm_seeds]
                    run_["mean_ratio"][label] = [round(r["mean_ratio"], 4) for r in held]
                    run_["median_ratio"][label] = [round(r["median_ratio"], 4) for r in held]
                if progress:
                    print(f"confirmation, seed {seed}: done", flush=True)
            runs.append(run_)
    record["confirmation"] = {"test_seeds": list(confirm_seeds), "runs": runs}
    out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return record


class _Watched(meta.QuadraticTask):
    """The quadratics, and every checkpoint's φ kept (in ``seen``, in the order of the run's
    checkpoints): the run itself is the same as with `meta.QuadraticTask`."""

    def __init__(self, *args):
        super().__init__(*args)
        self.seen = []

    def tune_finals(self, params):
        self.seen.append(params)
        return super().tune_finals(params)


def _records(paths) -> list:
    """The records (.json) of ``paths`` that exist, read."""
    import json

    return [json.loads(Path(p).read_text()) for p in paths if Path(p).exists()]


def _measured_runs(variants, train_seeds, test_seeds, meta_steps, out, old, command,
                   progress) -> dict:
    """Each (label, settings) of ``variants`` meta-trained from each of ``train_seeds`` and
    its chosen checkpoint measured on ``test_seeds``; a row of a record in ``old`` with
    the same whole configuration, seed, meta-steps, held-out sets and Adam is kept instead.
    The record is written to ``out`` and returned."""
    import dataclasses
    import json

    from threadpoolctl import threadpool_limits

    rows, done = [], {}
    with threadpool_limits(limits=1):
        eta = tuned_baselines(names=("Adam",))["Adam"]
        for prior in old:
            if (prior.get("meta_steps"), prior.get("test_seeds"), prior.get("adam_eta")) \
                    == (meta_steps, list(test_seeds), eta):
                done.update({(json.dumps(r["config"], sort_keys=True), r["train_seed"]): r
                             for r in prior["rows"] if "config" in r})
        for label, settings in variants:
            config = meta.Config(**settings)
            whole = dataclasses.asdict(config)
            for seed in train_seeds:
                kept = done.get((json.dumps(whole, sort_keys=True), int(seed)))
                if kept is not None:
                    rows.append(dict(kept, variant=label, settings=settings))
                    continue
                result = meta.train(seed, config=config, meta_steps=meta_steps, seconds=None,
                                    progress=False)
                opt = LearnedOptimizer(result.params)
                held = [ratios(opt, s, eta) for s in test_seeds]
                rows.append({"variant": label, "settings": settings, "config": whole,
                             "train_seed": int(seed), "best_step": int(result.best_step),
                             "cpu_seconds": round(result.cpu_seconds, 1),
                             "mean_ratio": [round(r["mean_ratio"], 4) for r in held],
                             "median_ratio": [round(r["median_ratio"], 4) for r in held]})
                if progress:
                    print(f"{label}, seed {seed}: mean ratio "
                          f"{np.mean(rows[-1]['mean_ratio']):.3f}, median ratio "
                          f"{np.mean(rows[-1]['median_ratio']):.3f}", flush=True)
    record = {"command": command,
              "meta_steps": int(meta_steps), "config": {
                  k: getattr(meta.Config(), k) for k in meta.Config.__dataclass_fields__},
              "adam_eta": eta, "test_seeds": list(test_seeds),
              "test_functions": 1000, "rows": rows}
    out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return record


def segment_losses(params, q: Q.Quadratics, config: meta.Config = meta.Config()) -> tuple:
    """One whole trajectory of the LSTM on the functions ``q`` (plain numpy): (each segment's
    meta-loss, the final losses f(θ_T)). A segment's meta-loss is the sum of its
    ``config.unroll`` mean losses over the mean loss where it starts — what meta-training
    with ``relative=True`` minimises segment by segment, here of an untruncated trajectory."""
    from .lstm import zero_state

    theta, state = q.theta0, zero_state(q.theta0.shape)
    out = []
    for _ in range(config.steps // config.unroll):
        start = float(np.mean(q.f(theta)))
        total, theta, state = meta.unroll(params, q, theta, state, config.unroll,
                                          use_preprocess=config.preprocess)
        out.append(float(total) / start)
    return out, np.asarray(q.f(theta))


TRUNCATION_FILE = "learned_truncation.json"


def truncation(seed: int = 0, weights=(1.0, 0.3), meta_steps: int = 1500,
               functions: int = 1000, out=None) -> dict:
    """Truncation's bias, measured: meta-train from ``seed`` with each first-segment weight of
    ``weights`` (the rest of `meta.Config()`, the checkpoint of the lowest score) and, at every
    checkpoint, measure `segment_losses` and the final losses' mean and median on
    ``functions`` "tune" functions of stream seed + 3 (no run's tuning, yardstick or choice
    set). Writes ``out`` (default course_lib/results/learned_truncation.json).

        python -m course_lib.learned truncation        # about 5 minutes on one core
    """
    import json

    from threadpoolctl import threadpool_limits

    from ..results import DIR

    q = Q.sample(functions, seed + 3, split="tune")
    runs = []

    with threadpool_limits(limits=1):
        for w in weights:
            config = meta.Config(first_weight=w, shortlist=0)
            task = _Watched(config, seed)
            result = meta.train(seed, config=config, meta_steps=meta_steps, seconds=None,
                                progress=False, task=task)
            rows = []
            for (step, *_), params in zip(result.checkpoints, task.seen):
                segments, finals = segment_losses(params, q, config)
                rows.append({"meta_step": int(step), "segments": [round(v, 5) for v in segments],
                             "final_mean": float(np.mean(finals)),
                             "final_median": float(np.median(finals))})
            runs.append({"first_weight": w, "best_step": int(result.best_step),
                         "checkpoints": rows})
    record = {"command": "python -m course_lib.learned truncation", "seed": int(seed),
              "meta_steps": int(meta_steps), "functions": int(functions),
              "stream": int(seed + 3), "runs": runs}
    out = Path(out) if out is not None else DIR / TRUNCATION_FILE
    out.write_text(json.dumps(record, indent=1) + "\n")
    return record


#: the functions that choose among finished runs: "tune" split, a stream that no run's own
#: tuning set (stream = its seed) or Adam yardstick (seed + 1) uses for seeds below 999
CHOOSE_STREAM, CHOOSE_FUNCTIONS = 1000, 5000


def choice_score(opt, adam_eta: float, resamples: int = 400) -> dict:
    """How ``opt`` does on the 5,000 tuning functions of stream ``CHOOSE_STREAM`` against
    tuned Adam on the same functions: the mean and median ratios; ``score``, the goal
    distance of `meta.QuadraticTask.score` (the larger of log(ratio / goal) for the mean
    and the median); and ``met_share`` (`meta.met_share`), the share of sets of 1,000
    functions, drawn with replacement from the 5,000 (``resamples`` draws, seed 0), on which
    both goals hold."""
    q = Q.sample(CHOOSE_FUNCTIONS, CHOOSE_STREAM, split="tune")
    learned = final_losses(opt, q)
    adam = B.final_losses_with("Adam", q, eta=adam_eta)
    mean_ratio = float(np.mean(learned) / np.mean(adam))
    median_ratio = float(np.median(learned) / np.median(adam))
    return {"mean_ratio": mean_ratio, "median_ratio": median_ratio,
            "score": meta.goal_distance(mean_ratio, median_ratio),
            "met_share": meta.met_share(learned, adam, resamples)}


def choose(paths) -> dict:
    """Of several finished runs (their .npz files, each with its record), the one whose
    `choice_score` has the largest ``met_share`` (ties: the lowest ``score``), judged on
    tuning functions only (never on held-out ones).
    Returns {"chosen": path, "runs": [{path, seed, meta_steps, score, ...}]}.

        python -m course_lib.learned choose build/learned/r*.npz
    """
    from threadpoolctl import threadpool_limits

    from .optimizer import load

    runs = []
    with threadpool_limits(limits=1):
        for path in paths:
            opt = load(path)
            eta = opt.info["baseline_learning_rates"]["Adam"]
            runs.append({"path": str(path), "seed": opt.info["seed"],
                         "command": opt.info["command"],
                         "meta_steps": opt.info["meta_steps"],
                         "train_cpu_seconds": opt.info["train_cpu_seconds"],
                         **choice_score(opt, eta),
                         "held_out": opt.info["held_out"]})
    chosen = min(runs, key=lambda r: (-r["met_share"], r["score"]))
    return {"chosen": chosen["path"], "runs": runs}
