"""Two non-learned baselines for imputation: linear interpolation and k-nearest neighbours.

The paper's first two baselines (§4, "Baselines"; Figure 4): *Linear* "imputes the
missing values using linear interpolation between two known observations", and *KNN*
"finds the k nearest sequences in the training set based on known observations" and
imputes "the average of these k-nearest neighbors". They set the bar that a learned
model has to clear.

Conventions: ``x`` is (N, T, D) or one sequence (T, D), NumPy or torch, and may hold NaN
(or anything) at missing steps; ``mask`` is (N, T) or (T,), True = observed. Observed
values are returned exactly, and the result has the input's type (and, for torch, its
dtype and device).

Taught in ``02_masking.ipynb``.
"""
from __future__ import annotations

import numpy as np

from .masks import as_mask


def _split_type(x):
    """(float64 NumPy view of x, function that converts a result back to x's type)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor
        import torch

        dtype, device = x.dtype, x.device
        a = x.detach().cpu().numpy()

        def back(out):
            return torch.as_tensor(out).to(dtype=dtype if dtype.is_floating_point else torch.float32, device=device)

        return a, back
    a = np.asarray(x)
    out_dtype = a.dtype if np.issubdtype(a.dtype, np.floating) else np.float64
    return a, lambda out: out.astype(out_dtype, copy=False)


def _prepare(x, mask, name="x"):
    """Checked (N, T, D) float64 array, (N, T) bool mask, single-sequence flag, converter."""
    a, back = _split_type(x)
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"{name} must hold numbers, got dtype {a.dtype}")
    if a.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape (N, T, D) or (T, D), got {a.shape}")
    single = a.ndim == 2
    a = (a[None] if single else a).astype(np.float64)         # (N, T, D)
    m = as_mask(mask, shape=a.shape[1:2] if single else a.shape[:2])
    m = m[None] if single else m                              # (N, T)
    if not np.isfinite(a[m]).all():
        raise ValueError(f"{name} holds NaN or inf at an observed step (mask True); only missing steps may be NaN")
    empty = np.flatnonzero(~m.any(axis=1))
    if empty.size:
        raise ValueError(f"sequence(s) {empty[:10].tolist()} have no observed step; there is nothing to impute from")
    return a, m, single, back


def linear_interpolate(x, mask):
    """Fill missing steps by straight lines between the observed neighbours.

    Rule, for a missing step t with previous observed step p and next observed step q:

        x_t = x_p + (t - p) / (q - p) * (x_q - x_p)

    A leading gap (no p) holds the first observed value, a trailing gap (no q) the last
    observed value, constant. Observed steps are returned exactly. Vectorised over
    sequences and steps (no Python loop). Every sequence needs one observed step.

    Taught in ``02_masking.ipynb``.
    """
    a, m, single, back = _prepare(x, mask)
    N, T, D = a.shape
    t = np.arange(T)
    prev = np.maximum.accumulate(np.where(m, t, -1), axis=1)              # (N, T) last observed <= t
    nxt = np.minimum.accumulate(np.where(m, t, T)[:, ::-1], axis=1)[:, ::-1]  # (N, T) next observed >= t
    prev = np.where(prev < 0, nxt, prev)                                  # leading gap: hold the first value
    nxt = np.where(nxt >= T, prev, nxt)                                   # trailing gap: hold the last value
    span = nxt - prev
    w = np.where(span > 0, (t - prev) / np.maximum(span, 1), 0.0)[..., None]  # (N, T, 1)
    x_prev = np.take_along_axis(a, prev[..., None], axis=1)               # (N, T, D)
    x_next = np.take_along_axis(a, nxt[..., None], axis=1)                # (N, T, D)
    out = np.where(m[..., None], a, (1.0 - w) * x_prev + w * x_next)      # observed steps untouched
    out = back(out[0] if single else out)
    return _restore_observed(out, x, m[0] if single else m)


def _restore_observed(out, x, m):
    """Copy observed entries of ``x`` into ``out`` bit for bit (guards against dtype round trips)."""
    if hasattr(out, "detach"):
        import torch

        mt = torch.as_tensor(m, device=out.device)[..., None].expand_as(out)
        src = x.detach().to(dtype=out.dtype, device=out.device)
        return torch.where(mt, src, out)
    src = np.asarray(x).astype(out.dtype, copy=False)
    return np.where(m[..., None], src, out)


def knn_impute(x, mask, train, k: int = 10, chunk_size: int = 256):
    """Fill missing steps with the mean of the k training sequences closest on the observed steps.

    Distance between query i and training sequence j, over i's observed steps O_i:

        d(i, j) = (1 / (|O_i| * D)) * sum_{t in O_i} || x_i[t] - train_j[t] ||^2

    computed for all pairs at once by expanding the square (einsum/matmul). The k
    smallest d(i, j) pick the neighbours, whose plain average fills i's missing steps;
    observed steps are kept exactly. Queries are processed ``chunk_size`` at a time, so
    memory stays O(chunk_size * (M + k * T * D)) for M training sequences.

    Taught in ``02_masking.ipynb``.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    a, m, single, back = _prepare(x, mask)
    y, _ = _split_type(train)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 3 or y.shape[1:] != a.shape[1:]:
        raise ValueError(f"train must have shape (M, T, D) = (M, {a.shape[1]}, {a.shape[2]}), got {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError("train holds NaN or inf; training sequences must be complete")
    M = y.shape[0]
    if k > M:
        raise ValueError(f"k = {k} is larger than the number of training sequences ({M})")
    N, T, D = a.shape
    y_sq = (y ** 2).sum(axis=-1)                                          # (M, T)  ||train_j[t]||^2
    out = np.empty_like(a)
    for lo in range(0, N, chunk_size):
        xs = np.where(m[lo:lo + chunk_size, :, None], a[lo:lo + chunk_size], 0.0)  # (B, T, D), 0 at missing
        ms = m[lo:lo + chunk_size].astype(np.float64)                     # (B, T)
        # sum_{t in O_i} ||x_it||^2 - 2 x_it . y_jt + ||y_jt||^2, for all (i, j)
        d = (xs ** 2).sum(axis=(1, 2))[:, None] \
            - 2.0 * np.einsum("btd,mtd->bm", xs, y, optimize=True) \
            + ms @ y_sq.T                                                 # (B, M)
        d /= (ms.sum(axis=1) * D)[:, None]
        nearest = np.argpartition(d, k - 1, axis=1)[:, :k]                # (B, k), unordered
        fill = y[nearest].mean(axis=1)                                    # (B, T, D)
        out[lo:lo + chunk_size] = np.where(m[lo:lo + chunk_size, :, None], a[lo:lo + chunk_size], fill)
    out = back(out[0] if single else out)
    return _restore_observed(out, x, m[0] if single else m)
