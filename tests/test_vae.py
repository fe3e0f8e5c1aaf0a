import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae.distributions.likelihoods import get_likelihood
from keras_vae.models import input_checks
from tests.helpers import (
    SHAPE,
    binary_images,
    images,
    small_vae,
    weights_of,
)


def test_loss_terms_match_a_numpy_elbo():
    """Bernoulli cross-entropy at the decoder's logits and the closed-form Gaussian KL
    (Kingma & Welling 2014, appendix B), in float64 numpy, at the draws of z the model made."""
    model = small_vae()
    x = binary_images(8)
    terms = model.loss_terms(x, seed=3)
    for value in terms.values():
        assert value.shape == (8,)
    mean, log_var = (np.asarray(t, np.float64) for t in model.encode(x))
    kl = -0.5 * np.sum(1 + log_var - mean ** 2 - np.exp(log_var), axis=1)
    z = np.asarray(model.sampled_terms(x, 1, seed=3)["z"][0])
    np.testing.assert_allclose(z, mean + np.exp(0.5 * log_var) * np.asarray(
        keras.random.normal(z.shape, seed=3)), rtol=1e-5, atol=1e-6)
    logits = np.asarray(model.decoder(z), np.float64).reshape(8, -1)
    flat = x.reshape(8, -1).astype(np.float64)
    nll = np.sum(np.logaddexp(0, logits) - flat * logits, axis=1)
    np.testing.assert_allclose(terms["reconstruction_loss"], nll, rtol=1e-5)
    np.testing.assert_allclose(terms["kl_loss"], kl, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(terms["loss"], nll + kl, rtol=1e-5)
    np.testing.assert_allclose(terms["elbo"], -(nll + kl), rtol=1e-5)


def test_fit_on_numpy_with_validation_and_evaluate():
    model = small_vae()
    x = binary_images(96)
    history = model.fit(x, epochs=3, batch_size=16, validation_data=(x[:32],), verbose=0)
    logs = history.history
    assert {"loss", "reconstruction_loss", "kl_loss", "elbo", "val_loss", "val_elbo"} <= set(logs)
    assert logs["loss"][-1] < logs["loss"][0]
    # The last validation is the trained model's, with the same evaluation noise (seed 0).
    result = model.evaluate(x[:32], batch_size=16, verbose=0, return_dict=True)
    for name in ("loss", "reconstruction_loss", "kl_loss", "elbo"):
        np.testing.assert_allclose(result[name], logs["val_" + name][-1], rtol=1e-5)


def test_fit_on_a_tf_data_pipeline():
    model = small_vae()
    train = keras_vae.data.make_dataset(images(96), 16, binarize_images=True, seed=0)
    val = keras_vae.data.make_dataset(images(32, seed=1), 16, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither "shuffle=True ... ignored" nor "ran out of data"
        history = model.fit(train, epochs=2, validation_data=val, verbose=0)
    assert len(history.history["val_loss"]) == 2
    result = model.evaluate(val, verbose=0, return_dict=True)
    np.testing.assert_allclose(result["loss"], history.history["val_loss"][-1], rtol=1e-5)


def test_sample_weights_weight_the_reported_terms():
    model = small_vae()
    x = binary_images(32)
    x[16:] = 1.0 - x[16:]  # two halves with different KL
    weights = np.r_[np.ones(16), np.zeros(16)].astype("float32")
    weighted = model.evaluate(x, sample_weight=weights, batch_size=32, verbose=0,
                              return_dict=True)
    first_half = model.evaluate(x[:16], batch_size=32, verbose=0, return_dict=True)
    np.testing.assert_allclose(weighted["kl_loss"], first_half["kl_loss"], rtol=1e-5)


def test_call_encode_decode_and_sample():
    model = small_vae()
    x = binary_images(5)
    np.testing.assert_array_equal(model(x), model(x))  # deterministic reconstruction
    z_mean, z_log_var = model.encode(x)
    assert z_mean.shape == z_log_var.shape == (5, 3)
    np.testing.assert_allclose(model(x), model.decode(z_mean), rtol=1e-6)
    assert model.predict(x, verbose=0).shape == (5, *SHAPE)
    a, b, c = model.sample(4, seed=3), model.sample(4, seed=3), model.sample(4, seed=4)
    assert a.shape == (4, *SHAPE)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert 0.0 <= float(np.min(a)) and float(np.max(a)) <= 1.0


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_keras_file_round_trip_gives_equal_outputs_and_fit_continues(tmp_path, architecture):
    model = small_vae(architecture=architecture)
    x = binary_images(48)
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, keras_vae.VAE)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)
    np.testing.assert_allclose(loaded.sample(3, seed=1), model.sample(3, seed=1), atol=1e-6)
    assert loaded.get_config()["likelihood"] == model.get_config()["likelihood"]
    assert int(loaded.optimizer.iterations) == 3
    loaded.fit(x, epochs=1, batch_size=16, verbose=0)
    assert int(loaded.optimizer.iterations) == 6


