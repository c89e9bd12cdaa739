"""The lectures' explorers: what they draw stays visible, their loss axes follow the curves,
their alt text says what the figure shows."""
import numpy as np
import pytest

from course_lib.explorers import adaptive_explorer, gd_explorer, momentum_explorer
from course_lib.problems import quadratic, two_unit_network


def _pixels(live):
    return np.asarray(live.fig.canvas.buffer_rgba())[..., :3].astype(int).copy()


def _changed_pixels_when_hidden(live, artist, box=None):
    """How many pixels visibly change (by more than 60 of 255 in a colour channel) when
    ``artist`` is left out of a blitted frame."""
    live.render()
    shown = _pixels(live)
    artist.set_visible(False)
    live.render()
    hidden = _pixels(live)
    artist.set_visible(True)
    live.render()
    diff = np.abs(shown - hidden).max(axis=-1) > 60
    if box is not None:
        diff = diff[box]
    return int(diff.sum())


def _line_pixels(live, line):
    """Display-space length of a line's drawn part, in pixels (on the Agg canvas)."""
    xy = line.get_xydata()
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    pts = line.axes.transData.transform(xy)
    return float(np.sum(np.hypot(*np.diff(pts, axis=0).T)))


def _loss_lines(live):
    ax_loss = [ax for ax in live.fig.axes if ax.get_yscale() == "log"][0]
    return ax_loss, [a for a in live.animated if getattr(a, "axes", None) is ax_loss]


def _covers(ax, lines):
    ys = np.concatenate([np.asarray(l.get_ydata(), float) for l in lines])
    ys = ys[np.isfinite(ys) & (ys > 0)]
    lo, hi = ax.get_ylim()
    return lo <= ys.min() and ys.max() <= hi


def test_momentum_theory_lines_are_drawn_over_the_measured_curves_and_stay_visible():
    live = momentum_explorer(problem="quadratic", kappa=10.0)
    ax_loss, lines = _loss_lines(live)
    measured = [l for l in lines if l.get_linestyle() == "-"]
    theory = [l for l in lines if l.get_linestyle() != "-"]
    assert len(measured) == len(theory) == 3
    for m, t in zip(measured, theory):
        assert live.animated.index(t) > live.animated.index(m)  # blitting draws in list order
        assert t.get_zorder() > m.get_zorder()                  # and a full redraw by zorder
    # GD's measured rate equals the theory's: the lines coincide, yet hiding the theory line
    # visibly changes at least a third of the pixels along it (its dashes cover 2/3 of it);
    # a dashed line in the measured curve's colour and width would change almost none
    gd_theory = theory[0]
    assert _changed_pixels_when_hidden(live, gd_theory) > _line_pixels(live, gd_theory) / 3


def test_minimum_marker_is_drawn_above_the_paths_that_end_on_it():
    for live in (momentum_explorer(problem="quadratic", kappa=10.0),
                 gd_explorer([quadratic(10.0)], eta=0.1, steps=60)):
        stars = [a for a in live.animated if getattr(a, "get_marker", lambda: None)() == "*"]
        assert stars, "the minimum marker must be drawn after (above) the paths"
        star = stars[0]
        paths = [a for a in live.animated if a.axes is star.axes and a is not star
                 and hasattr(a, "get_marker") and a.get_marker() in ("o",)]
        assert all(live.animated.index(star) > live.animated.index(p) for p in paths)
        # every path ends at the minimum; the star must still show there
        x, y = star.axes.transData.transform(np.atleast_2d(star.get_xydata())[0])
        h = live.fig.canvas.get_width_height()[1]
        box = np.s_[int(h - y) - 6:int(h - y) + 6, int(x) - 6:int(x) + 6]
        assert _changed_pixels_when_hidden(live, star, box) > 40


