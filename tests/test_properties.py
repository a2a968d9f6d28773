"""Property-based tests (hypothesis) of ``impute`` and the metrics (issue 6, "Hardening").

Over random batch sizes, lengths, masks (with leading and trailing gaps and single
observed steps drawn on purpose), values and seeds, for NAOMI, SingleRes and the RNN:

* ``impute`` returns finite values and keeps every observed value exactly;
* a batch gives the same result as its rows one at a time;
* NAOMI and SingleRes fill the steps in ``imputation_order``; the RNN left to right;
* integer, float64 and torch inputs give the float32 answer;
* the metrics never return NaN on valid input.

The models are tiny and untrained (hidden 8): the properties hold for any weights.
"""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import tiny_model
from naomi_lite import court_metrics
from naomi_lite.baselines import linear_interpolate
from naomi_lite.masks import imputation_order
from naomi_lite.metrics import billiards_metrics, l2_missing, summarize

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# One model per (kind, highest), built once: the properties are about the code, not the weights.
MODELS = {(kind, highest): tiny_model(kind, highest=highest)
          for kind, highest in [("naomi", 1), ("naomi", 2), ("naomi", 4), ("naomi", 16), ("singleres", 1), ("rnn", 1)]}
GAUSSIAN = tiny_model("naomi", highest=4, gaussian=True)


@st.composite
def mask_rows(draw, T: int) -> list[bool]:
    """One row of a mask with at least one observed step; the hard shapes are drawn on purpose."""
    shape = draw(st.sampled_from(["random", "single", "leading gap", "trailing gap", "both ends", "full"]))
    if shape == "single":
        row = [False] * T
        row[draw(st.integers(0, T - 1))] = True
        return row
    if shape == "full":
        return [True] * T
    row = draw(st.lists(st.booleans(), min_size=T, max_size=T))
    lead = draw(st.integers(1, T - 1)) if shape in ("leading gap", "both ends") else 0
    trail = draw(st.integers(0, T - 1 - lead)) if shape in ("trailing gap", "both ends") else 0
    row = [False] * lead + row[lead:T - trail] + [False] * trail
    if not any(row):
        row[draw(st.integers(lead, T - 1 - trail))] = True
    return row


@st.composite
def batches(draw, max_B: int = 4, max_T: int = 40):
    """(x (B, T, 2) float32, mask (B, T) bool) with values drawn from a hypothesis-chosen seed."""
    B = draw(st.integers(1, max_B))
    T = draw(st.integers(2, max_T))
    mask = np.array([draw(mask_rows(T)) for _ in range(B)], dtype=bool)
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1e-3, 1.0, 100.0]))
    x = (np.random.default_rng(seed).normal(size=(B, T, 2)) * scale).astype(np.float32)
    return x, mask


models = st.sampled_from(sorted(MODELS))


@SETTINGS
@given(models, batches())
def test_impute_is_finite_and_keeps_observed_values_exactly(key, batch):
    x, mask = batch
    out = MODELS[key].impute(x, mask)
    assert out.shape == x.shape and out.dtype == np.float32
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[mask], x[mask])


@SETTINGS
@given(models, batches())
def test_a_batch_equals_its_rows_one_at_a_time(key, batch):
    x, mask = batch
    model = MODELS[key]
    rows = np.concatenate([model.impute(x[i:i + 1], mask[i:i + 1]) for i in range(len(x))])
    np.testing.assert_allclose(model.impute(x, mask), rows, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(x).max()))


@SETTINGS
@given(models, batches())
def test_steps_are_filled_in_imputation_order(key, batch):
    x, mask = batch
    kind, highest = key
    trace: list = []
    with torch.no_grad():
        MODELS[key].run(torch.as_tensor(x), torch.as_tensor(mask), trace=trace)
    filled: dict[int, list[int]] = {b: [] for b in range(len(x))}
    for rows, ts in trace:
        for b, t in zip(rows.tolist(), ts.tolist()):
            filled[b].append(t)
    for b in range(len(x)):
        if kind == "rnn":  # autoregressive: left to right
            expected = np.flatnonzero(~mask[b]).tolist()
        else:
            expected = [s.t for s in imputation_order(mask[b], highest)]
        assert filled[b] == expected, (b, mask[b].astype(int).tolist())


@SETTINGS
@given(models, batches(max_B=3, max_T=24), st.sampled_from(["int64", "int32", "float64", "torch", "torch64", "nan"]))
def test_other_input_kinds_give_the_float32_answer(key, batch, kind):
    x, mask = batch
    model = MODELS[key]
    if kind.startswith("int"):
        x = np.round(x * 10)  # exactly representable, so the float32 reference sees the same numbers
    ref = model.impute(x.astype(np.float32), mask)
    if kind == "nan":  # no mask: NaN marks the missing steps
        out = model.impute(np.where(mask[..., None], x, np.nan))
    elif kind.startswith("torch"):
        dtype = torch.float64 if kind == "torch64" else torch.float32
        out = model.impute(torch.as_tensor(x, dtype=dtype), torch.as_tensor(mask)).numpy()
    else:
        out = model.impute(x.astype(kind), mask)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(x).max()))


@SETTINGS
@given(batches(max_B=3, max_T=24), st.integers(0, 2**31 - 1))
def test_gaussian_samples_are_finite_and_keep_observed_values(batch, seed):
    x, mask = batch
    out = GAUSSIAN.impute(x, mask, sample=True, generator=torch.Generator().manual_seed(seed))
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[mask], x[mask])


@SETTINGS
@given(batches(max_B=4, max_T=40))
def test_billiards_metrics_are_never_nan_on_imputations(batch):
    x, mask = batch
    T = x.shape[1]
    for pred in (linear_interpolate(np.where(mask[..., None], x, np.nan), mask), MODELS[("naomi", 4)].impute(x, mask)):
        values = billiards_metrics(pred, truth=x, mask=mask) if T >= 3 else {"l2_missing": l2_missing(pred, x, mask)}
        for name, v in values.items():
            assert v.shape == (len(x),) and np.isfinite(v).all(), name
        assert np.isfinite(list(summarize(values["l2_missing"]).values())).all()


@SETTINGS
@given(st.integers(1, 4), st.integers(3, 30), st.integers(0, 2**32 - 1),
       st.sampled_from(["random", "standing", "one player moves", "huge", "tiny"]))
def test_court_metrics_are_never_nan(N, T, seed, kind):
    rng = np.random.default_rng(seed)
    plays = rng.uniform(-0.6, 0.6, size=(N, T, 10))
    if kind == "standing":  # nobody moves: zero path lengths and step sizes
        plays = np.repeat(plays[:, :1], T, axis=1)
    elif kind == "one player moves":
        plays[:, :, 2:] = plays[:, :1, 2:]
    elif kind == "huge":
        plays *= 1e6
    elif kind == "tiny":
        plays *= 1e-9
    values = court_metrics.court_metrics(plays)
    for name, v in values.items():
        assert v.shape == (N,) and np.isfinite(v).all(), name
    assert np.isfinite(list(court_metrics.summarize_quartiles(values["trajectory_length"]).values())).all()
