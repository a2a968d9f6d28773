"""Tests for the mask pattern generators and as_mask in naomi_lite/masks.py."""
import numpy as np
import pytest
import torch

from naomi_lite.masks import (
    MASK_PATTERNS,
    as_mask,
    edge_mask,
    forward_mask,
    gap_mask,
    imputation_order,
    paper_mask,
    random_mask,
)


# --- paper_mask -------------------------------------------------------------

def test_paper_mask_billiards_counts():
    m = paper_mask(500, T=200, missing=(180, 195), seed=0)
    assert m.shape == (500, 200) and m.dtype == bool
    assert m[:, 0].all()                       # step 0 always observed
    k = (~m).sum(axis=1)
    assert k.min() >= 180 and k.max() <= 195
    assert set(np.unique(k)) == set(range(180, 196))  # both ends of the range are reachable


def test_paper_mask_court_counts():
    m = paper_mask(300, T=50, missing=(40, 49), seed=1)
    k = (~m).sum(axis=1)
    assert m[:, 0].all() and k.min() >= 40 and k.max() <= 49
    assert (k == 49).any()                     # all but step 0 missing happens


def test_paper_mask_exact_count_and_one_mask_per_sequence():
    m = paper_mask(50, T=20, missing=(10, 10), seed=3)
    assert ((~m).sum(axis=1) == 10).all()
    assert len({row.tobytes() for row in m}) > 1  # sequences get different masks


def test_paper_mask_is_seeded():
    assert np.array_equal(paper_mask(10, seed=5), paper_mask(10, seed=5))
    assert not np.array_equal(paper_mask(10, seed=5), paper_mask(10, seed=6))


@pytest.mark.parametrize(
    "kwargs, err",
    [
        (dict(n=0), ValueError),
        (dict(n=2.5), TypeError),
        (dict(n=True), TypeError),
        (dict(n=3, T=1), ValueError),
        (dict(n=3, T=10, missing=(5, 10)), ValueError),   # only 9 steps can be missing
        (dict(n=3, T=10, missing=(6, 5)), ValueError),
        (dict(n=3, T=10, missing=(-1, 5)), ValueError),
        (dict(n=3, T=10, missing=5), TypeError),
        (dict(n=3, seed=-1), ValueError),
        (dict(n=3, seed=1.5), TypeError),
    ],
)
def test_paper_mask_validation(kwargs, err):
    with pytest.raises(err):
        paper_mask(**kwargs)


# --- forward_mask -----------------------------------------------------------

def test_forward_mask():
    m = forward_mask(3, 6, n_observed=2)
    assert m.tolist() == [[True, True, False, False, False, False]] * 3
    assert forward_mask(1, 4).tolist() == [[True, False, False, False]]  # paper §4.3
    with pytest.raises(ValueError):
        forward_mask(1, 4, n_observed=5)
    with pytest.raises(ValueError):
        forward_mask(1, 4, n_observed=0)


# --- gap_mask ---------------------------------------------------------------