def test_gd_explorer_loss_axis_covers_the_curves_after_a_change_of_steps_or_step_size():
    live = gd_explorer([quadratic(10.0), two_unit_network(rng=np.random.default_rng(1))],
                       eta=0.05, steps=20)
    ax_loss, curves = _loss_lines(live)
    live._ipython_display_()  # the sliders now call update, as in a notebook
    for name, value in [("steps", 300), ("eta", 0.15), ("eta", 0.5), ("steps", 40),
                        ("eta", 0.01), ("steps", 5)]:
        live.controls[name].value = value
        assert _covers(ax_loss, curves), (name, value, ax_loss.get_ylim())
        assert ax_loss.get_xlim() == (0, live.controls["steps"].value)
    # back from divergence (gaps up to ~1e9) to slow progress: the axis shrinks with the curves
    lo, hi = np.log10(ax_loss.get_ylim())
    ys = np.concatenate([c.get_ydata() for c in curves])
    ys = np.log10(ys[np.isfinite(ys) & (ys > 0)])
    assert hi - lo <= 3 * (ys.max() - ys.min() + 2) or hi - lo <= ys.max() - ys.min() + 6


def test_momentum_explorer_loss_axis_covers_the_curves_after_a_change_of_step_size():
    live = momentum_explorer(problem="quadratic", kappa=10.0)
    ax_loss, lines = _loss_lines(live)
    measured = [l for l in lines if l.get_linestyle() == "-"]
    live._ipython_display_()
    for eta in (0.005, 0.3, 2.5, 0.05):
        live.controls["eta"].value = eta
        assert _covers(ax_loss, measured), (eta, ax_loss.get_ylim())


def test_a_small_move_inside_the_window_redraws_only_the_animated_artists():
    live = gd_explorer([quadratic(10.0)], eta=0.1, steps=60)
    values = live.values()
    assert live._update(**{**values, "eta": values["eta"] * 1.001}) is False
    # the step axis changes: that axis alone is drawn again
    assert live._update(**{**values, "steps": 100}) == [live.fig.axes[1]]


def test_gd_explorer_alt_text_follows_the_sliders():
    live = gd_explorer([quadratic(10.0)], eta=0.05, steps=20)
    assert "η = 0.05" in live.alt and "20 steps" in live.alt and "L − L* =" in live.alt
    live._ipython_display_()
    live.controls["eta"].value = 5.0
    assert "η = 5" in live.alt and "diverged at step" in live.alt


def test_momentum_explorer_alt_text_quotes_the_rates_shown_under_the_plot():
    live = momentum_explorer(problem="quadratic", kappa=10.0)
    notes = [a.get_text() for a in live.animated if hasattr(a, "get_text")]
    for note in notes:
        if note.startswith(("GD", "momentum", "Nesterov")):
            assert note in live.alt
    assert "quadratic (κ=10" in live.alt and "η = 0.05" in live.alt


def test_gd_explorer_needs_one_saddle_entry_per_surface():
    with pytest.raises(ValueError, match="one entry per surface"):
        gd_explorer([quadratic(10.0)], saddles=[None, None])


# ------------------------------------------------------------------------------ lecture 03

def _adaptive_lines(live):
    """The explorer's rate curves: {panel k: {name: line}} for the four methods."""
    from course_lib.explorers import _ADAPTIVE
    names = [n for n, _ in _ADAPTIVE]
    panels = [ax for ax in live.fig.axes if ax.get_yscale() == "log"]
    return [{l.get_label(): l for l in ax.lines if l.get_label() in names} for ax in panels]


