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
