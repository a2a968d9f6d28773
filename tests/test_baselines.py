"""Tests for linear interpolation and KNN imputation in naomi_lite/baselines.py."""

import numpy as np
import pytest
import torch

from naomi_lite.baselines import knn_impute, linear_interpolate
from naomi_lite.masks import paper_mask
from naomi_lite.metrics import l2_missing

nan = np.nan


# --- linear_interpolate -----------------------------------------------------

def test_linear_between_two_observations():
    x = np.array([[0.0, 0.0], [nan, nan], [nan, nan], [3.0, 6.0]])
    out = linear_interpolate(x, [1, 0, 0, 1])
    assert out.tolist() == [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]


def test_linear_holds_the_nearest_value_at_the_ends():
    x = np.array([[nan, nan], [1.0, 1.0], [nan, nan], [3.0, 5.0], [nan, nan]])
    out = linear_interpolate(x, [0, 1, 0, 1, 0])
    assert out.tolist() == [[1.0, 1.0], [1.0, 1.0], [2.0, 3.0], [3.0, 5.0], [3.0, 5.0]]


def test_linear_single_observation_is_constant():
    x = np.full((4, 2), nan)
    x[2] = [0.5, -0.5]
    assert linear_interpolate(x, [0, 0, 1, 0]).tolist() == [[0.5, -0.5]] * 4


def test_linear_one_mask_per_sequence():
    x = np.stack([np.arange(5.0)[:, None].repeat(2, 1), 10 * np.arange(5.0)[:, None].repeat(2, 1)])
    mask = np.array([[1, 0, 0, 0, 1], [1, 1, 0, 1, 1]], dtype=bool)
    out = linear_interpolate(np.where(mask[..., None], x, nan), mask)
    assert np.allclose(out, x)                        # a straight line is recovered exactly


def test_linear_keeps_observed_values_and_type():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 30, 2)).astype(np.float32)
    mask = paper_mask(20, T=30, missing=(10, 25), seed=0)
    out = linear_interpolate(np.where(mask[..., None], x, nan), mask)
    assert out.dtype == np.float32 and isinstance(out, np.ndarray)
    assert np.array_equal(out[mask], x[mask])          # bit for bit
    assert np.isfinite(out).all()


def test_linear_torch_in_torch_out():
    x = torch.tensor([[0.0, 0.0], [float("nan"), float("nan")], [2.0, 4.0]], dtype=torch.float64)
    out = linear_interpolate(x, torch.tensor([True, False, True]))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    assert out.tolist() == [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0]]


def test_linear_errors():
    with pytest.raises(ValueError, match="no observed step"):
        linear_interpolate(np.zeros((2, 3, 2)), np.array([[1, 0, 0], [0, 0, 0]]))
    with pytest.raises(ValueError, match="observed step"):
        linear_interpolate(np.array([[nan, 0.0], [1.0, 1.0]]), [1, 1])
    with pytest.raises(ValueError, match="shape"):
        linear_interpolate(np.zeros((2, 3, 2)), np.ones((2, 4)))
    with pytest.raises(ValueError):
        linear_interpolate(np.zeros(3), [1, 1, 1])


def test_linear_handles_a_full_test_set():
    # Speed is a benchmark matter (benchmarks/billiards_accuracy.py prints impute times); here: correctness at size.
    x = np.random.default_rng(0).normal(size=(1000, 200, 2))
    mask = paper_mask(1000, seed=0)
    out = linear_interpolate(x, mask)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[mask], x[mask])


# --- knn_impute -------------------------------------------------------------

def _constant_train(values, T=4):
    return np.array([[[v, v]] * T for v in values], dtype=np.float64)  # (M, T, 2)


def test_knn_hand_example():
    train = _constant_train([0.0, 1.0, 10.0])
    x = np.array([[0.9, 0.9], [nan, nan], [nan, nan], [nan, nan]])
    mask = [1, 0, 0, 0]
    assert knn_impute(x, mask, train, k=1)[1:].tolist() == [[1.0, 1.0]] * 3
    assert knn_impute(x, mask, train, k=2)[1:].tolist() == [[0.5, 0.5]] * 3
    out = knn_impute(x, mask, train, k=3)
    assert out[0].tolist() == [0.9, 0.9]               # observed kept
    assert np.allclose(out[1:], 11.0 / 3)


def test_knn_uses_only_observed_steps():
    # sequence A matches the query on the observed steps 0 and 3 and is far elsewhere;
    # sequence B is close at the missing steps but off at the observed ones.
    train = np.array([
        [[0.0, 0.0], [5.0, 5.0], [5.0, 5.0], [1.0, 1.0]],
        [[0.5, 0.5], [0.0, 0.0], [0.0, 0.0], [0.5, 0.5]],
    ])
    x = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    out = knn_impute(x, [1, 0, 0, 1], train, k=1)
    assert out.tolist() == [[0.0, 0.0], [5.0, 5.0], [5.0, 5.0], [1.0, 1.0]]


def _knn_brute_force(x, mask, train, k):
    out = x.copy()
    for i in range(len(x)):
        obs = mask[i]
        d = ((train[:, obs] - x[i, obs]) ** 2).mean(axis=(1, 2))
        nearest = np.argsort(d)[:k]
        out[i, ~obs] = train[nearest][:, ~obs].mean(axis=0)
    return out


