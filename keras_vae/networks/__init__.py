"""Ready-made encoder and decoder networks (functional Keras models).

An encoder maps images `(batch, *input_shape)` to `[z_mean, z_log_var]`, each
`(batch, latent_dim)`. A decoder maps `(batch, latent_dim)` to the likelihood's parameters
`(batch, *input_shape[:-1], channels * num_params)` (or the likelihood's
`output_channels(channels)` where its parameters are per pixel).
"""

from keras_vae.networks.conv import conv_decoder, conv_encoder
from keras_vae.networks.hierarchy import feature_map_hierarchy
from keras_vae.networks.mlp import mlp_decoder, mlp_discriminator, mlp_encoder
from keras_vae.networks.resnet import resnet_decoder, resnet_encoder

ARCHITECTURES = {
    "mlp": (mlp_encoder, mlp_decoder),
    "conv": (conv_encoder, conv_decoder),
    "resnet": (resnet_encoder, resnet_decoder),
}
# Settings of one architecture only: refused for the others, never ignored.
ARCHITECTURE_OPTIONS = {"blocks": ("resnet",), "kernel_size": ("conv",), "dense_units": ("conv",)}


def _builders(architecture):
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"Argument `architecture` must be one of {sorted(ARCHITECTURES)}. "
            f"Received: architecture={architecture!r}"
        )
    return ARCHITECTURES[architecture]


def architecture_options(architecture, blocks=None, kernel_size=None, dense_units=None) -> dict:
    """The keyword arguments of `architecture`'s builders among its own options (`blocks`:
    residual blocks per resolution, resnet only; `kernel_size` and `dense_units`, conv only);
    an option given to another architecture is refused, naming it."""
    _builders(architecture)
    given = {"blocks": blocks, "kernel_size": kernel_size, "dense_units": dense_units}
    for name, value in given.items():
        if value is not None and architecture not in ARCHITECTURE_OPTIONS[name]:
            raise ValueError(
                f"Argument `{name}` applies to the {' and '.join(ARCHITECTURE_OPTIONS[name])} "
                f"architecture only. Received: {name}={value!r} with "
                f"architecture={architecture!r}")
    return {name: value for name, value in given.items() if value is not None}


def build_encoder(architecture, input_shape, latent_dim, hidden_units=None, activation="relu",
                  heads=None, **options):
    """Builds the encoder of `architecture` ("mlp", "conv" or "resnet"); see `mlp_encoder`.
    `options`: the architecture's own (`architecture_options`)."""
    encoder, _ = _builders(architecture)
    kwargs = {} if hidden_units is None else {"hidden_units": hidden_units}
    return encoder(input_shape, latent_dim, activation=activation, heads=heads,
                   **architecture_options(architecture, **options), **kwargs)


def build_decoder(
    architecture, output_shape, latent_dim, hidden_units=None, activation="relu", num_params=1,
    output_channels=None, **options
):
    """Builds the decoder of `architecture` ("mlp", "conv" or "resnet"); see `mlp_decoder`.
    `output_channels` (default `channels * num_params`): the likelihood's
    `output_channels(channels)`."""
    _, decoder = _builders(architecture)
    kwargs = {} if hidden_units is None else {"hidden_units": hidden_units}
    return decoder(output_shape, latent_dim, activation=activation, num_params=num_params,
                   output_channels=output_channels,
                   **architecture_options(architecture, **options), **kwargs)


__all__ = [
    "mlp_encoder",
    "mlp_decoder",
    "mlp_discriminator",
    "conv_encoder",
    "conv_decoder",
    "resnet_encoder",
    "resnet_decoder",
    "feature_map_hierarchy",
    "architecture_options",
    "build_encoder",
    "build_decoder",
    "ARCHITECTURES",
]
