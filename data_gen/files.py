"""Safe output files: checked before any work starts, one writer per file, written atomically.

Every file the kit writes (datasets here, checkpoints in ``naomi_lite.checkpoints``) goes
through :func:`write_atomically`: a temporary file in the same folder, checked, then renamed
over the target in one step, under a lock that keeps two runs from writing the same file.
The command lines check their outputs with :func:`check_output` before they start working.
The guarantees are listed in ``docs/RELIABILITY.md``.

This module needs the standard library only, so that ``data_gen`` stays numpy-only;
``naomi_lite.paths`` re-exports it. Taught in ``01_billiards.ipynb`` (saving a dataset).
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Callable

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; writes are still atomic
    fcntl = None

REPO_ROOT = Path(__file__).resolve().parent.parent


class OutputError(ValueError):
    """An output that cannot be written (or may not be replaced), with the reason in the message."""


def _env_folder(var: str, default: Path) -> Path:
    """The folder named by ``$var`` (or ``default``), checked and created on demand."""
    value = os.environ.get(var)
    path = Path(value) if value else default
    try:
        check_output(path, folder=True)
    except OutputError as err:
        raise OutputError(f"{var}={value}: {err}" if value else str(err)) from None
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Folder for generated datasets (``$NAOMI_DATA_DIR`` or ``<repo>/data``), created on demand.

    Raises :class:`OutputError` (a ValueError) when the variable names a file or a folder
    that cannot be created or written.
    """
    return _env_folder("NAOMI_DATA_DIR", REPO_ROOT / "data")


def check_output(path, *, force: bool = False, folder: bool = False) -> Path:
    """Check, before any work starts, that ``path`` can be written; returns it as a Path.

    One check for every command line (``python -m data_gen``, ``python -m naomi_lite.train``,
    ``scripts/run_course.py``) and for :func:`data_dir` / :func:`reports_dir`. Raises
    :class:`OutputError` naming the problem: a file ``path`` that is a folder (or a folder
    ``path`` that is a file), an existing file without ``force``, a file where a parent
    folder should be, or a folder this process may not write in. Creates nothing.
    """
    path = Path(path)
    if folder:
        if path.exists() and not path.is_dir():
            raise OutputError(f"{path} is a file, not a folder")
    else:
        if path.is_dir():
            raise OutputError(f"{path} is a folder; give a file name inside it")
        if path.exists() and not force:
            raise OutputError(f"{path} exists; pass --force to overwrite it")
    blocker = next((p for p in path.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise OutputError(f"{blocker} is a file, so {path} cannot be written inside it")
    writable = path if folder and path.is_dir() else blocker
    if writable is not None and not os.access(writable, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: no permission to write in {writable} (a read-only folder?)")
    return path


# ---------------------------------------------------------------------------
# One writer per file: a lock beside it, and no debris from killed writers
# ---------------------------------------------------------------------------

_HELD: dict[str, list] = {}  # lock file -> [fd, depth]: locks this process holds (re-entrant)


def _lock_file(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


@contextlib.contextmanager
def output_lock(path):
    """While inside, this process is the only kit writer of ``path``; raises :class:`OutputError` otherwise.

    The lock is ``flock`` on a hidden ``.<name>.lock`` beside ``path``, so the system drops it
    when the holder dies, even by ``kill -9``. Re-entrant within one process (a training run
    holds it from start to save, and ``write_atomically`` takes it again). The lock file is
    removed on release. Without ``fcntl`` (Windows) this does nothing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _lock_file(path)
    key = str(lock.parent.resolve() / lock.name)
    if fcntl is None or key in _HELD:
        if key in _HELD:
            _HELD[key][1] += 1
        try:
            yield
        finally:
            if key in _HELD:
                _HELD[key][1] -= 1
        return
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise OutputError(f"{path} is being written by another run (process {holder} holds {lock}); "
                              f"wait for it to finish or choose another output") from None
        try:  # a releasing holder unlinks the file: make sure we locked the one that is still there
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _HELD[key] = [fd, 1]
    try:
        yield
    finally:
        _HELD[key][1] -= 1
        if _HELD[key][1] == 0:
            del _HELD[key]
            with contextlib.suppress(OSError):
                lock.unlink()  # before closing: a waiting opener then sees a new file, not ours
            os.close(fd)


def _temp_pattern(path: Path) -> re.Pattern:
    return re.compile(re.escape(f".{path.name}.") + r"[A-Za-z0-9_]+\.tmp")


def remove_stale_temps(path) -> list[Path]:
    """Delete the temporary files a killed writer of ``path`` left (``.<name>.XXXXXXXX.tmp``).

    Call it only while holding :func:`output_lock` for ``path``: then no other kit run is
    writing ``path``, so every such file is debris. Returns the files removed.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    pattern = _temp_pattern(path)
    removed = []
    for p in path.parent.iterdir():
        if pattern.fullmatch(p.name) and p.is_file():
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed.append(p)
    return removed


def write_atomically(path, write: Callable[[str], None], *, overwrite: bool = True,
                     verify: Callable[[str], None] | None = None) -> Path:
    """Create ``path`` through ``write(tmp)``, which writes a temporary file in the same folder.

    The temporary file then replaces ``path`` in one step (``os.replace``), so a crash or an
    error never leaves a half-written file, and an existing ``path`` survives a failed write.
    ``verify(tmp)``, when given, reads the new file back and raises if it is unusable: a file
    that would not load then never replaces a good one. With ``overwrite=False`` an existing
    ``path`` is never replaced (a hard link creates it only if absent; ``FileExistsError``).
    The whole write holds :func:`output_lock`, and first removes temporary files that killed
    writers left (:func:`remove_stale_temps`). The file is made readable by all (0o644: data
    and checkpoints are meant to be shared). Used by ``naomi_lite.checkpoints.save`` and
    ``data_gen.storage.save_train_test``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(path):
        remove_stale_temps(path)
        if not overwrite and path.exists():
            raise FileExistsError(f"{path} exists and overwrite=False: nothing was replaced")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            write(tmp)
            if verify is not None:
                verify(tmp)
            os.chmod(tmp, 0o644)  # mkstemp creates the file private (0o600)
            if overwrite:
                os.replace(tmp, path)
            else:
                _create_new(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return path


def _create_new(tmp: str, path: Path) -> None:
    """Give ``tmp`` the name ``path`` only if no file has it (atomically, where hard links exist)."""
    try:
        os.link(tmp, path)  # fails with FileExistsError if path appeared meanwhile
    except FileExistsError:
        raise FileExistsError(f"{path} exists and overwrite=False: nothing was replaced") from None
    except OSError:  # a file system without hard links: check, then rename (not atomic, but rare)
        if path.exists():
            raise FileExistsError(f"{path} exists and overwrite=False: nothing was replaced") from None
        os.replace(tmp, path)
