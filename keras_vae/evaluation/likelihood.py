"""The importance-sampled estimate of log p(x) (Burda et al. 2015).

#### Mathematical details

With z_1..z_K ~ q(z|x) and log weights log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x)
(`keras_vae.objectives.log_weights`, for any prior and posterior of the model),

    log p(x) ~ logsumexp_k(log w_k) - log K,

a lower bound on log p(x) in expectation that tightens as K grows and equals the ELBO at
K = 1; the mean of the log weights is itself an ELBO estimate (Burda et al. 2015, Sec. 3 and
Appendix). The K samples are drawn in chunks inside a compiled TensorFlow function and
combined by a running logsumexp, so memory is bounded by `chunk_size * batch_size` decoder
outputs whatever K is; by default the chunk is sized so that one step decodes at most
`VALUES_PER_STEP` data values, whatever the image size.

References:
    Burda, Y., Grosse, R. and Salakhutdinov, R. Importance Weighted Autoencoders. ICLR 2016
    (arXiv:1509.00519, 2015).
"""

import math
import time
import weakref

import keras
import numpy as np
import tensorflow as tf

from keras_vae.arguments import check_int
from keras_vae.data.conditions import as_tensors, images_of, take
from keras_vae.distributions.likelihoods import check_support_numpy


# Data values (samples x images x values per image) decoded in one compiled step of an
# estimate: about 1 GB of float32 decoder outputs for PixelCNN++'s mixture of logistics on
# CIFAR-10 (136 samples of 20 images); on MNIST it leaves the 500-sample chunk as it was.
VALUES_PER_STEP = 2 ** 23


