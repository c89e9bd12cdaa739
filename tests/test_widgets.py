"""Sliders redraw the figure in place; plotting helpers draw what they are given."""
import numpy as np

from course_lib import plots
from course_lib.optim import SGD, run
from course_lib.problems import quadratic, rosenbrock, slice_2d
from course_lib.widgets import LiveFigure, log_slider, slider


def _explorer():
    p = quadratic(10.0)
    fig, ax = plots.new_figure()
    plots.contour(ax, p)
    path = plots.path(ax, np.zeros((1, 2)))
    calls = []

    def update(eta, steps):
        calls.append((eta, steps))
        path.set_data(run(SGD(eta), p, p.x0, int(steps)).thetas)

    live = LiveFigure(fig, update, {"eta": log_slider("η", 0.05, 1e-3, 1.0),
                                    "steps": slider("steps", 10, 1, 50, 1)})
    return live, path, calls


def test_the_figure_is_drawn_at_the_defaults_before_any_slider_moves():
    live, path, calls = _explorer()
    assert calls == [(0.05, 10)]
    assert len(path.line.get_xdata()) == 11


def test_moving_a_slider_updates_the_artists_and_the_displayed_image():
    live, path, calls = _explorer()
    live._ipython_display_()  # registers the observers and the display id, as a notebook does
    updates = []
    live._handle = type("Handle", (), {"update": lambda self, img, **kw: updates.append(img)})()
    live.controls["steps"].value = 30
    assert calls[-1] == (0.05, 30)
    assert len(path.line.get_xdata()) == 31
    assert len(updates) == 1 and updates[0].data[:8] == b"\x89PNG\r\n\x1a\n"
    live.controls["eta"].value = 0.2
    assert calls[-1][0] == 0.2 and len(updates) == 2


def test_displaying_twice_does_not_register_the_callback_twice():
    live, path, calls = _explorer()
    live._ipython_display_()
    live._ipython_display_()
    n = len(calls)
    live.controls["steps"].value = 20
    assert len(calls) == n + 1


def test_contour_uses_the_problems_window_and_marks_its_minimum():
    p = rosenbrock()
    fig, ax = plots.new_figure()
    plots.contour(ax, p)
    assert ax.get_xlim() == p.bounds[0] and ax.get_ylim() == p.bounds[1]
    stars = [l for l in ax.get_lines() if l.get_marker() == "*"]
    np.testing.assert_allclose(np.c_[stars[0].get_xdata(), stars[0].get_ydata()], [[1.0, 1.0]])


def test_a_slice_is_the_loss_on_a_plane_and_its_gradient_the_projected_gradient():
    p = rosenbrock(4)
    rng = np.random.default_rng(0)
    c, u, v = rng.standard_normal((3, 4))
    s = slice_2d(p, c, u, v)
    ab = rng.standard_normal((5, 2))
    theta = c + ab[:, :1] * u + ab[:, 1:] * v
    np.testing.assert_allclose(s.f(ab), p.f(theta))
    np.testing.assert_allclose(s.grad(ab), np.c_[p.grad(theta) @ u, p.grad(theta) @ v])
    h = 1e-6
    w = rng.standard_normal(2)
    fd = (s.grad(ab + h * w) - s.grad(ab - h * w)) / (2 * h)
    np.testing.assert_allclose(s.hvp(ab, w), fd, rtol=1e-5, atol=1e-6)


def test_a_blitted_figure_shows_the_same_picture_as_a_full_redraw():
    p = quadratic(10.0)
    fig, ax = plots.new_figure()
    plots.contour(ax, p)
    path = plots.path(ax, np.zeros((1, 2)))

    def update(eta):
        path.set_data(run(SGD(eta), p, p.x0, 20).thetas)

    live = LiveFigure(fig, update, {"eta": log_slider("η", 0.05, 1e-3, 1.0)},
                      animated=[path.line, path.start])
    live.controls["eta"].value = 0.15
    live.update()
    blitted = np.asarray(fig.canvas.buffer_rgba()).copy()
    for artist in live.animated:
        artist.set_animated(False)
    fig.canvas.draw()
    full = np.asarray(fig.canvas.buffer_rgba())
    assert np.mean(blitted != full) < 1e-3  # identical up to anti-aliasing of a few pixels


def test_momentum_explorer_updates_paths_and_reports_divergence():
    from course_lib.explorers import MOMENTUM_PROBLEMS, momentum_explorer
    live = momentum_explorer()
    notes = [a for a in live.animated if hasattr(a, "get_text")]
    assert any("/" in n.get_text() for n in notes)  # theory / measured rates on the quadratic
    live.controls["eta"].value = 2.5  # far beyond 2/λ_max for every method
    live.update()
    assert all("diverged at step" in n.get_text() for n in notes if n.get_text().startswith(
        ("GD", "momentum", "Nesterov")))
    for name in list(MOMENTUM_PROBLEMS)[1:] + ["quadratic"]:  # each choice is a change
        live.controls["problem"].value = name
        live.update()
        assert live.values()["eta"] == MOMENTUM_PROBLEMS[name][1]


