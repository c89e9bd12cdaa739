"""The harness of the unit tests (course_lib.unit_tests.harness and its command line): scores
reproducible from the seed and identical whether one process, two, or a dask cluster computes
them; the table round-trips through CSV; the paper's grids; bad input is refused with the fix."""
import gzip
import os

import numpy as np
import pytest

from course_lib.optim import SGD, Adam
from course_lib.unit_tests import GRIDS, Grid, evaluate, read_csv
from course_lib.unit_tests.__main__ import main

CASES = ["quad_bowl-normal-gauss_add_0.1", "cliff-steep-gauss_mul_1-offset_drift",
         "quad_bowl-flat-cauchy_1", "relu.bend.line-saddle-mask_0.1-scale_drift",
         "2d-abs+quad_bowl-steep+normal-gauss_add_0.01+gauss_add_10-curled",
         "10d-abs:10-normal:10-gauss_add_0.1:10-rotated-curled"]
SMALL = (Grid("SGD", SGD, (("eta", (1e-3, 1e-2, 1e-1, 1.0)),)),
         Grid("Adam", Adam, (("eta", (0.01, 0.1)), ("beta1", (0.0, 0.9)))))


def small_run(**kw):
    kw = {"repetitions": 4, "steps": 30, "progress": False, "max_cases": 2, **kw}
    return evaluate(CASES, SMALL, **kw)


def same(a, b):
    return np.array_equal(a.f0, b.f0) and all(
        np.array_equal(a.finals[k], b.finals[k], equal_nan=True) for k in a.finals)


@pytest.fixture(scope="module")
def serial():
    return small_run(processes=1)


def test_scores_are_reproducible_from_the_seed(serial):
    assert same(small_run(processes=1), serial)
    other = small_run(processes=1, seed=1)
    assert not same(other, serial)
    assert np.array_equal(other.f0, serial.f0)  # the start does not depend on the seed
    assert serial.table().equals(small_run(processes=1).table())


def test_two_processes_compute_the_same_numbers_as_one(serial):
    assert same(small_run(processes=2), serial)


def test_a_dask_cluster_computes_the_same_numbers_as_one_process(serial):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI installs the dev extra, which brings dask[distributed]")
        pytest.skip("dask.distributed is not installed (pip install -e '.[cluster]')")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        on_dask = small_run(scheduler=client)
        by_address = small_run(scheduler=cluster.scheduler_address)
    assert same(on_dask, serial) and same(by_address, serial)


def test_results_come_back_in_the_order_of_the_cases(serial):
    assert [c.name for c in serial.cases] == CASES
    reversed_ = evaluate(CASES[::-1], SMALL, repetitions=4, steps=30, progress=False,
                         processes=1, max_cases=2)
    for k in serial.finals:
        # the same case, whichever order it was asked in (batches hold other neighbours)
        np.testing.assert_allclose(reversed_.finals[k][::-1], serial.finals[k], rtol=1e-12)


def test_the_table_has_a_row_per_case_optimizer_and_setting(serial):
    table = serial.table()
    assert len(table) == len(CASES) * (4 + 4)
    row = table.select(case=CASES[0], optimizer="Adam", setting="eta=0.1 beta1=0.9")
    assert len(row) == 1 and row["beta1"][0] == 0.9
    assert np.isnan(table.select(optimizer="SGD")["beta1"]).all()
    # tuned SGD scores 1 on every case it improves
    best = [table.select(case=c, optimizer="SGD")["score"].max() for c in CASES]
    assert all(b == 1.0 or np.isnan(b) for b in best)
    counts = table.counts()
    assert sum(counts["Adam"].values()) == 4 * len(CASES)


def test_the_table_round_trips_through_csv(serial, tmp_path):
    table = serial.table()
    for name in ("t.csv", "t.csv.gz"):
        back = read_csv(table.write_csv(tmp_path / name))
        assert list(back.columns) == list(table.columns)
        for k, v in table.columns.items():
            if v.dtype == object or v.dtype.kind == "i":
                assert np.array_equal(back[k], v), k
            else:  # six significant digits, four for the score
                np.testing.assert_allclose(back[k], v, rtol=5e-4 if k == "score" else 5e-6,
                                           equal_nan=True)
    with gzip.open(tmp_path / "t.csv.gz", "rt") as fh:
        assert fh.readline().startswith("case,optimizer,setting,eta,beta1,f0,median_change,")


