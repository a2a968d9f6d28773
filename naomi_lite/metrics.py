"""The billiards metrics of NAOMI's Figure 4 (paper §4.1), as small pure NumPy functions.

The paper measures how *physical* an imputed billiards trajectory is with four numbers,
each compared with the value on the ground truth ("expert"):

1. ``l2_missing``: L2 error on the missing steps;
2. ``sinuosity``: are the paths between reflections straight? (expert 1.00);
3. ``step_change``: is the speed unchanging? (expert 1.59e-3 in the paper);
4. ``reflection_distance``: does the ball turn at a wall? (expert 0.018 in the paper).

Sources. The paper (§4.1, Figure 4, Table 1) names the metrics but gives no formulas.
The original code (github.com/felixykliu/NAOMI, ``helpers.py``, ``draw_and_stats``)
defines only the average step-size change, as the mean of |‖v_{t+1}‖ - ‖v_t‖|, which
we follow. Neither the paper nor the published code defines sinuosity or the
reflection distance, so those two are our own definitions. On the ground truth of
``data_gen.billiards`` they give sinuosity ~1.00, as in the paper, and reflection
distance ~0.011 (the paper: 0.018; its exact definition is unknown, so the two numbers
are not directly comparable). See each docstring and ``02_masking.ipynb``.

Conventions. Every metric accepts NumPy arrays or torch tensors of shape (N, T, D)
(D = 2 for billiards) and returns one value per sequence, a float64 array of shape
(N,); given a single sequence (T, D) it returns a NumPy float64 scalar; an empty batch (0, T, D) gives an empty
(0,) array. Integer inputs are converted to float64. Metrics never return NaN: inputs
with NaN or inf (where they are used) raise ValueError, and so do a wrong rank, too
few steps and a mask of the wrong shape or with values other than 0 and 1.

Taught in ``02_masking.ipynb`` (definitions, baselines) and used by the benchmarks.
"""
from __future__ import annotations

import numpy as np

from .masks import as_mask

#: Half-width of the box the ball *centre* moves in: 1 - ball radius of data_gen.billiards.
BOX = 0.8828


# ---------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------


def _to_numpy(a) -> np.ndarray:
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # a torch tensor
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _trajectories(x, name: str = "x", min_T: int = 2, check_finite: bool = True) -> tuple[np.ndarray, bool]:
    """``x`` as float64 (N, T, D) and whether the caller gave a single (T, D) sequence."""
    a = _to_numpy(x)
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"{name} must hold numbers, got dtype {a.dtype}")
    if a.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape (N, T, D) or (T, D), got {a.shape}")
    single = a.ndim == 2
    a = a[None] if single else a
    if a.shape[1] < min_T:
        raise ValueError(f"{name} needs at least {min_T} time steps, got T = {a.shape[1]}")
    if a.shape[2] < 1:
        raise ValueError(f"{name} needs at least one coordinate, got shape {a.shape}")
    a = a.astype(np.float64)
    if check_finite and not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf; metrics need complete trajectories (impute first)")
    return a, single


def _out(values: np.ndarray, single: bool):
    return values[0] if single else values


# ---------------------------------------------------------------------------
# 1. L2 error on the missing steps
# ---------------------------------------------------------------------------


def l2_missing(pred, truth, mask):
    """Mean Euclidean error over the *missing* steps of each sequence.

    Formula, for sequence i with missing steps M_i = {t : mask[i, t] = 0}:

        l2_i = (1 / |M_i|) * sum_{t in M_i} || pred[i, t] - truth[i, t] ||_2

    A sequence with no missing step scores 0 (there is nothing to get wrong). Values
    at observed steps are ignored, so ``pred`` may hold NaN there, but not at a missing
    step. Shapes: pred, truth (N, T, D), mask (N, T) with True = observed -> (N,);
    or (T, D), (T, D), (T,) -> scalar.

    Taught in ``02_masking.ipynb``.
    """
    p, single = _trajectories(pred, "pred", min_T=1, check_finite=False)
    y, single_y = _trajectories(truth, "truth", min_T=1, check_finite=False)
    if p.shape != y.shape or single != single_y:
        raise ValueError(f"pred and truth must have the same shape, got {_to_numpy(pred).shape} and {_to_numpy(truth).shape}")
    m = as_mask(mask, shape=p.shape[:2] if not single else p.shape[1:2])
    m = m[None] if single else m                              # (N, T)
    missing = ~m
    dist = np.linalg.norm(p - y, axis=-1)                      # (N, T), NaN where pred is NaN
    if not np.isfinite(dist[missing]).all():
        raise ValueError("pred or truth holds NaN or inf at a missing step; l2_missing needs the imputed values there")
    total = np.where(missing, dist, 0.0).sum(axis=1)           # (N,)
    count = missing.sum(axis=1)                                # (N,)
    return _out(np.where(count > 0, total / np.maximum(count, 1), 0.0), single)


