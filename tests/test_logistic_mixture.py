"""The discretized mixture of logistics (PixelCNN++) against an independent float64 numpy
computation, as a probability over the 256^3 colours of a pixel, and its samples."""

import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae.distributions import DiscretizedLogisticMixture, QuantizedLogisticMixture
from tests.helpers import small_vae

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def fresh_rng():
    """Each test draws the same numbers whatever ran before it (CI orders tests by time)."""
    global RNG
    RNG = np.random.default_rng(0)


def numpy_log_prob(levels, logits, locs, scales, coeffs):
    """log P(k) for one pixel's levels `k` (n, C) by the PixelCNN++ formula, float64; the
    parameters of one pixel: logits (K,), locs, scales (C, K), coeffs (C(C-1)/2, K)."""
    x = levels / 255.0
    h = 0.5 / 255.0
    channels = locs.shape[0]

    def cdf(t):
        return 1.0 / (1.0 + np.exp(-t))

    def between(lo, hi):  # cdf(hi) - cdf(lo), without cancellation in the upper tail
        return np.where(lo > 0, cdf(-lo) - cdf(-hi), cdf(hi) - cdf(lo))

    log_components = np.log(np.exp(logits) / np.exp(logits).sum())[None, :].repeat(len(x), 0)
    pair = 0
    for c in range(channels):
        mean = locs[c][None, :].repeat(len(x), 0)
        for j in range(c):
            mean = mean + coeffs[pair][None, :] * x[:, j:j + 1]
            pair += 1
        hi, lo = ((x[:, c:c + 1] + h - mean) / scales[c], (x[:, c:c + 1] - h - mean) / scales[c])
        bin_mass = np.where(levels[:, c:c + 1] == 0, cdf(hi),
                            np.where(levels[:, c:c + 1] == 255, cdf(-lo), between(lo, hi)))
        log_components = log_components + np.log(bin_mass)
    top = log_components.max(1, keepdims=True)
    return (top + np.log(np.exp(log_components - top).sum(1, keepdims=True)))[:, 0]


