"""Saving and loading models safely, and the shipped pretrained checkpoints.

A checkpoint is a plain dict of tensors and plain values: ``{"kit": "naomi_lite",
"version": ..., "config": {...}, "state_dict": {...}, "meta": {...}}``. It is read
with ``torch.load(weights_only=True)``, so loading never unpickles (and so never runs)
code. Files are written atomically (temporary file, read back, then rename), so a save
never replaces a good checkpoint with one :func:`load` would refuse.

What :func:`load` refuses, each with a :class:`CheckpointError` naming the reason (see
``docs/RELIABILITY.md``): files that are not zip archives, archives whose CRC checksums
fail (flipped bytes), pickled objects other than tensors and plain values, dicts that are
not ours or whose fields have the wrong types, configs this kit cannot build, weights that
do not fit the config, and weights holding NaN or inf.

Taught in ``05_pretraining.ipynb``.
"""
from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .config import NAOMIConfig
from .model import Imputer, build_model
from .paths import CHECKPOINT_DIR, write_atomically

KIT = "naomi_lite"
FLOAT16_MAX = 65504.0  # the largest finite float16: bigger weights cannot be saved with half=True


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used, with the reason in the message."""


def plain_meta(value, where: str = "meta"):
    """``value`` with numpy scalars and arrays, paths and tensors made storable; refuses the rest.

    A checkpoint is read with ``weights_only=True``, which accepts only tensors and plain
    values (None, bool, int, float, str, and lists, tuples and dicts of them). So
    ``np.float64`` (what ``np.mean`` returns) becomes a float, an ``np.ndarray`` a list,
    a ``pathlib.Path`` a string, and anything else raises a one-line ValueError naming the
    key (``meta['history']['loss'][3]``) before anything is written.
    """
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fsdecode(os.fspath(value))
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return plain_meta(value.tolist(), where)
    if isinstance(value, torch.Tensor) and value.device.type != "meta":
        return value.detach().cpu().clone()
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not (k is None or type(k) in (bool, int, float, str)):
                k = plain_meta(k, f"{where} key {k!r}")
            out[k] = plain_meta(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, (list, tuple)):
        items = [plain_meta(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    raise ValueError(f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which a checkpoint cannot store "
                     f"(weights_only=True reads only tensors and plain values): convert it to a number, "
                     f"string, list or dict")


def check_payload(payload, path) -> dict:
    """Check that ``payload`` is one of our checkpoint dicts, field by field; returns it.

    The one check behind :func:`read` (after loading) and :func:`save` (before writing):
    the fields have the right types, every weight is a tensor, and no floating-point
    weight is NaN or inf (a diverged or damaged model would impute NaN).
    """
    if not isinstance(payload, dict) or payload.get("kit") != KIT:
        raise CheckpointError(f"{path} is not a naomi_lite checkpoint (expected a dict with kit={KIT!r})")
    for key, kind in (("version", str), ("config", dict), ("state_dict", dict), ("meta", dict)):
        if key not in payload:
            if key == "meta":
                continue
            raise CheckpointError(f"{path} has no {key!r} entry")
        if not isinstance(payload[key], kind):
            raise CheckpointError(f"{path} is damaged: its {key!r} entry is a {type(payload[key]).__name__}, "
                                  f"expected a {kind.__name__}")
    for name, tensor in payload["state_dict"].items():
        if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"{path} is damaged: state_dict entry {name!r} is a {type(tensor).__name__}, "
                                  f"expected a tensor")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            hint = (f" (float16 overflows above {FLOAT16_MAX:g}: save without half=True)"
                    if payload.get("stored_dtype") == "float16" and tensor.dtype == torch.float16 else
                    " (a diverged or damaged model would impute NaN)")
            raise CheckpointError(f"{path}: weight {name!r} holds {bad} NaN or inf value(s), and was refused{hint}")
    return payload


def save(model: Imputer, path, meta: dict | None = None, half: bool = False, *, overwrite: bool = True) -> Path:
    """Write ``model`` to ``path`` atomically. ``meta`` holds plain values (command, timings, scores).

    ``half=True`` stores the floating-point weights as float16, which halves the file (the
    shipped checkpoints use it); :func:`load` turns them back into the model's float32.
    ``meta`` is made storable first (:func:`plain_meta`), and the payload is checked like
    :func:`load` checks it (:func:`check_payload`), before anything is written; the new file
    is read back before it replaces ``path``. So a save either writes a checkpoint that
    :func:`load` accepts, or raises and leaves ``path`` as it was. ``overwrite=False``
    raises ``FileExistsError`` instead of replacing an existing ``path``.
    """
    meta = plain_meta(dict(meta or {}))
    if any(v.device.type == "meta" for v in model.state_dict().values()):
        raise ValueError(f"not saved to {path}: the model is on the meta device, which holds no weights")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    payload = {
        "kit": KIT,
        "version": __version__,
        "config": model.config.to_dict(),
        "state_dict": state,
        "meta": meta,
        "stored_dtype": "float16" if half else "float32",
    }
    try:
        check_payload(payload, "the model")
    except CheckpointError as err:
        raise ValueError(f"not saved to {path}: {err}") from None

    def verify(tmp: str) -> None:
        try:
            load(tmp, device="cpu")
        except (CheckpointError, OSError) as err:
            raise CheckpointError(f"the checkpoint written for {path} did not read back, so {path} was left as it "
                                  f"was: {err}") from None

    return write_atomically(path, lambda tmp: torch.save(payload, tmp), overwrite=overwrite, verify=verify)


def _check_zip(path: Path) -> None:
    """Refuse a file that is not a zip archive or whose stored CRC checksums do not match its bytes."""
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): "
                              f"torch.save writes a zip archive, and this file is not one")
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()  # reads every record and compares its CRC-32
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as err:
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): {err}") from err
    if broken is not None:
        raise CheckpointError(f"{path} is corrupt: record {broken!r} fails its CRC check (bytes changed on disk "
                              f"or in transfer); use another copy")


def read(path) -> dict:
    """Read a checkpoint dict with ``weights_only=True`` and check that it is one of ours."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    _check_zip(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(f"{path} holds objects other than tensors and plain values, and was refused "
                              f"(weights_only=True never runs code from a file): {str(err).splitlines()[0]}") from err
    except (RuntimeError, EOFError, KeyError, ValueError, TypeError, AttributeError, zipfile.BadZipFile, OSError,
            MemoryError) as err:
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): "
                              f"{(str(err).splitlines() or [type(err).__name__])[0]}") from err
    return check_payload(payload, path)


