"""The measurement records behind 05b's tables: a run already measured is kept, not trained
again, only when everything that decides it is the same; the reliability record is the
shipped recipe from ten seeds and agrees with the ablation where the two overlap."""
import dataclasses
import json

import pytest

from course_lib import results
from course_lib.learned import meta, report
from course_lib.learned.lstm import init_params


@pytest.fixture
def stubbed(monkeypatch):
    """meta.train and the held-out measurement replaced by stubs that count their calls."""
    import numpy as np

    calls = []

    def train(seed, *, config, meta_steps, seconds, progress):
        calls.append((seed, config, meta_steps))
        return meta.TrainResult(init_params(np.random.default_rng(seed), 1), config, seed,
                                meta_steps, None, None, best_step=meta_steps)

    monkeypatch.setattr(report.meta, "train", train)
    monkeypatch.setattr(report, "ratios", lambda opt, s, eta: {"mean_ratio": 0.5,
                                                               "median_ratio": 0.1})
    return calls


def _record(path, *, meta_steps, seeds, config=None, eta=None):
    eta = report.tuned_baselines(names=("Adam",))["Adam"] if eta is None else eta
    whole = dataclasses.asdict(config or meta.Config(**report.RELIABILITY[0][1]))
    rows = [{"variant": "old", "settings": {}, "config": whole, "train_seed": s,
             "best_step": meta_steps, "cpu_seconds": 1.0, "mean_ratio": [0.4],
             "median_ratio": [0.05]}
            for s in seeds]
    path.write_text(json.dumps({"meta_steps": meta_steps, "test_seeds": [0],
                                "adam_eta": eta, "rows": rows}))
    return path


def test_a_run_already_measured_is_kept_and_the_others_are_trained(tmp_path, stubbed):
    old = _record(tmp_path / "old.json", meta_steps=3, seeds=(0, 1))
    out = tmp_path / "out.json"
    record = report.reliability(train_seeds=(0, 1, 2), test_seeds=(0,), meta_steps=3,
                                out=out, reuse=(old,), progress=False)
    # the old record holds seeds 0 and 1 of the first variant; the second is another
    # configuration, so all of its runs are trained
    assert [(seed, c.shortlist) for seed, c, _ in stubbed] == [(2, 0), (0, 4), (1, 4), (2, 4)]
    rows = record["rows"]
    assert [(r["variant"], r["train_seed"]) for r in rows] == [
        (label, s) for label, _ in report.RELIABILITY for s in (0, 1, 2)]
    assert [r["cpu_seconds"] for r in rows[:3]] == [1.0, 1.0, 0.0]   # kept, kept, trained
    assert record["confirmation"]["runs"] == []    # both variants kept the same checkpoint
    assert json.loads(out.read_text()) == record
    assert record["command"] == "python -m course_lib.learned reliability"


@pytest.mark.parametrize("differs", ["meta_steps", "config", "adam_eta"])
def test_a_run_measured_differently_is_trained_again(tmp_path, stubbed, differs):
    kw = {"meta_steps": 4 if differs == "meta_steps" else 3, "seeds": (0,)}
    if differs == "config":
        kw["config"] = meta.Config(first_weight=0.5)
    if differs == "adam_eta":
        kw["eta"] = 123.0
    old = _record(tmp_path / "old.json", **kw)
    report.reliability(train_seeds=(0,), test_seeds=(0,), meta_steps=3,
                       out=tmp_path / "out.json", reuse=(old,), progress=False)
    assert [(seed, c.shortlist) for seed, c, _ in stubbed] == [(0, 0), (0, 4)]