def test_gd_explorer_reports_divergence_in_the_titles_and_needs_minimizers():
    import pytest
    from course_lib.explorers import gd_explorer
    from course_lib.problems import saddle
    p = quadratic(10.0)
    live = gd_explorer([p], eta=0.05, steps=20)
    title = live.fig.axes[0].get_title()
    assert "L − L*" in title
    live._ipython_display_()  # as in a notebook: the sliders now call update
    live.controls["eta"].value = 5.0  # far beyond 2/λ_max = 0.2
    assert "diverged at step" in live.fig.axes[0].get_title()
    with pytest.raises(ValueError, match="minimizer"):
        gd_explorer([saddle()])


def test_sliders_send_their_value_while_being_dragged():
    assert slider("steps", 10, 1, 50, 1).continuous_update
    assert log_slider("η", 0.05, 1e-3, 1.0).continuous_update


def test_encode_png_is_lossless_with_and_without_transparency():
    import io

    import pytest
    from PIL import Image

    from course_lib.widgets import encode_png

    rng = np.random.default_rng(7)
    opaque = rng.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    opaque[..., 3] = 255
    translucent = opaque.copy()
    translucent[2, 3, 3] = 10
    for rgba, mode in ((opaque, "RGB"), (translucent, "RGBA")):
        with Image.open(io.BytesIO(encode_png(rgba))) as im:
            assert im.mode == mode
            back = np.asarray(im.convert("RGBA"))
        np.testing.assert_array_equal(back, rgba)
    with pytest.raises(ValueError, match="RGBA"):
        encode_png(opaque[..., :3])


def test_the_live_figure_png_is_its_canvas():
    import io

    from PIL import Image

    live, _, _ = _explorer()
    with Image.open(io.BytesIO(live.png())) as im:
        shown = np.asarray(im.convert("RGBA"))
    np.testing.assert_array_equal(shown, np.asarray(live.fig.canvas.buffer_rgba()))


# ------------------------------------------------------------------ one user action, one redraw
def _menu_figure():
    """A LiveFigure with a menu that resets two sliders (as the explorers' problem menus do);
    ``calls`` records every update with the values it drew."""
    import ipywidgets as W

    fig, ax = plots.new_figure()
    (line,) = ax.plot([], [])
    calls = []

    def update(kind, a, b):
        calls.append((kind, a, b))
        line.set_data([0, 1], [a, b])

    live = LiveFigure(fig, update, {"kind": W.Dropdown(options=["low", "high"], value="low"),
                                    "a": slider("a", 0.1, 0.0, 1.0, 0.01),
                                    "b": slider("b", 0.2, 0.0, 1.0, 0.01)})
    defaults = {"low": (0.1, 0.2), "high": (0.8, 0.9)}

    def reset(change):
        live.controls["a"].value, live.controls["b"].value = defaults[change["new"]]

    live.on_change("kind", reset)
    return live, calls


def test_a_menu_that_resets_other_sliders_redraws_once_for_the_final_values():
    live, calls = _menu_figure()
    live._ipython_display_()
    shown = []
    live._handle = type("Handle", (), {"update": lambda self, img, **kw: shown.append(img)})()
    frames, n = live.frames, len(calls)
    live.controls["kind"].value = "high"
    assert calls[n:] == [("high", 0.8, 0.9)]  # not once per widget the action changed
    assert live.frames == frames + 1 and len(shown) == 1
    live.controls["kind"].value = "low"
    assert calls[n + 1:] == [("low", 0.1, 0.2)] and len(shown) == 2


def test_controls_set_inside_hold_redraw_once_on_leaving_it():
    live, calls = _menu_figure()
    n = len(calls)
    with live.hold():
        live.controls["a"].value = 0.5
        with live.hold():  # nested: still one redraw, at the outermost end
            live.controls["b"].value = 0.6
        assert len(calls) == n
    assert calls[n:] == [("low", 0.5, 0.6)]


def test_a_change_that_ends_at_the_values_shown_redraws_nothing():
    live, calls = _menu_figure()
    frames, n = live.frames, len(calls)
    with live.hold():
        live.controls["a"].value = 0.7
        live.controls["a"].value = 0.1  # back to what the figure shows
    assert len(calls) == n and live.frames == frames


def test_a_slider_still_redraws_once_per_move_outside_a_batch():
    live, calls = _menu_figure()
    n = len(calls)
    for v in (0.3, 0.4, 0.5):
        live.controls["a"].value = v
    assert [c[1] for c in calls[n:]] == [0.3, 0.4, 0.5]


def test_on_change_names_an_existing_control():
    import pytest

    live, _ = _menu_figure()
    with pytest.raises(ValueError, match="no such control"):
        live.on_change("c", lambda change: None)


