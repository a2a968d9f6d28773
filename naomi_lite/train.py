"""Training: teacher-forced pretraining, then free-running training (paper §4, "Training").

For deterministic data such as billiards the paper optimizes the L2 loss with teacher
forcing during pretraining and turns teacher forcing off for the last part. We do the
same in two phases:

1. **teacher forcing** (``tf_epochs``): ``model.teacher_forced_loss``, fully vectorized
   (one fused GRU pass per encoder, one matrix product per decoder level);
2. **free running** (``fr_epochs``): ``model.free_running_loss``, the batched,
   differentiable imputation of ``naomi_lite.imputation`` with a fresh paper mask for
   every sequence, scored on the imputed steps. This is what removes exposure bias.

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
from .masks import forward_mask, paper_mask
from .metrics import l2_missing
from .models import Imputer, build_model
from .runtime import get_device, set_seed
from .safety import Diverged, best_finite, check_loss, check_weights, evaluate_or_diverge

# Per task: values per step, steps, the paper's missing-steps range, and whether the data are
# stochastic (then the decoder is Gaussian and the losses are negative log-likelihoods).
FR_LOSSES = ("squared", "distance")  # "distance": the per-step Euclidean error, i.e. the L2 metric itself
TRAIN_MASKS = ("paper", "forward")  # "forward" fine-tunes an imputation model for forward inference (§4.3)

TASKS = {
    "billiards": dict(dim=2, T=200, missing=(180, 195), gaussian=False),  # paper §4.1
    "court": dict(dim=10, T=50, missing=(40, 49), gaussian=True),  # paper §4.2 (synthetic stand-in)
}


@dataclass
class TrainConfig:
    """Everything one training run needs; the defaults are the shipped billiards models'."""

    task: str = "billiards"     # dataset: "billiards" or "court"
    model: str = "naomi"        # "naomi", "singleres" or "rnn"
    hidden: int = 128           # GRU hidden size (the speed benchmark uses 200; 128 keeps checkpoints small)
    decoder_hidden: int = 128   # width of each decoder head
    highest: int = 64           # coarsest decoder step size (NAOMI only)
    n_train: int = 4000         # training sequences (paper: 4000)
    n_val: int = 500            # validation sequences, for best-checkpoint selection
    tf_epochs: int = 10         # phase 1: teacher-forced epochs
    fr_epochs: int = 30         # phase 2: free-running epochs
    batch_size: int = 64
    lr: float = 1e-3            # Adam learning rate at the start of phase 1
    fr_lr: float = 5e-4         # Adam learning rate at the start of phase 2
    lr_decay: float = 0.5       # multiply the learning rate by this ...
    lr_decay_every: int = 10    # ... every this many epochs of a phase
    clip: float = 1.0           # gradient-norm clipping
    fr_loss: str = "squared"    # free-running loss of deterministic models: "squared" error or Euclidean "distance"
    mask: str = "paper"         # training/validation masks: "paper" (§4.1-4.2) or "forward" (§4.3, only step 0 observed)
    missing: tuple = ()         # paper masks: missing steps per sequence (empty = the task's, see TASKS)
    seed: int = 0
    device: str = "auto"
    max_minutes: float = 0.0    # stop early after this wall time (0 = no limit); best checkpoint kept
    progress: bool = True       # tqdm progress bars
    verbose: bool = True        # one summary line per epoch

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {tuple(TASKS)}, got {self.task!r}")
        if self.model not in MODEL_KINDS:
            raise ValueError(f"model must be one of {MODEL_KINDS}, got {self.model!r}")
        for name in ("n_train", "n_val", "batch_size", "lr_decay_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        for name in ("tf_epochs", "fr_epochs"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("lr", "fr_lr", "lr_decay", "clip"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not float(self.max_minutes) >= 0:  # also refuses NaN
            raise ValueError(f"max_minutes must be >= 0 (0 = no limit), got {self.max_minutes!r}")
        if self.fr_loss not in FR_LOSSES:
            raise ValueError(f"fr_loss must be one of {FR_LOSSES}, got {self.fr_loss!r}")
        if self.mask not in TRAIN_MASKS:
            raise ValueError(f"mask must be one of {TRAIN_MASKS}, got {self.mask!r}")
        self.missing = tuple(self.missing) or TASKS[self.task]["missing"]
        paper_mask(1, TASKS[self.task]["T"], self.missing)  # a bad range raises here, naming "missing"
        self.model_config()  # hidden, decoder_hidden, highest: checked by NAOMIConfig
        get_device(self.device)  # an unknown or absent device fails now, not after loading data

    def masks(self, n: int, T: int, seed: int) -> np.ndarray:
        """(n, T) training or validation masks of the configured kind, one per sequence."""
        if self.mask == "forward":
            return forward_mask(n, T, n_observed=1, seed=seed)  # the paper's m_i = 0 for all i >= 1
        return paper_mask(n, T, self.missing, seed=seed)

    def model_config(self) -> NAOMIConfig:
        task = TASKS[self.task]
        return NAOMIConfig(model=self.model, dim=task["dim"], hidden=self.hidden, decoder_hidden=self.decoder_hidden,
                           highest=self.highest if self.model == "naomi" else 1, gaussian=task["gaussian"])


def task_data(task: str, n_train: int, n_val: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation sequences of a task (see :func:`billiards_data` / :func:`court_data`)."""
    return {"billiards": billiards_data, "court": court_data}[task](n_train, n_val, seed)


def court_data(n_train: int, n_val: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation plays from ``data_gen.court.dataset(seed=seed)`` (its test split serves as validation)."""
    from data_gen.court import dataset

    return dataset(n_train=n_train, n_test=n_val, seed=seed)


def billiards_data(n_train: int, n_val: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation trajectories: the paper's train split and (part of) its test split
    from ``data_gen.billiards.dataset(seed=seed)``. Benchmarks evaluate on a fresh seed instead."""
    from data_gen.billiards import dataset

    train, val = dataset(n_train=n_train, n_test=n_val, seed=seed)
    return train, val


TEST_SEED = 2019  # fresh trajectories and masks for evaluation; training never sees this seed


def billiards_test_set(n: int = 1000, seed: int = TEST_SEED, missing: tuple = (180, 195)) -> tuple[np.ndarray, np.ndarray]:
    """A fresh held-out test set with paper masks: (x (n, 200, 2) float32, mask (n, 200) bool).

    Used by the benchmarks and chapters 05 and 07; independent of the training and
    validation data (different seed). Taught in ``05_pretraining.ipynb``.
    """
    from data_gen.billiards import simulate

    x = simulate(n, seed=seed)  # (n, T, 2)
    return x, paper_mask(n, x.shape[1], missing, seed=seed + 1)


def evaluate_l2(model: Imputer, x: np.ndarray, mask: np.ndarray, batch_size: int = 256) -> float:
    """Mean L2 on the missing steps (``metrics.l2_missing``) of ``model`` on (x, mask)."""
    pred = np.concatenate([model.impute(x[i : i + batch_size], mask[i : i + batch_size])
                           for i in range(0, len(x), batch_size)])
    return float(l2_missing(pred, x, mask).mean())


@dataclass
class History:
    """One row per epoch: phase, epoch, mean training loss, validation L2, learning rate, seconds."""

    rows: list = field(default_factory=list)
    interrupted: bool = False  # True when Ctrl-C ended the run early (the best epoch so far is kept)
    diverged: str = ""  # why the run stopped when the loss, weights or validation became NaN or inf (best epoch kept)

    def add(self, **row) -> None:
        self.rows.append(row)

    def column(self, key: str) -> list:
        return [r[key] for r in self.rows]


def training_history(meta: dict) -> dict:
    """A checkpoint's whole training history, following ``meta["previous"]`` back through continued runs.

    Returns lists ``epoch``, ``phase``, ``loss``, ``val_l2``, ``seconds`` and ``loss_kind``
    (what ``loss`` measured: "squared", "distance" or "nll"), with epochs and seconds counted
    from the first run. A continued run's "init" row (the loaded model evaluated again) is
    dropped. Taught in ``05_pretraining.ipynb``.
    """
    chain = []
    while meta:
        chain.append(meta)
        meta = meta.get("previous", {})
    out = {k: [] for k in ("epoch", "phase", "loss", "val_l2", "seconds", "loss_kind")}
    for run in reversed(chain):
        h, phases = run["history"], run["phases"]
        tc = run.get("train_config", {})
        gaussian = TASKS.get(tc.get("task", "billiards"), {}).get("gaussian", False)
        epoch0 = out["epoch"][-1] if out["epoch"] else 0
        sec0 = out["seconds"][-1] if out["seconds"] else 0.0
        for i, phase in enumerate(phases):
            if phase == "init" and out["epoch"]:
                continue
            out["epoch"].append(epoch0 + h["epoch"][i])
            out["phase"].append(phase)
            out["loss"].append(h["loss"][i])
            out["val_l2"].append(h["val_l2"][i])
            out["seconds"].append(sec0 + h["seconds"][i])
            out["loss_kind"].append("nll" if gaussian else tc.get("fr_loss", "squared") if phase == "free-running"
                                    else "squared")
    return out


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
    best = (evaluate_l2(model, val_x, val_mask), copy.deepcopy(model.state_dict()))
    start = time.time()
    history.add(phase="init", epoch=0, loss=float("nan"), val_l2=best[0], lr=0.0, seconds=0.0)
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
            if phase == "teacher-forced":
                loss_fn = model.teacher_forced_loss
            else:
                loss_fn = functools.partial(model.free_running_loss, distance=cfg.fr_loss == "distance")
            for _ in range(n_epochs):
                epoch += 1
                model.train()
                masks = cfg.masks(len(train_x), train_x.shape[1], seed=int(rng.integers(2**31)))
                masks = torch.as_tensor(masks, device=device)  # (N, T): a different mask for every sequence
                perm = torch.as_tensor(rng.permutation(len(train_x)), device=device)
                losses = []
                bar = tqdm(range(0, len(perm), cfg.batch_size), desc=f"{phase} epoch {epoch}", leave=False,
                           disable=not cfg.progress)
                for i in bar:
                    idx = perm[i : i + cfg.batch_size]
                    loss = loss_fn(xt[idx], masks[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                    opt.step()
                    losses.append(loss.item())
                    check_loss(losses[-1], epoch, phase)  # NaN or inf: stop, keep the best epoch (safety.Diverged)
                    bar.set_postfix(loss=f"{losses[-1]:.4g}")
                epoch_lr = opt.param_groups[0]["lr"]  # the rate this epoch trained with
                sched.step()
                check_weights(model, epoch)
                val = evaluate_or_diverge(lambda: evaluate_l2(model, val_x, val_mask), epoch)
                history.add(phase=phase, epoch=epoch, loss=float(np.mean(losses)), val_l2=val,
                            lr=epoch_lr, seconds=time.time() - start)
                if cfg.verbose:
                    tqdm.write(f"epoch {epoch:3d} {phase:15s} loss {np.mean(losses):.5f} val L2 {val:.4f}"
                               f"{'  *best*' if val < best[0] else ''}  ({time.time() - start:.0f} s)")
                if val < best[0]:
                    best = (val, copy.deepcopy(model.state_dict()))
                if out_of_time():
                    break
            if out_of_time():
                break
    except KeyboardInterrupt:
        history.interrupted = True
        tqdm.write(f"interrupted after {time.time() - start:.0f} s: keeping the best epoch so far "
                   f"(validation L2 {best[0]:.4f})")
    except Diverged as err:
        history.diverged = str(err)
        tqdm.write(f"stopped: {err}; keeping the best epoch so far (validation L2 {best[0]:.4f})")
    model.load_state_dict(best[1])  # best validation L2 (of the mean imputation) over all epochs
    model.eval()
    return model, history


def _field_comments(cls) -> dict[str, str]:
    """The ``# comment`` after each field of a dataclass: the CLI's help text, kept beside the defaults."""
    import inspect
    import re

    found = re.findall(r"^\s+(\w+):[^#\n]*#\s*(.+)$", inspect.getsource(cls), flags=re.M)
    return dict(found)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m naomi_lite.train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    defaults = TrainConfig()
    helps = _field_comments(TrainConfig)
    for f in fields(TrainConfig):
        value = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        text = helps.get(f.name, "")
        if isinstance(value, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=value, help=text)
        elif f.name == "missing":
            p.add_argument(flag, type=int, nargs=2, default=(), metavar=("LO", "HI"), help=text)
        else:
            p.add_argument(flag, type=type(value), default=value, help=text)
    p.add_argument("--out", type=Path, required=True, help="checkpoint file to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    p.add_argument("--half", action="store_true", help="store the weights as float16 (half the file size)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--init-from", type=Path, default=None,
                   help="continue training this checkpoint (its model shape wins over --hidden etc.)")
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
        task = TASKS[cfg.task]
        if (init.config.dim, init.config.gaussian) != (task["dim"], task["gaussian"]):
            parser.error(f"--init-from holds a model for {init.config.dim} values per step "
                         f"({'Gaussian' if init.config.gaussian else 'deterministic'}), but --task {cfg.task} has "
                         f"{task['dim']} ({'Gaussian' if task['gaussian'] else 'deterministic'}): "
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
        best = best_finite(history.column("val_l2"))
        best_epoch = history.column("epoch")[history.column("val_l2").index(best)]
        meta = {"command": "python -m naomi_lite.train " + " ".join(argv if argv is not None else sys.argv[1:]),
                "minutes": round(minutes, 1), "best_val_l2": best,
                "train_config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()},
                "history": {k: history.column(k) for k in ("epoch", "loss", "val_l2", "seconds")},
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