def test_gaussian_model_round_trips_and_trains(tmp_path):
    model = small_vae(likelihood=keras_vae.Gaussian())
    assert model.decoder.output_shape == (None, 8, 8, 2)
    x = images(32) * 4.0 - 2.0  # continuous data outside [0, 1] is fine for a Gaussian
    model.fit(x, epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras")
    assert isinstance(loaded.likelihood, keras_vae.Gaussian)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)


def test_config_round_trip_rebuilds_the_same_model():
    model = small_vae(likelihood=keras_vae.Gaussian(scale=0.3), compile=False)
    clone = keras_vae.VAE.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]


def test_jit_compile_and_several_steps_per_execution():
    model = small_vae(jit_compile=True, steps_per_execution=3)
    history = model.fit(binary_images(96), epochs=2, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert int(model.optimizer.iterations) == 12


def test_standard_callbacks(tmp_path):
    model = small_vae()
    x = binary_images(64)
    callbacks = [
        keras.callbacks.TensorBoard(str(tmp_path / "logs")),
        keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor="val_loss",
                                        save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=1e9),
        keras.callbacks.CSVLogger(str(tmp_path / "history.csv")),
    ]
    history = model.fit(x, epochs=10, batch_size=16, validation_data=x[:16], verbose=0,
                        callbacks=callbacks)
    assert len(history.history["loss"]) == 2  # EarlyStopping stopped it
    assert keras.models.load_model(tmp_path / "best.keras").latent_dim == 3
    header = (tmp_path / "history.csv").read_text().splitlines()[0]
    assert "kl_loss" in header and "val_reconstruction_loss" in header
    assert os.listdir(tmp_path / "logs" / "train")


def _loss_and_gradients(model, x):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model.loss_terms(x, training=True)["loss"])
    return loss, tape.gradient(loss, model.trainable_weights)


@pytest.mark.parametrize("fill", [0.0, 1.0])
def test_all_zero_or_all_one_images_stay_finite(fill):
    model = small_vae()
    x = np.full((16, *SHAPE), fill, "float32")
    history = model.fit(x, epochs=3, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    loss, gradients = _loss_and_gradients(model, x)
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in gradients)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_extreme_encoder_outputs_stay_finite(likelihood):
    model = small_vae(likelihood=likelihood)
    for layer_name, scale in (("z_log_var", 1e4), ("z_mean", 1e2)):
        layer = model.encoder.get_layer(layer_name)
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel * scale, bias + scale])
    x = binary_images(8)
    z_mean, z_log_var = model.encode(x)
    assert np.abs(np.asarray(z_log_var)).max() > 29  # really extreme
    loss, gradients = _loss_and_gradients(model, x)
    assert np.isfinite(loss), loss
    assert all(np.isfinite(g).all() for g in gradients)


