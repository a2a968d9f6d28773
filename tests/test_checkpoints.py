"""Checkpoints: round trip, weights_only safety, clear errors for bad files."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import naomi_lite
from naomi_lite import NAOMI, NAOMIConfig, SingleRes, load, load_pretrained
from naomi_lite.checkpoints import CheckpointError, pretrained_names, save


def tiny(cls=NAOMI):
    torch.manual_seed(0)
    return cls(hidden=8, decoder_hidden=8, **({"highest": 4} if cls is NAOMI else {}))


def test_round_trip_gives_identical_imputations(tmp_path):
    model = tiny()
    path = tmp_path / "m.pt"
    save(model, path)
    again = load(path, device="cpu")
    assert again.config == model.config
    x = np.random.default_rng(0).normal(size=(2, 20, 2)).astype(np.float32)
    mask = np.random.default_rng(1).random((2, 20)) < 0.3
    mask[:, 0] = True
    np.testing.assert_array_equal(model.impute(x, mask), again.impute(x, mask))


class Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED_BY_CHECKPOINT",))


def test_pickled_callable_is_refused_and_never_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"kit": "naomi_lite", "version": naomi_lite.__version__, "config": {}, "state_dict": {}, "x": Boom()}, path)
    with pytest.raises(CheckpointError, match="refused"):
        load(path)
    assert not (tmp_path / "PWNED_BY_CHECKPOINT").exists()


def test_truncated_file_is_reported(tmp_path):
    path = tmp_path / "m.pt"
    save(tiny(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load(path)


@pytest.mark.parametrize("content", [b"hello\n", b"garbage", b""])
def test_non_checkpoint_files_are_reported(tmp_path, content):
    path = tmp_path / "t.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load(path)


def test_foreign_file_and_mismatches_are_named(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(CheckpointError, match="not a naomi_lite checkpoint"):
        load(other)
    path = tmp_path / "m.pt"
    save(tiny(), path)
    payload = torch.load(path, weights_only=True)
    payload["version"] = "9.9.0"
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="9.9.0"):
        load(path)
    payload["version"] = naomi_lite.__version__
    payload["state_dict"] = tiny(SingleRes).state_dict()
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="does not match"):
        load(path)
    payload["config"] = {**payload["config"], "layers_typo": 3}
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="layers_typo"):
        load(path)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.pt")


def test_unknown_pretrained_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="available"):
        load_pretrained("no-such-model")


@pytest.mark.parametrize("name", ["billiards-naomi", "billiards-singleres", "billiards-rnn"])
def test_shipped_checkpoints_load_and_impute(name):
    if name not in pretrained_names():
        pytest.fail(f"shipped checkpoint {name} is missing from naomi_lite/checkpoints")
    model = load_pretrained(name, device="cpu")
    assert "command" in model.meta and "minutes" in model.meta
    x = np.zeros((1, 200, 2), np.float32)
    mask = np.zeros((1, 200), bool)
    mask[0, ::20] = True
    assert np.isfinite(model.impute(x, mask)).all()


def test_shipped_checkpoints_are_small():
    total = sum(p.stat().st_size for p in naomi_lite.paths.CHECKPOINT_DIR.rglob("*.pt"))  # the PyPOTS peers too
    assert total < 10 * 2**20, f"shipped checkpoints take {total / 2**20:.1f} MB"
