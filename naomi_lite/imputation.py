"""The batched, differentiable imputation loop (Algorithm 1, lines 5-12).

Every row of the batch has its own mask and so its own imputation order. The plan
from ``naomi_lite.schedule`` says, tick by tick, which encoder steps each row takes and
which missing value it decodes; this module executes the plan on tensors, for all rows
at once, on whatever device the model is on. The same code serves inference (under
``torch.no_grad``) and free-running training (gradients flow through every imputed
value into the encoders and the decoder).

Taught in ``04_multiresolution_decoder.ipynb`` and ``05_pretraining.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .encoders import backward_states
from .schedule import B_DST, B_POS, B_SRC, D_CTX, D_LEVEL, D_SRC, D_T, F_POS, Schedule, build_schedule


@dataclass
class Imputation:
    """Result of one batched imputation: filled values, and the decoder's mean/std at imputed steps."""

    values: torch.Tensor  # (B, T, D) observed values kept, missing ones filled
    mean: torch.Tensor  # (B, T, D) decoder mean at imputed steps, 0 elsewhere
    std: torch.Tensor | None  # (B, T, D) decoder std at imputed steps (Gaussian mode), else None


# Where a value read inside the loop comes from. Reads are resolved on the host, before the
# loop, to the tick that produced the value, so the loop only indexes small per-tick tensors:
# writing into a dense (B, S, L, H) bank of states would copy the whole bank at every tick
# (and again in the backward pass), which made free-running training copy-bound.
_X, _INIT, _TICK = 0, 1, 2  # observed inputs (zeros where unknown) / the tick's initial-pass gather / tick k's output


@dataclass
class _Read:
    """n rows gathered from a few sources: ``groups`` = [(kind, tick, local index)], then ``order``."""

    groups: list
    order: object  # positions in cat(pieces) of output rows 0..n-1; None when already in order


@dataclass
class _Tick:
    """Everything the loop needs at one tick; index arrays become device tensors before the loop."""

    f_rows: object = None  # forward step: rows, and the read of their inputs
    f_in: _Read | None = None
    b_rows: object = None  # backward step: rows, read of their states, of their inputs, and m (n, 1)
    b_state: _Read | None = None
    b_in: _Read | None = None
    b_m: object = None
    d_rows: object = None  # decode: rows, steps t, levels, and the read of the backward context state
    d_t: object = None
    d_level: object = None
    d_state: _Read | None = None


def _read(kind: np.ndarray, tick: np.ndarray, index: np.ndarray) -> _Read:
    """Group n reads by source (kind, tick) and remember how to put them back in order."""
    key = kind * (1 << 32) + tick  # (n,)
    groups, positions = [], []
    for k in np.unique(key):
        where = np.flatnonzero(key == k)
        groups.append((int(kind[where[0]]), int(tick[where[0]]), index[where]))
        positions.append(where)
    pos = np.concatenate(positions)
    order = None if np.array_equal(pos, np.arange(len(pos))) else np.argsort(pos)
    return _Read(groups, order)


def plan_ticks(schedule: Schedule, mask: np.ndarray) -> list[_Tick]:
    """Resolve every read of the tick programs to the tick that produced the value (host side).

    Backward states live in slots (``schedule``); a slot read at tick k refers to the last
    tick that wrote that slot of that row. An encoder input at step j is the observed value,
    the value decoded at an earlier tick, or 0 with m = 0 if step j is still unknown.
    """
    ticks = schedule.ticks  # (K, B, 8)
    K, B, _ = ticks.shape
    T = mask.shape[1]
    slot_tick = np.full((B, max(schedule.n_slots, 1)), -1)  # tick that last wrote each slot
    slot_pos = np.zeros_like(slot_tick)  # its position among that tick's backward rows
    val_tick = np.full((B, T), -1)  # tick that decoded each step
    val_pos = np.zeros((B, T), dtype=np.int64)
    known = mask.copy()

    def inputs(rows, steps):
        imputed = val_tick[rows, steps] >= 0
        kind = np.where(imputed, _TICK, _X)
        return _read(kind, np.where(imputed, val_tick[rows, steps], 0),
                     np.where(imputed, val_pos[rows, steps], rows * T + steps))

    def states(rows, slots):
        written = slots >= 0
        s = np.maximum(slots, 0)
        return _read(np.where(written, _TICK, _INIT), np.where(written, slot_tick[rows, s], 0),
                     np.where(written, slot_pos[rows, s], np.arange(len(rows))))

    plan = []
    for k in range(K):
        t, tick = ticks[k], _Tick()
        rows = np.flatnonzero(t[:, F_POS] >= 0)
        if len(rows):
            tick.f_rows, tick.f_in = rows, inputs(rows, t[rows, F_POS])
        rows = np.flatnonzero(t[:, B_POS] >= 0)
        if len(rows):
            pos = t[rows, B_POS]
            tick.b_rows, tick.b_state, tick.b_in = rows, states(rows, t[rows, B_SRC]), inputs(rows, pos)
            tick.b_m = known[rows, pos].astype(np.float32)[:, None]  # (n, 1)
            slot_tick[rows, t[rows, B_DST]] = k
            slot_pos[rows, t[rows, B_DST]] = np.arange(len(rows))
        rows = np.flatnonzero(t[:, D_T] >= 0)
        if len(rows):
            steps = t[rows, D_T]
            tick.d_rows, tick.d_t, tick.d_level = rows, steps, t[rows, D_LEVEL]
            tick.d_state = states(rows, t[rows, D_SRC])  # after this tick's backward write
            val_tick[rows, steps] = k
            val_pos[rows, steps] = np.arange(len(rows))
            known[rows, steps] = True
        plan.append(tick)
    return plan


