"""The mathematics of the objectives, as plain functions: the one home of every formula.

Every function returns one value per example (nats), summed over data or latent dimensions;
averaging over the batch is left to the caller. Training (`keras_vae.losses`), `test_step`,
the evaluation (importance-sampled log-likelihood, active units, amortization gap) and the
export's `elbo` signature all call these.
"""

import math

import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

tfd = tfp.distributions
LOG_2PI = math.log(2.0 * math.pi)


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
    return ops.sum(kl_diagonal_gaussians(z_mean, z_log_var, 0.0, 0.0), axis=-1)


def kl_diagonal_gaussians(q_mean, q_log_var, p_mean, p_log_var):
    """KL(N(q_mean, diag e^q_log_var) || N(p_mean, diag e^p_log_var)) per latent dimension.

    KL_j = 1/2 (log s_pj^2 - log s_qj^2 + (s_qj^2 + (mu_qj - mu_pj)^2) / s_pj^2 - 1); with
    p = N(0, I) it is `kl_standard_normal`'s summand. Summing over j gives the whole KL.

    Returns:
        Tensor of the broadcast shape `(..., latent_dim)`, nats.
    """
    return 0.5 * (p_log_var - q_log_var
                  + (ops.exp(q_log_var) + ops.square(q_mean - p_mean)) / ops.exp(p_log_var) - 1.0)


def reparameterize(mean, log_var, eps):
    """z = mu + sigma * eps with sigma = exp(log sigma^2 / 2): a sample of N(mu, diag sigma^2)
    that is a differentiable function of (mu, log sigma^2) and of noise eps ~ N(0, I) that does
    not depend on them (the reparameterization trick; Kingma & Welling 2014, Sec. 2.4)."""
    return mean + ops.exp(0.5 * log_var) * eps


def reparameterized_log_density(eps, log_scale):
    """log q(z) of a Gaussian sample z = mu + S eps, eps ~ N(0, I), with S triangular of
    diagonal exp(log_scale) (diagonal sigma, or a Cholesky factor), per sample:

    log q(z) = -1/2 sum_j (eps_j^2 + log 2 pi) - sum_j log S_jj

    (the change of variables from eps; Kingma & Welling 2014, Sec. 2.4). `eps` is
    `(..., latent_dim)` and `log_scale` broadcasts against it.
    """
    return (-0.5 * ops.sum(ops.square(eps) + LOG_2PI, axis=-1)
            - ops.sum(ops.broadcast_to(log_scale, ops.shape(eps)), axis=-1))


def diagonal_normal_log_density(z, mean, log_var):
    """log N(z; mean, diag e^log_var), summed over the last axis:
    -1/2 sum_j (log 2 pi + log sigma_j^2 + (z_j - mu_j)^2 / sigma_j^2). Arguments broadcast."""
    return -0.5 * ops.sum(LOG_2PI + log_var + ops.square(z - mean) * ops.exp(-log_var), axis=-1)


def residual_gaussian(delta_mean, delta_log_var, p_mean, p_log_var):
    """`(mean, log_var)` of NVAE's residual posterior relative to its prior (Vahdat & Kautz
    2020, Sec. 3.2): q = N(mu_p + delta_mu, sigma_p^2 * delta_sigma^2), so that
    KL(q || p) = 1/2 sum_j (delta_mu_j^2 / sigma_pj^2 + delta_sigma_j^2 - log delta_sigma_j^2 - 1)
    depends on the prior only through sigma_p, and q moves with p as p is learned."""
    return p_mean + delta_mean, p_log_var + delta_log_var


def has_analytic_kl(q: tfd.Distribution, p: tfd.Distribution) -> bool:
    """Whether TensorFlow Probability registers a closed form of KL(q || p) for these types."""
    try:
        tfd.kl_divergence(q, p)
    except NotImplementedError:
        return False
    return True


