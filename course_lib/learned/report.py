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
           "final_losses", "ratios", "train_and_save", "extend_record"]

#: the held-out test sets the notebook and the tests report (1,000 functions each)
TEST_SEEDS = (0, 1, 2, 3, 4)
#: more held-out sets, so that no conclusion rests on a lucky five
MORE_TEST_SEEDS = tuple(range(25))
#: the "train"-split functions on which the baselines' learning rates are tuned
BASELINE_SEED, BASELINE_FUNCTIONS = 10 ** 6, 1000
DEFAULT_OUT = str(Path(__file__).with_name("quadratic_10d.npz"))


def tuned_baselines(names=B.NAMES) -> dict:
    """{name: learning rate} tuned on 1,000 training functions (mean of f(θ₁₀₀))."""
    return B.tune(Q.sample(BASELINE_FUNCTIONS, BASELINE_SEED, split="train"), names=names)


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


def train_and_save(seed: int = 0, seconds: float = 120.0, meta_steps=None,
                   preprocess: bool = False, out=None, command: str = "",
                   test_functions: int = 1000) -> dict:
    """Meta-train (`meta.train`), then measure on the held-out sets and write the weights,
    the record (.json) and the meta-loss curve (.png). Returns the record."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from threadpoolctl import threadpool_limits

    out = Path(out or DEFAULT_OUT)
    with threadpool_limits(limits=1):
        result = meta.train(seed, config=meta.Config(preprocess=preprocess),
                            meta_steps=meta_steps, seconds=None if meta_steps else seconds)
        t0 = time.process_time()
        etas = tuned_baselines()
        opt = LearnedOptimizer(result.params)
        held_out = [ratios(opt, s, etas["Adam"], test_functions) for s in TEST_SEEDS]
        measure_cpu = time.process_time() - t0
    info = {
        "paper": "Andrychowicz et al. 2016, Learning to learn by gradient descent by gradient "
                 "descent",
        "command": command or f"python -m course_lib.learned train --seed {seed}",
        "repeat_exactly": f"python -m course_lib.learned train --seed {seed} --meta-steps "
                          f"{result.meta_steps}" + (" --preprocess" if preprocess else ""),
        "seed": int(seed), "preprocess": bool(preprocess),
        "config": {k: getattr(result.config, k) for k in result.config.__dataclass_fields__},
        "meta_steps": int(result.meta_steps), "best_step": int(result.best_step),
        "train_cpu_seconds": round(result.cpu_seconds, 2),
        "train_wall_seconds": round(result.wall_seconds, 2),
        "threads": 1,
        "meta_loss": [round(float(v), 5) for v in result.losses],
        "trajectory_final_loss": [round(float(v), 5) for v in result.trajectory_losses],
        "checkpoints": [{"meta_step": c[0], "tune_mean": c[1], "tune_median": c[2],
                         "score": c[3]} for c in result.checkpoints],
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


def extend_record(path=DEFAULT_OUT, seeds=MORE_TEST_SEEDS) -> dict:
    """Measure the weights at ``path`` on the held-out sets ``seeds`` (1,000 functions each,
    against the Adam of their record) and add the results to their record as
    ``held_out_more``. Returns the record.

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
    info["held_out_more"] = more
    path.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n")
    return info
