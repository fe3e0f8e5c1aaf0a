"""What the network builders share: argument checks and the encoder's heads."""

import keras

from keras_vae.arguments import check_int, check_int_list


def check_shape_argument(name, shape, rank=None):
    """Returns `shape` (an example's shape, e.g. `(28, 28, 1)`) as a tuple if it holds ints
    >= 1 (`rank` of them when given), else raises `ValueError` naming the argument."""
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
    return check_int("latent_dim", latent_dim, 1)


def check_hidden_units(hidden_units):
    return check_int_list("hidden_units", hidden_units, 1, allow_int=True)


def check_num_params(num_params):
    return check_int("num_params", num_params, 1)


def encoder_model(inputs, features, latent_dim, name, heads=None):
    """Closes an encoder: one linear head on `features` per entry of `heads` (`{name: size}`),
    by default z_mean and z_log_var of size `latent_dim`."""
    heads = heads or {"z_mean": latent_dim, "z_log_var": latent_dim}
    outputs = [keras.layers.Dense(size, name=head)(features) for head, size in heads.items()]
    return keras.Model(inputs, outputs, name=name)
