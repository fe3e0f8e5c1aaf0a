"""The amortization gap (Cremer, Li and Duvenaud 2018).

#### Mathematical details

The encoder gives q(z|x) for every x at once; the best member of the posterior's family for
one x, q*(z|x), is found by maximizing that x's ELBO over the encoder's outputs for x directly
(mu and log sigma^2 for the diagonal Gaussian; every head, the flow's context included, for the
others; a flow's own weights stay shared). The amortization gap is
ELBO(q*) - ELBO(q) >= 0, averaged over images: how much the encoder loses by amortizing.
Here q* starts from the encoder's output and takes `steps` steps of Keras' Adam on a
`num_samples`-sample reparameterized ELBO; both ELBOs are then estimated on the same
`eval_samples` noise. Memory is bounded whatever the image size: a refinement step decodes
at most `GRADIENT_VALUES` data values (fewer images per batch for larger images), and the
final estimates are drawn in chunks of samples as the importance-sampled estimate draws
them (`keras_vae.evaluation.likelihood.samples_per_step`).

References:
    Cremer, C., Li, X. and Duvenaud, D. Inference Suboptimality in Variational Autoencoders.
    ICML 2018.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_vae.arguments import check_int
from keras_vae.evaluation.likelihood import VALUES_PER_STEP, samples_per_step

# Data values decoded in one refinement step, whose gradient keeps the decoder's activations.
GRADIENT_VALUES = 2 ** 20

def _elbo(model, x, raw_outputs, num_samples, seed):
    """Per-image ELBO estimate at the encoder outputs `raw_outputs`, the mean of
    `num_samples` log weights drawn with the stateless `seed` (2 ints)."""
    log_w, _ = model.log_importance_weights(x, num_samples, seed=seed,
                                            params=model.posterior_params(raw_outputs))
    return tf.reduce_mean(log_w, axis=0)


def _chunked_elbo(model, x, raw_outputs, num_samples, seed, values_per_step):
    """`_elbo` with `num_samples` drawn in chunks of at most `values_per_step` decoded
    values, chunk c with the seed (seed[0], seed[1] * 100_003 + c)."""
    chunk = samples_per_step(int(x.shape[0]), x.shape[1:], values_per_step, most=num_samples)
    total = 0.0
    for index, first in enumerate(range(0, num_samples, chunk)):
        size = min(chunk, num_samples - first)
        chunk_seed = tf.stack([seed[0], seed[1] * 100_003 + index])
        total += _elbo(model, x, raw_outputs, size, chunk_seed).numpy().astype(np.float64) * size
    return total / num_samples


def _refinement_step(model, x, params, learning_rate, num_samples, batch_seed):
    """A compiled step of Keras' Adam on the variables `params` (the encoder heads of the
    images `x`), maximizing their `num_samples`-sample ELBO drawn with seed (batch_seed, step)."""
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(params)

    @tf.function(autograph=False)  # plain ops, no Python control flow on tensors: quicker to trace
    def step(index):
        with tf.GradientTape() as tape:
            values = [p.value for p in params]
            loss = -tf.reduce_sum(_elbo(model, x, values, num_samples,
                                        tf.stack([batch_seed, index])))
        optimizer.apply(tape.gradient(loss, values), params)

    return step


def amortization_gap(model, images, steps=300, learning_rate=1e-2, num_samples=10,
                     eval_samples=500, batch_size=None, seed=0, verbose=0,
                     gradient_values=GRADIENT_VALUES, values_per_step=VALUES_PER_STEP):
    """Refines q(z|x) per image and returns the ELBOs before and after, and their gap.

    Args:
        model: a `keras_vae.VAE`.
        images: float array `(n, *data_shape)`.
        steps: int. Adam steps per batch of images. Defaults to 300.
        learning_rate: float. Adam step size on (mu, log sigma^2). Defaults to 1e-2.
        num_samples: int. Samples of the ELBO's gradient estimate. Defaults to 10.
        eval_samples: int. Samples of the final ELBO estimates. Defaults to 500.
        batch_size: int or None. Images refined together. Defaults to as many as keep a
            step within `gradient_values` decoded values, at most 100.
        seed: int. Defaults to 0.
        verbose: int. 1 shows a progress bar over the images. Defaults to 0.
        gradient_values: int. Decoded data values per refinement step (memory).
        values_per_step: int. Decoded data values per step of the final estimates.

    Returns:
        dict: `elbo_encoder`, `elbo_refined`, `amortization_gap` (means over images, nats) and
        `per_image_gap` (array).
    """
    images = np.asarray(images, np.float32)
    values = math.prod(images.shape[1:]) * check_int("num_samples", num_samples, 1)
    if batch_size is None:
        batch_size = int(max(1, min(100, check_int("gradient_values", gradient_values, 1)
                                    // values)))
    check_int("batch_size", batch_size, 1)
    progress = keras.utils.Progbar(len(images), unit_name="image") if verbose else None
    before, after = [], []
    for index, first in enumerate(range(0, len(images), batch_size)):
        x = tf.constant(images[first:first + batch_size])
        batch_seed = seed * 1_000_003 + index
        start = [tf.cast(o, tf.float32) for o in model.encoder_outputs(x)]
        params = [keras.Variable(p, trainable=True, name=f"head_{i}")
                  for i, p in enumerate(start)]
        adam_step = _refinement_step(model, x, params, learning_rate, num_samples, batch_seed)
        for step in range(1, steps + 1):
            adam_step(tf.constant(step))
        eval_seed = tf.constant([batch_seed, -1])
        before.append(_chunked_elbo(model, x, start, eval_samples, eval_seed, values_per_step))
        after.append(_chunked_elbo(model, x, [tf.convert_to_tensor(p) for p in params],
                                   eval_samples, eval_seed, values_per_step))
        if progress is not None:
            progress.add(len(before[-1]))
    before = np.concatenate(before).astype(np.float64)
    after = np.concatenate(after).astype(np.float64)
    return {
        "elbo_encoder": float(before.mean()),
        "elbo_refined": float(after.mean()),
        "amortization_gap": float((after - before).mean()),
        "per_image_gap": after - before,
    }
