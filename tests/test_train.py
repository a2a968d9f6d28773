"""The trainer: a tiny run end to end, reproducibility, and its command line."""
import subprocess
import sys

import numpy as np
import pytest

from naomi_lite import load
from naomi_lite.train import TrainConfig, train

TINY = dict(hidden=8, decoder_hidden=8, n_train=48, n_val=16, tf_epochs=1, fr_epochs=1,
            batch_size=16, progress=False, verbose=False, device="cpu")


@pytest.mark.parametrize("model", ["naomi", "singleres", "rnn"])
def test_tiny_training_runs_and_keeps_the_best(model):
    trained, history = train(TrainConfig(model=model, highest=8 if model == "naomi" else None, **TINY))
    assert [r["phase"] for r in history.rows] == ["init", "teacher-forced", "free-running"]
    vals = history.column("val_l2")
    assert all(v > 0 for v in vals)
    assert not trained.training


def test_same_seed_same_losses():
    _, a = train(TrainConfig(**TINY))
    _, b = train(TrainConfig(**TINY))
    assert a.column("loss")[1:] == b.column("loss")[1:]
    assert a.column("val_l2") == b.column("val_l2")


@pytest.mark.parametrize("bad, message", [(dict(model="lstm"), "model must be one of"),
                                          (dict(batch_size=0), "batch_size"), (dict(lr=-1.0), "lr"),
                                          (dict(task="mnist"), "task"), (dict(fr_loss="l1"), "fr_loss must be one of"),
                                          (dict(fr_loss="variety"), "deterministic"),
                                          (dict(task="court", fr_loss="variety", variety_k=0), "variety_k"),
                                          (dict(ema=1.0), "ema must be in"), (dict(ema=float("nan")), "ema must be in")])
def test_config_errors_name_the_problem(bad, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{**TINY, **bad})


