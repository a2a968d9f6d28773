"""Smoke tests for naomi_lite.plotting (Agg backend: no windows, no image files)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import re  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from naomi_lite.plotting import draw_table, plot_imputation, plot_trajectory  # noqa: E402

T = 20


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def path():
    t = np.linspace(0, 1, T)
    return np.stack([t - 0.5, 0.3 * np.sin(3 * t)], axis=-1)  # (T, 2)


@pytest.fixture
def mask():
    m = np.zeros(T, dtype=bool)
    m[[0, 7, 19]] = True
    return m


def test_draw_table_outline_box_and_aspect():
    ax = draw_table()
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.lines) == 2  # table outline + reachable box
    outline, box = ax.lines
    assert np.abs(outline.get_xydata()).max() == pytest.approx(1.0)
    assert np.abs(box.get_xydata()).max() == pytest.approx(1 - 0.1172)
    assert box.get_linestyle() == "--"
    assert ax.get_aspect() == 1.0


def test_draw_table_on_given_axes_and_radius():
    _, ax = plt.subplots()
    assert draw_table(ax, radius=0.3) is ax
    assert np.abs(ax.lines[1].get_xydata()).max() == pytest.approx(0.7)
    with pytest.raises(ValueError, match="radius"):
        draw_table(radius=1.5)


def test_plot_trajectory_line_and_start(path):
    ax = plot_trajectory(path, label="ball")
    assert len(ax.lines) == 2  # path + start ring
    np.testing.assert_allclose(ax.lines[0].get_xydata(), path)
    np.testing.assert_allclose(ax.lines[1].get_xydata(), path[:1])
    assert ax.lines[0].get_label() == "ball"


def test_plot_trajectory_with_mask_draws_observed_dots(path, mask):
    ax = draw_table()
    assert plot_trajectory(path, mask=mask, ax=ax, color="C1") is ax
    assert len(ax.lines) == 2 + 3  # table, box, path, start, observed dots
    dots = ax.lines[-1]
    np.testing.assert_allclose(dots.get_xydata(), path[mask])
    assert matplotlib.colors.same_color(dots.get_color(), "black")


def test_plot_trajectory_accepts_torch_and_0_1_mask(path, mask):
    ax = plot_trajectory(torch.tensor(path, requires_grad=True), mask=torch.tensor(mask.astype(int)), mark_start=False)
    assert len(ax.lines) == 2  # path + observed dots
    assert len(ax.lines[-1].get_xydata()) == 3


def test_plot_trajectory_rejects_bad_shapes(path):
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        plot_trajectory(path[None])
    with pytest.raises(ValueError, match="mask"):
        plot_trajectory(path, mask=np.ones(T + 1, dtype=bool))


def test_plot_imputation_lines_points_and_legend(path, mask):
    imputed = {"linear": path + 0.01, "NAOMI": torch.tensor(path - 0.01)}
    ax = plot_imputation(path, imputed, mask)
    # truth line + truth start + one line per imputation + observed dots
    assert len(ax.lines) == 2 + len(imputed) + 1
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ground truth", "linear", "NAOMI", "observed (3)"]
    np.testing.assert_allclose(ax.lines[-1].get_xydata(), path[mask])


def test_plot_imputation_on_a_table_and_shape_check(path, mask):
    ax = draw_table()
    assert plot_imputation(path, {"x": path}, mask, ax=ax) is ax
    assert len(ax.lines) == 2 + 2 + 1 + 1
    with pytest.raises(ValueError, match="imputed_dict"):
        plot_imputation(path, {"short": path[:-1]}, mask)


def test_one_colour_per_method_as_in_the_paper():
    from naomi_lite.plotting import METHOD_COLORS, method_color, method_colors

    assert matplotlib.colors.same_color(METHOD_COLORS["NAOMI"], "tab:blue")  # paper Figure 5: NAOMI blue
    assert matplotlib.colors.same_color(METHOD_COLORS["SingleRes"], "tab:red")  # and SingleRes red
    methods = [k for k in METHOD_COLORS if k != "Expert"]  # Expert is the court's name for the ground truth
    assert len({matplotlib.colors.to_hex(METHOD_COLORS[k]) for k in methods}) == len(methods), "colours must differ"
    for label, method in [("NAOMI (L2 0.123)", "NAOMI"), ("KNN (k=10)", "KNN"), ("linear", "Linear"),
                          ("linear interpolation (both ends)", "Linear"), ("autoregressive RNN (trained)", "RNN"),
                          ("NAOMI pretrain", "NAOMI pretrain"), ("NAOMI adversarial", "NAOMI adversarial"),
                          ("carry forward (past only)", "Carry forward"), ("ground truth", "Ground truth")]:
        assert method_color(label) == METHOD_COLORS[method], label
    assert method_color("my model") is None
    colors = method_colors(["NAOMI", "mine", "yours"])
    assert colors[0] == METHOD_COLORS["NAOMI"] and len(set(colors)) == 3


def test_plot_imputation_uses_method_colours_and_a_legend_outside(path, mask):
    from naomi_lite.plotting import METHOD_COLORS

    ax = plot_imputation(path, {"SingleRes": path + 0.01, "NAOMI": path - 0.01}, mask)
    by_label = {line.get_label(): line for line in ax.lines}
    assert matplotlib.colors.same_color(by_label["NAOMI"].get_color(), METHOD_COLORS["NAOMI"])
    assert matplotlib.colors.same_color(by_label["SingleRes"].get_color(), METHOD_COLORS["SingleRes"])
    anchor = ax.get_legend().get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert anchor.y0 < 0.0, "the legend sits under the axes, off the trajectories"


def test_trajectories_without_a_colour_take_distinct_colours(path):
    ax = draw_table()
    for k in range(6):  # the start ring must not use up a colour of the cycle
        plot_trajectory(path + 0.01 * k, ax=ax, label=f"ball {k}")
    colors = [matplotlib.colors.to_hex(line.get_color()) for line in ax.lines if line.get_label().startswith("ball")]
    assert len(set(colors)) == 6


def test_animation_html_needs_no_network():
    from matplotlib.animation import FuncAnimation

    from naomi_lite.plotting import animation_html

    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    anim = FuncAnimation(fig, lambda i: line.set_ydata([0, i]), frames=2)
    page = animation_html(anim)
    assert "://" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', page)), "nothing loaded from the web"
    assert ".fa-play::before" in page and "anim-buttons" in page