# ---------------------------------------------------------------------------
# Reflection points (shared by sinuosity and reflection_distance)
def squared_error(pred, truth):
    """The original code's test loss: the squared error averaged over *all* steps and coordinates.

    Formula, for sequence i: se_i = (1 / (T D)) * sum_t sum_d (pred[i, t, d] - truth[i, t, d])^2.
    Observed steps count too (an imputer returns them exactly, so they add 0 and dilute the
    mean), and big errors weigh more than in :func:`l2_missing`. felixykliu/NAOMI's
    ``helpers.run_epoch`` reports ``torch.mean((ground_truth - samples).pow(2))``, pooled over a
    batch; the benchmarks report the mean of se_i over sequences, which for equal T is the same
    number. Shapes: (N, T, D) -> (N,); (T, D) -> scalar. Taught in ``05_pretraining.ipynb``.
    """
    p, single = _trajectories(pred, "pred", min_T=1)
    y, single_y = _trajectories(truth, "truth", min_T=1)
    if p.shape != y.shape or single != single_y:
        raise ValueError(f"pred and truth must have the same shape, got {_to_numpy(pred).shape} and {_to_numpy(truth).shape}")
    return _out(((p - y) ** 2).mean(axis=(1, 2)), single)


# ---------------------------------------------------------------------------


def _last_nonzero_sign(s: np.ndarray) -> np.ndarray:
    """For signs s (N, S, D), the sign of the latest nonzero entry at or before each step (0 if none)."""
    N, S, D = s.shape
    idx = np.where(s != 0, np.arange(S)[None, :, None], -1)   # (N, S, D)
    idx = np.maximum.accumulate(idx, axis=1)                   # latest nonzero index so far
    filled = np.take_along_axis(s, np.maximum(idx, 0), axis=1)
    return np.where(idx >= 0, filled, 0)


def reflection_flips(x) -> np.ndarray:
    """Where each velocity component reverses: bool (N, T, D) (or (T, D) for one sequence).

    Rule: with steps v_t = x_{t+1} - x_t, component d *flips at step t* (1 <= t <= T-2)
    when v_t[d] is nonzero and has the opposite sign to the last nonzero v_s[d], s < t.
    x_t is then the reflection point. Steps of zero length in d (a ball held still,
    e.g. by a constant fill) are skipped over, so "+, 0, -" still counts as a flip.
    On trajectories without zero velocity components (the simulator's ground truth)
    this is exactly ``data_gen.billiards.reflection_mask`` split by component.

    Taught in ``02_masking.ipynb``.
    """
    a, single = _trajectories(x, min_T=1)
    N, T, D = a.shape
    flips = np.zeros((N, T, D), dtype=bool)
    if T >= 3:
        s = np.sign(np.diff(a, axis=1))                        # (N, T-1, D) sign of v_t
        before = _last_nonzero_sign(s)[:, :-1]                 # (N, T-2, D) last sign up to v_{t-1}
        now = s[:, 1:]                                         # (N, T-2, D) sign of v_t, t = 1..T-2
        flips[:, 1:-1] = (now != 0) & (before != 0) & (now != before)
    return flips[0] if single else flips


# ---------------------------------------------------------------------------
# 2. Sinuosity
# ---------------------------------------------------------------------------


