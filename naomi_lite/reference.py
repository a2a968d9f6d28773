"""Slow, literal reference implementations that the fast code is checked against.

* :func:`literal_algorithm_1` reads Algorithm 1 (lines 6-12) word for word: after
  every imputed step it re-runs both encoders over the whole sequence (line 11).
  It costs O(T^2) GRU steps per sequence; ``naomi_lite.imputation`` gets the same
  numbers in O(T).
* :func:`per_step_teacher_forced_loss` writes ``NAOMI.teacher_forced_loss`` with
  Python loops over time steps and pivots; the package version is one fused GRU pass
  per encoder and one matrix product per decoder level.

The tests assert that each pair agrees to 1e-5, and ``benchmarks/speed.py`` times them.

Taught in ``04_multiresolution_decoder.ipynb`` and ``05_pretraining.ipynb``.
"""
from __future__ import annotations

import torch

from .encoders import backward_states, forward_states
from .masks import imputation_order
from .models import NAOMI, step_loss


def literal_algorithm_1(model: NAOMI, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Impute x (B, T, D) with mask (B, T), one row and one step at a time, re-encoding after each step."""
    out = torch.where(mask.unsqueeze(-1), x, torch.zeros_like(x))  # (B, T, D)
    for b in range(x.shape[0]):
        X, M = out[b : b + 1].clone(), mask[b : b + 1].clone()  # (1, T, D), (1, T)
        for ev in imputation_order(M[0].cpu().numpy(), model.config.highest):  # line 7-9: pivots and step
            hf = forward_states(model.fwd, X)[:, ev.pivot + 1, -1]  # (1, H) h^f after the left pivot
            hb = backward_states(model.bwd, X, M)[:, ev.context, -1]  # (1, H) h^b at p + 2s
            X[0, ev.t] = model.decoder.split(model.decoder.head(ev.level, hf, hb))[0][0]  # line 10, Eqn 4
            M[0, ev.t] = True  # line 10: update X and M; line 11 happens on the next pass
        out[b] = X[0]
    return out


def per_step_teacher_forced_loss(model: NAOMI, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``model.teacher_forced_loss`` with Python loops: one GRU step per time step, one head call per pivot."""
    B, T, D = x.shape
    m = mask.to(x.dtype)  # (B, T)
    h = model.fwd.zero_state(B, x)  # (B, L, H)
    hf = [h[:, -1]]  # hf[p + 1]: top-layer forward state after step p; hf[0] is the zero state
    for t in range(T):
        h = model.fwd.step(x[:, t], h)  # (B, L, H)
        hf.append(h[:, -1])
    h = model.bwd.zero_state(B, x)
    hb = [h[:, -1]] * (T + 1)  # hb[c]: top-layer backward state after reading T-1 down to c; hb[T] = zero
    for t in range(T - 1, -1, -1):
        mt = m[:, t : t + 1]  # (B, 1)
        h = model.bwd.step(torch.cat([x[:, t] * mt, mt.expand(-1, D)], dim=-1), h)  # (B, L, H)
        hb[t] = h[:, -1]
    losses = []
    for level in range(model.config.levels):
        s = 2**level
        pivots = range(-1, T - 2 * s + 1)
        if len(pivots) == 0:
            break
        total = x.new_zeros(())
        for p in pivots:
            mean, std = model.decoder.split(model.decoder.head(level, hf[p + 1], hb[p + 2 * s]))  # (B, D)
            total = total + step_loss(mean, std, x[:, p + s]).sum()
        losses.append(total / (B * len(pivots)))
    return torch.stack(losses).mean()
