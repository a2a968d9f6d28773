"""Training: teacher-forced pretraining, then free-running training (paper §4, "Training").

For deterministic data such as billiards the paper optimizes the L2 loss with teacher
forcing during pretraining and turns teacher forcing off for the last part. We do the
same in two phases:

1. **teacher forcing** (``tf_epochs``): with ``tf_loss="paper"``, ``model.teacher_forced_loss``,
   every decoder level at every pivot, fully vectorized (one fused GRU pass per encoder, one
   matrix product per level); with ``tf_loss="inference"`` (the kit's extension),
   ``model.inference_teacher_forced_loss``, the imputation loop with the true values fed back;
2. **free running** (``fr_epochs``): ``model.free_running_loss``, the batched, differentiable
   imputation of ``naomi_lite.model`` with a fresh paper mask for every sequence, scored on
   the imputed steps. This is what removes exposure bias.

The kit's extensions (off by default, each measured in ``benchmarks/README.md``): ``crop`` (training
windows), ``tf_loss="inference"``, and a mask curriculum (``missing_start`` moving to ``missing`` over
``curriculum_epochs``: denser masks first). ``CLASSROOM`` is the recipe that trains NAOMI in a tutorial
slot (README; chapter 05's ``train_from_scratch``).

The model's losses live in ``naomi_lite/model.py``, the masks in ``naomi_lite/masks.py`` and
the data in ``naomi_lite/data.py``; this file is the loop and its command line.

Adam with a step learning-rate decay, gradient clipping, and the best checkpoint by
validation L2 on the missing steps. The paper does not state its learning-rate schedule;
ours is a step decay (``lr_decay`` every ``lr_decay_every`` epochs within each phase).

Command line (defaults below are the ones the shipped checkpoints used)::

    python -m naomi_lite.train --task billiards --model naomi --out naomi_lite/checkpoints/billiards-naomi.pt

For the court task (stochastic, paper §4.2) the decoder is Gaussian and both phases
minimize the negative log-likelihood; adversarial refinement is ``naomi_lite.adversarial``.

Taught in ``05_pretraining.ipynb``.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import functools
import signal
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .config import MODEL_KINDS, NAOMIConfig
from .data import TASKS, task_data
from .evaluation import evaluate_best_of_k, evaluate_l2
from .history import History
from .masks import _check_range as check_range
from .masks import forward_mask, paper_mask
from .model import Imputer, build_model, variety_loss
from .runtime import get_device, set_seed
from .safety import Diverged, check_loss, check_weights, evaluate_or_diverge

FR_LOSSES = ("squared", "distance", "variety")  # "distance": the per-step Euclidean error, i.e. the L2 metric itself;
# "variety" (Gaussian models, kit's extension): the mean run's distance plus the best of variety_k samples' (model.variety_loss)
TF_LOSSES = ("paper", "inference")  # every level at every pivot (paper) / along inference's order (kit's extension)
TRAIN_MASKS = ("paper", "forward")  # "forward" fine-tunes an imputation model for forward inference (§4.3)


def _opt(default, help: str):
    """A config field with its command-line help beside its default."""
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """Everything one training run needs. The CLI (``python -m naomi_lite.train --help``) has one flag per field."""

    task: str = _opt("billiards", "dataset: billiards or court")
    model: str = _opt("naomi", "naomi, singleres or rnn")
    hidden: int = _opt(128, "GRU hidden size")
    layers: int = _opt(2, "GRU layers per encoder (paper: 2)")
    decoder_hidden: int = _opt(128, "width of each decoder head")
    highest: int | None = _opt(None, "coarsest decoder step size, a power of two (default: 64 for NAOMI; "
                                     "SingleRes and the RNN have one head, step 1)")
    decoder_base: str = _opt("none", "none: heads output positions (paper); linear: a correction to the line "
                                     "between the pivots (kit's extension)")
    backward_gap: bool = _opt(False, "the backward encoder also reads the steps to the next known step (kit's extension)")
    shared_heads: bool = _opt(False, "one decoder head for every step size, told the size by a one-hot input "
                                     "(kit's extension; paper: one head per step size)")
    min_std: float = _opt(1e-3, "floor of the Gaussian decoder's std (court)")
    n_train: int = _opt(4000, "training sequences (paper: 4000)")
    n_val: int = _opt(500, "validation sequences, for best-checkpoint selection")
    tf_epochs: int = _opt(10, "phase 1: teacher-forced epochs")
    tf_loss: str = _opt("paper", "teacher forcing: paper (every level at every pivot) or inference "
                                 "(inference's pivots and contexts, true values fed back; kit's extension)")
    fr_epochs: int = _opt(30, "phase 2: free-running epochs")
    batch_size: int = _opt(64, "sequences per batch")
    lr: float = _opt(1e-3, "Adam learning rate at the start of phase 1")
    fr_lr: float = _opt(5e-4, "Adam learning rate at the start of phase 2")
    lr_decay: float = _opt(0.5, "multiply the learning rate by this ...")
    lr_decay_every: int = _opt(10, "... every this many epochs of a phase")
    clip: float = _opt(1.0, "gradient-norm clipping")
    ema: float = _opt(0.0, "validate and keep an exponential moving average of the weights with this decay per "
                           "step, e.g. 0.995 (0 = off, the paper; kit's extension)")
    fr_loss: str = _opt("squared", "free-running loss: squared error or Euclidean distance (deterministic models; Gaussian "
                                   "ones use the NLL), or variety (Gaussian models, kit's extension: distance of the "
                                   "mean run plus the best of --variety-k sampled runs)")
    variety_k: int = _opt(4, "fr_loss variety: sampled imputations per sequence, the best one scored")
    deterministic: bool = _opt(False, "train a Gaussian task's model with a deterministic decoder, its mean only "
                                      "(kit's extension: the mean first; then --init-from it with --gaussian-heads)")
    mask: str = _opt("paper", "training/validation masks: paper (§4.1-4.2) or forward (§4.3, only step 0 observed)")
    missing: tuple = _opt((), "paper masks: missing steps per sequence, LO HI (default: the task's)")
    missing_start: tuple = _opt((), "mask curriculum (kit's extension): missing steps per sequence at the first "
                                    "epoch, LO HI, moving linearly to --missing over --curriculum-epochs "
                                    "(default: no curriculum, the paper)")
    curriculum_epochs: int = _opt(0, "epochs over which --missing-start moves to --missing (teacher-forced and "
                                     "free-running epochs count alike); validation always uses --missing")
    crop: int = _opt(0, "train on random windows of this many steps, masked with the same share missing "
                        "(0 = whole sequences, the paper; kit's extension); validation always uses whole sequences")
    seed: int = _opt(0, "seed of the data, the masks and the initial weights")
    device: str = _opt("auto", "auto (CUDA if available), cpu or cuda")
    max_minutes: float = _opt(0.0, "stop after the epoch that crosses this wall time (0 = no limit); best epoch kept")
    progress: bool = _opt(True, "tqdm progress bars")
    verbose: bool = _opt(True, "one summary line per epoch")

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {tuple(TASKS)}, got {self.task!r}")
        if self.model not in MODEL_KINDS:
            raise ValueError(f"model must be one of {MODEL_KINDS}, got {self.model!r}")
        for name in ("n_train", "n_val", "batch_size", "lr_decay_every", "variety_k"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        for name in ("tf_epochs", "fr_epochs"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("lr", "fr_lr", "lr_decay", "clip"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0 <= float(self.ema) < 1:  # also refuses NaN
            raise ValueError(f"ema must be in [0, 1) (0 = off), got {self.ema!r}")
        if not float(self.max_minutes) >= 0:  # also refuses NaN
            raise ValueError(f"max_minutes must be >= 0 (0 = no limit), got {self.max_minutes!r}")
        for name, allowed in (("fr_loss", FR_LOSSES), ("tf_loss", TF_LOSSES), ("mask", TRAIN_MASKS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.fr_loss == "variety" and not self.gaussian:
            raise ValueError(f"fr_loss='variety' scores sampled imputations; the {self.task} models are deterministic"
                             + (" here (deterministic=True)" if self.deterministic else ""))
        if self.tf_loss == "inference" and self.model != "naomi":
            raise ValueError(f"tf_loss='inference' runs NAOMI's imputation loop; the {self.model} model has none")
        if self.crop and not 2 <= int(self.crop) <= TASKS[self.task]["T"]:
            raise ValueError(f"crop must be 0 (whole sequences) or 2..{TASKS[self.task]['T']} steps, got {self.crop!r}")
        self.missing = tuple(self.missing) or TASKS[self.task]["missing"]
        paper_mask(1, TASKS[self.task]["T"], self.missing)  # a bad range raises here, naming "missing"
        if int(self.curriculum_epochs) < 0:
            raise ValueError(f"curriculum_epochs must be >= 0, got {self.curriculum_epochs!r}")
        self.missing_start = tuple(self.missing_start)
        if self.missing_start:
            if self.mask != "paper":
                raise ValueError("missing_start (a mask curriculum) needs paper masks (mask='paper')")
            if not self.curriculum_epochs:
                raise ValueError("missing_start needs curriculum_epochs >= 1 (the epochs to reach --missing)")
            check_range("missing_start", self.missing_start, 0, TASKS[self.task]["T"] - 1)  # paper_mask's own rule
        elif self.curriculum_epochs:
            raise ValueError("curriculum_epochs needs missing_start LO HI (the denser masks to start from)")
        self.model_config()  # the model's shape (hidden, highest, decoder_base, ...): checked by NAOMIConfig
        get_device(self.device)  # an unknown or absent device fails now, not after loading data

    def missing_at(self, epoch: int | None) -> tuple[int, int]:
        """The missing range of training epoch ``epoch`` (1, 2, ...; None: validation, always
        ``missing``). With a curriculum it moves linearly from ``missing_start`` at epoch 1 to
        ``missing`` at epoch ``curriculum_epochs + 1``."""
        if epoch is None or not self.missing_start:
            return tuple(self.missing)
        frac = min(1.0, (epoch - 1) / self.curriculum_epochs)
        return tuple(round(a + frac * (b - a)) for a, b in zip(self.missing_start, self.missing))

    def masks(self, n: int, T: int, seed: int, epoch: int | None = None) -> np.ndarray:
        """(n, T) training or validation masks of the configured kind, one per sequence. For windows
        shorter than the task's T, the missing range is scaled to keep the same share missing.
        ``epoch`` picks the curriculum's range (``missing_at``); None gives the final one."""
        if self.mask == "forward":
            return forward_mask(n, T, n_observed=1, seed=seed)  # the paper's m_i = 0 for all i >= 1
        full = TASKS[self.task]["T"]
        missing = self.missing_at(epoch)
        lo, hi = (round(m * (T - 1) / (full - 1)) for m in missing) if T != full else missing
        return paper_mask(n, T, (lo, hi), seed=seed)

    @property
    def gaussian(self) -> bool:
        """Whether this run's model has a Gaussian decoder: the task's (court), unless ``deterministic``."""
        return bool(TASKS[self.task]["gaussian"]) and not self.deterministic

    def model_config(self) -> NAOMIConfig:
        """The model this run trains."""
        task = TASKS[self.task]
        return NAOMIConfig(model=self.model, dim=task["dim"], hidden=self.hidden, layers=self.layers,
                           decoder_hidden=self.decoder_hidden, highest=self.highest,
                           gaussian=self.gaussian, min_std=self.min_std, decoder_base=self.decoder_base,
                           backward_gap=self.backward_gap, shared_heads=self.shared_heads)



