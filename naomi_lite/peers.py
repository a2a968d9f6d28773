"""NAOMI among today's imputers: PyPOTS's SAITS, BRITS, CSDI and ImputeFormer on the kit's data.

Not part of the paper: the paper (2019) compares NAOMI with linear interpolation, KNN, GRUI,
MaskGAN and SingleRes (§4.1). This module trains and runs the imputers a practitioner would
pick today, from PyPOTS (Du et al.), on the kit's billiards and court data, so that
``benchmarks/peers.py`` can compare them with NAOMI at an equal wall-clock budget.
Taught in ``08_modern_imputers.ipynb``.

PyPOTS is optional: ``pip install -e '.[peers]'``. Importing this module never needs it;
building or loading a peer raises :class:`PeersUnavailable` with that command when it is missing.

Conventions, where the two meet:

* a mask is True / 1 where a value is **observed**, in both (PyPOTS's ``missing_mask``);
* PyPOTS marks a missing value only by NaN in ``X``; the kit passes ``(x, mask)`` and never
  trusts the values at missing steps. :func:`to_pypots` turns one into the other;
* PyPOTS works on one time step of F features, as the kit does: ``(N, T, F)``, with F = 2 for
  billiards and 10 for court (5 players x (x, y));
* PyPOTS scales nothing itself; here every peer sees standardised data (the training set's
  mean and std per feature, stored in its checkpoint), as PyPOTS's own benchmarks do.

Two kinds of training masks (:data:`MASKS`):

* ``"default"``: ``fit()``'s own: the complete training sequences, with the model's dataset
  class hiding values itself (SAITS and ImputeFormer: 20% of the values at random; CSDI: a
  random share of single values; BRITS: nothing, it learns from reconstructing observed values);
* ``"test-like"``: the paper's masks (§4.1: 180-195 of 200 steps missing for billiards), drawn
  fresh for every sequence in every epoch, with the complete sequence as the target. For BRITS,
  whose own loss only sees observed values, a loss on the hidden steps is added (the other
  three already score the hidden steps).

Training is the loop of PyPOTS's ``_train_model`` with three changes: a wall-clock budget
instead of a number of epochs, test-like masks when asked, and model selection by the kit's
validation score (Euclidean L2 on the missing steps of the same validation set and masks as
NAOMI's). It uses two methods that PyPOTS marks private (``_assemble_input_for_training`` and
``..._validating``) because ``fit()`` cannot take a dataset with other masks.
"""
from __future__ import annotations

import contextlib
import copy
import io
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .masks import as_mask

KIT = "naomi_lite"
MASKS = ("test-like", "default")
INSTALL_HINT = "pip install -e '.[peers]'  (PyPOTS, about 1 GB with its dependencies)"


class PeersUnavailable(ImportError):
    """PyPOTS is not installed; the message says how to get it."""


class PeerCheckpointError(ValueError):
    """A peer checkpoint that cannot be used, with the reason in the message."""


def _quiet():
    """A throw-away text stream with an encoding (ai4ts reads ``sys.stdout.encoding`` on import)."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8")


def pypots_version() -> str | None:
    """PyPOTS's version, or None when it is not installed."""
    try:
        with contextlib.redirect_stdout(_quiet()):
            import pypots
    except ImportError:
        return None
    return pypots.__version__


def _require_pypots():
    try:
        with contextlib.redirect_stdout(_quiet()):  # a dependency (ai4ts) prints a banner on import
            import pypots  # noqa: F401
    except ImportError as err:
        raise PeersUnavailable(f"the PyPOTS peers need PyPOTS, which is not installed: {INSTALL_HINT}") from err


# ----------------------------------------------------------------------------------------------------------
# The peers: their PyPOTS class, the small sizes the kit trains, and what each one attends to.

# One place for every peer's size (small enough to train on a laptop CPU in minutes).
DEFAULT_HYPER = {
    "saits": dict(n_layers=2, d_model=64, n_heads=4, d_k=16, d_v=16, d_ffn=128, dropout=0.1),
    "brits": dict(rnn_hidden_size=128),
    "csdi": dict(n_layers=4, n_heads=4, n_channels=64, d_time_embedding=128, d_feature_embedding=16,
                 d_diffusion_embedding=128, n_diffusion_steps=50),
    "imputeformer": dict(n_layers=2, d_input_embed=32, d_learnable_embed=32, d_proj=8, d_ffn=64, n_temporal_heads=4,
                         dropout=0.1),
}
PEERS = tuple(DEFAULT_HYPER)
# Validation sequences per epoch (the first of NAOMI's 500, with the same masks). CSDI imputes by 50
# denoising passes, about half a second per sequence on one CPU core: all 500 would cost 4 minutes per
# epoch, as much as the epoch itself. Every other peer validates on all of them.
VALIDATION_SEQUENCES = {"csdi": 100}

