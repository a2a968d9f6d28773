"""The command-line plumbing every generator shares: argument types, the common options, and a
safe write (no overwrite without ``--force``, atomic save via the generator's ``save_dataset``).

Each generator module supplies ``add_arguments(parser)`` and ``run(args, parser)`` built from
these; ``data_gen/__main__.py`` dispatches ``python -m data_gen NAME``.
"""
from __future__ import annotations

import argparse
from pathlib import Path


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
                        help=f"output .npz file (default: <data_dir>/{name}.npz, see data_gen.storage.data_dir)")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it already exists")


def run_dataset(args: argparse.Namespace, parser: argparse.ArgumentParser, name: str, dataset, save_dataset) -> int:
    """Check ``args``, generate ``dataset(n_train, n_test, seed=, T=)`` and save it; returns the exit status."""
    if args.out is None:
        from .storage import data_dir

        args.out = data_dir() / f"{name}.npz"
    if args.T < 2:
        parser.error(f"argument --T: must be >= 2, got {args.T}")
    if args.out.is_dir():
        parser.error(f"argument --out: {args.out} is a folder; give a file name such as {args.out / f'{name}.npz'}")
    if args.out.exists() and not args.force:
        parser.error(f"{args.out} already exists; pass --force to overwrite it")
    blocker = next((p for p in args.out.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        parser.error(f"argument --out: {blocker} is a file, so {args.out} cannot be written inside it")
    train, test = dataset(args.n_train, args.n_test, seed=args.seed, T=args.T)
    try:
        save_dataset(args.out, train, test)
    except OSError as err:  # no permission, disk full, ...: one line, nothing half-written (the save is atomic)
        parser.error(f"argument --out: cannot write {args.out}: {err.strerror or err}")
    print(f"wrote {args.out}: train {train.shape} {train.dtype}, test {test.shape} {test.dtype} (seed {args.seed})")
    return 0
