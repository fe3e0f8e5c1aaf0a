import keras
import numpy as np
import pytest

from keras_vae import networks


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
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
