"""The paper's result figures, drawn from measured numbers (paper §4: Figures 4, 5 and 8).

* ``plot_metric_summary``: one panel per metric, a bar per method with its spread, the
  ground truth marked (Figure 4 for billiards, Figure 6 / Table 2 for the court);
* ``plot_stepwise_l2``: the error of each imputation at every step (under Figure 5);
* ``plot_robustness``: each metric as the share of missing steps grows (Figure 8).

Inputs are the summary dicts of ``naomi_lite.evaluation``; nothing here computes a
metric or writes a file. Each function returns the axes it drew on. Every method is drawn
in its colour of ``naomi_lite.plotting.METHOD_COLORS`` (NAOMI blue, SingleRes red, as in
the paper), the same in every figure of the course.

Taught in ``07_reproducing_the_paper.ipynb``.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .plotting import _as_mask, _as_path, method_colors

METRIC_TITLES = {
    "l2_missing": "L2 on missing steps", "sinuosity": "sinuosity", "step_change": "step change",
    "reflection_distance": "reflection distance", "trajectory_length": "trajectory length",
    "out_of_bound_rate": "out-of-bound rate", "path_difference": "max-min path difference",
    "player_distance": "player distance",
}
# Metrics that cannot go below a known floor: bars start there, not at 0, so that the
# differences between methods stay visible (sinuosity is 1 for a straight path).
METRIC_FLOORS = {"sinuosity": 1.0}


def _center_and_spread(s: dict) -> tuple[float, float, float]:
    """(centre, low, high) of a summary: mean [p5, p95] or median [p25, p75]."""
    if "mean" in s:
        return s["mean"], s["p5"], s["p95"]
    return s["median"], s["p25"], s["p75"]


def plot_metric_summary(results: dict, metric_names, truth: str = "Ground truth", axes=None):
    """Bars: one panel per metric, one bar per method (centre, whiskers = the spread).

    ``results`` maps a method name to {metric: summary}. The truth's value is a dashed
    line, and the truth itself is not drawn as a bar. Bars of a metric in
    ``METRIC_FLOORS`` start at its floor (sinuosity: 1), and the y axis is fitted to the
    whiskers, so that small differences stay visible. Returns the axes.
    Taught in ``07_reproducing_the_paper.ipynb``.
    """
    metric_names = list(metric_names)
    names = [n for n in results if n != truth]
    if axes is None:
        _, axes = plt.subplots(1, len(metric_names), figsize=(3.3 * len(metric_names), 3.4), layout="constrained")
    axes = np.atleast_1d(axes)
    if len(axes) != len(metric_names):
        raise ValueError(f"need one axis per metric ({len(metric_names)}), got {len(axes)}")
    colors = method_colors(names)
    for ax, m in zip(axes, metric_names):
        c, lo, hi = np.array([_center_and_spread(results[n][m]) for n in names]).T  # (methods,) each
        floor = METRIC_FLOORS.get(m, 0.0)
        ax.bar(range(len(names)), c - floor, bottom=floor, color=colors, alpha=0.85)
        ax.errorbar(range(len(names)), c, yerr=[c - lo, hi - c], fmt="none", ecolor="0.2", capsize=3)
        top = max(hi.max(), c.max())
        if truth in results:
            t = _center_and_spread(results[truth][m])[0]
            ax.axhline(t, color="0.3", linestyle="--", label=truth)
            ax.legend(fontsize="x-small", loc="best")
            top = max(top, t)
        if floor:
            ax.set_ylim(floor, floor + 1.08 * (top - floor))
        ax.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize="small")
        ax.set_title(METRIC_TITLES.get(m, m), fontsize="medium")
    return axes


def plot_stepwise_l2(truth, imputed_dict, mask, ax=None):
    """The distance of each imputation from the truth at every step; observed steps as dots on 0.

    Taught in ``07_reproducing_the_paper.ipynb`` (Figure 5's lower row).
    """
    truth = _as_path(truth, "truth")  # (T, 2)
    m = _as_mask(mask, truth.shape[0])  # (T,)
    ax = ax if ax is not None else plt.subplots(figsize=(6, 2.2), layout="constrained")[1]
    for (name, x), color in zip(imputed_dict.items(), method_colors(list(imputed_dict))):  # as plot_imputation
        err = np.linalg.norm(_as_path(x, name) - truth, axis=-1)  # (T,)
        ax.plot(err, color=color, label=f"{name} (mean on missing {err[~m].mean():.3f})", linewidth=1.2)
    ax.plot(np.flatnonzero(m), np.zeros(m.sum()), "k.", markersize=5, label="observed")
    ax.set_xlabel("step t")
    ax.set_ylabel(r"$\|\hat x_t - x_t\|$")
    ax.legend(fontsize="x-small", loc="best")
    return ax


def plot_robustness(sweep: dict, metric_names, truth: str = "Ground truth", axes=None):
    """One panel per metric: each method's centre (and spread, shaded) against the share missing.

    ``sweep`` maps a fraction missing to {method: {metric: summary}}.
    Taught in ``07_reproducing_the_paper.ipynb`` (Figure 8).
    """
    metric_names = list(metric_names)
    fractions = sorted(sweep)
    names = [n for n in sweep[fractions[0]] if n != truth]
    if axes is None:
        _, axes = plt.subplots(1, len(metric_names), figsize=(3.3 * len(metric_names), 3.2), layout="constrained")
    axes = np.atleast_1d(axes)
    pct = 100 * np.asarray(fractions)
    for ax, m in zip(axes, metric_names):
        for n, color in zip(names, method_colors(names)):
            c, lo, hi = np.array([_center_and_spread(sweep[f][n][m]) for f in fractions]).T  # (fractions,) each
            ax.plot(pct, c, "o-", color=color, label=n, markersize=3)
            ax.fill_between(pct, lo, hi, color=color, alpha=0.12)
        if truth in sweep[fractions[0]]:
            ax.plot(pct, [_center_and_spread(sweep[f][truth][m])[0] for f in fractions], "k--", label=truth)
        ax.set_xlabel("% of steps missing")
        ax.set_title(METRIC_TITLES.get(m, m), fontsize="medium")
    axes[0].legend(fontsize="x-small")
    return axes