def samples_per_step(images_per_step, data_shape, values_per_step=VALUES_PER_STEP,
                     most=500) -> int:
    """Samples of z per image in one step, so that `images_per_step` images decode at most
    `values_per_step` values (at least 1, at most `most`)."""
    size = math.prod(data_shape) * images_per_step
    return int(max(1, min(most, values_per_step // size)))


def log_importance_weights(model, x, num_samples, seed, log_prob=None):
    """log w = log p(x|z) + log p(z) - log q(z|x) `(num_samples, batch)` for images `x`, with
    z ~ q(z|x) drawn from `seed` (2 ints); `log_prob` may replace `likelihood.log_prob` (for
    example by an XLA-compiled version of it)."""
    return model.log_importance_weights(x, num_samples, seed=seed, log_prob=log_prob)[0]


def xla_log_prob(likelihood):
    """`likelihood.fused_log_prob` compiled with XLA, for `(samples, batch, ...)` decoder
    outputs and `(batch, ...)` images: XLA fuses its elementwise work and its sum into one
    pass, which is cheaper than TensorFlow's separate kernels."""
    return tf.function(likelihood.fused_log_prob, jit_compile=True, autograph=False)


class _Estimator:
    """Compiled chunks of the estimate for one model (one trace per chunk size).

    Without `jit_compile`, the networks run on TensorFlow's kernels and only log p(x|z) is
    compiled with XLA (`xla_log_prob`); docs/results/benchmarks.md compares the two on CPU.
    """

    def __init__(self, model, jit_compile):
        self.model = model
        self.log_prob = None if jit_compile else xla_log_prob(model.likelihood)
        # Plain ops, no Python control flow on tensors: traced without AutoGraph, quicker.
        self.chunk = tf.function(self._chunk, jit_compile=jit_compile, reduce_retracing=True,
                                 autograph=False)

    def _chunk(self, x, num_samples, seed):
        log_w = log_importance_weights(self.model, x, num_samples, seed, self.log_prob)
        return tf.reduce_logsumexp(log_w, axis=0), tf.reduce_sum(log_w, axis=0)


# Each model's compiled estimators, by `jit_compile`: a second call neither retraces nor
# recompiles, and an entry goes with its model.
_ESTIMATORS = weakref.WeakKeyDictionary()


def _estimator(model, jit_compile):
    """The model's estimator for this setting (traced once per model and chunk size)."""
    cache = _ESTIMATORS.setdefault(model, {})
    if jit_compile not in cache:
        cache[jit_compile] = _Estimator(model, jit_compile)
    return cache[jit_compile]


def importance_sampled_log_likelihood(
    model,
    images,
    k=5000,
    batch_size=20,
    chunk_size=None,
    seed=0,
    verbose=1,
    jit_compile=False,
):
    """Estimates log p(x) for every image by importance sampling with `k` samples from q(z|x).

    Args:
        model: a `keras_vae.VAE`.
        images: float array `(n, *data_shape)`, preprocessed as for training (for a Bernoulli
            likelihood: binary, or grey levels in [0, 1]); for a conditional model
            `{"images": ..., "labels": ...}` (`keras_vae.data.conditions.conditioned`), and
            the estimate is of log p(x|y).
        k: int. Importance samples per image (Burda et al. report k = 5000). Defaults to 5000.
        batch_size: int. Images per compiled step. Defaults to 20.
        chunk_size: int or None. Samples per image per compiled step; memory grows with
            `batch_size * chunk_size`. Defaults to `samples_per_step`: at most 500, fewer
            where the images are large.
        seed: int. Seed of the samples. Defaults to 0.
        verbose: int. 1 shows a progress bar. Defaults to 1.
        jit_compile: bool. Compile the whole steps with XLA. Defaults to False: the networks
            run on TensorFlow's kernels and only log p(x|z) is compiled with XLA
            (`xla_log_prob`), which docs/results/benchmarks.md measured faster on a CPU.

    Returns:
        dict of float64 arrays `(n,)`: `log_likelihood` (the estimate, nats) and `elbo` (the
        mean of the k log weights: an ELBO estimate on the same samples).
    """
    if chunk_size is None:
        chunk_size = samples_per_step(batch_size, model.data_shape)
    for name, value in (("k", k), ("batch_size", batch_size), ("chunk_size", chunk_size)):
        check_int(name, value, 1)
    examples = images
    images = _checked_images(model, examples)
    estimator = _estimator(model, bool(jit_compile))
    chunks = [chunk_size] * (k // chunk_size) + ([k % chunk_size] if k % chunk_size else [])
    log_likelihood = np.empty(len(images))
    elbo = np.empty(len(images))
    progress = keras.utils.Progbar(len(images), unit_name="image") if verbose else None
    for batch_index, start in enumerate(range(0, len(images), batch_size)):
        x = as_tensors(take(examples, start, start + batch_size))
        lse_parts, total = [], 0.0
        for chunk_index, size in enumerate(chunks):
            seed_pair = tf.constant([seed * 1_000_003 + batch_index, chunk_index], tf.int32)
            lse, log_w_sum = estimator.chunk(x, size, seed_pair)
            lse_parts.append(lse)
            total += log_w_sum
        lse_all = tf.reduce_logsumexp(tf.stack(lse_parts), axis=0).numpy().astype(np.float64)
        stop = start + len(lse_all)
        log_likelihood[start:stop] = lse_all - math.log(k)
        elbo[start:stop] = np.asarray(total, np.float64) / k
        if progress is not None:
            progress.add(len(lse_all))
    return {"log_likelihood": log_likelihood, "elbo": elbo}


def _checked_images(model, examples):
    images = np.asarray(images_of(examples), dtype=np.float32)
    if tuple(images.shape[1:]) != tuple(model.data_shape):
        raise ValueError(
            f"Argument `images` must hold examples of shape {tuple(model.data_shape)}. "
            f"Received: images of shape {images.shape}"
        )
    check_support_numpy(model.likelihood, images, "images")
    return images


def affordable_k(model, images, seconds, most=5000, batch_size=20, seed=0) -> int:
    """The largest K (at most `most`, at least 1) with which
    `importance_sampled_log_likelihood(model, images, k=K)` should take about `seconds`:
    one batch is timed at a small K once its step is compiled, and the cost per image and
    sample extrapolated (a K below the small one is cheaper per sample than this assumes).

    Args:
        model: a `keras_vae.VAE` (or another model with a posterior).
        images: as for `importance_sampled_log_likelihood`.
        seconds: float. The time the estimate may take.
        most: int. The largest K returned. Defaults to 5000.
        batch_size: int. As the estimate will run. Defaults to 20.
        seed: int.
    """
    check_int("most", most, 1)
    check_int("batch_size", batch_size, 1)
    n = len(_checked_images(model, images))
    probe = min(most, samples_per_step(batch_size, model.data_shape), 50)
    estimator = _estimator(model, False)
    x = as_tensors(take(images, 0, batch_size))
    seed_pair = tf.constant([seed, -1], tf.int32)
    estimator.chunk(x, probe, seed_pair)  # traced and compiled: not timed
    start = time.perf_counter()
    lse, _ = estimator.chunk(x, probe, seed_pair)
    lse.numpy()
    per_sample = (time.perf_counter() - start) / (probe * len(lse))
    return int(max(1, min(most, seconds / (per_sample * n))))
