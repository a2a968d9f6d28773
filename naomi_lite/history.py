"""The record of a training run, and reading it back from a checkpoint.

``History`` is what ``naomi_lite.train.train`` (one row per epoch) and
``naomi_lite.adversarial.train_adversarial`` (one row per iteration) return.
``training_history`` joins the histories stored in a checkpoint's ``meta`` across continued runs, and
``training_minutes`` adds up their wall-clock minutes.

Taught in ``05_pretraining.ipynb`` and ``06_adversarial_imitation.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .data import TASKS


@dataclass
class History:
    """One dict per epoch or iteration, and how the run ended."""

    rows: list = field(default_factory=list)
    interrupted: bool = False  # True when Ctrl-C / kill ended the run early (the best state so far is kept)
    diverged: str = ""  # why the run stopped when the loss, weights or validation became NaN or inf (best kept)
    best_epoch: int = 0  # training runs: the epoch whose weights were kept (best validation score)
    pretrain_steps: int = 0  # adversarial runs: discriminator updates before it separated expert from imputed

    def add(self, **row) -> None:
        self.rows.append(row)

    def column(self, key: str) -> list:
        return [r[key] for r in self.rows]


def training_runs(meta: dict) -> list[dict]:
    """The runs of a checkpoint's chain, oldest first: each run's ``meta``, following ``meta["previous"]``
    (the run a continued run started from). Taught in ``06_adversarial_imitation.ipynb``."""
    chain = []
    while meta:
        chain.append(meta)
        meta = meta.get("previous", {})
    return chain[::-1]


def training_history(meta: dict) -> dict:
    """A checkpoint's whole training history, following ``meta["previous"]`` back through continued runs.

    Returns lists ``epoch``, ``phase``, ``loss``, ``val_l2``, ``seconds`` and ``loss_kind``
    (what ``loss`` measured: "squared", "distance" or "nll"), with epochs and seconds counted
    from the first run. A continued run's "init" row (the loaded model evaluated again) is
    dropped. An adversarial run in the chain (``naomi_lite.adversarial``: one row per iteration, no
    validation L2, no ``phases``) adds no rows, only its minutes to the seconds of the runs after it;
    its iterations are in its own ``meta["history"]``. Taught in ``05_pretraining.ipynb``.
    """
    out = {k: [] for k in ("epoch", "phase", "loss", "val_l2", "seconds", "loss_kind")}
    skipped_seconds = 0.0  # minutes of adversarial runs, which have no epochs to list
    for run in training_runs(meta):
        if "phases" not in run:
            skipped_seconds += 60 * float(run.get("minutes", 0.0) or 0.0)
            continue
        h, phases = run["history"], run["phases"]
        tc = run.get("train_config", {})
        # a court run with --deterministic trained a deterministic decoder: its loss is not an NLL
        gaussian = TASKS.get(tc.get("task", "billiards"), {}).get("gaussian", False) and not tc.get("deterministic")
        epoch0 = out["epoch"][-1] if out["epoch"] else 0
        sec0 = (out["seconds"][-1] if out["seconds"] else 0.0) + skipped_seconds
        skipped_seconds = 0.0
        for i, phase in enumerate(phases):
            if phase == "init" and out["epoch"]:
                continue
            out["epoch"].append(epoch0 + h["epoch"][i])
            out["phase"].append(phase)
            out["loss"].append(h["loss"][i])
            out["val_l2"].append(h["val_l2"][i])
            out["seconds"].append(sec0 + h["seconds"][i])
            out["loss_kind"].append(_loss_kind(phase, tc, gaussian))
    return out


def training_minutes(meta: dict) -> float:
    """Minutes of training in all, over every run of the chain ``meta["previous"]`` (a continued run
    records only its own minutes). 0.0 when the meta has none. Taught in ``05_pretraining.ipynb``."""
    return sum(float(run.get("minutes", 0.0) or 0.0) for run in training_runs(meta))


def _loss_kind(phase: str, tc: dict, gaussian: bool) -> str:
    """What a phase's loss measured: "nll" (Gaussian), the free-running loss kind, or "squared"."""
    if gaussian:
        return "variety" if phase == "free-running" and tc.get("fr_loss") == "variety" else "nll"
    if phase == "free-running":
        return tc.get("fr_loss", "squared")
    if phase == "teacher-forced" and tc.get("tf_loss") == "inference":
        return tc.get("fr_loss", "squared")
    return "squared"
