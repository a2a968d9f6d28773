"""Where the kit keeps its files: generated data, shipped checkpoints and reports.

Notebooks run from different working folders (nbval starts the kernel in
``notebooks/``, papermill in the caller's folder), so every path is resolved here,
relative to the package, never relative to the current directory.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
CHECKPOINT_DIR = PACKAGE_DIR / "checkpoints"


def data_dir() -> Path:
    """Folder for generated datasets (``$NAOMI_DATA_DIR`` or ``<repo>/data``), created on demand."""
    path = Path(os.environ.get("NAOMI_DATA_DIR", REPO_ROOT / "data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def reports_dir() -> Path:
    """Folder for the course report (``$NAOMI_REPORTS_DIR`` or ``<repo>/reports``), created on demand."""
    path = Path(os.environ.get("NAOMI_REPORTS_DIR", REPO_ROOT / "reports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomically(path, write: Callable[[str], None]) -> Path:
    """Create ``path`` through ``write(tmp)``, which writes a temporary file in the same folder.

    The temporary file then replaces ``path`` in one step (``os.replace``), so a crash or an
    error never leaves a half-written file, and an existing ``path`` survives a failed write.
    The file is made readable by all (0o644: data and checkpoints are meant to be shared).
    Used by ``naomi_lite.checkpoints.save`` and ``data_gen.storage.save_train_test``.
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
