"""Likelihoods p(x|z): functions from decoder outputs to TensorFlow Probability distributions.

A decoder outputs a tensor `(batch, *data_shape[:-1], channels * num_params)`: the
likelihood's parameters for every data dimension, stacked along the last axis. A likelihood
turns that tensor into a distribution whose event is one whole example, so that
`log_prob(x)` is log p(x|z) summed over pixels, one value per example.
"""

import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

tfd = tfp.distributions


class Likelihood:
    """Base class of the likelihoods p(x|z).

    Subclasses set `num_params` (decoder outputs per data dimension), `support` (the closed
    interval the data must lie in) and implement `distribution(params)` and `mean(params)`.
    A likelihood is called on decoder outputs and returns the distribution.
    """

    name = "likelihood"
    num_params = 1
    support = (-math.inf, math.inf)

    def __call__(self, params):
        return self.distribution(params)

    def distribution(self, params, event_ndims=None):
        """p(x|z) as a TFP distribution whose event is one example.

        `event_ndims` (default: every axis of `params` but the first) is the number of trailing
        axes that make up one example.
        """
        raise NotImplementedError

    def mean(self, params):
        """The mean of p(x|z): what a deterministic reconstruction shows."""
        raise NotImplementedError

    def log_prob(self, params, x):
        """log p(x|z) summed over each example's data dimensions, shape `params.shape[:1]`.

        `x` may have fewer leading axes than `params` and is broadcast against them. Subclasses
        may override this with a faster formula equal to `distribution(params).log_prob(x)`.
        """
        return self.distribution(params, event_ndims=len(x.shape) - 1).log_prob(x)

    def fused_log_prob(self, params, x):
        """`log_prob`'s values, in the form fastest when XLA fuses it into one pass (no
        gradient needed): what importance sampling compiles. Defaults to `log_prob`."""
        return self.log_prob(params, x)

    def describe_support(self):
        low, high = self.support
        return f"values in [{low}, {high}]"

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _event_ndims(params, event_ndims=None):
    return len(params.shape) - 1 if event_ndims is None else event_ndims


@keras.saving.register_keras_serializable(package="keras_vae")
class Bernoulli(Likelihood):
    """Bernoulli likelihood from logits, for binary (or binarized) images.

    #### Mathematical details

    log p(x|z) = sum_i x_i log sigmoid(l_i) + (1 - x_i) log sigmoid(-l_i), computed from the
    logits l without forming probabilities, so that it stays finite for any logit.

    Example:

    ```python
    vae = keras_vae.VAE(encoder, decoder, likelihood=keras_vae.Bernoulli())
    ```
    """

    name = "bernoulli"
    num_params = 1
    support = (0.0, 1.0)

    def distribution(self, params, event_ndims=None):
        base = tfd.Bernoulli(logits=params, dtype=params.dtype)
        return tfd.Independent(base, reinterpreted_batch_ndims=_event_ndims(params, event_ndims))

    def mean(self, params):
        return ops.sigmoid(params)

    def log_prob(self, params, x):
        """sum_i x_i l_i - softplus(l_i): the Bernoulli log-probability from logits l, in one
        fused elementwise pass (TFP's `log_prob` takes several; the values are equal)."""
        event_axes = tuple(range(-(len(x.shape) - 1), 0))
        return ops.sum(x * params - ops.softplus(params), axis=event_axes)

    def fused_log_prob(self, params, x):
        """The same sum with softplus(l) = max(l, 0) + log(1 + exp(-|l|)): one exp and one log
        per pixel, which XLA fuses into a single pass. log(1 + t) instead of log1p(t) errs by
        less than 6e-8 nats per pixel (t <= 1). Its gradient would take more ops than
        `log_prob`'s, so training keeps `log_prob`."""
        event_ndims = len(x.shape) - 1
        # One data axis (XLA reduces a single minor axis much faster than several).
        params = tf.reshape(params, tf.concat([tf.shape(params)[:-event_ndims], [-1]], 0))
        x = tf.reshape(x, tf.concat([tf.shape(x)[:1], [-1]], 0))
        log_1p_exp = tf.math.log(1.0 + tf.exp(-tf.abs(params)))
        return tf.reduce_sum(x * params - tf.nn.relu(params) - log_1p_exp, axis=-1)


