"""Checks of the data handed to `fit`, `evaluate` and `predict`.

In-memory data (numpy arrays, tensors) is checked whole before anything runs. A
`tf.data.Dataset` is checked statically (its element shape) before anything runs, then batch
by batch as it streams: the first offending batch stops the run with a `ValueError` that
gives its index.
"""

import contextlib
import re

import numpy as np
import tensorflow as tf

from keras_vae.data.checks import END, MARK, checked_batches
from keras_vae.distributions.likelihoods import check_support_numpy

def _shape_matches(received, expected):
    return len(received) == len(expected) and all(
        r is None or e is None or r == e for r, e in zip(received, expected)
    )


def check_example_shape(shape, expected, arg_name):
    """Raises `ValueError` unless `shape[1:]` (after the batch axis) equals `expected`."""
    received = tuple(None if d is None else int(d) for d in shape[1:])
    if not _shape_matches(received, tuple(expected)):
        raise ValueError(
            f"Argument `{arg_name}` must hold examples of shape {tuple(expected)} (after the "
            f"batch axis). Received: {arg_name} with examples of shape {received}"
        )


def _first_component(element):
    return element[0] if isinstance(element, (tuple, list)) else element


def check_in_memory(x, expected_shape, likelihood, arg_name):
    """Checks a whole array: shape, finiteness, support of the likelihood."""
    array = np.asarray(x)
    if array.ndim < 1:
        raise ValueError(f"Argument `{arg_name}` must be a batch of examples. Received: {x!r}")
    check_example_shape(array.shape, expected_shape, arg_name)
    if array.shape[0] == 0:
        raise ValueError(f"Argument `{arg_name}` must hold at least one example. Received: "
                         f"{arg_name} of shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(
            f"Argument `{arg_name}` must hold numbers. Received: dtype={array.dtype}"
        )
    check_support_numpy(likelihood, array, arg_name)


def checked_dataset(dataset, expected_shape, likelihood, arg_name):
    """Returns `dataset` with every batch checked as it streams.

    The shape of the elements is checked now; the values of batch i are checked when it is
    drawn, and a failure surfaces (through `reraise_input_errors`) as a `ValueError` naming
    batch i. Every dataset is checked, the package's own too: the check is three reductions
    per batch in the input pipeline, beside the training step.
    """
    spec = _first_component(dataset.element_spec)
    check_example_shape(spec.shape, expected_shape, arg_name)
    if int(dataset.cardinality()) == 0:
        raise ValueError(f"Argument `{arg_name}` must hold at least one batch of examples. "
                         "Received: an empty tf.data.Dataset (cardinality 0)")
    low, high = likelihood.support
    range_text = f"values in [{low}, {high}] for the {likelihood.kind} likelihood"
    return checked_batches(dataset, low, high, f"Argument `{arg_name}` must hold finite "
                           f"{range_text}.", select=_first_component)


def check_inputs(x, expected_shape, likelihood, arg_name):
    """Checks `x` as `fit`, `evaluate` or `predict` receive it; returns what to feed on."""
    if x is None:
        return x
    if isinstance(x, tf.data.Dataset):
        return checked_dataset(x, expected_shape, likelihood, arg_name)
    if isinstance(x, (np.ndarray, tf.Tensor)) or (
        isinstance(x, (list, tuple)) and x and isinstance(x[0], (int, float, list))
    ):
        check_in_memory(x, expected_shape, likelihood, arg_name)
    return x


@contextlib.contextmanager
def reraise_input_errors():
    """Turns the graph assertion of `checked_dataset` into the `ValueError` it stands for."""
    try:
        yield
    except tf.errors.InvalidArgumentError as error:
        found = re.search(re.escape(MARK) + r"(.*?)" + re.escape(END), str(error), re.S)
        if found is None:
            raise
        raise ValueError(found.group(1)) from error