def test_knn_matches_brute_force_and_chunking_does_not_matter():
    rng = np.random.default_rng(1)
    train = rng.normal(size=(50, 12, 2))
    x = rng.normal(size=(7, 12, 2))
    mask = paper_mask(7, T=12, missing=(4, 9), seed=1)
    xin = np.where(mask[..., None], x, nan)
    expected = _knn_brute_force(x, mask, train, k=5)
    assert np.allclose(knn_impute(xin, mask, train, k=5), expected)
    assert np.array_equal(knn_impute(xin, mask, train, k=5, chunk_size=2),
                          knn_impute(xin, mask, train, k=5, chunk_size=256))


def test_knn_types_and_errors():
    train = _constant_train([0.0, 1.0, 2.0])
    x = torch.tensor([[0.9, 0.9], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], dtype=torch.float32)
    out = knn_impute(x, torch.tensor([1, 0, 0, 0]), torch.from_numpy(train), k=1)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out[0].tolist() == pytest.approx([0.9, 0.9])
    with pytest.raises(ValueError, match="larger than"):
        knn_impute(x, [1, 0, 0, 0], train, k=4)
    with pytest.raises(ValueError, match="train"):
        knn_impute(x, [1, 0, 0, 0], train[:, :3], k=1)
    with pytest.raises(ValueError):
        knn_impute(x, [1, 0, 0, 0], train, k=0)


# --- both, on the billiards test set ----------------------------------------

@pytest.fixture(scope="module")
def billiards():
    from data_gen.billiards import simulate

    test = simulate(1000, T=200, seed=1)
    train = simulate(4000, T=200, seed=0)
    mask = paper_mask(1000, T=200, seed=2)
    return test, train, mask


def test_baselines_on_billiards(billiards):
    test, train, mask = billiards
    xin = np.where(mask[..., None], test, nan)
    lin = linear_interpolate(xin, mask)
    knn = knn_impute(xin, mask, train, k=10)
    for out in (lin, knn):
        assert out.shape == test.shape and np.isfinite(out).all()
        assert np.array_equal(out[mask], test[mask])
    # measured: linear 0.286, KNN 0.273 (seeds as in this fixture)
    assert 0.2 < l2_missing(lin, test, mask).mean() < 0.4
    assert 0.2 < l2_missing(knn, test, mask).mean() < 0.4


# --- the Gaussian conditional (kit's yardstick) ---------------------------------------------------------


def _gaussian_sequences(n=4000, T=6, seed=0):
    """Sequences from a known Gaussian: a random walk with Gaussian steps, D = 1."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=(n, T, 1)), axis=1)  # (n, T, 1): cov[s, t] = min(s, t) + 1


def test_gaussian_conditional_of_a_random_walk_is_the_brownian_bridge():
    """For a random walk the conditional mean between two observations is the straight line, and
    after the last one it holds the last value: the formula, checked against what it must give."""
    from naomi_lite.baselines import GaussianConditional

    g = GaussianConditional(_gaussian_sequences(200_000), ridge=0.0)
    x = np.array([[[0.0], [9.0], [9.0], [3.0], [9.0], [9.0]]])  # (1, 6, 1); steps 1, 2, 4, 5 missing
    mask = np.array([[True, False, False, True, False, False]])
    out = g.impute(x, mask)
    np.testing.assert_allclose(out[0, :, 0], [0.0, 1.0, 2.0, 3.0, 3.0, 3.0], atol=0.05)
    assert out[0, 0, 0] == 0.0 and out[0, 3, 0] == 3.0  # observed steps exactly


def test_gaussian_conditional_samples_centre_on_the_mean_and_keep_observed_steps():
    from naomi_lite.baselines import GaussianConditional

    g = GaussianConditional(_gaussian_sequences())
    x = _gaussian_sequences(3, seed=1)
    mask = np.array([[True, False, True, False, False, True]] * 3)
    s = g.samples(x, mask, n_samples=4000, seed=0)  # (3, 4000, 6, 1)
    assert s.shape == (3, 4000, 6, 1)
    np.testing.assert_array_equal(s[:, :, mask[0]], np.repeat(x[:, None], 4000, axis=1)[:, :, mask[0]].astype(np.float32))
    np.testing.assert_allclose(s.mean(axis=1), g.impute(x, mask), atol=0.1)
    assert s[:, :, 1].std() > 0.3  # a real spread at a missing step (variance 0.5 for this bridge)
    np.testing.assert_array_equal(g.samples(x, mask, 3, seed=5), g.samples(x, mask, 3, seed=5))


def test_gaussian_conditional_errors():
    from naomi_lite.baselines import GaussianConditional

    with pytest.raises(ValueError, match="shape"):
        GaussianConditional(np.zeros((5, 6)))
    with pytest.raises(ValueError, match="at least 2"):
        GaussianConditional(np.zeros((1, 6, 1)))
    with pytest.raises(ValueError, match="NaN"):
        GaussianConditional(np.full((3, 6, 1), np.nan))
    g = GaussianConditional(_gaussian_sequences(50))
    with pytest.raises(ValueError, match="like the training sequences"):
        g.impute(np.zeros((2, 7, 1)), np.ones((2, 7), bool))
    with pytest.raises(ValueError, match="n_samples"):
        g.samples(np.zeros((2, 6, 1)), np.ones((2, 6), bool), n_samples=0)
