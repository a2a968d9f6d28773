"""Hand-checkable tests for the billiards metrics in naomi_lite/metrics.py."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from naomi_lite.metrics import (
    BOX,
    billiards_metrics,
    l2_missing,
    reflection_distance,
    reflection_flips,
    sinuosity,
    step_change,
    summarize,
)


def _line(T=10, v=(0.03, -0.01), start=(0.1, 0.2)):
    return np.asarray(start) + np.arange(T)[:, None] * np.asarray(v)  # (T, 2)


# --- l2_missing -------------------------------------------------------------

def test_l2_missing_three_steps():
    truth = np.zeros((3, 2))
    pred = np.array([[9.0, 9.0], [3.0, 4.0], [1.0, 0.0]])   # step 0 is observed: its error is ignored
    mask = np.array([True, False, False])
    assert l2_missing(pred, truth, mask) == pytest.approx((5.0 + 1.0) / 2)


def test_l2_missing_batch_and_no_missing_step_is_zero():
    truth = np.zeros((2, 3, 2))
    pred = np.ones((2, 3, 2))
    mask = np.array([[True, False, True], [True, True, True]])
    out = l2_missing(pred, truth, mask)
    assert out.shape == (2,)
    assert out[0] == pytest.approx(math.sqrt(2)) and out[1] == 0.0


def test_l2_missing_ignores_nan_at_observed_steps_only():
    truth = np.zeros((3, 2))
    pred = np.array([[np.nan, np.nan], [0.0, 2.0], [0.0, 0.0]])
    assert l2_missing(pred, truth, [1, 0, 0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="missing step"):
        l2_missing(pred, truth, [0, 1, 1])


def test_l2_missing_shape_checks():
    with pytest.raises(ValueError):
        l2_missing(np.zeros((3, 2)), np.zeros((4, 2)), [1, 0, 0])
    with pytest.raises(ValueError):
        l2_missing(np.zeros((3, 2)), np.zeros((3, 2)), [1, 0])


# --- reflection points ------------------------------------------------------

def test_reflection_flips_skips_zero_steps():
    # x moves +, 0, -: the reversal is found at the first step that moves back (t = 2).
    x = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    flips = reflection_flips(x)
    assert flips.shape == (4, 2)
    assert np.argwhere(flips).tolist() == [[2, 0]]


def test_reflection_flips_match_the_simulator():
    from data_gen.billiards import reflection_mask, simulate

    x = simulate(100, T=200, seed=3)
    assert np.array_equal(reflection_flips(x).any(axis=-1), reflection_mask(x))


# --- sinuosity --------------------------------------------------------------

def test_sinuosity_straight_line_is_one():
    assert sinuosity(_line()) == pytest.approx(1.0)


def test_sinuosity_l_shape_without_reversal():
    # (0,0) -> (1,0) -> (2,0) -> (2,1): no component reverses, so one segment:
    # path length 3, endpoint distance sqrt(5).
    x = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [2.0, 1.0]])
    assert sinuosity(x) == pytest.approx(3 / math.sqrt(5))


def test_sinuosity_v_shape_is_two_straight_segments():
    x = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 1.0], [4.0, 0.0]])  # y reverses at t = 2
    assert sinuosity(x) == pytest.approx(1.0)


def test_sinuosity_bent_segment_then_straight_segment():
    # steps (1,0), (1,1), (1,-1): y reverses at t = 2, cutting x_0..x_2 | x_2..x_3.
    x = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    first = (1 + math.sqrt(2)) / math.sqrt(5)
    assert sinuosity(x) == pytest.approx((first + 1.0) / 2)


def test_sinuosity_still_ball_is_straight():
    assert sinuosity(np.zeros((5, 2))) == 1.0


def test_sinuosity_ground_truth_is_about_one():
    from data_gen.billiards import simulate

    s = sinuosity(simulate(300, T=200, seed=0))
    assert s.shape == (300,)
    assert (s >= 1.0 - 1e-9).all() and s.mean() < 1.01


# --- step_change ------------------------------------------------------------

def test_step_change_constant_speed_is_zero():
    assert step_change(_line()) == pytest.approx(0.0, abs=1e-15)


def test_step_change_hand_example():
    # step sizes 1, 2, 2 -> changes 1, 0 -> mean 0.5
    x = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0], [1.0, 4.0]])
    assert step_change(x) == pytest.approx(0.5)


def test_step_change_needs_three_steps():
    with pytest.raises(ValueError, match="at least 3"):
        step_change(np.zeros((2, 2)))


# --- reflection_distance ----------------------------------------------------

def test_reflection_distance_constructed_bounce():
    # x moves +0.3 per step towards the wall at 1.0 and folds back: 0.2, 0.5, 0.8, (1.1 ->) 0.9, 0.6, 0.3.
    # The reflection point is x_3 = 0.9, 0.1 from the wall; y stays still (no flips there).
    x = np.array([[0.2, 0.0], [0.5, 0.0], [0.8, 0.0], [0.9, 0.0], [0.6, 0.0], [0.3, 0.0]])
    dist, count = reflection_distance(x, box=1.0, return_count=True)
    assert count == 1 and dist == pytest.approx(0.1)


def test_reflection_distance_beyond_the_wall_and_mid_table():
    # turns at 1.2 (0.2 beyond the wall at 1.0), then at 0.0 (1.0 from the wall): mean 0.6
    x = np.array([[0.6, 0.0], [1.2, 0.0], [0.6, 0.0], [0.0, 0.0], [0.6, 0.0]])
    dist, count = reflection_distance(x, box=1.0, return_count=True)
    assert count == 2 and dist == pytest.approx(0.6)


def test_reflection_distance_no_reflection_is_zero_with_count():
    dist, count = reflection_distance(np.stack([_line(), _line()[::-1]]), return_count=True)
    assert dist.tolist() == [0.0, 0.0] and count.tolist() == [0, 0]


def test_reflection_distance_rejects_bad_box():
    for box in (0.0, -1.0, float("nan"), "wide"):
        with pytest.raises(ValueError):
            reflection_distance(_line(), box=box)


def test_box_matches_the_simulator():
    from data_gen import billiards

    assert BOX == pytest.approx(billiards.BOX)


# --- shapes, types, NaN -----------------------------------------------------

@pytest.mark.parametrize("metric", [sinuosity, step_change, reflection_distance])
def test_single_sequence_gives_a_scalar_and_batch_gives_n(metric):
    x = np.stack([_line(), _line(v=(0.05, 0.02))])
    assert np.ndim(metric(x[0])) == 0
    out = metric(x)
    assert out.shape == (2,) and out.dtype == np.float64
    assert metric(torch.from_numpy(x).float()).shape == (2,)   # torch works too


@pytest.mark.parametrize("metric", [sinuosity, step_change, reflection_distance])
def test_nan_input_raises(metric):
    x = _line()
    x[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metric(x)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(3, 30), st.just(2)),
              elements=st.floats(-2, 2, allow_nan=False, allow_subnormal=False)))
def test_metrics_never_return_nan(x):
    mask = np.zeros(x.shape[:2], dtype=bool)
    mask[:, 0] = True
    out = billiards_metrics(x, truth=np.zeros_like(x), mask=mask)
    for name, values in out.items():
        assert values.shape == (x.shape[0],), name
        assert np.isfinite(values).all(), name
    assert (out["sinuosity"] >= 1 - 1e-9).all() and (out["sinuosity"] <= math.sqrt(2) + 1e-9).all()


@pytest.mark.parametrize("scale", [1e-158, 1e-300, 1e150])
def test_sinuosity_does_not_depend_on_scale(scale):
    # Regression: Hypothesis once drew steps of ~1e-158, whose squares are subnormal; the
    # plain norm lost their digits and sinuosity fell to 0.99999997, below its bound of 1.
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.uniform(-1, 1, (20, 12, 2)), axis=1)
    np.testing.assert_allclose(sinuosity(x * scale), sinuosity(x), rtol=1e-12)
    assert (sinuosity(x * scale) >= 1).all()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_metrics_never_nan_on_repeated_points(seed):
    rng = np.random.default_rng(seed)
    x = np.repeat(rng.uniform(-1, 1, size=(3, 6, 2)), rng.integers(1, 4), axis=1)  # held steps
    for values in billiards_metrics(x).values():
        assert np.isfinite(values).all()


# --- summarize --------------------------------------------------------------

def test_summarize_hand_example():
    s = summarize(np.arange(101.0))
    assert s == {"mean": 50.0, "p5": 5.0, "p95": 95.0, "n": 101}


def test_summarize_where_and_errors():
    s = summarize(np.array([1.0, 100.0, 3.0]), where=np.array([True, False, True]))
    assert s["mean"] == 2.0 and s["n"] == 2
    with pytest.raises(ValueError):
        summarize(np.array([1.0, np.nan]))
    with pytest.raises(ValueError):
        summarize(np.array([]))
    with pytest.raises(ValueError):
        summarize(np.array([1.0, 2.0]), where=np.array([True]))


def test_billiards_metrics_keys():
    x = np.stack([_line()] * 3)
    assert set(billiards_metrics(x)) == {"sinuosity", "step_change", "reflection_distance", "n_reflections"}
    m = billiards_metrics(x, truth=x, mask=np.ones((3, 10), bool))
    assert "l2_missing" in m and (m["l2_missing"] == 0).all()
    with pytest.raises(ValueError):
        billiards_metrics(x, truth=x)
