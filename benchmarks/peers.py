"""NAOMI among today's imputers: an equal-budget comparison with PyPOTS's SAITS, BRITS, CSDI and ImputeFormer.

Every method trains on the kit's billiards data (``task_data("billiards", 4000, 500, seed=0)``),
is selected on the same 500 validation sequences and masks as NAOMI, and is scored on the
benchmark test set (``billiards_test_set``: 1000 fresh sequences, seed 2019, paper masks with
180-195 of 200 steps missing) by the paper's four metrics (Figure 4), the original code's squared
error, and its impute throughput. Needs the ``peers`` extra: ``pip install -e '.[peers]'``.

Budgets: NAOMI and SingleRes train with the classroom recipe (README, chapter 05) for
``--minutes`` of wall-clock time (``--max-minutes``, validation included); each peer trains for
``--minutes`` of training time (``naomi_lite.peers.train_peer``: validation excluded, since
CSDI's alone takes minutes). The shipped NAOMI and SingleRes (hours of training) are shown too.

Each peer is trained twice: on PyPOTS's default training masks (``fit()``'s own) and on
test-like masks (the paper's, drawn fresh every epoch). See ``naomi_lite/peers.py``.

Usage::

    python benchmarks/peers.py all --minutes 20        # everything, one method after another (about 4 h)
    python benchmarks/peers.py train saits --masks test-like --minutes 20 --threads 1
    python benchmarks/peers.py train naomi --minutes 20 --threads 1      # the classroom recipe
    python benchmarks/peers.py compare --json reports/peers.json          # score what is there
    python benchmarks/peers.py compare --n 100                            # quick check
    python benchmarks/peers.py train csdi --task court --minutes 20 --threads 1   # a peer on the court plays
    python benchmarks/peers.py compare --task court --n 500 --samples-n 50 --json benchmarks/results/peers-court.json

On court plays (``--task court``) every peer trains on the 10,000 training plays of the shipped court
models (seed 0) with the court's paper masks (40-49 of 50 steps missing), and ``compare --task court``
scores Linear, the Gaussian conditional (``naomi_lite.baselines.GaussianConditional``), the shipped court
NAOMIs and SingleRes, and the court peers on the court benchmark's test plays: the ADE of each mean
imputation, the five court metrics of what each method hands out (one sample for the generative methods,
the mean for the others) and, for the generative ones, best-of-K ADE and the spread of the samples.
CSDI draws each sample by 50 denoising passes (about half a second per play on one CPU core), hence the
smaller test set in the stored run.

Trained files go to ``--checkpoint-dir`` (default ``runs/peers``): ``{task}-{peer}-{masks}.pt``
for the peers, ``billiards-{naomi,singleres}-classroom.pt`` for the kit's models. ``compare``
falls back to the shipped files (``naomi_lite/checkpoints``, ``naomi_lite/checkpoints/peers``)
for any that is not there.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from common import (check_json, device_from_args, options, print_header, print_table, run_methods,  # same folder
                    write_json)
import naomi_lite
from naomi_lite import peers as pp
from naomi_lite.baselines import linear_interpolate
from naomi_lite.data import TEST_SEED, billiards_test_set
from naomi_lite.evaluation import billiards_summary, impute_batched
from naomi_lite.history import training_minutes
from naomi_lite.metrics import squared_error
from naomi_lite.paths import CHECKPOINT_DIR, REPO_ROOT, OutputError, check_output
from naomi_lite.train import _stop_on_signals as stop_on_signals
from naomi_lite.train import classroom_flags

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = CHECKPOINT_DIR / "peers"  # the shipped peer weights (test-like masks, classroom budget)
KIT_MODELS = ("naomi", "singleres")


def classroom_command(model: str, minutes: float, out: Path, threads: int) -> list[str]:
    """The classroom recipe (``naomi_lite.train.CLASSROOM``; README, chapter 05) for NAOMI, and the same
    recipe for SingleRes (one head, step 1: ``--highest`` is NAOMI's only)."""
    cmd = [sys.executable, "-m", "naomi_lite.train", *classroom_flags(model, max_minutes=float(minutes)),
           "--no-progress", "--out", str(out), "--force"]
    if threads:
        cmd += ["--threads", str(threads)]
    return cmd


# Training plays per task: the kit's own models' (billiards: TrainConfig.n_train, the classroom recipe;
# court: the shipped court checkpoints, benchmarks/README.md "How the shipped court checkpoints were made").
N_TRAIN = {"billiards": 4000, "court": 10_000}


def peer_file(folder: Path, method: str, masks: str, task: str = "billiards") -> Path:
    return folder / f"{task}-{method}-{masks}.pt"


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------

def train(args) -> int:
    folder = args.checkpoint_dir
    if args.method in KIT_MODELS:
        if args.task != "billiards":
            print(f"error: the kit's {args.task} models are trained by the commands in benchmarks/README.md "
                  "('How the shipped court checkpoints were made'), not by peers.py train", file=sys.stderr)
            return 2
        out = folder / f"billiards-{args.method}-classroom.pt"
        try:
            check_output(out, force=args.force)
        except OutputError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        cmd = classroom_command(args.method, args.minutes, out, args.threads)
        print("$", " ".join(cmd[1:]), flush=True)
        return subprocess.run(cmd, cwd=ROOT).returncode
    out = peer_file(folder, args.method, args.masks, args.task)
    try:
        check_output(out, force=args.force)
        cfg = pp.PeerConfig(method=args.method, task=args.task, masks=args.masks, minutes=args.minutes,
                            batch_size=args.batch_size, n_train=args.n_train or N_TRAIN[args.task], device=args.device)
    except (OutputError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        with stop_on_signals():  # kill -TERM / -INT: stop, keep and write the best epoch
            peer, history = pp.train_peer(cfg, log=lambda s: print(s, flush=True))
    except pp.PeersUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    peer.meta["history"] = history
    peer.meta["command"] = "python benchmarks/peers.py " + " ".join(sys.argv[1:])
    pp.save_peer(peer, out)
    print(f"wrote {out} (validation L2 {peer.meta['val_l2']:.4f}, {peer.meta['minutes']:.1f} min of training, "
          f"{peer.meta['epochs']} epochs, {peer.meta['steps']} steps)")
    return 0


# ---------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------

def _find(name: str, folder: Path, shipped: Path) -> Path | None:
    for base in (folder, shipped):
        if (base / name).is_file():
            return base / name
    return None


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it (the stored JSON names no machine's folders)."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT.resolve()))
    except ValueError:
        return str(path)


def trained_peers(args, device, task: str) -> tuple[list, list]:
    """The trained peers of ``task`` in ``--checkpoint-dir``, else among the shipped files: a list of
    (method, label, peer, samples averaged into its imputation, training record), and the (method, masks,
    label) not found. Raises ``PeersUnavailable`` without PyPOTS."""
    found, absent = [], []
    for method in pp.PEERS:
        for masks in pp.MASKS:
            label = f"{pp.PEER_LABELS[method]} ({masks} masks)"
            path = _find(peer_file(Path(), method, masks, task).name, args.checkpoint_dir, PEER_DIR)
            if path is None:
                absent.append((method, masks, label))
                continue
            peer = pp.load_peer(path, device)
            k = args.csdi_samples if method == "csdi" else 1  # CSDI's imputation: the mean of k samples
            found.append((method, label, peer, k,
                          dict(kind="peer", path=_shown(path), minutes=peer.meta.get("minutes"), masks=masks,
                               best_val_l2=peer.meta.get("val_l2"), epochs=peer.meta.get("epochs"),
                               steps=peer.meta.get("steps"), samples_averaged=k)))
    return found, absent


def compare(args) -> int:
    device = device_from_args(args)
    if device is None:
        return 2
    info = print_header("NAOMI among today's imputers (PyPOTS) on the billiards test set", device)
    print(f"pypots       {pp.pypots_version() or 'not installed: ' + pp.INSTALL_HINT}")
    x, mask = billiards_test_set(n=args.n)  # (N, 200, 2), (N, 200)
    missing = (~mask).sum(1)
    print(f"test set     {args.n} sequences x {x.shape[1]} steps, seed {TEST_SEED}, paper masks "
          f"({missing.min()}-{missing.max()} missing per sequence)")

    methods = {"Ground truth": (lambda: x, None), "Linear": (lambda: linear_interpolate(x, mask), None)}
    records = {}  # label -> how it was trained
    for label, name in (("NAOMI (shipped)", "billiards-naomi.pt"), ("SingleRes (shipped)", "billiards-singleres.pt"),
                        ("NAOMI classroom", "billiards-naomi-classroom.pt"),
                        ("SingleRes classroom", "billiards-singleres-classroom.pt")):
        path = _find(name, args.checkpoint_dir, CHECKPOINT_DIR)
        if path is None:
            print(f"{label}: {name} not found — skipped (python benchmarks/peers.py train "
                  f"{label.split()[0].lower()} --minutes 20)")
            continue
        model = naomi_lite.load(path, device)
        methods[label] = (lambda model=model: impute_batched(model, x, mask, args.batch_size), None)
        records[label] = dict(kind="kit", path=_shown(path), minutes=training_minutes(model.meta),
                              last_run_minutes=model.meta.get("minutes"), masks="paper (test-like)",
                              best_val_l2=model.meta.get("best_val_l2"))
    try:
        found, absent = trained_peers(args, device, "billiards")
    except pp.PeersUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for method, masks, label in absent:
        print(f"{label}: not found — skipped (python benchmarks/peers.py train {method} --masks {masks})")
    for method, label, peer, k, record in found:
        methods[label] = (lambda peer=peer, k=k: peer.impute(x, mask, n_samples=k), None)
        records[label] = record

    def summary(pred):
        return {**billiards_summary(pred, x, mask), "squared_error": {"mean": float(squared_error(pred, x).mean())}}

    results = run_methods(methods, summary, ())
    for label, r in results.items():  # kind: "reference" (truth, Linear), "kit" (NAOMI, SingleRes) or "peer" (PyPOTS)
        r["kind"] = records.get(label, {}).get("kind", "reference")
        if label in records:
            r["training"] = records[label]
    truth = results["Ground truth"]["metrics"]
    linear = results["Linear"]["metrics"]
    print("\n== the four paper metrics (Figure 4) and the original code's squared error; mean over test sequences ==")
    print("(sinuosity, step change, reflection distance: |method - truth| of the means, smaller is more physical)")
    rows = []
    for label, r in results.items():
        if label == "Ground truth":
            continue
        m = r["metrics"]
        rec = records.get(label, {})
        minutes = rec.get("minutes")
        rows.append([label, f"{m['l2_missing']['mean']:.4f}", f"{m['l2_missing']['mean'] / linear['l2_missing']['mean']:.3f}",
                     f"{m['squared_error']['mean'] / linear['squared_error']['mean']:.3f}",
                     f"{abs(m['sinuosity']['mean'] - truth['sinuosity']['mean']):.2e}",
                     f"{abs(m['step_change']['mean'] - truth['step_change']['mean']):.2e}",
                     f"{abs(m['reflection_distance']['mean'] - truth['reflection_distance']['mean']):.2e}",
                     "-" if minutes is None else f"{minutes:.1f}",
                     f"{args.n / max(r['impute_seconds'], 1e-9):.0f}"])
    print_table(["method", "L2", "L2 / Linear", "sq. err / Linear", "|sinuosity|", "|step change|", "|reflection|",
                 "train min", "seq/s"], rows)
    print(f"truth: sinuosity {truth['sinuosity']['mean']:.4f}, step change {truth['step_change']['mean']:.2e}, "
          f"reflection distance {truth['reflection_distance']['mean']:.4f}")
    if args.json:
        write_json(args.json, force=args.force, payload={"info": info, "options": options(args), "pypots": pp.pypots_version(),
                               "test_set": {"n": args.n, "seed": TEST_SEED}, "methods": results})
    return 0


# ---------------------------------------------------------------------------
# compare --task court
# ---------------------------------------------------------------------------

COURT_KIT = (("SingleRes", "court-singleres.pt"), ("NAOMI pretrain", "court-naomi-pretrain.pt"),
             ("NAOMI adversarial", "court-naomi-adversarial.pt"))  # the shipped court models (benchmarks/README.md)


def compare_court(args) -> int:
    """The court comparison: each method's mean imputation (ADE), what it hands out (one sample for the
    generative ones, the mean for the others) against the expert on the five court metrics, and best-of-K
    ADE with diversity for the generative ones (NAOMI's, CSDI, the Gaussian conditional)."""
    from court_adversarial import METRICS, diversity, draw_samples, within_30  # same folder
    from data_gen.court import dataset
    from naomi_lite import court_metrics
    from naomi_lite.baselines import GaussianConditional
    from naomi_lite.data import court_test_set
    from naomi_lite.evaluation import court_summary

    device = device_from_args(args)
    if device is None:
        return 2
    info = print_header("NAOMI among today's imputers (PyPOTS) on court plays", device)
    print(f"pypots       {pp.pypots_version() or 'not installed: ' + pp.INSTALL_HINT}")
    x, mask = court_test_set(args.n)  # (N, 50, 10), (N, 50): the court benchmark's plays and masks
    xs, ms = x[: args.samples_n], mask[: args.samples_n]
    missing = (~mask).sum(1)
    print(f"test set     {args.n} plays x {x.shape[1]} steps, seed {TEST_SEED}, paper masks "
          f"({missing.min()}-{missing.max()} missing per play); best of {args.samples} on the first {args.samples_n}")
    train_x = dataset(n_train=N_TRAIN["court"], n_test=0, seed=0)[0]  # the training plays of every method
    gauss = GaussianConditional(train_x)

    # label -> what a method is and does: kind; mean(), its imputation; generative: it hands out samples
    # (scored on one for the five metrics); sample(), one sample per play when it is not the mean itself;
    # samples(), K per play on the first plays; training: how it was trained
    methods = {"Linear": dict(kind="reference", mean=lambda: linear_interpolate(x, mask)),
               "Gaussian cond.": dict(kind="reference", mean=lambda: gauss.impute(x, mask), generative=True,
                                      sample=lambda: gauss.samples(x, mask, 1, seed=0)[:, 0],
                                      samples=lambda: gauss.samples(xs, ms, args.samples, seed=1))}
    for label, name in COURT_KIT:
        path = _find(name, args.checkpoint_dir, CHECKPOINT_DIR)
        if path is None:
            print(f"{label}: {name} not found — skipped (benchmarks/README.md, 'How the shipped court checkpoints were made')")
            continue
        model = naomi_lite.load(path, device)
        methods[label] = dict(kind="kit", mean=lambda model=model: impute_batched(model, x, mask, args.batch_size),
                              generative=True,
                              sample=lambda model=model: impute_batched(model, x, mask, args.batch_size, sample=True, seed=0),
                              samples=lambda model=model: draw_samples(model, xs, ms, args.samples, args.batch_size, 1),
                              training=dict(kind="kit", path=_shown(path), minutes=training_minutes(model.meta),
                                            best_val_l2=model.meta.get("best_val_l2")))
    try:
        found, _ = trained_peers(args, device, "court")
    except pp.PeersUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for method, label, peer, k, record in found:
        methods[label] = dict(kind="peer", mean=lambda peer=peer, k=k: peer.impute(x, mask, n_samples=k), training=record)
        if method == "csdi":  # with k = 1 its imputation *is* one sample: not drawn a second time
            methods[label].update(generative=True, samples=lambda peer=peer: peer.samples(xs, ms, args.samples, seed=1),
                                  sample=(lambda peer=peer: peer.samples(x, mask, 1)[:, 0]) if k > 1 else None)
    missing_peers = [m for m in pp.PEERS if all(m != f[0] for f in found)]
    if missing_peers:
        print(f"not found (train with: python benchmarks/peers.py train METHOD --task court): {', '.join(missing_peers)}")

    expert = court_summary(x)
    results = {}
    for label, m in methods.items():
        start = time.perf_counter()
        mean = np.asarray(m["mean"](), dtype=np.float64)  # (N, T, D)
        seconds = time.perf_counter() - start
        out = np.asarray(m["sample"](), dtype=np.float64) if m.get("sample") else mean
        r = {"kind": m["kind"], "ade_mean": float(court_metrics.ade(mean, x, mask).mean()), "impute_seconds": seconds,
             "handed_out": "one sample" if m.get("generative") else "mean", "metrics": court_summary(out)}
        if m.get("samples"):
            s = m["samples"]()  # (n, K, T, D)
            one = court_metrics.sample_ade(s, xs, ms)  # (n, K)
            r.update(ade_sample=float(one.mean()), best_of_k=float(one.min(axis=1).mean()),
                     diversity=float(diversity(s, ms).mean()))
        r["ade_mean_first"] = float(court_metrics.ade(mean[: args.samples_n], xs, ms).mean())
        if m.get("training"):
            r["training"] = m["training"]
        results[label] = r
    lin, lin_first = results["Linear"]["ade_mean"], results["Linear"]["ade_mean_first"]

    print(f"\n== accuracy: ADE (mean distance per player per missing step; normalized units, x50 for feet) ==")
    print(f"(best of {args.samples} and diversity on the first {args.samples_n} plays; the deterministic methods hand "
          f"out one imputation, so their best of K is their ADE; CSDI's mean is the average of --csdi-samples = "
          f"{args.csdi_samples} of its samples)")
    rows = []
    for label, r in results.items():
        rec = r.get("training", {})
        rows.append([label, f"{r['ade_mean']:.4f}", f"{r['ade_mean'] / lin:.3f}",
                     f"{r['best_of_k'] / lin_first:.3f}" if "best_of_k" in r else f"({r['ade_mean_first'] / lin_first:.3f})",
                     f"{r['best_of_k'] / r['ade_sample']:.3f}" if "best_of_k" in r else "-",
                     f"{50 * r['diversity']:.2f}" if "diversity" in r else "0",
                     "-" if rec.get("minutes") is None else f"{rec['minutes']:.1f}",
                     f"{args.n / max(r['impute_seconds'], 1e-9):.0f}"])
    print_table(["method", "ADE of the mean", "/ Linear", f"best of {args.samples} / Linear", "best / sample",
                 "diversity ft", "train min", "plays/s"], rows)

    print("\n== realism: |median - expert median| of the five court metrics, on what each method hands out "
          "(smaller is closer to the expert) ==")
    rows = []
    for label, r in results.items():
        m = r["metrics"]
        within = r["within_30"] = within_30(m, expert)
        rows.append([label, r["handed_out"]] + [f"{abs(m[k]['median'] - expert[k]['median']):.2e}" for k in METRICS]
                    + [f"{len(within)} of {len(METRICS)}"])
    print_table(["method", "scored on"] + [k.replace("_", " ") for k in METRICS] + ["within 30%"], rows)
    print("expert medians: " + ", ".join(f"{k.replace('_', ' ')} {expert[k]['median']:.3g}" for k in METRICS))
    if args.json:
        write_json(args.json, force=args.force,
                   payload={"info": info, "options": options(args), "pypots": pp.pypots_version(),
                            "test_set": {"n": args.n, "seed": TEST_SEED, "samples_n": args.samples_n,
                                         "samples": args.samples}, "expert": expert, "methods": results})
    return 0


# ---------------------------------------------------------------------------
# all
# ---------------------------------------------------------------------------

def run_all(args) -> int:
    jobs = [[m] for m in KIT_MODELS] + [[m, "--masks", k] for k in pp.MASKS for m in pp.PEERS]
    print(f"training {len(jobs)} methods for {args.minutes:g} min each, one after another "
          f"(about {len(jobs) * args.minutes * 1.2 / 60:.1f} h with validation), then comparing", flush=True)
    for job in jobs:
        cmd = [sys.executable, __file__, "train", *job, "--minutes", f"{args.minutes:g}", "--checkpoint-dir",
               str(args.checkpoint_dir), "--threads", str(args.threads), "--device", args.device]
        if args.force:
            cmd.append("--force")
        start = time.time()
        rc = subprocess.run(cmd, cwd=ROOT).returncode
        print(f"{' '.join(job)}: exit {rc} after {(time.time() - start) / 60:.1f} min", flush=True)
        if rc != 0:
            return rc
    return compare(args)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--checkpoint-dir", type=Path, default=ROOT / "runs" / "peers",
                        help="where trained files go (compare also looks in the shipped folders)")
    common.add_argument("--device", default="auto", help="'auto' (CUDA if available, else CPU), 'cpu' or 'cuda'")
    common.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    t = sub.add_parser("train", parents=[common], help="train one method")
    t.add_argument("method", choices=(*KIT_MODELS, *pp.PEERS))
    t.add_argument("--masks", choices=pp.MASKS, default="test-like", help="peers' training masks")
    t.add_argument("--minutes", type=float, default=20.0, help="the budget")
    t.add_argument("--batch-size", type=int, default=32, help="peers' batch size (PyPOTS's default)")
    t.add_argument("--task", choices=tuple(N_TRAIN), default="billiards", help="the data the peer trains on")
    t.add_argument("--n-train", type=int, default=0,
                   help=f"training sequences (0 = the kit's models' own: {N_TRAIN})")
    t.add_argument("--force", action="store_true", help="replace an existing file")
    c = sub.add_parser("compare", parents=[common], help="score every trained method on the test set")
    c.add_argument("--force", action="store_true", help="replace an existing --json file")
    c.add_argument("--task", choices=tuple(N_TRAIN), default="billiards",
                   help="billiards: the paper's four metrics; court: ADE, best of K and the five court metrics")
    c.add_argument("--samples", type=int, default=20, help="court: K, the samples per play of best-of-K ADE")
    c.add_argument("--samples-n", type=int, default=200,
                   help="court: plays (the first of the test set) for best-of-K ADE and diversity; at most --n")
    a = sub.add_parser("all", parents=[common], help="train every method, then compare")
    a.add_argument("--minutes", type=float, default=20.0, help="the budget of each method")
    a.add_argument("--force", action="store_true", help="replace existing files")
    for q in (c, a):
        q.add_argument("--n", type=int, default=1000, help="test sequences (fresh seed 2019, paper masks)")
        q.add_argument("--batch-size", type=int, default=256, help="sequences per impute call")
        q.add_argument("--csdi-samples", type=int, default=1, help="CSDI samples averaged into its imputation")
        q.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    for name in ("minutes",):
        if hasattr(args, name) and not getattr(args, name) > 0:
            p.error(f"--{name} must be positive")
    for name in ("n", "batch_size", "csdi_samples", "samples_n"):
        if hasattr(args, name) and getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if getattr(args, "samples", 2) < 2:
        p.error("--samples must be at least 2 (diversity compares pairs of samples)")
    if hasattr(args, "samples_n"):
        args.samples_n = min(args.samples_n, args.n)
    check_json(p, args)
    if args.threads < 0:
        p.error("--threads must be >= 0")
    if getattr(args, "n_train", 0) < 0:
        p.error("--n-train must be >= 0 (0 = the kit's own number)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.command == "compare" and args.task == "court":
        return compare_court(args)
    return {"train": train, "compare": compare, "all": run_all}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
