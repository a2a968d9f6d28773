"""Masks and the order in which NAOMI fills them (paper §3.3 and Algorithm 1, lines 6-12).

Convention (shared with PyPOTS): ``mask`` has shape (B, T) or (T,), and ``True`` (or 1)
means the step is *observed*. Every sequence in a batch may have its own mask.

Taught in ``02_masking.ipynb`` (patterns, order) and ``04_multiresolution_decoder.ipynb``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

# ---------------------------------------------------------------------------
# The imputation order (Algorithm 1, lines 7-9)
# ---------------------------------------------------------------------------


class ImputationStep(NamedTuple):
    """One step of NAOMI's coarse-to-fine loop.

    ``t`` is the step being imputed, ``pivot`` the last known step before it (the left
    pivot p, whose forward state is used), ``context`` the position p + 2s whose backward
    state is used, ``step`` the step size s = t - pivot, and ``right`` the known step q that
    closes the gap (p < t < p + 2s <= q). ``pivot`` is -1, and ``context`` and ``right`` are
    T, when a gap touches the start or the end of the sequence (see :func:`imputation_order`).
    """

    t: int
    pivot: int
    context: int
    step: int
    right: int  # q, the next known step after the pivot (T past the end): the gap being filled is (pivot, right)

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
    3. impute t = p + s from the forward state after p and the backward state at the
       *context* p + 2s (with the kit's pivot-relative heads, also from x_p and x_q);
    4. t becomes known, and the rule repeats until nothing is missing.

    A sequence that *starts* with a gap gets a virtual left pivot p = -1, whose forward
    state is the encoder's initial (zero) state: the first steps are then imputed from
    the future alone. Symmetrically, a trailing gap has q = T, whose backward state is
    the initial (zero) state. Paper's Figure 3 (steps 1 and 5 known, 1-based) gives the
    order 3, 2, 4.

    Taught in ``02_masking.ipynb`` and ``04_multiresolution_decoder.ipynb``.
    """
    known = _as_bool_mask_1d(mask)
    highest = check_highest(highest)
    # The rule fills a gap completely before it moves to the next one (every step left of the
    # leftmost gap is known), and inside a gap it only looks at positions relative to the gap's
    # left pivot p. So each gap's order is that of a gap of the same length, shifted by p, and is
    # computed once per (length, highest) by _gap_order.
    missing = np.flatnonzero(~known)  # (n_missing,)
    if missing.size == 0:
        return []
    breaks = np.diff(missing) > 1
    starts = missing[np.r_[True, breaks]]  # first missing step of each gap
    ends = missing[np.r_[breaks, True]] + 1  # one past its last missing step: the next known step (or T)
    order: list[ImputationStep] = []
    for a, b in zip(starts.tolist(), ends.tolist()):
        p = a - 1
        order.extend(ImputationStep(p + t, p + pivot, p + context, step, p + right)
                     for t, pivot, context, step, right in _gap_order(b - p, highest))
    return order


@functools.lru_cache(maxsize=None)
def _gap_order(length: int, highest: int) -> tuple[tuple[int, int, int, int], ...]:
    """The rule of :func:`imputation_order` on one gap: pivots 0 and ``length`` known, 1..length-1
    missing. Returns (t, pivot, context, step, right) tuples relative to the left pivot."""
    known = [True] + [False] * (length - 1) + [True]
    order = []
    left = 0  # every step before `left` is known
    while True:
        while left < length and known[left]:
            left += 1
        if left == length:
            return tuple(order)
        p = left - 1
        q = left + 1
        while not known[q]:
            q += 1
        s = 1
        while 2 * s <= highest and p + 4 * s <= q:
            s *= 2
        order.append((p + s, p, p + 2 * s, s, q))
        known[p + s] = True