# The classroom recipe (README, "Training NAOMI in a tutorial slot"; benchmarks/README.md has the ablation
# behind each value): the kit's pivot-relative NAOMI, small GRUs, a coarsest step of 16, 50-step training
# windows, a mask curriculum from denser masks to the paper's, then free running on the Euclidean
# distance until ``max_minutes`` is up. Chapter 05 (train_from_scratch) and benchmarks/peers.py use it.
CLASSROOM = dict(decoder_base="linear", hidden=64, decoder_hidden=64, highest=16, crop=50, tf_epochs=2,
                 fr_epochs=1000, fr_lr=1e-3, fr_loss="distance", missing_start=(140, 170),
                 curriculum_epochs=30, lr_decay_every=40, max_minutes=20.0)


def _classroom_recipe(model: str, overrides: dict) -> dict:
    """CLASSROOM for ``model`` (SingleRes and the RNN have one head: no ``highest``), then ``overrides``."""
    recipe = {"task": "billiards", "model": model, **CLASSROOM}
    if model != "naomi":
        recipe.pop("highest")
    return {**recipe, **overrides}


def classroom_config(model: str = "naomi", **overrides) -> TrainConfig:
    """The classroom recipe for ``model`` as a TrainConfig; SingleRes and the RNN get the same recipe
    with their single head (no ``highest``). ``overrides`` replace any field. Taught in ``05_pretraining.ipynb``."""
    return TrainConfig(**_classroom_recipe(model, overrides))


