"""Speed benchmark: how much the kit's vectorized and batched code buys, measured in one run.

Prints four tables and a targets section:

1. Teacher-forced training step (forward + backward of ``NAOMI.teacher_forced_loss``)
   against a straightforward per-time-step reference loop of the same loss, written
   in ``naomi_lite.model.per_step_teacher_forced_loss``. The reference is first checked to give
   the same loss. Target: >= 3x faster on CPU, >= 10x on GPU.
2. Batched imputation of many sequences, each with its own paper mask, in one
   ``model.impute(x, mask)`` call, against imputing them one row at a time. Target >= 10x.
3. Imputation throughput (sequences per second) at batch 64, 256 and 1024, next to the
   original NAOMI code's figures (given, not measured here). Target >= 150 sequences/s
   at batch 256.
4. Free-running training throughput (``free_running_loss`` forward + backward), for
   information.

Untrained models are used: the weights do not change the cost. Timings are the median
of a few repeats after a warm-up; they depend on the machine and on whatever else is
running on it (the header prints the load average).

Usage::

    python benchmarks/speed.py            # full run (a few minutes on a 2-core CPU)
    python benchmarks/speed.py --quick    # small smoke run (seconds)
    python benchmarks/speed.py --help     # every option and its default
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from common import (add_json_argument, check_args, device_from_args, new_parser, options, print_header, print_table,  # same folder
                    print_targets, write_json)
from data_gen.billiards import simulate
from naomi_lite import NAOMI, NAOMIConfig
from naomi_lite.masks import paper_mask
from naomi_lite.model import per_step_teacher_forced_loss as reference_teacher_forced_loss

# The original NAOMI code (github.com/felixykliu/NAOMI) on this machine type, as given to
# us (not measured by this script): billiards sequences imputed per second.
ORIGINAL_PER_SEQUENCE_MASKS = 7.6  # batch 1, float64, each sequence with its own mask
ORIGINAL_SHARED_MASK = 85.0  # 64 sequences sharing one mask


# ---------------------------------------------------------------------------
# Timing and printing helpers
# ---------------------------------------------------------------------------


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# The clock of every measurement: wall time (time.perf_counter), or with --clock process the
# CPU time of this process (time.process_time), which leaves out the time other processes
# hold the CPU. With 1 thread on a busy shared machine the second is the steadier measure.
CLOCK = time.perf_counter


def median_time(fn, device: torch.device, repeats: int, warmup: int = 1) -> float:
    """Median time of ``fn()`` in seconds (``CLOCK``) over ``repeats`` runs, after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        start = CLOCK()
        fn()
        sync(device)
        times.append(CLOCK() - start)
    return statistics.median(times)


def check(name: str, value: float, ok: bool, goal: str) -> dict:
    return {"target": name, "goal": goal, "measured": value, "met": bool(ok)}


# ---------------------------------------------------------------------------
# The four measurements
# ---------------------------------------------------------------------------


