"""Evaluation behind the paper's results (§4): Figures 4, 6, 8, 9, Tables 1-2, and a claims table.

* ``impute_batched``: impute a large set in batches (means, or seeded samples); ``evaluate_l2``;
* ``billiards_summary`` / ``court_summary``: the metrics of Figure 4 (mean, 5th-95th
  percentile) and of Figure 6 / Table 2 (median, 25th-75th percentile) of one method;
* ``distance_to_truth`` / ``closer_count``: how far a method's statistic sits from the
  ground truth ("expert"), and on how many metrics one method is closer than another;
* ``missing_fraction_mask``: paper-style masks with a fixed share of missing steps (Figure 8);
* ``sample_spread``: the spread of many samples of one play (Figure 9);
* ``Claim``, ``verdict`` and ``claims_html``: the claims table of chapter 07.

Nothing here trains; everything takes models and data and returns plain dicts of
floats, so notebooks and benchmarks print and plot the same numbers.

Taught in ``07_reproducing_the_paper.ipynb``; ``benchmarks/billiards_accuracy.py`` and
``benchmarks/court_adversarial.py`` use the same functions.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import torch

from . import court_metrics, metrics
from .masks import imputation_order, paper_mask

BILLIARDS_METRICS = ("l2_missing", "sinuosity", "step_change", "reflection_distance")
COURT_METRICS = ("trajectory_length", "out_of_bound_rate", "step_change", "path_difference", "player_distance")


def impute_batched(model, x: np.ndarray, mask: np.ndarray, batch_size: int = 256, sample: bool = False,
                   seed: int = 0) -> np.ndarray:
    """``model.impute`` over (N, T, D) in batches of ``batch_size`` -> (N, T, D) NumPy.

    ``sample=True`` draws one sample per sequence (Gaussian models) from one torch
    generator seeded once with ``seed``, batches in order, so the result is reproducible.
    Taught in ``07_reproducing_the_paper.ipynb``.
    """
    if len(x) != len(mask):
        raise ValueError(f"x and mask must hold the same number of sequences, got {len(x)} and {len(mask)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    gen = torch.Generator(device=model.device).manual_seed(seed) if sample else None
    out = [model.impute(x[i : i + batch_size], mask[i : i + batch_size], sample=sample, generator=gen)
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.asarray(x).copy()


def evaluate_l2(model, x: np.ndarray, mask: np.ndarray, batch_size: int = 256) -> float:
    """Mean L2 on the missing steps (``metrics.l2_missing``) of ``model``'s mean imputation of (x, mask):
    the trainer's validation score and the benchmarks' headline number. Taught in ``05_pretraining.ipynb``."""
    return float(metrics.l2_missing(impute_batched(model, x, mask, batch_size), x, mask).mean())


def evaluate_best_of_k(model, x: np.ndarray, mask: np.ndarray, k: int, batch_size: int = 256, seed: int = 0) -> float:
    """Mean over sequences of the best of ``k`` sampled imputations' L2 on the missing steps (Gaussian
    models; sample i drawn with seed ``seed + i``): with ``fr_loss="variety"`` the trainer selects its
    best epoch by this plus ``evaluate_l2``. Taught in ``06_adversarial_imitation.ipynb``."""
    each = [metrics.l2_missing(impute_batched(model, x, mask, batch_size, sample=True, seed=seed + i), x, mask)
            for i in range(k)]  # k arrays of (N,)
    return float(np.min(np.stack(each), axis=0).mean())


def billiards_summary(pred, truth=None, mask=None) -> dict:
    """Figure 4's metrics of one method: {metric: ``metrics.summarize`` dict (mean, p5, p95, n)}.

    ``l2_missing`` is included when ``truth`` and ``mask`` are given (leave them out for the
    ground truth's own row). Reflection distance is summarized over the sequences with at
    least one reflection (a sequence without any scores 0, which would flatter the method);
    when no sequence has one, its entry has NaN statistics and ``n`` = 0.
    Taught in ``05_pretraining.ipynb`` and ``07_reproducing_the_paper.ipynb``.
    """
    dist, count = metrics.reflection_distance(pred, return_count=True)
    out = {}
    if truth is not None and mask is not None:
        out["l2_missing"] = metrics.summarize(metrics.l2_missing(pred, truth, mask))
    out["sinuosity"] = metrics.summarize(metrics.sinuosity(pred))
    out["step_change"] = metrics.summarize(metrics.step_change(pred))
    if (count > 0).any():
        out["reflection_distance"] = metrics.summarize(dist, where=count > 0)
    else:  # e.g. a method that never turns: no reflection to measure
        out["reflection_distance"] = {"mean": float("nan"), "p5": float("nan"), "p95": float("nan"), "n": 0}
    return out


def court_summary(pred) -> dict:
    """Figure 6 / Table 2 metrics of one method's plays: {metric: median, p25, p75, n}.

    Taught in ``06_adversarial_imitation.ipynb`` and ``07_reproducing_the_paper.ipynb``.
    """
    return {k: court_metrics.summarize_quartiles(v) for k, v in court_metrics.court_metrics(pred).items()}


def distance_to_truth(results: dict, name: str, metric: str, truth: str = "Ground truth") -> float:
    """|statistic of ``name`` - statistic of ``truth``| for one metric; the statistic is the
    mean (billiards summaries) or the median (court summaries). Smaller is closer to the expert."""
    stat = "mean" if "mean" in results[truth][metric] else "median"
    return abs(results[name][metric][stat] - results[truth][metric][stat])


def closer_count(results: dict, a: str, b: str, metric_names, truth: str = "Ground truth") -> list[str]:
    """The metrics on which method ``a`` is strictly closer to ``truth`` than method ``b``.

    For ``l2_missing`` (the truth scores 0) closer means a lower error.
    """
    won = []
    for m in metric_names:
        da, db = distance_to_truth(results, a, m, truth), distance_to_truth(results, b, m, truth)
        if np.isfinite(da) and (not np.isfinite(db) or da < db):
            won.append(m)
    return won


def missing_fraction_mask(n: int, T: int, fraction: float, seed: int = 0) -> np.ndarray:
    """(n, T) paper-style masks (step 0 observed) with ``round(fraction * (T - 1))`` missing steps each.

    The x-axis of Figure 8 (robustness to the share of missing steps).
    Taught in ``07_reproducing_the_paper.ipynb``.
    """
    if not 0.0 <= float(fraction) <= 1.0:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")
    k = int(round(float(fraction) * (T - 1)))
    return paper_mask(n, T, (k, k), seed=seed)


def pairwise_spread(samples, steps) -> float:
    """How far apart samples of one sequence lie: the mean distance between two samples.

    ``samples`` (S, T, D) holds S >= 2 imputations of one sequence, D = 2 x agents
    ((x, y) per agent); ``steps`` (T,) bool picks the steps to compare. The distance
    between two samples' 2-D positions is averaged over the chosen steps, the agents and
    all S(S-1)/2 pairs of samples. 0 when every sample is the same.
    Taught in ``06_adversarial_imitation.ipynb`` and ``07_reproducing_the_paper.ipynb``.
    """
    s, steps = np.asarray(samples, dtype=np.float64), np.asarray(steps, dtype=bool)
    if s.ndim != 3 or s.shape[0] < 2 or s.shape[2] % 2:
        raise ValueError(f"samples must have shape (S, T, D) with S >= 2 and an even D, got {s.shape}")
    if steps.shape != s.shape[1:2] or not steps.any():
        raise ValueError(f"steps must be a (T,) = ({s.shape[1]},) bool array with at least one True")
    S, T, D = s.shape
    pos = s.reshape(S, T, D // 2, 2)[:, steps]  # (S, n_steps, agents, 2)
    i, j = np.triu_indices(S, k=1)  # the S(S-1)/2 pairs
    return float(np.linalg.norm(pos[i] - pos[j], axis=-1).mean())


def sample_spread(model, x: np.ndarray, mask: np.ndarray, n_samples: int = 50, seed: int = 0) -> tuple[float, np.ndarray]:
    """Spread (:func:`pairwise_spread` at the missing steps) of ``n_samples`` imputations of one play x (T, D).

    Returns (spread, samples (n_samples, T, D)). The paper's Figure 9.
    Taught in ``07_reproducing_the_paper.ipynb``.
    """
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2 to measure a spread, got {n_samples}")
    x, mask = np.asarray(x), np.asarray(mask, dtype=bool)
    if (~mask).sum() == 0:
        raise ValueError("the mask observes every step, so there is nothing to sample")
    gen = torch.Generator(device=model.device).manual_seed(seed)
    s = model.impute(np.repeat(x[None], n_samples, 0), np.repeat(mask[None], n_samples, 0), sample=True,
                     generator=gen)  # (S, T, D): one batch, every row its own noise
    return pairwise_spread(s, ~mask), s


# ---------------------------------------------------------------------------
# The claims table
# ---------------------------------------------------------------------------

VERDICTS = ("reproduced", "partly reproduced", "not reproduced")


@dataclass
class Claim:
    """One claim of the paper beside the kit's measurement."""

    claim: str      # what the paper says, in our words
    source: str     # where it says it (section, figure, table)
    measured: str   # what the kit measured, as text with the numbers
    verdict: str    # one of VERDICTS
    reason: str     # why this verdict

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def verdict(score: float, full: float, partial: float) -> str:
    """'reproduced' when score >= full, 'partly reproduced' when score >= partial, else 'not reproduced'."""
    return VERDICTS[0] if score >= full else VERDICTS[1] if score >= partial else VERDICTS[2]


def claims_html(claims: list[Claim], title: str = "The paper's claims, measured", note: str = "") -> str:
    """A self-contained HTML page with one row per claim (escaped text), for ``reports/claims.html``.

    Taught in ``07_reproducing_the_paper.ipynb``; the course runner links it from ``reports/index.html``.
    """
    colors = {"reproduced": "#176f2c", "partly reproduced": "#9a6700", "not reproduced": "#b00020"}
    rows = "\n".join(
        f"<tr><td>{html.escape(c.claim)}</td><td>{html.escape(c.source)}</td><td>{html.escape(c.measured)}</td>"
        f'<td style="color:{colors[c.verdict]};font-weight:bold">{html.escape(c.verdict)}</td>'
        f"<td>{html.escape(c.reason)}</td></tr>" for c in claims)
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>\n"
            "<style>body{font-family:system-ui,sans-serif;max-width:75rem;margin:2rem auto;padding:0 1rem}"
            "table{border-collapse:collapse}th,td{border-bottom:1px solid #ddd;padding:.4rem .6rem;"
            "text-align:left;vertical-align:top}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(note)}</p>\n"
            "<table><tr><th>claim</th><th>paper</th><th>measured</th><th>verdict</th><th>reason</th></tr>\n"
            f"{rows}\n</table></body></html>\n")


