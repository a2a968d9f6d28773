"""Saving and loading models safely, and the shipped pretrained checkpoints.

A checkpoint is a plain dict of tensors and plain values: ``{"kit": "naomi_lite",
"version": ..., "config": {...}, "state_dict": {...}, "meta": {...}}``. It is read
with ``torch.load(weights_only=True)``, so loading never unpickles (and so never runs)
code. Files are written atomically (temporary file, then rename).

Taught in ``05_pretraining.ipynb``.
"""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from . import __version__
from .config import NAOMIConfig
from .model import Imputer, build_model
from .paths import CHECKPOINT_DIR, write_atomically

KIT = "naomi_lite"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used, with the reason in the message."""


def save(model: Imputer, path, meta: dict | None = None, half: bool = False) -> Path:
    """Write ``model`` to ``path`` atomically. ``meta`` holds plain values (command, timings, scores).

    ``half=True`` stores the floating-point weights as float16, which halves the file (the
    shipped checkpoints use it); :func:`load` turns them back into the model's float32.
    """
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    payload = {
        "kit": KIT,
        "version": __version__,
        "config": model.config.to_dict(),
        "state_dict": state,
        "meta": dict(meta or {}),
        "stored_dtype": "float16" if half else "float32",
    }
    return write_atomically(path, lambda tmp: torch.save(payload, tmp))


def read(path) -> dict:
    """Read a checkpoint dict with ``weights_only=True`` and check that it is one of ours."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): "
                              f"torch.save writes a zip archive, and this file is not one")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(f"{path} holds objects other than tensors and plain values, and was refused "
                              f"(weights_only=True never runs code from a file): {str(err).splitlines()[0]}") from err
    except (RuntimeError, EOFError, KeyError, ValueError, zipfile.BadZipFile, OSError) as err:
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): "
                              f"{str(err).splitlines()[0]}") from err
    if not isinstance(payload, dict) or payload.get("kit") != KIT:
        raise CheckpointError(f"{path} is not a naomi_lite checkpoint (expected a dict with kit={KIT!r})")
    for key in ("version", "config", "state_dict"):
        if key not in payload:
            raise CheckpointError(f"{path} has no {key!r} entry")
    return payload


def load(path, device: str | torch.device = "auto") -> Imputer:
    """Rebuild the model stored at ``path`` on ``device`` ('auto' = CUDA if available). Taught in ``05_pretraining.ipynb``."""
    from .runtime import get_device

    payload = read(path)
    if payload["version"].split(".")[:2] != __version__.split(".")[:2]:
        raise CheckpointError(f"{path} was written by naomi_lite {payload['version']}, "
                              f"this is {__version__}: retrain it or install the matching kit version")
    try:
        config = NAOMIConfig.from_dict(payload["config"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path} has a config this kit cannot build: {err}") from err
    model = build_model(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as err:  # missing, unexpected or mis-shaped weights
        detail = " ".join(line.strip() for line in str(err).splitlines()[1:4])
        raise CheckpointError(f"{path} does not match the {config.model} model its config describes: {detail}") from err
    model.meta = payload.get("meta", {})
    return model.to(get_device(device)).eval()


def pretrained_names() -> list[str]:
    """Names accepted by :func:`load_pretrained` (files shipped in ``naomi_lite/checkpoints``)."""
    return sorted(p.stem for p in CHECKPOINT_DIR.glob("*.pt"))


def load_pretrained(name: str, device: str | torch.device = "auto") -> Imputer:
    """Load a shipped checkpoint such as ``"billiards-naomi"``. Taught in ``05_pretraining.ipynb``."""
    path = CHECKPOINT_DIR / f"{name}.pt"
    if not path.is_file():
        raise ValueError(f"no shipped checkpoint named {name!r}; available: {pretrained_names()}")
    return load(path, device)