# ---------------------------------------------------------------------------
# The batched plan: Algorithm 1 for many rows at once (run by ``model.NAOMI.run``)
# ---------------------------------------------------------------------------
# Re-running both encoders after every imputed step, as line 11 reads literally, costs O(T^2)
# GRU steps per sequence. Two facts make it O(T), and the plan below follows them:
#
# * everything left of the left pivot is known (leftmost-gap rule), so the forward encoder
#   only ever moves right: it reads each step once;
# * the backward state at position c has read steps c..T-1 only. Imputing t spoils the states
#   at positions <= t and no others, so we keep a frontier v (states at v and beyond are up to
#   date) and, when a context c < v is needed, recompute the states from v-1 down to c.
#
# Each row gets a program of *ticks*: in one tick a row may take one forward-encoder step, one
# backward-encoder step, and then decode its next t*. Rows with different masks run their own
# programs side by side, tick k for every row at once.

_ROW_TICK = np.dtype([
    ("forward", np.int64),         # step the forward encoder reads (-1: none)
    ("backward", np.int64),        # position whose backward state is recomputed (-1: none) ...
    ("backward_from", np.int64),   # ... from the state at position + 1 made at this tick (-1: the first pass)
    ("backward_known", np.int64),  # m_j of that position at that time: 1 if observed or imputed already
    ("backward_gap", np.int64),    # steps from that position to the next known step at or after it (T - j past the last)
    ("impute", np.int64),          # t*, decoded at the end of the tick (-1: none)
    ("level", np.int64),           # log2 of the step size s
    ("pivot", np.int64),           # p
    ("right", np.int64),           # q
    ("context", np.int64),         # p + 2s
    ("context_from", np.int64),    # tick that made the backward state at the context (-1: the first pass)
])


def row_program(order: list[ImputationStep], observed) -> np.ndarray:
    """One row's ticks (a structured array, fields in ``_ROW_TICK``) for its imputation order.

    Taught in ``04_multiresolution_decoder.ipynb``.
    """
    ticks = []
    made = {}  # position -> the tick that last recomputed its backward state
    known = np.array(observed, dtype=bool)
    f, v = -1, 0  # the forward encoder has read steps 0..f; backward states at positions >= v are up to date
    for s in order:
        n_forward = s.pivot - f if s.pivot > f else 0  # forward reads f+1 .. pivot
        n_backward = v - s.context if s.context < v else 0  # backward recomputes v-1 down to the context
        for i in range(max(n_forward, n_backward, 1)):
            tick = [-1, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1]
            if i < n_forward:
                tick[0] = f + 1 + i
            if i < n_backward:
                j = v - 1 - i
                q = j
                while q < len(known) and not known[q]:
                    q += 1
                tick[1:5] = j, made.get(j + 1, -1), int(known[j]), q - j
                made[j] = len(ticks)
            ticks.append(tick)
        ticks[-1][5:] = s.t, s.step.bit_length() - 1, s.pivot, s.right, s.context, made.get(s.context, -1)  # decode t*
        known[s.t] = True
        f = max(f, s.pivot)
        v = max(min(v, s.context), s.t + 1)  # imputing t spoils the backward states at positions <= t
    return np.array(ticks, dtype=np.int64).reshape(-1, len(_ROW_TICK.names)).view(_ROW_TICK)[:, 0]  # (K,) records


@dataclass
class StateSource:
    """Where n backward states are: ``parts`` [(tick, index)] (tick -1: the first backward pass,
    indexed among this tick's reads of it), concatenated, then put in row order by ``order``."""

    parts: list
    order: object = None  # None when the parts are already in row order


