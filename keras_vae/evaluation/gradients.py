"""The variance of the ELBO's gradient under the reparameterization and score-function
estimators, on one model and one batch.

#### Mathematical details

Both estimate grad_phi E_q(z|x)[f(z)] without bias: pathwise, E[grad_phi f(g_phi(eps))] with
z = g_phi(eps) (Kingma & Welling 2014); score function, E[f(z) grad_phi log q_phi(z|x)]
(Williams 1992). Their variances differ by orders of magnitude, which is why VAEs train with
the first. Each draw here is one single-sample estimate of the gradient of the batch-mean
loss with respect to the encoder's weights.
"""

import numpy as np
import tensorflow as tf

from keras_vae.losses import ELBO, GRADIENT_ESTIMATORS


def gradient_draws(model, x, gradient, num_draws, seed=0):
    """`(num_draws, num_encoder_weights)` independent estimates of the encoder's gradient."""
    objective = ELBO(gradient=gradient)
    weights = model.encoder.trainable_weights
    x = tf.constant(np.asarray(x, np.float32))

    @tf.function(autograph=False)  # plain ops, no Python control flow on tensors: quicker to trace
    def draw(pair):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(objective(model, x, seed=pair)["loss"])
        return tf.concat([tf.reshape(g, [-1]) for g in tape.gradient(loss, weights)], 0)

    return np.stack([draw(tf.constant([seed, i])).numpy() for i in range(num_draws)])


def gradient_statistics(model, x, num_draws=200, seed=0):
    """Mean and variance of both estimators' draws, and how well their means agree.

    Returns:
        dict: per estimator `total_variance` (sum over weights of the per-weight variance),
        `mean_norm` (norm of the mean gradient) and `draws`; `variance_ratio` (score function
        over reparameterization) and `agreement` (fraction of weights whose two means differ
        by less than 3 standard errors; about 0.997 for unbiased estimators).
    """
    stats = {}
    for gradient in GRADIENT_ESTIMATORS:
        draws = gradient_draws(model, x, gradient, num_draws, seed)
        stats[gradient] = {"total_variance": float(draws.var(0).sum()),
                           "mean_norm": float(np.linalg.norm(draws.mean(0))),
                           "draws": draws}
    a, b = (stats[g]["draws"] for g in GRADIENT_ESTIMATORS)
    stderr = np.sqrt(a.var(0) / len(a) + b.var(0) / len(b))
    informative = stderr > 0
    z = np.abs(a.mean(0) - b.mean(0))[informative] / stderr[informative]
    stats["variance_ratio"] = (stats["score_function"]["total_variance"]
                               / stats["reparameterization"]["total_variance"])
    stats["agreement"] = float(np.mean(z < 3))
    return stats
