"""What lecture 04's notebook added to the library: Hessian-free's curvature on mini-batches,
the digits' deep autoencoder (gradient, Gauss–Newton product, sparse initialisation), the
race's cost meter and command line, the explorer, the slide's CG, Newton's modified Hessian
and the Markdown of the SciPy table."""
import json

import numpy as np
import pytest

from course_lib import autoencoder_race as AR
from course_lib import problems as P
from course_lib.data import (Autoencoder, deep_autoencoder, load_digits, logistic_regression,
                             sparse_initialisation)
from course_lib.gradcheck import gradient_check
from course_lib.optim import HessianFree, Newton, run
from course_lib.optim.conjugate_gradient import slide_conjugate_gradient
from course_lib.optim.scipy_reference import table, table_markdown
from course_lib.second_order_explorers import model_ellipses, second_order_explorer


@pytest.fixture(scope="module")
def small_autoencoder():
    X = load_digits().X_train[:40]
    return deep_autoencoder(X, layers=(64, 8, 2, 8, 64), l2=1e-3,
                            rng=np.random.default_rng(2))


# ------------------------------------------------------------------ the autoencoder

def test_autoencoder_gradient_passes_the_gradient_check(small_autoencoder):
    theta = small_autoencoder.x0 + 0.1 * np.random.default_rng(3).standard_normal(
        small_autoencoder.dim)
    result = gradient_check(small_autoencoder.f, small_autoencoder.grad, theta)
    assert result.ok, str(result)


def test_autoencoder_gauss_newton_product_equals_autograds_jt_h_j(small_autoencoder):
    import autograd.numpy as anp

    from course_lib.curvature import gauss_newton_product
    p = small_autoencoder
    X = p.X

    def outputs(t):  # the network's logits, written independently with autograd
        a = X
        for (s, e), (n_in, n_out), linear in zip(zip(p._splits[:-1], p._splits[1:]),
                                                 p._shapes, p.linear):
            Wb = anp.reshape(t[..., s:e], t.shape[:-1] + (n_in, n_out))
            z = anp.matmul(a, Wb[..., :-1, :]) + Wb[..., -1:, :]
            a = z if linear else 1 / (1 + anp.exp(-z))
        return z

    def loss(z):
        return anp.mean(anp.sum(anp.logaddexp(0.0, z) - X * z, axis=-1), axis=-1)

    rng = np.random.default_rng(4)
    theta, v = p.x0 + 0.1 * rng.standard_normal(p.dim), rng.standard_normal(p.dim)
    expected = gauss_newton_product(outputs, loss)(theta, v) + p.l2 * p._mask * v
    assert np.allclose(p.gnvp(theta, v), expected, rtol=1e-10, atol=1e-12)


def test_autoencoder_gauss_newton_matrix_is_positive_semidefinite_and_batched(
        small_autoencoder):
    p = small_autoencoder
    rng = np.random.default_rng(5)
    thetas = p.x0 + 0.3 * rng.standard_normal((3, p.dim))
    vs = rng.standard_normal((3, p.dim))
    batched = p.gnvp(thetas, vs)
    for k in range(3):
        single = p.gnvp(thetas[k], vs[k])
        assert np.allclose(batched[k], single, rtol=1e-12, atol=1e-14)
        assert vs[k] @ single >= 0
    assert np.allclose(p.grad(thetas)[1], p.grad(thetas[1]))


def test_autoencoder_loss_minus_its_entropy_is_never_negative_and_batches_keep_it():
    X = load_digits().X_train[:30]
    p = deep_autoencoder(X, layers=(64, 4, 64))
    assert p.f(p.x0) - p.entropy > 0
    half = p.batch(np.arange(15))
    assert isinstance(half, Autoencoder) and half.n_examples == 15
    assert half.entropy == pytest.approx(Autoencoder(X[:15], (64, 4, 64)).entropy)
    # with θ = 0 every reconstruction is 0.5: the loss is 64 log 2 per example
    assert p.f(np.zeros(p.dim)) == pytest.approx(64 * np.log(2))


def test_sparse_initialisation_gives_each_unit_fifteen_incoming_weights_and_zero_biases():
    layers = (64, 32, 8, 2)
    theta = sparse_initialisation(layers, np.random.default_rng(0))
    start = 0
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        W = theta[start:start + (n_in + 1) * n_out].reshape(n_in + 1, n_out)
        start += (n_in + 1) * n_out
        assert np.all(W[-1] == 0)
        assert np.all(np.count_nonzero(W[:-1], axis=0) == min(15, n_in))
    assert start == len(theta)


def test_autoencoder_refuses_pixels_outside_0_1_and_mismatched_layers():
    X = load_digits().X_train[:5]
    with pytest.raises(ValueError, match="pixels in \\[0, 1\\]"):
        deep_autoencoder(16 * X)
    with pytest.raises(ValueError, match="first and last layers"):
        deep_autoencoder(X, layers=(64, 8, 32))


