"""naomi_lite: a small, readable PyTorch implementation of NAOMI for teaching.

NAOMI (Liu, Yu, Zheng, Zhan, Yue; NeurIPS 2019) fills in missing steps of
spatiotemporal trajectories coarse to fine. The notebooks in ``notebooks/`` teach
this package chapter by chapter.
"""
__version__ = "0.2.0"

from .runtime import get_device, set_seed  # noqa: E402,F401
from .config import NAOMIConfig  # noqa: E402,F401
from .model import NAOMI, AutoregressiveRNN, SingleRes  # noqa: E402,F401
from .checkpoints import load, load_pretrained  # noqa: E402,F401
