"""Saving and loading generated datasets: one ``.npz`` file with float arrays 'train' and 'test'.

Shared by :mod:`data_gen.billiards` (paper §4.1) and :mod:`data_gen.court` (paper §4.2),
which differ only in the width of a step (2 values for the ball, 10 for five players)
and in the wording of their messages. Writes are atomic and reads never unpickle.
Saving and loading share one check (:func:`check_train_test`: float (N, T, dim), finite,
the same T in both splits), and a file's array headers are checked against its size
before anything is allocated, so a forged header cannot ask for terabytes.

Taught in ``01_billiards.ipynb`` (through ``billiards.save_dataset`` / ``load_dataset``).
"""
from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np

from .files import write_atomically

DATASET_KEYS = ("train", "test")


def check_trajectories(name: str, x, dim: int, layout: str = "") -> np.ndarray:
    """``x`` as an array, after checking it is float (N, T, dim); ``layout`` is added to the shape message."""
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[-1] != dim:
        raise ValueError(f"{name} must have shape (N, T, {dim}){layout}, got {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must hold floats, got dtype {x.dtype}")
    bad = ~np.isfinite(x)
    if bad.any():
        i, t, _ = np.argwhere(bad)[0]
        raise ValueError(f"{name} holds {int(bad.sum())} NaN or inf value(s) (first in sequence {i}, step {t}); "
                         f"a dataset must be complete: missing steps come from masks, not from the data")
    return x


def check_train_test(train, test, dim: int, layout: str = "", prefix: str = "") -> tuple[np.ndarray, np.ndarray]:
    """The one check of a dataset, before saving and after loading: both splits float (N, T, dim),
    finite, with the same T. ``prefix`` names the file in messages ("billiards.npz")."""
    train = check_trajectories(f"{prefix}['train']" if prefix else "train", train, dim, layout)
    test = check_trajectories(f"{prefix}['test']" if prefix else "test", test, dim, layout)
    if train.shape[1] != test.shape[1]:
        where = f"{prefix}: " if prefix else ""
        raise ValueError(f"{where}train and test must have the same T, got {train.shape[1]} and {test.shape[1]}")
    return train, test


def save_train_test(path, train, test, dim: int, layout: str = "", *, overwrite: bool = True) -> Path:
    """Write ``train`` and ``test`` (N, T, dim) to the .npz file ``path`` atomically; returns the path.

    Written atomically (``data_gen.files.write_atomically``), so a crash never leaves a
    half-written file. Overwrites an existing file unless ``overwrite=False`` (then
    ``FileExistsError``; the command lines pass it without ``--force``).
    """
    path = Path(path)
    train, test = check_train_test(train, test, dim, layout)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object: given a name, np.savez would append ".npz" to it
            np.savez(f, train=train, test=test)

    return write_atomically(path, write, overwrite=overwrite)


class SizeError(ValueError):
    """A file whose headers claim more data than it holds."""


DEFLATE_MAX_RATIO = 1100  # zip's deflate never unpacks more than ~1032 bytes per compressed byte


def _check_npy_header(f, available: int, where: str) -> None:
    """Read one .npy header from ``f`` and refuse it if its array needs more bytes than ``available``."""
    try:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(f)
    except ValueError:
        return  # not an .npy header: np.load gives its own message
    if dtype.hasobject:
        return  # refused by allow_pickle=False, with its own message
    need = math.prod(shape) * dtype.itemsize
    data = available - f.tell()
    if need > data:
        raise SizeError(f"{where} claims an array of shape {shape} {dtype} ({need:,} bytes) but holds only "
                         f"{max(data, 0):,} bytes of data: damaged or forged, refused before allocating")


def _check_sizes(path: Path) -> None:
    """Check every array header of an .npy or .npz file against the bytes that are really there."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                limit = info.compress_size * (DEFLATE_MAX_RATIO if info.compress_type else 1) + 64
                if info.file_size > limit:
                    raise SizeError(f"{path}: member {info.filename!r} claims {info.file_size:,} bytes from "
                                     f"{info.compress_size:,} stored, more than zip can unpack: damaged or forged")
                with archive.open(info) as f:
                    _check_npy_header(f, info.file_size, f"{path}: member {info.filename!r}")
    else:
        with open(path, "rb") as f:
            _check_npy_header(f, os.path.getsize(path), str(path))


def read_arrays(path) -> dict:
    """All arrays of an .npy (key None) or .npz file, refusing pickled objects and headers that
    claim more data than the file holds (checked before anything is allocated)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        _check_sizes(path)
        if zipfile.is_zipfile(path):  # an .npz is a zip archive of .npy files
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        return {None: np.load(path, allow_pickle=False)}
    except SizeError:
        raise
    except MemoryError as err:
        raise ValueError(f"{path} holds arrays too large for this machine's memory") from err
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise ValueError(f"{path} holds pickled objects, which are not loaded for safety (allow_pickle=False)") from err
        raise ValueError(f"{path} is not a readable .npy/.npz file: {err}") from err
    except (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as err:  # a damaged archive
        raise ValueError(f"{path} is not a readable .npy/.npz file: {err}") from err


def load_train_test(path, dim: int, what: str, layout: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Read ``(train, test)`` written by :func:`save_train_test`; ``what`` names the generator ("billiards").

    Raises ``FileNotFoundError`` for a missing file (saying how to create it) and
    ``ValueError`` for a file that is not an .npz with float arrays 'train' and 'test'
    of shape (N, T, dim), finite and with the same T (:func:`check_train_test`, the check
    :func:`save_train_test` makes too).
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
    return check_train_test(arrays["train"], arrays["test"], dim, layout, prefix=path.name)
