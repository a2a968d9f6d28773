"""Court benchmark: the paper's Figure 6 metrics, and what adversarial imitation changes.

Imputes a held-out set of synthetic court plays (``data_gen.court.dataset(n_train=0,
n_test=N, seed=2019)[1]``: a fresh seed, training used seed 0) under the paper's
basketball masks (§4.2: step 0 observed, 40-49 of the 50 steps missing;
``naomi_lite.masks.paper_mask(N, 50, (40, 49), seed=2020)``) and prints:

1. **Figure 6 metrics.** For the expert (the ground truth), Linear, KNN (k = 10, fixed
   in advance, neighbours from the 10,000 training plays of seed 0) and the shipped
   checkpoints SingleRes, NAOMI pretrain-only and NAOMI adversarial, and the kit's yardstick
   "Gaussian cond." (``naomi_lite.baselines.GaussianConditional``: the Gaussian conditional of the
   10,000 training plays' mean and covariance, the best *linear* imputer; not in the paper): the median
   [25th, 75th percentile] over the test plays of the five metrics of
   ``naomi_lite.court_metrics`` (trajectory length, out-of-bound rate, step change,
   max-min path difference, player distance), computed on the whole imputed play.
   The Gaussian models are scored on **one sample per play** (``sample=True``, the
   torch generator seeded with 0 once, batches in order), since a sample, not the
   mean, is what a generative imputer hands out; then each median's distance from the
   expert's, ``|median - expert median|`` (smaller is closer to the expert).
2. **Diversity** of the Gaussian models: for each of the first ``--diversity-n`` masked
   plays, ``--samples`` (20) imputations with different random draws. Diversity is
   the average pairwise Euclidean distance between the samples' player positions at
   the missing steps,

       div(play) = mean over missing steps t and players k of
                   (2 / (S (S - 1))) * sum_{i < j} || x^(i)_{t,k} - x^(j)_{t,k} ||_2,

   in normalized court units (1 unit = 50 ft); printed as the mean and the median
   [25th, 75th] over plays. 0 means every sample is the same (as for Linear and KNN).
3. **Forecasting metrics** (not in the paper; trajectory forecasting's), on the same plays and
   samples as the diversity table: the ADE (mean distance per player per missing step,
   ``court_metrics.ade``) of each model's mean imputation, of one sample, and of the best of the
   ``--samples`` samples (``court_metrics.best_of_k_ade``), the ratio best / one sample (1 = all
   samples alike), and the best of K against Linear's ADE.
4. **Forward inference** (paper §4.3, Table 2): only step 0 of each test play known; the five
   metrics of one sample per play from ``court-rnn``, ``court-singleres-forward`` and
   ``court-naomi-forward``, beside the expert's.
5. **Targets** (MET / NOT MET, computed from the numbers above; nothing was tuned on
   this test set):
   * NAOMI adversarial is closer to the expert than NAOMI pretrain-only on at least 3
     of the 5 metrics;
   * NAOMI is closer to the expert than SingleRes on most (>= 3 of 5) metrics, once
     for NAOMI pretrain-only (trained exactly like SingleRes) and once for NAOMI
     adversarial;
   * issue 13's six targets for NAOMI adversarial: ADE of its mean below Linear's; best
     of K <= 0.8 x Linear's ADE; best of K <= 0.85 x its one-sample ADE; step change
     within 50% of the expert's; within 30% of the expert on >= 4 of 5 metrics; closer
     to the expert than NAOMI pretrain on >= 4 of 5.

A missing checkpoint is reported and skipped (its targets print SKIPPED). Checkpoints:
``naomi_lite/checkpoints/court-{singleres,naomi-pretrain,naomi-adversarial}.pt`` (and the three forward ones);
``benchmarks/README.md`` lists the commands that made them.

Usage::

    python benchmarks/court_adversarial.py                 # 1000 test plays
    python benchmarks/court_adversarial.py --n 200         # quick check
    python benchmarks/court_adversarial.py --json reports/court_adversarial.json
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from common import (add_accuracy_arguments, check_args, device_from_args, load_model, new_parser, options,  # same folder
                    print_header, print_impute_times, print_table, print_targets, run_methods, write_json)
from data_gen.court import dataset
from naomi_lite import court_metrics
from naomi_lite.baselines import GaussianConditional, knn_impute, linear_interpolate
from naomi_lite.evaluation import closer_count as ev_closer_count
from naomi_lite.data import TASKS, TEST_SEED, court_test_set
from naomi_lite.evaluation import court_summary, impute_batched, pairwise_spread
from naomi_lite.masks import forward_mask

MISSING = TASKS["court"]["missing"]  # paper §4.2: 40-49 of 50 steps missing
T = 50
N_TRAIN = 10_000  # the training plays of the shipped checkpoints (seed 0); KNN's neighbours
GAUSS = "Gaussian cond."  # naomi_lite.baselines.GaussianConditional: the kit's linear-Gaussian yardstick
METRICS = list(court_metrics.court_metrics(np.zeros((1, 3, 10))).keys())  # the five, in the paper's order
SCI = {"out_of_bound_rate", "step_change"}  # printed in scientific notation
# name in the tables, checkpoint name, model kind stored in its config
MODELS = [("SingleRes", "court-singleres", "singleres"), ("NAOMI pretrain", "court-naomi-pretrain", "naomi"),
          ("NAOMI adversarial", "court-naomi-adversarial", "naomi")]
FORWARD_MODELS = [("RNN", "court-rnn", "rnn"), ("SingleRes", "court-singleres-forward", "singleres"),
                  ("NAOMI", "court-naomi-forward", "naomi")]  # forward inference (§4.3, Table 2)
TRAIN_COMMANDS = {
    "court-singleres": "python -m naomi_lite.train --task court --model singleres ... (see benchmarks/README.md)",
    "court-naomi-pretrain": "python -m naomi_lite.train --task court --model naomi ... (see benchmarks/README.md)",
    "court-naomi-adversarial": "python benchmarks/train_court_adversarial.py",
    "court-rnn": "python -m naomi_lite.train --task court --model rnn ... (see README.md)",
    "court-singleres-forward": "python -m naomi_lite.train --task court --model singleres --mask forward ... (see README.md)",
    "court-naomi-forward": "python -m naomi_lite.train --task court --model naomi --mask forward ... (see README.md)",
}


def forward_inference(x: np.ndarray, checkpoint_dir, device, batch_size: int, seed: int) -> dict:
    """Table 2 (§4.3): only step 0 of each play known; the five metrics of one sample per play from each
    forward checkpoint (and the expert's), {label: court_summary dict}. Missing checkpoints are skipped."""
    fmask = forward_mask(len(x), x.shape[1], n_observed=1)  # (N, T): step 0 observed
    out = {"Expert": court_summary(x)}
    for label, ckpt, kind in FORWARD_MODELS:
        model, _ = load_model(ckpt, kind, checkpoint_dir, device, TRAIN_COMMANDS[ckpt], gaussian=True)
        if model is not None:
            out[label] = court_summary(impute_batched(model, x, fmask, batch_size, sample=True, seed=seed))
    return out


def fmt(s: dict, sci: bool = False) -> str:
    """'median [p25, p75]' of a ``court_metrics.summarize_quartiles`` dict."""
    f = (lambda v: f"{v:.2e}") if sci else (lambda v: f"{v:.4f}")
    return f"{f(s['median'])} [{f(s['p25'])}, {f(s['p75'])}]"


# ---------------------------------------------------------------------------
# Methods, metrics and diversity
# ---------------------------------------------------------------------------


def draw_samples(model, x: np.ndarray, mask: np.ndarray, n_samples: int, batch_size: int, seed: int) -> np.ndarray:
    """``n_samples`` imputations of every play, (n, S, T, D). Each play is repeated ``n_samples``
    times in a batch, so one ``impute`` call draws all its samples (one torch generator, seeded once)."""
    gen = torch.Generator(device=model.device).manual_seed(seed)
    per_batch = max(1, batch_size // n_samples)  # plays per impute call
    out = []
    for lo in range(0, len(x), per_batch):
        xb, mb = x[lo : lo + per_batch], mask[lo : lo + per_batch]  # (b, T, D), (b, T)
        s = model.impute(np.repeat(xb, n_samples, axis=0), np.repeat(mb, n_samples, axis=0), sample=True, generator=gen)
        out.append(s.reshape(len(xb), n_samples, T, -1))  # (b, S, T, D)
    return np.concatenate(out)


def diversity(samples: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per play (n,): mean pairwise distance between the samples (n, S, T, D) at the missing steps
    (``naomi_lite.evaluation.pairwise_spread``; the module docstring gives the formula)."""
    return np.array([pairwise_spread(s, ~m) for s, m in zip(samples, mask)])


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------


def closer_count(results: dict, a: str, b: str) -> tuple[int, list[str]]:
    """On how many metrics ``a``'s median is strictly closer to the expert's than ``b``'s, and which."""
    won = ev_closer_count({k: r["metrics"] for k, r in results.items()}, a, b, METRICS, truth="Expert")
    return len(won), won


def compute_targets(results: dict) -> list[dict]:
    """Each target as {target, goal, shown, met}; met is None when a needed model was skipped."""
    targets = []
    for a, b, need, name in (
        ("NAOMI adversarial", "NAOMI pretrain", 3, "NAOMI adversarial closer to the expert than NAOMI pretrain-only"),
        ("NAOMI pretrain", "SingleRes", 3, "NAOMI pretrain-only closer to the expert than SingleRes (same training)"),
        ("NAOMI adversarial", "SingleRes", 3, "NAOMI adversarial closer to the expert than SingleRes"),
    ):
        goal = f">= {need} of {len(METRICS)} metrics"
        if a not in results or b not in results:
            targets.append({"target": name, "goal": goal, "shown": "skipped", "met": None})
            continue
        count, won = closer_count(results, a, b)
        targets.append({"target": name, "goal": goal,
                        "shown": f"{count} of {len(METRICS)} ({', '.join(won) or 'none'})", "met": count >= need})
    return targets


def within_30(mine: dict, expert: dict) -> list[str]:
    """The metrics on which a method's median lies within 30% of the expert's: |mine - expert| <= 0.3 |expert|,
    so a median of 0 where the expert's is 0 counts as within. ``mine`` and ``expert``: court_summary dicts."""
    return [m for m in METRICS if abs(mine[m]["median"] - expert[m]["median"]) <= 0.3 * abs(expert[m]["median"])]


def stochastic_targets(results: dict, forecast: dict, name: str = "NAOMI adversarial") -> list[dict]:
    """Issue 13's targets for the adversarial NAOMI: accurate (ADE of its mean below Linear's, best
    of K at most 0.8 x Linear's ADE), diverse (best of K at most 0.85 x its mean sample ADE) and
    realistic (step change within 50% of the expert's; within 30% of the expert on at least 4 of the
    5 metrics; closer than the pretrained model on at least 4 of 5)."""
    goals = [("ADE of its mean imputation below Linear's", "< 1.00 x Linear"),
             ("best-of-K ADE against Linear's ADE", "<= 0.80 x Linear"),
             ("best-of-K ADE against its mean sample ADE", "<= 0.85"),
             ("step change within 50% of the expert's", "0.5-1.5 x expert"),
             ("within 30% of the expert on at least 4 of 5 metrics", ">= 4 of 5"),
             ("closer to the expert than NAOMI pretrain on at least 4 of 5", ">= 4 of 5")]
    if name not in results or name not in forecast or "Linear" not in forecast:
        return [{"target": f"{name}: {t}", "goal": g, "shown": "skipped", "met": None} for t, g in goals]
    f, lin = forecast[name], forecast["Linear"]["ade_mean"]
    expert, mine = results["Expert"]["metrics"], results[name]["metrics"]
    step_rel = mine["step_change"]["median"] / expert["step_change"]["median"]  # the expert's is never 0
    within = within_30(mine, expert)
    shown = [f"{f['ade_mean'] / lin:.3f} x Linear ({f['ade_mean']:.4f} vs {lin:.4f})",
             f"{f['best_of_k'] / lin:.3f} x Linear", f"{f['best_over_sample']:.3f}",
             f"{step_rel:.2f} x expert", f"{len(within)} of 5 ({', '.join(within) or 'none'})"]
    met = [f["ade_mean"] < lin, f["best_of_k"] <= 0.8 * lin, f["best_over_sample"] <= 0.85,
           0.5 <= step_rel <= 1.5, len(within) >= 4]
    if "NAOMI pretrain" in results:
        count, won = closer_count(results, name, "NAOMI pretrain")
        shown.append(f"{count} of 5 ({', '.join(won) or 'none'})")
        met.append(count >= 4)
    else:
        shown.append("skipped")
        met.append(None)
    return [{"target": f"{name}: {t}", "goal": g, "shown": sh, "met": m} for (t, g), sh, m in zip(goals, shown, met)]


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    p = new_parser(__doc__)
    add_accuracy_arguments(p, "test plays (fresh seed 2019, paper masks 40-49 of 50 missing)",
                           "court-singleres.pt, court-naomi-pretrain.pt and court-naomi-adversarial.pt")
    p.add_argument("--samples", type=int, default=20, help="samples per play for the diversity table")
    p.add_argument("--diversity-n", type=int, default=1000,
                   help="plays (the first ones of the test set) for the diversity table; at most --n")
    p.add_argument("--seed", type=int, default=0, help="seed of the torch generator that draws the samples")
    args = p.parse_args(argv)
    check_args(p, args, ("n", "k", "batch_size", "diversity_n"))
    if args.samples < 2:
        p.error("--samples must be at least 2 (diversity compares pairs of samples)")
    if args.seed < 0:
        p.error("--seed must be >= 0")
    args.diversity_n = min(args.diversity_n, args.n)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    device = device_from_args(args)
    if device is None:
        return 2
    info = print_header("court plays (paper Figure 6): pretraining vs adversarial imitation", device)

    x, mask = court_test_set(args.n, seed=TEST_SEED, missing=MISSING)  # (N, 50, 10), (N, 50) True = observed
    train_x = dataset(n_train=N_TRAIN, n_test=0, seed=0)[0]  # (10000, 50, 10), the models' training plays; KNN only
    missing = (~mask).sum(1)
    print(f"test set   {args.n} plays x {T} steps, seed {TEST_SEED}, paper masks "
          f"({missing.min()}-{missing.max()} missing per play, mean {missing.mean():.1f})")
    print(f"KNN        k={args.k} over {len(train_x)} training plays (data_gen.court.dataset(seed=0))")
    print(f"samples    Gaussian models: one sample per play (torch generator seed {args.seed}); "
          f"diversity over {args.samples} samples for the first {args.diversity_n} plays")

    gauss = GaussianConditional(train_x)  # fitted to the same training plays (kit's yardstick)
    methods = {"Expert": (lambda: x, None),
               "Linear": (lambda: linear_interpolate(x, mask), None),
               "KNN": (lambda: knn_impute(x, mask, train_x, k=args.k), None),
               GAUSS: (lambda: gauss.samples(x, mask, 1, seed=args.seed)[:, 0], None)}  # one sample, like NAOMI
    models = {}
    for label, ckpt, kind in MODELS:
        model, path = load_model(ckpt, kind, args.checkpoint_dir, device, TRAIN_COMMANDS[ckpt], gaussian=True)
        if model is not None:
            models[label] = model
            methods[label] = (lambda model=model: impute_batched(model, x, mask, args.batch_size, sample=True, seed=args.seed),
                              (model, path))

    preds = {}
    results = run_methods(methods, court_summary, ("command", "minutes"), skip_nonfinite=True, predictions=preds)

    names = {"trajectory_length": "trajectory length", "out_of_bound_rate": "out-of-bound rate",
             "step_change": "step change", "path_difference": "path difference", "player_distance": "player distance"}
    print("\n== metrics: median [25th, 75th percentile] over test plays (closer to the expert is better) ==")
    print_table(["method"] + [names[m] for m in METRICS],
                [[label] + [fmt(r["metrics"][m], sci=m in SCI) for m in METRICS] for label, r in results.items()])

    expert = results["Expert"]["metrics"]
    print("\n== |median - expert median| (smaller is closer to the expert) ==")
    print_table(["method"] + [names[m] for m in METRICS],
                [[label] + [f"{abs(r['metrics'][m]['median'] - expert[m]['median']):.2e}" for m in METRICS]
                 for label, r in results.items() if label != "Expert"])

    div, forecast = {}, {}
    xd, md = x[: args.diversity_n], mask[: args.diversity_n]
    for label in ("Linear", "KNN"):
        if label in preds:
            forecast[label] = {"ade_mean": float(court_metrics.ade(preds[label][: args.diversity_n], xd, md).mean())}
    samplers = {GAUSS: (lambda: gauss.samples(xd, md, args.samples, seed=args.seed + 1), lambda: gauss.impute(xd, md))}
    for label, model in models.items():
        samplers[label] = (lambda model=model: draw_samples(model, xd, md, args.samples, args.batch_size, args.seed + 1),
                           lambda model=model: impute_batched(model, xd, md, args.batch_size))  # the decoder's means
    for label, (draw, mean_of) in samplers.items():
        start = time.perf_counter()
        samples = draw()  # (n, S, T, D)
        v = diversity(samples, md)
        div[label] = {"mean": float(v.mean()), **court_metrics.summarize_quartiles(v),
                      "seconds": time.perf_counter() - start}
        mean_pred = mean_of()  # (n, T, D)
        one = court_metrics.sample_ade(samples, xd, md)  # (n, S)
        forecast[label] = {"ade_mean": float(court_metrics.ade(mean_pred, xd, md).mean()),
                           "ade_sample": float(one.mean()), "best_of_k": float(one.min(axis=1).mean())}
        forecast[label]["best_over_sample"] = forecast[label]["best_of_k"] / forecast[label]["ade_sample"]
    if div:
        print(f"\n== diversity: mean pairwise distance between {args.samples} samples at the missing steps "
              f"({args.diversity_n} plays; normalized units, x50 for feet; Linear and KNN: 0) ==")
        print_table(["method", "mean", "median [25th, 75th]", "in feet (mean)", "seconds"],
                    [[label, f"{d['mean']:.4f}", fmt(d), f"{50 * d['mean']:.2f}", f"{d['seconds']:.1f}"]
                     for label, d in div.items()])
    print(f"\n== forecasting metrics (not in the paper; trajectory forecasting's): ADE = mean distance per player "
          f"per missing step, {args.diversity_n} plays, K = {args.samples} ==")
    print_table(["method", "ADE of the mean", "ADE of a sample", f"best of {args.samples}", "best / sample",
                 f"best of {args.samples} / Linear"],
                [[label, f"{f['ade_mean']:.4f}", f"{f['ade_sample']:.4f}" if "ade_sample" in f else "-",
                  f"{f['best_of_k']:.4f}" if "best_of_k" in f else "-",
                  f"{f['best_over_sample']:.3f}" if "best_over_sample" in f else "-",
                  f"{f['best_of_k'] / forecast['Linear']['ade_mean']:.3f}" if "best_of_k" in f else "-"]
                 for label, f in forecast.items()])

    print_impute_times(results, args.n, "play", device, args.batch_size, truth="Expert")

    forward = forward_inference(x, args.checkpoint_dir, device, args.batch_size, args.seed)
    print(f"\n== forward inference (paper §4.3, Table 2): only step 0 known, one sample per play, {args.n} plays; "
          f"median [25th, 75th percentile] ==")
    print_table(["method"] + [names[m] for m in METRICS],
                [[label] + [fmt(r[m], sci=m in SCI) for m in METRICS] for label, r in forward.items()])

    targets = compute_targets(results) + stochastic_targets(results, forecast)
    print_targets(targets)

    if args.json:
        write_json(args.json, force=args.force, payload={"info": info, "options": options(args),
                               "test_set": {"n": args.n, "seed": TEST_SEED, "mask_seed": TEST_SEED + 1,
                                            "missing_min": int(missing.min()), "missing_max": int(missing.max())},
                               "methods": results, "diversity": div, "forecasting": forecast, "forward_inference": forward,
                               "targets": targets})
    return 0


if __name__ == "__main__":
    sys.exit(main())