# ------------------------------------------------------------- redrawing one axes of a blit
def _two_panel(limits_from):
    """Contours with a path, and a log-scale loss panel whose y limits come from
    ``limits_from(eta)``; update returns the loss axes when its limits change."""
    p = quadratic(10.0)
    fig, (ax, ax_loss) = plots.new_figure(ncols=2, width=4.0, height=3.2)
    plots.contour(ax, p)
    path = plots.path(ax, np.zeros((1, 2)))
    (curve,) = ax_loss.plot([], [])
    ax_loss.set(yscale="log", xlabel="step", ylabel="loss", title="loss")
    shown = {}

    def update(eta):
        tr = run(SGD(eta), p, p.x0, 30)
        path.set_data(tr.thetas)
        curve.set_data(np.arange(31), tr.losses)
        limits = limits_from(eta)
        if limits == shown.get("limits"):
            return False
        ax_loss.set_ylim(*limits)
        shown["limits"] = limits
        return ax_loss

    live = LiveFigure(fig, update, {"eta": log_slider("η", 0.05, 1e-3, 1.0)},
                      animated=[path.line, path.start, curve])
    return live, ax, ax_loss


def _count_draws(monkeypatch, ax):
    drawn = []
    original = type(ax).draw
    monkeypatch.setattr(ax, "draw", lambda renderer: (drawn.append(1), original(ax, renderer)))
    return drawn


def _full_draw(live):
    """The canvas of a full draw in the figure's current layout, every artist static."""
    for artist in live.animated:
        artist.set_animated(False)
    live.fig.canvas.draw()
    full = np.asarray(live.fig.canvas.buffer_rgba()).copy()
    for artist in live.animated:
        artist.set_animated(True)
    return full


def test_new_limits_redraw_only_their_axes_and_give_the_picture_of_a_full_draw(monkeypatch):
    live, ax, ax_loss = _two_panel(lambda eta: (1e-6, 10.0) if eta < 0.1 else (1e-4, 10.0))
    position = ax_loss.get_position().bounds
    contours = _count_draws(monkeypatch, ax)
    live.controls["eta"].value = 0.15  # new limits, labels as wide as before
    assert contours == []  # the contour panel was not drawn again
    assert ax_loss.get_ylim() == (1e-4, 10.0)
    assert ax_loss.get_position().bounds == position  # in the layout it had
    blitted = np.asarray(live.fig.canvas.buffer_rgba()).copy()
    assert np.mean(blitted != _full_draw(live)) < 1e-3


def test_tick_labels_that_no_longer_fit_lay_the_figure_out_again(monkeypatch):
    live, ax, ax_loss = _two_panel(lambda eta: (1e-2, 10.0) if eta < 0.1 else (1e-120, 1e-100))
    position = ax_loss.get_position().bounds
    contours = _count_draws(monkeypatch, ax)
    live.controls["eta"].value = 0.15  # labels such as 10^-110 need more room on the left
    assert contours  # a full draw, laid out anew
    assert ax_loss.get_position().bounds != position
    renderer = live.fig.canvas.get_renderer()
    assert not ax_loss.get_tightbbox(renderer).overlaps(ax.get_tightbbox(renderer))


def test_animated_text_lands_where_matplotlib_puts_it():
    """Animated texts are drawn a line at a time (fast); the glyphs are matplotlib's, the
    line at most half a pixel from where matplotlib's own renderer puts it."""
    fig, ax = plots.new_figure(width=4.0, height=2.0)
    ax.axis("off")
    note = ax.text(0.03, 0.6, "", transform=ax.transAxes, fontsize=8.5, color="tab:red")
    live = LiveFigure(fig, lambda eta: note.set_text(f"η = {eta:.3g}: L − L* = 1.2e-05\n"
                                                     "Adam: 1 − β₁ = 0.1"),
                      {"eta": log_slider("η", 0.05, 1e-3, 1.0)}, animated=[note])
    fast = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float).copy()
    slow = _full_draw(live)[..., :3].astype(float)
    ink_fast, ink_slow = 765 - fast.sum(-1), 765 - slow.sum(-1)
    assert abs(ink_fast.sum() / ink_slow.sum() - 1) < 0.03  # the same glyphs
    rows, cols = np.indices(ink_fast.shape)
    for axis in (rows, cols):
        centre = [(ink * axis).sum() / ink.sum() for ink in (ink_fast, ink_slow)]
        assert abs(centre[0] - centre[1]) <= 0.5


def test_sliders_a_reaction_sets_do_not_report_their_move_back_until_it_is_done():
    """A slider that sends its value while dragged also sends the kernel's value back, snapped
    to its step, when the kernel sets it: a second redraw of one user action. While a
    reaction runs, the other sliders do not report moves; afterwards they follow the hand."""
    live, calls = _menu_figure()
    during = []
    live.on_change("kind", lambda change: during.append(
        [live.controls[n].continuous_update for n in ("a", "b")]))
    live.controls["kind"].value = "high"
    assert during == [[False, False]]
    assert live.controls["a"].continuous_update and live.controls["b"].continuous_update