@keras.saving.register_keras_serializable(package="keras_vae")
class Gaussian(Likelihood):
    """Diagonal Gaussian likelihood, for continuous data.

    Args:
        scale: float or None. A fixed standard deviation shared by all pixels, or `None` to
            let the decoder output one per pixel (then the decoder outputs two parameters per
            data dimension: the means, then the raw scales). Defaults to `None`.
        min_scale: float. With a learned scale, sigma = softplus(raw) + min_scale, which keeps
            the density bounded on data with constant pixels. Defaults to `1e-3`.
    """

    name = "gaussian"
    support = (-math.inf, math.inf)

    def __init__(self, scale=None, min_scale=1e-3):
        if scale is not None and not (isinstance(scale, (int, float)) and scale > 0):
            raise ValueError(
                f"Argument `scale` must be a positive number or None. Received: scale={scale!r}"
            )
        if not (isinstance(min_scale, (int, float)) and min_scale > 0):
            raise ValueError(
                f"Argument `min_scale` must be a positive number. Received: min_scale={min_scale!r}"
            )
        self.scale = None if scale is None else float(scale)
        self.min_scale = float(min_scale)
        self.num_params = 1 if scale is not None else 2

    def _loc_scale(self, params):
        if self.scale is not None:
            return params, ops.full_like(params, self.scale)
        loc, raw_scale = ops.split(params, 2, axis=-1)
        return loc, ops.softplus(raw_scale) + self.min_scale

    def distribution(self, params, event_ndims=None):
        loc, scale = self._loc_scale(params)
        base = tfd.Normal(loc=loc, scale=scale)
        return tfd.Independent(base, reinterpreted_batch_ndims=_event_ndims(params, event_ndims))

    def mean(self, params):
        return self._loc_scale(params)[0]

    def get_config(self):
        return {"scale": self.scale, "min_scale": self.min_scale}


_BY_NAME = {cls.name: cls for cls in (Bernoulli, Gaussian)}


def get_likelihood(identifier) -> Likelihood:
    """Returns a `Likelihood` from a name, a serialized config or an instance.

    Args:
        identifier: `"bernoulli"`, `"gaussian"`, a dict from `keras.saving.serialize_keras_object`
            or a `Likelihood`.
    """
    if isinstance(identifier, Likelihood):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() not in _BY_NAME:
            raise ValueError(
                f"Argument `likelihood` must be one of {sorted(_BY_NAME)} or a "
                f"keras_vae.Likelihood. Received: likelihood={identifier!r}"
            )
        return _BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    raise TypeError(
        f"Argument `likelihood` must be a name, a config dict or a keras_vae.Likelihood. "
        f"Received: likelihood={identifier!r} of type {type(identifier).__name__}"
    )


def available_likelihoods() -> list:
    return sorted(_BY_NAME)


def check_support_numpy(likelihood: Likelihood, x: np.ndarray, arg_name: str = "x") -> None:
    """Raises `ValueError` if `x` holds NaN, inf or values outside the likelihood's support."""
    if not np.all(np.isfinite(x)):
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise ValueError(
            f"Argument `{arg_name}` must hold finite values only. Received: {bad} NaN or inf "
            f"value(s) in {arg_name} of shape {tuple(x.shape)}"
        )
    low, high = likelihood.support
    if x.size and (x.min() < low or x.max() > high):
        raise ValueError(
            f"Argument `{arg_name}` must hold {likelihood.describe_support()} for the "
            f"{likelihood.name} likelihood (scale images to [0, 1] first). Received: values "
            f"in [{x.min():g}, {x.max():g}]"
        )


def support_violation(likelihood: Likelihood, x) -> tf.Tensor:
    """A scalar bool tensor: True where `x` holds NaN, inf or values outside the support."""
    finite = tf.reduce_all(tf.math.is_finite(x))
    low, high = likelihood.support
    inside = tf.reduce_all((x >= low) & (x <= high)) if math.isfinite(low) else True
    return tf.logical_not(tf.logical_and(finite, inside))