def _runs_of_missing(row):
    """Lengths of the contiguous runs of False in a 1-D bool array."""
    padded = np.concatenate([[True], row, [True]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    return edges[1::2] - edges[0::2]


def test_gap_mask_single_gap_is_contiguous_with_drawn_length():
    m = gap_mask(400, 100, n_gaps=1, gap_length=(10, 40), seed=0)
    for row in m:
        runs = _runs_of_missing(row)
        assert len(runs) == 1 and 10 <= runs[0] <= 40
    starts = np.argmin(m, axis=1)
    assert starts.min() == 0                                  # a gap may touch the start
    assert (~m[:, -1]).any()                                  # ... or the end


def test_gap_mask_keeps_an_observation_and_validates():
    m = gap_mask(200, 20, n_gaps=3, gap_length=(6, 6), seed=2)
    assert m.any(axis=1).all()
    with pytest.raises(ValueError):
        gap_mask(2, 20, n_gaps=4, gap_length=(5, 5))           # 4 * 5 > 19
    with pytest.raises(ValueError):
        gap_mask(2, 20, gap_length=(0, 5))


# --- random_mask ------------------------------------------------------------

def test_random_mask_rate_and_extremes():
    m = random_mask(200, 200, p_missing=0.3, seed=0)
    assert abs((~m).mean() - 0.3) < 0.01
    assert random_mask(5, 10, p_missing=0.0).all()
    full_missing = random_mask(50, 10, p_missing=1.0, seed=1)
    assert (full_missing.sum(axis=1) == 1).all()               # one step put back per sequence
    for p in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            random_mask(2, 10, p_missing=p)
    with pytest.raises(TypeError):
        random_mask(2, 10, p_missing="half")


# --- edge_mask --------------------------------------------------------------

def test_edge_mask_leading_and_trailing_gaps():
    m = edge_mask(300, 60, lead=(3, 10), trail=(2, 5), p_missing=0.0, seed=0)
    first = np.argmax(m, axis=1)                               # length of the leading gap
    last = np.argmax(m[:, ::-1], axis=1)                       # length of the trailing gap
    assert first.min() == 3 and first.max() == 10
    assert last.min() == 2 and last.max() == 5
    interior = m.sum(axis=1) == 60 - first - last              # nothing else missing
    assert interior.all()


def test_edge_mask_with_interior_missingness_keeps_an_observation():
    m = edge_mask(100, 30, lead=(10, 10), trail=(19, 19), p_missing=1.0, seed=0)
    assert (m.sum(axis=1) == 1).all() and m[:, 10].all()       # only the one interior step
    with pytest.raises(ValueError):
        edge_mask(2, 30, lead=(0, 15), trail=(0, 15))          # 15 + 15 > 29


# --- all patterns -----------------------------------------------------------

@pytest.mark.parametrize("name", sorted(MASK_PATTERNS))
def test_every_pattern_shares_one_call_and_orders_cleanly(name):
    m = MASK_PATTERNS[name](20, 200, seed=4)
    assert m.shape == (20, 200) and m.dtype == bool
    assert m.any(axis=1).all()                                 # at least one observed step
    assert np.array_equal(m, MASK_PATTERNS[name](20, 200, seed=4))
    for row in m[:5]:
        order = imputation_order(row, highest=64)
        assert sorted(s.t for s in order) == np.flatnonzero(~row).tolist()


# --- as_mask ----------------------------------------------------------------

@pytest.mark.parametrize(
    "given",
    [
        np.array([[1, 0, 1]]),
        np.array([[1.0, 0.0, 1.0]], dtype=np.float32),
        [[True, False, True]],
        torch.tensor([[1, 0, 1]]),
        torch.tensor([[True, False, True]]),
    ],
)
def test_as_mask_accepts_bool_and_01(given):
    m = as_mask(given, shape=(1, 3))
    assert m.dtype == bool and m.tolist() == [[True, False, True]]


def test_as_mask_copies():
    src = np.array([True, False])
    out = as_mask(src)
    out[0] = False
    assert src[0]


@pytest.mark.parametrize("bad", [[0, 2], [0.5, 1.0], [float("nan"), 1.0], [-1, 0]])
def test_as_mask_rejects_other_values(bad):
    with pytest.raises(ValueError, match="0 and 1"):
        as_mask(bad)


def test_as_mask_rejects_wrong_shape_and_type():
    with pytest.raises(ValueError, match="shape"):
        as_mask(np.ones((2, 3)), shape=(2, 4))
    with pytest.raises(TypeError):
        as_mask(["yes", "no"])


def _order_by_the_rule(mask, highest):
    """The leftmost-gap rule applied literally to the whole sequence (no per-gap caching)."""
    known, T, out = list(mask), len(mask), []
    while not all(known):
        left = known.index(False)
        p, q = left - 1, left + 1
        while q < T and not known[q]:
            q += 1
        s = 1
        while 2 * s <= highest and p + 4 * s <= q:
            s *= 2
        out.append((p + s, p, p + 2 * s, s, q))
        known[p + s] = True
    return out


def test_imputation_order_equals_the_literal_rule_on_random_masks():
    rng = np.random.default_rng(0)
    for _ in range(500):
        T = int(rng.integers(1, 90))
        mask = rng.random(T) < rng.random()
        highest = int(2 ** rng.integers(0, 7))
        assert [tuple(e) for e in imputation_order(mask, highest)] == _order_by_the_rule(mask.tolist(), highest)