# ------------------------------------------------------------------ mini-batch curvature

def _logistic():
    d = load_digits(classes=(3, 8))
    return logistic_regression(d.X_train, (d.y_train == 8).astype(int), l2=1e-3)


def test_hessian_free_curvature_batch_uses_only_the_drawn_rows_and_counts_them():
    problem = _logistic()
    seen = []

    class Recording:
        """The problem, recording which examples the curvature products were asked on."""
        def __getattr__(self, name):
            return getattr(problem, name)

        def batch(self, rows):
            seen.append(np.array(rows))
            return problem.batch(rows)

    opt = HessianFree(curvature="hessian", curvature_batch=50, curvature_seed=3, max_cg=5)
    theta, state = np.zeros(problem.dim), opt.init(np.zeros(problem.dim))
    for _ in range(3):
        theta, state = opt.step(theta, state, Recording())
    assert len(seen) == 3 and all(len(r) == 50 and len(set(r)) == 50 for r in seen)
    assert not np.array_equal(seen[0], seen[1])  # a new draw at every step
    assert state.curvature_examples >= 3 * 50 * 1  # b examples per product, ≥ 1 product a step
    assert state.curvature_examples % 50 == 0
    # the draw is a function of (seed, step): the same seed draws the same rows
    again = HessianFree(curvature="hessian", curvature_batch=50, curvature_seed=3)
    assert np.array_equal(again._curvature_rows(problem, 0), seen[0])


def test_hessian_free_with_a_curvature_batch_of_all_examples_is_the_full_method():
    problem = _logistic()
    full = run(HessianFree(curvature="hessian"), problem, problem.x0, 5)
    same = run(HessianFree(curvature="hessian", curvature_batch=problem.n_examples), problem,
               problem.x0, 5)
    assert np.array_equal(full.thetas, same.thetas)


def test_hessian_free_on_mini_batch_curvature_still_lowers_the_loss():
    problem = _logistic()
    trace = run(HessianFree(curvature="hessian", curvature_batch=60), problem, problem.x0, 15)
    assert trace.losses[-1] < 0.5 * trace.losses[0]
    assert np.all(np.diff(trace.losses) <= 1e-12)  # line search: never uphill


def test_hessian_free_curvature_batch_needs_a_loss_over_examples():
    opt = HessianFree(curvature="hessian", curvature_batch=10)
    with pytest.raises(ValueError, match="not a loss over examples"):
        run(opt, P.rosenbrock(), [-1.2, 1.0], 2)
    with pytest.raises(ValueError, match="positive integer"):
        HessianFree(curvature_batch=0)


# ------------------------------------------------------------------ the race

def test_meter_charges_each_call_by_its_cost_and_share_of_the_examples(small_autoencoder):
    meter = AR.Meter(small_autoencoder)
    theta = small_autoencoder.x0
    meter.value_and_grad(theta)
    meter.f(theta)
    quarter = meter.batch(np.arange(10))      # 10 of 40 examples
    quarter.gnvp(theta, np.ones_like(theta))  # a first product at θ: its forward pass too
    quarter.gnvp(theta, np.ones_like(theta))
    expected = (AR.COSTS["value_and_grad"] + AR.COSTS["f"]
                + 0.25 * (2 * AR.COSTS["gnvp"] + AR.COSTS["gnvp_forward"]))
    assert meter.spent == pytest.approx(expected)


def test_train_records_work_time_and_error_until_the_budget(small_autoencoder):
    curve = AR.train(AR.make("Adam", 40, eta=1e-2), small_autoencoder, 30, records=10)
    assert curve.work[0] == 0 and np.all(np.diff(curve.work) > 0) and curve.work[-1] >= 30
    assert np.all(np.diff(curve.seconds) >= 0)
    assert curve.error[-1] < curve.error[0]