def test_the_paper_grids():
    sgd = GRIDS[0]
    etas = [s["eta"] for s in sgd.settings]
    assert sgd.name == "SGD" and len(etas) == 34
    assert etas[0] == pytest.approx(1e-10) and etas[-1] == 1.0
    assert np.allclose(np.diff(np.log10(etas)), 10 / 33)
    assert [g.name for g in GRIDS] == ["SGD", "annealed SGD", "momentum", "Nesterov",
                                       "Adagrad", "RMSprop", "Adadelta", "Adam"]
    assert sum(len(g.settings) for g in GRIDS) == 212


def test_the_command_line_runs_chosen_cases_and_writes_the_table(tmp_path, capsys):
    out = tmp_path / "results.csv.gz"
    code = main(["--cases", "quad_bowl-normal-gauss_add_*", "--optimizers", "adam",
                 "--processes", "1", "--steps", "20", "--repetitions", "3", "--no-progress",
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    # three noise levels, each stationary and with the three drifts
    assert "12 cases × 2 optimizers" in printed and "much better" in printed
    table = read_csv(out)
    assert set(table["optimizer"]) == {"SGD", "Adam"}  # the yardstick always runs
    assert len(table) == 12 * (34 + 28)


def test_the_command_line_counts_the_catalogue(capsys):
    assert main(["--count"]) == 0
    assert capsys.readouterr().out.startswith("3732 cases: the paper's code expands to 3940")


@pytest.mark.parametrize("kwargs, message", [
    ({"processes": 0}, "processes"),
    ({"steps": 0}, "steps"),
    ({"repetitions": 2.5}, "repetitions"),
    ({"seed": -1}, "seed"),
    ({"grids": ()}, "at least one Grid"),
    ({"grids": (SMALL[0], SMALL[0])}, "names must differ"),
])
def test_bad_arguments_are_refused_with_the_fix(kwargs, message):
    kw = {"grids": SMALL, "progress": False, "processes": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        evaluate(CASES[:1], **kw)


def test_bad_cases_and_tables_are_refused_with_the_fix(tmp_path, capsys):
    with pytest.raises(ValueError, match="no cases"):
        evaluate([], SMALL)
    with pytest.raises(ValueError, match="listed twice"):
        evaluate(CASES[:1] * 2, SMALL)
    with pytest.raises(TypeError, match="Case objects or case names"):
        evaluate([3], SMALL)
    only_adam = evaluate(CASES[:1], SMALL[1:], repetitions=2, steps=5, progress=False,
                         processes=1)
    with pytest.raises(ValueError, match="relative to tuned SGD, which was not run"):
        only_adam.table()
    with pytest.raises(FileNotFoundError, match="--full --out"):
        read_csv(tmp_path / "missing.csv")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a unit-test results table"):
        read_csv(tmp_path / "other.csv")
    assert main(["--optimizers", "LBFGS", "--processes", "1"]) == 2
    assert "unknown optimizer(s) ['LBFGS']; choose from" in capsys.readouterr().err
    assert main(["--cases", "nothing-*", "--processes", "1"]) == 2
    assert "no case matches" in capsys.readouterr().err


def test_a_grid_name_with_a_comma_cannot_be_written(tmp_path):
    grids = (SMALL[0], Grid("Adam, fast", Adam, (("eta", (0.1,)),)))
    table = evaluate(CASES[:1], grids, repetitions=2, steps=5, progress=False,
                     processes=1).table()
    with pytest.raises(ValueError, match="must not contain commas"):
        table.write_csv(tmp_path / "t.csv")


def test_torch7s_damped_momentum_is_the_courses_momentum_at_eta_times_one_minus_mu():
    from course_lib.optim import Momentum, run
    from course_lib.problems import quadratic
    from course_lib.unit_tests.harness import torch7_momentum

    problem = quadratic(kappa=10.0, d=3, rng=np.random.default_rng(0))
    eta, mu = 0.05, 0.9
    v, theta, thetas = np.zeros(3), problem.x0.copy(), [problem.x0.copy()]
    for _ in range(30):                       # torch7's optim.sgd, dampening = momentum
        v = mu * v + (1 - mu) * problem.grad(theta)
        theta = theta - eta * v
        thetas.append(theta)
    assert np.allclose(run(torch7_momentum(eta, mu), problem, problem.x0, 30).thetas, thetas)
    assert np.allclose(run(Momentum(eta * (1 - mu), mu), problem, problem.x0, 30).thetas,
                       thetas)
