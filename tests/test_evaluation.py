"""Tests for naomi_lite.evaluation and naomi_lite.figures (chapter 07's numbers and pictures)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from naomi_lite import NAOMI, NAOMIConfig, figures  # noqa: E402
from naomi_lite import evaluation as ev  # noqa: E402
from naomi_lite.masks import paper_mask  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def tiny(gaussian: bool, dim: int = 2) -> NAOMI:
    torch.manual_seed(0)
    return NAOMI(NAOMIConfig(dim=dim, hidden=8, decoder_hidden=8, highest=4, gaussian=gaussian))


def paths(n: int = 6, T: int = 24, seed: int = 0) -> np.ndarray:
    """Straight, bouncing-free paths (n, T, 2) with small random velocities."""
    rng = np.random.default_rng(seed)
    start, v = rng.uniform(-0.3, 0.3, (n, 1, 2)), rng.uniform(-0.01, 0.01, (n, 1, 2))
    return (start + v * np.arange(T)[None, :, None]).astype(np.float32)


def test_impute_batched_equals_one_call_and_samples_are_seeded():
    x = paths(7)
    m = paper_mask(7, 24, (15, 20), seed=1)
    det = tiny(False)
    np.testing.assert_allclose(ev.impute_batched(det, x, m, batch_size=3), det.impute(x, m), atol=1e-5)
    gauss = tiny(True)
    a = ev.impute_batched(gauss, x, m, batch_size=3, sample=True, seed=5)
    b = ev.impute_batched(gauss, x, m, batch_size=3, sample=True, seed=5)
    c = ev.impute_batched(gauss, x, m, batch_size=3, sample=True, seed=6)
    assert np.array_equal(a, b) and not np.allclose(a[~m], c[~m])
    with pytest.raises(ValueError, match="same number of sequences"):
        ev.impute_batched(det, x, m[:3])
    with pytest.raises(ValueError, match="batch_size"):
        ev.impute_batched(det, x, m, batch_size=0)


def test_billiards_summary_of_the_truth_is_perfect():
    x = paths()
    m = paper_mask(len(x), x.shape[1], (15, 20), seed=0)
    s = ev.billiards_summary(x, x, m)
    assert set(s) == set(ev.BILLIARDS_METRICS)
    assert s["l2_missing"]["mean"] == 0 and s["sinuosity"]["mean"] == pytest.approx(1.0)
    assert s["reflection_distance"]["n"] == 0 and np.isnan(s["reflection_distance"]["mean"])  # no bounce in these paths


def test_closer_count_and_distance_to_truth_by_hand():
    def summ(v):
        return {"mean": v, "p5": v, "p95": v, "n": 1}

    results = {"Ground truth": {"a": summ(1.0), "b": summ(0.0)},
               "A": {"a": summ(1.1), "b": summ(0.5)},
               "B": {"a": summ(0.7), "b": summ(0.2)}}
    assert ev.distance_to_truth(results, "A", "a") == pytest.approx(0.1)
    assert ev.closer_count(results, "A", "B", ["a", "b"]) == ["a"]
    assert ev.closer_count(results, "B", "A", ["a", "b"]) == ["b"]
    court = {"Expert": {"a": {"median": 2.0}}, "X": {"a": {"median": 1.0}}}
    assert ev.distance_to_truth(court, "X", "a", truth="Expert") == 1.0


def test_missing_fraction_mask_counts():
    m = ev.missing_fraction_mask(5, 101, 0.9, seed=3)
    assert m.shape == (5, 101) and m[:, 0].all() and ((~m).sum(1) == 90).all()
    with pytest.raises(ValueError, match="fraction"):
        ev.missing_fraction_mask(5, 101, 1.5)


def test_sample_spread_shrinks_to_zero_at_known_steps_and_checks_input():
    model = tiny(True, dim=10)
    x = np.random.default_rng(0).uniform(-0.4, 0.4, (12, 10)).astype(np.float32)
    m = np.zeros(12, dtype=bool)
    m[[0, 11]] = True
    spread, samples = ev.sample_spread(model, x, m, n_samples=6, seed=0)
    assert spread > 0 and samples.shape == (6, 12, 10)
    assert np.array_equal(samples[:, m], np.repeat(x[None, m], 6, 0))  # known steps identical in every sample
    with pytest.raises(ValueError, match="n_samples"):
        ev.sample_spread(model, x, m, n_samples=1)
    with pytest.raises(ValueError, match="nothing to sample"):
        ev.sample_spread(model, x, np.ones(12, dtype=bool))


def test_court_summary_keys_and_test_set():
    from naomi_lite.data import court_test_set

    x, m = court_test_set(4)
    assert x.shape == (4, 50, 10) and m.shape == (4, 50) and m[:, 0].all()
    assert ((~m).sum(1) >= 40).all() and ((~m).sum(1) <= 49).all()
    s = ev.court_summary(x)
    assert tuple(s) == ev.COURT_METRICS and all(np.isfinite(v["median"]) for v in s.values())


def test_verdict_thresholds_and_claims_html():
    assert ev.verdict(4, 4, 2) == "reproduced"
    assert ev.verdict(3, 4, 2) == "partly reproduced"
    assert ev.verdict(1, 4, 2) == "not reproduced"
    claims = [ev.Claim("a <b>", "§1", "x = 1", "reproduced", "r"), ev.Claim("c", "§2", "y", "not reproduced", "s")]
    page = ev.claims_html(claims, note="n & m")
    assert page.count("<tr>") == 3 and "a &lt;b&gt;" in page and "n &amp; m" in page
    with pytest.raises(ValueError, match="verdict"):
        ev.Claim("a", "b", "c", "maybe", "d")


def test_figures_draw_one_panel_per_metric():
    x = paths()
    m = paper_mask(len(x), x.shape[1], (15, 20), seed=0)
    results = {"Ground truth": ev.billiards_summary(x, x, m), "Same": ev.billiards_summary(x, x, m)}
    axes = figures.plot_metric_summary(results, ev.BILLIARDS_METRICS[:3])
    assert len(axes) == 3 and len(axes[0].patches) == 1  # one bar: the truth is a dashed line, not a bar
    with pytest.raises(ValueError, match="one axis per metric"):
        figures.plot_metric_summary(results, ev.BILLIARDS_METRICS[:3], axes=plt.subplots(1, 2)[1])
    sweep = {0.5: results, 0.9: results}
    axes = figures.plot_robustness(sweep, ["l2_missing", "sinuosity"])
    assert len(axes) == 2 and len(axes[0].lines) == 2  # the method and the truth
    ax = figures.plot_stepwise_l2(x[0], {"Same": x[0]}, m[0])
    assert len(ax.lines) == 2


def test_pairwise_spread_is_the_mean_distance_between_samples():
    # Two samples of one agent (D = 2), 3 steps: 3-4-5 triangle apart at step 1 and 2, identical at step 0.
    a = np.zeros((3, 2))
    b = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 4.0]])
    s = np.stack([a, b])  # (S=2, T=3, D=2)
    assert ev.pairwise_spread(s, np.array([False, True, True])) == pytest.approx(5.0)
    assert ev.pairwise_spread(s, np.array([True, True, True])) == pytest.approx(10.0 / 3)
    assert ev.pairwise_spread(np.stack([a, a, a]), np.ones(3, dtype=bool)) == 0.0
    # Three samples: pairs (a,b)=5, (a,c)=0, (b,c)=5 at step 1 -> mean 10/3.
    assert ev.pairwise_spread(np.stack([a, b, a]), np.array([False, True, False])) == pytest.approx(10.0 / 3)
    with pytest.raises(ValueError, match="S >= 2"):
        ev.pairwise_spread(s[:1], np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="at least one True"):
        ev.pairwise_spread(s, np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match=r"\(T,\)"):
        ev.pairwise_spread(s, np.ones(4, dtype=bool))


def test_gap_length_counts_the_steps_of_each_gap():
    from naomi_lite.evaluation import error_by_gap_length, gap_length

    mask = np.array([[True, False, False, True, False, True, False, False, False]])
    np.testing.assert_array_equal(gap_length(mask), [[0, 2, 2, 0, 1, 0, 3, 3, 3]])
    truth = np.zeros((1, 9, 2))
    pred = truth.copy()
    pred[0, 6:, 0] = 2.0  # errors only in the trailing gap of 3 steps
    out = error_by_gap_length({"m": pred}, truth, mask)
    assert out["share"] == {"1-5": 1.0}
    assert out["m"]["1-5"] == pytest.approx(6 / 6)  # 3 steps of error 2 over 6 missing steps
