"""Likelihoods p(x|z): layers from decoder outputs to TensorFlow Probability distributions.

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
from keras_vae.arguments import check_int, check_positive
from keras_vae.distributions.logistic_mixture import (
    QuantizedLogisticMixture,
    log_sigmoid,
    log_sigmoid_difference,
    mixture_param_count,
)
from keras_vae.registry import resolve, unregistered_function

tfd = tfp.distributions


class Likelihood(keras.layers.Layer):
    """Base class of the likelihoods p(x|z).

    A likelihood is a layer (so that a learned parameter, such as a global scale, is a weight
    saved with the model) but is never called as one: `distribution(params)` builds the TFP
    distribution from the decoder's outputs inside the loss code. Subclasses set `kind` (the
    registry name), `num_params` (decoder outputs per data dimension), `support` (the closed
    interval the data must lie in) and `binarize` (whether the training pipeline binarizes
    images for it), and implement `distribution(params)` and `mean(params)`.
    """

    kind = "likelihood"
    num_params = 1
    support = (-math.inf, math.inf)
    binarize = False
    levels = None  # the number of values a data dimension takes, for a discrete likelihood

    def output_channels(self, channels: int) -> int:
        """The decoder's output channels for data of `channels` channels: `num_params` per
        channel, unless the likelihood's parameters are per pixel."""
        return channels * self.num_params

    @property
    def reports_bits_per_dim(self) -> bool:
        """Whether the likelihood's figures are also given in bits per dimension: for 8-bit
        values (256 levels) only, the figure image-modelling papers quote. Binarized images
        (the Bernoulli's 2 levels) are scored in nats: a bits/dim figure on them would read as
        an 8-bit one and is 8 times smaller for the same pictures."""
        return self.levels == 256

    def bits_per_dim(self, nats, dims):
        """Nats per example as bits per data dimension, -log2 p(x) / D, for a likelihood of
        8-bit values (`reports_bits_per_dim`); None for any other."""
        return nats / (dims * math.log(2.0)) if self.reports_bits_per_dim else None

    def saving_problem(self):
        """None if the likelihood can be saved in a `.keras` file, else why not, in words."""
        return None

    def distribution(self, params, event_ndims=None):
        """p(x|z) as a TFP distribution whose event is one example.

        `event_ndims` (default: every axis of `params` but the first) is the number of trailing
        axes that make up one example.
        """
        raise NotImplementedError

    def mean(self, params):
        """The mean of p(x|z): what a deterministic reconstruction shows."""
        return self.distribution(params).mean()

    def log_prob(self, params, x):
        """log p(x|z) summed over each example's data dimensions, shape `params.shape[:-rank(x)+1]`.

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

    def check_data(self, x: np.ndarray, arg_name: str) -> None:
        """Raises `ValueError` for finite, in-support values the likelihood still cannot
        score (a discretized likelihood on data off its grid). Nothing to check by default."""

    def get_config(self):
        return super().get_config()

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()
                         if k not in ("name", "trainable", "dtype"))
        return f"{type(self).__name__}({args})"


def _event_ndims(params, event_ndims=None):
    return len(params.shape) - 1 if event_ndims is None else event_ndims


@keras.saving.register_keras_serializable(package="keras_vae")
class Bernoulli(Likelihood):
    """Bernoulli likelihood from logits, for binary (or binarized) images.

    #### Mathematical details

    log p(x|z) = sum_i x_i log sigmoid(l_i) + (1 - x_i) log sigmoid(-l_i), computed from the
    logits l without forming probabilities, so that it stays finite for any logit. The training
    pipeline binarizes grey images for it (`binarize = True`).

    Example:

    ```python
    vae = keras_vae.VAE(encoder, decoder, likelihood=keras_vae.Bernoulli())
    ```
    """

    kind = "bernoulli"
    num_params = 1
    support = (0.0, 1.0)
    binarize = True
    levels = 2

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
class ContinuousBernoulli(Likelihood):
    """Continuous Bernoulli likelihood from logits, for grey levels in [0, 1] (not binarized).

    #### Mathematical details

    p(x|l) = C(l) sigmoid(l)^x sigmoid(-l)^(1 - x) on [0, 1], with the normalizing constant
    C(l) = 2 artanh(1 - 2 sigmoid(l)) / (1 - 2 sigmoid(l)) (C = 2 at l = 0), which the
    Bernoulli likelihood leaves out when it is used on grey levels; TFP's
    `tfd.ContinuousBernoulli` evaluates it stably near l = 0. The mean is not sigmoid(l).

    References:
        Loaiza-Ganem, G. and Cunningham, J. P. The continuous Bernoulli: fixing a pervasive
        error in variational autoencoders. NeurIPS 2019.
    """

    kind = "continuous_bernoulli"
    num_params = 1
    support = (0.0, 1.0)

    def distribution(self, params, event_ndims=None):
        base = tfd.ContinuousBernoulli(logits=params)
        return tfd.Independent(base, reinterpreted_batch_ndims=_event_ndims(params, event_ndims))


GAUSSIAN_SCALES = ("per_pixel", "global")


@keras.saving.register_keras_serializable(package="keras_vae")
class Gaussian(Likelihood):
    """Diagonal Gaussian likelihood, for continuous data.

    Args:
        scale: float, `"per_pixel"` or `"global"`. A fixed standard deviation shared by all
            pixels; `"per_pixel"` (or `None`): the decoder outputs one per pixel (two
            parameters per data dimension: the means, then the raw scales); `"global"`: one
            learned standard deviation shared by all pixels, a weight of this layer. Defaults
            to `"per_pixel"`.
        min_scale: float. With a learned scale, sigma = softplus(raw) + min_scale, which keeps
            the density bounded on data with constant pixels. Defaults to `1e-3`.
        **kwargs: standard `keras.layers.Layer` arguments.
    """

    kind = "gaussian"
    support = (-math.inf, math.inf)

    def __init__(self, scale="per_pixel", min_scale=1e-3, **kwargs):
        super().__init__(**kwargs)
        scale = "per_pixel" if scale is None else scale
        fixed = isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale > 0
        if not (fixed or scale in GAUSSIAN_SCALES):
            raise ValueError(
                f"Argument `scale` must be a positive number or one of {GAUSSIAN_SCALES}. "
                f"Received: scale={scale!r}"
            )
        check_positive("min_scale", min_scale)
        self.scale = float(scale) if fixed else scale
        self.min_scale = float(min_scale)
        self.num_params = 2 if scale == "per_pixel" else 1
        if scale == "global":
            # softplus(0.5413) = 1: the scale starts at 1.
            self.raw_scale = self.add_weight(shape=(), initializer=keras.initializers.Constant(
                0.5413), name="raw_scale")
        self.built = True

    def _loc_scale(self, params):
        if self.scale == "per_pixel":
            loc, raw_scale = ops.split(params, 2, axis=-1)
            return loc, ops.softplus(raw_scale) + self.min_scale
        if self.scale == "global":
            return params, ops.softplus(ops.cast(self.raw_scale, params.dtype)) + self.min_scale
        return params, ops.cast(self.scale, params.dtype)

    def distribution(self, params, event_ndims=None):
        loc, scale = self._loc_scale(params)
        base = tfd.Normal(loc=loc, scale=ops.broadcast_to(scale, ops.shape(loc)))
        return tfd.Independent(base, reinterpreted_batch_ndims=_event_ndims(params, event_ndims))

    def mean(self, params):
        return self._loc_scale(params)[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "min_scale": self.min_scale}


@keras.saving.register_keras_serializable(package="keras_vae")
class DiscretizedLogistic(Likelihood):
    """Discretized logistic likelihood for 8-bit images (stored scaled to [0, 1] as k / 255).

    #### Mathematical details

    Each pixel value k in {0, ..., 255} has probability
    P(k) = F(k + 1/2) - F(k - 1/2) with F the logistic CDF of location 255 * mu and scale
    255 * s, the lowest and highest bins taking the whole tails (Salimans et al. 2017). It is
    TFP's `QuantizedDistribution` of a `Logistic`, so log p(x|z) is a log probability (<= 0)
    of the 8-bit image, not a density. The decoder outputs mu and a raw scale per pixel;
    s = softplus(raw) + 1e-3.

    References:
        Salimans, T., Karpathy, A., Chen, X. and Kingma, D. P. PixelCNN++. ICLR 2017.
        Kingma, D. P. et al. Improved variational inference with inverse autoregressive
        flow. NeurIPS 2016.
    """

    kind = "discretized_logistic"
    num_params = 2
    support = (0.0, 1.0)
    levels = 256

    def _loc_scale(self, params):
        loc, raw_scale = ops.split(params, 2, axis=-1)
        return loc, ops.softplus(raw_scale) + 1e-3

    def distribution(self, params, event_ndims=None):
        """The distribution of the 8-bit levels k = 255 x (its samples are levels, not x)."""
        loc, scale = self._loc_scale(params)
        top = float(self.levels - 1)
        # QuantizedDistribution puts F(k) - F(k - 1) on level k; shifting the logistic by -1/2
        # makes that G(k + 1/2) - G(k - 1/2), each bin centred on its level.
        logistic = tfd.TransformedDistribution(
            tfd.Logistic(loc=top * loc, scale=top * scale), tfp.bijectors.Shift(-0.5))
        levels = tfd.QuantizedDistribution(logistic, low=0.0, high=top)
        return tfd.Independent(levels, reinterpreted_batch_ndims=_event_ndims(params, event_ndims))

    def log_prob(self, params, x):
        """log P(255 x) summed over pixels, x given scaled to [0, 1]: the distribution's
        `log_prob` in one elementwise pass (TFP's quantized transformed logistic takes many;
        the values are equal, tests/test_distributions.py), the difference of two sigmoids
        taken in the tail where it is exact."""
        loc, scale = self._loc_scale(params)
        top = float(self.levels - 1)
        levels = ops.round(x * top)
        centred = levels / top - loc
        upper = (centred + 0.5 / top) / scale
        lower = (centred - 0.5 / top) / scale
        log_bin = ops.where(levels <= 0, log_sigmoid(upper), ops.where(
            levels >= top, log_sigmoid(-lower), log_sigmoid_difference(upper, lower)))
        return ops.sum(log_bin, axis=tuple(range(-(len(x.shape) - 1), 0)))

    def mean(self, params):
        return ops.clip(self._loc_scale(params)[0], 0.0, 1.0)

    def describe_support(self):
        return f"8-bit values k / {self.levels - 1} in [0, 1]"

    def check_data(self, x, arg_name):
        check_8_bit(self, x, arg_name)


@keras.saving.register_keras_serializable(package="keras_vae")
class DiscretizedLogisticMixture(Likelihood):
    """Discretized mixture of logistics for 8-bit images, with the channel dependence of
    PixelCNN++: per pixel, K components, each with a mean and scale per channel, and the
    green and blue means moving linearly with the red (and green) values of the same pixel.

    #### Mathematical details

    p(x|z) = prod_pixels `QuantizedLogisticMixture` (see there for the formula): a
    probability of the pixel levels k = 255 x (log p <= 0). Per pixel the decoder outputs
    K (1 + 2C + C(C-1)/2) values: K logits, C K means, C K raw scales (s = softplus(raw) +
    1e-3, in units of x) and C(C-1)/2 K raw coefficients (a = tanh(raw), as in PixelCNN++).
    For one channel it is a mixture of discretized logistics per pixel.

    Args:
        num_components: int. K, the logistics per pixel. Defaults to 5 (PixelCNN++ uses 10).
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:

    ```python
    vae = keras_vae.VAE.from_architecture((32, 32, 3), 64, architecture="resnet",
                                          likelihood="logistic_mixture")
    ```

    References:
        Salimans, T., Karpathy, A., Chen, X. and Kingma, D. P. PixelCNN++. ICLR 2017.
    """

    kind = "logistic_mixture"
    support = (0.0, 1.0)
    levels = 256

    def __init__(self, num_components=5, **kwargs):
        super().__init__(**kwargs)
        self.num_components = check_int("num_components", num_components, 1)
        self.built = True

    @property
    def num_params(self):
        """Outputs per channel of a one-channel image (per pixel: `output_channels`)."""
        return self.output_channels(1)

    def output_channels(self, channels):
        return mixture_param_count(channels, self.num_components)

    def _parts(self, params):
        """`(logits, locs, scales, coeffs)` from decoder outputs `(..., outputs_per_pixel)`."""
        k = self.num_components
        count = params.shape[-1] // k
        # count = 1 + 2C + C(C-1)/2: solve for C.
        channels = int(round((-3 + math.sqrt(9 + 8 * (count - 1))) / 2))
        logits = params[..., :k]
        shape = ops.shape(params)[:-1]

        def block(start, rows):
            return ops.reshape(params[..., start:start + rows * k], (*shape, rows, k))

        locs = block(k, channels)
        scales = ops.softplus(block(k + channels * k, channels)) + 1e-3
        pairs = channels * (channels - 1) // 2
        coeffs = ops.tanh(block(k + 2 * channels * k, pairs))
        return logits, locs, scales, coeffs

    def distribution(self, params, event_ndims=None):
        """The distribution of the 8-bit levels k = 255 x (its samples are levels, not x);
        `params` `(..., H, W, outputs_per_pixel)`, the event `(H, W, C)`."""
        pixels = QuantizedLogisticMixture(*self._parts(params), levels=self.levels)
        return tfd.Independent(pixels,
                               reinterpreted_batch_ndims=_event_ndims(params, event_ndims) - 1)

    def log_prob(self, params, x):
        top = float(self.levels - 1)
        return self.distribution(params, event_ndims=len(x.shape) - 1).log_prob(
            ops.round(x * top))

    def mean(self, params):
        return self.distribution(params).mean() / float(self.levels - 1)

    def describe_support(self):
        return f"8-bit values k / {self.levels - 1} in [0, 1]"

    def check_data(self, x, arg_name):
        check_8_bit(self, x, arg_name)

    def get_config(self):
        return {**super().get_config(), "num_components": self.num_components}


def check_8_bit(likelihood, x, arg_name):
    """Refuses values off the grid k / (levels - 1) of a likelihood of 8-bit levels."""
    top = likelihood.levels - 1
    off = np.abs(x * top - np.round(x * top)) > 1e-3
    if np.any(off):
        raise ValueError(
            f"Argument `{arg_name}` must hold 8-bit images scaled as k / {top} for the "
            f"{likelihood.kind} likelihood (it scores discrete pixel levels). Received: "
            f"{int(off.sum())} value(s) off that grid, such as {float(x[off][0])!r}"
        )


@keras.saving.register_keras_serializable(package="keras_vae")
class CallableLikelihood(Likelihood):
    """A user's likelihood: any function from decoder outputs to a `tfd.Distribution` whose
    event is one example (its `log_prob(x)` gives one value per example).

    Args:
        fn: callable `params -> tfd.Distribution`. Register it with
            `keras.saving.register_keras_serializable` so that a saved model can find it again.
        num_params: int. Decoder outputs per data dimension. Defaults to 1.
        support: pair of floats. The interval the data must lie in. Defaults to the real line.
        binarize: bool. Whether the training pipeline binarizes images for it. Defaults to False.

    Example:

    ```python
    @keras.saving.register_keras_serializable()
    def laplace(params):
        return tfd.Independent(tfd.Laplace(params, 0.1), reinterpreted_batch_ndims=3)

    vae = keras_vae.VAE.from_architecture((28, 28, 1), 20, likelihood=laplace)
    ```
    """

    kind = "callable"

    def __init__(self, fn, num_params=1, support=(-math.inf, math.inf), binarize=False,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(fn, dict):
            fn = keras.saving.deserialize_keras_object(fn)
        if not callable(fn):
            raise TypeError(f"Argument `fn` must be callable. Received: fn={fn!r}")
        self.fn, self.num_params = fn, int(num_params)
        self.support, self.binarize = (float(support[0]), float(support[1])), bool(binarize)

    def distribution(self, params, event_ndims=None):
        dist = self.fn(params)
        expected = _event_ndims(params, event_ndims)
        if not isinstance(dist, tfd.Distribution) or len(dist.event_shape) != expected:
            raise ValueError(
                f"Argument `likelihood` must return a tfd.Distribution whose event is one "
                f"example ({expected} event axes for decoder outputs of shape "
                f"{tuple(params.shape)}). Received: {dist!r}"
            )
        return dist

    def saving_problem(self):
        return unregistered_function(self.fn)

    def get_config(self):
        return {**super().get_config(), "fn": keras.saving.serialize_keras_object(self.fn),
                "num_params": self.num_params, "support": list(self.support),
                "binarize": self.binarize}


_BY_NAME = {
    "bernoulli": Bernoulli,
    "continuous_bernoulli": ContinuousBernoulli,
    "gaussian": Gaussian,
    "gaussian_global": lambda: Gaussian(scale="global"),
    "gaussian_fixed": lambda: Gaussian(scale=0.1),
    "discretized_logistic": DiscretizedLogistic,
    "logistic_mixture": DiscretizedLogisticMixture,
}


def get_likelihood(identifier) -> Likelihood:
    """Returns a `Likelihood` from a name, a serialized config, an instance or a function.

    Args:
        identifier: a name among `available_likelihoods()` (`"gaussian"`: per-pixel scales
            from the decoder; `"gaussian_global"`: one learned scale; `"gaussian_fixed"`:
            scale 0.1), a dict from `keras.saving.serialize_keras_object`, a `Likelihood`, or
            a callable from decoder outputs to a `tfd.Distribution` (see `CallableLikelihood`).
    """
    return resolve(identifier, "likelihood", _BY_NAME, Likelihood, "keras_vae.Likelihood",
                   wrap_callable=CallableLikelihood)


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
            f"{likelihood.kind} likelihood (scale images to [0, 1] first). Received: values "
            f"in [{x.min():g}, {x.max():g}]"
        )
    likelihood.check_data(x, arg_name)


def support_violation(likelihood: Likelihood, x) -> tf.Tensor:
    """A scalar bool tensor: True where `x` holds NaN, inf or values outside the support."""
    finite = tf.reduce_all(tf.math.is_finite(x))
    low, high = likelihood.support
    inside = tf.reduce_all((x >= low) & (x <= high)) if math.isfinite(low) else True
    return tf.logical_not(tf.logical_and(finite, inside))
