"""Configuration dataclasses: every default of the model and the trainer lives here.

The model follows the paper's §4 "Model details": 2-layer GRU encoders and a
multiresolution decoder made of 2-layer fully connected heads, one per step size.

Taught in ``03_encoders.ipynb`` (model config) and ``05_pretraining.ipynb`` (training config).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .masks import check_highest

MODEL_KINDS = ("naomi", "singleres", "rnn")
DECODER_BASES = ("none", "linear")


@dataclass
class NAOMIConfig:
    """Shape of a NAOMI, SingleRes or autoregressive-RNN model."""

    model: str = "naomi"      # "naomi", "singleres" (BRITS-like, fills left to right) or "rnn" (forward only)
    dim: int = 2              # D, values per time step (2 for billiards, 10 for the five-player court)
    hidden: int = 200         # H, hidden size of each GRU layer
    layers: int = 2           # GRU layers in each encoder (paper §4: 2)
    decoder_hidden: int = 200 # width of each decoder head's hidden layer
    highest: int | None = None  # coarsest decoder step size, a power of two (None: 64 for NAOMI, 1 for SingleRes and the RNN)
    gaussian: bool = False    # False: heads output the mean; True: mean and softplus std (stochastic data)
    min_std: float = 1e-3     # floor added to the softplus std in Gaussian mode
    decoder_base: str = "none"  # heads output positions ("none", the paper) or a correction to the line between the pivots ("linear", kit's extension)
    backward_gap: bool = False  # kit's extension: the backward encoder also reads the steps to the next known step
    shared_heads: bool = False  # kit's extension: one head g for every step size, told s by a one-hot input (paper: one g^(s) each)

    def __post_init__(self) -> None:
        if self.model not in MODEL_KINDS:
            raise ValueError(f"model must be one of {MODEL_KINDS}, got {self.model!r}")
        for name in ("dim", "hidden", "layers", "decoder_hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.highest is None:
            self.highest = 64 if self.model == "naomi" else 1
        self.highest = check_highest(self.highest)
        if self.model != "naomi" and self.highest != 1:
            # SingleRes is NAOMI whose decoder has the finest resolution only; the RNN has one head.
            raise ValueError(f"a {self.model} model has one decoder head (highest=1), got highest={self.highest}")
        if self.shared_heads and self.model != "naomi":
            raise ValueError(f"shared_heads shares one head among NAOMI's step sizes; a {self.model} model has one head")
        if self.decoder_base not in DECODER_BASES:
            raise ValueError(f"decoder_base must be one of {DECODER_BASES}, got {self.decoder_base!r}")
        if not self.min_std > 0:
            raise ValueError(f"min_std must be positive, got {self.min_std!r}")

    @property
    def levels(self) -> int:
        """Number of decoder heads: step sizes 1, 2, 4, ..., highest."""
        return self.highest.bit_length()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "NAOMIConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown NAOMIConfig fields {unknown}; this kit knows {sorted(known)}")
        return cls(**d)