def kl_divergence(q, p, z=None, log_q=None, analytic=True):
    """KL(q(z|x) || p(z)) per example `(batch,)`.

    Analytic (`tfd.kl_divergence`, TFP's registered closed form) when `analytic`; otherwise the
    Monte Carlo estimate mean_s [log q(z_s|x) - log p(z_s)] on the samples `z`
    `(samples, batch, latent_dim)` with their log-densities `log_q` `(samples, batch)`, which
    is unbiased and differentiable through reparameterized samples (Kingma & Welling 2014,
    eq. 6 against eq. 7).
    """
    if analytic:
        return tfd.kl_divergence(q, p)
    if z is None or log_q is None:
        raise ValueError("A Monte Carlo KL needs the samples `z` and their `log_q`. "
                         f"Received: z={z!r}, log_q={log_q!r}")
    return ops.mean(log_q - p.log_prob(z), axis=0)


def log_weights(log_px_z, log_pz, log_qz):
    """Importance log-weights log w = log p(x|z) + log p(z) - log q(z|x), elementwise.

    Their mean over samples z ~ q(z|x) is an ELBO estimate; their log-mean-exp is the
    importance-weighted bound (Burda et al. 2015, eq. 8).
    """
    return log_px_z + log_pz - log_qz


def elbo(log_px_z, kl):
    """ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z)) per example, from `log_px_z`
    `(samples, batch)` (averaged over samples) and the KL `(batch,)` (Kingma & Welling 2014,
    eq. 7)."""
    return ops.mean(log_px_z, axis=0) - kl


def importance_weighted_bound(log_w, axis=0):
    """L_K = log (1/K sum_k w_k) = logsumexp_k log w_k - log K (Burda et al. 2015, eq. 8).

    L_1 is the ELBO in expectation; L_K grows with K and tends to log p(x). `log_w` holds K
    samples along `axis`.
    """
    k = ops.cast(ops.shape(log_w)[axis], log_w.dtype)
    return tf.reduce_logsumexp(log_w, axis=axis) - ops.log(k)


def free_bits_kl(kl_per_dim, floor):
    """The free-bits KL per example `(batch,)` from per-dimension terms `(batch, latent_dim)`.

    Each dimension's KL, averaged over the batch, counts at least `floor` nats
    (Kingma et al. 2016, eq. 15: sum_j max(lambda, E_x[KL_j])): a dimension whose batch mean is
    below the floor contributes exactly `floor` per example and no gradient, one above it its
    own KL. The batch mean of the result is sum_j max(floor, mean_x KL_j).
    """
    batch_mean = ops.mean(kl_per_dim, axis=0, keepdims=True)
    held = ops.broadcast_to(ops.cast(floor, kl_per_dim.dtype), ops.shape(kl_per_dim))
    return ops.sum(ops.where(batch_mean >= floor, kl_per_dim, held), axis=-1)


def free_bits_shortfall(kl_per_dim, floor):
    """What the free-bits KL adds to the KL per example `(batch,)`: sum_j (floor - KL_j) over
    the dimensions whose batch-mean KL is below `floor` (`free_bits_kl` is the KL plus this).

    Added to a loss it cancels the KL's gradient on those dimensions, pushing their KL up as
    hard as the KL term pulls it down: for an objective whose KL is not a term of its own
    (the importance-weighted bound) this is the free bits of the ELBO.
    """
    batch_mean = ops.mean(kl_per_dim, axis=0, keepdims=True)
    below = ops.cast(batch_mean < floor, kl_per_dim.dtype)
    return ops.sum(below * (ops.cast(floor, kl_per_dim.dtype) - kl_per_dim), axis=-1)


def linear_warmup(step, warmup_steps):
    """The KL weight of a linear warm-up: min(1, step / warmup_steps), 1 without warm-up
    (Bowman et al. 2016; Sonderby et al. 2016)."""
    if not warmup_steps:
        return 1.0
    return ops.minimum(1.0, ops.cast(step, "float32") / float(warmup_steps))


