"""The multiresolution imputation decoder (paper §3.3, Eqns 3-4).

One small 2-layer MLP head g^(r) per step size s = 1, 2, 4, ..., ``highest``. A step
t = p + s is decoded from the forward state after the left pivot p and the backward
state at p + 2s (Eqn 4). The heads' weights are stored stacked, (R, ...), so one level
can be applied to many positions in a single batched matrix product.

Outputs are either the mean (deterministic data such as billiards) or a mean and a
softplus standard deviation (stochastic data), switched by ``NAOMIConfig.gaussian``.

Taught in ``04_multiresolution_decoder.ipynb``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class MultiresolutionDecoder(nn.Module):
    """Heads g^(level) for levels 0..R-1 (step size 2**level), each Linear-ReLU-Linear."""

    def __init__(self, hidden: int, dim: int, levels: int, decoder_hidden: int, gaussian: bool = False,
                 min_std: float = 1e-3, bidirectional: bool = True):
        super().__init__()
        self.dim, self.levels, self.gaussian, self.min_std = dim, levels, gaussian, min_std
        out = 2 * dim if gaussian else dim
        inp = 2 * hidden if bidirectional else hidden  # [h^f_p, h^b_{p+2s}], or h^f alone (RNN baseline)
        self.w1 = nn.Parameter(torch.empty(levels, inp, decoder_hidden))  # (R, 2H, Hd)
        self.b1 = nn.Parameter(torch.zeros(levels, decoder_hidden))  # (R, Hd)
        self.w2 = nn.Parameter(torch.empty(levels, decoder_hidden, out))  # (R, Hd, O)
        self.b2 = nn.Parameter(torch.zeros(levels, out))  # (R, O)
        for w in (self.w1, self.w2):  # same scale as nn.Linear's default
            bound = 1 / math.sqrt(w.shape[1])
            nn.init.uniform_(w, -bound, bound)

    def unbound(self) -> list[tuple[torch.Tensor, ...]]:
        """Per-level (w1, b1, w2, b2), split off the stacked weights once. A loop that calls
        :meth:`head` many times should use these: indexing a stacked weight per call costs a
        full-size gradient in the backward pass every time."""
        return list(zip(self.w1.unbind(0), self.b1.unbind(0), self.w2.unbind(0), self.b2.unbind(0)))

    def head(self, level: int, hf: torch.Tensor, hb: torch.Tensor | None = None, heads=None) -> torch.Tensor:
        """Apply g^(level) to forward states hf (..., H) and backward states hb (..., H) -> raw (..., O)."""
        w1, b1, w2, b2 = heads[level] if heads is not None else (self.w1[level], self.b1[level], self.w2[level], self.b2[level])
        z = hf if hb is None else torch.cat([hf, hb], dim=-1)  # (..., 2H)
        z = F.relu(z @ w1 + b1)  # (..., Hd)
        return z @ w2 + b2  # (..., O)

    def split(self, raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Raw head output -> (mean, std); std is None in deterministic mode."""
        if not self.gaussian:
            return raw, None
        mean, s = raw.split(self.dim, dim=-1)  # (..., D) each
        return mean, F.softplus(s) + self.min_std

    def decode(self, levels: torch.Tensor, hf: torch.Tensor, hb: torch.Tensor, heads=None) -> torch.Tensor:
        """Raw outputs for rows that each have their own level: levels (n,), hf and hb (n, H) -> (n, O).

        ``heads``: the result of :meth:`unbound`, to reuse across many calls.
        """
        out = hf.new_empty(hf.shape[0], self.w2.shape[-1])  # (n, O)
        for level in torch.unique(levels).tolist():
            rows = (levels == level).nonzero().squeeze(1)  # (k,)
            out = out.index_copy(0, rows, self.head(level, hf[rows], hb[rows], heads))
        return out
