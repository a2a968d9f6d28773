"""The basketball metrics of NAOMI's Figure 6 and Table 2 (paper §4.2), as small pure NumPy functions.

On basketball the future is genuinely uncertain (offensive players try to be
unpredictable), so the paper does not score imputations by L2 error against the
ground truth. It asks instead whether imputed plays *look like* real ones, with five
statistics compared with the value on the ground truth ("expert"):

1. ``trajectory_length``: how far the players move in the 8 seconds;
2. ``out_of_bound_rate``: do players stay on the court?
3. ``step_change``: do consecutive steps agree (smooth speed)?
4. ``path_difference``: max-min path length over the five players (do some run while
   others stand?);
5. ``player_distance``: mean distance between teammates (team spacing).

Figure 6 shows their median with 25th and 75th percentiles (:func:`summarize_quartiles`);
Table 2 lists the numbers for forward inference.

Sources. The paper names the metrics but gives no formulas. The original code
(github.com/felixykliu/NAOMI, ``helpers.py``, ``draw_and_stats`` and
``ave_player_distance``) computes average path length, out-of-bound rate, step-size
change and player distance, and has max-min path difference commented out; we
follow those definitions, returning one value per sequence. Two differences, on
purpose: (a) we count a *position* (player, step) as out of bounds when it leaves the
court rectangle, while the original counts *coordinates* beyond +-0.51 of its own
normalization; (b) our coordinates are those of ``data_gen.court`` (1 unit = 50 ft
on both axes), while the original divides x by 94 ft and y by 50 ft. Lengths in x are
therefore not in the paper's units; ``data_gen.court.to_naomi_units`` converts.

Layout. Every metric accepts NumPy arrays or torch tensors of shape (N, T, 10), laid
out as in the original data: [x1, y1, x2, y2, ..., x5, y5] per step, and returns a
float64 array (N,) of one value per sequence; given one sequence (T, 10) it returns a
NumPy float64 scalar; an empty batch (0, T, 10) gives an empty (0,) array. Metrics
never return NaN: inputs holding NaN or inf, or of the wrong shape, raise ValueError.

Taught alongside ``data_gen/court.py`` (the synthetic court data).
"""
from __future__ import annotations

import numpy as np

from .metrics import step_change as _path_step_change

N_PLAYERS = 5
#: Court bounds in normalized units, the same numbers as ``data_gen.court.COURT_X`` /
#: ``COURT_Y`` (a test checks they agree): x from the baseline (-0.5) to the half-court
#: line (0.44), y from sideline (-0.5) to sideline (0.5).
COURT_X = (-0.5, 0.44)
COURT_Y = (-0.5, 0.5)


# ---------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------


def _to_numpy(a) -> np.ndarray:
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # a torch tensor
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _players(x, min_T: int = 2) -> tuple[np.ndarray, bool]:
    """``x`` (N, T, 10) or (T, 10) as float64 (N, T, 5, 2), and whether one sequence was given."""
    a = _to_numpy(x)
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"x must hold numbers, got dtype {a.dtype}")
    if a.ndim not in (2, 3) or a.shape[-1] != 2 * N_PLAYERS:
        raise ValueError(f"x must have shape (N, T, 10) or (T, 10) laid out [x1, y1, ..., x5, y5], got {a.shape}")
    single = a.ndim == 2
    a = a[None] if single else a
    if a.shape[1] < min_T:
        raise ValueError(f"x needs at least {min_T} time steps, got T = {a.shape[1]}")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError("x contains NaN or inf; the court metrics need complete trajectories (impute first)")
    N, T, _ = a.shape
    return a.reshape(N, T, N_PLAYERS, 2), single  # (N, T, 5, 2)


def _out(values: np.ndarray, single: bool):
    return values[0] if single else values


def _path_lengths(p: np.ndarray) -> np.ndarray:
    """Path length of every player: (N, 5) from positions (N, T, 5, 2)."""
    return np.linalg.norm(np.diff(p, axis=1), axis=-1).sum(axis=1)  # (N, T-1, 5) -> (N, 5)


# ---------------------------------------------------------------------------
# The five metrics
# ---------------------------------------------------------------------------


def trajectory_length(x):
    """Average path length of the five players (normalized units).

    Formula, with p_{k,t} the position of player k at step t:

        length = (1/5) * sum_k sum_{t=0}^{T-2} || p_{k,t+1} - p_{k,t} ||_2

    Source: the original code's ``ave_length`` (mean over players and sequences of
    the summed step sizes). Paper expert value 0.57 (Table 2, its own units).
    """
    p, single = _players(x)
    return _out(_path_lengths(p).mean(axis=1), single)


def out_of_bound_rate(x, court_x=COURT_X, court_y=COURT_Y):
    """Fraction of the 5*T positions (player, step) that lie outside the court.

    Formula: rate = (1 / (5T)) * #{(k, t) : x_{k,t} not in [court_x[0], court_x[1]]
    or y_{k,t} not in [court_y[0], court_y[1]]}. A position exactly on a line is in.

    Source: the original code's ``ave_out_of_bound`` counts *coordinates* beyond
    +-0.51 in its normalization instead (see the module docstring); paper expert
    value 1.95e-3 (Table 2).
    """
    (x0, x1), (y0, y1) = _check_bounds("court_x", court_x), _check_bounds("court_y", court_y)
    p, single = _players(x, min_T=1)
    out = (p[..., 0] < x0) | (p[..., 0] > x1) | (p[..., 1] < y0) | (p[..., 1] > y1)  # (N, T, 5)
    return _out(out.mean(axis=(1, 2)), single)


