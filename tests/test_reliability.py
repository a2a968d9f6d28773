"""Nothing lost, nothing silent: faults, corrupt files and bad input (issue 16).

One section per class of fault, each reproducing the cases of the issue: a save that would
destroy a good checkpoint, a run that diverges or is stopped, outputs checked only after
training, two runs writing one file, debris from killed writers, corrupt checkpoints and
datasets, observed values changed by impute, forged sizes, and nonsense arguments. The
guarantees themselves are written down in ``docs/RELIABILITY.md``.

Everything runs in-process with tiny models (hidden 8) except where a real process has to
die (``kill -9``), so the file takes a few seconds.
"""
from __future__ import annotations

import fcntl
import importlib.util
import io
import math
import os
import pathlib
import re
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

import naomi_lite
import data_gen.files
import naomi_lite.paths
import naomi_lite.train
from conftest import REPO_ROOT, tiny_model
from data_gen import billiards, court
from data_gen.__main__ import main as data_gen_main
from naomi_lite import checkpoints, load, load_pretrained
from naomi_lite.checkpoints import CheckpointError
from naomi_lite.inputs import check_generator
from naomi_lite.paths import OutputError, check_output, output_lock, write_atomically
from naomi_lite.train import TrainConfig, train
from naomi_lite.train import main as train_main

TRAIN = ["--n-train", "16", "--n-val", "8", "--tf-epochs", "1", "--fr-epochs", "0", "--hidden", "8",
         "--decoder-hidden", "8", "--highest", "8", "--batch-size", "8", "--no-progress", "--no-verbose",
         "--device", "cpu"]
TINY = dict(hidden=8, decoder_hidden=8, highest=8, n_train=16, n_val=8, batch_size=8, progress=False,
            verbose=False, device="cpu")
X = np.random.default_rng(0).normal(size=(2, 12, 2))  # (B, T, D) float64
MASK = np.ones((2, 12), bool)
MASK[:, 3:9] = False


def _exit_2(main, argv, capsys) -> str:
    """Run ``main(argv)``, check it exits with status 2, and return its one error line."""
    try:
        with pytest.raises(SystemExit) as info:
            main([str(a) for a in argv])
    except KeyboardInterrupt as err:  # would stop the whole pytest session
        pytest.fail(f"KeyboardInterrupt escaped: {err}")
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error:" in line]
    assert len(errors) == 1 and err[-1] == errors[0] and "Traceback" not in "".join(err), err
    return errors[0]


def _read_only(folder: pathlib.Path, monkeypatch) -> None:
    """Make ``folder`` read-only; as root (who may write anyway) make ``os.access`` say so too."""
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real = os.access
        monkeypatch.setattr(data_gen.files.os, "access",
                            lambda p, mode, **kw: False if pathlib.Path(p) == folder else real(p, mode, **kw))


def _no_training(monkeypatch) -> None:
    monkeypatch.setattr(naomi_lite.train, "train", lambda *a, **k: pytest.fail("trained before checking --out"))


