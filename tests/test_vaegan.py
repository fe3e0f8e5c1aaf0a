"""The VAE-GAN: its loss terms against numpy, which network each optimizer moves, saving."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from scripts import train
from tests.helpers import SHAPE, binary_images


def small_vaegan(likelihood="bernoulli", equilibrium=0.68, margin=0.35, **compile_kwargs):
    keras.utils.set_random_seed(0)
    model = keras_vae.VAEGAN.from_architecture(SHAPE, 3, hidden_units=[16], seed=0,
                                               likelihood=likelihood, equilibrium=equilibrium,
                                               margin=margin)
    model.compile(**compile_kwargs)
    return model


def softplus(v):
    return np.log1p(np.exp(v))


def test_loss_terms_match_numpy_at_a_deterministic_posterior():
    model = small_vaegan(likelihood="gaussian_fixed")  # grey data: the decoder's mean is shown
    head = model.encoder.get_layer("z_log_var")
    head.kernel.assign(np.zeros(head.kernel.shape))
    head.bias.assign(np.full(head.bias.shape, -60.0))  # sigma^2 = e^-28.9: z = mu
    x = binary_images(8)
    terms = {k: np.asarray(v, np.float64) for k, v in model.loss_terms(x, seed=5).items()}
    mu = np.asarray(model.encoder(x)[0], np.float64)
    x_r = model.decode(mu.astype("float32"))
    x_p = model.decode(keras.random.normal((8, 3), seed=6))
    (d_x, f_x), (d_r, f_r), (d_p, _) = [[np.asarray(t, np.float64) for t in
                                         model.discriminator(v)] for v in (x, x_r, x_p)]
    np.testing.assert_allclose(terms["feature_loss"], 0.5 * ((f_x - f_r) ** 2).sum(1), rtol=1e-4)
    np.testing.assert_allclose(terms["discriminator_loss"], (softplus(-d_x) + softplus(d_r)
                                                             + softplus(d_p)).ravel(), rtol=1e-4)
    np.testing.assert_allclose(terms["generator_loss"], (softplus(-d_r) + softplus(-d_p)).ravel(),
                               rtol=1e-4)
    log_var = 30 * np.tanh(-60.0 / 30)  # the encoder's bounded log-variance
    kl = 0.5 * np.sum(mu ** 2 + np.exp(log_var) - 1 - log_var, axis=1)
    np.testing.assert_allclose(terms["kl_loss"], kl, rtol=1e-4)
    np.testing.assert_allclose(terms["loss"], terms["kl_loss"] + terms["feature_loss"], rtol=1e-6)


def test_binary_data_gets_relaxed_bernoulli_images_of_the_right_law():
    """A relaxed Bernoulli Y at logit l exceeds 1/2 exactly when l + logistic noise > 0:
    P(Y > 1/2) = sigmoid(l), whatever the temperature (Maddison et al. 2017)."""
    model = small_vaegan()
    logits = np.tile(np.linspace(-3, 3, 7, dtype=np.float32), (4000, 1))
    images = np.asarray(model.decoder_image(logits, 11))
    above = (images > 0.5).mean(axis=0)
    np.testing.assert_allclose(above, 1 / (1 + np.exp(-logits[0])), atol=0.03)
    # At temperature 0.5 most values sit near 0 or 1, as binary data does.
    assert np.mean((images < 0.1) | (images > 0.9)) > 0.6


def test_balance_gates_follow_the_equilibrium_rule():
    model = small_vaegan()  # equilibrium 0.68, margin 0.35: the band is [0.33, 1.03]
    cases = {(0.5, 0.5): (1, 1), (0.2, 0.5): (0, 1), (0.5, 0.2): (0, 1), (1.2, 0.5): (1, 0),
             (0.5, 1.2): (1, 0), (0.2, 1.2): (1, 1)}  # both shut: both open
    for (real, fake), expected in cases.items():
        gates = model.balance_gates(np.float32(real), np.float32(fake))
        assert tuple(float(g) for g in gates) == expected, (real, fake)
    assert tuple(float(g) for g in small_vaegan(margin=None).balance_gates(
        np.float32(0.01), np.float32(5.0))) == (1, 1)


def test_a_shut_gate_leaves_the_discriminator_as_it_was():
    # An equilibrium far above any cross-entropy: the discriminator always "wins" and never
    # trains, while the decoder still does.
    model = small_vaegan(equilibrium=50.0, **{name: keras.optimizers.SGD(0.01) for name in (
        "optimizer", "decoder_optimizer", "discriminator_optimizer")})
    before = [w.numpy() for w in model.discriminator.weights]
    decoder_before = [w.numpy() for w in model.decoder.weights]
    logs = model.fit(binary_images(16), batch_size=8, epochs=1, verbose=0).history
    assert logs["discriminator_gate"][-1] == 0.0 and logs["generator_gate"][-1] == 1.0
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, model.discriminator.weights))
    assert any(not np.array_equal(a, w.numpy())
               for a, w in zip(decoder_before, model.decoder.weights))


@pytest.mark.parametrize("frozen", ["optimizer", "decoder_optimizer", "discriminator_optimizer"])
def test_each_optimizer_moves_its_own_network_only(frozen):
    rates = {"optimizer": 0.01, "decoder_optimizer": 0.01, "discriminator_optimizer": 0.01}
    rates[frozen] = 0.0
    model = small_vaegan(margin=None,
                         **{name: keras.optimizers.SGD(rate) for name, rate in rates.items()})
    networks = {"optimizer": model.encoder, "decoder_optimizer": model.decoder,
                "discriminator_optimizer": model.discriminator}
    before = {name: [w.numpy() for w in net.weights] for name, net in networks.items()}
    model.fit(binary_images(16), batch_size=16, epochs=1, verbose=0)
    for name, net in networks.items():
        moved = any(not np.array_equal(a, w.numpy()) for a, w in zip(before[name], net.weights))
        assert moved is (name != frozen), name


def test_round_trips_with_three_optimizers_and_exports(tmp_path):
    model = small_vaegan()
    x = binary_images(32)
    model.fit(x, batch_size=16, epochs=2, verbose=0)
    path = os.path.join(tmp_path, "vg.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is keras_vae.VAEGAN and loaded.feature_weight == 1.0
    for name in ("optimizer", "decoder_optimizer", "discriminator_optimizer"):
        assert int(getattr(loaded, name).iterations) == 4
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    export = keras_vae.export_saved_model(model, os.path.join(tmp_path, "export"))
    assert {"sample", "elbo"} <= set(tf.saved_model.load(export).signatures)


def test_train_script_trains_a_vaegan_and_scores_its_likelihood(tmp_path):
    run_dir = train.main(["--model", "vaegan", "--latent-dim", "4", "--epochs", "2",
                          "--output-dir", str(tmp_path / "vg"), "--verbose", "0"])
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["log_likelihood"] < 0 and "samples.png" in os.listdir(run_dir)
    assert metrics["validation"]["discriminator_loss"] > 0
