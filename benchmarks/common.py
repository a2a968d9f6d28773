"""What the benchmark scripts share: the header, tables, targets, device set-up, checkpoints, the timed
methods loop and the JSON file. Each script in this folder imports it (``from common import ...``)."""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

import naomi_lite
from naomi_lite.checkpoints import CheckpointError
from naomi_lite.paths import CHECKPOINT_DIR, OutputError, check_output, write_atomically
from naomi_lite.safety import rescue_path


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def print_targets(targets: list[dict]) -> None:
    """The closing ``targets`` table: MET / NOT MET, or SKIPPED where ``met`` is None (a model was missing)."""
    print("\n== targets ==")
    print_table(["target", "goal", "measured", "result"],
                [[t["target"], t["goal"], t["shown"],
                  "MET" if t["met"] else ("NOT MET" if t["met"] is not None else "SKIPPED (model not evaluated)")]
                 for t in targets])


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def print_header(title: str, device: torch.device) -> dict:
    """Print (and return) what the numbers depend on: device, versions, threads, date, load."""
    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        "torch": torch.__version__,
        "naomi_lite": naomi_lite.__version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "cpu": f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores",
        "threads": torch.get_num_threads(),
        "load_average": " ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a",
    }
    print(f"== {title} ==")
    for key, value in info.items():
        print(f"{key:12s} {value}")
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > (os.cpu_count() or 1):
        print("note: the 1-minute load average exceeds the core count: other processes compete for the CPU, "
              "so timings are slower and noisier (and more than 1 thread can be much slower)")
    return info


def new_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by the first paragraph of ``doc``, with ``--device`` and ``--threads``."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--device", default="auto", help="'auto' (CUDA if available, else CPU), 'cpu' or 'cuda'")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    return p


def add_accuracy_arguments(p: argparse.ArgumentParser, n_help: str, checkpoints: str) -> None:
    """The options both accuracy benchmarks take: test-set size, KNN's k, checkpoints, batch, JSON."""
    p.add_argument("--n", type=int, default=1000, help=n_help)
    p.add_argument("--k", type=int, default=10, help="neighbours of the KNN baseline (fixed, not tuned on the test set)")
    p.add_argument("--checkpoint-dir", type=Path, default=None,
                   help=f"folder holding {checkpoints} (default: the shipped checkpoints in naomi_lite/checkpoints)")
    p.add_argument("--batch-size", type=int, default=256, help="sequences per impute call")
    add_json_argument(p)


def add_json_argument(p: argparse.ArgumentParser) -> None:
    """``--json FILE`` and ``--force``: an existing FILE is replaced only with ``--force`` (checked by
    :func:`check_json` before any work starts)."""
    p.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    p.add_argument("--force", action="store_true", help="replace an existing --json file")


def check_json(p: argparse.ArgumentParser, args) -> None:
    """Exit 2 with one reason line if ``--json`` cannot be written: an existing file without ``--force``,
    a folder, or a place this user may not write in (``check_output``)."""
    if getattr(args, "json", None) is not None:
        try:
            check_output(args.json, force=getattr(args, "force", False))
        except OutputError as err:
            p.error(f"--json: {err}")


def check_args(p: argparse.ArgumentParser, args, at_least_one: tuple) -> None:
    """Exit 2 with one reason line if a count is below 1, ``--threads`` is negative, ``--checkpoint-dir`` is no
    folder or ``--json`` cannot be written (an existing file without ``--force``)."""
    for name in at_least_one:
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.threads < 0:
        p.error("--threads must be >= 0")
    folder = getattr(args, "checkpoint_dir", None)
    if folder is not None and not folder.is_dir():
        p.error(f"--checkpoint-dir {folder} is not a folder")
    check_json(p, args)


