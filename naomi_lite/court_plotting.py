"""Pictures of five-player court plays: the half court, the players' paths, observed points.

The court counterpart of ``naomi_lite.plotting`` (which draws the billiards table),
for the synthetic plays of ``data_gen.court`` and the paper's basketball figures
(Figure 7: imputed plays with the known observations as black dots; Figure 9: many
samples of the conditional distribution overlaid).

Coordinates are the kit's normalized court units (``data_gen.court``): 1 unit = 50 ft
on both axes, x from the baseline (-0.5) to the half-court line (0.44), y from
sideline (-0.5) to sideline (0.5). A play is an array (T, 10) laid out
[x1, y1, x2, y2, ..., x5, y5] per step, NumPy or torch. ``mask`` (T,) is True (or 1)
where a step is observed; at an observed step all five players are known, and they are
drawn as black dots. Every helper takes an optional ``ax`` and returns the axes it drew
on, so they compose: ``ax = draw_half_court(); plot_play(x, mask, ax=ax)``. Nothing here
writes image files.

Taught in ``06_adversarial_imitation.ipynb``.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc, Circle, Rectangle

from .court_metrics import COURT_X, COURT_Y, N_PLAYERS
from .plotting import OBSERVED_STYLE, TRUTH_COLOR, _as_mask, _as_numpy

SCALE_FT = 50.0  # feet per normalized unit (as data_gen.court: normalized = feet / 50 - 0.5)
# One colour per player (the paper's Figures 7 and 9 colour players, not methods). A figure that compares
# methods on the court uses naomi_lite.plotting.METHOD_COLORS, e.g. for the bars of chapter 6.
PLAYER_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


def _ft(v: float) -> float:
    """Feet from the baseline (x) or from a sideline (y) -> normalized units."""
    return v / SCALE_FT - 0.5


def _as_play(x, name: str = "x") -> np.ndarray:
    x = _as_numpy(x).astype(float)
    if x.ndim != 2 or x.shape[1] != 2 * N_PLAYERS:
        raise ValueError(f"{name} must be one play of shape (T, 10) laid out [x1, y1, ..., x5, y5], got shape {x.shape}")
    return x.reshape(x.shape[0], N_PLAYERS, 2)  # (T, 5, 2)


def _new_axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 5.2))
    return ax


def draw_half_court(ax=None, color: str = "0.35", linewidth: float = 1.0):
    """Draw the half court (NBA lines, in normalized units); returns ``ax``.

    Lines: the court rectangle (baseline, sidelines, half-court line), the basket and
    backboard, the 16 ft wide lane with its free-throw circle, and the three-point line
    (22 ft in the corners, an arc of 23.75 ft around the basket). The baseline is on the
    left, as in the paper's figures. Sets an equal aspect and limits just outside the court.

    Taught in ``06_adversarial_imitation.ipynb``.
    """
    ax = _new_axes(ax)
    kw = dict(fill=False, edgecolor=color, linewidth=linewidth)
    (x0, x1), (y0, y1) = COURT_X, COURT_Y
    u = 1 / SCALE_FT  # one foot, normalized
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, **kw))  # baseline, sidelines, half-court line
    ax.add_patch(Rectangle((_ft(0), _ft(17)), 19 * u, 16 * u, **kw))  # the lane: 19 ft long, 16 ft wide
    ax.add_patch(Circle((_ft(19), _ft(25)), 6 * u, **kw))  # free-throw circle
    basket = (_ft(5.25), _ft(25))
    ax.add_patch(Circle(basket, 0.75 * u, **kw))  # the rim
    ax.plot([_ft(4), _ft(4)], [_ft(22), _ft(28)], color=color, linewidth=2 * linewidth)  # backboard
    # Three-point line: straight 22 ft from the basket in the corners, then an arc of radius 23.75 ft.
    corner = 22.0
    x_join = 5.25 + np.sqrt(23.75**2 - corner**2)  # where the corner line meets the arc, feet from the baseline
    for side in (-1, 1):
        y = _ft(25 + side * corner)
        ax.plot([_ft(0), _ft(x_join)], [y, y], color=color, linewidth=linewidth)
    angle = np.degrees(np.arcsin(corner / 23.75))
    ax.add_patch(Arc(basket, 2 * 23.75 * u, 2 * 23.75 * u, theta1=-angle, theta2=angle,
                     edgecolor=color, linewidth=linewidth))
    pad = 0.03
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def plot_play(x, mask=None, ax=None, colors=PLAYER_COLORS, label: str | None = None, mark_start: bool = True,
              **kw):
    """Draw the five players' paths of one play ``x`` (T, 10), one colour per player.

    A hollow ring marks each player's start. If ``mask`` (T,) is given, the observed
    positions (all five players at every observed step) are drawn as black dots.
    ``colors`` may be one colour for all players or five; ``label`` names the first
    player's line in a legend. Extra keyword arguments go to ``ax.plot`` (e.g.
    ``alpha``, ``linewidth``). Returns ``ax``.

    Taught in ``06_adversarial_imitation.ipynb``.
    """
    p = _as_play(x)  # (T, 5, 2)
    ax = _new_axes(ax)
    colors = [colors] * N_PLAYERS if isinstance(colors, str) else list(colors)
    if len(colors) != N_PLAYERS:
        raise ValueError(f"colors must be one colour or {N_PLAYERS}, got {len(colors)}")
    for k in range(N_PLAYERS):
        ax.plot(p[:, k, 0], p[:, k, 1], color=colors[k], label=label if (k == 0 and label) else "_player", **kw)
        if mark_start:
            ax.plot(p[:1, k, 0], p[:1, k, 1], linestyle="none", marker="o", markersize=7,
                    markerfacecolor="none", markeredgecolor=colors[k], label="_start")
    if mask is not None:
        m = _as_mask(mask, p.shape[0])  # (T,)
        ax.plot(p[m, :, 0].ravel(), p[m, :, 1].ravel(), label="_observed", **OBSERVED_STYLE)
    return ax


def plot_court_imputation(truth, imputed, mask, ax=None, title: str | None = None):
    """One imputed play against the truth, in the style of the paper's Figure 7.

    The ground truth ``truth`` (T, 10) is drawn in thick grey, the imputation
    ``imputed`` (T, 10) in the players' colours, and the observed steps of ``mask``
    (T,) as black dots. Draws the half court first. Returns ``ax``.

    Taught in ``06_adversarial_imitation.ipynb``.
    """
    t = _as_play(truth, "truth")
    if _as_play(imputed, "imputed").shape != t.shape:
        raise ValueError(f"imputed has shape {tuple(_as_numpy(imputed).shape)}, but truth has {tuple(_as_numpy(truth).shape)}")
    m = _as_mask(mask, t.shape[0])
    ax = draw_half_court(ax)
    plot_play(truth, ax=ax, colors=TRUTH_COLOR, linewidth=3, alpha=0.6, mark_start=False, label="ground truth")
    plot_play(imputed, mask=m, ax=ax, linewidth=1.5)
    if title is not None:
        ax.set_title(title, fontsize="medium")
    return ax


def plot_samples(samples, mask, ax=None, alpha: float = 0.15, title: str | None = None):
    """Overlay many imputations of one masked play, as in the paper's Figure 9.

    ``samples`` (S, T, 10): S draws of the conditional distribution (e.g. ``model.impute``
    with ``sample=True`` and S seeds), drawn thin and translucent in the players'
    colours; the observed steps of ``mask`` (T,) are black dots. Draws the half court
    first. Returns ``ax``.

    Taught in ``06_adversarial_imitation.ipynb``.
    """
    s = _as_numpy(samples).astype(float)
    if s.ndim != 3 or s.shape[-1] != 2 * N_PLAYERS or s.shape[0] < 1:
        raise ValueError(f"samples must have shape (S, T, 10) with S >= 1, got {s.shape}")
    m = _as_mask(mask, s.shape[1])
    ax = draw_half_court(ax)
    for k in range(s.shape[0]):
        plot_play(s[k], ax=ax, alpha=alpha, linewidth=1, mark_start=False)
    p = s[0].reshape(s.shape[1], N_PLAYERS, 2)[m]  # (n_observed, 5, 2): the same in every sample
    ax.plot(p[..., 0].ravel(), p[..., 1].ravel(), label="_observed", **OBSERVED_STYLE)
    if title is not None:
        ax.set_title(title, fontsize="medium")
    return ax
