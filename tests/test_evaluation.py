import math

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae import evaluation
from tests.helpers import binary_images, small_vae

SIGMA = 0.5


def _bounded_raw(log_var):
    """The raw encoder output that `bounded_log_variance` maps to `log_var`."""
    return 30.0 * np.arctanh(np.asarray(log_var) / 30.0)


def ppca_vae(mean_shift=0.0, log_var_shift=0.0):
    """Probabilistic PCA as a VAE: z ~ N(0, I), x|z ~ N(W z + b, SIGMA^2 I), and q(z|x) = the
    exact posterior moved by the given shifts. W has orthogonal columns, so the exact
    posterior has a diagonal covariance."""
    rng = np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.normal(size=(5, 2)))
    w = basis * np.array([2.0, 1.0])
    b = rng.normal(size=5)
    m_diag = (w**2).sum(0) + SIGMA**2  # M = W^T W + sigma^2 I, diagonal
    encoder_in = keras.Input((5,))
    encoder = keras.Model(encoder_in, [keras.layers.Dense(2, name="z_mean")(encoder_in),
                                       keras.layers.Dense(2, name="z_log_var")(encoder_in)])
    encoder.get_layer("z_mean").set_weights([w / m_diag, -(w.T @ b) / m_diag + mean_shift])
    encoder.get_layer("z_log_var").set_weights(
        [np.zeros((5, 2)), _bounded_raw(np.log(SIGMA**2 / m_diag) + log_var_shift)])
    decoder_in = keras.Input((2,))
    decoder = keras.Model(decoder_in, keras.layers.Dense(5)(decoder_in))
    decoder.layers[-1].set_weights([w.T, b])
    model = keras_vae.VAE(encoder, decoder, likelihood=keras_vae.Gaussian(scale=SIGMA))
    covariance = w @ w.T + SIGMA**2 * np.eye(5)
    x = rng.multivariate_normal(b, covariance, size=40).astype("float32")
    diff = x - b
    exact = -0.5 * (np.einsum("ni,ij,nj->n", diff, np.linalg.inv(covariance), diff)
                    + np.linalg.slogdet(covariance)[1] + 5 * math.log(2 * math.pi))
    return model, x, exact


def test_importance_sampling_matches_the_exact_ppca_log_likelihood():
    model, x, exact = ppca_vae(mean_shift=0.3, log_var_shift=0.5)
    result = evaluation.importance_sampled_log_likelihood(model, x, k=5000, batch_size=8,
                                                          chunk_size=1000, verbose=0)
    assert np.max(np.abs(result["log_likelihood"] - exact)) < 0.1
    assert np.all(result["elbo"] < exact)  # a bound, strictly, with this q
    exact_q, x_q, exact_q_ll = ppca_vae()
    with_exact_posterior = evaluation.importance_sampled_log_likelihood(
        exact_q, x_q, k=10, verbose=0)  # q = p(z|x): every weight equals p(x)
    np.testing.assert_allclose(with_exact_posterior["log_likelihood"], exact_q_ll, atol=1e-3)


def test_estimate_is_above_the_elbo_and_grows_with_k():
    model, x, exact = ppca_vae(mean_shift=1.0, log_var_shift=1.5)
    means = []
    for k in (1, 10, 100, 1000):
        result = evaluation.importance_sampled_log_likelihood(model, x, k=k, chunk_size=250,
                                                              verbose=0, seed=k)
        means.append(result["log_likelihood"].mean())
    assert means == sorted(means), means
    assert means[-1] - means[0] > 0.5  # the bound really tightens
    assert abs(means[-1] - exact.mean()) < 0.1
    k1 = evaluation.importance_sampled_log_likelihood(model, x, k=1, verbose=0)
    np.testing.assert_allclose(k1["log_likelihood"], k1["elbo"], rtol=1e-6)  # K = 1: the ELBO


def test_chunking_and_batching_do_not_change_the_estimate():
    model, x, exact = ppca_vae(mean_shift=0.1, log_var_shift=0.5)  # light-tailed weights
    a = evaluation.importance_sampled_log_likelihood(model, x, k=600, batch_size=40,
                                                     chunk_size=600, verbose=0)
    b = evaluation.importance_sampled_log_likelihood(model, x, k=600, batch_size=7,
                                                     chunk_size=250, verbose=0)
    # Different chunkings draw different samples: equal up to Monte Carlo noise.
    for result in (a, b):
        assert np.max(np.abs(result["log_likelihood"] - exact)) < 0.15
    assert abs(a["log_likelihood"].mean() - b["log_likelihood"].mean()) < 0.03


