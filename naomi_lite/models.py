"""The generators: NAOMI, its single-resolution twin SingleRes, and an autoregressive RNN.

* ``NAOMI`` (paper §3): forward and backward GRU encoders (§3.2) and the
  multiresolution decoder (§3.3), imputing coarse to fine (Algorithm 1).
* ``SingleRes`` (paper §4 baselines): the same encoders with one decoder head that
  fills left to right, t = p + 1 from h^f_p and h^b_{p+2}. It is NAOMI with
  ``highest = 1``, the paper's BRITS-like baseline.
* ``AutoregressiveRNN``: a forward-only GRU that predicts each step from the past and
  feeds its own predictions back in at missing steps: the "autoregressive
  counterpart" behind the paper's 60% claim.

All three share the public ``impute`` contract and two training losses used by
``naomi_lite.train``: a vectorized teacher-forced loss and a free-running loss.

Taught in ``03_encoders.ipynb``, ``04_multiresolution_decoder.ipynb`` and ``05_pretraining.ipynb``.
"""
from __future__ import annotations

import torch
from torch import nn

from .config import NAOMIConfig
from .decoder import MultiresolutionDecoder
from .encoders import GRUStack, backward_encoder, backward_states, forward_encoder, forward_states
from .imputation import Imputation, run_naomi, run_rnn
from .inputs import finish, prepare


DISTANCE_EPS = 1e-8  # keeps the gradient of the Euclidean distance finite where the error is 0


def step_loss(mean: torch.Tensor, std: torch.Tensor | None, target: torch.Tensor, distance: bool = False) -> torch.Tensor:
    """Per-step loss: squared error summed over the D values (deterministic), or the Euclidean
    distance ``||mean - target||`` when ``distance`` (the L2 metric itself), or the Gaussian NLL."""
    if std is None:
        squared = ((mean - target) ** 2).sum(-1)  # (..., )
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
        self.config = config

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def impute(self, x, mask=None, *, sample: bool = False, generator: torch.Generator | None = None):
        """Fill the missing steps of x.

        x: (B, T, D) numpy array or torch tensor; mask: (B, T), True where observed, or
        None to treat NaN steps as missing. Every row may have its own mask; the whole
        batch is imputed together on the model's device, without gradients unless the
        caller enabled them. Observed values come back exactly as given, as the same
        type (numpy in, numpy out). ``sample=True`` draws from the Gaussian decoder
        (``config.gaussian``) instead of taking its mean.

        Taught in ``04_multiresolution_decoder.ipynb``.
        """
        prep = prepare(x, mask, dim=self.config.dim, device=self.device)
        if sample and not self.config.gaussian:
            raise ValueError("sample=True needs a Gaussian decoder (config.gaussian=True); this model is deterministic")
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
        """Impute with the model's own outputs fed back in (no teacher forcing) and score the
        imputed steps against the truth: the training signal that fixes exposure bias.

        The score is the squared error, or with ``distance`` the Euclidean distance (the
        L2 metric the benchmarks report); Gaussian models always use the NLL.
        Taught in ``05_pretraining.ipynb``.
        """
        out = self.run(x, mask)
        return imputed_loss(out, x, mask, distance)

    def save(self, path) -> None:
        """Write a checkpoint (config, state_dict, kit version). Taught in ``05_pretraining.ipynb``."""
        from .checkpoints import save

        save(self, path)


class NAOMI(Imputer):
    """Non-AutOregressive Multiresolution Imputation (paper §3, Figure 2).

    Taught in ``03_encoders.ipynb`` and ``04_multiresolution_decoder.ipynb``.
    """

    def __init__(self, config: NAOMIConfig | None = None, **overrides):
        config = config or NAOMIConfig(**overrides)
        super().__init__(config)
        c = config
        self.fwd: GRUStack = forward_encoder(c.dim, c.hidden, c.layers)
        self.bwd: GRUStack = backward_encoder(c.dim, c.hidden, c.layers)
        self.decoder = MultiresolutionDecoder(c.hidden, c.dim, c.levels, c.decoder_hidden, c.gaussian, c.min_std)

    def run(self, x, mask, *, sample=False, generator=None, trace=None) -> Imputation:
        return run_naomi(self, x, mask, sample=sample, generator=generator, trace=trace)

    def teacher_forced_loss(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Every decoder level on every valid pivot at once, with the ground truth as input.

        The forward encoder reads the true sequence, the backward encoder reads
        [X*M, M]; both run as one fused GRU pass. For each step size s, every pivot p
        (including the virtual p = -1) with p + 2s <= T predicts x_{p+s} from h^f_p and
        h^b_{p+2s} (Eqn 4): one batched matrix product per level, no loop over time.
        Levels are weighted equally.

        Taught in ``05_pretraining.ipynb``.
        """
        B, T, D = x.shape
        hf = forward_states(self.fwd, x)[:, :, -1]  # (B, T+1, H): index p+1 = state after p
        hb = backward_states(self.bwd, x, mask)[:, :, -1]  # (B, T+1, H): index c = state at c
        losses = []
        for level in range(self.config.levels):
            s = 2**level
            n = T - 2 * s + 2  # pivots p = -1 .. T-2s
            if n <= 0:
                break
            raw = self.decoder.head(level, hf[:, :n], hb[:, 2 * s - 1 : 2 * s - 1 + n])  # (B, n, O)
            mean, std = self.decoder.split(raw)
            losses.append(step_loss(mean, std, x[:, s - 1 : s - 1 + n]).mean())
        return torch.stack(losses).mean()


class SingleRes(NAOMI):
    """The single-resolution baseline: NAOMI's encoders, one decoder head, left to right.

    Taught in ``05_pretraining.ipynb``.
    """

    def __init__(self, config: NAOMIConfig | None = None, **overrides):
        config = config or NAOMIConfig(**{"model": "singleres", **overrides})
        config.model, config.highest = "singleres", 1
        super().__init__(config)


class AutoregressiveRNN(Imputer):
    """Forward-only GRU over [x_t, m_t]; predicts x_t from the past, feeds its own guesses back.

    Taught in ``05_pretraining.ipynb``.
    """

    def __init__(self, config: NAOMIConfig | None = None, **overrides):
        config = config or NAOMIConfig(**{"model": "rnn", **overrides})
        config.model = "rnn"
        super().__init__(config)
        c = config
        self.fwd: GRUStack = forward_encoder(c.dim + 1, c.hidden, c.layers)
        self.decoder = MultiresolutionDecoder(c.hidden, c.dim, 1, c.decoder_hidden, c.gaussian, c.min_std,
                                              bidirectional=False)

    def run(self, x, mask, *, sample=False, generator=None, trace=None) -> Imputation:
        return run_rnn(self, x, mask, sample=sample, generator=generator, trace=trace)

    def teacher_forced_loss(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Next-step prediction over the true sequence, one fused GRU pass. Taught in ``05_pretraining.ipynb``."""
        m = mask.to(x.dtype).unsqueeze(-1)  # (B, T, 1)
        h = forward_states(self.fwd, torch.cat([x, m], dim=-1))[:, :-1, -1]  # (B, T, H): state before step t
        mean, std = self.decoder.split(self.decoder.head(0, h))  # (B, T, D)
        return step_loss(mean, std, x).mean()


MODELS = {"naomi": NAOMI, "singleres": SingleRes, "rnn": AutoregressiveRNN}


def build_model(config: NAOMIConfig) -> Imputer:
    """The generator class named by ``config.model``."""
    return MODELS[config.model](config)
