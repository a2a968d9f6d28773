"""Adversarial imitation (paper §3.4, Eqn 5, and Algorithm 1 lines 13-14).

Imputation is cast as imitation learning: a state s_t is the sequence so far, an
action is the next value x_{t+1}. Expert sequences come from the data; the learner's
come from NAOMI imputing masked copies of them. A discriminator D(s_t, x_{t+1})
outputs the probability that a step is the expert's (GAIL, Ho & Ermon 2016):

    min_theta max_omega  E_expert[sum_t log D(s_t, x_{t+1})] + E_NAOMI[sum_t log(1 - D(s_t, x_{t+1}))]

(Eqn 5 writes D and 1 - D; we use the usual log form, i.e. binary cross-entropy.)
As in the paper, the generator is trained *model-based*: the Gaussian decoder samples
by reparameterization, so the gradient of D's verdict flows straight back through
every imputed value into NAOMI (no policy gradient).

Schedule (the paper's and the original code's, as defaults in ``AdversarialConfig``):
pretrain the discriminator against the pretrained generator, then alternate several
discriminator updates with one generator update; the generator is updated only while
the discriminator is not fooled too easily.

The kit's extension (off by default, ``AdversarialConfig.variety_weight``): the generator loss may
add the variety loss of ``model.variety_loss`` (the mean imputation's distance plus the best of k
samples'), so the generator is pulled towards the truth and kept diverse while it imitates.

Taught in ``06_adversarial_imitation.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .history import History
from .masks import COURT_MISSING, paper_mask
from .model import Imputer, imputed_loss, variety_loss
from .runtime import get_device, set_seed


@dataclass
class AdversarialConfig:
    """Everything one adversarial run needs; defaults show an effect within CPU minutes."""

    disc_hidden: int = 128      # discriminator GRU width (paper §4: a 1-layer GRU)
    step_scale: float = 30.0    # the critic also reads each step x_t - x_{t-1} times this (0 = positions only)
    d_pretrain_steps: int = 100 # phase 1: at most this many discriminator updates against the pretrained generator ...
    separation: float = 0.5     # ... stopping early once mean p_expert - p_model on a batch reaches this
    iterations: int = 200       # phase 2: generator iterations
    d_steps: int = 3            # discriminator updates per iteration
    batch_size: int = 64
    g_lr: float = 1e-4          # generator (NAOMI) learning rate
    d_lr: float = 1e-3          # discriminator learning rate
    fool_limit: float = 0.6     # skip the generator update when D already rates imputed steps above this
    nll_weight: float = 0.0     # optional NLL of the truth (on the imputed steps) added to the generator loss
    variety_weight: float = 0.0 # kit's extension: this times model.variety_loss (mean run + best of variety_k samples)
    variety_k: int = 4          # ... sampled imputations per play in that term
    clip: float = 1.0           # gradient-norm clipping for both networks
    missing: tuple = COURT_MISSING  # paper masks for the court data (§4.2): 40-49 of 50 steps missing
    seed: int = 0
    device: str = "auto"
    progress: bool = True       # tqdm progress bars

    def __post_init__(self) -> None:
        for name in ("disc_hidden", "batch_size", "d_steps", "variety_k"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        for name in ("d_pretrain_steps", "iterations"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("g_lr", "d_lr", "clip"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        for name in ("nll_weight", "variety_weight"):
            if not float(getattr(self, name)) >= 0:  # also refuses NaN
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0 < self.separation <= 1:
            raise ValueError(f"separation must be in (0, 1], got {self.separation!r}")
        if self.step_scale < 0:
            raise ValueError(f"step_scale must be >= 0, got {self.step_scale!r}")
        if not 0 < self.fool_limit <= 1:
            raise ValueError(f"fool_limit must be in (0, 1], got {self.fool_limit!r}")
        self.missing = tuple(self.missing)


class Discriminator(nn.Module):
    """D(s_t, x_{t+1}): a 1-layer GRU summarizes the states, a head scores the next action.

    Taught in ``06_adversarial_imitation.ipynb``.
    """

    def __init__(self, dim: int, hidden: int = 128):
        super().__init__()
        self.gru = nn.GRU(dim, hidden, 1, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden + dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits that each step t -> t+1 is the expert's: x (B, T, D) -> (B, T-1)."""
        h, _ = self.gru(x[:, :-1])  # (B, T-1, H): h_t has read x_0..x_t, the state s_t
        return self.head(torch.cat([h, x[:, 1:]], dim=-1)).squeeze(-1)  # (B, T-1)

    def prob_real(self, x: torch.Tensor) -> torch.Tensor:
        """Mean probability, per sequence, that its steps are the expert's: (B, T, D) -> (B,)."""
        return torch.sigmoid(self(x)).mean(-1)


