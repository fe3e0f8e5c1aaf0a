"""The discretized mixture of logistics of PixelCNN++ (Salimans et al. 2017) as a TFP
distribution over the 8-bit levels of a pixel's channels."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def log_sigmoid(x):
    return -tf.math.softplus(-x)


def log_sigmoid_difference(a, b):
    """log(sigmoid(a) - sigmoid(b)) for a > b, without cancellation: computed in the left
    tail, where log sigmoid is exact (sigmoid(a) - sigmoid(b) = sigmoid(-b) - sigmoid(-a))."""
    flip = (a + b) > 0
    high = tf.where(flip, -b, a)
    low = tf.where(flip, -a, b)
    log_high = log_sigmoid(high)
    return log_high + tf.math.log(-tf.math.expm1(log_sigmoid(low) - log_high))


def _linear_chain(locs, coeffs, channels, value_of):
    """Walks a pixel's channels in order: channel c's mean is loc_c + sum_{j<c} a_{cj} v_j,
    where v_j = value_of(j, mean_j) is the value taken for the earlier channel j (a given
    value, a draw, or the mean itself). Returns the lists of the means and of the values.

    Args:
        locs: callable c -> channel c's own mean.
        coeffs: callable i -> the coefficient a_{cj}, i counting (1,0), (2,0), (2,1), ...
        channels: int. C.
        value_of: callable (c, mean_c) -> v_c.
    """
    means, values, index = [], [], 0
    for c in range(channels):
        mean = locs(c)
        for j in range(c):
            mean = mean + coeffs(index) * values[j]
            index += 1
        means.append(mean)
        values.append(value_of(c, mean))
    return means, values


def channel_means(locs, coeffs, x):
    """The means of a pixel's channels given its values: mu_c + sum_{j<c} a_{cj} x_j.

    Args:
        locs: `(..., C, K)`. Each component's own mean of each channel.
        coeffs: `(..., C(C-1)/2, K)`. The coefficients a_{cj}, j < c, in the order (1,0),
            (2,0), (2,1), ... (PixelCNN++'s alpha, beta, gamma for RGB).
        x: `(..., C)`. The pixel's values, scaled as `locs`.
    """
    locs = locs + tf.zeros_like(x)[..., None]  # broadcast the parameters against the values
    means, _ = _linear_chain(lambda c: locs[..., c, :], lambda i: coeffs[..., i, :],
                             locs.shape[-2], lambda c, mean: x[..., c, None])
    return tf.stack(means, axis=-2)


class QuantizedLogisticMixture(tfd.Distribution):
    """A mixture of K logistics per pixel, quantized to L levels, with the channels of a
    pixel dependent as in PixelCNN++: the red mean is the component's own, the green mean
    moves linearly with the red value, the blue mean with the red and green ones.

    #### Mathematical details

    With values on the levels 0 ... L-1 scaled to x = k / (L - 1) and bin half-width
    h = 1 / (2 (L - 1)),

        P(x) = sum_k pi_k prod_c [F((x_c + h - m_kc) / s_kc) - F((x_c - h - m_kc) / s_kc)]

    where F is the logistic CDF (the sigmoid), m_kc = mu_kc + sum_{j<c} a_kcj x_j, and the
    lowest and highest levels take the whole tails (F(.) - 0 and 1 - F(.)). The event is one
    pixel's C channel values, in levels; `sample` draws the channels in order, each given the
    levels drawn before it, so its draws follow `prob` exactly. `mean` is the mean of the
    underlying continuous mixture (no quantization, no tails), clipped to the levels' range.

    Args:
        logits: `(..., K)`. Mixture weights (log pi up to a constant).
        locs: `(..., C, K)`. mu_kc, in the units of x (0 to 1).
        scales: `(..., C, K)`. s_kc > 0, in the units of x.
        coeffs: `(..., C(C-1)/2, K)`. a_kcj, j < c (none for one channel).
        levels: int. L, the number of levels (256 for 8-bit images).

    References:
        Salimans, T., Karpathy, A., Chen, X. and Kingma, D. P. PixelCNN++: improving the
        PixelCNN with discretized logistic mixture likelihood and other modifications.
        ICLR 2017.
    """

    def __init__(self, logits, locs, scales, coeffs, levels=256, validate_args=False,
                 allow_nan_stats=True, name="QuantizedLogisticMixture"):
        parameters = dict(locals())
        with tf.name_scope(name):
            self._logits = tf.convert_to_tensor(logits)
            dtype = self._logits.dtype
            self._locs = tf.convert_to_tensor(locs, dtype)
            self._scales = tf.convert_to_tensor(scales, dtype)
            self._coeffs = tf.convert_to_tensor(coeffs, dtype)
            self._levels = int(levels)
            super().__init__(dtype=dtype, reparameterization_type=tfd.NOT_REPARAMETERIZED,
                             validate_args=validate_args, allow_nan_stats=allow_nan_stats,
                             parameters=parameters, name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(
            logits=tfp.util.ParameterProperties(event_ndims=1),
            locs=tfp.util.ParameterProperties(event_ndims=2),
            scales=tfp.util.ParameterProperties(event_ndims=2),
            coeffs=tfp.util.ParameterProperties(event_ndims=2),
            levels=tfp.util.ParameterProperties(event_ndims=None, is_tensor=False),
        )

    @property
    def channels(self):
        return self._locs.shape[-2]

    def _event_shape(self):
        return tf.TensorShape([self.channels])

    def _event_shape_tensor(self):
        return tf.constant([self.channels], tf.int32)

    def _batch_shape(self):
        return self._logits.shape[:-1]

    def _batch_shape_tensor(self):
        return tf.shape(self._logits)[:-1]

    def _log_prob(self, k):
        """k: `(..., C)` levels."""
        top = float(self._levels - 1)
        x = tf.cast(k, self.dtype) / top
        half = 0.5 / top
        centred = x[..., None] - channel_means(self._locs, self._coeffs, x)  # (..., C, K)
        upper = (centred + half) / self._scales
        lower = (centred - half) / self._scales
        middle = log_sigmoid_difference(upper, lower)
        level = tf.broadcast_to(k[..., None], tf.shape(centred))
        log_bin = tf.where(level <= 0, log_sigmoid(upper),
                           tf.where(level >= top, log_sigmoid(-lower), middle))
        log_weights = tf.nn.log_softmax(self._logits, axis=-1)
        return tf.reduce_logsumexp(log_weights + tf.reduce_sum(log_bin, axis=-2), axis=-1)

    def _sample_n(self, n, seed=None):
        seeds = tfp.random.split_seed(seed, n=1 + self.channels)
        top = float(self._levels - 1)
        shape = tf.concat([[n], tf.shape(self._logits)[:-1]], 0)
        components = tfd.Categorical(logits=self._logits).sample(n, seed=seeds[0])
        pick = tf.one_hot(components, tf.shape(self._logits)[-1], dtype=self.dtype)

        def chosen(parameter):  # (n, ..., C', K) -> (n, ..., C')
            return tf.reduce_sum(parameter * pick[..., None, :], axis=-1)

        locs, scales, coeffs = chosen(self._locs), chosen(self._scales), chosen(self._coeffs)

        def draw(c, mean):  # a logistic draw around the mean, rounded to a level
            u = tf.random.stateless_uniform(shape, seed=seeds[1 + c], dtype=self.dtype,
                                            minval=np.finfo(np.float32).tiny, maxval=1.0)
            continuous = mean + scales[..., c] * (tf.math.log(u) - tf.math.log1p(-u))
            return tf.clip_by_value(tf.round(continuous * top), 0.0, top) / top

        _, values = _linear_chain(lambda c: locs[..., c], lambda i: coeffs[..., i],
                                  self.channels, draw)
        return tf.stack(values, axis=-1) * top

    def _mean(self):
        top = float(self._levels - 1)
        weights = tf.nn.softmax(self._logits, axis=-1)[..., None, :]
        # E[x_c] under component k: the expectation of a linear function of the earlier means.
        expected = _component_means(self._locs, self._coeffs)
        means = tf.reduce_sum(weights * expected, axis=-1)
        return tf.clip_by_value(means, 0.0, 1.0) * top


def _component_means(locs, coeffs):
    """`(..., C, K)` per-component channel means, each given the earlier channels' means."""
    means, _ = _linear_chain(lambda c: locs[..., c, :], lambda i: coeffs[..., i, :],
                             locs.shape[-2], lambda c, mean: mean)
    return tf.stack(means, axis=-2)


def mixture_param_count(channels: int, components: int) -> int:
    """Decoder outputs per pixel: K logits, C K means, C K scales, C(C-1)/2 K coefficients."""
    return components * (1 + 2 * channels + channels * (channels - 1) // 2)
