"""Checking the papermill parameters of the chapters.

Every chapter has a cell tagged ``parameters``; papermill (and ``scripts/run_course.py``)
replaces its values, for example ``-p pattern gap``. The first code cell after it checks
every value with the functions below, so that a bad value stops the chapter at once, with
a ``ValueError`` that names the parameter, shows the value it got and lists the values it
accepts, instead of failing minutes later deep inside a training loop.

Used by the first code cell after the ``parameters`` cell of ``01_billiards.ipynb``,
``02_masking.ipynb``, ``03_encoders.ipynb``, ``04_multiresolution_decoder.ipynb``,
``05_pretraining.ipynb`` and ``06_adversarial_imitation.ipynb``.
"""
from __future__ import annotations

import re

#: Values every chapter's ``device`` parameter accepts ("cuda:N" for any N = 0, 1, ...).
DEVICES = ("auto", "cpu", "cuda", "cuda:N")
#: Largest ``seed``: chapters also use ``seed + 1`` and NumPy's legacy seeding needs < 2**32.
MAX_SEED = 2**31 - 2


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(name: str, value, lo: int, hi: int | None = None) -> int:
    """``value`` if it is an integer with lo <= value <= hi (no upper bound when ``hi`` is None).

    Booleans and floats such as ``10.0`` are refused: papermill passes ``-p n 10`` as an int.
    Used by chapters 01-06.
    """
    allowed = f"an integer from {lo} to {hi}" if hi is not None else f"an integer >= {lo}"
    if not _is_int(value) or value < lo or (hi is not None and value > hi):
        raise ValueError(f"parameter {name} must be {allowed}, got {value!r}")
    return value


def check_choice(name: str, value, allowed):
    """``value`` if it is one of ``allowed`` (same type and value: ``True`` is not ``1``, ``"8"`` not ``8``).

    Used by ``02_masking.ipynb`` (``pattern``) and ``04_multiresolution_decoder.ipynb`` (``highest``).
    """
    allowed = list(allowed)
    if not any(type(value) is type(a) and value == a for a in allowed):
        raise ValueError(f"parameter {name} must be one of {allowed}, got {value!r}")
    return value


def check_bool(name: str, value) -> bool:
    """``value`` if it is ``True`` or ``False`` (not 0/1, not the string "True").

    Papermill turns ``-p train_from_scratch True`` into the boolean. Used by chapters 04-06.
    """
    if not isinstance(value, bool):
        raise ValueError(f"parameter {name} must be one of [True, False], got {value!r}")
    return value


def check_power_of_two(name: str, value, lo: int = 1, hi: int = 64) -> int:
    """``value`` if it is a power of two from ``lo`` to ``hi`` (the decoder's ``highest``).

    Used by ``02_masking.ipynb`` and ``04_multiresolution_decoder.ipynb``.
    """
    allowed = [2**i for i in range(hi.bit_length()) if lo <= 2**i <= hi]
    return check_choice(name, value, allowed)


def check_device(name: str, value) -> str:
    """``value`` if it names a device: "auto" (CUDA if available), "cpu", "cuda" or "cuda:N".

    Only the spelling is checked here; ``naomi_lite.get_device`` then says whether CUDA is
    there. Used by chapters 03-06.
    """
    if not isinstance(value, str) or not (value in DEVICES[:3] or re.fullmatch(r"cuda:\d+", value)):
        raise ValueError(f"parameter {name} must be one of {list(DEVICES)} (N = 0, 1, ...), got {value!r}")
    return value