def test_user_supplied_networks_are_accepted():
    encoder_input = keras.Input(SHAPE)
    h = keras.layers.Flatten()(encoder_input)
    encoder = keras.Model(encoder_input, [keras.layers.Dense(2)(h), keras.layers.Dense(2)(h)])
    decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(64),
                                keras.layers.Reshape(SHAPE)])
    model = keras_vae.VAE(encoder, decoder, likelihood="bernoulli", seed=0)
    model.compile(optimizer="adam")
    model.fit(binary_images(32), epochs=1, batch_size=16, verbose=0)
    assert model.latent_dim == 2


def test_mismatched_or_unbuilt_networks_are_rejected():
    encoder = keras_vae.networks.mlp_encoder(SHAPE, 2, [8])
    one_param = keras_vae.networks.mlp_decoder(SHAPE, 2, [8], num_params=1)
    with pytest.raises(ValueError, match=r"`decoder`.*gaussian"):
        keras_vae.VAE(encoder, one_param, likelihood="gaussian")
    with pytest.raises(ValueError, match="`encoder`.*z_mean"):
        keras_vae.VAE(keras_vae.networks.mlp_encoder(SHAPE, 3, [8]), one_param)
    with pytest.raises(ValueError, match="`encoder` must be a built Keras model"):
        keras_vae.VAE(keras.Sequential([keras.layers.Dense(2)]), one_param)


# ------------------------------------------------------------------------- bad input


def _fit_fails(model, x, match, **kwargs):
    before = weights_of(model)
    with pytest.raises(ValueError, match=match):
        model.fit(x, epochs=1, batch_size=16, verbose=0, **kwargs)
    for a, b in zip(before, weights_of(model)):
        np.testing.assert_array_equal(a, b)  # nothing trained


def test_wrong_input_shape_fails_before_training():
    _fit_fails(small_vae(), binary_images(32).reshape(32, 64),
               r"`x` must hold examples of shape \(8, 8, 1\).*Received: x with examples of "
               r"shape \(64,\)")
    with pytest.raises(ValueError, match="shape"):
        small_vae().predict(np.zeros((2, 28, 28, 1), "float32"), verbose=0)


def test_nan_or_inf_fails_before_training():
    x = binary_images(32)
    x[3, 2, 2, 0] = np.nan
    x[4, 2, 2, 0] = np.inf
    _fit_fails(small_vae(), x, r"`x` must hold finite values.*Received: 2 NaN or inf")
    _fit_fails(small_vae(likelihood="gaussian"), x, "finite")


def test_values_outside_unit_interval_fail_for_bernoulli_only():
    x = binary_images(32) * 255.0
    _fit_fails(small_vae(), x, r"`x` must hold values in \[0.0, 1.0\].*Received: values in "
                               r"\[0, 255\]")
    small_vae(likelihood="gaussian").fit(x, epochs=1, batch_size=16, verbose=0)


def test_bad_validation_data_fails_before_training():
    x = binary_images(32)
    _fit_fails(small_vae(), x, "`validation_data`", validation_data=(x * 3,))
    _fit_fails(small_vae(), x, "`validation_data`", validation_data=x[:, :4])


def test_streamed_dataset_of_wrong_shape_fails_before_training():
    dataset = tf.data.Dataset.from_tensor_slices(binary_images(32)[:, :4]).batch(8)
    _fit_fails(small_vae(), dataset, r"examples of shape \(8, 8, 1\).*\(4, 8, 1\)")


def test_streamed_bad_batch_fails_with_its_index():
    x = binary_images(64)
    x[40] = 2.0  # in batch 2 of 16
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(16)
    model = small_vae()
    with pytest.raises(ValueError, match=r"`x` must hold finite values in \[0.0, 1.0\].*"
                                         r"Received: batch 2 \(counting from 0\)"):
        model.fit(dataset, epochs=1, verbose=0)
    x[40] = np.nan
    dataset = tf.data.Dataset.from_tensor_slices((x, x)).batch(16)
    with pytest.raises(ValueError, match=r"batch 2 .* holds 64 NaN"):
        model.evaluate(dataset, verbose=0)


