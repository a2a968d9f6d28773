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


class GaussianConditional:
    """A linear-Gaussian imputer (kit's yardstick, not in the paper): fit the mean and covariance of
    whole training sequences, then impute each sequence by the Gaussian conditional on its observed steps.

    With every sequence flattened to one vector v = vec(x) of T*D values (time-major), mean mu and
    covariance S (plus ``ridge`` times the average variance on the diagonal), the missing part m
    given the observed part o is Gaussian with

        mean  mu_m + S_mo S_oo^-1 (v_o - mu_o)
        cov   S_mm - S_mo S_oo^-1 S_om

    (Kriging; the best *linear* imputer of these data in squared error). ``impute`` returns the
    mean, ``samples`` draws from the conditional. It knows nothing of physics or goals, only the
    data's second moments; so whatever a learned model gains over it is non-linear structure.
    Taught in ``06_adversarial_imitation.ipynb``.
    """

    def __init__(self, train, ridge: float = 1e-6):
        y, _ = _split_type(train)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 3:
            raise ValueError(f"train must have shape (M, T, D), got {y.shape}")
        if len(y) < 2:
            raise ValueError(f"train needs at least 2 sequences for a covariance, got {len(y)}")
        if not np.isfinite(y).all():
            raise ValueError("train holds NaN or inf; training sequences must be complete")
        if not ridge >= 0:
            raise ValueError(f"ridge must be >= 0, got {ridge!r}")
        self.T, self.D = y.shape[1:]
        flat = y.reshape(len(y), -1)                                      # (M, T*D)
        self.mu = flat.mean(axis=0)                                       # (T*D,)
        cov = np.cov(flat, rowvar=False)                                  # (T*D, T*D)
        self.cov = cov + ridge * np.trace(cov) / len(cov) * np.eye(len(cov))

    def _parts(self, v, m):
        """One sequence: (observed flags (T*D,), conditional mean (n_missing,), gain) for vec v and mask m (T,)."""
        o = np.repeat(m, self.D)                                          # (T*D,) observed entries
        gain = np.linalg.solve(self.cov[np.ix_(o, o)], self.cov[np.ix_(o, ~o)]).T  # (n_m, n_o): S_mo S_oo^-1
        return o, self.mu[~o] + gain @ (v[o] - self.mu[o]), gain

    def _check(self, x, mask):
        a, m, single, back = _prepare(x, mask)
        if a.shape[1:] != (self.T, self.D):
            raise ValueError(f"x must have shape (N, {self.T}, {self.D}) like the training sequences, got {a.shape}")
        return a, m, single, back

    def impute(self, x, mask):
        """The conditional mean, (N, T, D) (or (T, D)); observed steps exactly as given."""
        a, m, single, back = self._check(x, mask)
        out = a.copy()
        for i in range(len(a)):
            v = a[i].reshape(-1)                                          # (T*D,)
            o, mean, _ = self._parts(v, m[i])
            out[i].reshape(-1)[~o] = mean
        out = back(out[0] if single else out)
        return _restore_observed(out, x, m[0] if single else m)

    def samples(self, x, mask, n_samples: int = 20, seed: int = 0) -> np.ndarray:
        """``n_samples`` draws from the conditional, NumPy (N, S, T, D); observed steps as given."""
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
        a, m, single, _ = self._check(x, mask)
        rng = np.random.default_rng(seed)
        out = np.repeat(a[:, None], n_samples, axis=1)                    # (N, S, T, D)
        for i in range(len(a)):
            o, mean, gain = self._parts(a[i].reshape(-1), m[i])
            cov = self.cov[np.ix_(~o, ~o)] - gain @ self.cov[np.ix_(o, ~o)]  # (n_m, n_m)
            w, V = np.linalg.eigh((cov + cov.T) / 2)
            root = V * np.sqrt(np.clip(w, 0, None))                       # (n_m, n_m): root @ root.T = cov
            draws = mean + rng.standard_normal((n_samples, len(mean))) @ root.T  # (S, n_m)
            flat = out[i].reshape(n_samples, -1)                          # (S, T*D), a view
            flat[:, ~o] = draws
        out = np.where(m[:, None, :, None], np.asarray(a)[:, None], out)
        return (out[0] if single else out).astype(np.float32)
