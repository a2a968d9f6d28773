"""Smoke tests for naomi_lite.court_plotting (Agg backend: no windows, no image files)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from data_gen import court  # noqa: E402
from naomi_lite import court_plotting as cp  # noqa: E402
from naomi_lite.court_metrics import COURT_X, COURT_Y  # noqa: E402

T = 12


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def play():
    return court.simulate(1, T=T, seed=0)[0]  # (T, 10)


@pytest.fixture
def mask():
    m = np.zeros(T, dtype=bool)
    m[[0, 5, 11]] = True
    return m


def test_units_agree_with_the_generator():
    assert cp._ft(0.0) == pytest.approx(court.normalize(0.0))
    assert cp._ft(47.0) == pytest.approx(COURT_X[1])
    assert cp._ft(50.0) == pytest.approx(COURT_Y[1])


def test_half_court_outline_and_limits():
    ax = cp.draw_half_court()
    outline = ax.patches[0]
    assert outline.get_xy() == pytest.approx((COURT_X[0], COURT_Y[0]))
    assert outline.get_width() == pytest.approx(COURT_X[1] - COURT_X[0])
    assert ax.get_aspect() == 1.0
    x_lo, x_hi = ax.get_xlim()
    assert x_lo < COURT_X[0] and x_hi > COURT_X[1]


def test_plot_play_draws_five_paths_and_the_observed_points(play, mask):
    _, ax = plt.subplots()
    assert cp.plot_play(play, mask, ax=ax) is ax
    paths = [ln for ln in ax.lines if ln.get_label() == "_player"]
    assert len(paths) == 5
    np.testing.assert_allclose(paths[2].get_xydata(), play.reshape(T, 5, 2)[:, 2])
    (observed,) = [ln for ln in ax.lines if ln.get_label() == "_observed"]
    assert len(observed.get_xdata()) == 5 * mask.sum()


def test_torch_input_single_colour_and_errors(play, mask):
    ax = cp.plot_play(torch.as_tensor(play), colors="0.5", mark_start=False)
    assert len(ax.lines) == 5
    with pytest.raises(ValueError, match=r"\(T, 10\)"):
        cp.plot_play(play[:, :4])
    with pytest.raises(ValueError, match="colors"):
        cp.plot_play(play, colors=["r", "g"])
    with pytest.raises(ValueError, match="mask"):
        cp.plot_play(play, mask[:-1])


def test_imputation_and_samples(play, mask):
    ax = cp.plot_court_imputation(play, play + 0.01, mask, title="x")
    assert ax.get_title() == "x" and ax.get_legend_handles_labels()[1] == ["ground truth"]
    samples = np.stack([play, play + 0.02, play - 0.02])  # (3, T, 10)
    ax = cp.plot_samples(samples, mask)
    assert len([ln for ln in ax.lines if ln.get_label() == "_player"]) == 15
    with pytest.raises(ValueError, match="truth"):
        cp.plot_court_imputation(play, play[:-1], mask)
    with pytest.raises(ValueError, match="samples"):
        cp.plot_samples(play, mask)