def test_estimator_rejects_bad_arguments():
    model = small_vae()
    with pytest.raises(ValueError, match="`k` must be an int >= 1"):
        evaluation.importance_sampled_log_likelihood(model, binary_images(2), k=0)
    with pytest.raises(ValueError, match="`images` must hold examples of shape"):
        evaluation.importance_sampled_log_likelihood(model, np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match=r"`images` must hold values in \[0.0, 1.0\]"):
        evaluation.importance_sampled_log_likelihood(model, binary_images(2) * 3)


def test_active_units_and_kl_per_dimension():
    z_mean = np.stack([np.linspace(-2, 2, 100), np.full(100, 0.3), np.linspace(0, 0.1, 100)], 1)
    count, activity = evaluation.active_units(z_mean)
    assert count == 1 and activity.shape == (3,)
    model = small_vae()
    x = binary_images(16)
    means, log_vars = evaluation.posterior_parameters(model, x, batch_size=5)
    per_dim = evaluation.kl_per_dimension(model, x, batch_size=5)
    # Against the closed form written out in numpy, per dimension.
    expected = np.mean(-0.5 * (1 + log_vars - means**2 - np.exp(log_vars)), axis=0)
    np.testing.assert_allclose(per_dim, expected, rtol=1e-4)
    np.testing.assert_allclose(per_dim.sum(), np.mean(model.loss_terms(x)["kl_loss"]), rtol=1e-4)


def test_amortization_gap_is_zero_at_the_exact_posterior_and_positive_off_it():
    exact_model, x, _ = ppca_vae()
    at_optimum = evaluation.amortization_gap(exact_model, x, steps=50, eval_samples=200)
    assert abs(at_optimum["amortization_gap"]) < 0.02
    off_model, x, _ = ppca_vae(mean_shift=1.0, log_var_shift=1.0)
    off = evaluation.amortization_gap(off_model, x, steps=300, learning_rate=5e-2,
                                      eval_samples=200)
    assert off["amortization_gap"] > 0.5
    # Refining reaches the exact posterior's ELBO, which here is log p(x) itself.
    np.testing.assert_allclose(off["elbo_refined"], at_optimum["elbo_encoder"], atol=0.05)


def test_elbo_terms_kl_is_the_closed_form_over_batches():
    """The mean KL over images split in batches of 7 equals -1/2 sum(1 + log s^2 - m^2 - s^2)
    computed with numpy from the encoder's outputs (log s^2 = 30 tanh(raw / 30), the
    posterior's bound)."""
    model = small_vae()
    x = binary_images(30)
    terms = evaluation.elbo_terms(model, x, batch_size=7)
    mean, raw = (np.asarray(t, np.float64) for t in model.encoder(x))
    log_var = 30 * np.tanh(raw / 30)
    kl = -0.5 * np.sum(1 + log_var - mean ** 2 - np.exp(log_var), axis=1)
    np.testing.assert_allclose(terms["kl_loss"], kl.mean(), rtol=1e-5)


def test_default_estimate_equals_plain_tensorflow_log_weights_and_follows_new_weights():
    """The default path compiles log p(x|z) with XLA and caches the compiled steps on the
    model: same numbers as the uncompiled formula on the same samples, and a second call
    sees the model's current weights."""
    model = small_vae()
    x = binary_images(6)
    result = evaluation.importance_sampled_log_likelihood(model, x, k=300, batch_size=6,
                                                          chunk_size=300, seed=0, verbose=0)
    # One batch and one chunk: the samples come from the seed pair (0, 0).
    log_w = evaluation.likelihood.log_importance_weights(model, x, 300, seed=[0, 0]).numpy()
    expected = np.log(np.exp(log_w - log_w.max(0)).mean(0)) + log_w.max(0)
    np.testing.assert_allclose(result["log_likelihood"], expected, rtol=1e-5)
    np.testing.assert_allclose(result["elbo"], log_w.mean(0), rtol=1e-5)
    model.decoder.set_weights([w * 2.0 for w in model.decoder.get_weights()])
    again = evaluation.importance_sampled_log_likelihood(model, x, k=300, batch_size=6,
                                                         chunk_size=300, seed=0, verbose=0)
    assert np.max(np.abs(again["log_likelihood"] - result["log_likelihood"])) > 0.1


@pytest.mark.parametrize("posterior", ["full", "iaf"])
def test_the_amortization_gap_refines_every_posterior_family(posterior):
    """Every head of a richer posterior (a full covariance's factor, the flow's context) is
    refined per image: 30 Adam steps raise the ELBO of an untrained model's encoder."""
    model = small_vae(posterior=posterior)
    gap = evaluation.amortization_gap(model, binary_images(8), steps=30, eval_samples=50)
    assert np.all(np.isfinite(gap["per_image_gap"])) and gap["amortization_gap"] > 0.1
