"""Ready-made encoder and decoder networks (functional Keras models).

An encoder maps images `(batch, *input_shape)` to `[z_mean, z_log_var]`, each
`(batch, latent_dim)`. A decoder maps `(batch, latent_dim)` to the likelihood's parameters
`(batch, *input_shape[:-1], channels * num_params)`.
"""

from keras_vae.networks.conv import conv_decoder, conv_encoder
from keras_vae.networks.mlp import mlp_decoder, mlp_discriminator, mlp_encoder

ARCHITECTURES = {
    "mlp": (mlp_encoder, mlp_decoder),
    "conv": (conv_encoder, conv_decoder),
}


def _builders(architecture):
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"Argument `architecture` must be one of {sorted(ARCHITECTURES)}. "
            f"Received: architecture={architecture!r}"
        )
    return ARCHITECTURES[architecture]


def build_encoder(architecture, input_shape, latent_dim, hidden_units=None, activation="relu",
                  heads=None):
    """Builds the encoder of `architecture` ("mlp" or "conv"); see `mlp_encoder`."""
    encoder, _ = _builders(architecture)
    kwargs = {} if hidden_units is None else {"hidden_units": hidden_units}
    return encoder(input_shape, latent_dim, activation=activation, heads=heads, **kwargs)


def build_decoder(
    architecture, output_shape, latent_dim, hidden_units=None, activation="relu", num_params=1
):
    """Builds the decoder of `architecture` ("mlp" or "conv"); see `mlp_decoder`."""
    _, decoder = _builders(architecture)
    kwargs = {} if hidden_units is None else {"hidden_units": hidden_units}
    return decoder(output_shape, latent_dim, activation=activation, num_params=num_params, **kwargs)


__all__ = [
    "mlp_encoder",
    "mlp_decoder",
    "mlp_discriminator",
    "conv_encoder",
    "conv_decoder",
    "build_encoder",
    "build_decoder",
    "ARCHITECTURES",
]