@pytest.mark.parametrize("problem", ["long valley", "Beale", "saddle"])
def test_adaptive_explorer_draws_the_step_sizes_its_paths_took(problem):
    """Each drawn rate times the gradient (Adam: times m̂) is the step the drawn path took."""
    from course_lib.explorers import ADAPTIVE_PROBLEMS
    from course_lib.optim import Adam
    live = adaptive_explorer(problem=problem, eps=1e-4)
    p = ADAPTIVE_PROBLEMS[problem][0]()
    panels = _adaptive_lines(live)
    paths = {l.get_label(): l for l in live.fig.axes[0].lines
             if l.get_label() in panels[0] and l.get_marker() == "o"}
    for name, line in paths.items():
        thetas = line.get_xydata()
        n = min(len(thetas) - 1, 40)
        rates = np.stack([panels[k][name].get_ydata()[:n] for k in range(2)], axis=-1)
        g = p.grad(thetas[:n])
        if name == "Adam":
            b1 = 1 - live.controls["one_minus_beta1"].value
            m = np.zeros(2)
            pushed = []
            for t, g_t in enumerate(g, start=1):
                m = b1 * m + (1 - b1) * g_t
                pushed.append(m / (1 - b1 ** t))
            g = np.array(pushed)
        assert np.allclose(thetas[1:n + 1] - thetas[:n], -rates * g, rtol=1e-9, atol=1e-13), name


def test_adaptive_explorer_adagrad_follows_its_theory_along_the_valley_floor():
    """Along the floor of the long valley the gradient is nearly constant (the slope 0.1), so
    Adagrad's rate there follows the derived η/√(t g₀² + ε), drawn dashed on top of it."""
    live = adaptive_explorer(problem="long valley", eta=0.01)
    panel = _adaptive_lines(live)[0]
    theory = [l for l in live.fig.axes[1].lines if "theory" in l.get_label()][0]
    measured = panel["Adagrad"].get_ydata()
    assert np.allclose(measured, theory.get_ydata(), rtol=0.02)
    assert measured[-1] < measured[0] / 10       # ~1/√t over 120 steps


def test_every_control_of_the_adaptive_explorer_changes_its_figure():
    """What the browser test checks, without a browser: one arrow-key step of each slider (a
    factor 10^0.01) from the opening values gives a new image."""
    live = adaptive_explorer()
    live._ipython_display_()
    for name, widget in live.controls.items():
        before = live.png()
        if name == "problem":
            widget.value = "saddle"
        else:
            widget.value = widget.value * 10 ** 0.01
        assert live.png() != before, name


def test_adaptive_explorer_alt_text_and_problem_reset():
    live = adaptive_explorer(problem="long valley")
    assert "long valley" in live.alt and "η = 0.3" in live.alt and "Adadelta:" in live.alt
    live._ipython_display_()
    live.controls["problem"].value = "Beale"
    assert live.controls["eta"].value == pytest.approx(0.1)
    assert "Beale" in live.alt and "η = 0.1" in live.alt
    with pytest.raises(ValueError, match="choose one of"):
        adaptive_explorer(problem="Himmelblau")


# ------------------------------------------------------------------ one user action, one redraw
@pytest.mark.parametrize("make, problem, defaults", [
    (momentum_explorer, "Rosenbrock", ("eta", "mu", "start_x", "start_y")),
    (adaptive_explorer, "Beale", ("eta",)),
])
def test_choosing_a_problem_redraws_once_at_that_problems_defaults(make, problem, defaults):
    live = make()
    live._ipython_display_()
    drawn = []
    live._handle = type("Handle", (), {"update": lambda self, img, **kw: drawn.append(img)})()
    update, seen = live._update, []
    live._update = lambda **values: (seen.append(values), update(**values))[1]
    live.controls["problem"].value = problem
    assert len(seen) == len(drawn) == 1  # not once per slider the menu resets
    fresh = make(problem=problem)
    assert seen[0] == fresh.values()
    assert all(seen[0][name] == fresh.values()[name] for name in defaults)