def _to_device(plan: list[_Tick], device, dtype) -> None:
    """Move every index array of the plan to ``device`` in one transfer (then split), in place."""
    arrays, slots = [], []  # flat list of int arrays, and setters that put the tensors back

    def add(arr, put):
        arrays.append(np.asarray(arr, dtype=np.int64))
        slots.append(put)

    for tick in plan:
        for name in ("f_rows", "b_rows", "d_rows", "d_t", "d_level"):
            if getattr(tick, name) is not None:
                add(getattr(tick, name), lambda v, tick=tick, name=name: setattr(tick, name, v))
        for read in (tick.f_in, tick.b_state, tick.b_in, tick.d_state):
            if read is None:
                continue
            for i, (kind, src, idx) in enumerate(read.groups):
                add(idx, lambda v, read=read, i=i, kind=kind, src=src: read.groups.__setitem__(i, (kind, src, v)))
            if read.order is not None:
                add(read.order, lambda v, read=read: setattr(read, "order", v))
        if tick.b_m is not None:
            tick.b_m = torch.as_tensor(tick.b_m, device=device, dtype=dtype)
    if not arrays:
        return
    flat = torch.as_tensor(np.concatenate(arrays), device=device)
    for put, piece in zip(slots, flat.split([len(a) for a in arrays])):
        put(piece)


def _gather(read: _Read, sources) -> torch.Tensor:
    """Rows of a read: index each source once, concatenate, restore the order."""
    pieces = [sources(kind, src)[idx] for kind, src, idx in read.groups]
    out = pieces[0] if len(pieces) == 1 else torch.cat(pieces)
    return out if read.order is None else out[read.order]


def _gather_split(bank: torch.Tensor, index: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, ...]:
    """bank[rows_k, pos_k] for every tick k, as one gather split into per-tick pieces."""
    rows = torch.cat([r for r, _ in index])
    pos = torch.cat([p for _, p in index])
    return bank[rows, pos].split([len(r) for r, _ in index])