# ---------------------------------------------------------------------------
# Diagnostics: why NAOMI errs where it errs (benchmarks/billiards_accuracy.py, chapter 05)
# ---------------------------------------------------------------------------

GAP_GROUPS = (("0", 0, 0), ("1", 1, 1), ("2", 2, 2), ("3-4", 3, 4), (">=5", 5, None))  # gap index ranges


def gap_index(mask) -> np.ndarray:
    """(N, T) mask -> (N, T) int: at each missing step, which gap of its sequence it sits in
    (0 = the first run of missing steps from the left), and -1 at observed steps."""
    m = np.asarray(mask, dtype=bool)
    previous_observed = np.concatenate([np.ones((len(m), 1), dtype=bool), m[:, :-1]], axis=1)  # (N, T)
    starts = ~m & previous_observed  # (N, T) the first step of each gap
    return np.where(m, -1, np.cumsum(starts, axis=1) - 1)


def error_by_gap(pred, linear, truth, mask) -> dict:
    """Where the error sits, gap by gap: {group: dict(steps, error, ratio)} for the groups of
    :data:`GAP_GROUPS`. ``steps`` and ``error`` are the group's shares of all missing steps and of
    ``pred``'s summed error; ``ratio`` is ``pred``'s mean L2 there over ``linear``'s on the same steps.
    Taught in ``05_pretraining.ipynb``."""
    err = np.linalg.norm(np.asarray(pred) - truth, axis=-1)  # (N, T)
    lin = np.linalg.norm(np.asarray(linear) - truth, axis=-1)
    g = gap_index(mask)
    missing = g >= 0
    out = {}
    for label, lo, hi in GAP_GROUPS:
        sel = missing & (g >= lo) & (g <= (hi if hi is not None else g.max()))
        if not sel.any():
            continue
        out[label] = {"steps": float(sel.sum() / missing.sum()), "error": float(err[sel].sum() / err[missing].sum()),
                      "ratio": float(err[sel].mean() / max(lin[sel].mean(), 1e-12))}
    return out