def device_from_args(args) -> torch.device | None:
    """Apply ``--threads`` and resolve ``--device``; None (with the reason on stderr) if the device is unusable."""
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        return naomi_lite.get_device(args.device)
    except (TypeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return None


def load_model(ckpt: str, kind: str, checkpoint_dir: Path | None, device: torch.device, train_hint: str,
               gaussian: bool | None = None):
    """The model in ``checkpoint_dir/ckpt.pt`` (default: the shipped ones), or None with a printed reason.

    Warns when the file holds another model kind (or, if ``gaussian`` is given, another decoder mode).
    """
    path = (checkpoint_dir if checkpoint_dir is not None else CHECKPOINT_DIR) / f"{ckpt}.pt"
    if not path.is_file():
        print(f"checkpoint {ckpt} not found at {path} — skipped (train it with: {train_hint})")
        return None, path
    try:
        model = naomi_lite.load(path, device)
    except Exception as err:  # noqa: BLE001 - report any unusable file and go on with the other methods
        kind_of = "" if isinstance(err, CheckpointError) else f"{type(err).__name__}: "
        print(f"checkpoint {ckpt} could not be loaded — skipped: {kind_of}{err}")
        return None, path
    if gaussian is None and model.config.model != kind:
        print(f"warning: {path} holds a {model.config.model!r} model, expected {kind!r}")
    elif gaussian is not None and (model.config.model != kind or model.config.gaussian != gaussian):
        print(f"warning: {path} holds a {model.config.model!r} model (gaussian={model.config.gaussian}), "
              f"expected a {'Gaussian' if gaussian else 'deterministic'} {kind!r}")
    return model, path


def run_methods(methods: dict, summarize, meta_keys: tuple, skip_nonfinite: bool = False,
                predictions: dict | None = None) -> dict:
    """Time each method and summarize its output.

    ``methods`` maps a label to (impute(), (model, path) or None); the result maps the label to
    {"metrics": summarize(pred), "impute_seconds": ..., and for a model its "checkpoint" record with
    the ``meta_keys`` of its meta}. ``skip_nonfinite`` leaves out (with a warning) a method that
    returned NaN or inf. ``predictions``, if given, receives each kept method's output by label.
    """
    results = {}
    for label, (impute, loaded) in methods.items():
        start = time.perf_counter()
        pred = np.asarray(impute(), dtype=np.float64)
        seconds = time.perf_counter() - start
        if skip_nonfinite and not np.isfinite(pred).all():
            print(f"warning: {label} produced NaN or inf; skipped")
            continue
        results[label] = {"metrics": summarize(pred), "impute_seconds": seconds}
        if predictions is not None:
            predictions[label] = pred
        if loaded is not None:
            model, path = loaded
            meta = getattr(model, "meta", {})
            results[label]["checkpoint"] = {"path": str(path), "config": model.config.to_dict(),
                                            **{k: meta[k] for k in meta_keys if k in meta}}
    return results


def print_impute_times(results: dict, n: int, unit: str, device: torch.device, batch_size: int, truth: str) -> None:
    """The seconds each method took to impute the ``n`` test sequences (``unit``: "sequence" or "play")."""
    print(f"\n== impute time for {n} {unit}s ({device}, batch {batch_size} for the models) ==")
    print_table(["method", "seconds", f"ms per {unit}"],
                [[label, f"{r['impute_seconds']:.3f}", f"{1000 * r['impute_seconds'] / n:.2f}"]
                 for label, r in results.items() if label != truth])


def options(args) -> dict:
    """The command-line options as JSON-ready values."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}


def write_json(path: Path, payload: dict, force: bool = False) -> Path:
    """Write ``payload`` to ``path`` atomically. An existing file is replaced only with ``force``; one that
    appeared while the benchmark ran (after :func:`check_args`) is kept, and the results go beside it."""
    text = json.dumps(payload, indent=2) + "\n"

    def write(tmp: str) -> None:
        Path(tmp).write_text(text)

    try:
        out = write_atomically(path, write, overwrite=force)
    except FileExistsError:
        out = write_atomically(rescue_path(path), write, overwrite=False)
        print(f"{path} appeared while this ran and was kept (no --force); the results are in {out}")
        return out
    print(f"wrote {out}")
    return out