def _load_run_course():
    spec = importlib.util.spec_from_file_location("run_course", REPO_ROOT / "scripts" / "run_course.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("run_course", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


# --- 1. a save never replaces a good checkpoint with one load() refuses ----------------------------

def test_numpy_scalars_paths_and_arrays_in_meta_are_stored_as_plain_values(tmp_path):
    path = tmp_path / "m.pt"
    checkpoints.save(tiny_model(), path)
    meta = {"l2": np.float64(0.1), "n": np.int64(3), "ok": np.bool_(True), "where": pathlib.Path("/data/x.npz"),
            "curve": np.arange(3.0), "nested": {"mean": np.mean([1.0, 2.0])}}
    checkpoints.save(tiny_model(), path, meta=meta)
    back = load(path, device="cpu").meta
    assert back == {"l2": 0.1, "n": 3, "ok": True, "where": "/data/x.npz", "curve": [0.0, 1.0, 2.0],
                    "nested": {"mean": 1.5}}
    assert type(back["l2"]) is float and type(back["n"]) is int


@pytest.mark.parametrize("meta, key", [({"tags": {"a", "b"}}, "meta['tags']"),
                                       ({"h": {"rows": [1, object()]}}, "meta['h']['rows'][1]"),
                                       ({"words": np.array(["a"])}, "meta['words']")])
def test_meta_that_cannot_be_stored_is_refused_before_writing(tmp_path, meta, key):
    path = tmp_path / "m.pt"
    checkpoints.save(tiny_model(), path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=re.escape(key) + " is a .*cannot store"):
        checkpoints.save(tiny_model(seed=1), path, meta=meta)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_weights_load_would_refuse_are_never_written(tmp_path):
    path = tmp_path / "m.pt"
    checkpoints.save(tiny_model(), path)
    before = path.read_bytes()
    big = tiny_model(seed=1)
    with torch.no_grad():
        next(big.parameters())[0] = 1e6  # fine in float32, inf in float16
    with pytest.raises(ValueError, match="float16 overflows"):
        checkpoints.save(big, path, half=True)
    broken = tiny_model(seed=2)
    with torch.no_grad():
        next(broken.parameters())[0] = float("nan")
    with pytest.raises(ValueError, match="NaN or inf"):
        checkpoints.save(broken, path)
    assert path.read_bytes() == before


def test_a_file_that_does_not_read_back_never_replaces_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    checkpoints.save(tiny_model(), path)
    before = path.read_bytes()
    monkeypatch.setattr(checkpoints.torch, "save", lambda obj, f: pathlib.Path(f).write_bytes(b"PK\x03\x04 junk"))
    with pytest.raises(CheckpointError, match="did not read back"):
        checkpoints.save(tiny_model(seed=1), path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.pt"]


# --- 2. a run that diverges or is stopped keeps (and writes) its best epoch --------------------------

def test_a_diverging_run_stops_and_keeps_its_best_epoch():
    model, history = train(TrainConfig(**TINY, tf_epochs=2, fr_epochs=2, fr_lr=1e30))
    assert "free-running" in history.diverged and "epoch 3" in history.diverged
    assert [r["phase"] for r in history.rows] == ["init", "teacher-forced", "teacher-forced"]
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    assert np.isfinite(model.impute(X, MASK)).all()


def test_imputations_that_overflow_while_the_weights_stay_finite_count_as_divergence(monkeypatch):
    from naomi_lite.metrics import l2_missing

    calls = []

    def overflowing(model, x, mask, batch_size=256):  # the second epoch's imputations overflow to inf
        calls.append(1)
        pred = np.full_like(x, np.inf) if len(calls) > 2 else x + 0.1
        return float(l2_missing(pred, x, mask).mean())

    monkeypatch.setattr(naomi_lite.train, "evaluate_l2", overflowing)
    model, history = train(TrainConfig(**TINY, tf_epochs=3, fr_epochs=0))
    assert history.diverged == "the validation imputations became NaN or inf in epoch 2"
    assert len(history.rows) == 2


def test_cli_writes_the_best_epoch_of_a_diverging_run_and_exits_2(tmp_path, capsys):
    out = tmp_path / "m.pt"
    line = _exit_2(train_main, [*TRAIN, "--tf-epochs", "2", "--fr-epochs", "2", "--fr-lr", "1e30", "--out", out],
                   capsys)
    assert "training diverged" in line and "best epoch" in line and "--lr" in line
    meta = load(out, device="cpu").meta
    assert "epoch 3" in meta["diverged"] and meta["history"]["epoch"] == [0, 1, 2]
    assert math.isfinite(meta["best_val_l2"])


def test_cli_that_diverges_in_the_first_epoch_writes_nothing_and_says_so(tmp_path, capsys):
    line = _exit_2(train_main, [*TRAIN, "--lr", "1e30", "--out", tmp_path / "m.pt"], capsys)
    assert "diverged" in line and "not written" in line
    assert not list(tmp_path.iterdir())


def test_a_signal_before_the_first_epoch_ends_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    def data_then_terminated(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # what `kill -TERM` does while the data are being made
        return real(*args, **kwargs)

    real = naomi_lite.train.task_data
    monkeypatch.setattr(naomi_lite.train, "task_data", data_then_terminated)
    line = _exit_2(train_main, [*TRAIN, "--out", tmp_path / "m.pt"], capsys)
    assert "stopped before training began" in line and "not written" in line
    assert not list(tmp_path.iterdir())


# --- 3. every output is checked before training starts ------------------------------------------------

def test_train_out_is_checked_before_training(tmp_path, capsys, monkeypatch):
    _no_training(monkeypatch)
    assert "is a folder" in _exit_2(train_main, [*TRAIN, "--out", tmp_path], capsys)
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file")
    assert "notes.txt is a file" in _exit_2(train_main, [*TRAIN, "--out", blocker / "m.pt"], capsys)
    locked = tmp_path / "ro"
    locked.mkdir()
    _read_only(locked, monkeypatch)
    try:
        assert "no permission" in _exit_2(train_main, [*TRAIN, "--out", locked / "m.pt"], capsys)
    finally:
        locked.chmod(0o755)


def test_data_gen_out_in_a_read_only_folder_is_refused_before_generating(tmp_path, capsys, monkeypatch):
    locked = tmp_path / "ro"
    locked.mkdir()
    _read_only(locked, monkeypatch)
    monkeypatch.setattr(billiards, "dataset", lambda *a, **k: pytest.fail("generated before checking --out"))
    try:
        assert "no permission" in _exit_2(data_gen_main, ["billiards", "--out", locked / "b.npz"], capsys)
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("var", ["NAOMI_DATA_DIR", "NAOMI_REPORTS_DIR"])
def test_folders_from_the_environment_must_be_folders(tmp_path, monkeypatch, var):
    afile = tmp_path / "afile"
    afile.write_text("x")
    monkeypatch.setenv(var, str(afile))
    function = naomi_lite.paths.data_dir if var == "NAOMI_DATA_DIR" else naomi_lite.paths.reports_dir
    with pytest.raises(OutputError, match=f"{var}=.*afile is a file, not a folder"):
        function()


def test_data_gen_with_naomi_data_dir_a_file_exits_2(tmp_path, capsys, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("x")
    monkeypatch.setenv("NAOMI_DATA_DIR", str(afile))
    assert "NAOMI_DATA_DIR" in _exit_2(data_gen_main, ["billiards", "--n-train", "2", "--n-test", "1"], capsys)


def test_run_course_checks_out_and_only_before_running(tmp_path, capsys, monkeypatch):
    run_course = _load_run_course()
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert "is a file, not a folder" in _exit_2(run_course.parse_args, ["--out", afile], capsys)
    assert "afile is a file" in _exit_2(run_course.parse_args, ["--out", afile / "sub"], capsys)
    assert "--only needs at least one chapter" in _exit_2(run_course.parse_args, ["--only", ""], capsys)
    monkeypatch.setenv("NAOMI_REPORTS_DIR", str(afile))
    assert "NAOMI_REPORTS_DIR" in _exit_2(run_course.parse_args, [], capsys)
    monkeypatch.delenv("NAOMI_REPORTS_DIR")
    locked = tmp_path / "ro"
    locked.mkdir()
    _read_only(locked, monkeypatch)
    try:
        assert "no permission" in _exit_2(run_course.parse_args, ["--out", locked], capsys)
        assert "no permission" in _exit_2(run_course.parse_args, ["--out", locked / "reports"], capsys)
    finally:
        locked.chmod(0o755)


def test_check_output_allows_what_can_be_written(tmp_path):
    assert check_output(tmp_path / "new" / "m.pt") == tmp_path / "new" / "m.pt"
    (tmp_path / "m.pt").write_bytes(b"old")
    with pytest.raises(OutputError, match="--force"):
        check_output(tmp_path / "m.pt")
    assert check_output(tmp_path / "m.pt", force=True) == tmp_path / "m.pt"
    assert check_output(tmp_path, folder=True) == tmp_path


# --- 4. one writer per file: a second run stops, and nothing is replaced without --force -------------

def _hold_lock_elsewhere(path: pathlib.Path):
    """Take ``path``'s lock on a separate open file, as another process would."""
    fd = os.open(path.parent / f".{path.name}.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, b"4242\n")
    return fd


def test_a_second_run_with_the_same_out_stops_at_once(tmp_path, capsys, monkeypatch):
    out = tmp_path / "m.pt"
    fd = _hold_lock_elsewhere(out)
    try:
        _no_training(monkeypatch)
        line = _exit_2(train_main, [*TRAIN, "--out", out], capsys)
        assert "being written by another run" in line and "4242" in line
        line = _exit_2(data_gen_main, ["billiards", "--n-train", "2", "--n-test", "1", "--out", tmp_path / "m.pt"],
                       capsys)
        assert "being written by another run" in line
        with pytest.raises(OutputError, match="another run"):
            checkpoints.save(tiny_model(), out)
    finally:
        os.close(fd)
    assert not out.exists()
    checkpoints.save(tiny_model(), out)  # the lock is free again
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # and its file is removed on release


def test_two_processes_racing_for_one_out_cannot_both_win(tmp_path):
    out = tmp_path / "m.pt"
    script = ("import sys, time; from naomi_lite.paths import output_lock\n"
              "with output_lock(sys.argv[1]):\n    print('locked', flush=True); time.sleep(30)\n")
    holder = subprocess.Popen([sys.executable, "-c", script, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputError, match=f"process {holder.pid} holds"):
            with output_lock(out):
                pass
    finally:
        holder.kill()
        holder.wait()
    with output_lock(out):  # the system released the dead holder's lock
        pass


def test_a_file_that_appears_during_training_is_kept_and_so_is_the_model(tmp_path, capsys, monkeypatch):
    out = tmp_path / "m.pt"
    real = naomi_lite.train.train

    def train_while_someone_writes_out(*args, **kwargs):
        result = real(*args, **kwargs)
        out.write_bytes(b"written by someone else")
        return result

    monkeypatch.setattr(naomi_lite.train, "train", train_while_someone_writes_out)
    line = _exit_2(train_main, [*TRAIN, "--out", out], capsys)
    assert "was not replaced" in line and "rescued" in line
    assert out.read_bytes() == b"written by someone else"
    rescued = [p for p in tmp_path.iterdir() if "rescued" in p.name]
    assert len(rescued) == 1 and load(rescued[0], device="cpu").meta["history"]["epoch"] == [0, 1]


def test_create_new_writes_never_replace(tmp_path):
    path = tmp_path / "d.bin"
    write_atomically(path, lambda tmp: pathlib.Path(tmp).write_bytes(b"first"), overwrite=False)
    with pytest.raises(FileExistsError):
        write_atomically(path, lambda tmp: pathlib.Path(tmp).write_bytes(b"second"), overwrite=False)
    with pytest.raises(FileExistsError):
        billiards.save_dataset(path, *billiards.dataset(2, 1, T=5), overwrite=False)
    assert path.read_bytes() == b"first" and [p.name for p in tmp_path.iterdir()] == ["d.bin"]


# --- 5. a killed writer's debris is removed by the next write ---------------------------------------

def test_temp_files_of_a_killed_writer_are_removed_by_the_next_run(tmp_path, capsys):
    out = tmp_path / "b.npz"
    script = ("import os, signal, sys, pathlib; from naomi_lite.paths import write_atomically\n"
              "def write(tmp):\n    pathlib.Path(tmp).write_bytes(b'x' * 100000); os.kill(os.getpid(), signal.SIGKILL)\n"
              "write_atomically(sys.argv[1], write)\n")
    done = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL
    debris = sorted(p.name for p in tmp_path.iterdir())
    assert any(name.startswith(".b.npz.") and name.endswith(".tmp") for name in debris), debris
    unrelated = tmp_path / ".other.npz.abcd1234.tmp"  # another file's temp: not ours to delete
    unrelated.write_bytes(b"y")
    assert data_gen_main(["billiards", "--n-train", "2", "--n-test", "1", "--T", "5", "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [unrelated.name, "b.npz"]


# --- 6. corrupt checkpoints are refused -------------------------------------------------------------

def test_flipped_bytes_in_a_shipped_checkpoint_fail_the_crc_check(tmp_path):
    shipped = naomi_lite.paths.CHECKPOINT_DIR / "billiards-naomi.pt"
    data = bytearray(shipped.read_bytes())
    with zipfile.ZipFile(shipped) as archive:
        record = max(archive.infolist(), key=lambda info: info.file_size)  # the largest tensor
    start = record.header_offset + 30 + len(record.filename.encode()) + 100  # inside its bytes, past the local header
    for i in range(64):
        data[start + i] ^= 0x5A
    path = tmp_path / "flipped.pt"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="fails its CRC check"):
        load(path, device="cpu")


def test_non_finite_weights_are_refused_on_load(tmp_path):
    path = tmp_path / "m.pt"
    checkpoints.save(tiny_model(), path)
    payload = torch.load(path, weights_only=True)
    name = next(iter(payload["state_dict"]))
    payload["state_dict"][name][0] = float("nan")
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match=f"{name}.*NaN or inf"):
        load(path, device="cpu")


@pytest.mark.parametrize("change, word", [
    (lambda p: {**p, "version": 1}, "'version' entry is a int"),
    (lambda p: {**p, "state_dict": list(p["state_dict"].values())}, "'state_dict' entry is a list"),
    (lambda p: {**p, "config": "naomi"}, "'config' entry is a str"),
    (lambda p: {**p, "meta": [1]}, "'meta' entry is a list"),
    (lambda p: {**p, "state_dict": {**p["state_dict"], "fwd.x": 3}}, "'fwd.x' is a int"),
    (lambda p: {**p, "config": {**p["config"], "hidden": 10**5}}, "size mismatch"),  # 120 GB if allocated
    (lambda p: {**p, "config": {**p["config"], "hidden": 10**9}}, "config this kit cannot build"),
], ids=["version int", "state_dict list", "config str", "meta list", "weight not a tensor", "huge config",
        "absurd config"])
def test_well_formed_checkpoints_with_wrong_field_types_are_refused(tmp_path, capsys, change, word):
    path = tmp_path / "m.pt"
    checkpoints.save(tiny_model(), path)
    torch.save(change(torch.load(path, weights_only=True)), path)
    with pytest.raises(CheckpointError, match=word):
        load(path, device="cpu")
    line = _exit_2(train_main, [*TRAIN, "--init-from", path, "--out", tmp_path / "next.pt"], capsys)
    assert "--init-from" in line and word.split()[0] in line


def test_init_from_a_checkpoint_of_another_task_is_refused(tmp_path, capsys, monkeypatch):
    _no_training(monkeypatch)
    court_model = naomi_lite.paths.CHECKPOINT_DIR / "court-naomi-pretrain.pt"
    line = _exit_2(train_main, [*TRAIN, "--task", "billiards", "--init-from", court_model, "--out", tmp_path / "m.pt"],
                   capsys)
    assert "10 values per step" in line and "choose a billiards checkpoint" in line


@pytest.mark.parametrize("name", ["/etc/passwd", "../../x", "../checkpoints/billiards-naomi", "billiards-naomi.pt", 3])
def test_load_pretrained_takes_only_shipped_names(name):
    with pytest.raises(ValueError, match=r"never a path.*naomi_lite\.load\(path\)"):
        load_pretrained(name, device="cpu")


# --- 7. datasets: one check for saving and loading, and sizes checked before allocating ---------------

@pytest.mark.parametrize("module", [billiards, court], ids=["billiards", "court"])
def test_loading_refuses_what_saving_refuses(tmp_path, module):
    train_x, test_x = module.dataset(3, 2, T=10)
    bad_values = train_x.copy()
    bad_values[1, 4, 0] = np.nan
    infinite = train_x.copy()
    infinite[0, 2, 1] = np.inf
    for train_, test_, word in ((bad_values, test_x, "NaN or inf"), (infinite, test_x, "NaN or inf"),
                                (train_x, module.dataset(3, 2, T=12)[1], "same T")):
        with pytest.raises(ValueError, match=word):
            module.save_dataset(tmp_path / "s.npz", train_, test_)
        np.savez(tmp_path / "d.npz", train=train_, test=test_)  # written by hand, past save_dataset
        with pytest.raises(ValueError, match=word):
            module.load_dataset(tmp_path / "d.npz")


def _forged_npz(path: pathlib.Path, shape: str) -> None:
    real = io.BytesIO()
    np.save(real, np.zeros((1, 200, 2), np.float32))
    header = real.getvalue()[:128].replace(b"(1, 200, 2)", shape.encode()).ljust(128)
    header = header[:127] + b"\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("train.npy", header + b"\0" * 64)
        archive.writestr("test.npy", header + b"\0" * 64)


def test_a_forged_header_is_refused_before_allocating(tmp_path):
    path = tmp_path / "forged.npz"
    _forged_npz(path, "(1000000000000, 200, 2)")
    assert path.stat().st_size < 700
    with pytest.raises(ValueError, match=r"claims an array of shape \(1000000000000, 200, 2\).*refused before allocating"):
        billiards.load_dataset(path)
    with pytest.raises(ValueError, match="refused before allocating"):
        court.load_real(path, key="train")
    npy = tmp_path / "forged.npy"
    npy.write_bytes(zipfile.ZipFile(path).read("train.npy"))
    with pytest.raises(ValueError, match="refused before allocating"):
        court.load_real(npy)


def test_data_gen_refuses_sizes_beyond_memory_before_allocating(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(billiards, "dataset", lambda *a, **k: pytest.fail("allocated before checking the size"))
    line = _exit_2(data_gen_main, ["billiards", "--T", "1000000000000", "--out", tmp_path / "b.npz"], capsys)
    assert "GB" in line and "memory" in line and "--T" in line
    assert not list(tmp_path.iterdir())


# --- 8. impute hands observed values back exactly, and says what is wrong ------------------------------

def test_large_integers_come_back_exactly():
    model = tiny_model()
    ints = (np.arange(48).reshape(2, 12, 2) + 2**24 + 1).astype(np.int64)  # float32 cannot hold these
    for x in (ints, ints.astype(np.int32), ints.astype(np.uint64), torch.as_tensor(ints)):
        out = model.impute(x, MASK)
        out = out.numpy() if isinstance(out, torch.Tensor) else out
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out[MASK], np.asarray(ints)[MASK])
    with pytest.raises(ValueError, match="beyond 2\\^53"):
        model.impute(np.full((2, 12, 2), 2**60, np.int64), MASK)


def test_values_beyond_float32_are_named_as_such():
    x = X.copy()
    x[1, 2, 0] = 1e300
    for mask in (MASK, None):
        with pytest.raises(ValueError, match=r"x\[1, 2\] holds 1e\+300, too large for the model's float32"):
            tiny_model().impute(x, mask)
    x[1, 4, 0] = 1e300  # a missing step (mask False): ignored, as any value there is
    x[1, 2, 0] = 0.0
    assert np.isfinite(tiny_model().impute(x, MASK)).all()


def test_a_masked_arrays_mask_is_honoured():
    model = tiny_model()
    hidden = np.broadcast_to(~MASK[..., None], X.shape)
    masked = np.ma.masked_array(np.where(hidden, 1e6, X), mask=hidden)  # large junk under the mask
    expected = model.impute(X, MASK)
    np.testing.assert_array_equal(model.impute(masked), expected)
    np.testing.assert_array_equal(model.impute(masked, MASK), expected)
    with pytest.raises(ValueError, match=r"x\[0, 3\] is masked .* but the mask marks it observed"):
        model.impute(masked, np.ones_like(MASK))
    partly = np.ma.masked_array(X, mask=np.zeros(X.shape, bool))
    partly.mask[0, 1, 0] = True
    with pytest.raises(ValueError, match=r"x\[0, 1\] is partly NaN"):
        model.impute(partly)
    with pytest.raises(TypeError, match="masked array"):
        model.impute(X, np.ma.masked_array(MASK))


def test_meta_tensors_get_a_one_line_error():
    with pytest.raises(ValueError, match="meta device"):
        tiny_model().impute(torch.zeros(2, 12, 2, device="meta"), MASK)
    with pytest.raises(ValueError, match="meta device"):
        tiny_model().to("meta").impute(X, MASK)
    with pytest.raises(ValueError, match="meta"):
        checkpoints.save(tiny_model().to("meta"), "never-written.pt")
    assert not pathlib.Path("never-written.pt").exists()


def test_check_generator_names_the_problem():
    check_generator(None, "cpu")
    check_generator(torch.Generator().manual_seed(0), "cpu")
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        check_generator(5, "cpu")


def test_impute_with_a_bad_generator_gets_a_one_line_error():
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        tiny_model(gaussian=True).impute(X, MASK, sample=True, generator=5)


# --- 9. nonsense arguments are refused -----------------------------------------------------------------

@pytest.mark.parametrize("value", ["-1", "nan", "-inf"])
def test_max_minutes_must_be_a_limit(tmp_path, capsys, monkeypatch, value):
    _no_training(monkeypatch)
    assert "max_minutes must be >= 0" in _exit_2(train_main, [*TRAIN, f"--max-minutes={value}", "--out",
                                                              tmp_path / "m.pt"], capsys)
    with pytest.raises(ValueError, match="max_minutes"):
        TrainConfig(max_minutes=float(value))


# --- benchmark JSON files: never replaced without --force -----------------------------------------------

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("script, extra", [
    ("court_adversarial.py", ["--n", "5"]),
    ("billiards_accuracy.py", ["--n", "5"]),
    ("ablation.py", ["--n", "5", "x.pt"]),
    ("speed.py", ["--quick"]),
])
def test_a_benchmark_refuses_to_replace_its_json_without_force(tmp_path, script, extra):
    out = tmp_path / "results.json"
    out.write_text("precious")
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), *extra, "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-1000:]
    last = proc.stderr.strip().splitlines()[-1]  # argparse's usage, then one line naming the problem
    assert "--json" in last and "exists" in last and "--force" in last, proc.stderr
    assert out.read_text() == "precious"


def test_write_json_keeps_a_file_that_appeared_and_writes_beside_it(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from common import write_json

    out = tmp_path / "r.json"
    assert write_json(out, {"a": 1}) == out and out.read_text().strip().startswith("{")
    out.write_text("precious")  # appeared after the check, while the benchmark ran
    rescued = write_json(out, {"a": 2})
    assert out.read_text() == "precious" and rescued != out and '"a": 2' in rescued.read_text()
    assert write_json(out, {"a": 3}, force=True) == out and '"a": 3' in out.read_text()