def test_a_run_whose_checkpoint_moved_is_measured_again_on_fresh_sets_once(tmp_path,
                                                                           monkeypatch):
    """Where the two variants keep different checkpoints of the same run, the run is trained
    again (its checkpoints watched) and both are measured on the confirmation sets; a record
    that already holds that confirmation is reused."""
    import numpy as np

    calls = []

    def train(seed, *, config, meta_steps, seconds, progress, task=None):
        calls.append((seed, config.shortlist, task is not None))
        steps = (10, 20)
        if task is not None:
            task.seen = [init_params(np.random.default_rng(k), 1) for k in steps]
        return meta.TrainResult(init_params(np.random.default_rng(0), 1), config, seed,
                                meta_steps, None, None, checkpoints=[(k, 0, 0, 0) for k in steps],
                                best_step=20 if config.shortlist else 10)

    class Watched:                           # no tuning set to build: the stub does not use it
        def __init__(self, config, seed):
            self.seen = []

    monkeypatch.setattr(report.meta, "train", train)
    monkeypatch.setattr(report, "_Watched", Watched)
    monkeypatch.setattr(report, "ratios", lambda opt, s, eta: {"mean_ratio": 0.5,
                                                               "median_ratio": 0.1})
    out = tmp_path / "out.json"
    kw = dict(train_seeds=(4,), test_seeds=(0,), meta_steps=3, progress=False,
              confirm_seeds=(30, 31, 32))
    record = report.reliability(out=out, **kw)
    (before, _), (now, _) = report.RELIABILITY
    assert record["confirmation"] == {"test_seeds": [30, 31, 32], "runs": [{
        "train_seed": 4, "checkpoints": {before: 10, now: 20},
        "mean_ratio": {before: [0.5] * 3, now: [0.5] * 3},
        "median_ratio": {before: [0.1] * 3, now: [0.1] * 3}}]}
    assert calls == [(4, 0, False), (4, 4, False), (4, 4, True)]
    calls.clear()
    assert report.reliability(out=out, **kw)["confirmation"] == record["confirmation"]
    assert calls == []                       # rows and confirmation kept


def test_the_reliability_record_is_each_recipe_from_ten_seeds():
    rel = json.loads(results.path(report.RELIABILITY_FILE).read_text())
    ablation = json.loads(results.path(report.ABLATION_FILE).read_text())
    assert (rel["meta_steps"], rel["test_seeds"]) == (ablation["meta_steps"],
                                                      ablation["test_seeds"])
    assert rel["adam_eta"] == pytest.approx(report.tuned_baselines(names=("Adam",))["Adam"])
    runs = {}
    for label, settings in report.RELIABILITY:
        whole = dataclasses.asdict(meta.Config(**settings))
        rows = [r for r in rel["rows"] if r["variant"] == label]
        assert [r["train_seed"] for r in rows] == list(range(10))
        assert all(r["config"] == whole for r in rows)
        assert all(len(r["mean_ratio"]) == len(r["median_ratio"]) == len(rel["test_seeds"])
                   for r in rows)
        runs[label] = {r["train_seed"]: r for r in rows}
    (shipped, settings), (second_look, _) = report.RELIABILITY
    # where the ablation ran the shipped weights' recipe, the record has the same numbers
    whole = dataclasses.asdict(meta.Config(**settings))
    both = [r for r in ablation["rows"] if r["config"] == whole]
    assert [r["train_seed"] for r in both] == [0, 1, 2]
    for r in both:
        kept = runs[shipped][r["train_seed"]]
        assert (kept["mean_ratio"], kept["median_ratio"]) == (r["mean_ratio"],
                                                              r["median_ratio"])
    # the shortlist changes only the checkpoint kept from the same run: where it kept the
    # same one, the held-out ratios are the same
    for seed, r in runs[second_look].items():
        other = runs[shipped][seed]
        if r["best_step"] == other["best_step"]:
            assert (r["mean_ratio"], r["median_ratio"]) == (other["mean_ratio"],
                                                            other["median_ratio"])


def test_the_confirmation_holds_both_checkpoints_of_every_run_the_second_look_moved():
    rel = json.loads(results.path(report.RELIABILITY_FILE).read_text())
    (before, _), (now, _) = report.RELIABILITY
    best = {(r["variant"], r["train_seed"]): r["best_step"] for r in rel["rows"]}
    moved = [s for s in range(10) if best[(before, s)] != best[(now, s)]]
    confirmation = rel["confirmation"]
    assert moved and [c["train_seed"] for c in confirmation["runs"]] == moved
    assert not set(confirmation["test_seeds"]) & set(rel["test_seeds"])   # fresh sets
    for c in confirmation["runs"]:
        seed = c["train_seed"]
        assert c["checkpoints"] == {before: best[(before, seed)], now: best[(now, seed)]}
        for label in (before, now):
            assert len(c["mean_ratio"][label]) == len(c["median_ratio"][label]) == \
                len(confirmation["test_seeds"])
