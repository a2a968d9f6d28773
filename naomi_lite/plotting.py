"""Pictures of trajectories: the billiards table, one path, and imputations against the truth.

Small matplotlib helpers reused by every chapter (billiards, masking, the decoder,
pretraining). Each takes an optional ``ax`` and returns the axes it drew on, so they
compose: ``ax = draw_table(); plot_imputation(truth, {"NAOMI": x_hat}, mask, ax=ax)``.
Trajectories may be NumPy arrays or torch tensors of shape (T, 2). ``mask`` follows the
kit's convention: True (or 1) where a step is observed; observed steps are drawn as
black dots, as in the paper's Figure 5. Nothing here writes image files.

Taught in ``01_billiards.ipynb`` (first used) and reused in later chapters.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

TABLE_RADIUS = 0.1172  # same as data_gen.billiards.RADIUS (kept here so plotting needs no data_gen import)
TRUTH_COLOR = "0.6"  # grey
OBSERVED_STYLE = dict(linestyle="none", marker="o", markersize=4, color="black", zorder=5)


def _as_numpy(x) -> np.ndarray:
    """NumPy copy of a NumPy array or torch tensor (detached, on the CPU)."""
    if hasattr(x, "detach"):  # torch.Tensor, without importing torch here
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _as_path(x, name: str = "x") -> np.ndarray:
    x = _as_numpy(x).astype(float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must be one trajectory of shape (T, 2), got shape {x.shape}")
    return x  # (T, 2)


def _as_mask(mask, T: int) -> np.ndarray:
    m = _as_numpy(mask)
    if m.shape != (T,):
        raise ValueError(f"mask must have shape (T,) = ({T},) to match the trajectory, got {m.shape}")
    if m.dtype != bool:
        if not np.isin(m, (0, 1)).all():
            raise ValueError("mask must be boolean, or hold only 0 and 1 (1 = observed)")
        m = m.astype(bool)
    return m  # (T,)


def _new_axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    return ax


def draw_table(ax=None, radius: float = TABLE_RADIUS):
    """Draw the billiards table [-1, 1]^2 (solid) and the box the ball centre can reach (dashed).

    The ball has radius ``radius``, so its centre stays in [-(1 - radius), 1 - radius]^2.
    Sets an equal aspect and limits slightly outside the table. Returns ``ax``.

    Taught in ``01_billiards.ipynb``.
    """
    if not (0.0 < radius < 1.0):
        raise ValueError(f"radius must be in (0, 1), got {radius}")
    ax = _new_axes(ax)
    box = 1.0 - radius
    square = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], dtype=float)  # (5, 2) closed outline
    ax.plot(square[:, 0], square[:, 1], color="black", linewidth=1.5, label="_table")
    ax.plot(box * square[:, 0], box * square[:, 1], color="0.5", linewidth=0.8, linestyle="--", label="_reachable")
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.set_xticks([-1, 0, 1])
    ax.set_yticks([-1, 0, 1])
    return ax


def plot_trajectory(x, mask=None, ax=None, label=None, color=None, mark_start: bool = True, **kw):
    """Draw one trajectory ``x`` (T, 2) as a line, with a hollow ring at its start.

    If ``mask`` (T,) is given (True = observed), the observed positions are drawn as
    black dots. Extra keyword arguments go to the line's ``ax.plot``. NaN positions
    (e.g. missing values) leave gaps. Returns ``ax``.

    Taught in ``01_billiards.ipynb``.
    """
    x = _as_path(x)  # (T, 2)
    ax = _new_axes(ax)
    (line,) = ax.plot(x[:, 0], x[:, 1], color=color, label=label, **kw)
    if mark_start:
        ax.plot(x[:1, 0], x[:1, 1], linestyle="none", marker="o", markersize=8,
                markerfacecolor="none", markeredgecolor=line.get_color(), label="_start")
    if mask is not None:
        m = _as_mask(mask, x.shape[0])  # (T,)
        ax.plot(x[m, 0], x[m, 1], label="_observed", **OBSERVED_STYLE)
    return ax


def plot_imputation(truth, imputed_dict, mask, ax=None):
    """Compare imputations with the ground truth: truth in grey, each imputation in colour.

    ``truth`` (T, 2); ``imputed_dict`` maps a name (shown in the legend) to a (T, 2)
    imputed trajectory; ``mask`` (T,) is True where a step was observed, drawn as black
    dots. Does not draw the table (call :func:`draw_table` first for billiards). Returns ``ax``.

    Taught in ``01_billiards.ipynb``; used for model outputs in later chapters.
    """
    truth = _as_path(truth, "truth")  # (T, 2)
    m = _as_mask(mask, truth.shape[0])  # (T,)
    ax = _new_axes(ax)
    plot_trajectory(truth, ax=ax, label="ground truth", color=TRUTH_COLOR, linewidth=3)
    for k, (name, x) in enumerate(imputed_dict.items()):  # k-th imputation in colour C{k}, in every figure
        x = _as_path(x, f"imputed_dict[{name!r}]")
        if x.shape != truth.shape:
            raise ValueError(f"imputed_dict[{name!r}] has shape {x.shape}, but truth has {truth.shape}")
        plot_trajectory(x, ax=ax, label=str(name), color=f"C{k}", mark_start=False, linewidth=1.5)
    ax.plot(truth[m, 0], truth[m, 1], label=f"observed ({int(m.sum())})", **OBSERVED_STYLE)
    ax.legend(loc="best", fontsize="small")
    return ax
