"""The terms of the evidence lower bound, as plain functions.

Every function returns one value per example (nats), summed over data or latent
dimensions; averaging over the batch is left to the caller.
"""

import tensorflow as tf
from keras import ops


def kl_standard_normal(z_mean, z_log_var):
    """KL(q || p) for q = N(mu, diag sigma^2) and the prior p = N(0, I), per example.

    KL = -1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)
    (Kingma & Welling 2014, Appendix B). The sum runs over the last axis: a mean would shrink
    the KL by the latent size and silently change the objective.

    Args:
        z_mean: tensor `(..., latent_dim)`, mu.
        z_log_var: tensor `(..., latent_dim)`, log sigma^2.

    Returns:
        Tensor `(...)` of KL divergences in nats.
    """
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def negative_log_likelihood(likelihood, params, x) -> tf.Tensor:
    """-log p(x|z) per example, summed over each example's data dimensions.

    Args:
        likelihood: a `keras_vae.Likelihood`, turning decoder outputs into p(x|z).
        params: tensor `(batch, *data_shape[:-1], channels * num_params)`, decoder outputs.
        x: tensor `(batch, *data_shape)`, the data.

    Returns:
        Tensor `(batch,)` in nats.
    """
    return -likelihood.log_prob(params, x)


def bounded_log_variance(raw, limit: float = 30.0):
    """Maps an unconstrained encoder output smoothly into (-limit, limit).

    log sigma^2 = limit * tanh(raw / limit). Near zero this is the identity (|error| below
    0.05 for |raw| < 5 with the default limit); far from it, sigma^2 stays within
    [exp(-30), exp(30)], so that exp(log sigma^2) in the KL and in sampling can never
    overflow float32 however extreme the encoder's output is.
    """
    return limit * ops.tanh(raw / limit)
