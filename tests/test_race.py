"""The optimizer race of lecture 03 (course_lib.race) and the problems it runs on: settings
built from one step size, robust tuning, fair noise, the winners the notebook reports, and
pictures that work offline and say what they show."""
import re

import numpy as np
import pytest
import sympy as sp
from PIL import Image

from course_lib import race as R
from course_lib.optim import Adadelta, run
from course_lib.problems import (X, Y, beale, long_valley, numerical_grad, rosenbrock, rotated,
                                 with_gradient_noise)


@pytest.fixture(scope="module")
def tracks():
    return R.tracks()


@pytest.fixture(scope="module")
def tuned(tracks):
    return {key: R.tune(track) for key, track in tracks.items()}


@pytest.fixture(scope="module")
def races(tracks, tuned):
    exact = {k: R.race(t, tuned[k]) for k, t in tracks.items()}
    noisy = {k: R.race(t, tuned[k], sigma=t.sigma, seed=0, runs=20) for k, t in tracks.items()}
    return exact, noisy


# ------------------------------------------------------------------------------ the problems

def test_long_valley_is_the_stated_function_with_its_minimum_at_the_origin():
    p = long_valley(length=10.0, slope=0.1, steepness=10.0)
    stated = sp.Rational(1, 10) * (sp.sqrt(1 + X ** 2) - 1) + 5 * Y ** 2
    assert sp.simplify(p.expr - stated) == 0
    rng = np.random.default_rng(0)
    pts = rng.uniform([-11, -1.5], [2, 1.5], (50, 2))
    assert np.allclose(p.grad(pts), numerical_grad(p.f)(pts), atol=1e-7)
    assert p.f(np.zeros(2)) == 0 and np.all(p.grad(np.zeros(2)) == 0)
    assert np.all(p.f(pts) > 0)
    assert np.allclose(p.x0, [-10, 1])
    # far along the floor the slope is s, across it the curvature is k
    assert p.grad(np.array([-1e4, 0.0]))[0] == pytest.approx(-0.1, rel=1e-6)
    assert np.allclose(p.hess(pts)[:, 1, 1], 10.0)
    # written without cancellation: exact near the minimum, where √(1 + x²) − 1 rounds to 0
    assert p.f(np.array([1e-9, 0.0])) == pytest.approx(0.05e-18, rel=1e-12)


def test_a_bad_valley_is_refused_with_a_message():
    with pytest.raises(ValueError, match="must be positive"):
        long_valley(slope=-1)


def test_gradient_noise_has_the_stated_size_and_the_same_seed_repeats_it():
    p = beale()
    theta = np.tile(p.x0, (20000, 1))
    noisy = with_gradient_noise(p, 0.5, 3)
    noise = noisy.grad(theta) - p.grad(theta)
    assert abs(noise.mean()) < 0.02 and noise.std() == pytest.approx(0.5, rel=0.02)
    assert np.array_equal(noisy.f(theta[:3]), p.f(theta[:3]))      # the loss stays exact
    again = with_gradient_noise(p, 0.5, 3)
    assert np.array_equal(again.grad(theta) - p.grad(theta), noise)
    assert np.array_equal(with_gradient_noise(p, 0.0, 1).grad(theta[:2]), p.grad(theta[:2]))
    with pytest.raises(ValueError, match="≥ 0"):
        with_gradient_noise(p, -1.0, 0)


# ------------------------------------------------------------------------------ racers

def test_every_racer_is_built_from_its_step_size_and_step_size_inverts_make():
    for name in R.RACERS:
        opt = R.make(name, 0.037)
        assert R.step_size(opt) == pytest.approx(0.037)
        assert type(opt).__name__ == name
    assert R.make("Momentum", 0.1).mu == 0.9
    assert R.make("Momentum", 0.1, mu=0.5).mu == 0.5
    with pytest.raises(ValueError, match="racers are"):
        R.make("Lion", 0.1)
    with pytest.raises(ValueError, match="> 0"):
        R.make("Adam", 0.0)


def test_adadeltas_step_size_is_the_size_of_its_first_step():
    opt = R.make("Adadelta", 0.02)
    assert isinstance(opt, Adadelta) and opt.eps == pytest.approx(0.02 ** 2 * (1 - 0.95))
    p = beale()                    # |∇L(x0)| ~ 100 ≫ √ε: the first step is √(ε/(1 − ρ))
    tr = run(opt, p, p.x0, 1)
    assert np.allclose(np.abs(tr.thetas[1] - tr.thetas[0]), 0.02, rtol=1e-4)


def test_labels_and_captions_come_from_the_hyperparameters():
    opt = R.make("Adam", 0.3)
    assert R.label(opt) == "Adam (η = 0.3, β₁ = 0.9, β₂ = 0.999, ε = 1e-08)"
    assert R.label(R.make("Adadelta", 0.02), short=True) == "Adadelta ε = 2e-05"
    track = R.tracks(steps=5)["saddle"]
    r = R.race(track, {n: 0.05 for n in R.RACERS})
    text = R.caption(r)
    for name, o in r.optimizers.items():
        assert R.label(o) in text
    assert "5 steps from (-1, 0.001)" in text and f"Winner: {r.winner}" in text