@dataclass
class Tick:
    """What the rows do together in one tick; each array has one entry per row that acts.

    Reads of known values are flat indices row * T + step into the (B*T, D) values."""

    forward_rows: object = None    # rows whose forward encoder reads one more known step ...
    forward_reads: object = None   # ... that step
    backward_rows: object = None   # rows whose backward encoder recomputes one stale state ...
    backward_reads: object = None  # ... reading the value at that position ...
    backward_known: object = None  # ... with m = 1 if it is known, (n, 1) ...
    backward_gaps: object = None   # ... and its steps to the next known step (the kit's backward_gap input), (n, 1) ...
    backward_from: StateSource | None = None  # ... from the state at position + 1
    impute_rows: object = None     # rows that decode their next step: t*, its level, the pivots p and q,
    impute_steps: object = None
    levels: object = None
    pivots: object = None
    rights: object = None
    pivot_reads: object = None     # reads of x_p and x_q (clamped at the ends)
    right_reads: object = None
    context_from: StateSource | None = None  # the backward state at the context p + 2s


def _state_source(made_at: np.ndarray, first_pass_index: np.ndarray, rank: np.ndarray, first_here: list) -> StateSource:
    """Resolve n state reads to the ticks that made them. ``made_at`` (n,): the tick, or -1 for the
    first pass (then ``first_pass_index`` says where, and the read joins ``first_here``);
    ``rank`` (K, n): each reading row's place among the rows of every tick."""
    parts, where = [], []
    for k in np.unique(made_at):
        sel = np.flatnonzero(made_at == k)
        if k < 0:
            index = sum(len(r) for r in first_here) + np.arange(sel.size)
            first_here.append(first_pass_index[sel])
        else:
            index = rank[k, sel]
        parts.append((int(k), index))
        where.append(sel)
    order = np.concatenate(where)
    return StateSource(parts, None if np.array_equal(order, np.arange(order.size)) else np.argsort(order))


@dataclass
class BatchPlan:
    """Every tick of a batch, and the reads of the first backward pass (one gather, split by tick)."""

    ticks: list
    first_pass_reads: object  # flat indices row * (T+1) + position into the first pass
    first_pass_counts: list   # how many of them each tick uses

    def to(self, device, dtype=None) -> "BatchPlan":
        """The same plan with every index array a torch tensor on ``device``, in one transfer."""
        import torch

        arrays = []
        self._map(lambda a: arrays.append(a) or a)
        if not arrays:
            return self
        flat = torch.as_tensor(np.concatenate(arrays), device=device)
        pieces = iter(flat.split([len(a) for a in arrays]))
        plan = self._map(lambda a: next(pieces))
        for tick in plan.ticks:
            if tick.backward_known is not None:
                tick.backward_known = tick.backward_known.to(dtype or torch.float32).unsqueeze(1)  # (n, 1)
                tick.backward_gaps = tick.backward_gaps.to(dtype or torch.float32).unsqueeze(1)  # (n, 1)
        return plan

    def _map(self, fn) -> "BatchPlan":
        def convert(value):
            if isinstance(value, StateSource):
                return StateSource([(k, fn(i)) for k, i in value.parts], None if value.order is None else fn(value.order))
            return value if value is None else fn(value)

        ticks = [Tick(**{name: convert(getattr(t, name)) for name in Tick.__dataclass_fields__}) for t in self.ticks]
        return BatchPlan(ticks, fn(self.first_pass_reads), self.first_pass_counts)


