"""Determinism on the CPU (issue 6, "Hardening"; what holds on a GPU: docs/DETERMINISM.md).

* The same seed gives bit-identical data, in this process and in a fresh one, whatever
  the global random state was before.
* The same seed gives identical training losses and identical weights (teacher-forced,
  free-running and adversarial training).
* The chapters seed everything they draw, and a chapter prints the same numbers when rerun.

``test_billiards.py``, ``test_court.py``, ``test_masks.py`` and ``test_train.py`` already
check same-seed equality within one process; these tests add fresh processes, disturbed
global state, whole training runs and the notebooks.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest
import torch

from conftest import NOTEBOOKS, REPO_ROOT, tiny_model

FINGERPRINT = """
import hashlib
import numpy as np
from data_gen import billiards, court
from naomi_lite.masks import MASK_PATTERNS

def fingerprint():
    h = hashlib.sha256()
    for a in (*billiards.dataset(6, 3, seed=3, T=40), *court.dataset(5, 2, seed=3, T=20)):
        h.update(a.tobytes())
    for name in sorted(MASK_PATTERNS):
        h.update(MASK_PATTERNS[name](8, 200, seed=3).tobytes())
    return h.hexdigest()
"""


def _disturb_global_random_state():
    random.random()
    np.random.rand(3)
    torch.rand(3)


def test_generated_data_is_bit_identical_across_processes():
    scope: dict = {}
    exec(FINGERPRINT, scope)
    here = scope["fingerprint"]()
    _disturb_global_random_state()
    assert scope["fingerprint"]() == here
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=str(REPO_ROOT))
    other = subprocess.run([sys.executable, "-c", FINGERPRINT + "\nprint(fingerprint())"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() == here


def _state_digest(model) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode() + tensor.detach().cpu().numpy().tobytes())
    return h.hexdigest()


def test_training_gives_identical_losses_and_weights():
    from naomi_lite.train import TrainConfig, train

    cfg = dict(task="court", hidden=8, decoder_hidden=8, highest=8, n_train=48, n_val=16, tf_epochs=1, fr_epochs=1,
               batch_size=16, progress=False, verbose=False, device="cpu")
    runs = []
    for _ in range(2):
        model, history = train(TrainConfig(**cfg))
        runs.append((history.column("loss")[1:], history.column("val_l2"), _state_digest(model)))
        _disturb_global_random_state()
    assert runs[0] == runs[1]


def test_adversarial_training_gives_identical_history_and_weights():
    from data_gen import court
    from naomi_lite.adversarial import AdversarialConfig, train_adversarial

    plays = court.simulate(16, T=20, seed=0)
    cfg = AdversarialConfig(disc_hidden=8, iterations=3, d_pretrain_steps=2, d_steps=1, batch_size=8, missing=(10, 15),
                            device="cpu", progress=False)
    runs = []
    for _ in range(2):
        model, disc, history = train_adversarial(tiny_model(gaussian=True, dim=10), plays, cfg)
        runs.append((history.rows, history.pretrain_steps, _state_digest(model), _state_digest(disc)))
        _disturb_global_random_state()
    assert runs[0] == runs[1]


def test_imputation_is_bit_identical_when_repeated():
    x = np.random.default_rng(0).normal(size=(4, 30, 2)).astype(np.float32)
    mask = np.random.default_rng(1).random((4, 30)) < 0.3
    mask[:, 0] = True
    for kind in ("naomi", "singleres", "rnn"):
        model = tiny_model(kind)
        first = model.impute(x, mask)
        _disturb_global_random_state()
        np.testing.assert_array_equal(model.impute(x, mask), first)


# --- the chapters -------------------------------------------------------------------------------------

UNSEEDED = [
    r"np\.random\.(rand|randn|random|randint|choice|shuffle|permutation|normal|uniform|seed)\(",
    r"default_rng\(\s*\)",
    r"(?<![\w.])random\.(random|choice|shuffle|randint|sample|uniform)\(",
    r"torch\.Generator\([^)]*\)(?!\.manual_seed)",
    r"torch\.seed\(\)",
]


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("0[0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_a_chapter_seeds_everything_it_draws(path):
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    i = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    assert "naomi_lite.set_seed(seed)" in cells[i + 1].source, "the cell after parameters should seed everything"
    for cell in cells:
        for pattern in UNSEEDED:
            found = re.search(pattern, cell.source)
            assert not found, f"unseeded random draw {found.group(0)!r} in:\n{cell.source[:300]}"


def _printed(path) -> list[str]:
    """Everything each code cell printed (stream and text/plain outputs), one string per cell.

    A cell's outputs are joined: how the kernel splits one cell's stream into output items depends on
    timing (two prints may arrive as one item or two), so only the joined text is reproducible.
    """
    out = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            out.append("".join(o.get("text") or o.get("data", {}).get("text/plain", "")
                               for o in cell.get("outputs", [])))
    return out


def test_a_chapter_prints_the_same_numbers_on_a_rerun(tmp_path):
    runs = []
    for k in range(2):
        out = tmp_path / f"01_{k}.ipynb"
        done = subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOKS / "01_billiards.ipynb"), str(out),
                               "--cwd", str(NOTEBOOKS), "--execution-timeout", "300"],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        runs.append(_printed(out))
    assert any(re.search(r"\d\.\d", text) for text in runs[0]), "the chapter should print numbers"
    assert runs[0] == runs[1]
