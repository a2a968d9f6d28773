"""Checking and converting what users pass to ``impute`` (the public contract of chapter 03-05).

Users hand us numpy arrays or torch tensors, with NaN at missing steps or an explicit
mask, in float32, float64 or integers, on the CPU or a GPU. Everything is checked up
front so that a mistake meets a message that names it, never a traceback from deep
inside torch and never a silent NaN.

The rules, each with a ValueError or TypeError that names the problem:

* x is (B, T, D) with D = the model's ``dim`` and T >= 2; a numpy array or a torch tensor
  (any device) of integers or floats (float64 comes back as float64, the rest as float32);
* without a mask, a step whose D values are all NaN is missing; a partly NaN step or an
  inf anywhere is an error;
* a mask is (B, T), boolean or holding only 0 and 1; observed steps must be finite;
* a row with no observed step is an error (there is no fallback: NAOMI would have
  nothing to condition on, so we refuse rather than invent values);
* an empty batch (B = 0) is fine and gives an empty result of the same type.

Taught in ``03_encoders.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Prepared:
    """Validated input on the model's device, plus what is needed to hand the result back."""

    x: torch.Tensor  # (B, T, D) float32, zeros at missing steps
    mask: torch.Tensor  # (B, T) bool, True = observed
    original: torch.Tensor  # the user's values, untouched, to copy observed steps back exactly
    was_numpy: bool
    dtype: torch.dtype  # dtype to return (float64 stays float64, everything else float32)


def _to_tensor(a, name: str) -> tuple[torch.Tensor, bool]:
    if isinstance(a, torch.Tensor):
        return a.detach(), False
    if isinstance(a, np.ndarray):
        if a.dtype.kind not in "biufc":  # bool, int, unsigned, float, complex; not str, object, datetime
            raise TypeError(f"{name} must be a numeric array, got dtype={a.dtype}")
        return torch.from_numpy(np.ascontiguousarray(a)), True
    raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(a).__name__}")


def prepare(x, mask, *, dim: int, device: torch.device) -> Prepared:
    """Validate x (B, T, D) and mask (B, T) and move them to ``device`` as float32 / bool."""
    xt, was_numpy = _to_tensor(x, "x")
    if xt.ndim != 3:
        hint = " (for one sequence of shape (T, D), pass x[None])" if xt.ndim == 2 else ""
        raise ValueError(f"x must have shape (B, T, D), got shape {tuple(xt.shape)}{hint}")
    B, T, D = xt.shape
    if D != dim:
        raise ValueError(f"x has {D} values per step but the model was built for dim={dim}")
    if T < 2:
        raise ValueError(f"sequences need at least T=2 steps, got T={T}")
    if xt.dtype == torch.bool or xt.is_complex():
        raise TypeError(f"x must hold real numbers, got dtype {xt.dtype}")
    out_dtype = torch.float64 if xt.dtype == torch.float64 else torch.float32
    xf = xt.to(torch.float32)
    finite = torch.isfinite(xf)  # (B, T, D)
    if mask is None:
        inf = torch.isinf(xf)
        if bool(inf.any()):
            b, t, _ = inf.nonzero()[0].tolist()
            raise ValueError(f"x[{b}, {t}] holds inf: only NaN marks a missing step (or pass a mask)")
        observed = finite.all(-1)  # (B, T)
        partial = finite.any(-1) & ~observed
        if bool(partial.any()):
            b, t = partial.nonzero()[0].tolist()
            raise ValueError(f"x[{b}, {t}] is partly NaN: mark a step missing by making all {D} values NaN, or pass a mask")
    else:
        mt, _ = _to_tensor(mask, "mask")
        if tuple(mt.shape) != (B, T):
            raise ValueError(f"mask must have shape (B, T) = {(B, T)} to match x, got {tuple(mt.shape)}")
        if mt.dtype != torch.bool:
            if mt.is_complex() or not bool(((mt == 0) | (mt == 1)).all()):
                raise ValueError("mask must be boolean, or hold only 0 and 1 (1 = observed)")
            mt = mt != 0
        observed = mt.to(xf.device)
        bad = observed.unsqueeze(-1) & ~finite
        if bool(bad.any()):
            b, t, _ = bad.nonzero()[0].tolist()
            raise ValueError(f"x[{b}, {t}] is marked observed but holds NaN or inf")
    if B and not bool(observed.any(1).all()):
        b = int((~observed.any(1)).nonzero()[0])
        raise ValueError(f"row {b} has no observed step: NAOMI needs at least one known value per sequence")
    xf = torch.where(observed.unsqueeze(-1), xf, torch.zeros_like(xf))
    return Prepared(xf.to(device), observed.to(device), xt, was_numpy, out_dtype)


def finish(result: torch.Tensor, prep: Prepared):
    """Hand the result back as the user's type: numpy in -> numpy out, tensor in -> tensor on its device."""
    original = prep.original
    out = result.detach().to(device=original.device, dtype=prep.dtype)  # (B, T, D)
    observed = prep.mask.to(original.device).unsqueeze(-1)  # (B, T, 1)
    out = torch.where(observed, original.to(prep.dtype), out)  # observed steps exactly as given
    return out.numpy() if prep.was_numpy else out
