"""Billiards accuracy benchmark: the paper's Figure 4 on a fresh test set.

Imputes a held-out billiards test set (``naomi_lite.data.billiards_test_set``: seed
2019, paper masks with 180-195 of 200 steps missing) with every method of the paper's
Figure 4 and prints, for each, the mean and the 5th-95th percentiles of

* ``l2_missing``: L2 error on the missing steps (lower is better; ground truth 0),
* ``sinuosity``, ``step_change`` and ``reflection_distance``: how physical the
  trajectory looks (closer to the ground truth's value is better),

then the L2 ratios (each method against Linear, NAOMI against the RNN), the impute time
per method, and a targets section (MET / NOT MET, computed from the numbers above).

Methods: ground truth, Linear (``baselines.linear_interpolate``), KNN
(``baselines.knn_impute`` over the training trajectories ``task_data("billiards", 4000, 500,
seed=0)[0]``; k is fixed in advance, never tuned on the test set), and the shipped
checkpoints RNN, SingleRes and NAOMI. A missing checkpoint is reported and skipped.

Usage::

    python benchmarks/billiards_accuracy.py                  # 1000 test sequences
    python benchmarks/billiards_accuracy.py --n 100          # quick check
    python benchmarks/billiards_accuracy.py --json reports/billiards_accuracy.json
    python benchmarks/billiards_accuracy.py --checkpoint-dir my_runs/   # billiards-{rnn,singleres,naomi}.pt there
"""
from __future__ import annotations

import argparse
import sys

from common import (add_accuracy_arguments, check_args, device_from_args, load_model, new_parser, options,  # same folder
                    print_header, print_impute_times, print_table, print_targets, run_methods, write_json)
from naomi_lite.baselines import knn_impute, linear_interpolate
from naomi_lite import evaluation as ev
from naomi_lite.data import TEST_SEED, billiards_test_set, task_data
from naomi_lite.evaluation import billiards_summary, impute_batched
from naomi_lite.metrics import squared_error

# name in the tables, checkpoint name, model kind stored in its config
MODELS = [("RNN", "billiards-rnn", "rnn"), ("SingleRes", "billiards-singleres", "singleres"),
          ("NAOMI", "billiards-naomi", "naomi"),
          ("NAOMI relative", "billiards-naomi-relative", "naomi")]  # the kit's pivot-relative heads (not the paper's)


# ---------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------


def fmt(s: dict, digits: int = 4, sci: bool = False) -> str:
    """'mean [p5, p95]' of a ``metrics.summarize`` dict."""
    f = (lambda v: f"{v:.2e}") if sci else (lambda v: f"{v:.{digits}f}")
    return f"{f(s['mean'])} [{f(s['p5'])}, {f(s['p95'])}]"


# ---------------------------------------------------------------------------
# Methods and metrics
# ---------------------------------------------------------------------------


def train_command(ckpt: str, kind: str) -> str:
    return f"python -m naomi_lite.train --task billiards --model {kind} --out naomi_lite/checkpoints/{ckpt}.pt"


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------


def compute_targets(results: dict) -> list[dict]:
    """Each target as {target, goal, shown, met}; met is None when a needed method was skipped."""
    def l2(name):
        return results[name]["metrics"]["l2_missing"]["mean"] if name in results else None

    def off_truth(name, metric):
        return abs(results[name]["metrics"][metric]["mean"] - results["Ground truth"]["metrics"][metric]["mean"])

    targets = []
    naomi = l2("NAOMI")
    others = {k: l2(k) for k in results if k not in ("Ground truth", "NAOMI", "NAOMI relative")}
    skipped = [m for m, _, _ in MODELS if m not in results]
    note = f" (evaluated: {', '.join(others)})" if skipped else ""
    if naomi is None:
        targets.append({"target": "NAOMI has the lowest L2 of all methods", "goal": "lowest", "shown": "NAOMI skipped", "met": None})
    else:
        best_other = min(others, key=others.get)
        targets.append({"target": "NAOMI has the lowest L2 of all methods" + note, "goal": "lowest",
                        "shown": f"NAOMI {naomi:.4f}, next best {best_other} {others[best_other]:.4f}",
                        "met": naomi < others[best_other]})
    for who in ("NAOMI", "NAOMI relative"):
        mine = l2(who)
        if mine is None:
            continue
        kit = " (kit's extension)" if who != "NAOMI" else ""
        for factor, label in ((0.3, ""), (0.25, " (stretch)")):
            targets.append({"target": f"{who} L2 <= {factor} x Linear{label}{kit}", "goal": f"ratio <= {factor}",
                            "shown": f"{mine / l2('Linear'):.3f} x Linear", "met": mine <= factor * l2("Linear")})
        rnn = l2("RNN")
        targets.append({"target": f"{who} L2 <= 0.4 x RNN (paper: 60% lower){kit}", "goal": "ratio <= 0.4",
                        "shown": "skipped" if rnn is None else f"{mine / rnn:.3f} x RNN",
                        "met": None if rnn is None else mine <= 0.4 * rnn})
        ratio = results[who]["metrics"]["step_change"]["mean"] / results["Ground truth"]["metrics"]["step_change"]["mean"]
        targets.append({"target": f"{who} step change <= 3 x the truth's{kit}", "goal": "ratio <= 3",
                        "shown": f"{ratio:.2f} x truth", "met": ratio <= 3})
        for other in ("Linear", "SingleRes"):
            for metric in ("sinuosity", "reflection_distance"):
                name = f"{who} closer to ground truth than {other} on {metric}{kit}"
                if other not in results:
                    targets.append({"target": name, "goal": "|mean - truth| smaller", "shown": "skipped", "met": None})
                    continue
                a, b = off_truth(who, metric), off_truth(other, metric)
                targets.append({"target": name, "goal": "|mean - truth| smaller",
                                "shown": f"{who} {a:.2e} vs {other} {b:.2e}", "met": a < b})
    return targets


