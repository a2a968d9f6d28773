"""Planning the batched imputation loop (Algorithm 1, lines 6-12, for a whole batch at once).

NAOMI fills one missing step per iteration, and after each one the encoders must see
the new value (line 11). Re-running both GRUs over the whole sequence after every step,
as a literal reading of line 11 suggests, costs O(T^2) GRU steps per sequence. Two
facts make it O(T):

* the leftmost-gap rule means everything up to the left pivot p is final, so the
  forward encoder only ever moves right: it reads each step once;
* the backward state at position c depends on steps c..T-1 only. Imputing step t
  spoils the backward states at positions <= t and nothing else, so we keep a
  "frontier" v (states at v and beyond are up to date) and, when a context c < v is
  needed, recompute the states from v-1 down to c.

This module turns each row's mask into a small program of *ticks*. In one tick a row
may take one forward-encoder step, one backward-encoder step, and then decode one
missing value. Rows with different masks run different programs side by side; the
batched loop in ``naomi_lite.imputation`` executes tick k for every row at once.
Recomputed backward states are kept in a few numbered *slots* per row (allocated here
like registers), so the loop never stores a full (B, T) bank of states per tick.

Taught in ``04_multiresolution_decoder.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .masks import ImputationStep, imputation_order

# Columns of one tick: forward read position; backward read position, source slot,
# destination slot; decoded step, its level, the slot holding its context state, the
# context position. -1 means "nothing" (for slots: "the initial backward pass").
F_POS, B_POS, B_SRC, B_DST, D_T, D_LEVEL, D_SRC, D_CTX = range(8)
_NONE = (-1,) * 8


@dataclass
class Schedule:
    """Tick programs for a batch: ``ticks[k, b]`` is row b's tick k (8 ints, -1 = none)."""

    ticks: np.ndarray  # (K, B, 8) int64
    n_slots: int
    orders: list[list[ImputationStep]]

    @property
    def n_ticks(self) -> int:
        return self.ticks.shape[0]


def row_program(order: list[ImputationStep]) -> tuple[list[tuple], int]:
    """One row's ticks with backward states assigned to slots; returns (ticks, slots used).

    Taught in ``04_multiresolution_decoder.ipynb``.
    """
    ticks: list[list[int]] = []
    latest: dict[int, int] = {}  # position -> id of its most recent recomputed backward state
    f, v, n_values = -1, 0, 0  # forward has read 0..f; backward states >= v are up to date
    for t, pivot, context, step in order:
        n_f = pivot - f if pivot > f else 0  # forward reads f+1 .. pivot
        n_b = v - context if context < v else 0  # backward recomputes v-1 down to context
        for k in range(max(n_f, n_b, 1)):
            tick = list(_NONE)
            if k < n_f:
                tick[F_POS] = f + 1 + k
            if k < n_b:
                j = v - 1 - k
                tick[B_POS], tick[B_SRC], tick[B_DST] = j, latest.get(j + 1, -1), n_values
                latest[j] = n_values
                n_values += 1
            ticks.append(tick)
        tick = ticks[-1]  # the event's last tick decodes t
        tick[D_T], tick[D_LEVEL] = t, step.bit_length() - 1
        tick[D_SRC], tick[D_CTX] = latest.get(context, -1), context
        f, v = max(f, pivot), min(v, context)
        v = max(v, t + 1)  # imputing t spoils the backward states at positions <= t
    return _allocate_slots(ticks, n_values)


def _allocate_slots(ticks: list[list[int]], n_values: int) -> tuple[list[tuple], int]:
    """Replace value ids by slot numbers, reusing a slot once its value is read for the last time."""
    last_use = [-1] * n_values
    for k, tick in enumerate(ticks):
        for col in (B_SRC, D_SRC):
            if tick[col] >= 0:
                last_use[tick[col]] = k
    slot_of = [-1] * n_values
    free: list[int] = []
    n_slots = 0
    out = []
    for k, tick in enumerate(ticks):
        b_src, b_dst, d_src = tick[B_SRC], tick[B_DST], tick[D_SRC]
        row = list(tick)
        if b_src >= 0:
            row[B_SRC] = slot_of[b_src]
            if last_use[b_src] == k:  # read before the write below, so its slot may be reused now
                free.append(slot_of[b_src])
        if b_dst >= 0:
            if free:
                slot_of[b_dst] = free.pop()
            else:
                slot_of[b_dst] = n_slots
                n_slots += 1
            row[B_DST] = slot_of[b_dst]
        if d_src >= 0:
            row[D_SRC] = slot_of[d_src]
            if last_use[d_src] == k:
                free.append(slot_of[d_src])
        if b_dst >= 0 and last_use[b_dst] == -1:  # computed but never read
            free.append(slot_of[b_dst])
        out.append(tuple(row))
    return out, n_slots


def build_schedule(mask: np.ndarray, highest: int) -> Schedule:
    """Plan the imputation of a batch: mask (B, T) bool, True = observed.

    Taught in ``04_multiresolution_decoder.ipynb``.
    """
    mask = np.asarray(mask, dtype=bool)
    orders, programs, n_slots = [], [], 1
    for row in mask:
        order = imputation_order(row, highest)
        program, used = row_program(order)
        orders.append(order)
        programs.append(program)
        n_slots = max(n_slots, used)
    n_ticks = max((len(p) for p in programs), default=0)
    ticks = np.full((n_ticks, len(programs), 8), -1, dtype=np.int64)  # (K, B, 8)
    for b, program in enumerate(programs):
        if program:
            ticks[: len(program), b] = program
    return Schedule(ticks, n_slots, orders)