class StepDiscriminator(Discriminator):
    """A ``Discriminator`` that reads [x_t, scale * (x_t - x_{t-1})] at every step (the step at t = 0 is 0).

    Sampled plays give themselves away mostly in their steps (fresh noise at every step
    makes them zig-zag), and steps are small next to positions, so a positions-only GRU
    must first learn to take differences. Handing it the scaled steps lets the critic see
    the zig-zag at once; it is still a D(s_t, x_{t+1}), since the step is a function of the
    state and the action. On the court data the positions-only critic made adversarial
    training harmful (``benchmarks/README.md``). Taught in ``06_adversarial_imitation.ipynb``.
    """

    def __init__(self, dim: int, hidden: int = 128, scale: float = 30.0):
        super().__init__(2 * dim, hidden)
        self.scale = float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, T-1) for the steps t -> t+1 of x (B, T, D)."""
        step = torch.cat([torch.zeros_like(x[:, :1]), x[:, 1:] - x[:, :-1]], dim=1)  # (B, T, D)
        return super().forward(torch.cat([x, self.scale * step], dim=-1))  # GRU over (B, T, 2D)


def make_discriminator(dim: int, cfg: "AdversarialConfig") -> Discriminator:
    """The critic ``cfg`` asks for: step-aware when ``cfg.step_scale > 0``, else positions only."""
    if cfg.step_scale > 0:
        return StepDiscriminator(dim, cfg.disc_hidden, cfg.step_scale)
    return Discriminator(dim, cfg.disc_hidden)


def discriminator_loss(disc: Discriminator, expert: torch.Tensor, imputed: torch.Tensor) -> torch.Tensor:
    """BCE: expert steps labelled 1, imputed steps 0 (the max over omega in Eqn 5)."""
    real, fake = disc(expert), disc(imputed.detach())  # (B, T-1) each
    return F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + \
        F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))


def generator_loss(disc: Discriminator, imputed: torch.Tensor) -> torch.Tensor:
    """The min over theta in Eqn 5, in its non-saturating form: -log D on the imputed steps."""
    fake = disc(imputed)  # (B, T-1)
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


def _check_plays(train_x, dim: int) -> np.ndarray:
    """``train_x`` as float32 (N, T, dim), or a TypeError/ValueError naming what is wrong with it."""
    if isinstance(train_x, torch.Tensor):
        train_x = train_x.detach().cpu().numpy()
    if not isinstance(train_x, np.ndarray):
        raise TypeError(f"train_x must be a numpy array or a torch tensor, got {type(train_x).__name__}")
    if train_x.dtype.kind not in "iuf":
        raise TypeError(f"train_x must hold real numbers, got dtype {train_x.dtype}")
    if train_x.ndim != 3:
        raise ValueError(f"train_x must have shape (N, T, D), got {train_x.shape}")
    N, T, D = train_x.shape
    if D != dim:
        raise ValueError(f"the model takes dim={dim} values per step but the data have {D}")
    if N == 0:
        raise ValueError("train_x holds no sequences (N = 0); adversarial training needs expert data")
    if T < 2:
        raise ValueError(f"train_x needs at least T=2 steps, got T={T}")
    x = train_x.astype(np.float32)
    if not np.isfinite(x).all():
        raise ValueError("train_x holds NaN or inf; expert sequences must be complete")
    return x


def train_adversarial(model: Imputer, train_x: np.ndarray, cfg: AdversarialConfig,
                      disc: Discriminator | None = None) -> tuple[Imputer, Discriminator, History]:
    """Refine a pretrained Gaussian NAOMI by adversarial imitation; returns (model, discriminator, history).

    Taught in ``06_adversarial_imitation.ipynb``.
    """
    if not model.config.gaussian:
        raise ValueError("adversarial training samples by reparameterization: the model needs config.gaussian=True")
    if not isinstance(cfg, AdversarialConfig):
        raise TypeError(f"cfg must be an AdversarialConfig, got {type(cfg).__name__}")
    train_np = _check_plays(train_x, model.config.dim)
    set_seed(cfg.seed)
    device = get_device(cfg.device)
    model.to(device)
    x_all = torch.as_tensor(train_np, device=device)  # (N, T, D)
    N, T, D = x_all.shape
    disc = (disc or make_discriminator(D, cfg)).to(device)
    g_opt = torch.optim.Adam(model.parameters(), lr=cfg.g_lr)
    d_opt = torch.optim.Adam(disc.parameters(), lr=cfg.d_lr)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    history = History()

    def batch():
        idx = torch.as_tensor(rng.choice(N, size=min(cfg.batch_size, N), replace=False), device=device)
        mask = torch.as_tensor(paper_mask(len(idx), T, cfg.missing, seed=int(rng.integers(2**31))), device=device)
        return x_all[idx], mask  # (B, T, D), (B, T): a different mask for every sequence

    def d_update() -> tuple[float, float]:
        """One discriminator step; returns its loss and the gap p_expert - p_model it saw before the step."""
        expert, mask = batch()
        with torch.no_grad():
            imputed = model.run(expert, mask, sample=True, generator=gen).values  # (B, T, D)
            gap = (disc.prob_real(expert).mean() - disc.prob_real(imputed).mean()).item()
        loss = discriminator_loss(disc, expert, imputed)
        d_opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(disc.parameters(), cfg.clip)
        d_opt.step()
        return loss.item(), gap

    model.train()
    history.pretrain_steps = 0
    for _ in tqdm(range(cfg.d_pretrain_steps), desc="discriminator pretraining", disable=not cfg.progress, leave=False):
        if d_update()[1] >= cfg.separation:  # pretrain "until it separates" (the original schedule)
            break
        history.pretrain_steps += 1
    for it in tqdm(range(cfg.iterations), desc="adversarial", disable=not cfg.progress, leave=False):
        d_loss = float(np.mean([d_update()[0] for _ in range(cfg.d_steps)]))
        expert, mask = batch()
        out = model.run(expert, mask, sample=True, generator=gen)  # differentiable through the samples
        fake_logits = disc(out.values)  # (B, T-1)
        p_fake = torch.sigmoid(fake_logits).mean().item()
        with torch.no_grad():
            p_real = disc.prob_real(expert).mean().item()
        updated = p_fake < cfg.fool_limit
        g_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
        if cfg.nll_weight:  # NLL of the truth under the decoder's Gaussians along this imputation
            g_loss = g_loss + cfg.nll_weight * imputed_loss(out, expert, mask)
        if cfg.variety_weight:  # kit's extension: stay accurate (mean run) and diverse (best of k) while imitating
            g_loss = g_loss + cfg.variety_weight * variety_loss(model, expert, mask, cfg.variety_k)
        if updated:  # the generator moves only while D is not fooled too easily
            g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            g_opt.step()
        history.rows.append(dict(iteration=it + 1, p_expert=p_real, p_model=p_fake, d_loss=d_loss,
                                 g_loss=g_loss.item(), g_updated=updated))
    model.eval()
    return model, disc, history