def run_naomi(model, x: torch.Tensor, mask: torch.Tensor, *, sample: bool = False,
              generator: torch.Generator | None = None, schedule: Schedule | None = None,
              trace: list | None = None) -> Imputation:
    """Impute x (B, T, D) with mask (B, T) (True = observed) using a NAOMI-style model.

    ``model`` needs ``fwd`` and ``bwd`` (``GRUStack``) and ``decoder``
    (``MultiresolutionDecoder``) and ``config.highest``. If ``trace`` is a list, each
    decoded batch of steps is appended to it as (rows, t) numpy arrays, in order.
    """
    B, T, D = x.shape
    mask_np = mask.cpu().numpy()
    if schedule is None:
        schedule = build_schedule(mask_np, model.config.highest)
    plan = plan_ticks(schedule, mask_np)
    _to_device(plan, x.device, x.dtype)
    dec = model.decoder
    heads = dec.unbound()  # per-level weights, split once (indexing the stacked ones per call is costly)
    X0 = torch.where(mask.unsqueeze(-1), x, torch.zeros_like(x))  # (B, T, D) observed values, 0 elsewhere
    x_flat = X0.reshape(B * T, D)  # (B*T, D) source of observed inputs
    init = backward_states(model.bwd, X0, mask.to(x.dtype))  # (B, T+1, L, H) the initial backward pass
    hf = model.fwd.zero_state(B, x)  # (B, L, H) forward state of each row
    hist: list = [None] * len(plan)  # backward states computed at tick k, (n_k, L, H)
    vals: list = [None] * len(plan)  # values decoded at tick k, (n_k, D)
    means, stds = [], []
    # Every read of the initial backward pass, gathered once and split by tick.
    b_ticks = [k for k, tk in enumerate(plan) if tk.b_rows is not None]
    d_ticks = [k for k, tk in enumerate(plan) if tk.d_rows is not None]
    if b_ticks:
        pos = torch.as_tensor(schedule.ticks[:, :, B_POS], device=x.device)  # (K, B) backward read positions
        init_b = dict(zip(b_ticks, _gather_split(init, [(plan[k].b_rows, pos[k, plan[k].b_rows] + 1) for k in b_ticks])))
    if d_ticks:
        ctx = torch.as_tensor(schedule.ticks[:, :, D_CTX], device=x.device)  # (K, B) context positions
        init_d = dict(zip(d_ticks, _gather_split(init, [(plan[k].d_rows, ctx[k, plan[k].d_rows]) for k in d_ticks])))

    def values(kind, src):  # source of encoder inputs: the observed values, or tick src's decoded values
        return x_flat if kind == _X else vals[src]

    for k, tick in enumerate(plan):
        if tick.f_rows is not None:  # the forward encoder reads one more known step
            inp = _gather(tick.f_in, values)  # (n, D)
            hf = hf.index_copy(0, tick.f_rows, model.fwd.step(inp, hf[tick.f_rows]))  # (B, L, H)
        if tick.b_rows is not None:  # the backward encoder recomputes one stale state from its right neighbour
            h_in = _gather(tick.b_state, lambda kind, src: init_b[k] if kind == _INIT else hist[src])  # (n, L, H)
            v = _gather(tick.b_in, values) * tick.b_m  # (n, D): x_j * m_j
            hist[k] = model.bwd.step(torch.cat([v, tick.b_m.expand(-1, D)], dim=-1), h_in)  # (n, L, H)
        if tick.d_rows is not None:  # decode x_t from h^f_p and h^b_{p+2s} (Eqn 4), then t is known
            hb = _gather(tick.d_state, lambda kind, src: init_d[k] if kind == _INIT else hist[src])[:, -1]  # (n, H)
            mean, std = dec.split(dec.decode(tick.d_level, hf[tick.d_rows, -1], hb, heads))  # (n, D) each
            value = mean
            if std is not None and sample:
                eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
                value = mean + std * eps  # reparameterization: differentiable in mean and std
            vals[k] = value
            means.append(mean)
            stds.append(std)
            if trace is not None:
                trace.append((tick.d_rows.cpu().numpy(), tick.d_t.cpu().numpy()))
    if not d_ticks:
        return Imputation(torch.where(mask.unsqueeze(-1), x, X0), torch.zeros_like(x),
                          torch.zeros_like(x) if dec.gaussian else None)
    rows = torch.cat([plan[k].d_rows for k in d_ticks])  # every imputed (row, step), in decoding order
    steps = torch.cat([plan[k].d_t for k in d_ticks])
    filled = X0.index_put((rows, steps), torch.cat([vals[k] for k in d_ticks]))  # (B, T, D)
    mean_out = torch.zeros_like(x).index_put((rows, steps), torch.cat(means))
    std_out = torch.zeros_like(x).index_put((rows, steps), torch.cat(stds)) if dec.gaussian else None
    values = torch.where(mask.unsqueeze(-1), x, filled)  # observed values exactly as given
    return Imputation(values, mean_out, std_out)


def run_rnn(model, x: torch.Tensor, mask: torch.Tensor, *, sample: bool = False,
            generator: torch.Generator | None = None, trace: list | None = None) -> Imputation:
    """Autoregressive imputation: a forward-only GRU predicts x_t from its state after t-1
    and feeds its own prediction back in wherever x_t is missing.

    Taught in ``05_pretraining.ipynb``.
    """
    B, T, D = x.shape
    dec = model.decoder
    m = mask.to(x.dtype)  # (B, T)
    h = model.fwd.zero_state(B, x)  # (B, L, H)
    values, means, stds = [], [], []
    for t in range(T):
        mean, std = dec.split(dec.head(0, h[:, -1]))  # (B, D) prediction of x_t
        pred = mean
        if std is not None and sample:
            eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
            pred = mean + std * eps
        mt = mask[:, t].unsqueeze(-1)  # (B, 1)
        xt = torch.where(mt, x[:, t], pred)  # (B, D)
        if trace is not None and not bool(mt.all()):
            rows = (~mt.squeeze(-1)).nonzero().squeeze(1).cpu().numpy()
            trace.append((rows, np.full(len(rows), t)))
        values.append(xt)
        means.append(mean)
        stds.append(std)
        h = model.fwd.step(torch.cat([xt, m[:, t : t + 1]], dim=-1), h)  # (B, L, H)
    keep = ~mask.unsqueeze(-1)  # (B, T, 1) only imputed steps carry a prediction
    mean_out = torch.stack(means, 1) * keep  # (B, T, D)
    std_out = torch.stack(stds, 1) * keep if dec.gaussian else None
    return Imputation(torch.stack(values, 1), mean_out, std_out)