# ------------------------------------------------------------------------------ tuning

def test_robust_best_prefers_a_broad_good_region_to_a_lucky_narrow_dip():
    steps = np.geomspace(1e-3, 1e1, 401)            # 100 per decade
    scores = np.full(steps.size, 1.0)
    scores[100] = 1e-9                              # one lucky value
    scores[(steps > 0.3) & (steps < 3)] = 1e-3      # a decade of good values
    scores[-10:] = np.nan                           # diverged
    best = R.robust_best(steps, scores)
    assert 0.3 * 10 ** 0.1 <= best <= 3 / 10 ** 0.1
    with pytest.raises(ValueError, match="widen"):
        R.robust_best(steps, np.full(steps.size, np.nan))


def test_tuned_step_sizes_stay_good_within_a_factor_1_26(tracks, tuned):
    """No racer diverges within ±0.1 decade of its tuned step size (between grid points too),
    and on the grid its worst score there is no worse than around the grid's single best step
    size (often a lucky one)."""
    grid = R.STEP_SIZES
    log = np.log10(grid)
    for key in ("Beale", "long valley"):
        track = tracks[key]
        for name, step in tuned[key].items():
            near = R.sweep(track, name, step * 10.0 ** np.linspace(-0.1, 0.1, 9))
            assert np.all(np.isfinite(near)), (key, name, near)
            scores = np.nan_to_num(R.sweep(track, name, grid), nan=np.inf)

            def worst_around(x):
                return scores[np.abs(log - np.log10(x)) <= 0.1 + 1e-9].max()

            assert worst_around(step) <= worst_around(grid[np.argmin(scores)]), (key, name)
    assert set(tuned["saddle"].values()) == {tracks["saddle"].fixed_step}


def test_a_sweep_is_one_batched_run_equal_to_the_runs_one_by_one(tracks):
    track = tracks["long valley"]
    steps = np.array([0.01, 0.1, 0.5])
    batched = R.sweep(track, "Adam", steps)
    single = [R.sweep(track, "Adam", [s])[0] for s in steps]
    assert np.allclose(batched, single, rtol=1e-12, atol=0)


# ------------------------------------------------------------------------------ the races

def test_every_racer_sees_the_same_noise(tracks):
    """A race run twice with one seed is the same race, with another seed another one; within
    a race each run has its own noise."""
    track = tracks["Beale"]
    sizes = {n: 0.01 for n in R.RACERS}
    r1 = R.race(track, sizes, sigma=track.sigma, seed=5, runs=3)
    r2 = R.race(track, sizes, sigma=track.sigma, seed=5, runs=3)
    r3 = R.race(track, sizes, sigma=track.sigma, seed=6, runs=3)
    for name in R.RACERS:
        assert np.array_equal(r1.traces[name].thetas, r2.traces[name].thetas, equal_nan=True)
    assert not np.array_equal(r1.traces["SGD"].thetas, r3.traces["SGD"].thetas)
    # the runs of one race differ (each its own noise)
    assert not np.array_equal(r1.traces["SGD"].thetas[:, 0], r1.traces["SGD"].thetas[:, 1])


def test_the_saddle_is_scored_by_the_first_step_below_minus_one(tracks):
    track = tracks["saddle"]
    r = R.race(track, {n: 0.05 for n in R.RACERS})
    for name, tr in r.traces.items():
        losses = tr.losses[:, 0]
        k = int(r.scores[name][0])
        assert losses[k] <= -1 < losses[:k].min()
    assert r.describe(r.winner).startswith("escaped at step")


def test_winners_with_exact_gradients(races):
    """What notebook 03 reports: Adam wins Beale, Adagrad the axis-aligned valley, RMSprop
    escapes the saddle first; plain SGD is last on the valley and the saddle."""
    exact, _ = races
    assert exact["Beale"].winner == "Adam"
    assert exact["long valley"].winner == "Adagrad"
    assert exact["saddle"].winner == "RMSprop"
    assert exact["long valley"].standings[-1] == exact["saddle"].standings[-1] == "SGD"
    assert exact["Beale"].standings[-1] == "RMSprop"


def test_with_noise_the_momentum_methods_win_and_the_normalizers_fall_back(races):
    """With noise of 1% of the starting gradient, at the same settings, Nesterov wins Beale and
    the valley; Adam drops out of the first two on both; the saddle's order is unchanged."""
    exact, noisy = races
    assert noisy["Beale"].winner == noisy["long valley"].winner == "Nesterov"
    for key in ("Beale", "long valley"):
        assert "Adam" not in noisy[key].standings[:2]
        assert noisy[key].median["Adam"] > 100 * exact[key].median["Adam"]
    assert noisy["saddle"].standings == exact["saddle"].standings


