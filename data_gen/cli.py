"""The command-line plumbing every generator shares: argument types, the common options, and a
safe write: the output is checked before generating (``data_gen.files.check_output``),
the dataset's size is checked against the machine's memory, one run at a time writes a
file (``data_gen.files.output_lock``), and the save is atomic and never replaces an
existing file without ``--force``.

Each generator module supplies ``add_arguments(parser)`` and ``run(args, parser)`` built from
these; ``data_gen/__main__.py`` dispatches ``python -m data_gen NAME``.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

PEAK_BYTES_PER_VALUE = 40  # generating holds float64 intermediates: ~10x the float32 result, measured generously


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _int_at_least(text, 0, "a non-negative integer")


def _int_at_least(text: str, minimum: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def add_dataset_arguments(parser: argparse.ArgumentParser, name: str, *, n_train: int, n_test: int, T: int,
                          what: str = "sequences", T_help: str = "steps per sequence") -> None:
    """Register --n-train, --n-test, --T, --seed, --out and --force for the generator ``name``."""
    parser.add_argument("--n-train", type=positive_int, default=n_train, help=f"training {what} (default {n_train})")
    parser.add_argument("--n-test", type=positive_int, default=n_test, help=f"test {what} (default {n_test})")
    parser.add_argument("--T", dest="T", type=positive_int, default=T, help=f"{T_help} (default {T})")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"output .npz file (default: <data_dir>/{name}.npz, see data_gen.files.data_dir)")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it already exists")


def memory_bytes() -> int | None:
    """This machine's physical memory in bytes (None where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_dataset_size(n: int, T: int, dim: int) -> str | None:
    """Why ``n`` sequences of ``T`` steps of ``dim`` values cannot be generated here, or None if they can."""
    values = n * T * dim
    need, have = values * PEAK_BYTES_PER_VALUE, memory_bytes()
    if have is not None and need > have:
        return (f"{n:,} sequences x {T:,} steps x {dim} values would take {values * 4 / 1e9:,.3g} GB as float32 "
                f"and about {need / 1e9:,.3g} GB while generating, more than this machine's {have / 1e9:.3g} GB of "
                f"memory; lower --n-train, --n-test or --T")
    return None


def run_dataset(args: argparse.Namespace, parser: argparse.ArgumentParser, name: str, dataset, save_dataset,
                dim: int) -> int:
    """Check ``args``, generate ``dataset(n_train, n_test, seed=, T=)`` and save it; returns the exit status.

    Everything is checked before generating: ``--T``, the size against this machine's memory,
    and ``--out`` (not a folder, not under a file, writable, absent unless ``--force``). The
    run holds ``--out``'s lock from start to save, so a second run writing the same file
    stops at once, and without ``--force`` the save never replaces a file that appeared meanwhile.
    """
    from .files import OutputError, check_output, data_dir, output_lock

    if args.T < 2:
        parser.error(f"argument --T: must be >= 2, got {args.T}")
    too_big = check_dataset_size(args.n_train + args.n_test, args.T, dim)
    if too_big:
        parser.error(too_big)
    try:
        if args.out is None:
            args.out = data_dir() / f"{name}.npz"
        check_output(args.out, force=args.force)
    except OutputError as err:
        parser.error(f"argument --out: {err}")
    try:
        with output_lock(args.out):
            try:
                train, test = dataset(args.n_train, args.n_test, seed=args.seed, T=args.T)
            except MemoryError:
                parser.error(f"not enough memory for {args.n_train + args.n_test:,} sequences of {args.T:,} steps; "
                             f"lower --n-train, --n-test or --T")
            save_dataset(args.out, train, test, overwrite=args.force)
    except OutputError as err:  # another run holds the lock
        parser.error(f"argument --out: {err}")
    except FileExistsError:
        parser.error(f"argument --out: {args.out} was created by something else while this run generated; "
                     f"nothing was replaced (pass --force to overwrite it)")
    except OSError as err:  # no permission, disk full, ...: one line, nothing half-written (the save is atomic)
        parser.error(f"argument --out: cannot write {args.out}: {err.strerror or err}")
    print(f"wrote {args.out}: train {train.shape} {train.dtype}, test {test.shape} {test.dtype} (seed {args.seed})")
    return 0
