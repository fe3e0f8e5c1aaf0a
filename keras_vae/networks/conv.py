"""Convolutional encoder and decoder for images of any size."""

import math

import keras

from keras_vae.arguments import check_int
from keras_vae.networks.common import (
    encoder_model,
    check_hidden_units,
    check_latent_dim,
    check_num_params,
    check_shape_argument,
)


def conv_encoder(
    input_shape, latent_dim, hidden_units=(32, 64), activation="relu", name="encoder",
    heads=None,
):
    """A convolutional encoder: 3x3 convolutions of stride 2, then two linear heads.

    Args:
        input_shape: tuple of 3 ints. `(height, width, channels)` of one image.
        latent_dim: int. Size of z.
        hidden_units: int or list of ints. Filters of each stride-2 convolution (each one
            halves the height and width, rounding up). Defaults to `(32, 64)`.
        activation: str. Keras activation of the convolutions. Defaults to `"relu"`.
        name: str. Name of the model.
        heads: dict or None. `{name: size}` of the linear output heads, in order (what the
            posterior asks for: `posterior.output_sizes(latent_dim)`). Defaults to
            `{"z_mean": latent_dim, "z_log_var": latent_dim}`.

    Returns:
        A functional `keras.Model` from `input_shape` to one tensor per head.
    """
    input_shape = check_shape_argument("input_shape", input_shape, rank=3)
    latent_dim = check_latent_dim(latent_dim)
    hidden_units = check_hidden_units(hidden_units)
    inputs = keras.Input(shape=input_shape, name="x")
    h = inputs
    for i, filters in enumerate(hidden_units):
        h = keras.layers.Conv2D(
            filters, 3, strides=2, padding="same", activation=activation, name=f"conv_{i}"
        )(h)
    h = keras.layers.Flatten()(h)
    return encoder_model(inputs, h, latent_dim, name, heads)


def conv_decoder(
    output_shape,
    latent_dim,
    hidden_units=(32, 64),
    activation="relu",
    num_params=1,
    name="decoder",
    output_channels=None,
):
    """A transposed-convolution decoder, mirror image of `conv_encoder`.

    The latent vector is projected to a `ceil(height / 2^n) x ceil(width / 2^n)` grid, upsampled
    by n stride-2 transposed convolutions and cropped to exactly `(height, width)`, so any
    image size works.

    Args:
        output_shape: tuple of 3 ints. `(height, width, channels)` of one image.
        latent_dim: int. Size of z.
        hidden_units: int or list of ints. Filters, listed from the data side as for the
            encoder (applied in reverse). Defaults to `(32, 64)`.
        activation: str. Keras activation. Defaults to `"relu"`.
        num_params: int. Likelihood parameters per data dimension. Defaults to `1`.
        name: str. Name of the model.
        output_channels: int or None. Output channels when the likelihood's parameters are
            per pixel (`Likelihood.output_channels`). Defaults to `channels * num_params`.

    Returns:
        A functional `keras.Model` from `(latent_dim,)` to
        `(height, width, channels * num_params)`.
    """
    height, width, channels = check_shape_argument("output_shape", output_shape, rank=3)
    latent_dim = check_latent_dim(latent_dim)
    hidden_units = check_hidden_units(hidden_units)
    num_params = check_num_params(num_params)
    factor = 2 ** len(hidden_units)
    grid_h, grid_w = math.ceil(height / factor), math.ceil(width / factor)
    inputs = keras.Input(shape=(latent_dim,), name="z")
    h = keras.layers.Dense(grid_h * grid_w * hidden_units[-1], activation=activation)(inputs)
    h = keras.layers.Reshape((grid_h, grid_w, hidden_units[-1]))(h)
    for i, filters in enumerate(reversed(hidden_units)):
        h = keras.layers.Conv2DTranspose(
            filters, 3, strides=2, padding="same", activation=activation, name=f"deconv_{i}"
        )(h)
    outputs = channels * num_params if output_channels is None else check_int(
        "output_channels", output_channels, 1)
    h = keras.layers.Conv2D(outputs, 3, padding="same", name="params")(h)
    extra_h, extra_w = grid_h * factor - height, grid_w * factor - width
    if extra_h or extra_w:
        h = keras.layers.Cropping2D(((0, extra_h), (0, extra_w)))(h)
    return keras.Model(inputs, h, name=name)
