"""The NAOMI, SingleRes and RNN generators: the impute contract and Algorithm 1 faithfulness."""
import numpy as np
import pytest
import torch

from naomi_lite import NAOMI, AutoregressiveRNN, NAOMIConfig, SingleRes
from naomi_lite.masks import imputation_order
from naomi_lite.model import literal_algorithm_1, per_step_teacher_forced_loss


def small(cls=NAOMI, **kw):
    torch.manual_seed(0)
    return cls(NAOMIConfig(**{"model": cls.kind, "hidden": 12, "decoder_hidden": 10, **kw}))


def random_masks(B, T, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random((B, T)) < rng.uniform(0.05, 0.6, size=(B, 1))
    mask[0] = False
    mask[0, T // 3] = True  # a single observed step: leading and trailing gaps
    mask[1] = True
    mask[1, : T // 2] = False  # leading gap
    mask[2] = True
    mask[2, T // 2 :] = False  # trailing gap
    mask[mask.sum(1) == 0, 0] = True
    return torch.as_tensor(mask)


@pytest.mark.parametrize("base, gap, shared", [("none", False, False), ("linear", False, False), ("linear", True, False),
                                               ("linear", False, True)])
@pytest.mark.parametrize("highest", [1, 4, 64])
def test_batched_loop_equals_literal_algorithm_1(highest, base, gap, shared):
    """The fast batched loop equals the literal Algorithm 1, run one row at a time, on masks that
    differ per row (leading and trailing gaps included), with NaN marking the missing input."""
    model = small(highest=highest, decoder_base=base, backward_gap=gap, shared_heads=shared)
    if base == "linear":  # the corrections start at zero: move them, so that the heads matter
        with torch.no_grad():
            for p in model.decoder.parameters():
                p.add_(0.05 * torch.randn_like(p))
    x = torch.randn(7, 41, 2)
    mask = random_masks(7, 41, seed=highest)
    with_nan = torch.where(mask.unsqueeze(-1), x, torch.full_like(x, float("nan")))
    fast = torch.as_tensor(model.impute(with_nan))  # NaN marks the missing steps
    ref = torch.stack([literal_algorithm_1(model, x[b], mask[b]) for b in range(len(x))])
    assert torch.isfinite(fast).all()
    assert torch.allclose(fast, ref, atol=1e-5)


@pytest.mark.parametrize("cls", [NAOMI, SingleRes, AutoregressiveRNN])
def test_batched_equals_one_row_at_a_time(cls):
    model = small(cls)
    x = np.random.default_rng(1).normal(size=(9, 50, 2)).astype(np.float32)
    mask = random_masks(9, 50, seed=3).numpy()
    batched = model.impute(x, mask)
    single = np.concatenate([model.impute(x[i : i + 1], mask[i : i + 1]) for i in range(9)])
    np.testing.assert_allclose(batched, single, atol=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_fill_order_follows_imputation_order(seed):
    model = small(highest=16)
    x = torch.randn(6, 60, 2)
    mask = random_masks(6, 60, seed=seed)
    trace = []
    with torch.no_grad():
        model.run(x, mask, trace=trace)
    filled = {b: [] for b in range(6)}
    for rows, ts in trace:
        for b, t in zip(rows, ts):
            filled[int(b)].append(int(t))
    for b in range(6):
        assert filled[b] == [s.t for s in imputation_order(mask[b].numpy(), 16)]


def test_observed_values_exact_and_types_round_trip():
    model = small()
    x = np.random.default_rng(2).normal(size=(4, 30, 2))  # float64
    mask = random_masks(4, 30).numpy()
    out = model.impute(x, mask)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out[mask], x[mask])
    assert np.isfinite(out).all()
    out32 = model.impute(x.astype(np.float32), mask)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out, out32, atol=1e-5)
    t_out = model.impute(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(mask))
    assert isinstance(t_out, torch.Tensor) and not t_out.requires_grad
    ints = model.impute(np.round(x * 10).astype(np.int64), mask)
    assert ints.dtype == np.float64 and np.isfinite(ints).all()  # int64 may exceed 2^24: float64 holds it exactly


def test_nan_marks_missing_when_no_mask_given():
    model = small()
    x = np.random.default_rng(3).normal(size=(3, 25, 2)).astype(np.float32)
    mask = random_masks(3, 25).numpy()
    with_nan = np.where(mask[..., None], x, np.nan)
    np.testing.assert_allclose(model.impute(with_nan), model.impute(x, mask), atol=0)


@pytest.mark.parametrize(
    "x, mask, message",
    [
        (np.zeros((5, 2), np.float32), None, "shape \\(B, T, D\\)"),
        (np.zeros((2, 5, 3), np.float32), None, "dim=2"),
        (np.zeros((2, 1, 2), np.float32), None, "T=2"),
        (np.zeros((2, 5, 2), np.float32), np.ones((2, 4), bool), "mask must have shape"),
        (np.zeros((2, 5, 2), np.float32), np.full((2, 5), 2), "only 0 and 1"),
        (np.full((2, 5, 2), np.nan, np.float32), np.ones((2, 5), bool), "NaN or inf"),
        (np.zeros((2, 5, 2), np.float32), np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]]), "row 1 has no observed"),
        ([[1.0, 2.0]], None, "numpy array or a torch tensor"),
    ],
)
def test_bad_input_gets_a_clear_error(x, mask, message):
    with pytest.raises((ValueError, TypeError), match=message):
        small().impute(x, mask)