def random_pixel(channels=3, components=4):
    return (RNG.normal(size=components), RNG.uniform(0.1, 0.9, (channels, components)),
            RNG.uniform(0.01, 0.2, (channels, components)),
            RNG.uniform(-0.9, 0.9, (channels * (channels - 1) // 2, components)))


def test_log_prob_matches_numpy_including_the_edge_levels():
    params = random_pixel()
    levels = np.concatenate([RNG.integers(0, 256, (200, 3)), [[0, 0, 0], [255, 255, 255],
                                                              [0, 255, 128]]]).astype(float)
    dist = QuantizedLogisticMixture(*[tf.constant(p, tf.float64) for p in params])
    np.testing.assert_allclose(dist.log_prob(levels), numpy_log_prob(levels, *params),
                               rtol=1e-9, atol=1e-9)


def test_probabilities_of_all_colours_of_a_pixel_sum_to_one():
    params = random_pixel(components=3)
    dist = QuantizedLogisticMixture(*[tf.constant(p, tf.float32) for p in params])
    red = np.arange(256, dtype=np.float32)
    grid = np.stack(np.meshgrid(red, red, indexing="ij"), -1).reshape(-1, 2)
    total = 0.0
    mass = tf.function(lambda colours: tf.reduce_sum(tf.exp(tf.cast(dist.log_prob(colours),
                                                                    tf.float64))))
    for reds in np.split(red, 16):  # 16 slabs of 16 x 65,536 colours
        colours = np.concatenate([np.repeat(reds, len(grid))[:, None],
                                  np.tile(grid, (len(reds), 1))], 1)
        total += float(mass(colours))
    assert total == pytest.approx(1.0, abs=1e-4)


def test_log_prob_is_finite_for_sharp_and_far_components():
    logits, locs, scales, coeffs = random_pixel()
    scales[:] = 1e-3
    locs[0] = 5.0  # far outside [0, 1]
    dist = QuantizedLogisticMixture(*[tf.constant(p, tf.float32) for p in
                                      (logits, locs, scales, coeffs)])
    levels = RNG.integers(0, 256, (100, 3)).astype(np.float32)
    assert np.all(np.isfinite(dist.log_prob(levels)))


def test_samples_follow_the_probabilities_channel_by_channel():
    params = random_pixel(components=2)
    dist = QuantizedLogisticMixture(*[tf.constant(p, tf.float64) for p in params])
    samples = np.asarray(dist.sample(40_000, seed=(1, 2)))
    assert samples.min() >= 0 and samples.max() <= 255
    assert np.all(samples == np.round(samples))
    # The red marginal from the numpy formula (the green and blue bins sum to one): a
    # mixture of discretized logistics.
    logits, locs, scales, _ = params
    weights = np.exp(logits) / np.exp(logits).sum()
    edges = np.concatenate([[-np.inf], (np.arange(255) + 0.5) / 255, [np.inf]])
    cdf = 1 / (1 + np.exp(-(edges[:, None] - locs[0]) / scales[0]))
    red = (np.diff(cdf, axis=0) * weights).sum(1)
    expected_mean = (np.arange(256) * red).sum()
    assert samples[:, 0].mean() == pytest.approx(expected_mean, abs=4 * np.sqrt(
        (np.arange(256) ** 2 * red).sum() - expected_mean ** 2) / np.sqrt(len(samples)))
    # Red and green jointly: the numpy formula with the first two channels is their exact
    # marginal (blue's bins sum to one within each component); the samples' mean of g and of
    # r * g (which carries the dependence of green on red) must match it.
    levels = np.arange(256.0)
    grid = np.stack(np.meshgrid(levels, levels, indexing="ij"), -1).reshape(-1, 2)
    logits, locs, scales, coeffs = params
    joint = np.exp(numpy_log_prob(grid, logits, locs[:2], scales[:2], coeffs[:1]))
    assert joint.sum() == pytest.approx(1.0, abs=1e-6)
    for value, sample in ((grid[:, 1], samples[:, 1]), (grid[:, 0] * grid[:, 1],
                                                         samples[:, 0] * samples[:, 1])):
        mean = (value * joint).sum()
        sd = np.sqrt((value ** 2 * joint).sum() - mean ** 2)
        assert sample.mean() == pytest.approx(mean, abs=4 * sd / np.sqrt(len(sample)))


def test_likelihood_layer_splits_decoder_outputs_and_round_trips():
    likelihood = DiscretizedLogisticMixture(num_components=3)
    assert likelihood.output_channels(3) == 30 and likelihood.output_channels(1) == 9
    params = tf.constant(RNG.normal(size=(2, 4, 5, 30)), tf.float32)
    x = np.round(RNG.random((2, 4, 5, 3)) * 255) / 255
    logits, locs, raw_scales, raw_coeffs = (params[..., :3], params[..., 3:12],
                                            params[..., 12:21], params[..., 21:])
    as64 = lambda t: np.asarray(t, np.float64)  # noqa: E731

    def pixel(i, a, b):  # decoder outputs -> mixture parameters, as the docstring says
        return numpy_log_prob(
            np.round(x[i, a, b] * 255)[None], as64(logits[i, a, b]),
            as64(locs[i, a, b]).reshape(3, 3),
            np.log1p(np.exp(as64(raw_scales[i, a, b]))).reshape(3, 3) + 1e-3,
            np.tanh(as64(raw_coeffs[i, a, b])).reshape(3, 3))[0]

    expected = [sum(pixel(i, a, b) for a in range(4) for b in range(5)) for i in range(2)]
    np.testing.assert_allclose(likelihood.log_prob(params, tf.constant(x, tf.float32)),
                               expected, rtol=1e-4)
    restored = keras_vae.distributions.get_likelihood(
        {"class_name": "DiscretizedLogisticMixture", "config": likelihood.get_config(),
         "module": "keras_vae.distributions.likelihoods", "registered_name":
         "keras_vae>DiscretizedLogisticMixture"})
    assert restored.num_components == 3
    mean = np.asarray(likelihood.mean(params))
    assert mean.shape == (2, 4, 5, 3) and mean.min() >= 0 and mean.max() <= 1


def test_a_vae_with_the_mixture_reports_bits_per_dim_of_its_nats():
    model = small_vae(likelihood=DiscretizedLogisticMixture(2))
    x = np.round(RNG.random((16, 8, 8, 1)) * 200 + 20) / 255
    logs = model.fit(x, epochs=1, batch_size=8, verbose=0).history
    # bits/dim = -ELBO / (D ln 2), D = 64 pixel values.
    np.testing.assert_allclose(logs["bits_per_dim"][-1], -logs["elbo"][-1] / (64 * np.log(2)),
                               rtol=1e-5)