def total_correlation(z, mean, log_var, dataset_size=0):
    """The minibatch-weighted sampling estimate of the total correlation of q(z) per example
    (Chen et al. 2018, Sec. 4.1): TC = KL(q(z) || prod_d q(z_d)), q(z) the aggregate posterior.

    With z_i ~ q(z|x_i) for the M images of a batch drawn from N,
    log q(z_i) ~ logsumexp_j log q(z_i|x_j) - log(N M) and
    log q(z_id) ~ logsumexp_j log q(z_id|x_j) - log(N M), and
    tc_i = log q(z_i) - sum_d log q(z_id). The dataset-size term, (D - 1) log(N M) for D
    latent dimensions, is a constant: with `dataset_size` N = 0 it is left out, as
    disentanglement_lib leaves it out (the gradient is the same; the figure is not the TC).

    Args:
        z: `(batch, latent_dim)`, one sample per image.
        mean, log_var: `(batch, latent_dim)`, q(z|x_j)'s diagonal Gaussians.
        dataset_size: int >= 0. N, the training images; 0 leaves the constant out.

    Returns:
        `(batch,)`, nats.
    """
    # log q(z_id | x_j), (batch i, batch j, latent_dim).
    log_q = -0.5 * (LOG_2PI + log_var[None] + ops.square(z[:, None] - mean[None])
                    * ops.exp(-log_var[None]))
    joint = tf.reduce_logsumexp(ops.sum(log_q, axis=-1), axis=1)
    marginals = ops.sum(tf.reduce_logsumexp(log_q, axis=1), axis=-1)
    tc = joint - marginals
    if dataset_size:
        batch = ops.cast(ops.shape(z)[0], z.dtype)
        dims = ops.cast(ops.shape(z)[-1], z.dtype)
        tc = tc + (dims - 1.0) * ops.log(float(dataset_size) * batch)
    return tc


def dip_regularizer(mean, log_var, lambda_od, lambda_d, variant="i"):
    """The DIP-VAE regularizer (Kumar et al. 2018, eq. 6 and 7), one value for the batch:
    lambda_od sum_{i != j} C_ij^2 + lambda_d sum_i (C_ii - 1)^2, C the batch covariance of the
    posterior means Cov[mu(x)] (DIP-VAE-I) or of z, Cov[mu(x)] + E[diag sigma^2(x)]
    (DIP-VAE-II). `mean`, `log_var` are `(batch, latent_dim)`."""
    centred = mean - ops.mean(mean, axis=0, keepdims=True)
    batch = ops.cast(ops.shape(mean)[0], mean.dtype)
    covariance = ops.matmul(ops.transpose(centred), centred) / batch
    if variant == "ii":
        covariance = covariance + tf.linalg.diag(ops.mean(ops.exp(log_var), axis=0))
    diagonal = tf.linalg.diag_part(covariance)
    off_diagonal = covariance - tf.linalg.diag(diagonal)
    return (lambda_od * ops.sum(ops.square(off_diagonal))
            + lambda_d * ops.sum(ops.square(diagonal - 1.0)))


def capacity(step, c_max, steps):
    """The AnnealedVAE's target KL at optimizer step `step`: C = c_max min(1, step / steps)
    (Burgess et al. 2018, Sec. 5); c_max once `steps` is 0 or `step` is None (the end)."""
    return c_max * linear_warmup(step if step is not None else steps, steps)


def score_function_surrogate(f, log_q):
    """A term whose value is 0 and whose gradient is f * grad log q: added to a loss computed at
    samples held fixed (`stop_gradient(z)`), it gives the score-function (REINFORCE) estimator
    of grad E_q[f] (Williams 1992; Paisley et al. 2012) in place of the pathwise one."""
    return tf.stop_gradient(f) * (log_q - tf.stop_gradient(log_q))


def bounded_log_variance(raw, limit: float = 30.0):
    """Maps an unconstrained encoder output smoothly into (-limit, limit).

    log sigma^2 = limit * tanh(raw / limit). Near zero this is the identity (|error| below
    0.05 for |raw| < 5 with the default limit); far from it, sigma^2 stays within
    [exp(-30), exp(30)], so that exp(log sigma^2) in the KL and in sampling can never
    overflow float32 however extreme the encoder's output is.
    """
    return limit * ops.tanh(raw / limit)