PEER_LABELS = {"saits": "SAITS", "brits": "BRITS", "csdi": "CSDI", "imputeformer": "ImputeFormer"}
# In one line each, for the benchmark's and chapter 08's tables.
DESCRIPTIONS = {
    "saits": "SAITS (Du et al. 2023): two diagonally-masked self-attention blocks, trained on observed-value "
             "reconstruction plus masked imputation",
    "brits": "BRITS (Cao et al. 2018): a forward and a backward recurrent imputer with time-decay, made to agree",
    "csdi": "CSDI (Tashiro et al. 2021): a conditional score-based diffusion model; attention across time and "
            "across features; samples",
    "imputeformer": "ImputeFormer (Nie et al. 2024): a low-rank-projected transformer across time with learnable "
                    "node embeddings",
}


def _pypots_class(method: str):
    _require_pypots()
    from pypots.imputation import BRITS, CSDI, SAITS, ImputeFormer

    return {"saits": SAITS, "brits": BRITS, "csdi": CSDI, "imputeformer": ImputeFormer}[method]


def _dataset(method: str, data: dict, with_target: bool):
    """The model's own PyPOTS dataset class over ``data``. ``with_target``: the masks are in ``data``
    (X with NaN, X_ori complete); else the dataset hides values itself (``fit()``'s default)."""
    from pypots.imputation.brits.data import DatasetForBRITS
    from pypots.imputation.csdi.data import DatasetForCSDI
    from pypots.imputation.saits.data import DatasetForSAITS

    if method == "brits":
        return DatasetForBRITS(data, return_X_ori=with_target, return_y=False)
    if method == "csdi":
        return DatasetForCSDI(data, target_strategy="random", return_X_ori=with_target)
    return DatasetForSAITS(data, return_X_ori=with_target, return_y=False)  # SAITS and ImputeFormer share it


