"""Saving and loading generated datasets: one ``.npz`` file with float arrays 'train' and 'test'.

Shared by :mod:`data_gen.billiards` (paper §4.1) and :mod:`data_gen.court` (paper §4.2),
which differ only in the width of a step (2 values for the ball, 10 for five players)
and in the wording of their messages. Writes are atomic and reads never unpickle.

Taught in ``01_billiards.ipynb`` (through ``billiards.save_dataset`` / ``load_dataset``).
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent

DATASET_KEYS = ("train", "test")


def data_dir() -> Path:
    """Folder for generated datasets (``$NAOMI_DATA_DIR`` or ``<repo>/data``), created on demand."""
    path = Path(os.environ.get("NAOMI_DATA_DIR", REPO_ROOT / "data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomically(path, write: Callable[[str], None]) -> Path:
    """Create ``path`` through ``write(tmp)``, which writes a temporary file in the same folder.

    The temporary file then replaces ``path`` in one step (``os.replace``), so a crash or an
    error never leaves a half-written file, and an existing ``path`` survives a failed write.
    The file is made readable by all (0o644: data and checkpoints are meant to be shared).
    Used by :func:`save_train_test` and ``naomi_lite.checkpoints.save``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates the file private (0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_trajectories(name: str, x, dim: int, layout: str = "") -> np.ndarray:
    """``x`` as an array, after checking it is float (N, T, dim); ``layout`` is added to the shape message."""
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[-1] != dim:
        raise ValueError(f"{name} must have shape (N, T, {dim}){layout}, got {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must hold floats, got dtype {x.dtype}")
    return x


def save_train_test(path, train, test, dim: int, layout: str = "") -> Path:
    """Write ``train`` and ``test`` (N, T, dim) to the .npz file ``path`` atomically; returns the path.

    Written atomically (:func:`write_atomically`), so a crash never leaves a
    half-written file. Overwrites an existing file (the command lines ask for ``--force`` first).
    """
    path = Path(path)
    train = check_trajectories("train", train, dim, layout)
    test = check_trajectories("test", test, dim, layout)
    if train.shape[1] != test.shape[1]:
        raise ValueError(f"train and test must have the same T, got {train.shape[1]} and {test.shape[1]}")

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object: given a name, np.savez would append ".npz" to it
            np.savez(f, train=train, test=test)

    return write_atomically(path, write)


def read_arrays(path) -> dict:
    """All arrays of an .npy (key None) or .npz file, refusing pickled objects."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        if zipfile.is_zipfile(path):  # an .npz is a zip archive of .npy files
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        return {None: np.load(path, allow_pickle=False)}
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise ValueError(f"{path} holds pickled objects, which are not loaded for safety (allow_pickle=False)") from err
        raise ValueError(f"{path} is not a readable .npy/.npz file: {err}") from err
    except (OSError, EOFError, zipfile.BadZipFile) as err:  # a damaged archive
        raise ValueError(f"{path} is not a readable .npy/.npz file: {err}") from err


def load_train_test(path, dim: int, what: str, layout: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Read ``(train, test)`` written by :func:`save_train_test`; ``what`` names the generator ("billiards").

    Raises ``FileNotFoundError`` for a missing file (saying how to create it) and
    ``ValueError`` for a file that is not an .npz with float arrays 'train' and 'test'
    of shape (N, T, dim).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} dataset at {path}; create one with `python -m data_gen {what} --out {path}`")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a readable .npz dataset (not a zip archive)")
    arrays = read_arrays(path)
    missing = [k for k in DATASET_KEYS if k not in arrays]
    if missing:
        raise ValueError(f"{path} is missing key(s) {missing}; expected keys {list(DATASET_KEYS)}, found {sorted(arrays)}")
    train = check_trajectories(f"{path.name}['train']", arrays["train"], dim, layout)
    test = check_trajectories(f"{path.name}['test']", arrays["test"], dim, layout)
    return train, test