# ------------------------------------------------------------------------------ pictures

@pytest.fixture(scope="module")
def small_race():
    t = R.tracks(steps=12)
    sizes = {n: 0.05 for n in R.RACERS}
    return [R.race(t["saddle"], sizes), R.race(t["saddle"], sizes, sigma=0.02, seed=0)]


def test_the_animation_renders_one_frame_per_shown_step_and_the_paths_grow(small_race):
    anim = R.animate([small_race], every=5, width=6.0)
    assert anim.steps == [0, 5, 10, 12]
    frames = list(anim.rendered_frames(dpi=50))
    assert len(frames) == 4 and len({f.shape for f in frames}) == 1
    for a, b in zip(frames, frames[1:]):
        assert np.abs(a.astype(int) - b).max() > 0
    # the last frame is what a full redraw of the figure at the last step shows
    anim.draw(12)
    anim.fig.canvas.draw()
    full = np.asarray(anim.fig.canvas.buffer_rgba())[..., :3]
    assert np.mean(np.abs(full.astype(int) - frames[-1]) > 40) < 0.002


def test_the_html_player_works_offline_and_describes_the_animation(small_race):
    anim = R.animate([small_race], every=6, width=6.0)
    html = R.to_html(anim, alt='Paths of seven "optimizers" on a saddle & more.', dpi=40)
    assert "http://" not in html and "https://" not in html and "fa fa-" not in html
    assert re.search(r'<img id="_anim_img\w+" alt="Paths of seven &quot;optimizers&quot; on '
                     r'a saddle &amp; more.">', html)
    assert html.count("data:image/png;base64") == 3
    with pytest.raises(ValueError, match="describe"):
        R.to_html(anim, alt="")


def test_save_gif_writes_every_frame(small_race, tmp_path):
    anim = R.animate([small_race], every=4, width=5.0)
    path = R.save_gif(anim, tmp_path / "sub" / "race.gif", dpi=40)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4


def test_small_multiples_have_a_panel_per_racer_and_race_with_settings_and_results(races):
    exact, _ = races
    fig = R.small_multiples(list(exact.values()))
    axes = np.reshape(fig.axes, (3, 7))
    assert [ax.get_title() for ax in axes[0]] == list(R.RACERS)
    texts = [ax.get_xlabel() for ax in axes[1]]
    assert sum("\nwinner: " in t for t in texts) == 1
    for text, name in zip(texts, R.RACERS):
        assert R.label(exact["long valley"].optimizers[name], short=True).split(" ", 1)[1] in text


def test_make_animations_writes_a_gif_per_track(tmp_path, capsys):
    paths = R.main(["--out", str(tmp_path), "--steps", "6", "--every", "3"])
    assert sorted(p.name for p in paths) == ["race_Beale.gif", "race_long_valley.gif",
                                             "race_saddle.gif"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert "Winner" in capsys.readouterr().out


# ------------------------------------------------------------------------------ turned valley

def test_a_turned_problem_is_the_same_landscape_in_turned_coordinates():
    p, turned = long_valley(), rotated(long_valley(), 45)
    rng = np.random.default_rng(3)
    phi = rng.uniform(-5, 5, (20, 2))
    theta = phi @ turned.Q.T
    assert np.allclose(turned.f(theta), p.f(phi), rtol=1e-13)
    assert np.allclose(turned.grad(theta) @ turned.Q, p.grad(phi), rtol=1e-12, atol=1e-15)
    assert np.allclose(turned.grad(theta), numerical_grad(turned.f)(theta), atol=1e-7)
    assert np.allclose(turned.hess(theta), turned.Q @ p.hess(phi) @ turned.Q.T)
    assert np.allclose(turned.x0 @ turned.Q, p.x0) and np.allclose(turned.minimizer, 0)
    with pytest.raises(ValueError, match="only 2-D"):
        rotated(rosenbrock(4), 10)


def test_turning_the_valley_changes_nothing_for_momentum_and_everything_for_adagrad(tracks,
                                                                                     tuned):
    """What notebook 03 shows: SGD's and Momentum's runs turn with the valley (same losses to
    rounding); with step sizes tuned again on the turned valley, Adagrad drops from first to
    no better than SGD, and Momentum wins."""
    track = tracks["long valley"]
    turned = R.Track("turned", rotated(track.problem, 45), track.steps, track.sigma)
    for name in ("SGD", "Momentum", "Nesterov"):
        opt = R.make(name, tuned["long valley"][name])
        straight = run(opt, track.problem, track.start, track.steps).losses
        turned_run = run(opt, turned.problem, turned.start, track.steps).losses
        assert np.allclose(turned_run, straight, rtol=1e-6, atol=1e-12), name
    r = R.race(turned, R.tune(turned))
    assert r.winner == "Momentum"
    assert r.median["Adagrad"] > 0.9 * r.median["SGD"]
    assert r.standings.index("Adagrad") >= 4