GAP_LENGTHS = (("1-5", 1, 5), ("6-15", 6, 15), ("16-30", 16, 30), (">30", 31, None))  # steps in a gap


def gap_length(mask) -> np.ndarray:
    """(N, T) mask -> (N, T) int: at each missing step, how many steps its gap has (a run of
    missing steps; a trailing gap counts to the end), and 0 at observed steps."""
    g = gap_index(mask)  # (N, T)
    out = np.zeros(g.shape, dtype=int)
    for row, gi in enumerate(g):
        sizes = np.bincount(gi[gi >= 0])  # steps per gap (empty for a row with none)
        out[row, gi >= 0] = sizes[gi[gi >= 0]]
    return out


def error_by_gap_length(preds: dict, truth, mask) -> dict:
    """Which method wins where: {method: {group: mean L2}} over the missing steps whose gap length
    falls in each group of :data:`GAP_LENGTHS`, plus {"share": {group: share of missing steps}}.
    Taught in ``08_modern_imputers.ipynb``."""
    length = gap_length(mask)  # (N, T)
    groups = {label: (length >= lo) & (length <= (hi if hi is not None else length.max())) & (length > 0)
              for label, lo, hi in GAP_LENGTHS}
    groups = {label: sel for label, sel in groups.items() if sel.any()}
    out = {"share": {label: float(sel.sum() / (length > 0).sum()) for label, sel in groups.items()}}
    for name, pred in preds.items():
        err = np.linalg.norm(np.asarray(pred, dtype=np.float64) - truth, axis=-1)  # (N, T)
        out[name] = {label: float(err[sel].mean()) for label, sel in groups.items()}
    return out


