"""Tests for naomi_lite.court_metrics: every metric on a case worked out by hand."""
from __future__ import annotations

import numpy as np
import pytest

from naomi_lite import court_metrics as cm


def plays(*paths):
    """(1, T, 10) from five per-player paths, each a list of (x, y); missing players stand at the origin."""
    paths = list(paths) + [None] * (5 - len(paths))
    T = max(len(p) for p in paths if p is not None)
    x = np.zeros((1, T, 10))
    for k, p in enumerate(paths):
        if p is not None:
            x[0, :, 2 * k:2 * k + 2] = np.asarray(p, dtype=float)
    return x


# Player 1 walks a 3-4-5 step then stops (length 5); player 2 walks 1 right, 1 up (length 2);
# players 3-5 stand still (length 0).
WALKERS = plays([(0, 0), (3, 4), (3, 4)], [(0, 0), (1, 0), (1, 1)])


def test_trajectory_length_by_hand():
    assert cm.trajectory_length(WALKERS) == pytest.approx([(5 + 2 + 0 + 0 + 0) / 5])  # 1.4


def test_path_difference_by_hand():
    assert cm.path_difference(WALKERS) == pytest.approx([5.0 - 0.0])


def test_step_change_by_hand():
    # Player 1 takes steps of size 1, 2, 2: |2 - 1| + |2 - 2| over 2 terms = 0.5; the others 0.
    x = plays([(0, 0), (1, 0), (3, 0), (3, 2)])
    assert cm.step_change(x) == pytest.approx([0.5 / 5])
    # Constant speed in a straight line, or standing still: 0.
    assert cm.step_change(plays([(t, 0) for t in range(6)])) == pytest.approx([0.0])


def test_out_of_bound_rate_by_hand():
    # 5 players x 2 steps = 10 positions. Player 1 is beyond the half-court line at both
    # steps, player 2 beyond a sideline at one step, player 3 exactly on the baseline
    # (on the line counts as in); the rest at the centre.
    x = plays([(0.6, 0.0), (0.6, 0.0)], [(0.0, 0.0), (0.0, -0.6)], [(-0.5, 0.2), (-0.5, 0.2)])
    assert cm.out_of_bound_rate(x) == pytest.approx([3 / 10])
    # Custom bounds: with a court of [-1, 1]^2 everyone is in.
    assert cm.out_of_bound_rate(x, court_x=(-1, 1), court_y=(-1, 1)) == pytest.approx([0.0])


def test_player_distance_by_hand():
    # Corners of a 3 x 4 rectangle plus a fifth player on the first corner:
    # pair distances 3, 4, 5, 0, 5, 4, 3, 3, 4, 5 sum to 36 over 10 pairs.
    corners = [(0, 0), (3, 0), (0, 4), (3, 4), (0, 0)]
    x = plays(*[[c, (c[0] + 7, c[1] - 2)] for c in corners])  # the whole team shifts at step 2
    assert cm.player_distance(x) == pytest.approx([3.6])


def test_summarize_quartiles_by_hand():
    assert cm.summarize_quartiles([5, 1, 4, 2, 3]) == {"median": 3.0, "p25": 2.0, "p75": 4.0, "n": 5}
    with pytest.raises(ValueError, match="at least one"):
        cm.summarize_quartiles([])
    with pytest.raises(ValueError, match="NaN"):
        cm.summarize_quartiles([1.0, np.nan])


def test_metrics_agree_with_the_original_codes_loop_definitions():
    """The original code averages over sequences, players and steps at once; same T, so means agree."""
    rng = np.random.default_rng(0)
    x = rng.normal(scale=0.2, size=(4, 7, 10))
    N, T = x.shape[:2]
    length = np.zeros((N, 5))
    changes, dists = [], []
    for i in range(N):
        for k in range(5):
            steps = [np.hypot(*(x[i, t + 1, 2 * k:2 * k + 2] - x[i, t, 2 * k:2 * k + 2])) for t in range(T - 1)]
            length[i, k] = sum(steps)
            changes += [abs(steps[t + 1] - steps[t]) for t in range(T - 2)]
        for t in range(T):
            for j in range(5):
                for k in range(j + 1, 5):
                    dists.append(np.hypot(*(x[i, t, 2 * j:2 * j + 2] - x[i, t, 2 * k:2 * k + 2])))
    assert cm.trajectory_length(x).mean() == pytest.approx(length.mean())
    assert cm.path_difference(x) == pytest.approx(length.max(axis=1) - length.min(axis=1))
    assert cm.step_change(x).mean() == pytest.approx(np.mean(changes))
    assert cm.player_distance(x).mean() == pytest.approx(np.mean(dists))


