"""Tests for data_gen.court: the synthetic half-court generator, its files and its command line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data_gen import court
from naomi_lite import court_metrics as cm

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def plays():
    return court.simulate(2000, seed=0)  # (2000, 50, 10)


def feet(x):
    """(N, T, 10) normalized -> (N, T, 5, 2) feet."""
    x = np.asarray(x)
    return court.denormalize(x).reshape(*x.shape[:2], 5, 2)


# --- shapes, determinism, seeds ------------------------------------------------------------


def test_shape_dtype_and_layout():
    x = court.simulate(7, seed=0)
    assert x.shape == (7, 50, 10) and x.dtype == np.float32
    assert court.simulate(3, T=20, seed=0).shape == (3, 20, 10)
    assert court.simulate(0).shape == (0, 50, 10)


def test_deterministic_per_seed_and_seeds_differ():
    np.testing.assert_array_equal(court.simulate(5, seed=11), court.simulate(5, seed=11))
    assert not np.allclose(court.simulate(5, seed=11), court.simulate(5, seed=12))


def test_dataset_streams_are_independent():
    train, test = court.dataset(6, 4, seed=3)
    assert train.shape == (6, 50, 10) and test.shape == (4, 50, 10)
    _, test_again = court.dataset(9, 4, seed=3)
    np.testing.assert_array_equal(test, test_again)  # test does not depend on n_train
    assert not np.allclose(train[:4], test)
    assert not np.allclose(court.dataset(2, 2, seed=4)[1], test[:2])


def test_normalize_round_trip_and_naomi_units():
    ft = np.array([[0.0, 0.0], [47.0, 50.0], [23.5, 25.0]])
    np.testing.assert_allclose(court.normalize(ft), [[-0.5, -0.5], [0.44, 0.5], [-0.03, 0.0]])
    np.testing.assert_allclose(court.denormalize(court.normalize(ft)), ft)
    # The original code: x_ft = 94 x + 25, y_ft = 50 y + 25.
    x = court.normalize(np.tile(ft.ravel()[None, :2], (1, 5)))  # one step, five players at (0, 0) ft
    n = court.to_naomi_units(x)
    np.testing.assert_allclose(94 * n[..., 0::2] + 25, 0.0, atol=1e-12)
    np.testing.assert_allclose(50 * n[..., 1::2] + 25, 0.0, atol=1e-12)
    np.testing.assert_allclose(court.from_naomi_units(n), x)


# --- plausible motion -----------------------------------------------------------------------


def test_speeds_stay_below_20_feet_per_second(plays):
    speed = np.linalg.norm(np.diff(feet(plays), axis=1), axis=-1) / court.DT  # (N, T-1, 5) ft/s
    assert speed.max() <= 20.0 + 1e-3  # clipped exactly (float32 rounding aside)
    assert 2.0 < speed.mean() < 8.0  # players jog on average, and sometimes stand


def test_mostly_in_bounds_with_rare_excursions(plays):
    rate = cm.out_of_bound_rate(plays).mean()
    assert 0.0 < rate < 0.01  # rare, but not never (like real tracking data)
    ft = feet(plays)
    assert ft[..., 0].min() > -5 and ft[..., 0].max() < 52 and ft[..., 1].min() > -5 and ft[..., 1].max() < 55


def test_team_keeps_its_spacing(plays):
    assert 0.3 < np.median(cm.player_distance(plays)) < 0.6  # 15 to 30 ft between teammates


# --- stochastic, branching futures -----------------------------------------------------------


def test_futures_start_together_and_diverge():
    start = court.initial_state(1, seed=5)
    f = court.simulate_futures(start, 300, seed=1)  # (300, 50, 10)
    assert f.shape == (300, 50, 10) and f.dtype == np.float32
    np.testing.assert_array_equal(f[:, 0], np.broadcast_to(f[0, 0], (300, 10)))
    np.testing.assert_allclose(feet(f[:1, :1])[0, 0], start.pos[0], atol=1e-4)
    np.testing.assert_array_equal(f, court.simulate_futures(start, 300, seed=1))
    ft = feet(f)
    spread = ft.std(axis=0).mean(axis=(-2, -1))  # (T,) spread across futures, feet
    assert spread[1] > 0
    assert spread[49] > 20 * spread[1] and spread[49] > 4.0  # feet


def test_futures_are_multimodal():
    """Final positions gather at several court spots, and their mean is where few futures go.

    Criterion, per agent, over 300 futures from one start: label a future's final position
    by its nearest goal spot when it lies within 6 ft of it. The agent is *multimodal*
    when (a) at least two different spots each hold >= 10% of the futures, and (b) at
    most 15% of the futures end within 4 ft of the mean final position: the single
    guess that minimises L2 error sits where hardly any future goes. We ask this of at
    least two of the five agents for each of three start states.
    """
    for seed in range(3):
        f = feet(court.simulate_futures(court.initial_state(1, seed=seed), 300, seed=seed))
        multimodal = 0
        for a in range(5):
            final = f[:, -1, a]  # (300, 2) feet
            d = np.linalg.norm(final[:, None] - court._SPOTS[None], axis=-1)  # (300, S)
            label = np.where(d.min(axis=1) < 6.0, d.argmin(axis=1), -1)
            share = np.bincount(label[label >= 0], minlength=len(court.GOAL_SPOTS)) / len(final)
            near_mean = (np.linalg.norm(final - final.mean(axis=0), axis=1) < 4.0).mean()
            multimodal += (share >= 0.10).sum() >= 2 and near_mean <= 0.15
        assert multimodal >= 2, f"start seed {seed}: only {multimodal} multimodal agents"


def test_state_select_and_continue():
    x, state = court.simulate(4, T=10, seed=2, return_state=True)
    assert state.n == 4 and state.pos.shape == (4, 5, 2)
    np.testing.assert_allclose(court.normalize(state.pos[2]).ravel(), x[2, -1], atol=1e-6)
    one = state.select(2)
    assert one.n == 1
    assert court.simulate_futures(one, 3, T=5, seed=0).shape == (3, 5, 10)
    with pytest.raises(ValueError, match="exactly one play"):
        court.simulate_futures(state, 3)
    with pytest.raises(ValueError, match="i must be < n"):
        state.select(4)
    with pytest.raises(TypeError, match="CourtState"):
        court.simulate_futures(x, 3)


# --- bad parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, err, word", [
    (dict(n=-1), ValueError, "n must"),
    (dict(n=2.5), TypeError, "n must"),
    (dict(n=2, T=0), ValueError, "T must"),
    (dict(n=2, seed=-3), ValueError, "seed"),
    (dict(n=2, seed="a"), TypeError, "seed"),
    (dict(n=2, noise=-1.0), ValueError, "noise"),
    (dict(n=2, max_speed=0), ValueError, "max_speed"),
    (dict(n=2, pull=float("nan")), ValueError, "pull"),
    (dict(n=2, spacing="wide"), TypeError, "spacing"),
    (dict(n=2, cruise_speed=(10.0, 5.0)), ValueError, "cruise_speed"),
    (dict(n=2, cruise_speed=(10.0, 25.0)), ValueError, "max_speed"),
    (dict(n=2, switch_rate=0.3), TypeError, "switch_rate"),
    (dict(n=2, burn_in=1.5), TypeError, "burn_in"),
    (dict(n=2, speed=3.0), TypeError, "unknown court parameter"),
])
def test_bad_parameters_are_named(kwargs, err, word):
    with pytest.raises(err, match=word):
        court.simulate(**kwargs)


def test_parameters_change_the_motion():
    calm = court.simulate(200, seed=0, noise=0.0, switch_rate=(0.01, 0.01))
    busy = court.simulate(200, seed=0, switch_rate=(1.0, 2.0))
    assert cm.trajectory_length(busy).mean() > 1.5 * cm.trajectory_length(calm).mean()


# --- files -----------------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    train, test = court.dataset(5, 3, seed=1, T=12)
    path = court.save_dataset(tmp_path / "sub" / "court.npz", train, test)
    assert path.exists() and not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    train2, test2 = court.load_dataset(path)
    np.testing.assert_array_equal(train, train2)
    np.testing.assert_array_equal(test, test2)
    with pytest.raises(FileNotFoundError, match="python -m data_gen court"):
        court.load_dataset(tmp_path / "nope.npz")
    np.savez(tmp_path / "half.npz", train=train)
    with pytest.raises(ValueError, match="missing key"):
        court.load_dataset(tmp_path / "half.npz")
    with pytest.raises(ValueError, match=r"\(N, T, 10\)"):
        court.save_dataset(tmp_path / "bad.npz", train[..., :2], test)


def _feet_plays(n=4, T=6, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(0, 47, (n, T, 5, 1)), rng.uniform(0, 50, (n, T, 5, 1))], -1).reshape(n, T, 10)


def test_load_real_feet_npy_and_npz(tmp_path):
    ft = _feet_plays()
    np.save(tmp_path / "real.npy", ft)
    x = court.load_real(tmp_path / "real.npy")  # units="feet" by default
    assert x.dtype == np.float32 and x.shape == (4, 6, 10)
    np.testing.assert_allclose(x, ft / 50 - 0.5, atol=1e-6)
    np.testing.assert_allclose(court.denormalize(x), ft, atol=1e-4)
    np.savez(tmp_path / "one.npz", plays=ft)
    np.testing.assert_array_equal(court.load_real(tmp_path / "one.npz"), x)
    np.savez(tmp_path / "two.npz", a=ft, b=ft[:2])
    with pytest.raises(ValueError, match="key="):
        court.load_real(tmp_path / "two.npz")
    assert court.load_real(tmp_path / "two.npz", key="b").shape == (2, 6, 10)
    with pytest.raises(ValueError, match="no array 'c'"):
        court.load_real(tmp_path / "two.npz", key="c")


def test_load_real_other_units(tmp_path):
    x = court.simulate(3, T=8, seed=0)
    np.save(tmp_path / "ours.npy", x)
    np.testing.assert_array_equal(court.load_real(tmp_path / "ours.npy", units="normalized"), x)
    np.save(tmp_path / "naomi.npy", court.to_naomi_units(x))
    np.testing.assert_allclose(court.load_real(tmp_path / "naomi.npy", units="naomi"), x, atol=1e-6)
    # our own dataset file works too, choosing the split by key
    court.save_dataset(tmp_path / "ds.npz", x, x[:1])
    assert court.load_real(tmp_path / "ds.npz", units="normalized", key="test").shape == (1, 8, 10)


def test_load_real_errors(tmp_path):
    ft = _feet_plays()
    cases = {
        "shape.npy": (ft.reshape(4, 6, 5, 2), "expected shape"),
        "transposed.npy": (ft[..., :8], "expected shape"),
        "nan.npy": (np.where(np.arange(10) == 3, np.nan, ft), "NaN"),
        "looks_normalized.npy": (ft / 50 - 0.5, "looks normalized"),
    }
    for name, (a, word) in cases.items():
        np.save(tmp_path / name, a)
        with pytest.raises(ValueError, match=word):
            court.load_real(tmp_path / name)
    np.save(tmp_path / "ok.npy", ft)
    with pytest.raises(ValueError, match="are the units right"):  # feet read as normalized: far off the court
        court.load_real(tmp_path / "ok.npy", units="normalized")
    with pytest.raises(ValueError, match="units must be one of"):
        court.load_real(tmp_path / "ok.npy", units="meters")
    np.save(tmp_path / "obj.npy", np.array([ft, "x"], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        court.load_real(tmp_path / "obj.npy")
    with pytest.raises(FileNotFoundError):
        court.load_real(tmp_path / "missing.npy")


# --- the command line --------------------------------------------------------------------------


def _cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "data_gen", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_writes_then_refuses_to_overwrite(tmp_path):
    out = tmp_path / "data" / "court.npz"
    r = _cli("court", "--n-train", "6", "--n-test", "3", "--seed", "2", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "(6, 50, 10)" in r.stdout and "(3, 50, 10)" in r.stdout
    train, test = court.load_dataset(out)
    ref_train, ref_test = court.dataset(6, 3, seed=2)
    np.testing.assert_array_equal(train, ref_train)
    np.testing.assert_array_equal(test, ref_test)
    before = out.read_bytes()
    r = _cli("court", "--n-train", "2", "--n-test", "2", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 2 and "--force" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == before
    r = _cli("court", "--n-train", "2", "--n-test", "2", "--out", str(out), "--force", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert court.load_dataset(out)[0].shape == (2, 50, 10)


def test_cli_bad_argument_exits_2_with_one_line(tmp_path):
    r = _cli("court", "--n-train", "-3", "--out", str(tmp_path / "x.npz"), cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--n-train" in lines[0]
    assert not (tmp_path / "x.npz").exists()
