"""The ELBO and its two terms over a set of images."""

import numpy as np
import tensorflow as tf


def elbo_terms(model, images, batch_size=500, seed=0):
    """Mean `elbo`, `reconstruction_loss`, `kl_loss` (nats per image; those the model reports:
    an autoencoder has the reconstruction only) over `images`, one z per image drawn with
    `seed`, as the model's `test_step` reports them."""
    totals, n = {}, 0
    for index, start in enumerate(range(0, len(images), batch_size)):
        x = tf.constant(np.asarray(images[start:start + batch_size], np.float32))
        terms = model.loss_terms(x, seed=tf.constant(seed * 1_000_003 + index))
        for key in ("elbo", "reconstruction_loss", "kl_loss"):
            if key not in terms:
                continue
            totals[key] = totals.get(key, 0.0) + float(tf.reduce_sum(terms[key]))
        n += len(x)
    return {key: value / n for key, value in totals.items()}