def test_streamed_check_accepts_finite_values_whose_sum_overflows():
    # The quick per-batch test sums the batch; an overflow must go to the exact check, which
    # accepts finite values (the Gaussian likelihood's support is unbounded).
    x = np.full((4, *SHAPE), 3e38, "float32")
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(4)
    checked = input_checks.checked_dataset(dataset, SHAPE, get_likelihood("gaussian"), "x")
    np.testing.assert_array_equal(next(iter(checked)).numpy(), x)
    x[1, 0, 0, 0] = np.inf
    bad = input_checks.checked_dataset(tf.data.Dataset.from_tensor_slices(x).batch(4), SHAPE,
                                       get_likelihood("gaussian"), "x")
    with pytest.raises(tf.errors.InvalidArgumentError, match="holds 1 NaN or inf"):
        next(iter(bad))


def test_latent_size_below_one_and_unknown_likelihood_are_rejected():
    with pytest.raises(ValueError, match=r"`latent_dim` must be an int >= 1.*latent_dim=0"):
        keras_vae.VAE.from_architecture(SHAPE, 0)
    with pytest.raises(ValueError, match="likelihood='laplace'"):
        keras_vae.VAE.from_architecture(SHAPE, 2, likelihood="laplace")


def test_sample_weights_without_targets_are_kept_in_fit():
    x = binary_images(32)
    model = small_vae()
    history = model.fit(x, sample_weight=np.zeros(32, "float32"), epochs=1, batch_size=32,
                        verbose=0)
    assert history.history["loss"] == [0.0]  # every example weighted out


def test_every_dataset_is_checked_batch_by_batch_the_packages_too():
    images = binary_images(32)
    made = keras_vae.data.make_dataset(images, 8, shuffle=False)
    bernoulli = get_likelihood("bernoulli")
    checked = input_checks.check_inputs(made, SHAPE, bernoulli, "x")
    assert checked is not made and int(checked.cardinality()) == 4
    batches = list(checked)  # the images in order, checked
    assert len(batches) == 4
    np.testing.assert_array_equal(np.concatenate(batches), images)
    scaled = made.map(lambda x: x * 3.0)  # out of the likelihood's support at batch 0
    with pytest.raises(ValueError, match=r"`x` must hold finite values in \[0.0, 1.0\].*batch 0"):
        small_vae().fit(scaled, epochs=1, verbose=0)


def test_a_float_stream_with_bad_values_fails_before_binarization_turns_them_into_bits():
    x = images(32)
    x[20, 0, 0, 0] = 3.0  # batch 2 of 8
    stream = keras_vae.data.stream_dataset(tf.data.Dataset.from_tensor_slices(x), 8,
                                           shuffle_buffer=1, binarize_images=True)
    with pytest.raises(ValueError, match=r"`images` of stream_dataset must hold finite values "
                                         r"in \[0, 1\]\. Received: batch 2 .* in \[.*, 3\]"):
        small_vae().fit(stream, epochs=1, verbose=0)
    x[20, 0, 0, 0] = np.nan
    stream = keras_vae.data.stream_dataset(tf.data.Dataset.from_tensor_slices(x), 8,
                                           shuffle_buffer=1, binarize_images=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch 2 .* holds 1 NaN"):
        list(stream)


def test_a_mixed_precision_model_reloads_with_its_dtype_policy(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras_vae.VAE.from_architecture(SHAPE, 3, hidden_units=[16], seed=0,
                                            dtype="mixed_float16")
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    x = binary_images(32)
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "mixed.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.dtype_policy.name == "mixed_float16"
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("evaluation_seed", [None, 3])
def test_the_compile_arguments_of_the_family_survive_a_reload(tmp_path, evaluation_seed):
    """`evaluation_seed` travels in the compile config (`get_compile_config`): a reloaded
    model evaluates with the noise the saved one used."""
    model = small_vae(evaluation_seed=evaluation_seed, metrics=["mse"])
    x = binary_images(32)
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.evaluation_seed == evaluation_seed
    logs = loaded.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    assert "mse" in logs
    if evaluation_seed is not None:
        expected = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
        assert logs["loss"] == pytest.approx(expected["loss"], rel=1e-5)