def plan_batch(mask, highest: int) -> BatchPlan:
    """Plan Algorithm 1 for a batch: mask (B, T) bool, True = observed -> :class:`BatchPlan`.

    Each row's program comes from :func:`row_program`; here tick k of every row is gathered,
    and every read of a backward state is resolved to the tick that made it.
    Taught in ``04_multiresolution_decoder.ipynb``.
    """
    mask = np.asarray(mask, dtype=bool)
    B, T = mask.shape
    programs = [row_program(imputation_order(row, highest), row) for row in mask]
    K = max((len(p) for p in programs), default=0)
    columns = {name: np.full((K, B), -1, dtype=np.int64) for name in _ROW_TICK.names}  # field -> (K, B)
    for b, program in enumerate(programs):
        for name in _ROW_TICK.names:
            columns[name][: len(program), b] = program[name]
    rank = np.full((K, B), -1)  # rank[k, b]: where row b's recomputed state sits among tick k's
    first_reads, counts, ticks = [], [], []
    for k in range(K):
        row = {name: column[k] for name, column in columns.items()}  # (B,) each: what every row does at tick k
        tick, first_here = Tick(), []  # first_here: this tick's reads of the first pass
        acting = np.flatnonzero(row["forward"] >= 0)
        if acting.size:
            tick.forward_rows, tick.forward_reads = acting, acting * T + row["forward"][acting]
        acting = np.flatnonzero(row["backward"] >= 0)
        if acting.size:
            position = row["backward"][acting]
            tick.backward_rows, tick.backward_reads = acting, acting * T + position
            tick.backward_known = row["backward_known"][acting]
            tick.backward_gaps = row["backward_gap"][acting]
            tick.backward_from = _state_source(row["backward_from"][acting], acting * (T + 1) + position + 1,
                                               rank[:, acting], first_here)
            rank[k, acting] = np.arange(acting.size)
        acting = np.flatnonzero(row["impute"] >= 0)
        if acting.size:
            tick.impute_rows, tick.impute_steps, tick.levels = acting, row["impute"][acting], row["level"][acting]
            tick.pivots, tick.rights = row["pivot"][acting], row["right"][acting]
            tick.pivot_reads = acting * T + np.maximum(tick.pivots, 0)
            tick.right_reads = acting * T + np.minimum(tick.rights, T - 1)
            tick.context_from = _state_source(row["context_from"][acting], acting * (T + 1) + row["context"][acting],
                                              rank[:, acting], first_here)
        first_reads.extend(first_here)
        counts.append(sum(len(r) for r in first_here))
        ticks.append(tick)
    reads = np.concatenate(first_reads) if first_reads else np.zeros(0, dtype=np.int64)
    return BatchPlan(ticks, reads, counts)


# ---------------------------------------------------------------------------
# Mask patterns (paper §4.1, §4.2, §4.3, and a few harder ones)
# ---------------------------------------------------------------------------
# Every generator returns a NumPy bool array of shape (n, T), True = observed, one
# independent mask per sequence, drawn with ``np.random.default_rng(seed)``: the
# same arguments always give the same masks. Every generator needs n >= 1 and T >= 2
# (a ValueError otherwise) and integer n, T and seed >= 0 (a TypeError for 2.0 or True).


