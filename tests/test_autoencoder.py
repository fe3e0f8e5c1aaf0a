"""The deterministic autoencoder: its loss, PCA's subspace, no sampling, saving and export."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from tests.helpers import SHAPE, binary_images


def small_autoencoder(likelihood="bernoulli", latent_dim=3, seed=1):
    keras.utils.set_random_seed(seed)
    model = keras_vae.Autoencoder.from_architecture(SHAPE, latent_dim, hidden_units=[16],
                                                    likelihood=likelihood)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def test_loss_is_the_bernoulli_cross_entropy_computed_in_numpy():
    model = small_autoencoder()
    x = binary_images(16)
    terms = model.loss_terms(x)
    logits = np.asarray(model.decoder(model.encoder(x)), np.float64)
    p = 1 / (1 + np.exp(-logits))
    expected = -(x * np.log(p) + (1 - x) * np.log1p(-p)).reshape(16, -1).sum(1)
    np.testing.assert_allclose(terms["loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(terms["reconstruction_loss"], expected, rtol=1e-5)


def test_linear_autoencoder_with_squared_error_spans_the_principal_subspace():
    # 600 points in 8 dimensions: a 2-D signal with variances 9 and 4, plus small noise.
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(8, 8)))[0]
    signal = rng.normal(size=(600, 2)) * [3.0, 2.0]
    x = signal @ basis[:, :2].T + 0.1 * rng.normal(size=(600, 8)) + 1.5
    x = x.astype("float32").reshape(600, 8, 1)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 1))
    encoder = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    codes = keras.Input((2,))
    decoder = keras.Model(codes, keras.layers.Reshape((8, 1))(keras.layers.Dense(8)(codes)))
    model = keras_vae.Autoencoder(encoder, decoder, likelihood="gaussian_fixed")
    model.compile(optimizer=keras.optimizers.Adam(0.02), steps_per_execution=100)
    # 300 full-batch Adam steps, in one epoch (300 epochs of one batch cost Keras' per-epoch
    # overhead 300 times).
    model.fit(tf.data.Dataset.from_tensors(x).repeat(300), epochs=1, verbose=0)
    # numpy's principal subspace against the decoder's column space.
    centered = x.reshape(600, 8) - x.reshape(600, 8).mean(0)
    principal = np.linalg.svd(centered, full_matrices=False)[2][:2].T
    learned = np.linalg.qr(np.asarray(decoder.layers[-2].kernel).T)[0]
    cosines = np.linalg.svd(principal.T @ learned, compute_uv=False)
    angles = np.degrees(np.arccos(np.clip(cosines, -1, 1)))
    assert angles.max() < 2.0, angles


def test_an_autoencoder_cannot_sample_and_says_why():
    model = small_autoencoder()
    with pytest.raises(keras_vae.NotGenerativeError, match="cannot sample.*no distribution"):
        model.sample(4)
    assert "sample" not in model.serving_endpoints()


def test_fits_with_metrics_round_trips_and_exports(tmp_path):
    model = small_autoencoder()
    x = binary_images(64)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), metrics=["mse"])
    history = model.fit(x, epochs=3, batch_size=16, verbose=0, validation_data=x[:16])
    assert set(history.history) == {"loss", "reconstruction_loss", "mse", "val_loss",
                                    "val_reconstruction_loss", "val_mse"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_allclose(
        history.history["val_mse"][-1],
        np.mean((model.predict(x[:16], verbose=0) - x[:16]) ** 2), rtol=1e-5)
    path = os.path.join(tmp_path, "ae.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is keras_vae.Autoencoder
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    export = keras_vae.export_saved_model(model, os.path.join(tmp_path, "export"))
    served = tf.saved_model.load(export)
    assert set(served.signatures) == {"serving_default", "encode", "decode"}
    codes = served.signatures["encode"](images=tf.constant(x[:4]))["z"]
    np.testing.assert_allclose(codes, model.latent_code(x[:4]), rtol=1e-5)
    with open(os.path.join(export, "assets.extra", "keras_vae.json")) as f:
        metadata = json.load(f)
    assert metadata["model"] == "Autoencoder" and "sample" not in metadata["signatures"]


def test_encoder_with_the_wrong_heads_is_refused_with_the_shapes():
    inputs = keras.Input(SHAPE)
    flat = keras.layers.Flatten()(inputs)
    encoder = keras.Model(inputs, [keras.layers.Dense(3)(flat), keras.layers.Dense(3)(flat)])
    codes = keras.Input((3,))
    decoder = keras.Model(codes, keras.layers.Reshape(SHAPE)(keras.layers.Dense(64)(codes)))
    with pytest.raises(ValueError, match=r"`encoder` must output \[z \(batch, 3\)\]"):
        keras_vae.Autoencoder(encoder, decoder)
