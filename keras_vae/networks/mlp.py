"""Fully connected encoder and decoder."""

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


def mlp_encoder(input_shape, latent_dim, hidden_units=(500,), activation="relu", name="encoder",
                heads=None):
    """A multilayer perceptron encoder: flatten, dense layers, two linear heads.

    Args:
        input_shape: tuple of ints. Shape of one example, e.g. `(28, 28, 1)`.
        latent_dim: int. Size of z.
        hidden_units: int or list of ints. Widths of the hidden layers. Defaults to `(500,)`.
        activation: str. Keras activation of the hidden layers. Defaults to `"relu"`.
        name: str. Name of the model.
        heads: dict or None. `{name: size}` of the linear output heads, in order (what the
            posterior asks for: `posterior.output_sizes(latent_dim)`). Defaults to
            `{"z_mean": latent_dim, "z_log_var": latent_dim}`.

    Returns:
        A functional `keras.Model` from `input_shape` to one tensor per head.
    """
    input_shape = check_shape_argument("input_shape", input_shape)
    latent_dim = check_latent_dim(latent_dim)
    hidden_units = check_hidden_units(hidden_units)
    inputs = keras.Input(shape=input_shape, name="x")
    h = keras.layers.Flatten()(inputs)
    for i, units in enumerate(hidden_units):
        h = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")(h)
    return encoder_model(inputs, h, latent_dim, name, heads)


def mlp_decoder(
    output_shape,
    latent_dim,
    hidden_units=(500,),
    activation="relu",
    num_params=1,
    name="decoder",
    output_channels=None,
):
    """A multilayer perceptron decoder, mirror image of `mlp_encoder`.

    Args:
        output_shape: tuple of ints. Shape of one example, e.g. `(28, 28, 1)`.
        latent_dim: int. Size of z.
        hidden_units: int or list of ints. Widths of the hidden layers, listed from the data
            side as for the encoder (they are applied in reverse). Defaults to `(500,)`.
        activation: str. Keras activation of the hidden layers. Defaults to `"relu"`.
        num_params: int. Likelihood parameters per data dimension. Defaults to `1`.
        name: str. Name of the model.
        output_channels: int or None. Output channels when the likelihood's parameters are
            per pixel (`Likelihood.output_channels`). Defaults to `channels * num_params`.

    Returns:
        A functional `keras.Model` from `(latent_dim,)` to
        `(*output_shape[:-1], channels * num_params)`.
    """
    output_shape = check_shape_argument("output_shape", output_shape)
    latent_dim = check_latent_dim(latent_dim)
    hidden_units = check_hidden_units(hidden_units)
    num_params = check_num_params(num_params)
    inputs = keras.Input(shape=(latent_dim,), name="z")
    h = inputs
    for i, units in enumerate(reversed(hidden_units)):
        h = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")(h)
    outputs = output_shape[-1] * num_params if output_channels is None else check_int(
        "output_channels", output_channels, 1)
    params_shape = (*output_shape[:-1], outputs)
    h = keras.layers.Dense(math.prod(params_shape), name="params")(h)
    outputs = keras.layers.Reshape(params_shape)(h)
    return keras.Model(inputs, outputs, name=name)


def mlp_discriminator(input_shape, hidden_units=(500, 500), activation="relu",
                      name="discriminator", feature_layer=-1):
    """A multilayer perceptron classifier of real against generated inputs: flatten, dense
    layers, one logit. Outputs `[logit, features]`, `features` the activations of hidden layer
    `feature_layer` (what a feature-matching loss compares).

    Args:
        input_shape: tuple of ints. Shape of one input: `(latent_dim,)` for codes, the image
            shape for images.
        hidden_units: int or list of ints. Widths of the hidden layers. Defaults to
            `(500, 500)`.
        activation: str. Keras activation of the hidden layers. Defaults to `"relu"`.
        name: str. Name of the model.
        feature_layer: int. Index (Python-style, -1 the last) of the hidden layer whose
            activations are the `features` output. Defaults to `-1`.
    """
    input_shape = check_shape_argument("input_shape", input_shape)
    hidden_units = check_hidden_units(hidden_units)
    if (not isinstance(feature_layer, int) or isinstance(feature_layer, bool)
            or not -len(hidden_units) <= feature_layer < len(hidden_units)):
        raise ValueError(
            f"Argument `feature_layer` must be an int indexing one of the "
            f"{len(hidden_units)} hidden layers (from {-len(hidden_units)} to "
            f"{len(hidden_units) - 1}). Received: feature_layer={feature_layer!r}")
    inputs = keras.Input(shape=input_shape, name="inputs")
    h = keras.layers.Flatten()(inputs)
    hidden = []
    for i, units in enumerate(hidden_units):
        h = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")(h)
        hidden.append(h)
    logit = keras.layers.Dense(1, name="logit")(h)
    return keras.Model(inputs, [logit, hidden[feature_layer]], name=name)