def test_adaptive_explorer_moved_draws_what_a_fresh_one_draws_at_the_final_values():
    """Runs a slider does not change are reused: after several moves every path and rate
    curve is the one a new explorer at the final values draws."""
    live = adaptive_explorer()
    for name, value in [("eta", 0.05), ("one_minus_beta1", 0.3), ("eta", 0.2),
                        ("one_minus_rho", 0.05), ("eps", 1e-6), ("one_minus_beta2", 0.01)]:
        live.controls[name].value = value
    v = live.values()
    fresh = adaptive_explorer(problem=v["problem"], eta=v["eta"],
                              beta1=1 - v["one_minus_beta1"], beta2=1 - v["one_minus_beta2"],
                              rho=1 - v["one_minus_rho"], eps=v["eps"])
    for moved, new in zip(live.animated, fresh.animated):
        if hasattr(moved, "get_xydata"):
            np.testing.assert_array_equal(moved.get_xydata(), new.get_xydata())
        else:
            assert moved.get_text() == new.get_text()


def test_momentum_explorer_after_a_rescale_shows_the_picture_of_a_full_draw():
    live = momentum_explorer(problem="quadratic", kappa=10.0)
    ax_loss, _ = _loss_lines(live)
    position = ax_loss.get_position().bounds
    for eta in (0.01, 0.3, 0.005):  # each moves the loss curves out of the limits
        before = ax_loss.get_ylim()
        live.controls["eta"].value = eta
        assert ax_loss.get_ylim() != before
    assert ax_loss.get_position().bounds == position  # redrawn in place, not laid out anew
    blitted = _pixels(live)
    for artist in live.animated:
        artist.set_animated(False)
    live.fig.canvas.draw()
    full = _pixels(live)
    # texts under the plot are drawn a line at a time, within half a pixel of matplotlib
    assert np.mean(np.abs(blitted - full).max(axis=-1) > 60) < 2e-3


@pytest.mark.parametrize("problem", ["long valley", "Beale", "saddle"])
def test_the_adaptive_explorers_one_point_gradient_is_the_problems(problem):
    """The explorer's runs take the gradient at one point with Python floats (fast): the
    same numbers as the problem's numpy gradient, and numpy's inf where floats overflow."""
    from course_lib.explorers import ADAPTIVE_PROBLEMS, _OnePoint
    p = ADAPTIVE_PROBLEMS[problem][0]()
    fast = _OnePoint(p)
    for theta in np.random.default_rng(3).normal(scale=3.0, size=(50, 2)):
        np.testing.assert_allclose(fast.grad(theta), p.grad(theta), rtol=1e-13, atol=1e-300)
    far = np.array([1e200, -1e200])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(fast.grad(far), p.grad(far))
    np.testing.assert_array_equal(fast.grad(np.zeros((3, 2))), p.grad(np.zeros((3, 2))))
    assert fast.x0 is p.x0 and fast.name == p.name


@pytest.mark.parametrize("make", [
    lambda: gd_explorer([quadratic(10.0), two_unit_network(rng=np.random.default_rng(1))]),
    momentum_explorer, adaptive_explorer])
def test_rescaled_loss_axes_keep_the_layout_and_their_labels_clear_of_the_ticks(make):
    """The y label of a log axis sits where the widest tick labels (10^-88) leave it room, so
    a sweep of η that rescales the axes never lays the figure out anew (a full redraw in the
    middle of a drag), and no tick label runs into the label."""
    live = make()
    positions = [ax.get_position().bounds for ax in live.fig.axes]
    w = live.controls["eta"]
    rescaled = 0
    for eta in np.geomspace(10 ** w.min, 10 ** w.max, 12):
        limits = [ax.get_ylim() for ax in live.fig.axes]
        live.controls["eta"].value = eta
        rescaled += limits != [ax.get_ylim() for ax in live.fig.axes]
        assert [ax.get_position().bounds for ax in live.fig.axes] == positions, eta
        renderer = live.fig.canvas.get_renderer()
        for ax in live.fig.axes:
            if ax.get_yscale() == "log":
                label = ax.yaxis.label.get_window_extent(renderer)
                ticks = [t.get_window_extent(renderer) for t in ax.get_yticklabels()
                         if t.get_visible() and t.get_text()]
                assert all(label.x1 < t.x0 for t in ticks), (eta, ax.get_ylim())
    assert rescaled >= 2