def step_change(x):
    """Average change of step size over the players: mean_{k,t} | ||v_{k,t+1}|| - ||v_{k,t}|| |.

    With v_{k,t} = p_{k,t+1} - p_{k,t}, averaged over the 5 players and t = 0..T-3
    (needs T >= 3). Each player's (T, 2) path is scored by
    ``naomi_lite.metrics.step_change`` (the billiards metric) and the five values are
    averaged; every player has the same T - 2 terms, so this is the plain mean over
    all (player, step) terms, as in the original code's ``ave_change_step_size``.
    Paper expert value 1.99e-3 (Table 2).
    """
    p, single = _players(x, min_T=3)
    N, T = p.shape[:2]
    paths = p.transpose(0, 2, 1, 3).reshape(N * N_PLAYERS, T, 2)  # (N*5, T, 2), one row per player
    per_player = _path_step_change(paths).reshape(N, N_PLAYERS)    # (N, 5)
    return _out(per_player.mean(axis=1), single)


def path_difference(x):
    """Max-min path difference: the longest player's path length minus the shortest's.

    Formula, with L_k the path length of player k (see :func:`trajectory_length`):

        diff = max_k L_k - min_k L_k

    Source: ``diff_max_min`` in the original code (commented out there). Paper expert
    value 0.56 (Table 2).
    """
    p, single = _players(x)
    L = _path_lengths(p)  # (N, 5)
    return _out(L.max(axis=1) - L.min(axis=1), single)


def player_distance(x):
    """Average distance between teammates: the mean over the 10 pairs and the T steps.

    Formula: dist = (1 / (10 T)) * sum_t sum_{j<k} || p_{j,t} - p_{k,t} ||_2

    Source: the original code's ``ave_player_distance``. Paper expert value 0.424
    (Table 2).
    """
    p, single = _players(x, min_T=1)
    j, k = np.triu_indices(N_PLAYERS, k=1)                          # the 10 pairs j < k
    d = np.linalg.norm(p[:, :, j] - p[:, :, k], axis=-1)            # (N, T, 10)
    return _out(d.mean(axis=(1, 2)), single)


# ---------------------------------------------------------------------------
# Summaries (Figure 6: median with 25th and 75th percentiles)
# ---------------------------------------------------------------------------


def summarize_quartiles(values) -> dict:
    """``dict(median, p25, p75, n)`` of per-sequence values, as in the paper's Figure 6.

    Percentiles use NumPy's default linear interpolation. Raises ValueError on NaN/inf
    or on an empty input, rather than returning NaN.
    """
    v = _to_numpy(values).astype(np.float64).ravel()
    if v.size == 0:
        raise ValueError("summarize_quartiles needs at least one value")
    if not np.isfinite(v).all():
        raise ValueError("summarize_quartiles got NaN or inf values")
    p25, median, p75 = np.percentile(v, [25, 50, 75])
    return {"median": float(median), "p25": float(p25), "p75": float(p75), "n": int(v.size)}


def court_metrics(x, court_x=COURT_X, court_y=COURT_Y) -> dict:
    """All five per-sequence metrics of ``x`` (N, T, 10) in one dict of (N,) arrays.

    Keys, in the paper's order: ``trajectory_length``, ``out_of_bound_rate``,
    ``step_change``, ``path_difference``, ``player_distance``.
    """
    return {
        "trajectory_length": trajectory_length(x),
        "out_of_bound_rate": out_of_bound_rate(x, court_x=court_x, court_y=court_y),
        "step_change": step_change(x),
        "path_difference": path_difference(x),
        "player_distance": player_distance(x),
    }


def _check_bounds(name: str, pair) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in pair)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a pair (low, high) of numbers, got {pair!r}") from err
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite with low < high, got {pair!r}")
    return lo, hi


# ---------------------------------------------------------------------------
# Forecasting metrics (not in the paper): how close samples come to the truth
# ---------------------------------------------------------------------------
# Trajectory forecasting reports, beside realism, the error of the mean prediction (ADE), the
# best of K samples (minADE_K, K = 20) and their ratio as a measure of useful diversity. They
# need the truth, so they fit imputation of a recorded play. Taught in 06_adversarial_imitation.


def ade(pred, truth, mask) -> np.ndarray:
    """Average displacement error per play (N,): the mean Euclidean distance between predicted and
    true player positions, over the five players and the missing steps (``mask`` False)."""
    p, single = _players(pred)
    t, _ = _players(truth)
    if p.shape != t.shape:
        raise ValueError(f"pred and truth must have the same shape, got {p.shape[:2]} and {t.shape[:2]} (plays, steps)")
    m = np.asarray(mask, dtype=bool).reshape(p.shape[:2])  # (N, T)
    if (~m).sum(axis=1).min() == 0:
        raise ValueError("every play needs at least one missing step (mask False) for ADE")
    d = np.linalg.norm(p - t, axis=-1).mean(axis=-1)  # (N, T): mean over players
    return _out((d * ~m).sum(axis=1) / (~m).sum(axis=1), single)


def sample_ade(samples, truth, mask) -> np.ndarray:
    """ADE of every sample, (N, K): ``samples`` (N, K, T, 10) against ``truth`` (N, T, 10). Its mean is
    the ADE of one sample; its minimum over K is minADE_K (``best_of_k_ade``)."""
    s = _to_numpy(samples).astype(np.float64)
    if s.ndim != 4:
        raise ValueError(f"samples must have shape (N, K, T, 10), got {s.shape}")
    return np.stack([ade(s[:, k], truth, mask) for k in range(s.shape[1])], axis=1)  # (N, K)


def best_of_k_ade(samples, truth, mask) -> np.ndarray:
    """minADE_K per play (N,): the ADE of the best of K samples, ``samples`` (N, K, T, 10)."""
    return sample_ade(samples, truth, mask).min(axis=1)
