"""The adversarial autoencoder: the paper's three updates, its optimizers, saving, the CLI."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae.models.adversarial import logistic_loss
from keras_vae.app.commands import train
from tests.helpers import SHAPE, assert_l2_joins_the_decoders_update, binary_images

LR = 0.05


def small_aae():
    keras.utils.set_random_seed(0)
    model = keras_vae.AdversarialAutoencoder.from_architecture(
        SHAPE, 2, hidden_units=[16], discriminator=None, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(LR),
                  discriminator_optimizer=keras.optimizers.SGD(LR),
                  generator_optimizer=keras.optimizers.SGD(LR))
    return model


def test_logistic_loss_is_the_binary_cross_entropy():
    logits = np.array([[-2.0], [0.0], [3.0]], np.float32)
    p = 1 / (1 + np.exp(-logits.ravel()))
    np.testing.assert_allclose(logistic_loss(logits, real=True), -np.log(p), rtol=1e-6)
    np.testing.assert_allclose(logistic_loss(logits, real=False), -np.log1p(-p), rtol=1e-6)


def test_one_step_makes_the_papers_three_updates_in_order():
    model = small_aae()
    x = binary_images(16)
    start = [w.numpy() for w in model.weights]
    state = model.seed_generator.state.numpy()
    model.fit(x, batch_size=16, epochs=1, verbose=0, shuffle=False)
    trained = [w.numpy() for w in model.trainable_weights]
    # The same three SGD updates by hand, from the same weights and prior draws.
    for w, value in zip(model.weights, start):
        w.assign(value)
    model.seed_generator.state.assign(state)
    x = tf.constant(x)

    def sgd(loss_fn, variables):
        with tf.GradientTape() as tape:
            loss = loss_fn()
        for v, g in zip(variables, tape.gradient(loss, variables)):
            v.assign_sub(LR * g)

    autoencoder = model.encoder.trainable_variables + model.decoder.trainable_variables
    sgd(lambda: tf.reduce_mean(-model.likelihood.log_prob(
        model.decoder(model.encoder(x)), x)), autoencoder)
    z_prior = model.prior_draws(16)
    d = model.discriminator
    sgd(lambda: tf.reduce_mean(tf.nn.softplus(-d(z_prior)[0]) + tf.nn.softplus(
        d(tf.stop_gradient(model.encoder(x)))[0])), d.trainable_variables)
    sgd(lambda: tf.reduce_mean(tf.nn.softplus(-d(model.encoder(x))[0])),
        model.encoder.trainable_variables)
    for w, value in zip(model.trainable_weights, trained):
        np.testing.assert_allclose(w.numpy(), value, rtol=1e-5, atol=1e-6)


def test_three_optimizers_are_saved_and_restored(tmp_path):
    model = keras_vae.AdversarialAutoencoder.from_architecture(SHAPE, 2, hidden_units=[16])
    model.compile()
    assert float(model.discriminator_optimizer.learning_rate) == pytest.approx(2e-4)
    x = binary_images(64)
    history = model.fit(x, epochs=2, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "reconstruction_loss", "discriminator_loss",
                                    "generator_loss"}
    path = os.path.join(tmp_path, "aae.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    for name in ("optimizer", "discriminator_optimizer", "generator_optimizer"):
        saved, restored = getattr(model, name), getattr(loaded, name)
        assert int(restored.iterations) == 8
        for a, b in zip(saved.variables, restored.variables):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.sample(4, seed=2), model.sample(4, seed=2), rtol=1e-6)
    np.testing.assert_allclose(model.sample(4, seed=2),
                               model.decode(model.prior.sample(4, seed=2)), rtol=1e-6)
    export = keras_vae.export_saved_model(model, os.path.join(tmp_path, "export"))
    assert "sample" in tf.saved_model.load(export).signatures


def test_bad_discriminator_and_prior_are_refused():
    inputs = keras.Input((5,))
    wrong = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match=r"`discriminator` must take codes of shape \(batch, 2\)"):
        keras_vae.AdversarialAutoencoder.from_architecture(SHAPE, 2, hidden_units=[16],
                                                           discriminator=wrong)
    with pytest.raises(ValueError, match="`prior` must sample without a posterior"):
        keras_vae.AdversarialAutoencoder.from_architecture(SHAPE, 2, hidden_units=[16],
                                                           prior="vamp")


def test_train_script_trains_an_adversarial_autoencoder(tmp_path):
    run_dir = train.main(["--model", "aae", "--latent-dim", "2", "--epochs", "2",
                          "--output-dir", str(tmp_path / "aae"), "--verbose", "0"])
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["model"] == "AdversarialAutoencoder"
    assert "samples.png" in os.listdir(run_dir)
    assert metrics["validation"]["discriminator_loss"] > 0


def test_layer_regularization_joins_the_update_of_its_network():
    """The decoder's layer losses join the reconstruction update, the one that moves it."""
    assert_l2_joins_the_decoders_update(small_aae, LR)
