"""Diagnostics of the latent space: latent codes, active units and the KL per dimension."""

import numpy as np

from keras_vae.data.conditions import batches as _batches, num_examples


def posterior_parameters(model, images, batch_size=500):
    """The parameters of q(z|x) for every image, float64 arrays in `posterior.param_names`
    order (`(z_mean, z_log_var)` for the diagonal posterior)."""
    parts = [model.encode(x) for x in _batches(images, batch_size)]
    return tuple(np.concatenate([np.asarray(p[i], np.float64) for p in parts])
                 for i in range(len(parts[0])))


def latent_codes(model, images, batch_size=500):
    """The deterministic latent code of every image `(n, latent_dim)` (`VAE.latent_code`: the
    posterior mean, or for a flow its base mean carried through the flow)."""
    return np.concatenate([np.asarray(model.latent_code(x), np.float64)
                           for x in _batches(images, batch_size)])


def active_units(codes, threshold=0.01):
    """Counts the active latent dimensions (Burda et al. 2015, Sec. 5.2).

    Dimension j is active when A_j = Cov_x(E_q(z|x)[z_j]) > threshold, the variance over the
    data of the posterior mean (`latent_codes`).

    Returns:
        `(count, activity)`: the number of active units and A `(latent_dim,)`.
    """
    activity = np.var(np.asarray(codes, np.float64), axis=0)
    return int(np.sum(activity > threshold)), activity


def kl_per_dimension(model, images, batch_size=500):
    """E_x[KL(q(z_j|x) || p(z_j))] for each latent dimension j, nats, `(latent_dim,)`, or None
    when the KL does not split per dimension in closed form (a full covariance, a flow, a
    mixture prior): the batch means of the model's `kl_per_dimension`."""
    totals = None
    for x in _batches(images, batch_size):
        per_dim = model.kl_per_dimension(x)
        if per_dim is None:
            return None
        part = np.asarray(per_dim, np.float64).sum(axis=0)
        totals = part if totals is None else totals + part
    return totals / num_examples(images)
