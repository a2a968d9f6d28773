"""Bad input gets a clear error, across the public API (issue 6, "Hardening").

Each case passes one mistake to one entry point and checks that it raises a ValueError
or TypeError whose message names the problem. Cases already covered elsewhere are not
repeated here: ``test_naomi.py::test_bad_input_gets_a_clear_error`` (impute basics),
``test_masks.py`` (``as_mask``, per-generator ranges), ``test_metrics.py`` /
``test_court_metrics.py`` (NaN input), ``test_billiards.py`` / ``test_court.py``
(simulator parameters), ``test_checkpoints.py`` (weights_only, truncated files).

Also here: valid input of every kind (integers, float64, numpy, torch, CPU, CUDA, empty
batches) gives the same answer as float32 numpy, and the chapters' parameter checks.
"""
from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
import torch

import naomi_lite
from conftest import DEVICES, NOTEBOOKS, tiny_model
from data_gen import billiards, court
from naomi_lite import NAOMIConfig, court_metrics, load, metrics, params
from naomi_lite.adversarial import AdversarialConfig, train_adversarial
from naomi_lite.checkpoints import CheckpointError, save
from naomi_lite.masks import MASK_PATTERNS, imputation_order
from naomi_lite.train import TrainConfig

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 12, 2)).astype(np.float32)  # (B, T, D) a small valid batch
MASK = np.ones((3, 12), bool)
MASK[:, 3:9] = False


def _with(a, index, value):
    a = a.copy()
    a[index] = value
    return a


# --- impute: shapes, masks, values --------------------------------------------------------------

IMPUTE_CASES = {
    "x rank 4": (X[None], None, ValueError, r"shape \(B, T, D\)"),
    "x rank 1": (X[0, :, 0], None, ValueError, r"shape \(B, T, D\)"),
    "x with T=0": (X[:, :0], None, ValueError, "T=2"),
    "x strings": (np.full((1, 4, 2), "a"), None, TypeError, "numeric"),
    "x bool": (X > 0, None, TypeError, "real numbers"),
    "x complex": (X.astype(np.complex64), None, TypeError, "real numbers"),
    "x a list": (X.tolist(), MASK, TypeError, "numpy array or a torch tensor"),
    "mask rank 1": (X, MASK[0], ValueError, "mask must have shape"),
    "mask transposed": (X, MASK.T, ValueError, "mask must have shape"),
    "mask rank 3": (X, MASK[..., None], ValueError, "mask must have shape"),
    "mask 0.5": (X, _with(MASK.astype(float), (0, 0), 0.5), ValueError, "only 0 and 1"),
    "mask -1": (X, _with(MASK.astype(int), (1, 1), -1), ValueError, "only 0 and 1"),
    "mask NaN": (X, _with(MASK.astype(float), (2, 2), np.nan), ValueError, "only 0 and 1"),
    "mask strings": (X, np.full(MASK.shape, "1"), TypeError, "numeric"),
    "mask a list": (X, MASK.tolist(), TypeError, "mask must be a numpy array"),
    "observed +inf": (_with(X, (0, 0, 1), np.inf), MASK, ValueError, r"x\[0, 0\].*NaN or inf"),
    "observed -inf": (_with(X, (2, 11, 0), -np.inf), MASK, ValueError, r"x\[2, 11\].*NaN or inf"),
    "observed NaN": (_with(X, (1, 10, 0), np.nan), MASK, ValueError, r"x\[1, 10\].*NaN or inf"),
    "inf without a mask": (_with(X, (1, 2, 0), np.inf), None, ValueError, r"x\[1, 2\] holds inf"),
    "all-inf step without a mask": (_with(X, (0, 4), -np.inf), None, ValueError, r"x\[0, 4\] holds inf"),
    "NaN row without a mask": (_with(X, 1, np.nan), None, ValueError, "row 1 has no observed step"),
}


@pytest.mark.parametrize("x, mask, err, message", IMPUTE_CASES.values(), ids=IMPUTE_CASES.keys())
def test_impute_rejects_bad_input_by_name(x, mask, err, message):
    with pytest.raises(err, match=message):
        tiny_model().impute(x, mask)


def test_inf_at_a_missing_step_is_ignored_when_a_mask_says_so():
    x = _with(X, (0, 5), np.inf)  # step 5 is missing in MASK
    np.testing.assert_array_equal(tiny_model().impute(x, MASK), tiny_model().impute(X, MASK))