def test_the_race_command_writes_tuned_settings_and_curves(tmp_path):
    out = tmp_path / "race.json"
    assert AR.main(["--budget", "12", "--tune-budget", "4", "--examples", "30",
                    "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["curves"]) == set(AR.GRIDS) == set(result["settings"])
    for name, grid in AR.GRIDS.items():
        assert result["settings"][name] in grid
        assert len(result["tuning"][name]) == len(grid)
        assert result["curves"][name]["work"][-1] >= 12
    assert result["command"].startswith("python -m course_lib.autoencoder_race")


def test_the_race_command_refuses_a_budget_that_is_not_positive(capsys):
    with pytest.raises(SystemExit):
        AR.main(["--budget", "0"])
    assert "must be positive" in capsys.readouterr().err


# ------------------------------------------------------------------ explorer, CG, Newton, table

def test_model_ellipses_outer_level_passes_through_the_iterate():
    rng = np.random.default_rng(6)
    M = rng.standard_normal((2, 2))
    A = M @ M.T + 0.5 * np.eye(2)
    theta, g = np.array([0.3, -0.2]), rng.standard_normal(2)
    curves, minimum = model_ellipses(theta, g, A, levels=(1.0,), n=2000)
    assert np.allclose(minimum, theta - np.linalg.solve(A, g))
    assert np.min(np.linalg.norm(curves[0] - theta, axis=-1)) < 1e-2 * np.linalg.norm(
        minimum - theta)
    with pytest.raises(ValueError, match="positive-definite"):
        model_ellipses(theta, g, -A)


def test_explorer_redraws_paths_and_alt_text_when_lambda_and_m_move():
    live = second_order_explorer()
    newton_before = live.animated[0].get_xydata().copy()
    alt_before = live.alt
    live.controls["lam"].value = 100.0
    live.update()
    assert not np.array_equal(live.animated[0].get_xydata(), newton_before)
    assert "λ = 100" in live.alt and live.alt != alt_before
    live.controls["m"].value = 1
    live.update()
    assert "memory m = 1," in live.alt
    live.controls["lam"].value = 1e-3
    live.controls["k"].value = 60       # beyond Newton's last iterate: the model at the last one
    live.update()
    last = int(run(Newton(lam=1e-3, modify="damping"), P.rosenbrock(), [-1.2, 1.0],
                   200).stopped_at)
    assert last < 60
    assert f"{last} iterations" in live.alt and f"iterate θ_{last}," in live.alt


def test_the_slides_cg_climbs_first_then_stops_dead():
    rng = np.random.default_rng(7)
    M = rng.standard_normal((6, 6))
    A = M @ M.T + np.eye(6)
    g = rng.standard_normal(6)
    models = slide_conjugate_gradient(lambda v: A @ v, g, 3)
    assert models[1] == pytest.approx(1.5 * (g @ g) ** 2 / (g @ A @ g))
    assert np.all(np.isnan(models[2:]))


@pytest.mark.parametrize("modify", [None, "damping", "abs"])
def test_newton_direction_solves_with_its_modified_hessian(modify):
    rng = np.random.default_rng(8)
    M = rng.standard_normal((4, 4))
    H, g = 0.5 * (M + M.T), rng.standard_normal(4)   # indefinite
    newton = Newton(lam=0.1, modify=modify)
    assert np.allclose(newton.direction(H, g),
                       -np.linalg.solve(newton.modified_hessian(H), g))
    if modify is not None:
        assert np.all(np.linalg.eigvalsh(newton.modified_hessian(H)) > 0)


def test_table_markdown_has_a_row_per_problem_and_method_pair():
    rows = table([P.rosenbrock(2), P.beale()])
    text = table_markdown(rows)
    assert text.count("| Rosenbrock, d = 2 |") == 2 and text.count("| Beale, d = 2 |") == 2
    ratio = rows[0]["LBFGS"]["n_f"] / rows[0]["L-BFGS-B"]["n_f"]
    assert f"| {ratio:.2f} |" in text


def test_autoencoder_fisher_diagonal_is_the_mean_square_of_per_example_gradients():
    X = load_digits().X_train[:12]
    p = deep_autoencoder(X, layers=(64, 6, 2, 6, 64), l2=1e-2, rng=np.random.default_rng(9))
    theta = p.x0 + 0.1 * np.random.default_rng(10).standard_normal(p.dim)
    per_example = np.stack([p.batch([i]).grad(theta) for i in range(len(X))])
    assert np.allclose(p.fisher_diagonal(theta), np.mean(per_example ** 2, axis=0),
                       rtol=1e-10, atol=1e-14)


def test_the_race_error_at_a_budget_is_interpolated_in_log_work_and_inf_after_divergence():
    curve = {"work": [0, 10, 1000], "error": [9.0, 6.0, 4.0]}
    assert AR.error_at(curve, 100) == pytest.approx(5.0)    # halfway in log(work)
    assert AR.error_at(curve, 1000) == 4.0
    assert AR.error_at({"work": [0, 10, 100], "error": [9.0, 6.0, None]}, 50) == np.inf


def test_a_best_setting_at_the_end_of_its_grid_is_named_and_one_inside_is_not():
    grid = [{"eta": e, "mu": m} for e in (0.01, 0.1, 1.0) for m in (0.9, 0.99)]
    assert AR.grid_edges(grid, {"eta": 1.0, "mu": 0.9}) == ["eta = 1"]  # mu: only 2 values
    assert AR.grid_edges(grid, {"eta": 0.1, "mu": 0.99}) == []