def test_court_metrics_dict_single_sequence_and_torch():
    x = np.random.default_rng(1).uniform(-0.45, 0.4, size=(3, 50, 10))
    m = cm.court_metrics(x)
    assert list(m) == ["trajectory_length", "out_of_bound_rate", "step_change", "path_difference", "player_distance"]
    for v in m.values():
        assert v.shape == (3,) and v.dtype == np.float64 and np.isfinite(v).all()
    single = cm.court_metrics(x[1])
    for name, v in single.items():
        assert np.ndim(v) == 0 and v == pytest.approx(m[name][1])
    torch = pytest.importorskip("torch")
    for name, v in cm.court_metrics(torch.from_numpy(x).float()).items():
        np.testing.assert_allclose(v, m[name], rtol=1e-5, atol=1e-6)


def test_standing_team_is_finite_zero():
    x = np.zeros((2, 50, 10))
    m = cm.court_metrics(x)
    for name in ("trajectory_length", "out_of_bound_rate", "step_change", "path_difference", "player_distance"):
        np.testing.assert_array_equal(m[name], 0.0)


@pytest.mark.parametrize("bad, err, word", [
    (np.zeros((2, 50, 8)), ValueError, "(N, T, 10)"),
    (np.zeros((50,)), ValueError, "(N, T, 10)"),
    (np.zeros((2, 3, 50, 10)), ValueError, "(N, T, 10)"),
    (np.array([["a"] * 10] * 3), TypeError, "numbers"),
])
def test_wrong_input_raises(bad, err, word):
    with pytest.raises(err, match=word.replace("(", r"\(").replace(")", r"\)")):
        cm.trajectory_length(bad)


def test_nan_input_raises_for_every_metric():
    x = np.zeros((2, 50, 10))
    x[1, 7, 3] = np.nan
    for f in (cm.trajectory_length, cm.out_of_bound_rate, cm.step_change, cm.path_difference, cm.player_distance):
        with pytest.raises(ValueError, match="NaN"):
            f(x)


def test_too_short_and_bad_bounds():
    with pytest.raises(ValueError, match="at least 3"):
        cm.step_change(np.zeros((1, 2, 10)))
    with pytest.raises(ValueError, match="at least 2"):
        cm.trajectory_length(np.zeros((1, 1, 10)))
    with pytest.raises(ValueError, match="court_x"):
        cm.out_of_bound_rate(np.zeros((1, 2, 10)), court_x=(0.5, -0.5))
    with pytest.raises(TypeError, match="court_y"):
        cm.out_of_bound_rate(np.zeros((1, 2, 10)), court_y=0.5)


def test_court_bounds_match_the_generator():
    from data_gen import court

    assert cm.COURT_X == court.COURT_X and cm.COURT_Y == court.COURT_Y
    np.testing.assert_allclose(court.normalize([0.0, 47.0]), court.COURT_X)
    np.testing.assert_allclose(court.normalize([0.0, 50.0]), court.COURT_Y)


def test_ade_averages_player_distances_over_missing_steps_only():
    from naomi_lite.court_metrics import ade, best_of_k_ade, sample_ade

    truth = np.zeros((1, 4, 10))
    pred = truth.copy()
    pred[0, 1, 0::2] = 3.0  # every player 3 units off in x at step 1
    pred[0, 2, 1::2] = 4.0  # and 4 units off in y at step 2
    pred[0, 3, :] = 100.0   # an observed step: never counted
    mask = np.array([[True, False, False, True]])
    assert ade(pred, truth, mask)[0] == pytest.approx(3.5)
    samples = np.stack([pred, truth], axis=1)  # (1, 2, 4, 10): the second sample is perfect
    np.testing.assert_allclose(sample_ade(samples, truth, mask), [[3.5, 0.0]])  # (N, K)
    assert best_of_k_ade(samples, truth, mask)[0] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="at least one missing step"):
        ade(pred, truth, np.ones((1, 4), bool))
    with pytest.raises(ValueError, match=r"shape \(N, K, T, 10\)"):
        best_of_k_ade(pred, truth, mask)
