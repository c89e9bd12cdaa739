"""`python -m course_lib.learned train`: a short run writes weights that load, their record
and the meta-loss curve; bad arguments are refused with a message."""
import json

import pytest

from course_lib.learned import load
from course_lib.learned.__main__ import main


def test_a_short_run_writes_weights_record_and_curve(tmp_path):
    out = tmp_path / "tiny.npz"
    assert main(["train", "--seed", "3", "--meta-steps", "10", "--out", str(out),
                 "--test-functions", "20"]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["meta_steps"] == 10 and len(record["meta_loss"]) == 10
    # the recipe's second look: its one checkpoint measured again on the choice functions
    assert record["config"]["shortlist"] == 4 and len(record["final_choice"]) == 1
    shares = record["clipped_share_by_segment"]        # 10 meta-steps: 2 per segment
    assert len(shares) == 5 and all(v in (0.0, 0.5, 1.0) for v in shares)
    assert record["repeat_exactly"] == "python -m course_lib.learned train --seed 3 " \
                                       "--meta-steps 10 --shortlist 4"
    assert out.with_suffix(".png").exists()
    opt = load(out)
    assert opt.info["seed"] == 3 and not opt.preprocessed


@pytest.mark.parametrize("args, message", [(["--out", "w.txt"], "must name an .npz"),
                                           (["--seconds", "0"], "must be positive"),
                                           (["--meta-steps", "0"], "positive integer"),
                                           (["--stop-at", "5"], "needs --meta-steps"),
                                           (["--meta-steps", "4", "--stop-at", "5"],
                                            "1 ≤ K ≤ N"),
                                           (["--shortlist", "-1"], "at least 0"),
                                           (["--task", "mlp", "--shortlist", "2"],
                                            "for the quadratics")])
def test_bad_arguments_are_refused_with_a_message(args, message, capsys):
    with pytest.raises(SystemExit):
        main(["train", *args])
    assert message in capsys.readouterr().err


def test_a_run_cut_short_is_repeated_by_its_plan_and_its_stop(tmp_path):
    """A run stopped at K of N planned meta-steps (what a time budget can do) is repeated by
    meta_steps=N, stop_at=K: the same schedule, so the same meta-losses as the first K of
    the whole run; its record says so."""
    from course_lib.learned import meta

    config = meta.Config(tune_functions=20, eval_every=5, batch=4, shortlist=0)
    whole = meta.train(1, config=config, meta_steps=12, seconds=None, progress=False)
    cut = meta.train(1, config=config, meta_steps=12, stop_at=8, seconds=None, progress=False)
    assert (cut.meta_steps, cut.planned_steps, whole.planned_steps) == (8, 12, 12)
    assert list(cut.losses) == list(whole.losses[:8])
    out = tmp_path / "cut.npz"
    assert main(["train", "--seed", "1", "--meta-steps", "12", "--stop-at", "8",
                 "--shortlist", "0", "--out", str(out), "--test-functions", "20"]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["repeat_exactly"] == ("python -m course_lib.learned train --seed 1 "
                                        "--meta-steps 12 --stop-at 8 --shortlist 0")
    assert (record["meta_steps"], record["planned_steps"]) == (8, 12)


def test_choose_names_the_run_best_on_tuning_functions(tmp_path, capsys):
    paths = []
    for seed, steps in ((3, 10), (4, 30)):
        out = tmp_path / f"r{seed}.npz"
        main(["train", "--seed", str(seed), "--meta-steps", str(steps), "--shortlist", "0",
              "--out", str(out), "--test-functions", "20"])
        paths.append(str(out))
    capsys.readouterr()
    assert main(["choose", *paths]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    rank = {line.split(":")[0]: (-float(line.split("both goals on ")[1].split("%")[0]),
                                 float(line.split("score ")[1].split(",")[0]))
            for line in lines[:-1]}
    assert set(rank) == set(paths)
    assert lines[-1] == f"chosen: {min(rank, key=rank.get)}"


def test_repeat_args_name_the_plan_and_the_stop():
    from course_lib.learned import meta

    whole = meta.TrainResult({}, meta.Config(), 0, 12, None, None, planned_steps=12)
    cut = meta.TrainResult({}, meta.Config(), 0, 8, None, None, planned_steps=12)
    assert whole.repeat_args() == "--meta-steps 12"
    assert cut.repeat_args() == "--meta-steps 12 --stop-at 8"


@pytest.mark.parametrize("command, args", [("truncation", ["--meta-steps", "0"]),
                                           ("truncation", ["--seed", "-1"]),
                                           ("ablation", ["--seeds", "0"]),
                                           ("reliability", ["--meta-steps", "0"])])
def test_the_measurement_commands_refuse_bad_arguments_with_a_message(command, args, capsys):
    with pytest.raises(SystemExit):
        main([command, *args])
    assert "must be" in capsys.readouterr().err
