"""Where the kit keeps its files: generated data, shipped checkpoints and reports.

Notebooks run from different working folders (nbval starts the kernel in
``notebooks/``, papermill in the caller's folder), so every path is resolved here,
relative to the package, never relative to the current directory. How files are written
without ever losing one (checks, locks, atomic writes) lives in ``data_gen.files``, which
needs the standard library only; it is re-exported here. See ``docs/RELIABILITY.md``.
"""
from __future__ import annotations

from pathlib import Path

from data_gen.files import (OutputError, _env_folder, check_output, data_dir, output_lock,  # noqa: F401
                            remove_stale_temps, write_atomically)

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
CHECKPOINT_DIR = PACKAGE_DIR / "checkpoints"


def reports_dir() -> Path:
    """Folder for the course report (``$NAOMI_REPORTS_DIR`` or ``<repo>/reports``), created on demand.

    Raises :class:`OutputError` (a ValueError) when the variable names a file or a folder
    that cannot be created or written.
    """
    return _env_folder("NAOMI_REPORTS_DIR", REPO_ROOT / "reports")
