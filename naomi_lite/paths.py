"""Where the kit keeps its files: generated data, shipped checkpoints and reports.

Notebooks run from different working folders (nbval starts the kernel in
``notebooks/``, papermill in the caller's folder), so every path is resolved here,
relative to the package, never relative to the current directory.
"""
from __future__ import annotations

import os
from pathlib import Path

from data_gen.storage import data_dir, write_atomically  # noqa: F401  (data_gen needs numpy only, so they live there)

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
CHECKPOINT_DIR = PACKAGE_DIR / "checkpoints"


def reports_dir() -> Path:
    """Folder for the course report (``$NAOMI_REPORTS_DIR`` or ``<repo>/reports``), created on demand."""
    path = Path(os.environ.get("NAOMI_REPORTS_DIR", REPO_ROOT / "reports"))
    path.mkdir(parents=True, exist_ok=True)
    return path
