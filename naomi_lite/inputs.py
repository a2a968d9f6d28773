"""Checking and converting what users pass to ``impute`` (the public contract of chapter 03-05).

Users hand us numpy arrays or torch tensors, with NaN at missing steps or an explicit
mask, in float32, float64 or integers, on the CPU or a GPU. Everything is checked up
front so that a mistake meets a message that names it, never a traceback from deep
inside torch and never a silent NaN.

The rules, each with a ValueError or TypeError that names the problem:

* x is (B, T, D) with D = the model's ``dim`` and T >= 2; a numpy array or a torch tensor
  (any device but ``meta``, which holds no values) of integers or floats;
* the result is float64 for float64 and for integers wider than 16 bits (float32 holds
  integers only up to 2^24 exactly), float32 for the rest, so observed values always come
  back exactly; integers beyond 2^53, which no float holds exactly, are an error;
* the model computes in float32: an observed value beyond its range (about 3.4e38) is an
  error that says so;
* without a mask, a step whose D values are all NaN is missing; a partly NaN step or an
  inf anywhere is an error;
* a numpy masked array counts its masked entries as missing (like NaN), with or without
  a mask: a masked step that the mask marks observed is an error;
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
    dtype: torch.dtype  # dtype to return (see result_dtype)


FLOAT32_MAX = float(torch.finfo(torch.float32).max)
EXACT_IN_FLOAT64 = 2**53  # the largest integer up to which every integer is a float64


def result_dtype(dtype) -> torch.dtype:
    """The float dtype ``impute`` returns for input of ``dtype`` (torch or numpy): one that holds
    every value of that dtype exactly (up to 2^53), so observed steps come back unchanged."""
    if isinstance(dtype, torch.dtype):
        wide = dtype in (torch.float64, torch.int32, torch.int64, torch.uint32, torch.uint64)
    else:
        dtype = np.dtype(dtype)
        wide = dtype == np.float64 or (dtype.kind in "iu" and dtype.itemsize >= 4)
    return torch.float64 if wide else torch.float32


def _to_tensor(a, name: str) -> tuple[torch.Tensor, bool]:
    if isinstance(a, torch.Tensor):
        if a.device.type == "meta":
            raise ValueError(f"{name} is on the meta device, which holds shapes but no values: pass real data")
        if a.dtype in (torch.uint32, torch.uint64):  # torch has few operations for these
            a = a.to(torch.float64)
        return a.detach(), False
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError(f"{name} is a numpy masked array: pass it as x (masked = missing), or a plain boolean mask")
    if isinstance(a, np.ndarray):
        if a.dtype.kind not in "biufc":  # bool, int, unsigned, float, complex; not str, object, datetime
            raise TypeError(f"{name} must be a numeric array, got dtype={a.dtype}")
        if a.dtype.kind == "u" and a.dtype.itemsize >= 4:  # torch has few operations for uint32/64
            if a.size and a.max() > EXACT_IN_FLOAT64:
                raise ValueError(f"{name} holds an integer beyond 2^53, which no float holds exactly; scale the data down first")
            a = a.astype(np.int64)
        return torch.from_numpy(np.ascontiguousarray(a)), True
    raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(a).__name__}")


def prepare(x, mask, *, dim: int, device: torch.device) -> Prepared:
    """Validate x (B, T, D) and mask (B, T) and move them to ``device`` as float32 / bool."""
    if torch.device(device).type == "meta":
        raise ValueError("the model is on the meta device, which holds no weights: load or build it on 'cpu' or 'cuda'")
    masked = None  # (B, T, D) bool: entries a numpy masked array hides
    if isinstance(x, np.ma.MaskedArray):
        masked = np.ma.getmaskarray(x)
        out_dtype = result_dtype(x.dtype) if x.dtype.kind in "biuf" else None
        x = _masked_to_nan(x)
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
    if masked is None:
        out_dtype = result_dtype(xt.dtype)
    huge = (xt > EXACT_IN_FLOAT64) | (xt < -EXACT_IN_FLOAT64) if xt.dtype == torch.int64 else None
    if huge is not None and bool(huge.any()):
        b, t, _ = huge.nonzero()[0].tolist()
        raise ValueError(f"x[{b}, {t}] holds an integer beyond 2^53, which no float holds exactly; "
                         f"scale the data down first")
    xf = xt.to(torch.float32)
    finite = torch.isfinite(xf)  # (B, T, D)
    overflow = torch.isfinite(xt) & ~finite  # finite as given, but beyond float32's range
    if mask is None:
        if bool(overflow.any()):
            _too_large(xt, overflow)
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
        if bool((observed.unsqueeze(-1) & overflow).any()):
            _too_large(xt, observed.unsqueeze(-1) & overflow)
        bad = observed.unsqueeze(-1) & ~finite
        if bool(bad.any()):
            b, t, d = bad.nonzero()[0].tolist()
            if masked is not None and masked[b, t, d]:
                raise ValueError(f"x[{b}, {t}] is masked (numpy masked array) but the mask marks it observed")
            raise ValueError(f"x[{b}, {t}] is marked observed but holds NaN or inf")
    if B and not bool(observed.any(1).all()):
        b = int((~observed.any(1)).nonzero()[0])
        raise ValueError(f"row {b} has no observed step: NAOMI needs at least one known value per sequence")
    xf = torch.where(observed.unsqueeze(-1), xf, torch.zeros_like(xf))
    return Prepared(xf.to(device), observed.to(device), xt, was_numpy, out_dtype)


def _masked_to_nan(x: np.ma.MaskedArray) -> np.ndarray:
    """A masked array as a plain float array with NaN at the masked entries (ints become float64, exactly)."""
    if x.dtype.kind not in "biuf":
        raise TypeError(f"x must be a numeric array, got dtype={x.dtype}")
    if x.dtype.kind == "b":
        raise TypeError(f"x must hold real numbers, got dtype {x.dtype}")
    if x.dtype.kind in "iu" and bool(((x.data > EXACT_IN_FLOAT64) | (x.data < -EXACT_IN_FLOAT64)).any()):
        raise ValueError("x holds an integer beyond 2^53, which no float holds exactly; scale the data down first")
    data = np.array(x.data, dtype=x.dtype if x.dtype.kind == "f" else np.float64)
    data[np.ma.getmaskarray(x)] = np.nan
    return data


def _too_large(xt: torch.Tensor, where: torch.Tensor) -> None:
    b, t, d = where.nonzero()[0].tolist()
    raise ValueError(f"x[{b}, {t}] holds {float(xt[b, t, d]):.3g}, too large for the model's float32 "
                     f"(largest {FLOAT32_MAX:.3g}): scale the data down first")


def check_generator(generator, device) -> None:
    """Check ``impute``'s ``generator``: None or a ``torch.Generator`` on the model's device type."""
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator (e.g. torch.Generator().manual_seed(0)) or None, "
                        f"got {type(generator).__name__}")
    if generator.device.type != torch.device(device).type:
        raise ValueError(f"generator is on {generator.device.type} but the model is on {torch.device(device).type}: "
                         f"create it with torch.Generator(device=model.device)")


def finish(result: torch.Tensor, prep: Prepared):
    """Hand the result back as the user's type: numpy in -> numpy out, tensor in -> tensor on its device."""
    original = prep.original
    out = result.detach().to(device=original.device, dtype=prep.dtype)  # (B, T, D)
    observed = prep.mask.to(original.device).unsqueeze(-1)  # (B, T, 1)
    out = torch.where(observed, original.to(prep.dtype), out)  # observed steps exactly as given
    return out.numpy() if prep.was_numpy else out
