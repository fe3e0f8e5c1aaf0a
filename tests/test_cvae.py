"""The conditional VAE: its terms against numpy, sampling a chosen class, the labelled data
path, saving and export, and the errors for missing or wrong labels."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae.data import make_dataset, stream_dataset
from keras_vae.app.commands import train
from tests.helpers import SHAPE, binary_images

CLASSES = 4


def small_cvae(latent_dim=3, **kwargs):
    keras.utils.set_random_seed(0)
    model = keras_vae.ConditionalVAE.from_architecture(
        SHAPE, latent_dim, num_classes=CLASSES, hidden_units=[16], seed=0, **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def labels(n, seed=0):
    return np.random.default_rng(seed).integers(0, CLASSES, n)


def row_images(y):
    """Image of class k: row k lit, every other pixel dark; the label decides the image."""
    x = np.zeros((len(y), *SHAPE), np.float32)
    x[np.arange(len(y)), y, :, 0] = 1.0
    return x


def log_sigmoid(v):
    return -np.logaddexp(0.0, -v)


def test_loss_terms_match_numpy_with_the_label_at_both_networks():
    model = small_cvae()
    x, y = binary_images(8), labels(8)
    head = model.encoder.get_layer("encoder").get_layer("z_log_var")
    head.kernel.assign(np.zeros(head.kernel.shape))
    head.bias.assign(np.full(head.bias.shape, -60.0))  # z = mu up to e^-14
    terms = model.loss_terms({"images": x, "labels": y}, seed=3)
    onehot = np.eye(CLASSES, dtype=np.float32)[y]
    mu = np.asarray(model.encoder([x, onehot])[0], np.float64)
    logits = np.asarray(model.decoder([mu.astype(np.float32), onehot]), np.float64)
    reconstruction = -np.sum(x * log_sigmoid(logits) + (1 - x) * log_sigmoid(-logits),
                             axis=(1, 2, 3))
    log_var = 30 * np.tanh(-60.0 / 30)  # the encoder's bounded log-variance
    kl = 0.5 * np.sum(mu ** 2 + np.exp(log_var) - 1 - log_var, axis=1)
    np.testing.assert_allclose(terms["reconstruction_loss"], reconstruction, rtol=1e-4)
    np.testing.assert_allclose(terms["kl_loss"], kl, rtol=1e-4)
    # Another label gives other terms: the condition reaches the networks.
    other = model.loss_terms({"images": x, "labels": (y + 1) % CLASSES}, seed=3)
    assert not np.allclose(other["reconstruction_loss"], terms["reconstruction_loss"])


def test_sampling_a_chosen_class_draws_that_class():
    y = labels(400)
    model = small_cvae(latent_dim=2)
    model.fit(row_images(y), y, batch_size=50, epochs=30, verbose=0)
    for k in range(CLASSES):
        samples = np.asarray(model.sample(20, labels=k, seed=k))[..., 0]
        rows = samples.mean(axis=(0, 2))  # brightness of each row, over 20 draws
        assert np.argmax(rows) == k and rows[k] > 0.9 and np.delete(rows, k).max() < 0.1
    # Default labels take the classes in turn.
    default = np.asarray(model.sample(CLASSES, seed=0))[..., 0].mean(axis=2)
    np.testing.assert_array_equal(np.argmax(default, axis=1), np.arange(CLASSES))


def test_labelled_datasets_keep_each_label_with_its_image():
    y = labels(50)
    x = row_images(y)
    for dataset in (make_dataset(x, 16, labels=y, seed=1),
                    make_dataset(x, 16, labels=y, binarize_images=True, seed=1),
                    stream_dataset(tf.data.Dataset.from_tensor_slices(
                        ((x * 255).astype(np.uint8), y)), 16, shuffle_buffer=50, seed=1)):
        seen = 0
        for images, batch_labels in dataset:
            lit_row = np.argmax(images.numpy()[..., 0].sum(axis=2), axis=1)
            np.testing.assert_array_equal(lit_row, batch_labels.numpy())
            seen += len(batch_labels)
        assert seen == 50
    with pytest.raises(ValueError, match=r"`labels` must be one int per image, shape \(50,\)"):
        make_dataset(x, 16, labels=y[:10])


def test_fit_from_arrays_datasets_and_dicts_and_round_trip(tmp_path):
    model = small_cvae()
    x, y = binary_images(64), labels(64)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, validation_data=(x[:16], y[:16]))
    model.fit(make_dataset(x, 16, labels=y), epochs=1, verbose=0)
    inputs = {"images": x, "labels": y}
    path = os.path.join(tmp_path, "cvae.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is keras_vae.ConditionalVAE and loaded.num_classes == CLASSES
    np.testing.assert_allclose(loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0),
                               rtol=1e-6)
    np.testing.assert_allclose(loaded.sample(5, labels=2, seed=4), model.sample(5, labels=2, seed=4))
    export = keras_vae.export_saved_model(model, os.path.join(tmp_path, "export"))
    served = tf.saved_model.load(export).signatures
    z = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    decoded = served["decode"](z=tf.constant(z), labels=tf.constant(y[:5], tf.int32))["images"]
    np.testing.assert_allclose(decoded, model.decode(z, y[:5]), rtol=1e-5, atol=1e-6)
    drawn = served["sample"](labels=tf.constant([1, 1, 3], tf.int32), seed=tf.constant(7))
    np.testing.assert_allclose(drawn["images"], model.sample(3, labels=[1, 1, 3], seed=7),
                               rtol=1e-5, atol=1e-6)
    with open(os.path.join(export, keras_vae.export.METADATA_FILE)) as f:
        metadata = json.load(f)
    assert metadata["num_classes"] == CLASSES and metadata["model"] == "ConditionalVAE"
    assert set(metadata["signatures"]) == set(served)


def test_missing_or_wrong_labels_fail_before_training_with_the_argument_named():
    model = small_cvae()
    x, y = binary_images(16), labels(16)
    with pytest.raises(ValueError, match="`x` must come with labels"):
        model.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"`x`'s labels must lie in \[0, 4\).*e\.g\. 4"):
        model.fit(x, y + 1, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`validation_data` must come with labels"):
        model.fit(x, y, epochs=1, verbose=0, validation_data=x)
    with pytest.raises(ValueError, match="must yield \\(images, labels\\) batches"):
        model.fit(make_dataset(x, 8), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"`labels` must hold ints in \[0, 4\)"):
        model.fit(make_dataset(x, 8, labels=y - 1), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="must carry labels"):
        model(x)
    with pytest.raises(ValueError, match="keys 'images' and 'labels'"):
        model({"images": x, "label": y})
    with pytest.raises(ValueError, match="cannot be the VampPrior"):
        small_cvae(prior="vamp")


def test_train_and_evaluate_scripts_use_the_labels_the_data_has(tmp_path):
    run_dir = train.main(["--model", "cvae", "--latent-dim", "2", "--epochs", "1",
                          "--eval-k", "10", "--output-dir", str(tmp_path / "cvae"),
                          "--verbose", "0"])
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["conditioned_on_labels"] is True and metrics["log_likelihood"] < 0
    assert {"samples.png", "samples_by_label.png", "reconstructions.png"} <= set(
        os.listdir(run_dir))
    with pytest.raises(ValueError, match=r"`amortization_images` does not apply to the cvae model"):
        train.main(["--model", "cvae", "--amortization-images", "5", "--epochs", "1",
                    "--output-dir", str(tmp_path / "other"), "--verbose", "0"])


def test_decode_takes_the_bases_signature_with_the_labels_as_condition():
    """`decode(z, condition=labels)` as `BaseAutoencoder.decode(z, condition=None)` is called:
    the sigmoid of the decoder's logits on [z, one-hot(labels)], computed here with numpy."""
    model = small_cvae()
    z = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    y = labels(5)
    logits = np.asarray(model.decoder([z, np.eye(CLASSES, dtype=np.float32)[y]]), np.float64)
    expected = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(model.decode(z, condition=y), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.decode(z, condition=np.eye(CLASSES)[y]), expected,
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"`condition` must hold the labels"):
        model.decode(z)
