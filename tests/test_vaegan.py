"""The VAE-GAN: its loss terms against numpy, which network each optimizer moves, saving."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import keras_vae
from keras_vae.layers.sampling import seed_pair
from keras_vae.app.commands import train
from tests.helpers import SHAPE, assert_l2_joins_the_decoders_update, binary_images


def small_vaegan(likelihood="bernoulli", equilibrium=0.68, margin=0.35, feature_variance="fitted",
                 **compile_kwargs):
    keras.utils.set_random_seed(0)
    model = keras_vae.VAEGAN.from_architecture(SHAPE, 3, hidden_units=[16], seed=0,
                                               likelihood=likelihood, equilibrium=equilibrium,
                                               margin=margin, feature_variance=feature_variance)
    model.compile(**compile_kwargs)
    return model


def softplus(v):
    return np.log1p(np.exp(v))


def small_vaegan_at_posterior_means(likelihood, **kwargs):
    model = small_vaegan(likelihood=likelihood, **kwargs)
    head = model.encoder.get_layer("z_log_var")
    head.kernel.assign(np.zeros(head.kernel.shape))
    head.bias.assign(np.full(head.bias.shape, -60.0))  # sigma^2 = e^-28.9: z = mu
    return model


def feature_nll(f_x, f_r, variance=None):
    """-log N(f_x; f_r, s^2 I) per row, s^2 fitted by maximum likelihood when None."""
    squared, d = ((f_x - f_r) ** 2).sum(1), f_x.shape[1]
    if variance is None:
        variance = squared.mean() / d  # argmax over s^2 of the batch's likelihood
    return 0.5 * (squared / variance + d * np.log(2 * np.pi * variance))


@pytest.mark.parametrize("feature_variance", ["fitted", 1.0, 0.25])
def test_loss_terms_match_numpy_at_a_deterministic_posterior(feature_variance):
    model = small_vaegan_at_posterior_means("gaussian_fixed",  # grey data: the mean is shown
                                            feature_variance=feature_variance)
    x = binary_images(8)
    terms = {k: np.asarray(v, np.float64) for k, v in model.loss_terms(x, seed=5).items()}
    mu = np.asarray(model.encoder(x)[0], np.float64)
    x_r = model.decode(mu.astype("float32"))
    x_p = model.decode(keras.random.normal((8, 3), seed=6))
    (d_x, f_x), (d_r, f_r), (d_p, _) = [[np.asarray(t, np.float64) for t in
                                         model.discriminator(v)] for v in (x, x_r, x_p)]
    variance = None if feature_variance == "fitted" else feature_variance
    np.testing.assert_allclose(terms["feature_loss"], feature_nll(f_x, f_r, variance),
                               rtol=1e-4)
    np.testing.assert_allclose(terms["discriminator_loss"], (softplus(-d_x) + softplus(d_r)
                                                             + softplus(d_p)).ravel(), rtol=1e-4)
    np.testing.assert_allclose(terms["generator_loss"], (softplus(-d_r) + softplus(-d_p)).ravel(),
                               rtol=1e-4)
    log_var = 30 * np.tanh(-60.0 / 30)  # the encoder's bounded log-variance
    kl = 0.5 * np.sum(mu ** 2 + np.exp(log_var) - 1 - log_var, axis=1)
    np.testing.assert_allclose(terms["kl_loss"], kl, rtol=1e-4)
    np.testing.assert_allclose(terms["loss"], terms["kl_loss"] + terms["feature_loss"], rtol=1e-6)


def test_binary_data_compares_features_with_the_mean_image():
    """The discriminator judges Bernoulli samples, but the feature loss compares the data
    with the decoder's mean, sigmoid(logits), whatever the draw."""
    model = small_vaegan_at_posterior_means("bernoulli")
    x = binary_images(8)
    mu = model.encoder(x)[0]
    mean = 1 / (1 + np.exp(-np.asarray(model.decoder(mu), np.float64)))
    f_x, f_r = [np.asarray(model.discriminator(v.astype("float32"))[1], np.float64)
                for v in (x, mean)]
    for seed in (5, 6):
        np.testing.assert_allclose(model.loss_terms(x, seed=seed)["feature_loss"],
                                   feature_nll(f_x, f_r), rtol=1e-4)


def test_binary_data_gets_binary_images_with_a_relaxed_gradient():
    """A relaxed Bernoulli Y at logit l exceeds 1/2 exactly when l + logistic noise > 0:
    rounded, it is a Bernoulli(sigmoid(l)) draw (Maddison et al. 2017). The gradient is the
    relaxed sample's, dY/dl = Y (1 - Y) / temperature."""
    model = small_vaegan()
    logits = tf.constant(np.tile(np.linspace(-3, 3, 7, dtype=np.float32), (4000, 1)))
    with tf.GradientTape() as tape:
        tape.watch(logits)
        images = model.decoder_image(logits, 11)
    gradient = np.asarray(tape.gradient(images, logits))
    images = np.asarray(images)
    assert set(np.unique(images)) == {0.0, 1.0}
    np.testing.assert_allclose(images.mean(axis=0), 1 / (1 + np.exp(-logits[0])), atol=0.03)
    relaxed = np.asarray(tfp.distributions.RelaxedBernoulli(0.5, logits=logits).sample(
        seed=seed_pair(11)), np.float64)
    np.testing.assert_array_equal(images, relaxed > 0.5)  # the same draw, rounded
    np.testing.assert_allclose(gradient, relaxed * (1 - relaxed) / 0.5, rtol=1e-4, atol=1e-6)


