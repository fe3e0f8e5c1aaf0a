"""A hierarchy of latent feature maps on the residual backbone (NVAE, VDVAE).

The bottom-up path is `resnet_encoder`'s: per entry of `hidden_units` a stride-2 convolution
and `blocks` residual blocks. The L stochastic layers live on the L smallest grids it passes
through: z_L on the smallest, each layer below on the next finer one, `channels[l]` numbers at
each position of z_{l+1}'s grid. Between two layers, the top-down network runs the residual
blocks at the coarser grid, a stride-2 transposed convolution to the finer one and blocks
there; 1x1 convolutions give p(z_l | z_{l+1}) and the top-down half of q's shift, all four
starting at zero. The decoder is `resnet_decoder` from z_1's grid up.

Every latent layer travels as a flat vector (`Flatten` of the feature map), so the networks
plug into `keras_vae.HierarchicalVAE` as its MLP ones do.
"""

import math

import keras

from keras_vae.arguments import check_int
from keras_vae.networks.common import check_hidden_units, check_shape_argument
from keras_vae.networks.resnet import check_blocks, residual_block


def grids(input_shape, levels):
    """`(height, width)` after each of `levels` stride-2 'same' convolutions."""
    height, width = input_shape[:2]
    sizes = []
    for _ in range(levels):
        height, width = math.ceil(height / 2), math.ceil(width / 2)
        sizes.append((height, width))
    return sizes


def _blocks(h, filters, blocks, activation, name):
    for block in range(blocks):
        h = residual_block(h, filters, activation, f"{name}_block_{block}")
    return h


def _up(h, filters, grid, activation, name):
    """A stride-2 transposed convolution to `filters`, cropped to `grid` `(height, width)`."""
    h = keras.layers.Activation(activation, name=f"{name}_act")(h)
    h = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same", name=name)(h)
    extra_h, extra_w = h.shape[1] - grid[0], h.shape[2] - grid[1]
    if extra_h or extra_w:
        h = keras.layers.Cropping2D(((0, extra_h), (0, extra_w)), name=f"{name}_crop")(h)
    return h


def _flat_heads(h, channels, prefix, heads, activation, zero=False, use_bias=True):
    """1x1 convolutions of `channels` on `act(h)`, flattened, named `{prefix}_{head}`."""
    h = keras.layers.Activation(activation, name=f"{prefix}_act")(h)
    initializer = "zeros" if zero else "glorot_uniform"
    return [keras.layers.Flatten(name=f"{prefix}_{head}")(keras.layers.Conv2D(
        channels, 1, kernel_initializer=initializer, use_bias=use_bias,
        name=f"{prefix}_{head}_conv")(h)) for head in heads]


def feature_map_hierarchy(input_shape, channels, hidden_units=(32, 64, 128), blocks=2,
                          activation="relu", output_channels=None):
    """The bottom-up path, the decoder and the top-down networks of a hierarchy of latent
    feature maps on the residual backbone.

    Args:
        input_shape: tuple of 3 ints. `(height, width, channels)` of one image.
        channels: list of ints. Channels of z_1 ... z_L at each position of their grids;
            at most as many layers as `hidden_units` has resolutions.
        hidden_units: list of ints. Filters at each resolution, from the data side, as for
            `resnet_encoder`. Defaults to `(32, 64, 128)`.
        blocks: int. Residual blocks at each resolution, in every path. Defaults to 2.
        activation: str. Keras activation. Defaults to `"relu"`.
        output_channels: int or None. The decoder's outputs per pixel (the likelihood's
            `output_channels(channels)`). Defaults to the image's channels.

    Returns:
        `(bottom_up, decoder, top_down)`: `bottom_up` from images to `[z1_mean, z1_log_var,
        ..., zL_mean, zL_log_var]`, each flat `(batch, height_l * width_l * channels[l])`;
        `decoder` from flat z_1 to `(batch, height, width, output_channels)`; `top_down[l]`
        from flat z_{l+2} to `[mean, log_var, q_mean, q_log_var]` of z_{l+1}, flat.
    """
    input_shape = check_shape_argument("input_shape", input_shape, rank=3)
    hidden_units = check_hidden_units(hidden_units)
    blocks = check_blocks(blocks)
    if not isinstance(channels, (list, tuple)) or not 2 <= len(channels) <= len(hidden_units):
        raise ValueError(
            f"Argument `channels` must list the channels of 2 to {len(hidden_units)} latent "
            f"layers, one per resolution of hidden_units={list(hidden_units)}. "
            f"Received: channels={channels!r}")
    channels = [check_int("channels", c, 1, f"in each entry (of {list(channels)})")
                for c in channels]
    outputs = input_shape[-1] if output_channels is None else check_int(
        "output_channels", output_channels, 1)
    sizes = grids(input_shape, len(hidden_units))
    # z_l (1-based) lives at resolution `level[l - 1]`: z_L on the smallest grid.
    first = len(hidden_units) - len(channels)
    level = [first + index for index in range(len(channels))]

    inputs = keras.Input(shape=input_shape, name="x")
    h, estimates = inputs, []
    for depth, filters in enumerate(hidden_units):
        h = keras.layers.Conv2D(filters, 3, strides=2, padding="same", name=f"down_{depth}")(h)
        h = _blocks(h, filters, blocks, activation, f"level_{depth}")
        if depth in level:
            layer = level.index(depth) + 1
            estimates += _flat_heads(h, channels[layer - 1], f"z{layer}", ("mean", "log_var"),
                                     activation)
    bottom_up = keras.Model(inputs, estimates, name="bottom_up")

    top_down = []
    for layer in range(1, len(channels)):
        coarse, fine = level[layer], level[layer - 1]
        z = keras.Input((math.prod(sizes[coarse]) * channels[layer],), name=f"z{layer + 1}")
        h = keras.layers.Reshape((*sizes[coarse], channels[layer]))(z)
        h = keras.layers.Conv2D(hidden_units[coarse], 3, padding="same",
                                name=f"p{layer}_in")(h)
        h = _blocks(h, hidden_units[coarse], blocks, activation, f"p{layer}_coarse")
        h = _up(h, hidden_units[fine], sizes[fine], activation, f"p{layer}_up")
        h = _blocks(h, hidden_units[fine], blocks, activation, f"p{layer}_fine")
        # p(z_l | z_{l+1}) starts as N(0, I) and q's top-down shift as 0, as in the MLP.
        params = _flat_heads(h, channels[layer - 1], f"p{layer}", ("mean", "log_var"),
                             activation, zero=True)
        params += _flat_heads(h, channels[layer - 1], f"q{layer}", ("mean", "log_var"),
                              activation, zero=True, use_bias=False)
        top_down.append(keras.Model(z, params, name=f"top_down_{layer}"))

    z1 = keras.Input((math.prod(sizes[first]) * channels[0],), name="z1")
    h = keras.layers.Reshape((*sizes[first], channels[0]))(z1)
    h = keras.layers.Conv2D(hidden_units[first], 3, padding="same", name="project")(h)
    for depth in reversed(range(first + 1)):
        h = _blocks(h, hidden_units[depth], blocks, activation, f"level_{depth}")
        target = sizes[depth - 1] if depth else input_shape[:2]
        h = _up(h, hidden_units[max(depth - 1, 0)], target, activation, f"up_{depth}")
    h = keras.layers.Activation(activation, name="out_act")(h)
    h = keras.layers.Conv2D(outputs, 3, padding="same", name="params")(h)
    decoder = keras.Model(z1, h, name="decoder")
    return bottom_up, decoder, top_down


__all__ = ["feature_map_hierarchy", "grids"]