@pytest.mark.parametrize("kind", ["naomi", "singleres", "rnn"])
def test_a_batch_with_nothing_missing_comes_back_unchanged(kind):
    # found by test_properties.py: NAOMI used to crash here (torch.cat of no ticks)
    np.testing.assert_array_equal(tiny_model(kind).impute(X, np.ones(X.shape[:2], bool)), X)


# --- impute: every valid input kind gives the float32 answer --------------------------------------

@pytest.mark.parametrize("kind", ["naomi", "singleres", "rnn"])
def test_integer_and_float64_inputs_match_float32(kind):
    model = tiny_model(kind)
    ints = np.round(X * 10).astype(np.int64)
    ref = model.impute(ints.astype(np.float32), MASK)
    for dtype in (np.int32, np.int64, np.int16, np.uint8 if ints.min() >= 0 else np.int8, np.float16, np.float64):
        out = model.impute(ints.astype(dtype), MASK)
        wide = dtype in (np.float64, np.int32, np.int64)  # float32 holds integers only up to 2^24 exactly
        assert out.dtype == (np.float64 if wide else np.float32), dtype
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5, err_msg=str(dtype))
    for mask in (MASK.astype(np.int64), MASK.astype(np.float32), MASK.astype(np.uint8)):
        np.testing.assert_array_equal(model.impute(ints.astype(np.float32), mask), ref)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
