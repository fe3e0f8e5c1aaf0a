"""The Gumbel-softmax VAE: its KL, temperature schedule, relaxed samples and saving."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae.models.gumbel import temperature_at
from keras_vae.app.commands import train
from tests.helpers import SHAPE, binary_images


def small_gumbel(**kwargs):
    keras.utils.set_random_seed(0)
    model = keras_vae.GumbelSoftmaxVAE.from_architecture(SHAPE, 12, hidden_units=[16],
                                                         categories=4, seed=0, **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def test_kl_against_the_uniform_prior_matches_numpy():
    model = small_gumbel()
    x = binary_images(8)
    logits = np.asarray(model.logits(x), np.float64)
    q = np.exp(logits - logits.max(-1, keepdims=True))
    q /= q.sum(-1, keepdims=True)
    expected = np.sum(q * np.log(q * 4), axis=(1, 2))
    terms = model.loss_terms(x, seed=1)
    np.testing.assert_allclose(terms["kl_loss"], expected, rtol=1e-5)


def test_temperature_follows_its_schedule_in_training():
    model = small_gumbel(temperature=2.0, min_temperature=0.5, anneal_rate=0.01)
    for step in (0, 10, 100, 1000):
        expected = max(0.5, 2.0 * np.exp(-0.01 * step))
        assert float(temperature_at(step, 2.0, 0.5, 0.01)) == pytest.approx(expected, rel=1e-6)
    history = model.fit(binary_images(32), epochs=3, batch_size=8, verbose=0)
    # Each epoch's mean over its 4 steps (steps 0-3, 4-7, 8-11).
    for epoch, logged in enumerate(history.history["temperature"]):
        steps = np.arange(4 * epoch, 4 * epoch + 4)
        assert logged == pytest.approx(np.mean(2.0 * np.exp(-0.01 * steps)), rel=1e-5)


def test_relaxed_samples_carry_gradients_to_the_encoder():
    model = small_gumbel()
    x = tf.constant(binary_images(8))
    with tf.GradientTape() as tape:
        reconstruction = tf.reduce_mean(model.loss_terms(x, training=True, seed=2,
                                                         step=0)["reconstruction_loss"])
    grads = tape.gradient(reconstruction, model.encoder.trainable_weights)
    assert all(g is not None for g in grads)
    assert float(tf.reduce_sum(tf.abs(grads[0]))) > 0


def test_samples_are_decoded_one_hot_codes_and_the_model_round_trips(tmp_path):
    model = small_gumbel()
    x = binary_images(32)
    model.fit(x, epochs=2, batch_size=8, verbose=0)
    samples = np.asarray(model.sample(6, seed=3))
    assert samples.shape == (6, *SHAPE)
    draws = tf.random.stateless_uniform((6, 3), seed=[3, 0], maxval=4, dtype=tf.int32)
    codes = tf.reshape(tf.one_hot(draws, 4), (6, 12))
    np.testing.assert_allclose(samples, model.decode(codes), rtol=1e-6)
    path = os.path.join(tmp_path, "g.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.sample(6, seed=3), samples, rtol=1e-6)
    export = keras_vae.export_saved_model(model, os.path.join(tmp_path, "export"))
    served = tf.saved_model.load(export)
    np.testing.assert_allclose(served.signatures["sample"](n=tf.constant(6), seed=tf.constant(3))
                               ["images"], samples, rtol=1e-5)


def test_bad_settings_are_refused_with_their_names():
    with pytest.raises(ValueError, match=r"`categories` must divide the latent size 12"):
        keras_vae.GumbelSoftmaxVAE.from_architecture(SHAPE, 12, hidden_units=[16], categories=5)
    with pytest.raises(ValueError, match=r"`min_temperature` must be a finite number > 0"):
        keras_vae.GumbelSoftmaxVAE.from_architecture(SHAPE, 12, hidden_units=[16],
                                                     categories=4, min_temperature=0)


def test_train_script_trains_a_gumbel_softmax_vae(tmp_path):
    run_dir = train.main(["--model", "gumbel", "--latent-dim", "20", "--categories", "10",
                          "--epochs", "2", "--output-dir", str(tmp_path / "g"), "--verbose",
                          "0"])
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["model"] == "GumbelSoftmaxVAE" and "samples.png" in os.listdir(run_dir)
    assert metrics["validation"]["kl_loss"] > 0
