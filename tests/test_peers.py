"""The PyPOTS peers (naomi_lite.peers, benchmarks/peers.py): conventions, a budgeted training run
of each peer, safe checkpoints and clear errors. ``make test`` installs the ``peers`` extra; where
PyPOTS is absent, the tests that need it skip and the rest check the one-line error."""
import sys

import numpy as np
import pytest
import torch

from naomi_lite import peers as pp
from naomi_lite.data import billiards_test_set

HAVE_PYPOTS = pp.pypots_version() is not None
needs_pypots = pytest.mark.skipif(not HAVE_PYPOTS, reason="PyPOTS is not installed (pip install -e '.[peers]')")

TINY = {  # sizes that train in a second
    "saits": dict(n_layers=1, d_model=8, n_heads=2, d_k=4, d_v=4, d_ffn=8),
    "brits": dict(rnn_hidden_size=8),
    "csdi": dict(n_layers=1, n_heads=2, n_channels=8, d_time_embedding=8, d_feature_embedding=4,
                 d_diffusion_embedding=8, n_diffusion_steps=3),
    "imputeformer": dict(n_layers=1, d_input_embed=4, d_learnable_embed=4, d_proj=2, d_ffn=8, n_temporal_heads=2),
}


def test_to_pypots_marks_missing_steps_with_nan_only():
    x = np.arange(12, dtype=np.float32).reshape(1, 6, 2)
    mask = np.array([[True, False, False, True, False, True]])
    z = pp.to_pypots(x, mask)
    assert np.isnan(z[0, ~mask[0]]).all()
    np.testing.assert_array_equal(z[0, mask[0]], x[0, mask[0]])
    assert not np.isnan(x).any(), "the input was changed"


def test_config_refuses_bad_values_with_one_line():
    with pytest.raises(ValueError, match="method must be one of"):
        pp.PeerConfig(method="gpt")
    with pytest.raises(ValueError, match="masks must be one of"):
        pp.PeerConfig(masks="random")
    with pytest.raises(ValueError, match="minutes must be positive"):
        pp.PeerConfig(minutes=0)
    with pytest.raises(ValueError, match="unknown saits setting"):
        pp.PeerConfig(method="saits", hyper={"d_modle": 8})
    assert pp.PeerConfig(method="brits", hyper={"rnn_hidden_size": 4}).hyper == {"rnn_hidden_size": 4}


def test_missing_pypots_gives_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "pypots", None)  # import pypots now raises ImportError
    assert pp.pypots_version() is None
    with pytest.raises(pp.PeersUnavailable, match=r"pip install -e '\.\[peers\]'"):
        pp.Peer("saits", 10, 2, TINY["saits"], [0, 0], [1, 1], device="cpu")


@needs_pypots
@pytest.mark.parametrize("method", pp.PEERS)
@pytest.mark.parametrize("masks", pp.MASKS)
def test_each_peer_trains_within_its_budget_and_imputes(method, masks, tmp_path):
    torch.set_num_threads(1)
    cfg = pp.PeerConfig(method=method, masks=masks, minutes=0.02, n_train=16, n_val=8, batch_size=8,
                        hyper=TINY[method], device="cpu")
    peer, history = pp.train_peer(cfg, log=lambda s: None)
    assert history[0]["epoch"] == 0 and len(history) >= 2
    assert peer.meta["minutes"] <= 0.02 + 0.05  # stops inside an epoch once the budget is spent
    assert peer.meta["val_l2"] == min(h["val_l2"] for h in history)
    x, mask = billiards_test_set(n=4)
    pred = peer.impute(x, mask)
    assert pred.shape == x.shape and np.isfinite(pred).all()
    np.testing.assert_array_equal(pred[mask], x[mask])  # observed steps kept exactly
    path = pp.save_peer(peer, tmp_path / f"{method}.pt", half=False)
    again = pp.load_peer(path, device="cpu")
    if method == "csdi":  # sampling: the same seed gives the same samples
        np.testing.assert_allclose(again.samples(x, mask, 2, seed=3), peer.samples(x, mask, 2, seed=3), atol=1e-5)
    else:
        np.testing.assert_allclose(again.impute(x, mask), pred, atol=1e-5)
    assert again.meta["config"]["method"] == method


@needs_pypots
def test_samples_are_csdi_only_and_keep_observed_steps():
    x, mask = billiards_test_set(n=3)
    saits = pp.Peer("saits", 200, 2, TINY["saits"], [0, 0], [1, 1], device="cpu")
    with pytest.raises(ValueError, match="deterministic"):
        saits.samples(x, mask, 2)
    csdi = pp.Peer("csdi", 200, 2, TINY["csdi"], [0, 0], [1, 1], device="cpu")
    s = csdi.samples(x, mask, 3)
    assert s.shape == (3, 3, 200, 2)
    np.testing.assert_array_equal(s[:, 1][mask], x[mask])
    assert not np.allclose(s[:, 0], s[:, 1]), "samples should differ"


@needs_pypots
def test_bad_input_is_refused_with_one_line():
    peer = pp.Peer("saits", 200, 2, TINY["saits"], [0, 0], [1, 1], device="cpu")
    x, mask = billiards_test_set(n=2)
    with pytest.raises(ValueError, match=r"shape \(N, 200, 2\)"):
        peer.impute(x[:, :50], mask[:, :50])
    bad = x.copy()
    bad[mask] = np.nan
    with pytest.raises(ValueError, match="NaN or inf at an observed step"):
        peer.impute(bad, mask)


