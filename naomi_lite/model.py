"""NAOMI in one file: the encoders (paper §3.2), the multiresolution decoder (§3.3), Algorithm 1's
imputation loop (lines 6-12) and the two training losses (§4 "Training"), with the baselines
that share these parts.

Read it top to bottom:

1. **Encoders** (Eqns 1-2): a forward GRU over x and a backward GRU over I = [X*M, M].
2. **Decoder** (Eqns 3-4): one head g^(s) per step size s = 1, 2, 4, ..., ``highest``.
3. **Algorithm 1, literally** (``literal_algorithm_1``): one sequence, one missing step at a time,
   both encoders re-read after every step (line 11). Slow, and the reference for everything below.
4. **Algorithm 1, batched** (``NAOMI.run``): every row with its own mask, the same numbers in
   O(T) GRU steps per row. The plan comes from ``masks.plan_batch``; the loop here executes it.
5. **Losses**: teacher forcing and free running.
6. **Baselines**: ``SingleRes`` (NAOMI with step size 1 only) and ``AutoregressiveRNN``.

The kit's extension to the paper, off by default in ``NAOMIConfig`` (``decoder_base="none"``):
with ``decoder_base="linear"`` each head predicts a *correction* to the linear interpolation
between the pivots instead of an absolute position, and starts at zero, so an untrained NAOMI
already imputes like linear interpolation (chapter 04 shows both; ``benchmarks/README.md`` measures it).

Taught in ``03_encoders.ipynb`` (section 1), ``04_multiresolution_decoder.ipynb`` (sections 2-4)
and ``05_pretraining.ipynb`` (section 5).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import NAOMIConfig
from .inputs import check_generator, finish, prepare
from .masks import StateSource, imputation_order, plan_batch

# ---------------------------------------------------------------------------------------------
# 1. Encoders (paper §3.2, Eqns 1-2)
# ---------------------------------------------------------------------------------------------


class GRUStack(nn.Module):
    """``layers`` stacked one-layer GRUs: ``run`` reads a whole sequence in one fused call per
    layer and keeps every layer's state at every step; ``step`` advances chosen rows by one step
    with the same weights (the batched loop needs both). Taught in ``03_encoders.ipynb``."""

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
        """One step for n rows: x (n, I), h (n, L, H) -> new h (n, L, H)."""
        out = []
        inp = x  # (n, I)
        for i, gru in enumerate(self.cells):
            inp = torch.gru_cell(inp, h[:, i], gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0)  # (n, H)
            out.append(inp)
        return torch.stack(out, dim=1)  # (n, L, H)

    def zero_state(self, n: int, like: torch.Tensor) -> torch.Tensor:
        return like.new_zeros(n, self.layers, self.hidden)  # (n, L, H)


def forward_encoder(dim: int, hidden: int, layers: int) -> GRUStack:
    """f_f of Eqn 2 (first line): reads x_t, D values, left to right."""
    return GRUStack(dim, hidden, layers)


def backward_encoder(dim: int, hidden: int, layers: int, gap: bool = False) -> GRUStack:
    """f_b of Eqn 2 (second line): reads I_t = [x_t * m_t, m_t], 2D values, right to left
    (2D + 1 with the kit's ``gap`` input, the steps to the next known step)."""
    return GRUStack(2 * dim + int(gap), hidden, layers)


def steps_to_next_known(mask: torch.Tensor) -> torch.Tensor:
    """(B, T) bool -> (B, T) long: 0 at a known step, else how many steps ahead the next known one is
    (T - t past the last one). The kit's ``backward_gap`` input, so that the backward encoder need not
    count the missing steps itself to turn two observations into a velocity."""
    B, T = mask.shape
    t = torch.arange(T, device=mask.device).expand(B, T)  # (B, T)
    at = torch.where(mask, t, torch.full_like(t, T))  # (B, T) the position where known, else T
    next_known = at.flip(1).cummin(dim=1).values.flip(1)  # (B, T) the first known position >= t
    return next_known - t


def backward_input(x: torch.Tensor, mask: torch.Tensor, gap: bool = False) -> torch.Tensor:
    """I = [X*M, M]: zero the unobserved values and append the mask, (B, T, D) -> (B, T, 2D).
    With ``gap`` (kit's extension), also the steps to the next known step divided by T, (B, T, 2D + 1)."""
    m = mask.to(x.dtype).unsqueeze(-1).expand_as(x)  # (B, T, D)
    parts = [x * m, m]
    if gap:
        parts.append((steps_to_next_known(mask.bool()).to(x.dtype) / x.shape[1]).unsqueeze(-1))  # (B, T, 1)
    return torch.cat(parts, dim=-1)  # (B, T, 2D [+ 1])


def forward_states(encoder: GRUStack, x: torch.Tensor) -> torch.Tensor:
    """h^f over x (B, T, D) -> (B, T+1, L, H): entry p+1 is the state after reading steps 0..p;
    entry 0 is the zero state of the virtual pivot p = -1 (leading gaps)."""
    states = encoder.run(x)  # (B, T, L, H)
    start = states.new_zeros(states.shape[0], 1, *states.shape[2:])  # (B, 1, L, H)
    return torch.cat([start, states], dim=1)  # (B, T+1, L, H)


def backward_states(encoder: GRUStack, x: torch.Tensor, mask: torch.Tensor, gap: bool = False) -> torch.Tensor:
    """h^b over I = [X*M, M] from the end -> (B, T+1, L, H): entry c has read steps T-1 down to c;
    entry T is the zero state of the virtual step past the end (trailing gaps)."""
    inp = backward_input(x, mask, gap).flip(1)  # (B, T, 2D [+ 1]), time reversed
    states = encoder.run(inp).flip(1)  # (B, T, L, H)
    end = states.new_zeros(states.shape[0], 1, *states.shape[2:])  # (B, 1, L, H)
    return torch.cat([states, end], dim=1)  # (B, T+1, L, H)


# ---------------------------------------------------------------------------------------------
# 2. The multiresolution decoder (paper §3.3, Eqns 3-4)
# ---------------------------------------------------------------------------------------------


def linear_between_pivots(t, p, q, x_p, x_q, T: int) -> torch.Tensor:
    """The straight line from x_p to x_q, read at t (p < t < q): the starting point of the kit's
    pivot-relative heads. At a virtual pivot (p = -1 or q = T) the known end is held constant,
    as linear interpolation does. t, p, q: (...) integer tensors; x_p, x_q: (..., D) -> (..., D)."""
    x_p = torch.where((p < 0).unsqueeze(-1), x_q, x_p)  # (..., D)
    x_q = torch.where((q >= T).unsqueeze(-1), x_p, x_q)
    w = ((t - p).to(x_p.dtype) / (q - p).to(x_p.dtype)).unsqueeze(-1)  # (..., 1)
    return x_p + w * (x_q - x_p)  # (..., D)


class DecoderHead(nn.Module):
    """g^(s) for one step size: Linear-ReLU-Linear (paper §4 "Model details": 2-layer heads).

    The weights are stored (in, out), so the head reads as the formula relu(z W1 + b1) W2 + b2.
    With ``zero_init`` its output starts at exactly 0 (used by the kit's pivot-relative heads)."""

    def __init__(self, inp: int, hidden: int, out: int, zero_init: bool = False):
        super().__init__()
        self.w1 = nn.Parameter(torch.empty(inp, hidden))  # (in, Hd)
        self.b1 = nn.Parameter(torch.zeros(hidden))
        self.w2 = nn.Parameter(torch.empty(hidden, out))  # (Hd, O)
        self.b2 = nn.Parameter(torch.zeros(out))
        for w in (self.w1, self.w2):  # the scale of nn.Linear's default
            nn.init.uniform_(w, -1 / w.shape[0] ** 0.5, 1 / w.shape[0] ** 0.5)
        if zero_init:
            nn.init.zeros_(self.w2)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return F.relu(z @ self.w1 + self.b1) @ self.w2 + self.b2  # (..., in) -> (..., Hd) -> (..., O)


class MultiresolutionDecoder(nn.Module):
    """Heads g^(level) for levels 0..R-1 (step size s = 2**level), Eqn 4:

        x_{p+s} = g^(s)(h^f_p, h^b_{p+2s})              (paper, ``base="none"``)
        x_{p+s} = line(p, q)(p+s) + g^(s)(h^f_p, h^b_{p+2s})   (kit's extension, ``base="linear"``)

    Outputs are the mean (deterministic data) or a mean and a softplus standard deviation
    (``gaussian``, stochastic data). With ``shared`` (kit's extension, not the paper) one head
    serves every level and reads the level as a one-hot input: g(h^f_p, h^b_{p+2s}, onehot(s)), so
    the coarse levels, which decode few steps, learn from every step the fine ones decode.
    Taught in ``04_multiresolution_decoder.ipynb``.
    """

    def __init__(self, hidden: int, dim: int, levels: int, decoder_hidden: int, gaussian: bool = False,
                 min_std: float = 1e-3, base: str = "none", bidirectional: bool = True, shared: bool = False):
        super().__init__()
        self.dim, self.gaussian, self.min_std, self.base = dim, gaussian, min_std, base
        self.n_levels, self.shared = levels, shared
        inp = 2 * hidden if bidirectional else hidden  # [h^f_p, h^b_{p+2s}], or h^f alone (RNN baseline)
        inp += levels if shared else 0  # ... and onehot(level) for a shared head
        out = 2 * dim if gaussian else dim
        self.heads = nn.ModuleList(DecoderHead(inp, decoder_hidden, out, zero_init=base != "none")
                                   for _ in range(1 if shared else levels))

    @property
    def levels(self) -> int:
        return self.n_levels

    def _head_input(self, level, z: torch.Tensor) -> torch.Tensor:
        """A shared head's input: z (..., In) and onehot(level) (..., R); separate heads: z itself."""
        if not self.shared:
            return z
        level = torch.as_tensor(level, device=z.device).expand(z.shape[:-1])  # (...)
        return torch.cat([z, F.one_hot(level, self.n_levels).to(z.dtype)], dim=-1)  # (..., In + R)

    def forward(self, level: int, hf: torch.Tensor, hb: torch.Tensor | None = None,
                base: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Head ``level`` on hf (..., H) and hb (..., H) -> (mean (..., D), std (..., D) or None).
        ``base`` (..., D), the line between the pivots, is added to the mean when ``self.base`` is "linear"."""
        z = self._head_input(level, hf if hb is None else torch.cat([hf, hb], dim=-1))  # (..., In)
        raw = self.heads[0 if self.shared else level](z)  # (..., O)
        return self._outputs(raw, base)

    def _outputs(self, raw: torch.Tensor, base: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A head's raw output (..., O) -> mean (..., D) and std (..., D) or None."""
        mean, std = raw, None
        if self.gaussian:
            mean, s = raw.split(self.dim, dim=-1)  # (..., D) each
            std = F.softplus(s) + self.min_std
        if self.base != "none":
            mean = mean + base
        return mean, std

    def stacked(self) -> tuple[torch.Tensor, ...]:
        """Every head's weights side by side, for ``decode``: W1 (In, R*Hd), b1 (R*Hd,), W2 (R, Hd, O), b2 (R, O).
        Built once per imputation (``NAOMI.run``), so gradients still reach each head's own parameters."""
        heads = self.heads
        return (torch.cat([h.w1 for h in heads], dim=1), torch.cat([h.b1 for h in heads]),
                torch.stack([h.w2 for h in heads]), torch.stack([h.b2 for h in heads]))

    def decode(self, levels: torch.Tensor, hf: torch.Tensor, hb: torch.Tensor, base: torch.Tensor | None,
               stacked: tuple[torch.Tensor, ...] | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Rows with a level each: levels (n,), hf and hb (n, H), base (n, D) -> mean, std (n, D).

        The same numbers as calling head ``levels[i]`` on row i, in a few tensor operations whatever
        the mix of levels: every head's first layer runs on every row in one matrix product (R heads of
        width Hd are cheap at these sizes), then each row keeps its own head's hidden units and output
        layer. This is what makes a tick of ``NAOMI.run`` cost the same at every resolution."""
        W1, b1, W2, b2 = self.stacked() if stacked is None else stacked
        n, R = hf.shape[0], len(self.heads)
        z = self._head_input(levels, torch.cat([hf, hb], dim=-1))  # (n, 2H), shared: (n, 2H + levels)
        if self.shared:
            levels = torch.zeros_like(levels)  # every row uses the one head
        hidden = F.relu(z @ W1 + b1).view(n, R, -1)  # (n, R, Hd) every head's hidden layer
        hidden = hidden[torch.arange(n, device=hf.device), levels]  # (n, Hd) each row's own head
        raw = torch.bmm(hidden.unsqueeze(1), W2[levels]).squeeze(1) + b2[levels]  # (n, O)
        return self._outputs(raw, base)


# ---------------------------------------------------------------------------------------------
# What every generator shares: the impute contract and the per-step loss
# ---------------------------------------------------------------------------------------------


@dataclass
class Imputation:
    """One batched imputation: filled values, and the decoder's mean/std at the imputed steps."""

    values: torch.Tensor  # (B, T, D) observed values kept, missing ones filled
    mean: torch.Tensor  # (B, T, D) decoder mean at imputed steps, 0 elsewhere
    std: torch.Tensor | None  # (B, T, D) decoder std at imputed steps (Gaussian mode), else None


DISTANCE_EPS = 1e-8  # keeps the gradient of the Euclidean distance finite where the error is 0


def step_loss(mean: torch.Tensor, std: torch.Tensor | None, target: torch.Tensor, distance: bool = False) -> torch.Tensor:
    """Per-step loss, (..., D) -> (...): the squared error summed over the D values, or with
    ``distance`` the Euclidean distance ||mean - target|| (the L2 metric itself); the Gaussian NLL
    when ``std`` is given."""
    if std is None:
        squared = ((mean - target) ** 2).sum(-1)  # (...,)
        return torch.sqrt(squared + DISTANCE_EPS) if distance else squared
    return (0.5 * ((target - mean) / std) ** 2 + torch.log(std)).sum(-1)


def imputed_loss(out: Imputation, x: torch.Tensor, mask: torch.Tensor, distance: bool = False) -> torch.Tensor:
    """Mean per-step loss over the imputed (missing) steps only; observed steps carry no prediction."""
    missing = ~mask  # (B, T)
    std = None if out.std is None else torch.where(missing.unsqueeze(-1), out.std, torch.ones_like(out.std))
    per_step = step_loss(out.mean, std, x, distance)  # (B, T), finite everywhere (std 1 where nothing was predicted)
    return (per_step * missing.to(x.dtype)).sum() / missing.sum().clamp(min=1)


class Imputer(nn.Module):
    """What every generator shares: the config, the device and the ``impute`` contract."""

    def __init__(self, config: NAOMIConfig):
        super().__init__()
        if not isinstance(config, NAOMIConfig):
            raise TypeError(f"config must be a NAOMIConfig, got {type(config).__name__}")
        self.config = config

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def impute(self, x, mask=None, *, sample: bool = False, generator: torch.Generator | None = None):
        """Fill the missing steps of x.

        x: (B, T, D) numpy array or torch tensor; mask: (B, T), True where observed, or None to
        treat NaN steps as missing. Every row may have its own mask; the whole batch is imputed
        together on the model's device, without gradients. Observed values come back exactly as
        given, as the same type (numpy in, numpy out). ``sample=True`` draws from the Gaussian
        decoder (``config.gaussian``) instead of taking its mean.

        Taught in ``04_multiresolution_decoder.ipynb``.
        """
        prep = prepare(x, mask, dim=self.config.dim, device=self.device)
        if sample and not self.config.gaussian:
            raise ValueError("sample=True needs a Gaussian decoder (config.gaussian=True); this model is deterministic")
        check_generator(generator, self.device)
        if prep.x.shape[0] == 0:
            return finish(prep.x, prep)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                result = self.run(prep.x, prep.mask, sample=sample, generator=generator).values
        finally:
            self.train(was_training)
        return finish(result, prep)

    def run(self, x: torch.Tensor, mask: torch.Tensor, *, sample: bool = False,
            generator: torch.Generator | None = None, trace: list | None = None) -> Imputation:
        """Differentiable imputation on prepared tensors (x (B, T, D) float, mask (B, T) bool)."""
        raise NotImplementedError

    def free_running_loss(self, x: torch.Tensor, mask: torch.Tensor, distance: bool = False) -> torch.Tensor:
        """Impute with the model's own outputs fed back in and score the imputed steps against the
        truth: the training signal that removes exposure bias. The squared error, or with ``distance``
        the Euclidean distance; Gaussian models always use the NLL. Taught in ``05_pretraining.ipynb``."""
        return imputed_loss(self.run(x, mask), x, mask, distance)


def sequence_distance(values: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B,) each row's mean Euclidean distance between ``values`` and the truth ``x`` over its
    missing steps: the L2 metric, per sequence."""
    missing = (~mask).to(x.dtype)  # (B, T)
    d = step_loss(values, None, x, distance=True)  # (B, T)
    return (d * missing).sum(1) / missing.sum(1).clamp(min=1)


def variety_loss(model: "Imputer", x: torch.Tensor, mask: torch.Tensor, k: int) -> torch.Tensor:
    """The kit's free-running loss for Gaussian decoders (``fr_loss="variety"``; not in the paper):
    the distance of the mean imputation plus the distance of the *best* of ``k`` sampled imputations,
    each sample feeding its own draws back (line 10), so the model trains on the paths it will
    sample. Only the best sample is penalised (the "variety loss" of trajectory forecasting, Gupta et
    al. 2018), so the k samples may spread over the futures that are possible instead of all
    hugging the mean; the mean run keeps the mean imputation accurate. Taught in ``06_adversarial_imitation.ipynb``."""
    B = x.shape[0]
    d_mean = sequence_distance(model.run(x, mask).values, x, mask)  # (B,)
    xk, mk = x.repeat(k, 1, 1), mask.repeat(k, 1)  # (k*B, T, D), (k*B, T): k samples of every row, one batch
    d_samples = sequence_distance(model.run(xk, mk, sample=True).values, xk, mk).view(k, B)  # (k, B)
    return d_mean.mean() + d_samples.min(0).values.mean()


def _sample(mean, std, sample: bool, generator) -> torch.Tensor:
    """The decoder's output to feed back: its mean, or with ``sample`` mean + std * eps
    (reparameterization, differentiable in mean and std)."""
    if std is None or not sample:
        return mean
    eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + std * eps


# ---------------------------------------------------------------------------------------------
# 3-5. NAOMI: Algorithm 1 literally, Algorithm 1 batched, and the losses
# ---------------------------------------------------------------------------------------------


class NAOMI(Imputer):
    """Non-AutOregressive Multiresolution Imputation (paper §3, Figure 2).

    Taught in ``03_encoders.ipynb`` and ``04_multiresolution_decoder.ipynb``.
    """

    kind = "naomi"  # the config.model this class builds

    def __init__(self, config: NAOMIConfig | None = None, **overrides):
        config = _config(config, overrides, model=self.kind)
        super().__init__(config)
        c = config
        self.fwd = forward_encoder(c.dim, c.hidden, c.layers)
        self.bwd = backward_encoder(c.dim, c.hidden, c.layers, c.backward_gap)
        self.decoder = MultiresolutionDecoder(c.hidden, c.dim, c.levels, c.decoder_hidden, c.gaussian,
                                              c.min_std, c.decoder_base, shared=c.shared_heads)

    def run(self, x, mask, *, sample=False, generator=None, trace=None, teacher_forcing: bool = False) -> Imputation:
        """Algorithm 1 (lines 6-12) for a whole batch, each row with its own mask, in O(T) GRU steps per row.

        ``masks.plan_batch`` works out, from the masks alone, what every row does at every tick:
        its forward encoder reads one more known step (it only ever moves right), its backward
        encoder recomputes one state that an imputation made stale (right to left), and it may
        decode its next t* (Eqn 4). This loop runs tick after tick for all rows at once and gives
        the same numbers as :func:`literal_algorithm_1` (tested). Gradients flow through every
        imputed value, so the same code trains free running.

        ``teacher_forcing=True`` feeds the true x_t back instead of the decoded one, so the
        decoder trains on exactly the pivots and contexts inference uses (the kit's
        inference-matched teacher forcing). ``trace``: a list that receives (rows, t) per tick.
        """
        B, T, D = x.shape
        plan = plan_batch(mask.cpu().numpy(), self.config.highest).to(x.device)
        X = torch.where(mask.unsqueeze(-1), x, torch.zeros_like(x)).reshape(B * T, D)  # (B*T, D) known values, 0 elsewhere
        gap = self.config.backward_gap
        h_b0 = backward_states(self.bwd, X.view(B, T, D), mask, gap).flatten(0, 1)  # (B*(T+1), L, H) the first pass of h^b
        first_pass = h_b0[plan.first_pass_reads].split(plan.first_pass_counts)  # per tick: its reads of that pass
        h_f = self.fwd.zero_state(B, x)  # (B, L, H) each row's forward state, after its pivot
        heads = self.decoder.stacked()  # every head's weights side by side, for decode
        h_b: list = []  # h_b[k]: the backward states recomputed at tick k, (n_k, L, H)
        imputed_rows, imputed_steps, means, stds = [], [], [], []
        for k, tick in enumerate(plan.ticks):
            if tick.forward_rows is not None:  # line 11: h^f reads one more known step
                h_f = h_f.index_copy(0, tick.forward_rows, self.fwd.step(X[tick.forward_reads], h_f[tick.forward_rows]))
            h_b.append(None)
            if tick.backward_rows is not None:  # line 11: h^b recomputes a stale state from its right neighbour
                prev = _gather_states(tick.backward_from, first_pass[k], h_b)  # (n, L, H) state at position + 1
                m = tick.backward_known  # (n, 1) m_j: is step j known now?
                inp = [X[tick.backward_reads] * m, m.expand(-1, D)] + ([tick.backward_gaps / T] if gap else [])
                h_b[k] = self.bwd.step(torch.cat(inp, dim=-1), prev)
            if tick.impute_rows is not None:  # line 10: decode x_{t*} from h^f_p and h^b_{p+2s} (Eqn 4)
                rows, t = tick.impute_rows, tick.impute_steps
                h_context = _gather_states(tick.context_from, first_pass[k], h_b)[:, -1]  # (n, H) h^b at p + 2s
                base = None
                if self.decoder.base != "none":  # kit's extension: the line between the pivots p and q
                    base = linear_between_pivots(t, tick.pivots, tick.rights, X[tick.pivot_reads], X[tick.right_reads], T)
                mean, std = self.decoder.decode(tick.levels, h_f[rows, -1], h_context, base, heads)  # (n, D) each
                value = x[rows, t] if teacher_forcing else _sample(mean, std, sample, generator)
                X = X.index_put((rows * T + t,), value)  # t* is known from now on (line 10: update X and M)
                imputed_rows.append(rows)
                imputed_steps.append(t)
                means.append(mean)
                stds.append(std)
                if trace is not None:
                    trace.append((rows.cpu().numpy(), t.cpu().numpy()))
        values = torch.where(mask.unsqueeze(-1), x, X.view(B, T, D))  # observed values exactly as given
        if not means:  # nothing was missing
            return Imputation(values, torch.zeros_like(x), torch.zeros_like(x) if self.config.gaussian else None)
        where = (torch.cat(imputed_rows), torch.cat(imputed_steps))
        mean_out = torch.zeros_like(x).index_put(where, torch.cat(means))  # (B, T, D)
        std_out = torch.zeros_like(x).index_put(where, torch.cat(stds)) if self.config.gaussian else None
        return Imputation(values, mean_out, std_out)

    def teacher_forced_loss(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The paper's teacher forcing: every decoder level on every valid pivot at once, from the truth.

        The forward encoder reads the true sequence, the backward encoder reads [X*M, M]. For each
        step size s, every pivot p (the virtual p = -1 too) with p + 2s <= T predicts x_{p+s} from
        h^f_p and h^b_{p+2s} (Eqn 4), one batched matrix product per level, no loop over time.
        Levels are weighted equally. With pivot-relative heads the line runs from the true x_p to
        the true x_{p+2s}. Taught in ``05_pretraining.ipynb``.
        """
        B, T, D = x.shape
        hf = forward_states(self.fwd, x)[:, :, -1]  # (B, T+1, H): index p+1 = state after p
        hb = backward_states(self.bwd, x, mask, self.config.backward_gap)[:, :, -1]  # (B, T+1, H): index c = state at c
        losses = []
        for level in range(self.config.levels):
            s = 2**level
            n = T - 2 * s + 2  # pivots p = -1 .. T-2s
            if n <= 0:
                break
            base = None
            if self.decoder.base != "none":
                p = torch.arange(-1, n - 1, device=x.device)  # (n,) every pivot
                t, q = p + s, p + 2 * s
                base = linear_between_pivots(t[None], p[None], q[None], x[:, p.clamp(min=0)], x[:, q.clamp(max=T - 1)], T)  # (B, n, D)
            mean, std = self.decoder(level, hf[:, :n], hb[:, 2 * s - 1 : 2 * s - 1 + n], base)  # (B, n, D)
            losses.append(step_loss(mean, std, x[:, s - 1 : s - 1 + n]).mean())
        return torch.stack(losses).mean()

    def inference_teacher_forced_loss(self, x: torch.Tensor, mask: torch.Tensor, distance: bool = False) -> torch.Tensor:
        """The kit's teacher forcing: decode the steps in inference order, at inference's pivots and
        contexts, but feed the *true* value back after each one (``run(teacher_forcing=True)``).
        Every level is then weighted by how often inference uses it. Taught in ``05_pretraining.ipynb``."""
        return imputed_loss(self.run(x, mask, teacher_forcing=True), x, mask, distance)


def _gather_states(source: StateSource, first_pass: torch.Tensor, h_b: list) -> torch.Tensor:
    """The n backward states a tick reads, (n, L, H): from the first pass or from earlier ticks."""
    pieces = [(first_pass if k < 0 else h_b[k])[index] for k, index in source.parts]
    out = pieces[0] if len(pieces) == 1 else torch.cat(pieces)
    return out if source.order is None else out[source.order]


@torch.no_grad()
def literal_algorithm_1(model: NAOMI, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Algorithm 1, lines 6-12, word for word, for ONE sequence: x (T, D), mask (T,) -> imputed (T, D).

    After every imputed step both encoders re-read the whole sequence (line 11), so it costs
    O(T^2) GRU steps. ``NAOMI.run`` gives the same numbers in O(T) for a whole batch (tested).
    Taught in ``04_multiresolution_decoder.ipynb``.
    """
    T = x.shape[0]
    X = torch.where(mask.unsqueeze(-1), x, torch.zeros_like(x)).unsqueeze(0)  # (1, T, D)
    M = mask.clone().unsqueeze(0)  # (1, T)
    while not M.all():  # line 6: repeat until every step is known
        step = imputation_order(M[0].cpu().numpy(), model.config.highest)[0]  # lines 7-9: leftmost gap's pivots, s, t*
        h_f = forward_states(model.fwd, X)[:, step.pivot + 1, -1]  # (1, H) h^f after the left pivot p
        h_b = backward_states(model.bwd, X, M, model.config.backward_gap)[:, step.context, -1]  # (1, H) h^b at p + 2s
        base = None
        if model.decoder.base != "none":  # the kit's extension: the line from x_p to x_q
            t, p, q = (torch.tensor([v], device=x.device) for v in (step.t, step.pivot, step.right))
            base = linear_between_pivots(t, p, q, X[:, max(step.pivot, 0)], X[:, min(step.right, T - 1)], T)
        mean, _ = model.decoder(step.level, h_f, h_b, base)  # line 10: Eqn 4, (1, D)
        X[0, step.t] = mean[0]  # line 10: write x_{t*} into X ...
        M[0, step.t] = True  # ... and mark it known in M; line 11: the encoders re-read on the next pass
    return X[0]


def per_step_teacher_forced_loss(model: NAOMI, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``NAOMI.teacher_forced_loss`` with Python loops: one GRU step per time step,
    one head call per pivot. The tests and ``benchmarks/speed.py`` check the fast version against it."""
    B, T, D = x.shape
    m = mask.to(x.dtype)  # (B, T)
    h = model.fwd.zero_state(B, x)  # (B, L, H)
    hf = [h[:, -1]]  # hf[p + 1]: top-layer forward state after step p; hf[0] is the zero state
    for t in range(T):
        h = model.fwd.step(x[:, t], h)  # (B, L, H)
        hf.append(h[:, -1])
    h = model.bwd.zero_state(B, x)
    hb = [h[:, -1]] * (T + 1)  # hb[c]: top-layer backward state after reading T-1 down to c; hb[T] = zero
    gaps = steps_to_next_known(mask.bool()).to(x.dtype) / T  # (B, T) the kit's backward_gap input
    for t in range(T - 1, -1, -1):
        mt = m[:, t : t + 1]  # (B, 1)
        inp = [x[:, t] * mt, mt.expand(-1, D)] + ([gaps[:, t : t + 1]] if model.config.backward_gap else [])
        h = model.bwd.step(torch.cat(inp, dim=-1), h)  # (B, L, H)
        hb[t] = h[:, -1]
    losses = []
    for level in range(model.config.levels):
        s = 2**level
        pivots = range(-1, T - 2 * s + 1)
        if len(pivots) == 0:
            break
        total = x.new_zeros(())
        for p in pivots:
            base = None
            if model.decoder.base != "none":  # the kit's extension: the line from x_p to x_{p+2s}
                t_, p_, q_ = (torch.tensor(v, device=x.device) for v in (p + s, p, p + 2 * s))
                base = linear_between_pivots(t_, p_, q_, x[:, max(p, 0)], x[:, min(p + 2 * s, T - 1)], T)  # (B, D)
            mean, std = model.decoder(level, hf[p + 1], hb[p + 2 * s], base)  # (B, D)
            total = total + step_loss(mean, std, x[:, p + s]).sum()
        losses.append(total / (B * len(pivots)))
    return torch.stack(losses).mean()


# ---------------------------------------------------------------------------------------------
# 6. Baselines
# ---------------------------------------------------------------------------------------------


class SingleRes(NAOMI):
    """The single-resolution baseline (paper §4): NAOMI's encoders and one decoder head that fills
    left to right, t = p + 1 from h^f_p and h^b_{p+2}: NAOMI with ``highest = 1``, BRITS-like.

    Taught in ``05_pretraining.ipynb``.
    """

    kind = "singleres"


class AutoregressiveRNN(Imputer):
    """A forward-only GRU over [x_t, m_t]: predicts x_t from the past and feeds its own guess back
    at missing steps; the "autoregressive counterpart" of the paper's 60% claim. With
    ``decoder_base="linear"`` it predicts a correction to the last value (the same kit extension).

    Taught in ``05_pretraining.ipynb``.
    """

    kind = "rnn"

    def __init__(self, config: NAOMIConfig | None = None, **overrides):
        config = _config(config, overrides, model=self.kind)
        super().__init__(config)
        c = config
        self.fwd = forward_encoder(c.dim + 1, c.hidden, c.layers)
        self.decoder = MultiresolutionDecoder(c.hidden, c.dim, 1, c.decoder_hidden, c.gaussian, c.min_std,
                                              c.decoder_base, bidirectional=False)

    def run(self, x, mask, *, sample=False, generator=None, trace=None) -> Imputation:
        """Left to right: predict x_t from the state after t-1, keep it where x_t is missing."""
        B, T, D = x.shape
        m = mask.to(x.dtype)  # (B, T)
        h = self.fwd.zero_state(B, x)  # (B, L, H)
        last = torch.zeros_like(x[:, 0])  # (B, D) the last value fed in (the base of a relative head)
        values, means, stds = [], [], []
        for t in range(T):
            mean, std = self.decoder(0, h[:, -1], base=last)  # (B, D) prediction of x_t
            mt = mask[:, t].unsqueeze(-1)  # (B, 1)
            xt = torch.where(mt, x[:, t], _sample(mean, std, sample, generator))  # (B, D)
            if trace is not None and not bool(mt.all()):
                rows = (~mt.squeeze(-1)).nonzero().squeeze(1).cpu().numpy()
                trace.append((rows, np.full(len(rows), t)))
            values.append(xt)
            means.append(mean)
            stds.append(std)
            last = xt
            h = self.fwd.step(torch.cat([xt, m[:, t : t + 1]], dim=-1), h)  # (B, L, H)
        keep = ~mask.unsqueeze(-1)  # (B, T, 1) only imputed steps carry a prediction
        mean_out = torch.stack(means, 1) * keep  # (B, T, D)
        std_out = torch.stack(stds, 1) * keep if self.config.gaussian else None
        return Imputation(torch.stack(values, 1), mean_out, std_out)

    def teacher_forced_loss(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Next-step prediction over the true sequence, one fused GRU pass. Taught in ``05_pretraining.ipynb``."""
        m = mask.to(x.dtype).unsqueeze(-1)  # (B, T, 1)
        h = forward_states(self.fwd, torch.cat([x, m], dim=-1))[:, :-1, -1]  # (B, T, H): state before step t
        last = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)  # (B, T, D) x_{t-1}
        mean, std = self.decoder(0, h, base=last)  # (B, T, D)
        return step_loss(mean, std, x).mean()


MODELS = {"naomi": NAOMI, "singleres": SingleRes, "rnn": AutoregressiveRNN}


def with_relative_heads(model: Imputer) -> Imputer:
    """A copy of ``model`` switched to the kit's pivot-relative heads (``decoder_base="linear"``):
    the encoders and the heads' hidden layers are kept, the heads' output layers start at zero, so
    the copy first imputes exactly like linear interpolation and then learns corrections on top of
    features the model already has (``train --init-from ... --relative-heads``). Taught in ``05_pretraining.ipynb``."""

    config = copy.deepcopy(model.config)
    config.decoder_base = "linear"
    new = MODELS[config.model](config).to(model.device)
    new.load_state_dict(model.state_dict())
    with torch.no_grad():
        for head in new.decoder.heads:
            head.w2.zero_()
            head.b2.zero_()
    new.meta = getattr(model, "meta", {})
    return new


def with_gaussian_heads(model: Imputer, std: float) -> Imputer:
    """A Gaussian copy of a deterministic ``model`` (kit's extension, ``train --init-from ... --gaussian-heads STD``):
    the encoders and heads are kept, each head's output layer gains D standard-deviation outputs that start
    at ``std`` everywhere (zero weights, a constant bias), so the copy's mean imputation is exactly the
    deterministic model's and training first learns the spread. Used to train the court model's mean
    deterministically first (``benchmarks/README.md``, court ablation, session 9). Taught in ``06_adversarial_imitation.ipynb``."""
    if model.config.gaussian:
        raise ValueError("--gaussian-heads: the --init-from model is Gaussian already")
    if not std > model.config.min_std:
        raise ValueError(f"--gaussian-heads: the starting std must be above the std floor min_std = "
                         f"{model.config.min_std:g}, got {std!r}")
    config = copy.deepcopy(model.config)
    config.gaussian = True
    new = MODELS[config.model](config).to(model.device)
    state = model.state_dict()
    D = config.dim
    raw = math.log(math.expm1(std - config.min_std))  # softplus(raw) + min_std = std
    for name, value in new.state_dict().items():  # views of new's parameters: filled in place
        old = state[name]
        if old.shape == value.shape:
            value.copy_(old)
        elif name.endswith("w2"):  # (Hd, D) -> (Hd, 2D): mean columns kept, std columns zero
            value.zero_()
            value[..., :D] = old
        elif name.endswith("b2"):  # (D,) -> (2D,)
            value[:D] = old
            value[D:] = raw
        else:
            raise ValueError(f"--gaussian-heads: cannot carry {name} from shape {tuple(old.shape)} to {tuple(value.shape)}")
    new.meta = getattr(model, "meta", {})
    return new


def _config(config: NAOMIConfig | None, overrides: dict, model: str) -> NAOMIConfig:
    """The config a model class builds from: ``config`` or keywords, never both, and never changed in place.

    A keyword beside a config would be silently ignored, so it is refused; a config for another
    kind of model is refused too.
    """
    if config is not None and overrides:
        raise TypeError(f"pass either a NAOMIConfig or keywords, not both (got config and {sorted(overrides)})")
    if config is None:
        config = NAOMIConfig(**{"model": model, **overrides})
    if not isinstance(config, NAOMIConfig):
        raise TypeError(f"config must be a NAOMIConfig, got {type(config).__name__}")
    if config.model != model:
        raise ValueError(f"this is a {model} model but config.model is {config.model!r}")
    return config


def build_model(config: NAOMIConfig) -> Imputer:
    """The generator class named by ``config.model``."""
    return MODELS[config.model](config)