@dataclass
class PeerConfig:
    """One peer's training run (``benchmarks/peers.py train``). Defaults in one place."""

    method: str = "saits"
    task: str = "billiards"
    masks: str = "test-like"
    minutes: float = 20.0
    batch_size: int = 32
    lr: float = 1e-3
    n_train: int = 4000  # NAOMI's training set (TrainConfig.n_train)
    n_val: int = 500  # NAOMI's validation set and masks (TrainConfig.n_val, masks from seed + 1)
    seed: int = 0
    hyper: dict = field(default_factory=dict)  # overrides of DEFAULT_HYPER[method]
    device: str = "auto"

    def __post_init__(self) -> None:
        from .data import TASKS

        if self.method not in PEERS:
            raise ValueError(f"method must be one of {PEERS}, got {self.method!r}")
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {tuple(TASKS)}, got {self.task!r}")
        if self.masks not in MASKS:
            raise ValueError(f"masks must be one of {MASKS}, got {self.masks!r}")
        if not float(self.minutes) > 0:
            raise ValueError(f"minutes must be positive, got {self.minutes!r}")
        for name in ("batch_size", "n_train", "n_val"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        unknown = set(self.hyper) - set(DEFAULT_HYPER[self.method])
        if unknown:
            raise ValueError(f"unknown {self.method} setting(s) {sorted(unknown)}; known: {sorted(DEFAULT_HYPER[self.method])}")
        self.hyper = {**DEFAULT_HYPER[self.method], **self.hyper}


def to_pypots(x, mask) -> np.ndarray:
    """The kit's ``(x, mask)`` as PyPOTS's input: float32 (N, T, F) with NaN at every missing step."""
    x = np.asarray(x, dtype=np.float32)
    m = as_mask(mask, shape=x.shape[:2])
    out = x.copy()
    out[~m] = np.nan  # (N, T, F): NaN is PyPOTS's only marker of a missing value
    return out


# ----------------------------------------------------------------------------------------------------------
# A trained peer: the PyPOTS imputer, the standardisation it was trained with, and the kit's interface.

class Peer:
    """A PyPOTS imputer behind the kit's interface: ``impute(x, mask) -> (N, T, F)`` NumPy,
    observed steps kept exactly. ``samples`` draws several imputations (CSDI only).
    Taught in ``08_modern_imputers.ipynb``."""

    def __init__(self, method: str, n_steps: int, n_features: int, hyper: dict, mean, std,
                 device: str | torch.device = "auto", batch_size: int = 32, lr: float = 1e-3):
        from .runtime import get_device

        cls = _pypots_class(method)  # raises PeersUnavailable without PyPOTS
        from pypots.optim import Adam
        from pypots.utils.logging import logger

        self.method, self.hyper = method, dict(hyper)
        self.n_steps, self.n_features = int(n_steps), int(n_features)
        self.mean = np.asarray(mean, dtype=np.float32).reshape(n_features)  # (F,)
        self.std = np.asarray(std, dtype=np.float32).reshape(n_features)  # (F,)
        self.device = get_device(device)
        logger.disabled = True  # PyPOTS warns that it saves no files: the kit saves them (save_peer)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # torch's note on CSDI's TransformerEncoder layout
                self.imputer = cls(n_steps=self.n_steps, n_features=self.n_features, batch_size=batch_size, epochs=1,
                                   optimizer=Adam(lr=lr), device=self.device, verbose=False,
                                   model_saving_strategy=None, **self.hyper)
        finally:
            logger.disabled = False
        self.meta: dict = {}

    @property
    def model(self) -> torch.nn.Module:
        """The PyPOTS torch module (its weights are what a checkpoint stores)."""
        return self.imputer.model

    def _scale(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std

    def _unscale(self, z: np.ndarray) -> np.ndarray:
        return z * self.std + self.mean

    def _check(self, x, mask):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 3 or x.shape[1:] != (self.n_steps, self.n_features):
            raise ValueError(f"x must have shape (N, {self.n_steps}, {self.n_features}) for this {self.method}, got {x.shape}")
        m = as_mask(mask, shape=x.shape[:2])
        if not np.isfinite(x[m]).all():
            raise ValueError("x holds NaN or inf at an observed step (mask True); only missing steps may be NaN")
        if not m.any(axis=1).all():
            raise ValueError("every sequence needs at least one observed step")
        return x, m

    @torch.no_grad()
    def impute(self, x, mask, n_samples: int = 1, batch_size: int = 256) -> np.ndarray:
        """The mean imputation, (N, T, F), observed steps as given. CSDI averages ``n_samples`` samples."""
        if self.method == "csdi":
            return self.samples(x, mask, n_samples, batch_size).mean(axis=1)
        x, m = self._check(x, mask)
        self.model.eval()
        out = []
        for i in range(0, len(x), batch_size):
            z = to_pypots(self._scale(x[i:i + batch_size]), m[i:i + batch_size])
            out.append(self.imputer.predict({"X": z})["imputation"])  # (b, T, F)
        pred = self._unscale(np.concatenate(out)).astype(np.float32)
        pred[m] = x[m]
        return pred

    @torch.no_grad()
    def samples(self, x, mask, n_samples: int = 20, batch_size: int = 256, seed: int = 0) -> np.ndarray:
        """``n_samples`` imputations per sequence, (N, S, T, F), from one seed (PyPOTS draws CSDI's noise
        from torch's global generator, which this seeds). CSDI only (the others are deterministic)."""
        if self.method != "csdi":
            raise ValueError(f"{self.method} is deterministic: only csdi draws samples")
        if int(n_samples) < 1:
            raise ValueError(f"n_samples must be at least 1, got {n_samples!r}")
        x, m = self._check(x, mask)
        self.model.eval()
        torch.manual_seed(seed)
        out = []
        for i in range(0, len(x), batch_size):
            z = to_pypots(self._scale(x[i:i + batch_size]), m[i:i + batch_size])
            out.append(self.imputer.predict({"X": z}, n_sampling_times=int(n_samples))["imputation"])  # (b, S, T, F)
        pred = self._unscale(np.concatenate(out)).astype(np.float32)  # (N, S, T, F)
        return np.where(m[:, None, :, None], x[:, None], pred)  # the observed steps, exactly as given


# ----------------------------------------------------------------------------------------------------------
# Training at a wall-clock budget.

def _hidden_step_loss(results: dict, inputs: dict) -> torch.Tensor:
    """Mean absolute error on the hidden steps (BRITS with test-like masks: its own loss sees only
    observed values, so without this it would never be asked for the gaps it is scored on)."""
    target, hidden = inputs["X_ori"], inputs["indicating_mask"]  # (B, T, F) each
    return (torch.abs(results["imputation"] - target) * hidden).sum() / (hidden.sum() + 1e-9)


def validation_l2(peer: Peer, val_x: np.ndarray, val_mask: np.ndarray) -> float:
    """The kit's validation score: mean Euclidean L2 on the missing steps (``metrics.l2_missing``)."""
    from .metrics import l2_missing

    return float(l2_missing(peer.impute(val_x, val_mask), val_x, val_mask).mean())


def train_peer(cfg: PeerConfig, log=print) -> tuple[Peer, list[dict]]:
    """Train one peer for ``cfg.minutes`` of wall-clock training time and return the best model by
    validation L2, and one record per epoch.

    The budget counts the training steps (data preparation, forward, backward, update), not the
    validation after each epoch: CSDI's validation alone (50 denoising steps per imputation) takes
    minutes on a CPU, and uses the first :data:`VALIDATION_SEQUENCES` of the validation set. The data, validation set and validation masks are NAOMI's (``TrainConfig``
    with the same seed). Stops inside an epoch when the budget is spent, then validates once more.
    """
    from .data import TASKS, task_data
    from .masks import paper_mask
    from .runtime import set_seed

    set_seed(cfg.seed)
    train_x, val_x = task_data(cfg.task, cfg.n_train, cfg.n_val, cfg.seed)
    T, F = train_x.shape[1:]
    missing = TASKS[cfg.task]["missing"]
    val_mask = paper_mask(len(val_x), T, missing, seed=cfg.seed + 1)  # NAOMI's validation masks (TrainConfig.masks)
    n_select = VALIDATION_SEQUENCES.get(cfg.method, len(val_x))
    val_x, val_mask = val_x[:n_select], val_mask[:n_select]  # (n, T, F), (n, T)
    mean, std = train_x.mean(axis=(0, 1)), train_x.std(axis=(0, 1)) + 1e-6  # (F,) each
    peer = Peer(cfg.method, T, F, cfg.hyper, mean, std, cfg.device, cfg.batch_size, cfg.lr)
    z = peer._scale(train_x).astype(np.float32)  # (N, T, F), standardised
    rng = np.random.default_rng(cfg.seed + 2)
    budget = 60.0 * cfg.minutes  # seconds of training, the budget's clock
    start = time.time()
    history = [dict(epoch=0, steps=0, seconds=0.0, loss=float("nan"), val_l2=validation_l2(peer, val_x, val_mask))]
    peer._best_state = copy.deepcopy(peer.model.state_dict())
    log(f"{cfg.method} ({cfg.masks} masks): start, val L2 {history[0]['val_l2']:.4f}")
    try:  # Ctrl-C, or kill -INT / -TERM through benchmarks/peers.py, ends training and keeps the best epoch
        _train_epochs(cfg, peer, z, T, missing, val_x, val_mask, rng, budget, history, log, start)
    except KeyboardInterrupt:
        log(f"{cfg.method}: interrupted: keeping the best epoch so far")
        peer.meta["interrupted"] = True
    best_epoch = int(np.nanargmin([h["val_l2"] for h in history]))
    peer.model.load_state_dict(peer._best_state)
    del peer._best_state
    trained, epoch, steps = history[-1]["seconds"], history[-1]["epoch"], history[-1]["steps"]
    peer.meta.update(config=asdict(cfg), val_l2=history[best_epoch]["val_l2"], val_sequences=len(val_x),
                     epochs=epoch, steps=steps,
                     minutes=trained / 60, wall_minutes=(time.time() - start) / 60, best_epoch=best_epoch,
                     pypots=pypots_version(), torch=torch.__version__, device=str(peer.device))
    return peer, history


def _train_epochs(cfg, peer, z, T, missing, val_x, val_mask, rng, budget, history, log, start) -> None:
    """The epochs of :func:`train_peer`; appends to ``history`` and keeps the best weights in ``peer._best_state``."""
    from torch.utils.data import DataLoader

    from .masks import paper_mask

    trained, epoch, steps = 0.0, 0, 0
    while trained < budget:
        epoch += 1
        tick = time.time()
        if cfg.masks == "test-like":  # fresh paper masks for every sequence, every epoch
            m = paper_mask(len(z), T, missing, seed=int(rng.integers(2**31)))
            data = {"X": to_pypots(z, m), "X_ori": z}
        else:
            data = {"X": z}
        loader = DataLoader(_dataset(cfg.method, data, with_target=cfg.masks == "test-like"), batch_size=cfg.batch_size,
                            shuffle=True, generator=torch.Generator().manual_seed(int(rng.integers(2**31))))
        assemble = (peer.imputer._assemble_input_for_validating if cfg.masks == "test-like" and cfg.method == "brits"
                    else peer.imputer._assemble_input_for_training)
        losses = []
        for batch in loader:
            peer.model.train()
            inputs = assemble(batch)
            results = peer.model(inputs, calc_criterion=True)
            loss = results["loss"].sum()
            if cfg.masks == "test-like" and cfg.method == "brits":
                loss = loss + _hidden_step_loss(results, inputs)
            peer.imputer.optimizer.zero_grad()
            loss.backward()
            peer.imputer.optimizer.step()
            losses.append(loss.item())
            steps += 1
            if not np.isfinite(losses[-1]):
                break
            if trained + time.time() - tick >= budget:
                break
        trained += time.time() - tick
        val = validation_l2(peer, val_x, val_mask) if np.isfinite(losses[-1]) else float("nan")
        history.append(dict(epoch=epoch, steps=steps, seconds=trained, wall_seconds=time.time() - start,
                            loss=float(np.mean(losses)), val_l2=val))
        best = np.nanmin([h["val_l2"] for h in history[:-1]])
        log(f"{cfg.method} ({cfg.masks}): epoch {epoch} loss {np.mean(losses):.4f} val L2 {val:.4f}"
            f"{'  *best*' if val < best else ''}  ({trained:.0f} s training, {time.time() - start:.0f} s in all)")
        if not np.isfinite(val):
            log(f"{cfg.method}: the loss or validation became NaN/inf: stopped, keeping the best epoch")
            break
        if val < best:
            peer._best_state = copy.deepcopy(peer.model.state_dict())


# ----------------------------------------------------------------------------------------------------------
# Checkpoints: weights and plain values only, read with weights_only=True (never unpickled).

def save_peer(peer: Peer, path, half: bool = True, overwrite: bool = True) -> Path:
    """Write ``peer`` atomically: its weights (float16 by default, like the shipped NAOMI), its
    sizes, standardisation and training record. :func:`load_peer` reads it back."""
    from .checkpoints import plain_meta
    from .paths import write_atomically

    state = {k: v.detach().cpu() for k, v in peer.model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    payload = dict(kit=KIT, version=__version__, kind="pypots-peer", method=peer.method, hyper=plain_meta(peer.hyper),
                   n_steps=peer.n_steps, n_features=peer.n_features, mean=peer.mean.tolist(), std=peer.std.tolist(),
                   state_dict=state, meta=plain_meta(peer.meta))

    def verify(tmp: str) -> None:
        load_peer(tmp, device="cpu")

    return write_atomically(path, lambda tmp: torch.save(payload, tmp), overwrite=overwrite, verify=verify)


def load_peer(path, device: str | torch.device = "auto") -> Peer:
    """Rebuild a peer saved by :func:`save_peer`. Raises :class:`PeerCheckpointError` naming what is
    wrong with the file, or :class:`PeersUnavailable` without PyPOTS."""
    import pickle
    import zipfile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no peer checkpoint at {path}")
    if not zipfile.is_zipfile(path):
        raise PeerCheckpointError(f"{path} is not a readable checkpoint (not the zip archive torch.save writes; "
                                  f"truncated or another kind of file?)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise PeerCheckpointError(f"{path} holds objects other than tensors and plain values, and was refused "
                                  f"(weights_only=True never runs code from a file)") from err
    except (RuntimeError, EOFError, KeyError, ValueError, zipfile.BadZipFile, OSError) as err:
        raise PeerCheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): "
                                  f"{(str(err).splitlines() or [type(err).__name__])[0]}") from err
    if not isinstance(payload, dict) or payload.get("kit") != KIT or payload.get("kind") != "pypots-peer":
        raise PeerCheckpointError(f"{path} is not a naomi_lite peer checkpoint")
    if payload.get("method") not in PEERS:
        raise PeerCheckpointError(f"{path} holds an unknown peer {payload.get('method')!r}; known: {PEERS}")
    state = payload["state_dict"]
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise PeerCheckpointError(f"{path}: weight {name!r} holds NaN or inf, and was refused")
    peer = Peer(payload["method"], payload["n_steps"], payload["n_features"], payload["hyper"], payload["mean"],
                payload["std"], device=device)
    expected = {k: tuple(v.shape) for k, v in peer.model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        raise PeerCheckpointError(f"{path}: its weights do not fit a {payload['method']} of the sizes it records")
    peer.model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    peer.model.to(peer.device).eval()
    peer.meta = payload.get("meta", {})
    return peer
