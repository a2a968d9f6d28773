"""Shared helpers for the hardening tests (bad input, properties, determinism, CLIs, browser).

Kept small on purpose: the older test files build their own tiny models and do not
depend on anything here.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from naomi_lite import NAOMIConfig
from naomi_lite.model import build_model

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO_ROOT / "notebooks"

#: Where to run device-dependent checks: the CPU always, CUDA when this machine has it.
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def tiny_model(kind: str = "naomi", *, highest: int = 4, gaussian: bool = False, dim: int = 2, seed: int = 0):
    """A small untrained model (hidden 8), the same weights for the same arguments."""
    torch.manual_seed(seed)
    return build_model(NAOMIConfig(model=kind, dim=dim, hidden=8, decoder_hidden=8,
                                   highest=highest if kind == "naomi" else None,
                                   gaussian=gaussian)).eval()


@pytest.fixture
def tiny():
    """The :func:`tiny_model` factory, as a fixture."""
    return tiny_model