def _safe_norm(v: np.ndarray) -> np.ndarray:
    """Euclidean norm over the last axis that does not underflow: m * ||v / m|| with m = max |v_d|.

    A plain ``np.linalg.norm`` squares each component first, so steps below ~1e-154 lose
    their digits (their squares are subnormal) and a ratio of two such norms, as in
    :func:`sinuosity`, could fall below its bound of 1.
    """
    m = np.abs(v).max(axis=-1)                                 # (...,)
    safe = np.where(m > 0, m, 1.0)
    return m * np.sqrt(((v / safe[..., None]) ** 2).sum(axis=-1))


def sinuosity(x):
    """Mean over straight segments of path length / endpoint distance (1 = straight).

    Rule: cut the trajectory at its reflection points (every step t where a velocity
    component reverses, see :func:`reflection_flips`). For each segment x_a .. x_b:

        sinuosity_segment = sum_{t=a}^{b-1} ||x_{t+1} - x_t||  /  ||x_b - x_a||

    and the sequence's sinuosity is the plain mean over its segments. Within a
    segment every coordinate is monotone, so the ratio lies in [1, sqrt(D)]; a segment
    that does not move at all counts as straight (1). A straight line scores exactly 1;
    a path that curves without reversing a component scores more.

    Source: the paper (§4.1, Table 1: expert 1.00) gives no formula and the original
    code defines none, so this is our definition. Cutting at reflections is what makes
    the ground truth score ~1: a whole bouncing trajectory is far from straight. On
    ``data_gen.billiards`` ground truth it gives ~1.00 (above 1 only because the one
    step containing each bounce is bent).

    Taught in ``02_masking.ipynb``.
    """
    a, single = _trajectories(x, min_T=2)
    N, T, D = a.shape
    v = np.diff(a, axis=1)                                     # (N, T-1, D) steps
    step_len = _safe_norm(v)                                   # (N, T-1)
    cut = reflection_flips(a).any(axis=-1)                     # (N, T): a new segment starts at x_t
    seg = np.cumsum(cut, axis=1)[:, :-1]                       # (N, T-1) segment of step t (x_t -> x_{t+1})
    n_seg = seg[:, -1] + 1                                     # (N,)
    flat = (np.arange(N)[:, None] * T + seg).ravel()           # unique id per (sequence, segment)
    path = np.bincount(flat, weights=step_len.ravel(), minlength=N * T)             # (N*T,)
    chord_vec = np.stack([np.bincount(flat, weights=v[..., d].ravel(), minlength=N * T) for d in range(D)], -1)
    chord = _safe_norm(chord_vec)                              # (N*T,) = ||x_b - x_a||
    ratio = np.where(chord > 0, path / np.where(chord > 0, chord, 1.0), 1.0).reshape(N, T)
    used = np.arange(T)[None, :] < n_seg[:, None]              # (N, T) which segment slots exist
    return _out(np.where(used, ratio, 0.0).sum(axis=1) / n_seg, single)


# ---------------------------------------------------------------------------
# 3. Step change
# ---------------------------------------------------------------------------


def step_change(x):
    """Average change of step size: mean_t | ||v_{t+1}|| - ||v_t|| |, with v_t = x_{t+1} - x_t.

    Averaged over t = 0..T-3 within each sequence (needs T >= 3). Constant speed in a
    straight line scores 0; in the ground truth only the steps that contain a bounce
    are shorter (the displacement is folded), which is why the expert value is not 0.

    Source: the original code's ``ave_change_step_size`` (felixykliu/NAOMI,
    ``helpers.py``, ``draw_and_stats``), there averaged over sequences and steps at once;
    the mean of our per-sequence values is the same number because every sequence has
    the same T. Paper expert value 1.59e-3 (Table 1).

    Taught in ``02_masking.ipynb``.
    """
    a, single = _trajectories(x, min_T=3)
    size = np.linalg.norm(np.diff(a, axis=1), axis=-1)         # (N, T-1) step sizes ||v_t||
    return _out(np.abs(np.diff(size, axis=1)).mean(axis=1), single)


# ---------------------------------------------------------------------------
# 4. Reflection distance
# ---------------------------------------------------------------------------


