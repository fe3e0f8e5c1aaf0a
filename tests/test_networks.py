import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae import networks


@pytest.mark.parametrize("architecture", ["mlp", "conv", "resnet"])
@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (13, 17, 3)])
@pytest.mark.parametrize("num_params", [1, 2])
def test_builders_fit_any_image_shape(architecture, shape, num_params):
    encoder = networks.build_encoder(architecture, shape, 4, [8, 8], "tanh")
    decoder = networks.build_decoder(architecture, shape, 4, [8, 8], "tanh", num_params)
    z_mean, z_log_var = encoder(np.zeros((2, *shape), "float32"))
    assert z_mean.shape == z_log_var.shape == (2, 4)
    params = decoder(np.zeros((2, 4), "float32"))
    assert params.shape == (2, *shape[:-1], shape[-1] * num_params)


def test_built_networks_round_trip_through_their_config():
    decoder = networks.conv_decoder((13, 17, 3), 4, [8, 8], num_params=2)
    clone = keras.Model.from_config(decoder.get_config())
    assert clone.output_shape == decoder.output_shape


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"latent_dim": 2.5}, "latent_dim"),
        ({"hidden_units": []}, "hidden_units"),
        ({"hidden_units": [8, -1]}, "hidden_units"),
        ({"input_shape": (28, 28)}, "input_shape"),
    ],
)
def test_bad_builder_arguments_name_themselves(kwargs, argument):
    arguments = {"input_shape": (8, 8, 1), "latent_dim": 2, "hidden_units": [8]} | kwargs
    with pytest.raises(ValueError, match=f"`{argument}`.*Received: {argument}="):
        networks.conv_encoder(**arguments)


def test_unknown_architecture_is_rejected():
    with pytest.raises(ValueError, match="architecture"):
        networks.build_encoder("transformer", (8, 8, 1), 2)


def test_resnet_blocks_start_as_the_identity_and_count_as_asked():
    encoder = networks.resnet_encoder((8, 8, 3), 4, [4, 8], blocks=3)
    blocks = [layer for layer in encoder.layers if layer.name.endswith("_add")]
    assert len(blocks) == 6
    inner = keras.Model(encoder.input, [encoder.get_layer("level_1_block_0_add").input[0],
                                        encoder.get_layer("level_1_block_0_add").output])
    before, after = inner(np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32"))
    np.testing.assert_array_equal(before, after)  # zero-initialized residual branch
    with pytest.raises(ValueError, match="`blocks` must be an int >= 1"):
        networks.resnet_decoder((8, 8, 3), 4, [4], blocks=0)


def colour_levels(n=16, shape=(8, 8, 3)):
    return np.round(np.random.default_rng(1).random((n, *shape)) * 255).astype("float32") / 255


def resnet_vae(**kwargs):
    keras.utils.set_random_seed(2)
    model = keras_vae.VAE.from_architecture((8, 8, 3), 4, architecture="resnet",
                                            hidden_units=[4, 8], blocks=1,
                                            likelihood="logistic_mixture", seed=2, **kwargs)
    model.compile(keras.optimizers.Adam(1e-3))
    return model


def test_resnet_vae_trains_under_mixed_precision_with_a_float32_likelihood():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = resnet_vae()
        assert model.decoder.output.dtype == "float16"
        logs = model.fit(colour_levels(), epochs=2, batch_size=8, verbose=0).history
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert logs["loss"][-1] < logs["loss"][0]


def test_resnet_vae_round_trips_keras_and_serves_colour_images_after_a_strategy(tmp_path):
    x = colour_levels()
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        model = resnet_vae()
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)
    assert loaded.likelihood.get_config() == model.likelihood.get_config()
    served = tf.saved_model.load(keras_vae.export_saved_model(loaded, str(tmp_path / "export")))
    np.testing.assert_allclose(served.signatures["serving_default"](images=x)["reconstructions"],
                               model.predict(x, verbose=0), atol=1e-5)
    np.testing.assert_allclose(served.signatures["elbo"](images=x, seed=tf.constant(3))["elbo"],
                               model.loss_terms(x, seed=tf.constant(3))["elbo"], rtol=1e-4)
    assert served.signatures["sample"](n=tf.constant(2), seed=tf.constant(1))[
        "images"].shape == (2, 8, 8, 3)


