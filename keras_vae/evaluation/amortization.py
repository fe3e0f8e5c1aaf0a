"""The amortization gap (Cremer, Li and Duvenaud 2018).

#### Mathematical details

The encoder gives q(z|x) for every x at once; the best Gaussian for one x, q*(z|x), is found
by maximizing that x's ELBO over (mu, log sigma^2) directly. The amortization gap is
ELBO(q*) - ELBO(q) >= 0, averaged over images: how much the encoder loses by amortizing.
Here q* starts from the encoder's output and takes `steps` Adam steps on a `num_samples`-sample
reparameterized ELBO; both ELBOs are then estimated on the same `eval_samples` noise.

References:
    Cremer, C., Li, X. and Duvenaud, D. Inference Suboptimality in Variational Autoencoders.
    ICML 2018.
"""

import numpy as np
import tensorflow as tf

from keras_vae.evaluation.likelihood import log_weights
from keras_vae.objectives import bounded_log_variance


def _elbo(model, x, z_mean, z_log_var, eps):
    """Per-image ELBO estimate with noise eps `(samples, batch, latent_dim)`."""
    return tf.reduce_mean(log_weights(model, x, z_mean, z_log_var, eps), axis=0)


def amortization_gap(model, images, steps=300, learning_rate=1e-2, num_samples=10,
                     eval_samples=500, batch_size=100, seed=0):
    """Refines q(z|x) per image and returns the ELBOs before and after, and their gap.

    Args:
        model: a `keras_vae.VAE`.
        images: float array `(n, *data_shape)`.
        steps: int. Adam steps per batch of images. Defaults to 300.
        learning_rate: float. Adam step size on (mu, log sigma^2). Defaults to 1e-2.
        num_samples: int. Samples of the ELBO's gradient estimate. Defaults to 10.
        eval_samples: int. Samples of the final ELBO estimates. Defaults to 500.
        batch_size: int. Images refined together. Defaults to 100.
        seed: int. Defaults to 0.

    Returns:
        dict: `elbo_encoder`, `elbo_refined`, `amortization_gap` (means over images, nats) and
        `per_image_gap` (array).
    """
    images = np.asarray(images, np.float32)

    @tf.function(reduce_retracing=True)
    def refine(x, batch_seed):
        z_mean, raw_log_var = model.encoder(x, training=False)
        start = (tf.cast(z_mean, tf.float32), tf.cast(bounded_log_variance(raw_log_var),
                                                      tf.float32))
        shape = (tf.shape(x)[0], model.latent_dim)
        eval_eps = tf.random.stateless_normal((eval_samples, *shape), seed=[batch_seed, -1])

        def adam_step(step, params, m, v):
            eps = tf.random.stateless_normal((num_samples, *shape),
                                             seed=tf.stack([batch_seed, step]))
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = -tf.reduce_sum(_elbo(model, x, params[0], params[1], eps))
            grads = tape.gradient(loss, params)
            t = tf.cast(step, tf.float32)
            m = tuple(0.9 * mi + 0.1 * g for mi, g in zip(m, grads))
            v = tuple(0.999 * vi + 0.001 * tf.square(g) for vi, g in zip(v, grads))
            params = tuple(
                p - learning_rate * (mi / (1 - 0.9**t)) / (tf.sqrt(vi / (1 - 0.999**t)) + 1e-8)
                for p, mi, vi in zip(params, m, v)
            )
            return step + 1, params, m, v

        zeros = tuple(tf.zeros_like(p) for p in start)
        _, refined, _, _ = tf.while_loop(
            lambda step, *_: step <= steps, adam_step, (tf.constant(1), start, zeros, zeros))
        return _elbo(model, x, *start, eval_eps), _elbo(model, x, *refined, eval_eps)

    before, after = [], []
    for index, start in enumerate(range(0, len(images), batch_size)):
        b, a = refine(tf.constant(images[start:start + batch_size]),
                      tf.constant(seed * 1_000_003 + index))
        before.append(b.numpy())
        after.append(a.numpy())
    before = np.concatenate(before).astype(np.float64)
    after = np.concatenate(after).astype(np.float64)
    return {
        "elbo_encoder": float(before.mean()),
        "elbo_refined": float(after.mean()),
        "amortization_gap": float((after - before).mean()),
        "per_image_gap": after - before,
    }