def load(path, device: str | torch.device = "auto") -> Imputer:
    """Rebuild the model stored at ``path`` on ``device`` ('auto' = CUDA if available). Taught in ``05_pretraining.ipynb``.

    This is the loader for any file; :func:`load_pretrained` takes only the names of the
    shipped checkpoints. Raises ``FileNotFoundError`` or :class:`CheckpointError` (a
    ValueError) naming what is wrong with the file.
    """
    from .runtime import get_device

    target = get_device(device)
    if target.type == "meta":
        raise ValueError("device='meta' holds no values, so a loaded model could not impute; use 'auto', 'cpu' or 'cuda'")
    payload = read(path)
    if payload["version"].split(".")[:2] != __version__.split(".")[:2]:
        raise CheckpointError(f"{path} was written by naomi_lite {payload['version']}, "
                              f"this is {__version__}: retrain it or install the matching kit version")
    try:
        config = NAOMIConfig.from_dict(payload["config"])
        with torch.device("meta"):  # the shapes the config implies, without allocating them
            expected = {k: tuple(v.shape) for k, v in build_model(config).state_dict().items()}
    except (TypeError, ValueError, AttributeError, RuntimeError) as err:
        raise CheckpointError(f"{path} has a config this kit cannot build: {str(err).splitlines()[0]}") from err
    state = payload["state_dict"]
    found = {k: tuple(v.shape) for k, v in state.items()}
    if found != expected:
        missing = sorted(expected.keys() - found.keys())
        extra = sorted(found.keys() - expected.keys())
        shaped = sorted(k for k in expected.keys() & found.keys() if expected[k] != found[k])
        shaped = [f"{k} {found[k]} instead of {expected[k]}" for k in shaped]
        detail = "; ".join(f"{what}: {', '.join(names[:2])}{' ...' if len(names) > 2 else ''}" for what, names in
                           (("missing keys", missing), ("unexpected keys", extra), ("size mismatch", shaped)) if names)
        raise CheckpointError(f"{path} does not match the {config.model} model its config describes ({detail})")
    model = build_model(config)
    model.load_state_dict(state)
    model.meta = payload.get("meta", {})
    return model.to(target).eval()


def pretrained_names() -> list[str]:
    """Names accepted by :func:`load_pretrained` (files shipped in ``naomi_lite/checkpoints``)."""
    return sorted(p.stem for p in CHECKPOINT_DIR.glob("*.pt"))


def load_pretrained(name: str, device: str | torch.device = "auto") -> Imputer:
    """Load a shipped checkpoint such as ``"billiards-naomi"``. Taught in ``05_pretraining.ipynb``.

    Only the shipped names are accepted (:func:`pretrained_names`), never a path: to load
    a file of your own, call :func:`load` with its path.
    """
    names = pretrained_names()
    if not isinstance(name, str) or name not in names:
        raise ValueError(f"no shipped checkpoint named {name!r} (load_pretrained takes a name, never a path: "
                         f"to load a file, call naomi_lite.load(path)); available: {names}")
    return load(CHECKPOINT_DIR / f"{name}.pt", device)