def conv_parameters(kernel, channels_in, filters):
    return kernel * kernel * channels_in * filters + filters


def test_disentanglement_libs_network_has_its_parameter_count():
    """disentanglement_lib's encoder for 64x64 sprites (Locatello et al. 2019): 4x4 stride-2
    convolutions of 32, 32, 64, 64 filters (64 -> 4 pixels a side), 256 dense units, two heads
    of 10; the decoder the mirror image, then this package's 3x3 output convolution."""
    encoder = networks.conv_encoder((64, 64, 1), 10, [32, 32, 64, 64], kernel_size=4,
                                    dense_units=[256])
    expected = (conv_parameters(4, 1, 32) + conv_parameters(4, 32, 32)
                + conv_parameters(4, 32, 64) + conv_parameters(4, 64, 64)
                + (4 * 4 * 64 * 256 + 256) + 2 * (256 * 10 + 10))
    assert encoder.count_params() == expected == 382_932
    decoder = networks.conv_decoder((64, 64, 1), 10, [32, 32, 64, 64], kernel_size=4,
                                    dense_units=[256])
    expected = ((10 * 256 + 256) + (256 * 4 * 4 * 64 + 4 * 4 * 64)
                + conv_parameters(4, 64, 64) + conv_parameters(4, 64, 64)
                + conv_parameters(4, 64, 32) + conv_parameters(4, 32, 32)
                + conv_parameters(3, 32, 1))
    assert decoder.count_params() == expected
    assert decoder(np.zeros((2, 10), "float32")).shape == (2, 64, 64, 1)
    with pytest.raises(ValueError, match=r"`kernel_size` must be an int >= 1.*kernel_size=0"):
        networks.conv_encoder((64, 64, 1), 10, kernel_size=0)
    with pytest.raises(ValueError,
                       match=r"`dense_units` must be an int >= 1 in each entry \(of \[256, 0\]"):
        networks.conv_decoder((64, 64, 1), 10, dense_units=[256, 0])


def test_the_command_builds_the_conv_options_and_refuses_them_elsewhere():
    from keras_vae.app.commands import train
    from keras_vae.app.runs import check_config
    from keras_vae.app.training import build_model, load_run_data

    flags = ["--dataset", "sprites", "--num-images", "50", "--architecture", "conv",
             "--hidden-units", "8", "8", "--kernel-size", "4", "--dense-units", "16",
             "--latent-dim", "3"]
    run_data = load_run_data(train.config_from_args(*train.parse_args(flags)), verbose=0)
    model = build_model(run_data.config, run_data, tf.distribute.get_strategy())
    kernels = [layer.kernel.shape for layer in model.encoder.layers
               if isinstance(layer, keras.layers.Conv2D)]
    assert kernels == [(4, 4, 1, 8), (4, 4, 8, 8)]
    assert model.encoder.get_layer("dense_0").units == 16
    assert model.decoder.get_layer("dense_0").units == 16
    for flag, value in (("--kernel-size", "4"), ("--dense-units", "16")):
        config = train.config_from_args(*train.parse_args(["--architecture", "mlp", flag,
                                                           value]))
        name = flag[2:].replace("-", "_")
        with pytest.raises(ValueError, match=f"`{name}` applies to the conv architecture only"):
            check_config(config)
    with pytest.raises(ValueError, match="`kernel_size` applies to the conv"):
        keras_vae.VAE.from_architecture((8, 8, 1), 2, architecture="resnet", kernel_size=4)
