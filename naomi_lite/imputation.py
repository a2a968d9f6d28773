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


def _per_tick(ticks: np.ndarray, active_col: int, cols: tuple[int, ...], device) -> list[tuple[torch.Tensor, ...]]:
    """Split the plan by tick: for each tick, (rows, *values of cols) for the rows active in ``active_col``.

    Done once on the host, then moved to the device in one transfer per column.
    """
    k_idx, rows = np.nonzero(ticks[:, :, active_col] >= 0)  # sorted by tick
    counts = np.bincount(k_idx, minlength=ticks.shape[0]).tolist()
    columns = [rows] + [ticks[k_idx, rows, c] for c in cols]
    split = [torch.as_tensor(c, device=device).split(counts) for c in columns]
    return list(zip(*split))


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
    if schedule is None:
        schedule = build_schedule(mask.cpu().numpy(), model.config.highest)
    dec = model.decoder
    m = mask.to(x.dtype)  # (B, T)
    X = torch.where(mask.unsqueeze(-1), x, torch.zeros_like(x))  # (B, T, D) current values
    M = m.clone()  # (B, T) current mask: 1 where known (observed or imputed)
    mean_out = torch.zeros_like(x)  # (B, T, D)
    std_out = torch.zeros_like(x) if dec.gaussian else None
    init = backward_states(model.bwd, X, M)  # (B, T+1, L, H) states of the initial backward pass
    hf = model.fwd.zero_state(B, x)  # (B, L, H) forward state of each row
    slots = x.new_zeros(B, schedule.n_slots, model.bwd.layers, model.bwd.hidden)  # (B, S, L, H)
    grad = torch.is_grad_enabled()

    f_plan = _per_tick(schedule.ticks, F_POS, (F_POS,), x.device)
    b_plan = _per_tick(schedule.ticks, B_POS, (B_POS, B_SRC, B_DST), x.device)
    d_plan = _per_tick(schedule.ticks, D_T, (D_T, D_LEVEL, D_SRC, D_CTX), x.device)
    # Every read of the initial backward pass, gathered once and split by tick: indexing the
    # big (B, T+1, L, H) tensor inside the loop would cost a full-size gradient per tick.
    init_b = _gather_split(init, [(r, p + 1) for r, p, _, _ in b_plan])  # per tick (n, L, H)
    init_d = _gather_split(init[:, :, -1], [(r, c) for r, _, _, _, c in d_plan])  # per tick (n, H)
    for k in range(schedule.n_ticks):
        rows, pos = f_plan[k]
        if rows.numel():  # forward encoder reads one more known step
            hf = hf.index_copy(0, rows, model.fwd.step(X[rows, pos], hf[rows]))  # (B, L, H)
        rows, pos, src, dst = b_plan[k]
        if rows.numel():  # backward encoder recomputes one stale state from its right neighbour
            h_in = torch.where((src >= 0).view(-1, 1, 1), slots[rows, src.clamp(min=0)], init_b[k])  # (n, L, H)
            m_in = M[rows, pos].unsqueeze(-1)  # (n, 1)
            inp = torch.cat([X[rows, pos] * m_in, m_in.expand(-1, D)], dim=-1)  # (n, 2D)
            h_new = model.bwd.step(inp, h_in)  # (n, L, H)
            slots = slots.index_put((rows, dst), h_new) if grad else slots.index_put_((rows, dst), h_new)
        rows, t, level, src, ctx = d_plan[k]
        if rows.numel():  # decode x_t from h^f_p and h^b_{p+2s} (Eqn 4), then mark t known
            hb = torch.where((src >= 0).view(-1, 1), slots[rows, src.clamp(min=0), -1], init_d[k])  # (n, H)
            mean, std = dec.split(dec.decode(level, hf[rows, -1], hb))  # (n, D) each
            value = mean
            if std is not None and sample:
                eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
                value = mean + std * eps  # reparameterization: differentiable in mean and std
            X = X.index_put((rows, t), value)  # (B, T, D)
            M = M.index_put((rows, t), torch.ones_like(t, dtype=M.dtype))  # (B, T)
            mean_out = mean_out.index_put((rows, t), mean)
            if std is not None:
                std_out = std_out.index_put((rows, t), std)
            if trace is not None:
                trace.append((rows.cpu().numpy(), t.cpu().numpy()))
    values = torch.where(mask.unsqueeze(-1), x, X)  # observed values exactly as given
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
