"""Masks and the order in which NAOMI fills them (paper §3.3 and Algorithm 1, lines 6-12).

Convention (shared with PyPOTS): ``mask`` has shape (B, T) or (T,), and ``True`` (or 1)
means the step is *observed*. Every sequence in a batch may have its own mask.

Taught in ``02_masking.ipynb`` (patterns, order) and ``04_multiresolution_decoder.ipynb``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

# ---------------------------------------------------------------------------
# The imputation order (Algorithm 1, lines 7-9)
# ---------------------------------------------------------------------------


class ImputationStep(NamedTuple):
    """One step of NAOMI's coarse-to-fine loop.

    ``t`` is the step being imputed, ``pivot`` the last known step before it (the left
    pivot p, whose forward state is used), ``context`` the position p + 2s whose backward
    state is used, and ``step`` the step size s = t - pivot. ``pivot`` is -1 and
    ``context`` is T when a gap touches the start or the end of the sequence (see
    :func:`imputation_order`).
    """

    t: int
    pivot: int
    context: int
    step: int

    @property
    def level(self) -> int:
        """Resolution level, log2(step): 0 is the finest decoder g(1-step), higher is coarser."""
        return self.step.bit_length() - 1


def check_highest(highest: int) -> int:
    """Validate ``highest``, the coarsest step size of the decoder: a power of two >= 1."""
    if isinstance(highest, bool) or not isinstance(highest, (int, np.integer)):
        raise TypeError(f"highest must be an integer power of two, got {highest!r}")
    highest = int(highest)
    if highest < 1 or highest & (highest - 1):
        raise ValueError(f"highest must be a power of two (1, 2, 4, 8, ...), got {highest}")
    return highest


def _as_bool_mask_1d(mask) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim != 1:
        raise ValueError(f"imputation_order takes one sequence's mask of shape (T,), got shape {m.shape}")
    if m.dtype != bool:
        if not np.isin(m, (0, 1)).all():
            raise ValueError("mask must be boolean, or hold only 0 and 1 (1 = observed)")
        m = m.astype(bool)
    return m


def imputation_order(mask, highest: int = 64) -> list[ImputationStep]:
    """List every missing step of one sequence in the order NAOMI fills it.

    Computed from the mask alone (no values needed). The rule, from Algorithm 1 and
    the original implementation:

    1. take the leftmost gap: p is its last known step and q the next known step
       (q = T when the gap runs to the end of the sequence);
    2. the step size s is the largest power of two with p + 2s <= q, capped at ``highest``;
    3. impute t = p + s from the forward state after p and the backward state at p + 2s;
    4. t becomes known, and the rule repeats until nothing is missing.

    A sequence that *starts* with a gap gets a virtual left pivot p = -1, whose forward
    state is the encoder's initial (zero) state: the first steps are then imputed from
    the future alone. Symmetrically, a trailing gap has q = T, whose backward state is
    the initial (zero) state. Paper's Figure 3 (steps 1 and 5 known, 1-based) gives the
    order 3, 2, 4.

    Taught in ``02_masking.ipynb`` and ``04_multiresolution_decoder.ipynb``.
    """
    known = _as_bool_mask_1d(mask).copy()
    highest = check_highest(highest)
    T = known.shape[0]
    order: list[ImputationStep] = []
    left = 0  # every step before `left` is known
    while True:
        while left < T and known[left]:
            left += 1
        if left == T:
            return order
        p = left - 1
        q = left + 1
        while q < T and not known[q]:
            q += 1
        s = 1
        while 2 * s <= highest and p + 4 * s <= q:
            s *= 2
        t = p + s
        order.append(ImputationStep(t, p, p + 2 * s, s))
        known[t] = True
