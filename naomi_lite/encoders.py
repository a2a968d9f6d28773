"""The incomplete-sequence encoder (paper §3.2, Eqns 1-2).

Two GRU stacks: the *forward* encoder reads the sequence x_1..x_t from the start
(q(h^f_t | h^f_{<t}, I_{<t})), the *backward* encoder reads I = [X*M, M] from the end
(q(h^b_t | h^b_{>t}, I_{>t})). Each is a stack of one-layer ``nn.GRU`` modules so that
we can

* run a whole sequence in one fused call per layer and keep *every* layer's state at
  *every* step (needed to restart the backward encoder mid-sequence), and
* take single steps for arbitrary rows of a batch with ``torch.gru_cell`` on the same
  weights (the batched imputation loop in ``naomi_lite.imputation``).

Taught in ``03_encoders.ipynb``.
"""
from __future__ import annotations

import torch
from torch import nn


class GRUStack(nn.Module):
    """``layers`` stacked one-layer GRUs with a fused ``run`` and a single-step ``step``."""

    def __init__(self, input_size: int, hidden: int, layers: int):
        super().__init__()
        self.hidden = hidden
        self.cells = nn.ModuleList(
            nn.GRU(input_size if i == 0 else hidden, hidden, 1, batch_first=True) for i in range(layers)
        )

    @property
    def layers(self) -> int:
        return len(self.cells)

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Read (B, T, I) from a zero state; return every layer's state after every step, (B, T, L, H)."""
        states = []
        inp = x  # (B, T, I)
        for gru in self.cells:
            inp, _ = gru(inp)  # (B, T, H)
            states.append(inp)
        return torch.stack(states, dim=2)  # (B, T, L, H)

    def step(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One step for a batch of rows: x (n, I), h (n, L, H) -> new h (n, L, H)."""
        out = []
        inp = x  # (n, I)
        for i, gru in enumerate(self.cells):
            inp = torch.gru_cell(inp, h[:, i], gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0)  # (n, H)
            out.append(inp)
        return torch.stack(out, dim=1)  # (n, L, H)

    def zero_state(self, n: int, like: torch.Tensor) -> torch.Tensor:
        return like.new_zeros(n, self.layers, self.hidden)  # (n, L, H)


def forward_encoder(dim: int, hidden: int, layers: int) -> GRUStack:
    """The forward encoder f_f: reads x_t (D values) left to right (Eqn 2, first line)."""
    return GRUStack(dim, hidden, layers)


def backward_encoder(dim: int, hidden: int, layers: int) -> GRUStack:
    """The backward encoder f_b: reads I_t = [x_t * m_t, m_t] (2D values) right to left (Eqn 2, second line)."""
    return GRUStack(2 * dim, hidden, layers)


def backward_input(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """I = [X*M, M]: zero the unobserved values and append the mask, (B, T, D) -> (B, T, 2D)."""
    m = mask.to(x.dtype).unsqueeze(-1).expand_as(x)  # (B, T, D)
    return torch.cat([x * m, m], dim=-1)  # (B, T, 2D)


def backward_states(encoder: GRUStack, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Run the backward encoder over [X*M, M] from the end.

    Returns (B, T+1, L, H): entry c is the state after reading steps T-1 down to c, and
    entry T is the zero state of a virtual step past the end (used for trailing gaps).
    """
    inp = backward_input(x, mask).flip(1)  # (B, T, 2D), time reversed
    states = encoder.run(inp).flip(1)  # (B, T, L, H), entry c has read c..T-1
    end = states.new_zeros(states.shape[0], 1, *states.shape[2:])  # (B, 1, L, H)
    return torch.cat([states, end], dim=1)  # (B, T+1, L, H)


def forward_states(encoder: GRUStack, x: torch.Tensor) -> torch.Tensor:
    """Run the forward encoder over x from the start.

    Returns (B, T+1, L, H): entry p+1 is the state after reading steps 0..p, and entry 0
    is the zero state of a virtual step before the start (used for leading gaps).
    """
    states = encoder.run(x)  # (B, T, L, H)
    start = states.new_zeros(states.shape[0], 1, *states.shape[2:])  # (B, 1, L, H)
    return torch.cat([start, states], dim=1)  # (B, T+1, L, H)
