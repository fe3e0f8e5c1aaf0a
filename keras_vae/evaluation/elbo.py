"""The ELBO and its two terms over a set of images."""

import tensorflow as tf

from keras_vae.data.conditions import batches


def elbo_terms(model, images, batch_size=500, seed=0):
    """Mean `elbo`, `reconstruction_loss`, `kl_loss` (nats per image; those the model reports:
    an autoencoder has the reconstruction only) over `images`, one z per image drawn with
    `seed`, as the model's `test_step` reports them."""
    totals, n = {}, 0
    for index, x in enumerate(batches(images, batch_size)):
        terms = model.loss_terms(x, seed=tf.constant(seed * 1_000_003 + index))
        for key in ("elbo", "reconstruction_loss", "kl_loss"):
            if key not in terms:
                continue
            totals[key] = totals.get(key, 0.0) + float(tf.reduce_sum(terms[key]))
        n += int(terms["loss"].shape[0])
    return {key: value / n for key, value in totals.items()}