def billiards_batch(n: int, seed: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """n billiards trajectories (n, 200, 2) and their paper masks (n, 200), as tensors on device."""
    x = simulate(n, seed=seed)
    mask = paper_mask(n, x.shape[1], seed=seed + 1)
    return torch.as_tensor(x, device=device), torch.as_tensor(mask, device=device)


def bench_teacher_forced(args, device) -> dict:
    """1. Vectorized teacher-forced loss vs the per-time-step reference: same loss, then time both."""
    torch.manual_seed(args.seed)
    model = NAOMI(NAOMIConfig(hidden=args.hidden, decoder_hidden=args.hidden, highest=64)).to(device).train()
    x, mask = billiards_batch(args.tf_batch, args.seed, device)

    fast = model.teacher_forced_loss(x, mask)
    fast_grads = torch.autograd.grad(fast, list(model.parameters()))
    slow = reference_teacher_forced_loss(model, x, mask)
    slow_grads = torch.autograd.grad(slow, list(model.parameters()))
    loss_diff = abs(fast.item() - slow.item())
    grad_diff = max(((a - b).abs().max() / b.abs().max().clamp(min=1e-12)).item() for a, b in zip(fast_grads, slow_grads))

    def step(loss_fn):
        def run():
            model.zero_grad(set_to_none=True)
            loss_fn(model, x, mask).backward()
        return run

    t_fast = median_time(step(NAOMI.teacher_forced_loss), device, args.repeats)
    t_slow = median_time(step(reference_teacher_forced_loss), device, args.repeats)
    print(f"\n== 1. teacher-forced training step (forward + backward), hidden {args.hidden}, "
          f"batch {args.tf_batch}, T={x.shape[1]}, paper masks ==")
    print(f"loss: vectorized {fast.item():.8f}, reference loop {slow.item():.8f}, |difference| {loss_diff:.2e}")
    print(f"gradients: largest difference relative to the reference's largest entry, over parameters: {grad_diff:.2e}")
    print_table(["implementation", "seconds/step (median)", "sequences/s"],
                [["reference loop (per time step, per pivot)", f"{t_slow:.4f}", f"{args.tf_batch / t_slow:.1f}"],
                 ["vectorized teacher_forced_loss", f"{t_fast:.4f}", f"{args.tf_batch / t_fast:.1f}"]])
    print(f"speed-up: {t_slow / t_fast:.1f}x")
    return {"loss_vectorized": fast.item(), "loss_reference": slow.item(), "loss_abs_diff": loss_diff,
            "grad_rel_diff": grad_diff, "seconds_reference": t_slow, "seconds_vectorized": t_fast,
            "speedup": t_slow / t_fast}


def bench_imputation(args, device) -> dict:
    """2 and 3. Batched imputation with per-sequence masks: vs one row at a time, and sequences/s."""
    torch.manual_seed(args.seed)
    model = NAOMI(NAOMIConfig(hidden=args.hidden, decoder_hidden=args.hidden, highest=64)).to(device).eval()
    n_max = max(args.batch, *args.throughput_batches)
    x_all = simulate(n_max, seed=args.seed)  # (N, T, 2) numpy, as a user would pass it
    m_all = paper_mask(n_max, x_all.shape[1], seed=args.seed + 1)  # (N, T): every row its own mask

    times = {}
    for b in sorted({args.batch, *args.throughput_batches}):
        x, m = x_all[:b], m_all[:b]
        times[b] = median_time(lambda: model.impute(x, m), device, args.repeats if b <= 256 else max(1, args.repeats // 2))

    rows = min(args.single_rows, args.batch)
    x, m = x_all[:rows], m_all[:rows]

    def one_at_a_time():
        for i in range(rows):
            model.impute(x[i : i + 1], m[i : i + 1])

    per_row = median_time(one_at_a_time, device, args.repeats) / rows
    t_loop = per_row * args.batch
    t_batched = times[args.batch]

    print(f"\n== 2. imputing {args.batch} sequences with {args.batch} different paper masks, "
          f"hidden {args.hidden}, decoder_hidden {args.hidden}, highest 64 ==")
    scaled = f" (timed {rows} rows one at a time, scaled to {args.batch})" if rows < args.batch else ""
    print_table(["implementation", f"seconds for {args.batch} sequences", "sequences/s"],
                [[f"one row per impute call{scaled}", f"{t_loop:.3f}", f"{1 / per_row:.1f}"],
                 ["one batched impute call", f"{t_batched:.3f}", f"{args.batch / t_batched:.1f}"]])
    print(f"speed-up: {t_loop / t_batched:.1f}x")

    print(f"\n== 3. imputation throughput, a different paper mask for every sequence, hidden {args.hidden} ==")
    table = [[f"naomi_lite, batch {b}", f"{times[b]:.3f}", f"{b / times[b]:.1f}", "measured"] for b in sorted(times)]
    table += [["original NAOMI code, batch 1, per-sequence masks (float64)", "", f"{ORIGINAL_PER_SEQUENCE_MASKS:.1f}",
               "given, not measured here"],
              ["original NAOMI code, 64 sequences sharing one mask", "", f"{ORIGINAL_SHARED_MASK:.1f}",
               "given, not measured here"]]
    print_table(["imputer", "seconds/call (median)", "sequences/s", "source"], table)
    return {"batch": args.batch, "seconds_batched": t_batched, "seconds_one_at_a_time": t_loop,
            "rows_timed_one_at_a_time": rows, "speedup": t_loop / t_batched,
            "throughput": {str(b): b / times[b] for b in sorted(times)},
            "original_reference": {"per_sequence_masks_batch1": ORIGINAL_PER_SEQUENCE_MASKS,
                                   "shared_mask_batch64": ORIGINAL_SHARED_MASK}}


def bench_free_running(args, device) -> dict:
    """4. Free-running training throughput (forward + backward through the imputation loop)."""
    torch.manual_seed(args.seed)
    model = NAOMI(NAOMIConfig(hidden=args.fr_hidden, decoder_hidden=args.fr_hidden, highest=64)).to(device).train()
    x, mask = billiards_batch(args.fr_batch, args.seed, device)

    def run():
        model.zero_grad(set_to_none=True)
        model.free_running_loss(x, mask).backward()

    t = median_time(run, device, args.repeats)
    print(f"\n== 4. free-running training step (forward + backward), hidden {args.fr_hidden}, "
          f"batch {args.fr_batch}, paper masks (for information) ==")
    print_table(["seconds/step (median)", "sequences/s"], [[f"{t:.3f}", f"{args.fr_batch / t:.1f}"]])
    return {"hidden": args.fr_hidden, "batch": args.fr_batch, "seconds": t, "sequences_per_s": args.fr_batch / t}


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    p = new_parser(__doc__)
    p.add_argument("--hidden", type=int, default=200, help="GRU and decoder hidden size for sections 1-3")
    p.add_argument("--tf-batch", type=int, default=64, help="batch of the teacher-forced step (section 1)")
    p.add_argument("--batch", type=int, default=256, help="sequences imputed batched vs one at a time (section 2)")
    p.add_argument("--single-rows", type=int, default=32,
                   help="rows actually imputed one at a time in section 2; the time is scaled to --batch")
    p.add_argument("--throughput-batches", type=int, nargs="+", default=[64, 256, 1024],
                   help="batch sizes of the throughput table (section 3)")
    p.add_argument("--fr-hidden", type=int, default=128, help="hidden size of the free-running step (section 4)")
    p.add_argument("--fr-batch", type=int, default=64, help="batch of the free-running step (section 4)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per measurement (the median is reported)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights, trajectories and masks")
    p.add_argument("--clock", choices=["wall", "process"], default="wall",
                   help="'wall': elapsed time; 'process': CPU time of this process, steadier on a busy machine "
                        "(use it with --threads 1, on the CPU only)")
    p.add_argument("--quick", action="store_true",
                   help="small smoke run: hidden 32, small batches, 1 repeat (targets are meant for the full run)")
    add_json_argument(p)
    args = p.parse_args(argv)
    if args.quick:
        args.hidden, args.tf_batch, args.batch, args.single_rows = 32, 8, 32, 4
        args.throughput_batches, args.fr_hidden, args.fr_batch, args.repeats = [16, 32], 32, 8, 1
    check_args(p, args, ("hidden", "tf_batch", "batch", "single_rows", "fr_hidden", "fr_batch", "repeats"))
    if args.clock == "process" and args.threads != 1:
        p.error("--clock process sums the CPU time of all threads: use it with --threads 1")
    if min(args.throughput_batches) < 1:
        p.error("--throughput-batches must be positive")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    device = device_from_args(args)
    if device is None:
        return 2
    global CLOCK
    if args.clock == "process":
        if device.type == "cuda":
            print("error: --clock process does not see GPU time; use --clock wall with CUDA", file=sys.stderr)
            return 2
        CLOCK = time.process_time
    info = print_header("naomi_lite speed benchmark" + (" (--quick smoke run)" if args.quick else ""), device)
    info["clock"] = "CPU time of this process (time.process_time)" if args.clock == "process" else "wall time"
    print(f"{'clock':13s} {info['clock']}")

    tf = bench_teacher_forced(args, device)
    imp = bench_imputation(args, device)
    fr = bench_free_running(args, device)

    tf_goal = 10.0 if device.type == "cuda" else 3.0
    seqs = imp["throughput"].get(str(args.batch), args.batch / imp["seconds_batched"])
    targets = [
        {**check("reference loop gives the vectorized loss", tf["loss_abs_diff"], tf["loss_abs_diff"] <= 1e-5,
                 "|difference| <= 1e-5"), "shown": f"{tf['loss_abs_diff']:.2e}"},
        {**check(f"teacher-forced step speed-up ({device.type})", tf["speedup"], tf["speedup"] >= tf_goal,
                 f">= {tf_goal:g}x"), "shown": f"{tf['speedup']:.1f}x"},
        {**check(f"batched vs one-at-a-time imputation ({args.batch} sequences)", imp["speedup"],
                 imp["speedup"] >= 10.0, ">= 10x"), "shown": f"{imp['speedup']:.1f}x"},
        {**check(f"imputation throughput, batch {args.batch}, hidden {args.hidden}", seqs, seqs >= 150.0,
                 ">= 150 sequences/s"), "shown": f"{seqs:.1f} sequences/s"},
    ]
    print_targets(targets)
    if args.quick:
        print("(--quick uses small models and batches: the targets are meant for the full run)")
    if args.json:
        write_json(args.json, force=args.force, payload={"info": info, "options": options(args),
                               "teacher_forced": tf, "imputation": imp, "free_running": fr, "targets": targets})
    return 0


if __name__ == "__main__":
    sys.exit(main())
