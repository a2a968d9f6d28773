"""Adversarial refinement of the shipped court NAOMI: writes ``court-naomi-adversarial.pt``.

Loads the pretrained Gaussian NAOMI (``naomi_lite/checkpoints/court-naomi-pretrain.pt``;
since session 10 the kit's mean-first recipe: ``python -m naomi_lite.train --task court
--deterministic ...``, then ``--gaussian-heads 0.02 --fr-loss variety``, then ``--variety-k 20``;
benchmarks/README.md, "How the shipped court checkpoints were made"), refines it by
adversarial imitation (paper §3.4, Eqn 5; ``naomi_lite.adversarial.train_adversarial``)
on the same 10,000 training plays (``data_gen.court.dataset(seed=0)``), and saves it
with ``naomi_lite.checkpoints.save``.

The discriminator. ``naomi_lite.adversarial.Discriminator`` reads positions only. On the
court data its GRU takes long to notice what gives the pretrained samples away (they
zig-zag: their step sizes change about 13 times more than real ones), and meanwhile the
generator exploits whatever the half-trained critic rewards: in our runs with it the
imputed paths grew longer and more jagged on every check (validation medians of the
trajectory length 2.3 -> 5.4, expert 0.68; see benchmarks/README.md). So by default this
script (like ``train_adversarial`` itself) uses ``naomi_lite.adversarial.StepDiscriminator``:
the same GRU discriminator, fed each position together with its step from the previous
position (scaled by ``--step-scale``, ``AdversarialConfig.step_scale``). It still scores D(s_t, x_{t+1}), since the step
x_{t+1} - x_t is a function of the state and the action. ``--step-scale 0`` uses the
package's positions-only discriminator. The checkpoint's ``meta`` holds the command,
the wall time, the ``AdversarialConfig``, the per-iteration history (p_expert,
p_model, d_loss, g_loss, g_updated: chapter 06 plots it), the pretrained checkpoint's
own meta, and the Figure 6 metrics on the *validation* plays (seed 0's held-out
split, never the benchmark's seed-2019 test set) before and after refinement.

Usage::

    python benchmarks/train_court_adversarial.py --threads 1 --iterations 350 --variety-weight 20   # the shipped run
    python benchmarks/train_court_adversarial.py --iterations 20 --out /tmp/adv.pt   # a quick try
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import torch

import naomi_lite
from naomi_lite import court_metrics
from naomi_lite.adversarial import AdversarialConfig, train_adversarial
from naomi_lite.checkpoints import save
from naomi_lite.masks import paper_mask
from naomi_lite.paths import CHECKPOINT_DIR
from naomi_lite.data import task_data


def validation_medians(model, x: np.ndarray, mask: np.ndarray, seed: int = 0) -> dict:
    """Median of each court metric over one sample per validation play."""
    gen = torch.Generator(device=model.device).manual_seed(seed)
    pred = model.impute(x, mask, sample=True, generator=gen)
    return {k: float(np.median(v)) for k, v in court_metrics.court_metrics(pred).items()}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--init", type=Path, default=CHECKPOINT_DIR / "court-naomi-pretrain.pt",
                   help="pretrained Gaussian NAOMI checkpoint to refine")
    p.add_argument("--out", type=Path, default=CHECKPOINT_DIR / "court-naomi-adversarial.pt", help="checkpoint to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    p.add_argument("--n-train", type=int, default=10_000, help="training plays (data_gen.court.dataset(seed=0))")
    p.add_argument("--n-val", type=int, default=500, help="validation plays for the before/after metrics in meta")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    defaults = AdversarialConfig()
    for f in fields(AdversarialConfig):
        if f.name in ("missing", "progress"):
            continue
        value = getattr(defaults, f.name)
        p.add_argument("--" + f.name.replace("_", "-"), type=type(value), default=value,
                       help=f"AdversarialConfig.{f.name}")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=False, help="tqdm progress bars")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from naomi_lite.paths import OutputError, check_output

    try:  # a folder, a path under a file, a read-only folder, or an existing file without --force
        check_output(args.out, force=args.force)
    except OutputError as err:
        print(f"error: argument --out: {err}", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = AdversarialConfig(**{f.name: getattr(args, f.name) for f in fields(AdversarialConfig) if f.name != "missing"})
    start = time.time()
    model = naomi_lite.load(args.init, device=cfg.device)
    pretrain_meta = getattr(model, "meta", {})
    train_x, val_x = task_data("court", args.n_train, args.n_val, seed=0)  # (N, 50, 10) each; the pretraining's plays
    val_mask = paper_mask(len(val_x), val_x.shape[1], cfg.missing, seed=1)  # as the trainer's validation masks
    before = validation_medians(model, val_x, val_mask)
    naomi_lite.set_seed(cfg.seed)  # the discriminator's initial weights
    model, _, history = train_adversarial(model, train_x, cfg)  # StepDiscriminator unless --step-scale 0
    minutes = (time.time() - start) / 60
    after = validation_medians(model, val_x, val_mask)
    expert = {k: float(np.median(v)) for k, v in court_metrics.court_metrics(val_x).items()}
    meta = {"command": "python benchmarks/train_court_adversarial.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "minutes": round(minutes, 1), "init": str(args.init), "n_train": args.n_train,
            "adversarial_config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()},
            "discriminator": (f"StepDiscriminator(step_scale={cfg.step_scale})" if cfg.step_scale
                              else "naomi_lite.adversarial.Discriminator"),
            "history": {k: history.column(k) for k in ("iteration", "p_expert", "p_model", "d_loss", "g_loss", "g_updated")},
            "validation_medians": {"expert": expert, "before": before, "after": after, "n": len(val_x)},
            "previous": pretrain_meta}
    save(model, args.out, meta, overwrite=args.force)  # without --force, never replaces a file that appeared meanwhile
    print(f"wrote {args.out} after {minutes:.1f} min; generator updated in "
          f"{sum(history.column('g_updated'))} of {len(history.rows)} iterations")
    print(f"{'validation median':20s} {'expert':>10s} {'before':>10s} {'after':>10s}")
    for k in expert:
        print(f"{k:20s} {expert[k]:10.4g} {before[k]:10.4g} {after[k]:10.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