def test_torch_inputs_on_each_device_match_numpy(device, dtype):
    model = tiny_model().to(device)
    ints = np.round(X * 10)
    ref = tiny_model().impute(ints.astype(np.float32), MASK)  # numpy, CPU
    x = torch.as_tensor(ints, device=device).to(dtype)
    for mask in (torch.as_tensor(MASK, device=device), torch.as_tensor(MASK, device=device).int(), MASK):
        out = model.impute(x, mask)
        assert isinstance(out, torch.Tensor) and out.device == x.device
        assert out.dtype == (torch.float64 if dtype in (torch.float64, torch.int64) else torch.float32)
        np.testing.assert_allclose(out.cpu().numpy(), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA: CPU tensors into a CUDA model")
def test_cpu_input_to_a_cuda_model_comes_back_on_the_cpu():
    model = tiny_model().to("cuda")
    out = model.impute(torch.as_tensor(X), torch.as_tensor(MASK))
    assert out.device.type == "cpu"
    np.testing.assert_allclose(out.numpy(), tiny_model().impute(X, MASK), atol=1e-5)


@pytest.mark.parametrize("kind", ["naomi", "singleres", "rnn"])
@pytest.mark.parametrize("as_torch", [False, True])
def test_empty_batch_gives_an_empty_result_of_the_same_type(kind, as_torch):
    x = np.zeros((0, 12, 2), np.float32)
    x = torch.as_tensor(x) if as_torch else x
    for mask in (None, np.zeros((0, 12), bool)):
        out = tiny_model(kind).impute(x, mask)
        assert isinstance(out, torch.Tensor if as_torch else np.ndarray) and tuple(out.shape) == (0, 12, 2)


# --- highest: a power of two --------------------------------------------------------------------

@pytest.mark.parametrize("highest, err", [(0, ValueError), (3, ValueError), (-4, ValueError), (96, ValueError),
                                          (4.0, TypeError), (True, TypeError), ("64", TypeError)])
@pytest.mark.parametrize("where", ["NAOMIConfig", "imputation_order"])
def test_highest_must_be_a_power_of_two(highest, err, where):
    with pytest.raises(err, match="highest must be"):
        if where == "NAOMIConfig":
            NAOMIConfig(highest=highest)
        else:
            imputation_order([True, False, False, True], highest=highest)


# --- mask generators: one matrix over every pattern ----------------------------------------------

@pytest.mark.parametrize("kwargs, err, word", [
    (dict(n=0, T=200), ValueError, "n must be >= 1"),       # empty batch: refused, with a reason
    (dict(n=2, T=1), ValueError, "T must be >= 2"),
    (dict(n=2, T=0), ValueError, "T must be >= 2"),
    (dict(n=2.0, T=200), TypeError, "n must be an integer"),
    (dict(n=2, T=200.0), TypeError, "T must be an integer"),
    (dict(n=True, T=200), TypeError, "n must be an integer"),
    (dict(n=2, T=200, seed=-1), ValueError, "seed must be >= 0"),
    (dict(n=2, T=200, seed="0"), TypeError, "seed must be an integer"),
])
@pytest.mark.parametrize("pattern", sorted(MASK_PATTERNS))
def test_every_mask_generator_checks_n_T_and_seed(pattern, kwargs, err, word):
    with pytest.raises(err, match=word):
        MASK_PATTERNS[pattern](**kwargs)


# --- metrics -------------------------------------------------------------------------------------

TRAJ = RNG.uniform(-0.8, 0.8, size=(3, 12, 2))
PER_SEQUENCE = [metrics.sinuosity, metrics.step_change, metrics.reflection_distance, metrics.reflection_flips]


@pytest.mark.parametrize("bad, err, word", [
    (TRAJ[None], ValueError, r"\(N, T, D\)"),
    (TRAJ[0, :, 0], ValueError, r"\(N, T, D\)"),
    (TRAJ[:, :, :0], ValueError, "at least one coordinate"),
    (_with(TRAJ, (1, 3, 0), np.inf), ValueError, "NaN or inf"),
    (TRAJ.astype(str), TypeError, "numbers"),
    (TRAJ > 0, TypeError, "numbers"),
    ("trajectory", TypeError, "numbers"),
], ids=["rank 4", "rank 1", "D=0", "inf", "strings", "bool", "a string"])
@pytest.mark.parametrize("metric", PER_SEQUENCE, ids=lambda f: f.__name__)
def test_metrics_reject_bad_trajectories(metric, bad, err, word):
    with pytest.raises(err, match=word):
        metric(bad)


@pytest.mark.parametrize("metric, T", [(metrics.sinuosity, 1), (metrics.step_change, 2)])
def test_metrics_say_how_many_steps_they_need(metric, T):
    with pytest.raises(ValueError, match=f"at least {T + 1} time steps"):
        metric(TRAJ[:, :T])


@pytest.mark.parametrize("mask, word", [
    (MASK[:, :-1], "shape"), (MASK[0], "shape"), (_with(MASK.astype(int), (0, 0), 2), "0 and 1"),
    (_with(MASK.astype(float), (0, 0), np.nan), "0 and 1"), (np.full(MASK.shape, "x"), "booleans"),
])
def test_l2_missing_rejects_bad_masks(mask, word):
    with pytest.raises((ValueError, TypeError), match=word):
        metrics.l2_missing(TRAJ, TRAJ, mask)


def test_l2_missing_rejects_mismatched_prediction():
    with pytest.raises(ValueError, match="same shape"):
        metrics.l2_missing(TRAJ[:, :-1], TRAJ, MASK)


@pytest.mark.parametrize("metric", PER_SEQUENCE[:3] + [court_metrics.trajectory_length, court_metrics.player_distance],
                         ids=lambda f: f"{f.__module__.split('.')[-1]}.{f.__name__}")
def test_metrics_on_empty_batches_ints_and_torch(metric):
    D = 10 if metric.__module__.endswith("court_metrics") else 2
    assert metric(np.zeros((0, 12, D))).shape == (0,)
    ints = np.round(RNG.uniform(-5, 5, size=(2, 12, D))).astype(np.int64)
    ref = metric(ints.astype(np.float64))
    np.testing.assert_allclose(metric(ints), ref)
    np.testing.assert_allclose(metric(ints.astype(np.float32)), ref, rtol=1e-6)
    for device in DEVICES:
        np.testing.assert_allclose(metric(torch.as_tensor(ints, device=device)), ref)


def test_court_metrics_reject_inf_and_the_wrong_layout():
    plays = RNG.uniform(-0.4, 0.4, size=(2, 12, 10))
    with pytest.raises(ValueError, match="NaN or inf"):
        court_metrics.court_metrics(_with(plays, (0, 0, 0), -np.inf))
    with pytest.raises(ValueError, match=r"\(N, T, 10\)"):
        court_metrics.court_metrics(plays[..., :8])


# --- data generators ------------------------------------------------------------------------------

@pytest.mark.parametrize("module", [billiards, court], ids=["billiards", "court"])
def test_generators_check_T_and_return_empty_batches(module):
    with pytest.raises(ValueError, match="T must"):
        module.simulate(2, T=1)
    with pytest.raises(TypeError, match="seed"):
        module.simulate(2, T=5, seed=1.5)
    assert module.simulate(0, T=5).shape[:2] == (0, 5)


def test_court_futures_check_T():
    with pytest.raises(ValueError, match="T must"):
        court.simulate_futures(court.initial_state(1), 3, T=1)


@pytest.mark.parametrize("module, D", [(billiards, 2), (court, 10)], ids=["billiards", "court"])
def test_save_dataset_rejects_bad_arrays(tmp_path, module, D):
    good = np.zeros((2, 5, D), np.float32)
    with pytest.raises(ValueError, match="train"):
        module.save_dataset(tmp_path / "d.npz", good[0], good)
    with pytest.raises(ValueError, match="test"):
        module.save_dataset(tmp_path / "d.npz", good, good[..., :1])
    assert not list(tmp_path.iterdir())


# --- training entry points -------------------------------------------------------------------------

@pytest.mark.parametrize("bad, word", [
    (dict(tf_epochs=-1), "tf_epochs"), (dict(fr_epochs=-2), "fr_epochs"), (dict(n_val=0), "n_val"),
    (dict(fr_lr=0.0), "fr_lr"), (dict(lr_decay=-0.5), "lr_decay"), (dict(clip=0), "clip"),
    (dict(lr_decay_every=0), "lr_decay_every"), (dict(mask="gap"), "mask must be one of"),
])
def test_train_config_names_the_bad_field(bad, word):
    with pytest.raises(ValueError, match=word):
        TrainConfig(**bad)


@pytest.mark.parametrize("bad, word", [
    (dict(batch_size=0), "batch_size"), (dict(iterations=-1), "iterations"), (dict(g_lr=0.0), "g_lr"),
    (dict(separation=0.0), "separation"), (dict(step_scale=-1.0), "step_scale"),
])
def test_adversarial_config_names_the_bad_field(bad, word):
    with pytest.raises(ValueError, match=word):
        AdversarialConfig(**bad)


PLAYS = RNG.uniform(-0.4, 0.4, size=(4, 10, 10)).astype(np.float32)


@pytest.mark.parametrize("train_x, err, word", [
    (PLAYS[0], ValueError, r"shape \(N, T, D\)"),
    (PLAYS[..., :2], ValueError, "dim=10"),
    (PLAYS[:0], ValueError, "no sequences"),
    (PLAYS[:, :1], ValueError, "T=2"),
    (_with(PLAYS, (1, 2, 3), np.nan), ValueError, "NaN or inf"),
    (PLAYS.astype(str), TypeError, "real numbers"),
    (PLAYS.tolist(), TypeError, "numpy array or a torch tensor"),
], ids=["rank 2", "wrong D", "empty", "T=1", "NaN", "strings", "a list"])
def test_train_adversarial_checks_its_data_first(train_x, err, word):
    model = tiny_model(gaussian=True, dim=10)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(err, match=word):
        train_adversarial(model, train_x, AdversarialConfig(iterations=1, d_pretrain_steps=1, device="cpu",
                                                            progress=False))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_train_adversarial_accepts_torch_and_float64_plays():
    cfg = AdversarialConfig(disc_hidden=4, iterations=1, d_pretrain_steps=0, d_steps=1, batch_size=2,
                            missing=(5, 8), device="cpu", progress=False)
    for plays in (torch.as_tensor(PLAYS), PLAYS.astype(np.float64)):
        _, _, history = train_adversarial(tiny_model(gaussian=True, dim=10), plays, cfg)
        assert len(history.rows) == 1


# --- checkpoints: what is wrong with the file is named ----------------------------------------------

def _payload(tmp_path):
    path = tmp_path / "m.pt"
    save(tiny_model(), path)
    return path, torch.load(path, weights_only=True)


@pytest.mark.parametrize("change, word", [
    (lambda p: [p["state_dict"]], "not a naomi_lite checkpoint"),
    (lambda p: {**p, "kit": "other_kit"}, "not a naomi_lite checkpoint"),
    (lambda p: {k: v for k, v in p.items() if k != "state_dict"}, "no 'state_dict' entry"),
    (lambda p: {k: v for k, v in p.items() if k != "config"}, "no 'config' entry"),
    (lambda p: {**p, "config": {**p["config"], "model": "transformer"}}, "cannot build: model must be one of"),
    (lambda p: {**p, "config": {**p["config"], "highest": 6}}, "cannot build: highest must be a power of two"),
    (lambda p: {**p, "config": {**p["config"], "hidden": 16}}, r"does not match.*size mismatch"),
    (lambda p: {**p, "config": {**p["config"], "model": "rnn", "highest": 1}}, "does not match the rnn model"),
    (lambda p: {**p, "version": "0.9.0"}, "written by naomi_lite 0.9.0, this is " + re.escape(naomi_lite.__version__)),
], ids=["a list", "other kit", "no state_dict", "no config", "unknown model type", "bad highest", "config differs",
        "other model type", "version differs"])
def test_checkpoint_problems_are_named(tmp_path, change, word):
    path, payload = _payload(tmp_path)
    torch.save(change(payload), path)
    with pytest.raises(CheckpointError, match=word):
        load(path, device="cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_checkpoint_asked_onto_a_missing_gpu(tmp_path):
    path, _ = _payload(tmp_path)
    with pytest.raises(ValueError, match="CUDA is not available"):
        load(path, device="cuda")


# --- the chapters' papermill parameters --------------------------------------------------------------

def _chapter_cells(path):
    """(code before the parameters cell, the parameters cell, the first code cell after it)."""
    cells = nbformat.read(path, as_version=4).cells
    i = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    check = next(c for c in cells[i + 1:] if c.cell_type == "code")
    before = "\n".join(c.source for c in cells[:i] if c.cell_type == "code")
    return before, cells[i].source, check.source


def _parameters(source):
    return [(m.group(1), eval(m.group(2))) for m in re.finditer(r"^(\w+) = (.+?)\s*(?:#.*)?$", source, re.M)]


def _bad_values(default):
    if isinstance(default, bool):
        return ["bogus", 1]
    if isinstance(default, int):
        return ["bogus", -1]
    return ["bogus", default.upper() + "!"]


# Every chapter: its parameters go through naomi_lite.params.
CHAPTERS = sorted(p for p in NOTEBOOKS.glob("0[0-9]_*.ipynb"))

CHAPTER_CASES = [(path.stem, name, bad)
                 for path in CHAPTERS
                 for name, default in _parameters(_chapter_cells(path)[1])
                 for bad in _bad_values(default)]


@pytest.mark.parametrize("chapter, name, bad", CHAPTER_CASES)
def test_a_bad_parameter_stops_the_first_cell_after_parameters(chapter, name, bad):
    """What papermill does: the parameters cell, then the injected value, then the check cell."""
    before, parameters, check = _chapter_cells(NOTEBOOKS / f"{chapter}.ipynb")
    scope: dict = {}
    exec(before, scope)
    exec(parameters + f"\n{name} = {bad!r}\n", scope)
    with pytest.raises(ValueError) as info:
        exec(check, scope)
    message = str(info.value)
    assert f"parameter {name} must be" in message and f"got {bad!r}" in message
    assert re.search(r"one of \[|an integer (from -?\d+ to \d+|>= \d+)", message), message  # the allowed values


def test_every_chapter_checks_every_parameter_with_naomi_lite_params():
    assert len(CHAPTERS) == 8
    for path in CHAPTERS:
        _, parameters, check = _chapter_cells(path)
        for name, _ in _parameters(parameters):
            assert re.search(rf"check_\w+\(\"{name}\", {name}\b", check), f"{path.name}: {name} is not checked"


@pytest.mark.parametrize("call, message", [
    (lambda: params.check_int("n", 10.0, 1, 20), "parameter n must be an integer from 1 to 20, got 10.0"),
    (lambda: params.check_int("n", True, 0), "parameter n must be an integer >= 0, got True"),
    (lambda: params.check_int("n", 21, 1, 20), "parameter n must be an integer from 1 to 20, got 21"),
    (lambda: params.check_choice("p", "Paper", ["paper", "gap"]), "parameter p must be one of ['paper', 'gap'], got 'Paper'"),
    (lambda: params.check_choice("h", True, [1, 2]), "parameter h must be one of [1, 2], got True"),
    (lambda: params.check_bool("f", "True"), "parameter f must be one of [True, False], got 'True'"),
    (lambda: params.check_power_of_two("h", 48, 1, 64), "one of [1, 2, 4, 8, 16, 32, 64], got 48"),
    (lambda: params.check_device("d", "gpu"), "parameter d must be one of ['auto', 'cpu', 'cuda', 'cuda:N']"),
])
def test_params_messages_list_the_allowed_values(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


def test_params_return_good_values():
    assert params.check_int("n", 5, 1, 9) == 5 and params.check_bool("f", False) is False
    assert params.check_choice("p", "gap", MASK_PATTERNS) == "gap" and params.check_power_of_two("h", 8) == 8
    assert [params.check_device("d", d) for d in ("auto", "cpu", "cuda", "cuda:1")] == ["auto", "cpu", "cuda", "cuda:1"]