# ---------------------------------------------------------------------------
# Diagnostics: why NAOMI errs where it errs (chapter 05 teaches them)
# ---------------------------------------------------------------------------


def print_diagnostics(results: dict, preds: dict, methods: dict, x, mask) -> dict:
    """Error by gap index against Linear, one-step error by level with true contexts, midpoint residual."""
    out = {"by_gap": {}, "one_step_by_level": {}, "midpoint_residual": {}}
    models = {label: methods[label][1][0] for label in ("SingleRes", "NAOMI", "NAOMI relative") if label in results}
    print("\n== diagnostics 1: where the error sits, by gap (gap 0 = the first gap of a sequence) ==")
    rows = []
    for label in ("SingleRes", "NAOMI", "NAOMI relative"):
        if label not in preds:
            continue
        by_gap = ev.error_by_gap(preds[label], preds["Linear"], x, mask)
        out["by_gap"][label] = by_gap
        rows += [[label, g, f"{d['steps']:.1%}", f"{d['error']:.1%}", f"{d['ratio']:.3f}"] for g, d in by_gap.items()]
    print_table(["method", "gap", "share of missing steps", "share of its error", "L2 / Linear there"], rows)
    for label in ("NAOMI", "NAOMI relative"):
        if label not in models:
            continue
        print(f"\n== diagnostics 2: {label}, one-step error by level, every pivot and context true (inference's order) ==")
        by_level = ev.one_step_error_by_level(models[label], x, mask)
        out["one_step_by_level"][label] = {str(s): v for s, v in by_level.items()}
        print_table(["step size s", "mean L2 of one decode", "decodes"], [[s, f"{e:.4f}", n] for s, (e, n) in by_level.items()])
    print("\n== diagnostics 3: midpoint residual at s = 1, ||x_t - (x_{t-1} + x_{t+1}) / 2|| ==")
    highest = models["NAOMI"].config.highest if "NAOMI" in models else 64
    rows = []
    for label in results:
        if label in preds:
            out["midpoint_residual"][label] = ev.midpoint_residual(preds[label], mask, highest)
            rows.append([label, f"{out['midpoint_residual'][label]:.2e}"])
    print_table(["method", "mean residual"], rows)
    return out


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    p = new_parser(__doc__)
    add_accuracy_arguments(p, "test sequences (fresh seed 2019, paper masks)",
                           "billiards-rnn.pt, billiards-singleres.pt and billiards-naomi.pt")
    args = p.parse_args(argv)
    check_args(p, args, ("n", "k", "batch_size"))
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    device = device_from_args(args)
    if device is None:
        return 2
    info = print_header("billiards accuracy (paper Figure 4) on a fresh test set", device)

    x, mask = billiards_test_set(n=args.n)  # (N, 200, 2), (N, 200)
    train_x = task_data("billiards", 4000, 500, seed=0)[0]  # (4000, 200, 2), for KNN only
    missing = (~mask).sum(1)
    print(f"test set     {args.n} sequences x {x.shape[1]} steps, seed {TEST_SEED}, paper masks "
          f"({missing.min()}-{missing.max()} missing per sequence, mean {missing.mean():.1f})")
    print(f"KNN          k={args.k} over {len(train_x)} training trajectories (task_data('billiards', 4000, 500, seed=0))")

    methods = {"Ground truth": (lambda: x, None),
               "Linear": (lambda: linear_interpolate(x, mask), None),
               "KNN": (lambda: knn_impute(x, mask, train_x, k=args.k), None)}
    for label, ckpt, kind in MODELS:
        model, path = load_model(ckpt, kind, args.checkpoint_dir, device, train_command(ckpt, kind))
        if model is not None:
            methods[label] = (lambda model=model: impute_batched(model, x, mask, args.batch_size), (model, path))

    def summary(pred):  # Figure 4's metrics, plus the original code's squared error
        return {**billiards_summary(pred, x, mask), "squared_error": {"mean": float(squared_error(pred, x).mean())}}

    preds = {}  # each method's imputations, for the diagnostics
    results = run_methods(methods, summary, ("command", "minutes", "best_val_l2"), predictions=preds)

    truth = results["Ground truth"]["metrics"]
    print("\n== metrics: mean [5th, 95th percentile] over test sequences ==")
    print("(reflection distance over the sequences with at least one reflection; n = how many)")
    rows = []
    for label, r in results.items():
        m = r["metrics"]
        rows.append([label, fmt(m["l2_missing"]), fmt(m["sinuosity"]), fmt(m["step_change"], sci=True),
                     fmt(m["reflection_distance"]), m["reflection_distance"]["n"]])
    print_table(["method", "L2 on missing steps", "sinuosity", "step change", "reflection distance", "n"], rows)

    print("\n== distance of each mean from the ground truth's mean (smaller is more physical) ==")
    print_table(["method", "|sinuosity - truth|", "|step change - truth|", "|reflection distance - truth|"],
                [[label, f"{abs(r['metrics']['sinuosity']['mean'] - truth['sinuosity']['mean']):.2e}",
                  f"{abs(r['metrics']['step_change']['mean'] - truth['step_change']['mean']):.2e}",
                  f"{abs(r['metrics']['reflection_distance']['mean'] - truth['reflection_distance']['mean']):.2e}"]
                 for label, r in results.items() if label != "Ground truth"])

    linear = results["Linear"]["metrics"]["l2_missing"]["mean"]
    ratios = {f"{label} / Linear": r["metrics"]["l2_missing"]["mean"] / linear
              for label, r in results.items() if label not in ("Ground truth", "Linear")}
    if "NAOMI" in results and "RNN" in results:
        ratios["NAOMI / RNN"] = results["NAOMI"]["metrics"]["l2_missing"]["mean"] / results["RNN"]["metrics"]["l2_missing"]["mean"]
    print("\n== L2 ratios (mean L2 on missing steps) ==")
    print_table(["ratio", "value"], [[k, f"{v:.3f}"] for k, v in ratios.items()])

    se = {label: r["metrics"]["squared_error"]["mean"] for label, r in results.items() if label != "Ground truth"}
    print("\n== the original code's metric: squared error over all steps and coordinates ==")
    print("(felixykliu/NAOMI helpers.run_epoch: torch.mean((ground_truth - samples).pow(2)); big errors weigh more)")
    rows = [[label, f"{v:.3e}", f"{v / se['Linear']:.3f}"] for label, v in se.items()]
    print_table(["method", "squared error", "/ Linear"], rows)
    if "NAOMI" in se and "RNN" in se:
        ratios["NAOMI / RNN (squared error)"] = se["NAOMI"] / se["RNN"]
        ratios["NAOMI / Linear (squared error)"] = se["NAOMI"] / se["Linear"]
        print(f"NAOMI / RNN by squared error {se['NAOMI'] / se['RNN']:.3f}; by Euclidean L2 {ratios['NAOMI / RNN']:.3f}")

    diagnostics = print_diagnostics(results, preds, methods, x, mask)

    print_impute_times(results, args.n, "sequence", device, args.batch_size, truth="Ground truth")

    targets = compute_targets(results)
    print_targets(targets)

    if args.json:
        write_json(args.json, force=args.force, payload={"info": info, "options": options(args),
                               "test_set": {"n": args.n, "seed": TEST_SEED, "missing_min": int(missing.min()),
                                            "missing_max": int(missing.max())},
                               "methods": results, "ratios": ratios, "diagnostics": diagnostics, "targets": targets})
    return 0


if __name__ == "__main__":
    sys.exit(main())
