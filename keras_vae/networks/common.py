"""What the network builders share: argument checks and the encoder's heads."""

import keras


def check_shape(name, shape, rank=None):
    if not (
        isinstance(shape, (tuple, list))
        and len(shape) >= 1
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape)
    ):
        raise ValueError(
            f"Argument `{name}` must be a tuple of positive ints such as (28, 28, 1). "
            f"Received: {name}={shape!r}"
        )
    if rank is not None and len(shape) != rank:
        raise ValueError(
            f"Argument `{name}` must have {rank} dimensions (height, width, channels). "
            f"Received: {name}={tuple(shape)!r}"
        )
    return tuple(shape)


def check_latent_dim(latent_dim):
    if not isinstance(latent_dim, int) or isinstance(latent_dim, bool) or latent_dim < 1:
        raise ValueError(
            f"Argument `latent_dim` must be an int >= 1. Received: latent_dim={latent_dim!r}"
        )
    return latent_dim


def check_hidden_units(hidden_units):
    units = list(hidden_units) if isinstance(hidden_units, (tuple, list)) else [hidden_units]
    if not units or not all(isinstance(u, int) and not isinstance(u, bool) and u >= 1 for u in units):
        raise ValueError(
            "Argument `hidden_units` must be one or more positive ints. "
            f"Received: hidden_units={hidden_units!r}"
        )
    return units


def check_num_params(num_params):
    if not isinstance(num_params, int) or num_params < 1:
        raise ValueError(
            f"Argument `num_params` must be an int >= 1. Received: num_params={num_params!r}"
        )
    return num_params


def gaussian_encoder_model(inputs, features, latent_dim, name):
    """Closes an encoder: two linear heads on `features`, for z_mean and z_log_var."""
    z_mean = keras.layers.Dense(latent_dim, name="z_mean")(features)
    z_log_var = keras.layers.Dense(latent_dim, name="z_log_var")(features)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)