def _check_int(name: str, value, minimum: int) -> int:
    """``value`` as an int >= ``minimum``, or a TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_range(name: str, pair, minimum: int, maximum: int) -> tuple[int, int]:
    """``pair`` as integers (lo, hi) with minimum <= lo <= hi <= maximum."""
    if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
        raise TypeError(f"{name} must be a pair (low, high) of integers, got {pair!r}")
    lo = _check_int(f"{name}[0]", pair[0], minimum)
    hi = _check_int(f"{name}[1]", pair[1], minimum)
    if lo > hi:
        raise ValueError(f"{name} must satisfy low <= high, got {pair!r}")
    if hi > maximum:
        raise ValueError(f"{name}[1] must be <= {maximum} here, got {hi}")
    return lo, hi


def _check_probability(name: str, p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1], got {p!r}")
    p = float(p)
    if not 0.0 <= p <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1], got {p}")
    return p


def _rng(seed) -> np.random.Generator:
    return np.random.default_rng(_check_int("seed", seed, 0))


def _random_subset(rng: np.random.Generator, n: int, T: int, k: np.ndarray) -> np.ndarray:
    """(n, T) bool with exactly k[i] True entries in row i, placed uniformly at random."""
    ranks = rng.random((n, T)).argsort(axis=1).argsort(axis=1)  # (n, T) a random permutation per row
    return ranks < k[:, None]


BILLIARDS_MISSING = (180, 195)  # paper §4.1: 180-195 of 200 steps missing (the one definition; data.TASKS uses it)
COURT_MISSING = (40, 49)  # paper §4.2: 40-49 of 50 steps missing


def paper_mask(n: int, T: int = 200, missing: tuple[int, int] = BILLIARDS_MISSING, seed: int = 0) -> np.ndarray:
    """The paper's masks (§4.1): step 0 observed, k of the other T - 1 steps missing.

    Rule, per sequence: draw k uniformly from {missing[0], ..., missing[1]} (inclusive),
    then hide k of the steps 1..T-1 chosen uniformly at random. Billiards uses T = 200
    and 180 to 195 missing steps; basketball (§4.2) uses T = 50 and 40 to 49.

    Taught in ``02_masking.ipynb``.
    """
    n = _check_int("n", n, 1)
    T = _check_int("T", T, 2)
    lo, hi = _check_range("missing", missing, 0, T - 1)
    rng = _rng(seed)
    k = rng.integers(lo, hi + 1, size=n)  # (n,) number of missing steps per sequence
    mask = np.ones((n, T), dtype=bool)
    mask[:, 1:] = ~_random_subset(rng, n, T - 1, k)
    return mask


def forward_mask(n: int, T: int, n_observed: int = 1, seed: int = 0) -> np.ndarray:
    """Forward inference (§4.3): only the first ``n_observed`` steps are observed.

    Rule: m_t = 1 for t < n_observed, else 0. With ``n_observed = 1`` this is the paper's
    m_i = 0 for all i >= 1. Deterministic: ``seed`` is accepted (so that every pattern in
    :data:`MASK_PATTERNS` can be called the same way) and checked, but not used.

    Taught in ``02_masking.ipynb``.
    """
    n = _check_int("n", n, 1)
    T = _check_int("T", T, 2)
    n_observed = _check_int("n_observed", n_observed, 1)
    if n_observed > T:
        raise ValueError(f"n_observed must be <= T = {T}, got {n_observed}")
    _check_int("seed", seed, 0)
    mask = np.zeros((n, T), dtype=bool)
    mask[:, :n_observed] = True
    return mask


def gap_mask(n: int, T: int, n_gaps: int = 1, gap_length: tuple[int, int] = (10, 40), seed: int = 0) -> np.ndarray:
    """Contiguous occlusions: ``n_gaps`` runs of missing steps per sequence.

    Rule, per gap: length L uniform in {gap_length[0], ..., gap_length[1]}, start uniform
    in {0, ..., T - L}; steps start..start+L-1 are missing. Gaps may overlap or touch
    (then they merge into a longer one) and may touch either end of the sequence. We
    require n_gaps * gap_length[1] <= T - 1, so at least one step is always observed.

    Taught in ``02_masking.ipynb``.
    """
    n = _check_int("n", n, 1)
    T = _check_int("T", T, 2)
    n_gaps = _check_int("n_gaps", n_gaps, 0)
    lo, hi = _check_range("gap_length", gap_length, 1, T - 1)
    if n_gaps * hi > T - 1:
        raise ValueError(
            f"n_gaps * gap_length[1] = {n_gaps * hi} must be <= T - 1 = {T - 1}, "
            "so that every sequence keeps at least one observed step"
        )
    rng = _rng(seed)
    length = rng.integers(lo, hi + 1, size=(n, n_gaps))           # (n, G)
    start = rng.integers(0, T - length + 1)                        # (n, G), start <= T - L
    t = np.arange(T)                                               # (T,)
    inside = (t >= start[..., None]) & (t < (start + length)[..., None])  # (n, G, T)
    return ~inside.any(axis=1)


def random_mask(n: int, T: int, p_missing: float = 0.5, seed: int = 0) -> np.ndarray:
    """Independent missingness: each step is missing with probability ``p_missing``.

    Rule: m_t ~ Bernoulli(1 - p_missing), independently over steps and sequences. A
    sequence that comes out with no observed step gets one step, chosen uniformly,
    made observed again, so that every sequence keeps at least one observation.

    Taught in ``02_masking.ipynb``.
    """
    n = _check_int("n", n, 1)
    T = _check_int("T", T, 2)
    p_missing = _check_probability("p_missing", p_missing)
    rng = _rng(seed)
    mask = rng.random((n, T)) >= p_missing                         # (n, T)
    empty = ~mask.any(axis=1)
    mask[np.flatnonzero(empty), rng.integers(0, T, size=int(empty.sum()))] = True
    return mask


def edge_mask(
    n: int,
    T: int,
    lead: tuple[int, int] = (0, 20),
    trail: tuple[int, int] = (0, 20),
    p_missing: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Gaps at either end: a leading and a trailing run of missing steps, plus optional
    independent missingness in between.

    Rule, per sequence: a ~ uniform{lead[0..1]} leading steps missing, b ~ uniform{trail[0..1]}
    trailing steps missing, and each interior step missing with probability ``p_missing``.
    We require lead[1] + trail[1] <= T - 1; if the interior comes out fully missing, one
    interior step (chosen uniformly) is made observed, so the leading and trailing gaps
    keep exactly their drawn lengths. These gaps are the ones that need the virtual
    pivots -1 and T of :func:`imputation_order`.

    Taught in ``02_masking.ipynb``.
    """
    n = _check_int("n", n, 1)
    T = _check_int("T", T, 2)
    lead = _check_range("lead", lead, 0, T - 1)
    trail = _check_range("trail", trail, 0, T - 1)
    if lead[1] + trail[1] > T - 1:
        raise ValueError(f"lead[1] + trail[1] = {lead[1] + trail[1]} must be <= T - 1 = {T - 1}")
    p_missing = _check_probability("p_missing", p_missing)
    rng = _rng(seed)
    a = rng.integers(lead[0], lead[1] + 1, size=n)                 # (n,) leading gap lengths
    b = rng.integers(trail[0], trail[1] + 1, size=n)               # (n,) trailing gap lengths
    t = np.arange(T)
    interior = (t >= a[:, None]) & (t < (T - b)[:, None])          # (n, T)
    mask = interior & (rng.random((n, T)) >= p_missing)
    empty = ~mask.any(axis=1)
    if empty.any():
        rows = np.flatnonzero(empty)
        pick = a[rows] + (rng.random(rows.size) * (T - b[rows] - a[rows])).astype(int)
        mask[rows, pick] = True
    return mask


