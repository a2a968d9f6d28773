"""Command lines: bad arguments exit 2 with a one-line reason, nothing is overwritten without
--force, and writes are atomic (issue 6, "Hardening").

The CLIs run in-process here (``main(argv)``), which is quick; ``test_billiards.py``,
``test_court.py`` and ``test_train.py`` already run them once each as real subprocesses.
"""
from __future__ import annotations

import subprocess
import sys

import nbformat
import numpy as np
import pytest
import torch

from conftest import NOTEBOOKS, tiny_model
from data_gen import billiards, court
from data_gen.__main__ import main as data_gen_main
from naomi_lite import checkpoints, load
from naomi_lite.train import main as train_main


def _exit_2(main, argv, capsys) -> list[str]:
    """Run ``main(argv)``, check it exits with status 2, and return its stderr lines."""
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in argv])
    assert info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()


# --- python -m data_gen ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, word", [
    (["court", "--T", "1"], "--T: must be >= 2"),
    (["court", "--n-test", "0"], "--n-test"),
    (["court", "--seed", "1.5"], "--seed"),
    (["court", "--noise", "0.5"], "--noise"),
    (["billiards", "--T", "abc"], "--T"),
    (["billiards", "--n-train"], "--n-train"),
])
def test_data_gen_bad_arguments(tmp_path, capsys, args, word):
    lines = _exit_2(data_gen_main, [*args, "--out", tmp_path / "d.npz"], capsys)
    assert len(lines) == 1 and word in lines[0], lines
    assert not list(tmp_path.iterdir())


def test_data_gen_out_must_be_a_writable_file_name(tmp_path, capsys):
    lines = _exit_2(data_gen_main, ["court", "--n-train", "2", "--n-test", "2", "--out", tmp_path], capsys)
    assert len(lines) == 1 and "is a folder" in lines[0]
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    lines = _exit_2(data_gen_main, ["court", "--n-train", "2", "--n-test", "2", "--out", blocker / "sub" / "d.npz"],
                    capsys)
    assert len(lines) == 1 and "notes.txt is a file" in lines[0]


def test_data_gen_force_overwrites_only_when_asked(tmp_path, capsys):
    out = tmp_path / "c.npz"
    assert data_gen_main(["court", "--n-train", "2", "--n-test", "1", "--T", "5", "--out", str(out)]) == 0
    before = out.read_bytes()
    lines = _exit_2(data_gen_main, ["court", "--n-train", "3", "--n-test", "1", "--T", "5", "--out", out], capsys)
    assert len(lines) == 1 and "--force" in lines[0] and out.read_bytes() == before
    assert data_gen_main(["court", "--n-train", "3", "--n-test", "1", "--T", "5", "--out", str(out), "--force"]) == 0
    assert court.load_dataset(out)[0].shape == (3, 5, 10)


# --- atomic writes: an interrupted write leaves the old file and no debris ---------------------------

def _interrupted(file_arg: int):
    """A stand-in for np.savez (file_arg 0) or torch.save (file_arg 1) that writes part of the
    file, then is interrupted."""
    def fake(*args, **kwargs):
        target = args[file_arg]
        if hasattr(target, "write"):
            target.write(b"PK\x03\x04 half a zip")
        else:
            with open(target, "wb") as f:
                f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt("simulated Ctrl-C in the middle of the write")
    return fake


@pytest.mark.parametrize("module", [billiards, court], ids=["billiards", "court"])
def test_an_interrupted_dataset_write_leaves_the_old_file(tmp_path, monkeypatch, module):
    out = tmp_path / "d.npz"
    name = module.__name__.split(".")[-1]
    assert data_gen_main([name, "--n-train", "2", "--n-test", "1", "--T", "5", "--out", str(out)]) == 0
    before = out.read_bytes()
    monkeypatch.setattr(module.np, "savez", _interrupted(0))
    with pytest.raises(KeyboardInterrupt):
        data_gen_main([name, "--n-train", "4", "--n-test", "1", "--T", "5", "--out", str(out), "--force"])
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["d.npz"]  # no temporary file left behind


def test_an_interrupted_checkpoint_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    checkpoints.save(tiny_model(), path)
    before = path.read_bytes()
    monkeypatch.setattr(checkpoints.torch, "save", _interrupted(1))
    with pytest.raises(KeyboardInterrupt):
        checkpoints.save(tiny_model(seed=1), path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.pt"]
    monkeypatch.undo()
    assert load(path, device="cpu").config == tiny_model().config


# --- python -m naomi_lite.train ----------------------------------------------------------------------

TRAIN = ["--n-train", "16", "--n-val", "8", "--tf-epochs", "0", "--fr-epochs", "0", "--hidden", "8",
         "--decoder-hidden", "8", "--no-progress", "--no-verbose", "--device", "cpu"]


def _train_error(lines: list[str]) -> str:
    """argparse prints its usage block, then one line with the reason: return that line."""
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    return errors[0]


@pytest.mark.parametrize("args, word", [
    (["--model", "lstm"], "model must be one of"),
    (["--task", "mnist"], "task must be one of"),
    (["--batch-size", "abc"], "--batch-size"),
    (["--lr", "-1"], "lr must be positive"),
    (["--mask", "gap"], "mask must be one of"),
    (["--fr-loss", "l1"], "fr_loss must be one of"),
    (["--missing", "3"], "--missing"),
    (["--bogus"], "--bogus"),
])
def test_train_bad_arguments(tmp_path, capsys, args, word):
    line = _train_error(_exit_2(train_main, [*TRAIN, *args, "--out", tmp_path / "m.pt"], capsys))
    assert word in line
    assert not list(tmp_path.iterdir())


def test_train_needs_force_to_overwrite(tmp_path, capsys):
    out = tmp_path / "m.pt"
    out.write_bytes(b"an earlier checkpoint")
    assert "--force" in _train_error(_exit_2(train_main, [*TRAIN, "--out", out], capsys))
    assert out.read_bytes() == b"an earlier checkpoint"


# Arguments that used to end in a traceback: TrainConfig and main() now check them before training.
@pytest.mark.parametrize("args, word", [
    (["--threads", "-1"], "--threads"),
    (["--hidden", "0"], "hidden"),
    (["--highest", "6"], "highest"),
    (["--missing", "190", "180"], "missing"),
    (["--device", "tpu"], "device"),
    (["--init-from", "no-such-file.pt"], "no-such-file.pt"),
])
def test_train_arguments_checked_before_training(tmp_path, capsys, args, word):
    assert word in _train_error(_exit_2(train_main, [*TRAIN, *args, "--out", tmp_path / "m.pt"], capsys))


# --- papermill: a bad parameter stops the first cell after the parameters -----------------------------

def test_papermill_bad_parameter_fails_in_the_cell_after_parameters(tmp_path):
    out = tmp_path / "02.ipynb"
    done = subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOKS / "02_masking.ipynb"), str(out),
                           "-p", "pattern", "nonsense", "--cwd", str(NOTEBOOKS), "--execution-timeout", "120"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "parameter pattern must be one of ['paper', 'forward', 'gap', 'random', 'edge'], got 'nonsense'" in done.stderr
    cells = nbformat.read(out, as_version=4).cells
    injected = next(i for i, c in enumerate(cells) if "injected-parameters" in c.metadata.get("tags", []))
    failed = [i for i, c in enumerate(cells) if c.cell_type == "code"
              and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    first_code_after = next(i for i in range(injected + 1, len(cells)) if cells[i].cell_type == "code")
    assert failed == [first_code_after]
    assert all(c.execution_count is None for c in cells[first_code_after + 1:] if c.cell_type == "code")
