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
    assert record["repeat_exactly"] == "python -m course_lib.learned train --seed 3 " \
                                       "--meta-steps 10"
    assert out.with_suffix(".png").exists()
    opt = load(out)
    assert opt.info["seed"] == 3 and not opt.preprocessed


@pytest.mark.parametrize("args, message", [(["--out", "w.txt"], "must name an .npz"),
                                           (["--seconds", "0"], "must be positive"),
                                           (["--meta-steps", "0"], "positive integer")])
def test_bad_arguments_are_refused_with_a_message(args, message, capsys):
    with pytest.raises(SystemExit):
        main(["train", *args])
    assert message in capsys.readouterr().err