def test_balance_gates_follow_the_equilibrium_rule():
    model = small_vaegan()  # equilibrium 0.68, margin 0.35: the band is [0.33, 1.03]
    cases = {(0.5, 0.5): (1, 1), (0.2, 0.3): (0, 1), (1.2, 1.0): (1, 0),
             # Right about the reconstructions, wrong about the data: biased, not winning.
             # (The per-kind rule shut the discriminator out here: (0.9, 0.2) -> (0, 1).)
             (0.9, 0.2): (1, 1), (0.2, 0.9): (1, 1),
             # One cross-entropy past the top of the band, the mean inside it: (1.2, 0.5)
             # shut the generator out under the per-kind rule.
             (1.2, 0.5): (1, 1), (0.5, 1.2): (1, 1)}
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
    assert loaded.feature_variance == "fitted"
    for name in ("optimizer", "decoder_optimizer", "discriminator_optimizer"):
        assert int(getattr(loaded, name).iterations) == 4
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    export = keras_vae.export_saved_model(model, os.path.join(tmp_path, "export"))
    assert {"sample", "elbo"} <= set(tf.saved_model.load(export).signatures)


def test_train_script_trains_a_vaegan_and_scores_its_likelihood(tmp_path, capsys):
    run_dir = train.main(["--model", "vaegan", "--latent-dim", "4", "--epochs", "2",
                          "--hidden-units", "64", "--eval-k", "10", "--amortization-images", "0",
                          "--feature-variance", "0.5", "--output-dir", str(tmp_path / "vg"),
                          "--verbose", "2"])
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    val = metrics["validation"]  # its loss is KL + feature loss: the summary does not add up
    assert (f"Validation: loss {val['loss']:.2f} (reconstruction "
            f"{val['reconstruction_loss']:.2f}, KL {val['kl_loss']:.2f}) nats per example"
            in capsys.readouterr().out)
    assert metrics["log_likelihood"] < 0 and "samples.png" in os.listdir(run_dir)
    assert metrics["validation"]["discriminator_loss"] > 0
    assert keras.saving.load_model(os.path.join(run_dir, "model.keras")).feature_variance == 0.5


def test_the_default_discriminator_compares_first_hidden_layer_features():
    model = small_vaegan()
    x = binary_images(4)
    layer = model.discriminator.get_layer("hidden_0")
    kernel, bias = (np.asarray(w, np.float64) for w in (layer.kernel, layer.bias))
    expected = np.maximum(x.reshape(4, -1) @ kernel + bias, 0)  # ReLU(x W + b)
    np.testing.assert_allclose(model.discriminator(x)[1], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("feature_layer", [2, -3, 0.5, True])
def test_mlp_discriminator_refuses_a_layer_it_does_not_have(feature_layer):
    with pytest.raises(ValueError, match=r"Argument `feature_layer` must be an int indexing one "
                       r"of the 2 hidden layers \(from -2 to 1\)\. Received: feature_layer="):
        keras_vae.networks.mlp_discriminator(SHAPE, (8, 8), feature_layer=feature_layer)


@pytest.mark.parametrize("feature_variance", [0, -1.0, float("nan"), float("inf"), "learned",
                                              None])
def test_a_bad_feature_variance_is_refused(feature_variance):
    with pytest.raises(ValueError, match=r"Argument `feature_variance` must be a finite number "
                       r"> 0 or \"fitted\"\. Received: feature_variance="):
        keras_vae.VAEGAN.from_architecture(SHAPE, 3, hidden_units=[16],
                                           feature_variance=feature_variance)


def test_train_script_refuses_a_bad_feature_variance(tmp_path, capsys):
    """(A set variance reaches the model: the run above.)"""
    with pytest.raises(SystemExit):
        train.main(["--model", "vaegan", "--feature-variance", "learned"])
    assert "argument --feature-variance: expected 'fitted' or a number, got 'learned'" in (
        capsys.readouterr().err)
    with pytest.raises(ValueError, match=r"`feature_variance` must be a finite number > 0"):
        train.main(["--model", "vaegan", "--feature-variance", "-1", "--output-dir",
                    str(tmp_path / "bad"), "--verbose", "0"])
    with pytest.raises(ValueError, match=r"`--feature-variance` applies to the vaegan model"):
        train.main(["--feature-variance", "0.5", "--output-dir", str(tmp_path / "vae"),
                    "--verbose", "0"])


def test_layer_regularization_joins_the_update_of_its_network():
    """The decoder's layer losses join the decoder optimizer's objective."""
    lr = 0.05
    assert_l2_joins_the_decoders_update(lambda: small_vaegan(**{
        name: keras.optimizers.SGD(lr) for name in
        ("optimizer", "decoder_optimizer", "discriminator_optimizer")}), lr)
