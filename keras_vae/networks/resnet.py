"""Residual convolutional encoder and decoder, for colour images.

The shape of the ResNet VAEs of Kingma et al. 2016 (IAF), Vahdat & Kautz 2020 (NVAE) and
Child 2021 (VDVAE), kept to one stochastic layer: at each resolution a stride-2 convolution
changes the size, then `blocks` residual blocks `h + conv(act(conv(act(h))))` work at that
size. The second convolution of every block starts at zero, so that each block starts as the
identity and a deep stack trains from the first step (as Fixup and VDVAE initialize).
"""

import math

import keras

from keras_vae.arguments import check_int
from keras_vae.networks.common import (
    check_hidden_units,
    check_latent_dim,
    check_num_params,
    check_shape_argument,
    encoder_model,
)


def residual_block(h, filters, activation, name):
    """`h + conv3x3(act(conv3x3(act(h))))`, the second convolution initialized at zero."""
    branch = keras.layers.Activation(activation, name=f"{name}_act_0")(h)
    branch = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv_0")(branch)
    branch = keras.layers.Activation(activation, name=f"{name}_act_1")(branch)
    branch = keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer="zeros",
                                 name=f"{name}_conv_1")(branch)
    return keras.layers.Add(name=f"{name}_add")([h, branch])


def check_blocks(blocks):
    return check_int("blocks", blocks, 1, "(residual blocks per resolution)")


def resnet_encoder(input_shape, latent_dim, hidden_units=(32, 64, 128), blocks=2,
                   activation="relu", name="encoder", heads=None):
    """A residual convolutional encoder: per entry of `hidden_units`, a 3x3 convolution of
    stride 2 to that width and `blocks` residual blocks; then the linear heads.

    Args:
        input_shape: tuple of 3 ints. `(height, width, channels)` of one image.
        latent_dim: int. Size of z.
        hidden_units: int or list of ints. The width at each resolution (each halves the
            height and width, rounding up). Defaults to `(32, 64, 128)`.
        blocks: int. Residual blocks at each resolution. Defaults to 2.
        activation: str. Keras activation. Defaults to `"relu"`.
        name: str. Name of the model.
        heads: dict or None. `{name: size}` of the linear output heads (see `conv_encoder`).

    Returns:
        A functional `keras.Model` from `input_shape` to one tensor per head.
    """
    input_shape = check_shape_argument("input_shape", input_shape, rank=3)
    latent_dim = check_latent_dim(latent_dim)
    hidden_units = check_hidden_units(hidden_units)
    blocks = check_blocks(blocks)
    inputs = keras.Input(shape=input_shape, name="x")
    h = inputs
    for level, filters in enumerate(hidden_units):
        h = keras.layers.Conv2D(filters, 3, strides=2, padding="same",
                                name=f"down_{level}")(h)
        for block in range(blocks):
            h = residual_block(h, filters, activation, f"level_{level}_block_{block}")
    h = keras.layers.Activation(activation, name="out_act")(h)
    h = keras.layers.Flatten()(h)
    return encoder_model(inputs, h, latent_dim, name, heads)


def resnet_decoder(output_shape, latent_dim, hidden_units=(32, 64, 128), blocks=2,
                   activation="relu", num_params=1, output_channels=None, name="decoder"):
    """The mirror image of `resnet_encoder`: z projected to the smallest grid, then per
    resolution (from the smallest) `blocks` residual blocks and a stride-2 transposed
    convolution, a 3x3 convolution to the likelihood's parameters, cropped to
    `(height, width)`.

    Args:
        output_shape: tuple of 3 ints. `(height, width, channels)` of one image.
        latent_dim: int. Size of z.
        hidden_units: int or list of ints. Widths from the data side, as for the encoder.
            Defaults to `(32, 64, 128)`.
        blocks: int. Residual blocks at each resolution. Defaults to 2.
        activation: str. Keras activation. Defaults to `"relu"`.
        num_params: int. Likelihood parameters per channel. Defaults to `1`.
        output_channels: int or None. Output channels, when the likelihood's parameters are
            per pixel (`Likelihood.output_channels`); defaults to `channels * num_params`.
        name: str. Name of the model.

    Returns:
        A functional `keras.Model` from `(latent_dim,)` to `(height, width, output_channels)`.
    """
    height, width, channels = check_shape_argument("output_shape", output_shape, rank=3)
    latent_dim = check_latent_dim(latent_dim)
    hidden_units = check_hidden_units(hidden_units)
    blocks = check_blocks(blocks)
    outputs = (channels * check_num_params(num_params) if output_channels is None
               else check_int("output_channels", output_channels, 1))
    factor = 2 ** len(hidden_units)
    grid_h, grid_w = math.ceil(height / factor), math.ceil(width / factor)
    inputs = keras.Input(shape=(latent_dim,), name="z")
    h = keras.layers.Dense(grid_h * grid_w * hidden_units[-1], name="project")(inputs)
    h = keras.layers.Reshape((grid_h, grid_w, hidden_units[-1]))(h)
    for level in reversed(range(len(hidden_units))):
        filters = hidden_units[level]
        for block in range(blocks):
            h = residual_block(h, filters, activation, f"level_{level}_block_{block}")
        h = keras.layers.Activation(activation, name=f"up_act_{level}")(h)
        h = keras.layers.Conv2DTranspose(hidden_units[max(level - 1, 0)], 3, strides=2,
                                         padding="same", name=f"up_{level}")(h)
    h = keras.layers.Activation(activation, name="out_act")(h)
    h = keras.layers.Conv2D(outputs, 3, padding="same", name="params")(h)
    extra_h, extra_w = grid_h * factor - height, grid_w * factor - width
    if extra_h or extra_w:
        h = keras.layers.Cropping2D(((0, extra_h), (0, extra_w)))(h)
    return keras.Model(inputs, h, name=name)