#: Pattern name -> generator. Every generator can be called as ``f(n, T, seed=seed)``
#: with its other arguments left at their defaults (used by the widget in 02_masking).
MASK_PATTERNS = {
    "paper": paper_mask,
    "forward": forward_mask,
    "gap": gap_mask,
    "random": random_mask,
    "edge": edge_mask,
}


def as_mask(mask, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Validate a user's mask and return it as a NumPy bool array (True = observed).

    Accepts NumPy arrays, torch tensors and nested lists holding booleans, or integers /
    floats that are exactly 0 or 1. Raises ValueError on any other value (2, 0.5, NaN)
    or when ``shape`` is given and does not match; TypeError on non-numeric input.

    Taught in ``02_masking.ipynb``.
    """
    if hasattr(mask, "detach") and hasattr(mask, "cpu"):  # a torch tensor
        mask = mask.detach().cpu().numpy()
    m = np.asarray(mask)
    if m.dtype != bool:
        if not (np.issubdtype(m.dtype, np.integer) or np.issubdtype(m.dtype, np.floating)):
            raise TypeError(f"mask must hold booleans or the numbers 0 and 1, got dtype {m.dtype}")
        bad = ~np.isin(m, (0, 1))  # NaN is never in (0, 1)
        if bad.any():
            examples = np.unique(m[bad])[:5].tolist()
            raise ValueError(f"mask must hold only 0 and 1 (1 = observed), found {examples}")
    if shape is not None and tuple(m.shape) != tuple(shape):
        raise ValueError(f"mask has shape {tuple(m.shape)}, expected {tuple(shape)}")
    return m.astype(bool, copy=True)
