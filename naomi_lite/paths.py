"""Where the kit keeps its files: generated data, shipped checkpoints and reports.

Notebooks run from different working folders (nbval starts the kernel in
``notebooks/``, papermill in the caller's folder), so every path is resolved here,
relative to the package, never relative to the current directory.
"""
from __future__ import annotations

import os
from pathlib import Path

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