def classroom_flags(model: str = "naomi", **overrides) -> list[str]:
    """The same recipe as command-line flags of ``python -m naomi_lite.train`` (without --out)."""
    flags = []
    for name, value in _classroom_recipe(model, overrides).items():
        flag = name.replace("_", "-")
        if isinstance(value, bool):  # BooleanOptionalAction: --flag or --no-flag, no value
            flags.append(f"--{flag}" if value else f"--no-{flag}")
            continue
        flags.append("--" + flag)
        flags += [str(v) for v in value] if isinstance(value, tuple) else [f"{value:g}" if isinstance(value, float) else str(value)]
    return flags


def ema_decay(ema: float, step: int) -> float:
    """The decay of ``--ema`` at optimizer step ``step`` (1, 2, ...): ``ema``, but shorter memory at first,
    (1 + step) / (10 + step), so the average does not hold on to the untrained start."""
    return min(ema, (1 + step) / (10 + step))


@torch.no_grad()
def ema_update(shadow: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """One step of the weight average (kit's extension, ``--ema``): shadow <- decay * shadow + (1 - decay) * weights."""
    for avg, w in zip(shadow.parameters(), model.parameters()):
        avg.lerp_(w, 1 - decay)


def train(cfg: TrainConfig, model: Imputer | None = None) -> tuple[Imputer, History]:
    """Train (or continue training ``model``) and return the best model by validation L2, and the history.

    Taught in ``05_pretraining.ipynb``.
    """
    set_seed(cfg.seed)
    device = get_device(cfg.device)
    train_x, val_x = task_data(cfg.task, cfg.n_train, cfg.n_val, cfg.seed)
    val_mask = cfg.masks(len(val_x), val_x.shape[1], seed=cfg.seed + 1)
    model = (model or build_model(cfg.model_config())).to(device)
    if model.config.dim != train_x.shape[-1]:
        raise ValueError(f"the model takes dim={model.config.dim} values per step but {cfg.task} has {train_x.shape[-1]}")
    history = History()
    # --ema (kit's extension): a shadow copy whose weights trail the trained ones; it is what is
    # validated and kept, so the kept model is an average over the last ~1/(1-ema) steps, not one noisy step
    shadow = copy.deepcopy(model) if cfg.ema else model
    n_steps = 0
    score_name = "L2 + best-of-k L2" if cfg.fr_loss == "variety" else "L2"  # what selects the kept epoch

    def validate(epoch: int | None) -> dict:
        """The validation columns of a history row: val_l2, and with variety val_best_of_k. After a
        training epoch NaN or inf raises Diverged; the starting model (``epoch=None``) is only scored."""
        run = (lambda f: f()) if epoch is None else (lambda f: evaluate_or_diverge(f, epoch))
        out = {"val_l2": run(lambda: evaluate_l2(shadow, val_x, val_mask))}
        if cfg.fr_loss == "variety":  # select on what variety trains: the mean's L2 plus the best sample's
            out["val_best_of_k"] = run(lambda: evaluate_best_of_k(shadow, val_x, val_mask, cfg.variety_k, seed=cfg.seed))
        return out

    val = validate(None)
    best = (sum(val.values()), copy.deepcopy(shadow.state_dict()))  # (selection score, weights)
    start = time.time()
    history.add(phase="init", epoch=0, loss=float("nan"), lr=0.0, seconds=0.0, **val)
    xt = torch.as_tensor(train_x, device=device)  # (N, T, D)
    rng = np.random.default_rng(cfg.seed + 2)
    epoch = 0

    def out_of_time() -> bool:  # --max-minutes: stop after the epoch that crosses the limit
        return bool(cfg.max_minutes) and time.time() - start > 60 * cfg.max_minutes

    try:  # Ctrl-C (or a notebook's "interrupt kernel") ends training early and keeps the best epoch so far
        for phase, n_epochs, lr in (("teacher-forced", cfg.tf_epochs, cfg.lr), ("free-running", cfg.fr_epochs, cfg.fr_lr)):
            if n_epochs == 0:
                continue
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.lr_decay_every, gamma=cfg.lr_decay)
            distance = cfg.fr_loss == "distance"
            if phase == "free-running" and cfg.fr_loss == "variety":
                loss_fn = functools.partial(variety_loss, model, k=cfg.variety_k)
            elif phase == "free-running":
                loss_fn = functools.partial(model.free_running_loss, distance=distance)
            elif cfg.tf_loss == "inference":
                loss_fn = functools.partial(model.inference_teacher_forced_loss, distance=distance)
            else:
                loss_fn = model.teacher_forced_loss
            for _ in range(n_epochs):
                epoch += 1
                model.train()
                T_train = cfg.crop or train_x.shape[1]  # whole sequences, or windows of cfg.crop steps
                masks = cfg.masks(len(train_x), T_train, seed=int(rng.integers(2**31)), epoch=epoch)
                masks = torch.as_tensor(masks, device=device)  # (N, T): a different mask for every sequence
                perm = torch.as_tensor(rng.permutation(len(train_x)), device=device)
                losses = []
                bar = tqdm(range(0, len(perm), cfg.batch_size), desc=f"{phase} epoch {epoch}", leave=False,
                           disable=not cfg.progress)
                for i in bar:
                    idx = perm[i : i + cfg.batch_size]
                    batch = xt[idx]  # (b, T, D)
                    if cfg.crop:  # a random window of each sequence
                        first = torch.as_tensor(rng.integers(0, batch.shape[1] - T_train + 1, size=len(idx)), device=device)
                        steps = first[:, None] + torch.arange(T_train, device=device)  # (b, crop)
                        batch = batch[torch.arange(len(idx), device=device)[:, None], steps]  # (b, crop, D)
                    loss = loss_fn(batch, masks[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                    opt.step()
                    if cfg.ema:
                        n_steps += 1
                        ema_update(shadow, model, ema_decay(cfg.ema, n_steps))
                    losses.append(loss.item())
                    check_loss(losses[-1], epoch, phase)  # NaN or inf: stop, keep the best epoch (safety.Diverged)
                    bar.set_postfix(loss=f"{losses[-1]:.4g}")
                epoch_lr = opt.param_groups[0]["lr"]  # the rate this epoch trained with
                sched.step()
                check_weights(model, epoch)
                val = validate(epoch)
                score = sum(val.values())  # the selection score
                history.add(phase=phase, epoch=epoch, loss=float(np.mean(losses)), lr=epoch_lr,
                            seconds=time.time() - start, **val)
                if cfg.verbose:
                    shown = f"val L2 {val['val_l2']:.4f}" + (f" best of {cfg.variety_k} {val['val_best_of_k']:.4f}"
                                                             if "val_best_of_k" in val else "")
                    tqdm.write(f"epoch {epoch:3d} {phase:15s} loss {np.mean(losses):.5f} {shown}"
                               f"{'  *best*' if score < best[0] else ''}  ({time.time() - start:.0f} s)")
                if score < best[0]:
                    best = (score, copy.deepcopy(shadow.state_dict()))
                    history.best_epoch = epoch
                if out_of_time():
                    break
            if out_of_time():
                break
    except KeyboardInterrupt:
        history.interrupted = True
        tqdm.write(f"interrupted after {time.time() - start:.0f} s: keeping the best epoch so far "
                   f"(validation {score_name} {best[0]:.4f})")
    except Diverged as err:
        history.diverged = str(err)
        tqdm.write(f"stopped: {err}; keeping the best epoch so far (validation {score_name} {best[0]:.4f})")
    model.load_state_dict(best[1])  # best validation L2 (of the mean imputation; variety: plus the best sample's) over all epochs
    model.eval()
    return model, history


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m naomi_lite.train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        value = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        text = f.metadata["help"]
        if isinstance(value, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=value, help=text)
        elif f.name in ("missing", "missing_start"):
            p.add_argument(flag, type=int, nargs=2, default=(), metavar=("LO", "HI"), help=text)
        elif f.name == "highest":
            p.add_argument(flag, type=int, default=value, help=text)
        else:
            p.add_argument(flag, type=type(value), default=value, help=text)
    p.add_argument("--out", type=Path, required=True, help="checkpoint file to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    p.add_argument("--half", action="store_true", help="store the weights as float16 (half the file size)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--init-from", type=Path, default=None,
                   help="continue training this checkpoint (its model shape wins over --hidden etc.)")
    p.add_argument("--relative-heads", action="store_true",
                   help="with --init-from: switch the loaded model to the kit's pivot-relative heads (encoders and the "
                        "heads' hidden layers kept, output layers from zero; model.with_relative_heads)")
    p.add_argument("--gaussian-heads", type=float, default=None, metavar="STD",
                   help="with --init-from a deterministic model: make it Gaussian, its std outputs starting at STD "
                        "and its mean unchanged, to learn the spread after the mean (kit's extension; "
                        "model.with_gaussian_heads)")
    return p


@contextlib.contextmanager
def _stop_on_signals():
    """While inside, ``kill -INT`` and ``kill -TERM`` end a command-line run like Ctrl-C (the
    best epoch is written); the previous handlers come back afterwards.

    A shell starts background jobs (``nohup ... &``) with SIGINT ignored, so the handler is set
    here explicitly; SIGTERM (plain ``kill``) raises the same KeyboardInterrupt.
    """
    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {sig: signal.signal(sig, handler)
                for sig, handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, stop))}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv=None) -> int:
    """The command line. Every argument and ``--out`` are checked before training (exit 2, one
    line); the run holds ``--out``'s lock from start to save (a second run with the same
    ``--out`` stops at once); a run that is stopped or diverges writes its best epoch; nothing
    is replaced without ``--force``. See ``docs/RELIABILITY.md``."""
    from .checkpoints import save
    from .model import with_gaussian_heads, with_relative_heads
    from .paths import OutputError, check_output, output_lock
    from .safety import rescue_path

    parser = _parser()
    args = parser.parse_args(argv)

    def fail(message: str):  # after the checks: one line, no usage block, exit status 2
        parser.exit(2, f"{parser.prog}: error: {message}\n")

    try:
        check_output(args.out, force=args.force)
    except OutputError as err:
        parser.error(f"argument --out: {err}")
    if args.threads < 0:
        parser.error(f"--threads must be >= 0 (0 = torch's default), got {args.threads}")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.relative_heads and args.init_from is None:
        parser.error("--relative-heads needs --init-from (the model whose heads to switch)")
    if args.gaussian_heads is not None and args.init_from is None:
        parser.error("--gaussian-heads needs --init-from (the deterministic model to make Gaussian)")
    kw = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    try:
        cfg = TrainConfig(**kw)
    except (TypeError, ValueError) as err:
        parser.error(str(err))
    start = time.time()
    init = None
    if args.init_from is not None:
        from .checkpoints import load

        try:
            init = load(args.init_from, device=cfg.device)
        except (FileNotFoundError, ValueError) as err:  # CheckpointError is a ValueError
            parser.error(f"--init-from: {err}")
        if init.config.model != cfg.model:
            parser.error(f"--init-from holds a {init.config.model} model but --model is {cfg.model}")
        if args.relative_heads:
            if init.config.decoder_base != "none":
                parser.error("--relative-heads: the --init-from model has pivot-relative heads already")
            init = with_relative_heads(init)
        if args.gaussian_heads is not None:
            try:
                init = with_gaussian_heads(init, args.gaussian_heads)
            except ValueError as err:
                parser.error(str(err))
        # the checkpoint's shape wins: record it in the run's config, so meta never claims another shape
        shape = {k: getattr(init.config, k) for k in ("hidden", "layers", "decoder_hidden", "highest", "decoder_base", "min_std", "backward_gap", "shared_heads")}
        cfg = dataclasses.replace(cfg, **shape)
        task = TASKS[cfg.task]
        if (init.config.dim, init.config.gaussian) != (task["dim"], cfg.gaussian):
            parser.error(f"--init-from holds a model for {init.config.dim} values per step "
                         f"({'Gaussian' if init.config.gaussian else 'deterministic'}), but --task {cfg.task} has "
                         f"{task['dim']} ({'Gaussian' if cfg.gaussian else 'deterministic'}"
                         f"{', --deterministic' if cfg.deterministic else ''}): "
                         f"choose a {cfg.task} checkpoint")
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(output_lock(args.out))
        except OutputError as err:
            parser.error(f"argument --out: {err}")
        try:
            with _stop_on_signals():
                model, history = train(cfg, init)
        except KeyboardInterrupt:
            fail(f"stopped before training began: nothing to keep, {args.out} not written")
        stopped = f"training diverged ({history.diverged})" if history.diverged else \
            "interrupted" if history.interrupted else ""
        if len(history.rows) < 2 and stopped:
            fail(f"{stopped} before the first epoch ended: nothing to keep, {args.out} not written"
                 + ("; try a lower --lr" if history.diverged else ""))
        minutes = (time.time() - start) / 60
        best_epoch = history.best_epoch  # the kept weights' epoch (by validation L2; variety: plus best of k)
        best = history.column("val_l2")[history.column("epoch").index(best_epoch)]
        meta = {"command": "python -m naomi_lite.train " + " ".join(argv if argv is not None else sys.argv[1:]),
                "minutes": round(minutes, 1), "best_val_l2": best,
                "train_config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()},
                "history": {k: history.column(k) for k in ("epoch", "loss", "val_l2", "seconds")
                            + (("val_best_of_k",) if cfg.fr_loss == "variety" else ())},
                "phases": history.column("phase"), "device": str(get_device(cfg.device)),
                "interrupted": history.interrupted, "diverged": history.diverged}
        if init is not None:
            meta["previous"] = getattr(init, "meta", {})  # the run this one continued
        try:
            out = save(model, args.out, meta, half=args.half, overwrite=args.force)
        except FileExistsError:  # created by something else during training: keep both
            out = save(model, rescue_path(args.out), meta, half=args.half, overwrite=False)
            fail(f"{args.out} appeared during training and was not replaced (no --force); the trained model "
                 f"is in {out}")
        except (OSError, ValueError) as err:
            fail(f"cannot write {args.out}: {err}")
    print(f"wrote {out} after {minutes:.1f} min; best validation L2 {best:.4f} (epoch {best_epoch})")
    if history.diverged:
        fail(f"training diverged ({history.diverged}); {out} holds the best epoch before that "
             f"(epoch {best_epoch}, validation L2 {best:.4f}); try a lower --lr or --fr-lr")
    return 0


if __name__ == "__main__":
    sys.exit(main())