def test_partly_nan_step_is_refused():
    x = np.zeros((1, 4, 2), np.float32)
    x[0, 2, 0] = np.nan
    with pytest.raises(ValueError, match="partly NaN"):
        small().impute(x)


def test_empty_batch_and_sampling_rules():
    model = small()
    assert model.impute(np.zeros((0, 10, 2), np.float32), np.zeros((0, 10), bool)).shape == (0, 10, 2)
    with pytest.raises(ValueError, match="Gaussian"):
        model.impute(np.zeros((1, 10, 2), np.float32), np.ones((1, 10), bool), sample=True)


def test_gaussian_sampling_is_seeded_and_differs_from_the_mean():
    model = small(gaussian=True)
    x = np.random.default_rng(4).normal(size=(3, 30, 2)).astype(np.float32)
    mask = random_masks(3, 30).numpy()
    a = model.impute(x, mask, sample=True, generator=torch.Generator().manual_seed(1))
    b = model.impute(x, mask, sample=True, generator=torch.Generator().manual_seed(1))
    mean = model.impute(x, mask)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - mean)[~mask].max() > 1e-4
    np.testing.assert_array_equal(a[mask], x[mask])


@pytest.mark.parametrize("base, gap", [("none", False), ("linear", False), ("none", True)])
def test_vectorized_teacher_forced_loss_equals_per_step_loop(base, gap):
    model = small(highest=8, decoder_base=base, backward_gap=gap)
    if base == "linear":
        with torch.no_grad():
            for p in model.decoder.parameters():
                p.add_(0.05 * torch.randn_like(p))
    x = torch.randn(3, 21, 2)
    mask = random_masks(3, 21)
    assert torch.allclose(model.teacher_forced_loss(x, mask), per_step_teacher_forced_loss(model, x, mask), atol=1e-5)


@pytest.mark.parametrize("cls", [NAOMI, SingleRes, AutoregressiveRNN])
def test_losses_are_differentiable(cls):
    model = small(cls)
    x = torch.randn(4, 20, 2)
    mask = random_masks(4, 20)
    losses = [model.teacher_forced_loss(x, mask), model.free_running_loss(x, mask)]
    if cls is not AutoregressiveRNN:
        losses.append(model.inference_teacher_forced_loss(x, mask))
    for loss in losses:
        model.zero_grad()
        loss.backward()
        grads = [p.grad for p in model.fwd.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads)


def test_singleres_is_naomi_with_one_resolution():
    model = small(SingleRes)
    assert model.config.highest == 1 and model.config.levels == 1
    order = imputation_order(np.array([1, 0, 0, 0, 0, 1], bool), 1)
    assert [s.t for s in order] == [1, 2, 3, 4]


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="power of two"):
        NAOMIConfig(highest=6)
    with pytest.raises(ValueError, match="model must be one of"):
        NAOMIConfig(model="transformer")
    with pytest.raises(ValueError, match="hidden"):
        NAOMIConfig(hidden=0)


