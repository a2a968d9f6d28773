"""Ablation table: billiards checkpoints side by side on one held-out test set.

Every checkpoint given on the command line imputes the same fresh test set
(``naomi_lite.data.billiards_test_set``: seed 2019, paper masks), and one row per checkpoint
prints what the model-quality work changes and what it measures:

* how it was trained (from its ``meta``: the training minutes of the whole chain of runs,
  epochs, the best validation L2, the heads: paper or pivot-relative, +shared for one head for all levels, the coarsest step);
* L2 on the missing steps and its ratio to linear interpolation; the original code's squared
  error as a ratio to linear interpolation;
* step change as a multiple of the truth's, and |sinuosity - truth| and |reflection distance -
  truth| (smaller is more physical);
* the midpoint residual at s = 1 and the L2 ratio to Linear on gap 0 (``naomi_lite.evaluation``).

Usage::

    python benchmarks/ablation.py runs/a.pt runs/b.pt naomi_lite/checkpoints/billiards-naomi.pt
    python benchmarks/ablation.py --n 200 runs/*.pt --json reports/ablation.json

The rows are what ``benchmarks/README.md``'s ablation table records.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common import add_json_argument, check_args, device_from_args, new_parser, options, print_header, print_table, write_json  # same folder
from naomi_lite import evaluation as ev
from naomi_lite import load, metrics
from naomi_lite.baselines import linear_interpolate
from naomi_lite.checkpoints import CheckpointError
from naomi_lite.data import TEST_SEED, billiards_test_set
from naomi_lite.history import training_history, training_minutes


def describe(model) -> dict:
    """How a checkpoint was trained, from its meta (the whole chain of continued runs)."""
    meta = getattr(model, "meta", {})
    minutes = training_minutes(meta)
    epochs = len(training_history(meta)["epoch"]) - 1 if meta.get("history") else 0
    c = model.config
    return {"model": c.model, "heads": ("relative" if c.decoder_base != "none" else "paper") + ("+shared" if c.shared_heads else ""), "hidden": c.hidden,
            "highest": c.highest, "minutes": round(minutes, 1), "epochs": epochs,
            "best_val_l2": meta.get("best_val_l2", float("nan"))}


def main(argv=None) -> int:
    p = new_parser(__doc__)
    p.add_argument("checkpoints", type=Path, nargs="+", help="billiards checkpoint files (.pt)")
    p.add_argument("--n", type=int, default=1000, help="test sequences (fresh seed 2019, paper masks)")
    p.add_argument("--batch-size", type=int, default=256, help="sequences per impute call")
    add_json_argument(p)
    args = p.parse_args(argv)
    check_args(p, args, ("n", "batch_size"))
    device = device_from_args(args)
    if device is None:
        return 2
    info = print_header("billiards ablation table", device)
    x, mask = billiards_test_set(n=args.n)  # (N, 200, 2), (N, 200)
    linear = linear_interpolate(x, mask)
    truth = ev.billiards_summary(x)
    lin = {"l2": float(metrics.l2_missing(linear, x, mask).mean()), "se": float(metrics.squared_error(linear, x).mean())}
    print(f"test set {args.n} sequences, seed {TEST_SEED}; Linear L2 {lin['l2']:.4f}, squared error {lin['se']:.3e}; "
          f"truth step change {truth['step_change']['mean']:.2e}")
    rows, out = [], []
    for path in args.checkpoints:
        try:
            model = load(path, device)
        except (FileNotFoundError, CheckpointError) as err:
            print(f"{path}: skipped ({err})")
            continue
        pred = ev.impute_batched(model, x, mask, args.batch_size)
        s = ev.billiards_summary(pred, x, mask)
        d = describe(model)
        r = {"checkpoint": str(path), **d, "l2": s["l2_missing"]["mean"], "l2_over_linear": s["l2_missing"]["mean"] / lin["l2"],
             "se_over_linear": float(metrics.squared_error(pred, x).mean()) / lin["se"],
             "step_change_over_truth": s["step_change"]["mean"] / truth["step_change"]["mean"],
             "sinuosity_off": abs(s["sinuosity"]["mean"] - truth["sinuosity"]["mean"]),
             "reflection_off": abs(s["reflection_distance"]["mean"] - truth["reflection_distance"]["mean"]),
             "midpoint_residual": ev.midpoint_residual(pred, mask, model.config.highest),
             "gap0_over_linear": ev.error_by_gap(pred, linear, x, mask)["0"]["ratio"]}
        out.append(r)
        rows.append([path.stem, f"{d['heads']}/{d['hidden']}/{d['highest']}", f"{d['minutes']:.0f}", d["epochs"],
                     f"{d['best_val_l2']:.4f}", f"{r['l2']:.4f}", f"{r['l2_over_linear']:.3f}", f"{r['se_over_linear']:.3f}",
                     f"{r['step_change_over_truth']:.1f}", f"{r['sinuosity_off']:.1e}", f"{r['reflection_off']:.3f}",
                     f"{r['midpoint_residual']:.1e}", f"{r['gap0_over_linear']:.2f}"])
    print()
    print_table(["checkpoint", "heads/hidden/highest", "min", "epochs", "val L2", "test L2", "/Linear", "SE/Linear",
                 "step chg x truth", "|sin-truth|", "|refl-truth|", "midpoint res.", "gap 0 /Linear"], rows)
    lin_summary = ev.billiards_summary(linear, x, mask)
    print(f"\n(Linear: |sin-truth| {abs(lin_summary['sinuosity']['mean'] - truth['sinuosity']['mean']):.1e}, "
          f"|refl-truth| {abs(lin_summary['reflection_distance']['mean'] - truth['reflection_distance']['mean']):.3f}, "
          f"step change x truth {lin_summary['step_change']['mean'] / truth['step_change']['mean']:.1f})")
    if args.json:
        opts = {k: ([str(p) for p in v] if k == "checkpoints" else v) for k, v in options(args).items()}
        write_json(args.json, force=args.force, payload={"info": info, "options": opts, "linear": lin, "rows": out})
    return 0


if __name__ == "__main__":
    sys.exit(main())
