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


def encoder_model(inputs, features, latent_dim, name, heads=None):
    """Closes an encoder: one linear head on `features` per entry of `heads` (`{name: size}`),
    by default z_mean and z_log_var of size `latent_dim`."""
    heads = heads or {"z_mean": latent_dim, "z_log_var": latent_dim}
    outputs = [keras.layers.Dense(size, name=head)(features) for head, size in heads.items()]
    return keras.Model(inputs, outputs, name=name)