@needs_pypots
def test_peer_checkpoints_are_weights_only(tmp_path):
    evil = tmp_path / "evil.pt"
    torch.save({"kit": "naomi_lite", "kind": "pypots-peer", "x": np.dtype("float32")}, evil)
    with pytest.raises(pp.PeerCheckpointError, match="other than tensors"):
        pp.load_peer(evil)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(pp.PeerCheckpointError, match="not a readable checkpoint"):
        pp.load_peer(junk)
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, other)
    with pytest.raises(pp.PeerCheckpointError, match="not a naomi_lite peer checkpoint"):
        pp.load_peer(other)
    with pytest.raises(FileNotFoundError, match="no peer checkpoint"):
        pp.load_peer(tmp_path / "absent.pt")


# ---------------------------------------------------------------------------
# benchmarks/peers.py: the command line

import json  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "peers.py"


def run_script(*args, timeout=600):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})


@pytest.mark.parametrize("args, message", [
    (["train", "saits", "--minutes", "0"], "--minutes must be positive"),
    (["train", "gpt"], "invalid choice: 'gpt'"),
    (["compare", "--n", "0"], "--n must be at least 1"),
    (["train", "brits", "--masks", "random"], "invalid choice: 'random'"),
    (["train", "saits", "--task", "court", "--n-train", "-1"], "--n-train must be >= 0"),
    (["train", "naomi", "--task", "court"], "not by peers.py train"),
    (["compare", "--task", "court", "--samples", "1"], "--samples must be at least 2"),
])
def test_cli_refuses_bad_arguments_with_one_line(args, message):
    proc = run_script(*args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_cli_never_replaces_a_trained_file_without_force(tmp_path):
    (tmp_path / "billiards-saits-test-like.pt").write_bytes(b"precious")
    proc = run_script("train", "saits", "--minutes", "0.01", "--checkpoint-dir", str(tmp_path))
    assert proc.returncode == 2 and "exists" in proc.stderr and "--force" in proc.stderr, proc.stderr
    assert (tmp_path / "billiards-saits-test-like.pt").read_bytes() == b"precious"


@needs_pypots
def test_cli_compare_scores_every_shipped_method(tmp_path):
    out = tmp_path / "peers.json"
    proc = run_script("compare", "--n", "3", "--threads", "1", "--device", "cpu", "--json", str(out),
                      "--checkpoint-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    methods = json.loads(out.read_text())["methods"]
    assert {"Linear", "NAOMI (shipped)", "NAOMI classroom", "SAITS (test-like masks)", "CSDI (test-like masks)"} <= set(methods)
    for name, r in methods.items():
        assert np.isfinite(r["metrics"]["l2_missing"]["mean"]), name
    assert methods["Linear"]["kind"] == "reference" and methods["SAITS (test-like masks)"]["kind"] == "peer"
    shipped = methods["NAOMI (shipped)"]
    assert shipped["kind"] == "kit"  # trained in five continued runs: the minutes of all of them
    assert shipped["training"]["minutes"] > shipped["training"]["last_run_minutes"]


def test_cli_compare_never_replaces_a_json_without_force(tmp_path):
    out = tmp_path / "peers.json"
    out.write_text("precious")
    proc = run_script("compare", "--n", "3", "--json", str(out))
    assert proc.returncode == 2 and "exists" in proc.stderr and "--force" in proc.stderr, proc.stderr
    assert out.read_text() == "precious"


def test_cli_trains_a_court_peer_and_compares_on_court(tmp_path):
    """A court peer trains on the court's plays and masks (``--task court``); ``compare --task court``
    scores it beside Linear, the Gaussian conditional and the shipped court models, with best of K
    for the generative ones."""
    if not HAVE_PYPOTS:
        proc = run_script("train", "saits", "--task", "court", "--minutes", "0.01", "--checkpoint-dir", str(tmp_path))
        assert proc.returncode == 2 and "PyPOTS" in proc.stderr, proc.stderr
        return
    proc = run_script("train", "brits", "--task", "court", "--minutes", "0.02", "--n-train", "64", "--threads", "1",
                      "--device", "cpu", "--checkpoint-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "court-brits-test-like.pt").is_file()
    out = tmp_path / "court.json"
    proc = run_script("compare", "--task", "court", "--n", "6", "--samples", "3", "--samples-n", "4", "--threads", "1",
                      "--device", "cpu", "--json", str(out), "--checkpoint-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    methods = json.loads(out.read_text())["methods"]
    assert {"Linear", "Gaussian cond.", "NAOMI pretrain", "NAOMI adversarial", "BRITS (test-like masks)"} <= set(methods)
    brits, naomi = methods["BRITS (test-like masks)"], methods["NAOMI adversarial"]
    assert brits["kind"] == "peer" and brits["handed_out"] == "mean" and "best_of_k" not in brits
    assert naomi["handed_out"] == "one sample" and naomi["best_of_k"] <= naomi["ade_sample"]
    for name, r in methods.items():
        assert np.isfinite(r["ade_mean"]) and r["ade_mean"] > 0, name
