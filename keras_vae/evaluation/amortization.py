"""The amortization gap (Cremer, Li and Duvenaud 2018).

#### Mathematical details

The encoder gives q(z|x) for every x at once; the best member of the posterior's family for
one x, q*(z|x), is found by maximizing that x's ELBO over the encoder's outputs for x directly
(mu and log sigma^2 for the diagonal Gaussian; every head, the flow's context included, for the
others; a flow's own weights stay shared). The amortization gap is
ELBO(q*) - ELBO(q) >= 0, averaged over images: how much the encoder loses by amortizing.
Here q* starts from the encoder's output and takes `steps` Adam steps on a `num_samples`-sample
reparameterized ELBO; both ELBOs are then estimated on the same `eval_samples` noise.

References:
    Cremer, C., Li, X. and Duvenaud, D. Inference Suboptimality in Variational Autoencoders.
    ICML 2018.
"""

import numpy as np
import tensorflow as tf



def _elbo(model, x, raw_outputs, num_samples, seed):
    """Per-image ELBO estimate at the encoder outputs `raw_outputs`, the mean of
    `num_samples` log weights drawn with the stateless `seed` (2 ints)."""
    log_w, _ = model.log_importance_weights(x, num_samples, seed=seed,
                                            params=model.posterior.params(raw_outputs))
    return tf.reduce_mean(log_w, axis=0)


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
        outputs = model.encoder(x, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        start = tuple(tf.cast(o, tf.float32) for o in outputs)
        eval_seed = tf.stack([batch_seed, -1])

        def adam_step(step, params, m, v):
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = -tf.reduce_sum(_elbo(model, x, params, num_samples,
                                            tf.stack([batch_seed, step])))
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
        return (_elbo(model, x, start, eval_samples, eval_seed),
                _elbo(model, x, refined, eval_samples, eval_seed))

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
