"""Convolutional encoder and decoder for images of any size."""

import math

import keras

from keras_vae.arguments import check_int, check_int_list
from keras_vae.networks.common import (
    encoder_model,
    check_hidden_units,
    check_latent_dim,
    check_num_params,
    check_shape_argument,
)


def conv_encoder(
    input_shape, latent_dim, hidden_units=(32, 64), activation="relu", name="encoder",
    heads=None, kernel_size=3, dense_units=None,
):
    """A convolutional encoder: square convolutions of stride 2, optional dense layers, then
    linear heads.

    Example: disentanglement_lib's encoder for 64x64 images (Locatello et al. 2019, "Challenging
    Common Assumptions in the Unsupervised Learning of Disentangled Representations",
    appendix; 4x4 convolutions of 32, 32, 64, 64 filters, then 256 units):

    >>> encoder = conv_encoder((64, 64, 1), 10, [32, 32, 64, 64], kernel_size=4,
    ...                        dense_units=[256])

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
        kernel_size: int. Height and width of each convolution's kernel. Defaults to `3`.
        dense_units: list of ints or None. Widths of the dense layers between the last
            convolution and the heads (`activation` each). Defaults to None: none.

    Returns:
        A functional `keras.Model` from `input_shape` to one tensor per head.
    """
    input_shape = check_shape_argument("input_shape", input_shape, rank=3)
    latent_dim = check_latent_dim(latent_dim)
    hidden_units = check_hidden_units(hidden_units)
    kernel_size = check_int("kernel_size", kernel_size, 1)
    dense_units = _check_dense_units(dense_units)
    inputs = keras.Input(shape=input_shape, name="x")
    h = inputs
    for i, filters in enumerate(hidden_units):
        h = keras.layers.Conv2D(
            filters, kernel_size, strides=2, padding="same", activation=activation,
            name=f"conv_{i}"
        )(h)
    h = keras.layers.Flatten()(h)
    for i, units in enumerate(dense_units):
        h = keras.layers.Dense(units, activation=activation, name=f"dense_{i}")(h)
    return encoder_model(inputs, h, latent_dim, name, heads)


def _check_dense_units(dense_units):
    return [] if dense_units is None else check_int_list("dense_units", dense_units, 1,
                                                         allow_int=True)


def conv_decoder(
    output_shape,
    latent_dim,
    hidden_units=(32, 64),
    activation="relu",
    num_params=1,
    name="decoder",
    output_channels=None,
    kernel_size=3,
    dense_units=None,
):
    """A transposed-convolution decoder, mirror image of `conv_encoder`.

    The latent vector goes through the dense layers `dense_units` (in reverse), is projected to a `ceil(height / 2^n) x ceil(width / 2^n)` grid, upsampled
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
        kernel_size: int. Kernel height and width of each transposed convolution (the
            output convolution stays 3x3). Defaults to `3`.
        dense_units: list of ints or None. Dense widths, listed from the data side as for the
            encoder (applied in reverse, before the projection). Defaults to None: none.

    Returns:
        A functional `keras.Model` from `(latent_dim,)` to
        `(height, width, channels * num_params)`.
    """
    height, width, channels = check_shape_argument("output_shape", output_shape, rank=3)
    latent_dim = check_latent_dim(latent_dim)
    hidden_units = check_hidden_units(hidden_units)
    num_params = check_num_params(num_params)
    kernel_size = check_int("kernel_size", kernel_size, 1)
    dense_units = _check_dense_units(dense_units)
    factor = 2 ** len(hidden_units)
    grid_h, grid_w = math.ceil(height / factor), math.ceil(width / factor)
    inputs = keras.Input(shape=(latent_dim,), name="z")
    h = inputs
    for i, units in enumerate(reversed(dense_units)):
        h = keras.layers.Dense(units, activation=activation, name=f"dense_{i}")(h)
    h = keras.layers.Dense(grid_h * grid_w * hidden_units[-1], activation=activation)(h)
    h = keras.layers.Reshape((grid_h, grid_w, hidden_units[-1]))(h)
    for i, filters in enumerate(reversed(hidden_units)):
        h = keras.layers.Conv2DTranspose(
            filters, kernel_size, strides=2, padding="same", activation=activation,
            name=f"deconv_{i}"
        )(h)
    outputs = channels * num_params if output_channels is None else check_int(
        "output_channels", output_channels, 1)
    h = keras.layers.Conv2D(outputs, 3, padding="same", name="params")(h)
    extra_h, extra_w = grid_h * factor - height, grid_w * factor - width
    if extra_h or extra_w:
        h = keras.layers.Cropping2D(((0, extra_h), (0, extra_w)))(h)
    return keras.Model(inputs, h, name=name)