def reflection_distance(x, box: float = BOX, return_count: bool = False):
    """Mean distance between the reflection points and the wall they bounce off.

    Rule: for every reflection (step t where component d reverses, see
    :func:`reflection_flips`), the distance from x_t to the wall of axis d of the
    ball-centre box [-box, box]^D:

        dist = | box - |x_t[d]| |

    (the absolute value also charges reflections *beyond* the wall). The sequence's
    value is the mean over its reflections; a corner bounce counts once per axis.
    The ball turns exactly at the wall, but we only see it every step, so even the
    ground truth sits up to one step away from it: its value is about half the mean
    per-axis step.

    No reflection: a sequence without reflections scores 0.0 (never NaN). Because 0 is
    also the ideal score, summaries should leave those sequences out: pass
    ``return_count=True`` to get ``(distance, count)`` with the number of reflections
    per sequence, and e.g. ``summarize(distance, where=count > 0)``.

    Source: the paper (§4.1, Table 1: expert 0.018) gives no formula and the original
    code defines none; this is our definition. ``box`` defaults to 1 - radius of
    ``data_gen.billiards`` (0.8828).

    Taught in ``02_masking.ipynb``.
    """
    if isinstance(box, bool) or not isinstance(box, (int, float, np.integer, np.floating)) or not np.isfinite(box) or box <= 0:
        raise ValueError(f"box must be a positive number (half-width of the ball-centre box), got {box!r}")
    a, single = _trajectories(x, min_T=1)
    flips = reflection_flips(a)                                # (N, T, D)
    dist = np.abs(box - np.abs(a))                             # (N, T, D) distance to the wall of each axis
    count = flips.sum(axis=(1, 2))                             # (N,)
    total = np.where(flips, dist, 0.0).sum(axis=(1, 2))        # (N,)
    mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    if return_count:
        return _out(mean, single), _out(count, single)
    return _out(mean, single)


# ---------------------------------------------------------------------------
# Summaries (Figure 4: mean with 5th and 95th percentiles)
# ---------------------------------------------------------------------------


def summarize(values, where=None) -> dict:
    """``dict(mean, p5, p95, n)`` of per-sequence values, as in the paper's Figure 4.

    mean is the arithmetic mean; p5 and p95 the 5th and 95th percentiles (NumPy's
    default linear interpolation); n the number of values used. ``where`` (bool, same
    shape) keeps only some values, e.g. sequences that have reflections. Raises
    ValueError on NaN/inf or when no value is left, rather than returning NaN.

    Taught in ``02_masking.ipynb``.
    """
    v = _to_numpy(values).astype(np.float64).ravel()
    if where is not None:
        keep = _to_numpy(where).astype(bool).ravel()
        if keep.shape != v.shape:
            raise ValueError(f"where must have the same number of entries as values, got {keep.size} and {v.size}")
        v = v[keep]
    if v.size == 0:
        raise ValueError("summarize needs at least one value")
    if not np.isfinite(v).all():
        raise ValueError("summarize got NaN or inf values")
    p5, p95 = np.percentile(v, [5, 95])
    return {"mean": float(v.mean()), "p5": float(p5), "p95": float(p95), "n": int(v.size)}


def billiards_metrics(x, truth=None, mask=None, box: float = BOX) -> dict:
    """All per-sequence metrics of trajectories ``x`` (N, T, D) in one dict of (N,) arrays.

    Keys: ``sinuosity``, ``step_change``, ``reflection_distance``, ``n_reflections``, and
    ``l2_missing`` when ``truth`` and ``mask`` are given.

    Taught in ``02_masking.ipynb``.
    """
    dist, count = reflection_distance(x, box=box, return_count=True)
    out = {
        "sinuosity": sinuosity(x),
        "step_change": step_change(x),
        "reflection_distance": dist,
        "n_reflections": count,
    }
    if (truth is None) != (mask is None):
        raise ValueError("pass both truth and mask to get l2_missing, or neither")
    if truth is not None:
        out = {"l2_missing": l2_missing(x, truth, mask), **out}
    return out
