"""Checks of the networks and parts handed to a model's constructor, and the batch mean that
every step reports."""

import keras
from keras import ops


def built_network(network, arg_name):
    """Returns the input shape (without batch axis) of a built functional network."""
    inputs = getattr(network, "inputs", None)
    if not isinstance(network, keras.Model) or not inputs or len(inputs) != 1:
        raise ValueError(
            f"Argument `{arg_name}` must be a built Keras model with one known input, such as "
            "a functional model or a Sequential starting with keras.Input. "
            f"Received: {arg_name}={network!r}"
        )
    return tuple(inputs[0].shape[1:])


def checked_discriminator(discriminator, input_shape, what, outputs=None):
    """Returns `discriminator` if it is a built Keras model taking `(batch, *input_shape)`
    (`what` it judges, in words) and, when `outputs` is a list of names, giving those
    outputs; else raises `ValueError` naming the argument."""
    expected = f"take {what} of shape (batch, {', '.join(str(d) for d in input_shape)})"
    if outputs:
        expected += f" and output [{', '.join(outputs)}]"
    received = built_network(discriminator, "discriminator")
    if received != tuple(input_shape) or (outputs and len(discriminator.outputs) != len(outputs)):
        raise ValueError(f"Argument `discriminator` must {expected}. Received: input shape "
                         f"{received}, {len(discriminator.outputs)} output(s)")
    return discriminator


def weighted_mean(values, sample_weight):
    """The mean of per-example `values`, weighted by `sample_weight` when given."""
    if sample_weight is None:
        return ops.mean(values)
    sample_weight = ops.cast(ops.reshape(sample_weight, ops.shape(values)), values.dtype)
    return ops.sum(values * sample_weight) / ops.maximum(ops.sum(sample_weight), 1e-12)