def test_cli_writes_a_checkpoint_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "m.pt"
    cmd = [sys.executable, "-m", "naomi_lite.train", "--hidden", "8", "--decoder-hidden", "8", "--highest", "8",
           "--n-train", "32", "--n-val", "8", "--tf-epochs", "1", "--fr-epochs", "0", "--batch-size", "16",
           "--no-progress", "--no-verbose", "--device", "cpu", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert load(out).meta["train_config"]["n_train"] == 32
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 2 and "--force" in again.stderr
    bad = subprocess.run(cmd[:-2] + ["--batch-size", "0", "--out", str(tmp_path / "x.pt")], capture_output=True, text=True)
    assert bad.returncode == 2 and "batch_size" in bad.stderr


def test_training_history_follows_continued_runs():
    from naomi_lite.history import training_history

    first = {"history": {"epoch": [0, 1, 2], "loss": [float("nan"), 1.0, 0.5], "val_l2": [0.9, 0.5, 0.4],
                         "seconds": [0.0, 10.0, 20.0]}, "phases": ["init", "teacher-forced", "free-running"]}
    second = {"history": {"epoch": [0, 1], "loss": [float("nan"), 0.3], "val_l2": [0.4, 0.3], "seconds": [0.0, 5.0]},
              "phases": ["init", "free-running"], "previous": first, "train_config": {"fr_loss": "distance"}}
    h = training_history(second)
    assert h["loss_kind"] == ["squared", "squared", "squared", "distance"]  # a run without fr_loss: squared
    assert h["epoch"] == [0, 1, 2, 3]
    assert h["phase"] == ["init", "teacher-forced", "free-running", "free-running"]
    assert h["val_l2"] == [0.9, 0.5, 0.4, 0.3] and h["seconds"][-1] == 25.0


def test_training_history_labels_a_deterministic_court_run_by_its_loss():
    from naomi_lite.history import training_history

    run = {"history": {"epoch": [0, 1, 2], "loss": [float("nan"), 0.2, 0.1], "val_l2": [0.9, 0.5, 0.4],
                       "seconds": [0.0, 10.0, 20.0]}, "phases": ["init", "teacher-forced", "free-running"]}
    deterministic = {**run, "train_config": {"task": "court", "fr_loss": "distance", "deterministic": True}}
    gaussian = {**run, "train_config": {"task": "court", "fr_loss": "distance"}, "previous": deterministic}
    h = training_history(gaussian)  # a deterministic court run, continued as a Gaussian one
    assert h["loss_kind"] == ["squared", "squared", "distance", "nll", "nll"]


def test_training_history_steps_over_an_adversarial_run():
    from naomi_lite.history import training_history

    pretrain = {"history": {"epoch": [0, 1], "loss": [float("nan"), 0.2], "val_l2": [0.9, 0.5], "seconds": [0.0, 60.0]},
                "phases": ["init", "free-running"], "train_config": {"task": "court", "fr_loss": "variety"}}
    adversarial = {"history": {"iteration": [1, 2], "d_loss": [1.2, 1.1]}, "minutes": 2.0, "previous": pretrain}
    forward = {"history": {"epoch": [0, 1], "loss": [float("nan"), 0.1], "val_l2": [0.6, 0.4], "seconds": [0.0, 30.0]},
               "phases": ["init", "free-running"], "train_config": {"task": "court", "fr_loss": "distance"},
               "previous": adversarial}
    h = training_history(forward)  # the adversarial iterations add no rows, only their 2 minutes
    assert h["epoch"] == [0, 1, 2] and h["val_l2"] == [0.9, 0.5, 0.4]
    assert h["seconds"] == [0.0, 60.0, 210.0] and h["loss_kind"] == ["nll", "variety", "nll"]


def test_training_minutes_add_up_every_continued_run():
    from naomi_lite.history import training_minutes

    assert training_minutes({}) == 0.0
    assert training_minutes({"minutes": 20.2}) == 20.2
    chain = {"minutes": 10.0, "previous": {"minutes": 2.5, "previous": {"minutes": 0.5}}}
    assert training_minutes(chain) == 13.0
    assert training_minutes({"minutes": None, "previous": {"minutes": 4.0}}) == 4.0


def test_history_records_the_rate_each_epoch_trained_with():
    _, h = train(TrainConfig(**{**TINY, "lr_decay_every": 1, "fr_epochs": 0}))
    assert h.rows[1]["lr"] == TINY.get("lr", TrainConfig().lr)


def test_forward_masks_train_and_validate_on_the_first_step_only():
    cfg = TrainConfig(mask="forward", **{**TINY, "tf_epochs": 0})
    masks = cfg.masks(3, 10, seed=0)
    assert masks[:, 0].all() and not masks[:, 1:].any()
    _, history = train(cfg)
    assert [r["phase"] for r in history.rows] == ["init", "free-running"]
    with pytest.raises(ValueError, match="mask must be one of"):
        TrainConfig(mask="gap")


def test_half_checkpoints_are_smaller_and_load_as_float32(tmp_path):
    import torch

    from naomi_lite import NAOMI, NAOMIConfig
    from naomi_lite.checkpoints import read, save

    torch.manual_seed(0)
    model = NAOMI(NAOMIConfig(hidden=48, decoder_hidden=48, highest=4))  # big enough that weights outweigh the zip overhead
    full, half = save(model, tmp_path / "full.pt"), save(model, tmp_path / "half.pt", half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    assert read(half)["stored_dtype"] == "float16"
    back = load(half, device="cpu")
    for (name, a), b in zip(model.state_dict().items(), back.state_dict().values()):
        assert b.dtype == torch.float32, name
        torch.testing.assert_close(b, a, atol=1e-3, rtol=1e-3)


def test_distance_loss_is_the_l2_metric_and_trains():
    import numpy as np
    import torch

    from naomi_lite.metrics import l2_missing
    from naomi_lite.model import step_loss

    mean, target = torch.tensor([[0.0, 0.0], [3.0, 4.0]]), torch.zeros(2, 2)
    assert torch.allclose(step_loss(mean, None, target, distance=True), torch.tensor([0.0, 5.0]), atol=1e-3)
    assert torch.equal(step_loss(mean, None, target), torch.tensor([0.0, 25.0]))
    zero = mean[:1].clone().requires_grad_(True)
    step_loss(zero, None, target[:1], distance=True).sum().backward()
    assert torch.isfinite(zero.grad).all()  # no NaN gradient at zero error
    trained, history = train(TrainConfig(**{**TINY, "fr_loss": "distance"}))
    assert np.isfinite(history.column("loss")[1:]).all()
    # with one sequence per batch element, the distance loss of a model equals its l2_missing mean
    x = torch.as_tensor(np.random.default_rng(0).uniform(-0.5, 0.5, (4, 200, 2)).astype(np.float32))
    mask = torch.zeros(4, 200, dtype=torch.bool)
    mask[:, ::50] = True
    with torch.no_grad():
        loss = trained.free_running_loss(x, mask, distance=True).item()
    imputed = trained.impute(x, mask)
    missing = (~mask).sum(1).numpy()
    per_seq = l2_missing(imputed.numpy(), x.numpy(), mask.numpy())
    assert loss == pytest.approx(float((per_seq * missing).sum() / missing.sum()), rel=1e-4)


def test_variety_loss_scores_the_mean_run_plus_the_best_sample():
    import torch

    from naomi_lite import NAOMI
    from naomi_lite.model import sequence_distance, variety_loss

    torch.manual_seed(0)
    model = NAOMI(dim=10, hidden=8, decoder_hidden=8, highest=4, gaussian=True)
    x = torch.randn(3, 12, 10)
    mask = torch.zeros(3, 12, dtype=torch.bool)
    mask[:, [0, 5]] = True
    # a row's distance is the mean Euclidean error over its missing steps only
    values = x.clone()
    values[0, 1] += torch.tensor([3.0, 4.0] + [0.0] * 8)
    assert sequence_distance(values, x, mask)[0].item() == pytest.approx(5.0 / 10, abs=1e-3)  # sqrt(eps) elsewhere
    assert sequence_distance(values, x, mask)[1].item() == pytest.approx(0.0, abs=1e-3)
    # the loss: the mean run's distance plus the minimum over k sampled runs, drawn in that order
    torch.manual_seed(1)
    loss = variety_loss(model, x, mask, k=3)
    torch.manual_seed(1)
    d_mean = sequence_distance(model.run(x, mask).values, x, mask)
    xs = model.run(x.repeat(3, 1, 1), mask.repeat(3, 1), sample=True).values.view(3, 3, 12, 10)
    d_k = torch.stack([sequence_distance(xs[i], x, mask) for i in range(3)])  # (k, B)
    assert loss.item() == pytest.approx((d_mean.mean() + d_k.min(0).values.mean()).item(), rel=1e-5)
    loss.backward()  # through the best sample into the std head: the samples learn to spread
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.decoder.parameters())


def test_variety_training_selects_on_mean_plus_best_of_k():
    trained, history = train(TrainConfig(**{**TINY, "task": "court", "highest": 4, "fr_loss": "variety", "variety_k": 2}))
    scores = [r["val_l2"] + r["val_best_of_k"] for r in history.rows]
    assert history.best_epoch == history.column("epoch")[int(np.argmin(scores))]
    assert all(r["val_best_of_k"] > 0 for r in history.rows)


def _ignore_sigint():  # what a shell does to a background job (`nohup ... &`)
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_keeps_the_best_epoch_and_writes_the_checkpoint(tmp_path, signame):
    import os
    import signal

    out = tmp_path / "m.pt"
    cmd = [sys.executable, "-u", "-m", "naomi_lite.train", "--hidden", "8", "--decoder-hidden", "8", "--highest", "8",
           "--n-train", "32", "--n-val", "8", "--tf-epochs", "100000", "--fr-epochs", "0", "--batch-size", "16",
           "--no-progress", "--device", "cpu", "--threads", "1", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ignore_sigint)
    first = proc.stdout.readline()  # an epoch has finished: there is a best state to keep
    assert first.startswith("epoch   1"), first + proc.stderr.read()
    os.kill(proc.pid, getattr(signal, signame))
    rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "interrupted after" in rest and "wrote" in rest
    meta = load(out).meta
    assert meta["interrupted"] is True and len(meta["history"]["epoch"]) >= 2


def test_crop_trains_on_windows_with_the_same_share_missing():
    """--crop (the kit's extension): windows of `crop` steps, masks scaled to the same share missing;
    validation stays on whole sequences."""
    cfg = TrainConfig(crop=40, **TINY)
    masks = cfg.masks(50, 40, seed=0)
    missing = (~masks).sum(1)
    assert masks.shape == (50, 40) and missing.min() >= round(180 * 39 / 199) and missing.max() <= round(195 * 39 / 199)
    _, history = train(cfg)
    assert np.isfinite(history.column("val_l2")).all()
    with pytest.raises(ValueError, match="crop"):
        TrainConfig(crop=1, **TINY)


def test_mask_curriculum_moves_from_dense_to_the_paper_masks():
    """--missing-start/--curriculum-epochs (the kit's extension): epoch 1 uses the start range, the range
    moves linearly to --missing, and validation always uses --missing."""
    cfg = TrainConfig(missing_start=(100, 120), curriculum_epochs=4, **TINY)
    assert cfg.missing_at(1) == (100, 120)
    assert cfg.missing_at(3) == (140, 158)
    assert cfg.missing_at(5) == cfg.missing_at(50) == cfg.missing_at(None) == (180, 195)
    first = (~cfg.masks(200, 200, seed=0, epoch=1)).sum(1)
    assert first.min() >= 100 and first.max() <= 120
    window = (~cfg.masks(200, 50, seed=0, epoch=1)).sum(1)  # crops keep the share missing of the epoch's range
    assert window.min() >= round(100 * 49 / 199) and window.max() <= round(120 * 49 / 199)
    final = (~cfg.masks(200, 200, seed=0)).sum(1)
    assert final.min() >= 180 and final.max() <= 195
    _, history = train(cfg)
    assert np.isfinite(history.column("val_l2")).all()


@pytest.mark.parametrize("bad, message", [
    (dict(missing_start=(100, 120)), "missing_start needs curriculum_epochs"),
    (dict(curriculum_epochs=3), "curriculum_epochs needs missing_start"),
    (dict(missing_start=(100, 250), curriculum_epochs=3), r"missing_start\[1\] must be <= 199"),
    (dict(missing_start=(100, 120), curriculum_epochs=3, mask="forward"), "needs paper masks"),
    (dict(curriculum_epochs=-1), "curriculum_epochs must be >= 0"),
])
def test_mask_curriculum_errors_name_the_problem(bad, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{**TINY, **bad})


def test_the_readme_classroom_command_is_the_package_recipe():
    """README's "Training NAOMI in a tutorial slot" command, chapter 05 and benchmarks/peers.py all use
    naomi_lite.train.CLASSROOM: the README's copy must not drift from it."""
    from pathlib import Path

    from naomi_lite.train import classroom_config, classroom_flags

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    command = " ".join(readme.split("## Training NAOMI in a tutorial slot")[1].split("```")[1].replace("\\\n", " ").split())
    assert " ".join(classroom_flags()) in command
    cfg = classroom_config("singleres")
    assert cfg.model == "singleres" and cfg.highest is None and cfg.crop == 50


def test_classroom_flags_parse_back_to_the_same_config_booleans_included():
    from naomi_lite.train import TrainConfig, _parser, classroom_config, classroom_flags

    for overrides in ({}, {"shared_heads": True}, {"backward_gap": True, "progress": False}):
        args = vars(_parser().parse_args(classroom_flags("naomi", **overrides) + ["--out", "x.pt"]))
        parsed = TrainConfig(**{k: v for k, v in args.items() if k in TrainConfig.__dataclass_fields__})
        assert parsed == classroom_config("naomi", **overrides), overrides


def test_deterministic_trains_a_court_model_with_a_deterministic_decoder_and_gaussian_heads_continue_it(tmp_path):
    """The kit's mean-first recipe as two plain commands: ``--deterministic`` on a Gaussian task, then
    ``--init-from`` it with ``--gaussian-heads`` (and the refusals that keep the two apart)."""
    from naomi_lite.checkpoints import load
    from naomi_lite.train import main

    tiny = ["--task", "court", "--hidden", "8", "--decoder-hidden", "8", "--highest", "4", "--n-train", "16",
            "--n-val", "8", "--tf-epochs", "1", "--fr-epochs", "1", "--batch-size", "8", "--no-progress",
            "--no-verbose", "--device", "cpu"]
    det = tmp_path / "det.pt"
    assert main([*tiny, "--deterministic", "--fr-loss", "distance", "--out", str(det)]) == 0
    assert not load(det).config.gaussian
    with pytest.raises(SystemExit) as e:  # a deterministic model cannot continue as the task's Gaussian one
        main([*tiny, "--init-from", str(det), "--out", str(tmp_path / "x.pt")])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:  # nor be trained on the variety loss, which samples
        main([*tiny, "--deterministic", "--fr-loss", "variety", "--out", str(tmp_path / "y.pt")])
    assert e.value.code == 2
    gauss = tmp_path / "gauss.pt"
    assert main([*tiny, "--init-from", str(det), "--gaussian-heads", "0.01", "--tf-epochs", "0", "--fr-loss", "variety",
                 "--out", str(gauss)]) == 0
    assert load(gauss).config.gaussian


def test_ema_averages_the_weights_and_leaves_the_optimisation_alone():
    """--ema (kit's extension): one update is a lerp towards the trained weights, its decay starts short;
    training with it takes the same steps (same losses) but validates and keeps the average."""
    import torch

    from naomi_lite.train import ema_decay, ema_update

    a, b = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    with torch.no_grad():
        for p in a.parameters():
            p.fill_(0.0)
        for p in b.parameters():
            p.fill_(1.0)
    ema_update(a, b, 0.9)
    assert all(torch.allclose(p, torch.full_like(p, 0.1)) for p in a.parameters())
    assert ema_decay(0.995, 1) == 2 / 11 and ema_decay(0.995, 10**6) == 0.995
    _, plain = train(TrainConfig(**TINY))
    _, avg = train(TrainConfig(**TINY, ema=0.9))
    assert avg.column("loss")[1:] == plain.column("loss")[1:]   # the same optimisation ...
    assert avg.column("val_l2")[1:] != plain.column("val_l2")[1:]  # ... but the average is what is validated
