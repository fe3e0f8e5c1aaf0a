import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from keras_vae import objectives
from keras_vae.distributions.likelihoods import Bernoulli

tfd = tfp.distributions


def test_closed_form_kl_matches_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(4, 5)).astype("float32")
    log_var = rng.normal(scale=0.7, size=(4, 5)).astype("float32")
    q = tfd.Independent(tfd.Normal(mu, np.exp(0.5 * log_var)), 1)
    p = tfd.Independent(tfd.Normal(tf.zeros_like(mu), 1.0), 1)
    z = q.sample(200_000, seed=1)
    log_ratio = (q.log_prob(z) - p.log_prob(z)).numpy()
    estimate, stderr = log_ratio.mean(0), log_ratio.std(0) / np.sqrt(len(log_ratio))
    exact = objectives.kl_standard_normal(mu, log_var).numpy()
    assert exact.shape == (4,)
    assert np.all(np.abs(exact - estimate) < 4 * stderr + 1e-3), (exact, estimate, stderr)


def test_closed_form_kl_matches_tfp_and_sums_over_latent_dimensions():
    mu = np.array([[0.5, -1.0, 2.0]], "float32")
    log_var = np.array([[0.1, -0.3, 1.2]], "float32")
    q = tfd.Normal(mu, np.exp(0.5 * log_var))
    per_dim = tfd.kl_divergence(q, tfd.Normal(0.0, 1.0)).numpy()
    np.testing.assert_allclose(objectives.kl_standard_normal(mu, log_var), per_dim.sum(-1),
                               rtol=1e-5)
    np.testing.assert_allclose(objectives.kl_standard_normal(np.zeros((2, 7), "float32"), np.zeros((2, 7), "float32")),
                               [0.0, 0.0])


def test_bernoulli_negative_log_likelihood_is_summed_binary_cross_entropy():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3, 4, 4, 1)).astype("float32")
    x = (rng.random((3, 4, 4, 1)) > 0.5).astype("float32")
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=(1, 2, 3))
    nll = -Bernoulli().log_prob(logits, x).numpy()
    np.testing.assert_allclose(nll, expected, rtol=1e-5)


def test_bounded_log_variance_is_near_identity_and_bounded():
    raw = np.array([-1e6, -3.0, 0.0, 2.0, 1e6], "float32")
    bounded = objectives.bounded_log_variance(raw).numpy()
    np.testing.assert_allclose(bounded[1:4], raw[1:4], atol=0.02)
    assert np.all(np.abs(bounded) <= 30.0)
    assert np.all(np.isfinite(objectives.kl_standard_normal(np.zeros(5, "float32"), bounded)))