def one_step_error_by_level(model, x: np.ndarray, mask: np.ndarray, batch_size: int = 256) -> dict:
    """The error of each decoder level when every pivot and context is the truth: {step size s:
    (mean L2, count)}. NAOMI decodes in inference's order (``run(teacher_forcing=True)``), so each
    level is scored on exactly the steps inference asks it for, without inherited mistakes.
    Taught in ``05_pretraining.ipynb``."""
    errors: dict[int, list] = {}
    for i in range(0, len(x), batch_size):
        xb = torch.as_tensor(np.asarray(x[i : i + batch_size], dtype=np.float32), device=model.device)
        mb = torch.as_tensor(mask[i : i + batch_size], device=model.device)
        with torch.no_grad():
            mean = model.run(xb, mb, teacher_forcing=True).mean.cpu().numpy()  # (b, T, D)
        for b, row in enumerate(mask[i : i + batch_size]):
            for step in imputation_order(row, model.config.highest):
                errors.setdefault(step.step, []).append(float(np.linalg.norm(mean[b, step.t] - x[i + b, step.t])))
    return {s: (float(np.mean(v)), len(v)) for s, v in sorted(errors.items())}


def midpoint_residual(pred, mask, highest: int) -> float:
    """How far the finest steps sit from the midpoint of their neighbours: the mean of
    ||x_t - (x_{t-1} + x_{t+1}) / 2|| over the steps NAOMI decodes with s = 1 between two known
    neighbours (p = t - 1, q = t + 1). A billiard ball between bounces gives ~0; a jagged path
    does not. Taught in ``05_pretraining.ipynb``."""
    p = np.asarray(pred)
    res = [np.linalg.norm(p[b, s.t] - (p[b, s.t - 1] + p[b, s.t + 1]) / 2)
           for b, row in enumerate(np.asarray(mask, dtype=bool))
           for s in imputation_order(row, highest)
           if s.step == 1 and s.pivot == s.t - 1 and s.right == s.t + 1 < len(row)]
    return float(np.mean(res)) if res else float("nan")
