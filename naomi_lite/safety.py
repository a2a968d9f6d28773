"""Keeping a training run's work when it goes wrong: divergence checks and a safe last write.

A run that diverges (the loss or the weights become NaN or inf, or the validation score is
not finite) stops with :class:`Diverged`; the trainer then keeps its best epoch so far, as it
does when Ctrl-C or ``kill -TERM`` stops it, and the command line writes that epoch. The
guarantees are listed in ``docs/RELIABILITY.md``.

Taught in ``05_pretraining.ipynb`` (training) through ``naomi_lite.train``.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import torch


class Diverged(ArithmeticError):
    """Training produced NaN or inf: the message says where (loss, weights or validation) and when."""


def check_loss(value: float, epoch: int, phase: str) -> None:
    """Raise :class:`Diverged` if a batch's training loss is not finite."""
    if not math.isfinite(value):
        raise Diverged(f"the {phase} training loss became {value} in epoch {epoch}")


def check_weights(model: torch.nn.Module, epoch: int) -> None:
    """Raise :class:`Diverged` if any weight of ``model`` is NaN or inf."""
    for name, p in model.named_parameters():
        if not bool(torch.isfinite(p).all()):
            raise Diverged(f"weight {name!r} became NaN or inf in epoch {epoch}")


def check_validation(value: float, epoch: int) -> None:
    """Raise :class:`Diverged` if the validation score is not finite."""
    if not math.isfinite(value):
        raise Diverged(f"the validation L2 became {value} in epoch {epoch}")


def evaluate_or_diverge(evaluate, epoch: int) -> float:
    """``evaluate()``, with the metrics' refusal of NaN or inf imputations turned into :class:`Diverged`:
    weights can stay finite while the imputations they produce overflow."""
    try:
        value = evaluate()
    except ValueError as err:
        if "NaN or inf" not in str(err):
            raise
        raise Diverged(f"the validation imputations became NaN or inf in epoch {epoch}") from err
    check_validation(value, epoch)
    return value


def rescue_path(path) -> Path:
    """A free name beside ``path`` (``m.pt`` -> ``m.rescued-<pid>.pt``) for a result that must not be lost
    when ``path`` itself may not be replaced."""
    path = Path(path)
    candidate = path.with_name(f"{path.stem}.rescued-{os.getpid()}{path.suffix}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}.rescued-{os.getpid()}-{n}{path.suffix}")
        n += 1
    return candidate
