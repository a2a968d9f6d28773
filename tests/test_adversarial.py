"""Adversarial imitation: the discriminator, the two losses, and a tiny run end to end."""
import numpy as np
import pytest
import torch

from naomi_lite import NAOMI, NAOMIConfig
from naomi_lite.adversarial import (AdversarialConfig, Discriminator, discriminator_loss, generator_loss,
                                    train_adversarial)


def test_discriminator_scores_every_transition():
    disc = Discriminator(dim=4, hidden=8)
    x = torch.randn(3, 7, 4)
    assert disc(x).shape == (3, 6)
    p = disc.prob_real(x)
    assert p.shape == (3,) and ((p > 0) & (p < 1)).all()


def test_discriminator_step_looks_only_at_the_past_and_the_next_action():
    torch.manual_seed(0)
    disc = Discriminator(dim=2, hidden=8)
    x = torch.randn(1, 10, 2)
    y = x.clone()
    y[0, 6] += 1.0  # change x_6: logits for transitions t -> t+1 with t+1 < 6 must not move
    a, b = disc(x)[0], disc(y)[0]
    assert torch.allclose(a[:5], b[:5]) and not torch.allclose(a[5:], b[5:])


def test_losses_push_in_opposite_directions():
    torch.manual_seed(0)
    disc = Discriminator(dim=2, hidden=8)
    expert, fake = torch.randn(4, 9, 2), torch.randn(4, 9, 2, requires_grad=True)
    d_loss = discriminator_loss(disc, expert, fake)
    assert fake.grad is None and d_loss.item() > 0
    g_loss = generator_loss(disc, fake)
    g_loss.backward()
    assert fake.grad is not None and torch.isfinite(fake.grad).all()


def test_tiny_adversarial_run_updates_the_generator():
    torch.manual_seed(0)
    model = NAOMI(NAOMIConfig(dim=4, hidden=8, decoder_hidden=8, highest=8, gaussian=True))
    before = [p.detach().clone() for p in model.parameters()]
    data = np.random.default_rng(0).normal(size=(32, 12, 4)).astype(np.float32)
    cfg = AdversarialConfig(disc_hidden=8, d_pretrain_steps=2, iterations=3, d_steps=1, batch_size=8,
                            missing=(6, 10), fool_limit=1.0, progress=False, device="cpu")
    model, disc, history = train_adversarial(model, data, cfg)
    assert [r["iteration"] for r in history.rows] == [1, 2, 3]
    assert all(0 < r["p_expert"] < 1 and 0 < r["p_model"] < 1 for r in history.rows)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_deterministic_models_and_bad_settings_are_refused():
    data = np.zeros((8, 12, 2), np.float32)
    with pytest.raises(ValueError, match="gaussian"):
        train_adversarial(NAOMI(NAOMIConfig(hidden=8, decoder_hidden=8)), data, AdversarialConfig(progress=False))
    with pytest.raises(ValueError, match="fool_limit"):
        AdversarialConfig(fool_limit=0)
    with pytest.raises(ValueError, match="d_steps"):
        AdversarialConfig(d_steps=0)
    with pytest.raises(ValueError, match="variety_weight"):
        AdversarialConfig(variety_weight=float("nan"))
    with pytest.raises(ValueError, match="variety_k"):
        AdversarialConfig(variety_k=0)


def test_variety_term_adds_the_variety_loss_to_the_generator_loss():
    data = np.random.default_rng(0).normal(size=(32, 12, 4)).astype(np.float32)
    runs = {}
    for w in (0.0, 1.0):
        torch.manual_seed(0)
        model = NAOMI(NAOMIConfig(dim=4, hidden=8, decoder_hidden=8, highest=8, gaussian=True))
        cfg = AdversarialConfig(disc_hidden=8, d_pretrain_steps=0, iterations=1, d_steps=1, batch_size=8,
                                missing=(6, 10), fool_limit=1.0, variety_weight=w, variety_k=2, progress=False,
                                device="cpu")
        runs[w] = train_adversarial(model, data, cfg)[2].rows[0]
    # same seed, same batch, same critic: only the generator loss differs, by a positive distance term
    assert runs[1.0]["p_model"] == runs[0.0]["p_model"]
    assert runs[1.0]["g_loss"] > runs[0.0]["g_loss"]


def test_step_discriminator_sees_the_steps_and_is_the_default():
    from naomi_lite.adversarial import StepDiscriminator, make_discriminator

    disc = make_discriminator(3, AdversarialConfig(disc_hidden=8, progress=False))
    assert isinstance(disc, StepDiscriminator) and disc(torch.randn(2, 6, 3)).shape == (2, 5)
    plain = make_discriminator(3, AdversarialConfig(disc_hidden=8, step_scale=0, progress=False))
    assert type(plain) is Discriminator
