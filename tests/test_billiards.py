"""Invariants of the billiards simulator (data_gen/billiards.py, paper §4.1) and its CLI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data_gen import billiards
from data_gen.billiards import BOX, RADIUS, simulate

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sim():
    """1000 sequences (the size used for the paper statistic) with their true speeds."""
    x, speed = simulate(1000, seed=0, return_speed=True)
    return x, speed


# --- shape, dtype, determinism ----------------------------------------------


def test_shape_and_dtype():
    x = simulate(7, T=31, seed=3)
    assert x.shape == (7, 31, 2)
    assert x.dtype == np.float32
    assert simulate(0, T=5).shape == (0, 5, 2)


def test_deterministic_per_seed_and_different_across_seeds():
    a, b, c = simulate(20, seed=1), simulate(20, seed=1), simulate(20, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_sequence_i_does_not_depend_on_n():
    np.testing.assert_array_equal(simulate(5, seed=4), simulate(50, seed=4)[:5])


def test_constants_match_paper_setup():
    assert RADIUS == 0.1172 and BOX == pytest.approx(1 - 0.1172)
    assert billiards.SPEED_RANGE == (0.0018, 0.1075)
    assert billiards.T_DEFAULT == 200 and (billiards.N_TRAIN, billiards.N_TEST) == (4000, 1000)


def test_initial_conditions_cover_their_ranges(sim):
    x, speed = sim
    assert speed.min() >= 0.0018 and speed.max() <= 0.1075
    assert speed.min() < 0.01 and speed.max() > 0.1  # uniform over the range, not a constant
    start = x[:, 0]  # (N, 2)
    assert start.min() < -0.8 and start.max() > 0.8


# --- the three defining characteristics ----------------------------------------


def test_all_centres_inside_the_walls(sim):
    x, _ = sim
    assert np.all(np.abs(x) <= BOX + 1e-6)


def test_path_speed_equals_speed_every_step(sim):
    x, speed = sim
    along = billiards.path_speeds(x)  # (N, T-1)
    assert along.shape == (1000, 199)
    np.testing.assert_allclose(along, np.broadcast_to(speed[:, None], along.shape), atol=1e-5)


def test_displacement_equals_speed_away_from_reflections(sim):
    x, speed = sim
    step = np.linalg.norm(np.diff(x.astype(np.float64), axis=1), axis=-1)  # (N, T-1)
    marked = billiards.reflection_mask(x)  # (N, T)
    touched = marked[:, :-1] | marked[:, 1:]  # (N, T-1): step d_t has a sign flip at t or t+1
    touched[:, [0, -1]] = True  # a bounce inside the first/last step cannot be seen from signs
    free = ~touched
    assert free.mean() > 0.8
    err = np.abs(step - speed[:, None])[free]
    assert err.max() < 1e-5
    # ...and bounce steps really are shorter in a straight line (the path bends at the wall)
    assert (step[marked[:, :-1]] < speed[:, None].repeat(199, 1)[marked[:, :-1]] + 1e-6).all()


def _event_driven_reference(x0, v, T, box):
    """A slow, obviously-correct simulator: move to the next wall hit, flip that velocity, repeat."""
    pos, vel = np.array(x0, dtype=np.float64), np.array(v, dtype=np.float64)
    out = [pos.copy()]
    for _ in range(T - 1):
        left = 1.0  # time left in this step
        while True:
            hit = np.full(2, np.inf)  # time until each axis reaches the wall it is heading to
            moving = vel != 0
            hit[moving] = (np.sign(vel[moving]) * box - pos[moving]) / vel[moving]
            c = int(np.argmin(hit))
            if hit[c] >= left:
                pos += left * vel
                break
            pos += hit[c] * vel
            pos[c] = np.sign(vel[c]) * box  # exactly on the wall
            vel[c] = -vel[c]  # elastic: the normal component flips
            left -= hit[c]
        out.append(pos.copy())
    return np.array(out)  # (T, 2)


def test_matches_event_driven_reference():
    """Exact reflections: the folded path equals a step-by-step wall-collision simulation.

    The initial conditions are redrawn as simulate documents them (one row of four
    uniforms per sequence: x0, y0, heading, speed), then rolled out by the reference above.
    """
    n, T, seed = 40, 200, 7
    x = simulate(n, T=T, seed=seed)
    r = np.random.default_rng(seed).random((n, 4))
    lo, hi = billiards.SPEED_RANGE
    x0 = -BOX + 2 * BOX * r[:, :2]
    heading = 2 * np.pi * r[:, 2]
    speed = lo + (hi - lo) * r[:, 3]
    v = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=-1)  # (n, 2)
    bounces = 0
    for i in range(n):
        ref = _event_driven_reference(x0[i], v[i], T, BOX)  # (T, 2)
        np.testing.assert_allclose(x[i], ref, atol=1e-5)
        bounces += len(billiards.reflection_steps(ref))
    assert bounces > 50  # the comparison really covered many wall hits


def test_reflection_step_shows_exact_bounce():
    """At a bounce, (distance to the wall) + (distance back from it) equals the per-axis speed."""
    x = simulate(200, seed=11).astype(np.float64)
    v_abs = np.abs(np.diff(x, axis=1)).max(axis=1)  # (N, 2) per-axis speed, as in path_speeds
    checked = 0
    for i in range(len(x)):
        for t in billiards.reflection_steps(x[i]):
            for c in range(2):
                d_prev, d_next = x[i, t, c] - x[i, t - 1, c], x[i, t + 1, c] - x[i, t, c]
                if d_prev * d_next >= 0:
                    continue  # this axis did not flip at t
                wall = BOX if d_prev > 0 else -BOX
                # the bounce is inside step (t-1, t) or step (t, t+1); that step's path is wall-in + wall-out
                legs = [abs(wall - x[i, t - 1, c]) + abs(wall - x[i, t, c]),
                        abs(wall - x[i, t, c]) + abs(wall - x[i, t + 1, c])]
                assert min(abs(leg - v_abs[i, c]) for leg in legs) < 1e-5
                checked += 1
    assert checked > 100


def test_reflection_helpers_on_a_hand_made_path():
    # 1-D bounce off the right wall at BOX: 0.80 -> 0.85 -> BOX-0.02 (bounced) -> ...
    xs = np.array([0.80, 0.85, 2 * BOX - 0.90, 2 * BOX - 0.95])
    path = np.stack([xs, np.zeros(4)], axis=-1)  # (4, 2)
    assert billiards.reflection_steps(path).tolist() == [2]  # d_1 = +0.0156 (bounced inside), d_2 = -0.05
    np.testing.assert_allclose(billiards.path_speeds(path), [0.05, 0.05, 0.05], atol=1e-12)
    assert billiards.reflection_mask(path[None]).shape == (1, 4)


def test_fold_is_the_mirror_map():
    np.testing.assert_allclose(billiards.fold([0.0, 0.5, 1.2, 2.5, -1.2], box=1.0), [0.0, 0.5, 0.8, -0.5, -0.8])


# --- the paper's statistic --------------------------------------------------------


def test_ground_truth_step_change_matches_paper(sim):
    """Average step-size change: mean over sequences and steps of | |d_{t+1}| - |d_t| | (Table 1: 1.59e-3)."""
    x, _ = sim
    step = np.linalg.norm(np.diff(x.astype(np.float64), axis=1), axis=-1)  # (N, T-1)
    step_change = np.abs(np.diff(step, axis=1)).mean()  # scalar
    print(f"ground-truth step change on 1000 sequences: {step_change:.3e} (paper Table 1: 1.59e-3)")
    assert 1.2e-3 <= step_change <= 2.0e-3


# --- dataset, save and load ---------------------------------------------------------


def test_dataset_train_and_test_are_independent_streams():
    train, test = billiards.dataset(30, 20, seed=5)
    train2, test2 = billiards.dataset(60, 20, seed=5)
    assert train.shape == (30, 200, 2) and test.shape == (20, 200, 2)
    np.testing.assert_array_equal(test, test2)  # n_train does not move the test set
    np.testing.assert_array_equal(train, train2[:30])
    assert not np.allclose(train[:20], test)
    _, test3 = billiards.dataset(30, 20, seed=6)
    assert not np.allclose(test, test3)


def test_save_load_roundtrip(tmp_path):
    train, test = billiards.dataset(5, 3, seed=0, T=10)
    path = billiards.save_dataset(tmp_path / "sub" / "b.npz", train, test)
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["b.npz"]  # no temp file left behind
    train2, test2 = billiards.load_dataset(path)
    np.testing.assert_array_equal(train, train2)
    np.testing.assert_array_equal(test, test2)
    assert train2.dtype == np.float32


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no billiards dataset"):
        billiards.load_dataset(tmp_path / "missing.npz")
    np.savez(tmp_path / "keys.npz", train=np.zeros((2, 5, 2)), valid=np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="missing key"):
        billiards.load_dataset(tmp_path / "keys.npz")
    np.savez(tmp_path / "shape.npz", train=np.zeros((2, 5, 3)), test=np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match=r"shape \(N, T, 2\)"):
        billiards.load_dataset(tmp_path / "shape.npz")
    np.savez(tmp_path / "pickle.npz", train=np.array([{"a": 1}], dtype=object), test=np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="allow_pickle=False"):
        billiards.load_dataset(tmp_path / "pickle.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable"):
        billiards.load_dataset(tmp_path / "junk.npz")


def test_save_rejects_bad_arrays(tmp_path):
    with pytest.raises(ValueError, match="train"):
        billiards.save_dataset(tmp_path / "x.npz", np.zeros((2, 5)), np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="same T"):
        billiards.save_dataset(tmp_path / "x.npz", np.zeros((2, 5, 2)), np.zeros((2, 6, 2)))


# --- bad parameters name themselves ----------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        (dict(n=-1), ValueError, "n must"),
        (dict(n=2.5), TypeError, "n must"),
        (dict(n=True), TypeError, "n must"),
        (dict(n=3, T=1), ValueError, "T must"),
        (dict(n=3, T=10.0), TypeError, "T must"),
        (dict(n=3, seed=-1), ValueError, "seed"),
        (dict(n=3, seed="0"), TypeError, "seed"),
        (dict(n=3, radius=0.0), ValueError, "radius"),
        (dict(n=3, radius=1.0), ValueError, "radius"),
        (dict(n=3, radius=float("nan")), ValueError, "radius"),
        (dict(n=3, radius="big"), TypeError, "radius"),
        (dict(n=3, speed_range=(0.1, 0.01)), ValueError, "speed_range is inverted"),
        (dict(n=3, speed_range=(-0.1, 0.01)), ValueError, "speed_range"),
        (dict(n=3, speed_range=(0.0, 5.0)), ValueError, "speed_range"),
        (dict(n=3, speed_range=0.1), TypeError, "speed_range"),
        (dict(n=3, speed_range=(0.0, float("inf"))), ValueError, "speed_range"),
    ],
)
def test_bad_parameters_raise_and_name_the_parameter(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        simulate(**kwargs)


def test_unknown_parameter_is_rejected():
    with pytest.raises(TypeError, match="friction"):
        simulate(3, friction=0.1)


def test_dataset_bad_parameters():
    with pytest.raises(ValueError, match="n_train"):
        billiards.dataset(-1, 5)
    with pytest.raises(TypeError, match="n_test"):
        billiards.dataset(5, 1.5)


def test_custom_radius_and_speed_range():
    x, speed = simulate(50, T=100, seed=2, radius=0.3, speed_range=(0.05, 0.06), return_speed=True)
    assert np.abs(x).max() <= 0.7 + 1e-6
    assert speed.min() >= 0.05 and speed.max() <= 0.06
    np.testing.assert_allclose(billiards.path_speeds(x, radius=0.3), np.broadcast_to(speed[:, None], (50, 99)), atol=1e-5)


# --- the command line ------------------------------------------------------------------------


def _cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "data_gen", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_help(tmp_path):
    for args in (["--help"], ["billiards", "--help"]):
        r = _cli(*args, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "billiards" in r.stdout
    assert "--force" in _cli("billiards", "--help", cwd=tmp_path).stdout


def test_cli_writes_then_refuses_to_overwrite(tmp_path):
    out = tmp_path / "data" / "b.npz"
    r = _cli("billiards", "--n-train", "12", "--n-test", "4", "--seed", "3", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "(12, 200, 2)" in r.stdout and "(4, 200, 2)" in r.stdout
    train, test = billiards.load_dataset(out)
    ref_train, ref_test = billiards.dataset(12, 4, seed=3)
    np.testing.assert_array_equal(train, ref_train)
    np.testing.assert_array_equal(test, ref_test)

    before = out.read_bytes()
    r = _cli("billiards", "--n-train", "5", "--n-test", "4", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 2
    assert "--force" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == before

    r = _cli("billiards", "--n-train", "5", "--n-test", "4", "--out", str(out), "--force", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert billiards.load_dataset(out)[0].shape == (5, 200, 2)


@pytest.mark.parametrize(
    "args, word",
    [
        (["billiards", "--n-train", "-3"], "--n-train"),
        (["billiards", "--n-test", "abc"], "--n-test"),
        (["billiards", "--seed", "-1"], "--seed"),
        (["billiards", "--T", "1"], "--T"),
        (["billiards", "--bogus"], "--bogus"),
        (["nosuchdataset"], "nosuchdataset"),
        ([], "choose a dataset"),
    ],
)
def test_cli_bad_arguments_exit_2_with_one_line(tmp_path, args, word):
    r = _cli(*args, "--out", str(tmp_path / "x.npz"), cwd=tmp_path) if args[:1] == ["billiards"] else _cli(*args, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert word in lines[0]
    assert not (tmp_path / "x.npz").exists()