def test_gaussian_free_running_loss_is_finite():
    model = small(gaussian=True)
    x = torch.randn(4, 30, 2)
    mask = random_masks(4, 30)
    loss = model.free_running_loss(x, mask)
    assert torch.isfinite(loss)
    loss.backward()


def test_inference_teacher_forcing_feeds_the_truth_back():
    """run(teacher_forcing=True) decodes in inference's order but writes the true value back, so every
    prediction is made from true pivots and contexts: the first decode of each row is the same as in
    free running, and the filled sequence is the truth itself."""
    model = small(highest=8)
    x = torch.randn(5, 30, 2)
    mask = random_masks(5, 30, seed=7)
    with torch.no_grad():
        forced = model.run(x, mask, teacher_forcing=True)
        free = model.run(x, mask)
    assert torch.equal(forced.values, x)
    for b in range(5):
        first = imputation_order(mask[b].numpy(), 8)[0].t
        assert torch.allclose(forced.mean[b, first], free.mean[b, first])


def _assert_decode_equals_head_per_row(model, gaussian: bool) -> torch.Tensor:
    """``decode`` on six rows of mixed levels gives row i exactly what ``model.decoder(levels[i], ...)``
    gives it alone (mean, and std when Gaussian); returns decode's mean (6, 2) for gradient checks."""
    levels = torch.tensor([3, 0, 2, 0, 1, 3])
    hf, hb, base = torch.randn(6, 8), torch.randn(6, 8), torch.randn(6, 2)
    mean, std = model.decoder.decode(levels, hf, hb, base)
    for i, level in enumerate(levels.tolist()):
        m, s = model.decoder(level, hf[i : i + 1], hb[i : i + 1], base[i : i + 1])
        torch.testing.assert_close(mean[i : i + 1], m)
        if gaussian:
            torch.testing.assert_close(std[i : i + 1], s)
    return mean


@pytest.mark.parametrize("gaussian", [False, True])
def test_decode_equals_each_rows_own_head(gaussian):
    """``decode`` runs every head at once; row i must get exactly head ``levels[i]``'s output and gradient."""
    torch.manual_seed(0)
    model = NAOMI(dim=2, hidden=8, decoder_hidden=6, highest=8, gaussian=gaussian, decoder_base="linear")
    for head in model.decoder.heads:  # relative heads start at zero: give them weights to compare
        torch.nn.init.normal_(head.w2)
    mean = _assert_decode_equals_head_per_row(model, gaussian)
    mean.sum().backward()
    assert model.decoder.heads[1].w2.grad.abs().sum() > 0  # used by row 4 only
    unused = NAOMI(dim=2, hidden=8, decoder_hidden=6, highest=8)
    m, _ = unused.decoder.decode(torch.tensor([0, 0]), torch.randn(2, 8), torch.randn(2, 8), None)
    m.sum().backward()
    assert unused.decoder.heads[2].w1.grad is None or unused.decoder.heads[2].w1.grad.abs().sum() == 0


@pytest.mark.parametrize("gaussian", [False, True])
def test_shared_head_reads_the_level_and_decode_agrees(gaussian):
    """``shared_heads`` (kit's extension): one head for every level, told the level by a one-hot input.
    ``decode`` gives each row what the head gives it alone, and different levels give different outputs."""
    torch.manual_seed(0)
    model = NAOMI(dim=2, hidden=8, decoder_hidden=6, highest=8, gaussian=gaussian, decoder_base="linear",
                  shared_heads=True)
    assert len(model.decoder.heads) == 1 and model.decoder.levels == 4
    torch.nn.init.normal_(model.decoder.heads[0].w2)
    _assert_decode_equals_head_per_row(model, gaussian)
    hf, hb, base = torch.randn(1, 8), torch.randn(1, 8), torch.randn(1, 2)
    same_input = [model.decoder(level, hf, hb, base)[0] for level in range(4)]
    assert not torch.allclose(same_input[0], same_input[3])  # the level changes the output
    with pytest.raises(ValueError, match="shared_heads"):
        SingleRes(dim=2, hidden=8, decoder_hidden=6, shared_heads=True)
