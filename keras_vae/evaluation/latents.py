"""Diagnostics of the latent space: active units and the KL per latent dimension."""

import numpy as np
import tensorflow as tf


def posterior_parameters(model, images, batch_size=500):
    """`(z_mean, z_log_var)` of q(z|x) for every image, as float64 arrays `(n, latent_dim)`."""
    means, log_vars = [], []
    for start in range(0, len(images), batch_size):
        z_mean, z_log_var = model.encode(tf.constant(images[start:start + batch_size]))
        means.append(np.asarray(z_mean, np.float64))
        log_vars.append(np.asarray(z_log_var, np.float64))
    return np.concatenate(means), np.concatenate(log_vars)


def active_units(z_mean, threshold=0.01):
    """Counts the active latent dimensions (Burda et al. 2015, Sec. 5.2).

    Dimension j is active when A_j = Cov_x(E_q(z|x)[z_j]) > threshold, the variance over the
    data of the posterior mean.

    Returns:
        `(count, activity)`: the number of active units and A `(latent_dim,)`.
    """
    activity = np.var(np.asarray(z_mean, np.float64), axis=0)
    return int(np.sum(activity > threshold)), activity


def kl_per_dimension(z_mean, z_log_var):
    """E_x[KL(q(z_j|x) || N(0, 1))] for each latent dimension j, in nats, shape `(latent_dim,)`.

    KL_j = -1/2 (1 + log sigma_j^2 - mu_j^2 - sigma_j^2); the total KL is their sum.
    """
    z_mean, z_log_var = np.asarray(z_mean, np.float64), np.asarray(z_log_var, np.float64)
    return np.mean(-0.5 * (1.0 + z_log_var - z_mean**2 - np.exp(z_log_var)), axis=0)
