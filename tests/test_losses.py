"""Objectives (ELBO with its knobs, IWAE, the score-function estimator) against their formulas,
computed independently from TFP distributions; every distribution combination trains and
round-trips."""

import json
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import keras_vae
from keras_vae import distributions, evaluation
from keras_vae.losses import ELBO, IWAE
from tests.helpers import binary_images, small_vae
from tests.test_evaluation import SIGMA, ppca_vae

tfd = tfp.distributions


def _independent_terms(model, x, seed):
    """-log p(x|z) and KL(q || p) recomputed from TFP distributions, with the z the model draws
    for `seed` (the diagonal posterior's reparameterization, written out here)."""
    z_mean, z_log_var = model.encode(x)
    eps = keras_vae.layers.sampling.standard_normal((1, *z_mean.shape), seed=seed)
    z = (z_mean + tf.exp(0.5 * z_log_var) * eps)[0]
    p_x = model.likelihood.distribution(model.decoder_params(z))
    reconstruction = -p_x.log_prob(x)
    q = tfd.Normal(z_mean, tf.exp(0.5 * z_log_var))
    kl = tf.reduce_sum(tfd.kl_divergence(q, tfd.Normal(0.0, 1.0)), -1)
    return reconstruction.numpy(), kl.numpy()


def test_elbo_is_minus_reconstruction_plus_kl_computed_independently():
    model = small_vae(objective=ELBO(beta=2.5))
    x = binary_images(6)
    terms = model.loss_terms(x, seed=7)
    reconstruction, kl = _independent_terms(model, x, 7)
    np.testing.assert_allclose(terms["reconstruction_loss"], reconstruction, rtol=1e-5)
    np.testing.assert_allclose(terms["kl_loss"], kl, rtol=1e-5)
    np.testing.assert_allclose(terms["elbo"], -(reconstruction + kl), rtol=1e-5)
    np.testing.assert_allclose(terms["loss"], reconstruction + 2.5 * kl, rtol=1e-5)


def test_warmup_follows_its_schedule():
    model = small_vae(objective=ELBO(kl_warmup_steps=10))
    x = binary_images(4)
    for step, weight in ((0, 0.0), (5, 0.5), (10, 1.0), (40, 1.0)):
        terms = model.loss_terms(x, seed=3, step=tf.constant(step, tf.int64))
        reconstruction, kl = _independent_terms(model, x, 3)
        np.testing.assert_allclose(terms["loss"], reconstruction + weight * kl, rtol=1e-5)
        np.testing.assert_allclose(terms["kl_weight"], weight)
        np.testing.assert_allclose(terms["elbo"], -(reconstruction + kl), rtol=1e-5)
    # Through fit, each epoch logs the mean weight of its 4 steps: steps 8-11 give .8, .9, 1, 1.
    history = model.fit(binary_images(32), epochs=3, batch_size=8, verbose=0).history
    np.testing.assert_allclose(history["kl_weight"], [0.15, 0.55, 0.925], rtol=1e-6)


def batch_mean_kl_and_a_floor_between(model, x):
    """Each dimension's batch-mean KL (numpy closed form) and a floor with one dimension
    below it and the others above."""
    z_mean, z_log_var = (v.numpy().astype(np.float64) for v in model.encode(x))
    batch_mean = (-0.5 * (1 + z_log_var - z_mean**2 - np.exp(z_log_var))).mean(0)
    ordered = np.sort(batch_mean)
    return batch_mean, float(ordered[0] + ordered[1]) / 2


def test_free_bits_hold_each_dimension_at_the_floor():
    model = small_vae()
    x = binary_images(16)
    batch_mean, floor = batch_mean_kl_and_a_floor_between(model, x)
    terms = ELBO(free_bits=floor)(model, x, seed=2)
    counted = np.mean(terms["loss"] - terms["reconstruction_loss"])
    np.testing.assert_allclose(counted, np.maximum(batch_mean, floor).sum(), rtol=1e-4)
    # A dimension held at the floor gets no gradient through the KL.
    with tf.GradientTape() as tape:
        params = list(model.encode(x))
        tape.watch(params)
        prior = model.prior_distribution()
        kl = tf.reduce_mean(keras_vae.objectives.free_bits_kl(
            model.posterior.kl_per_dimension(params, prior), floor))
    grad_mean = tape.gradient(kl, params[0]).numpy()
    below = batch_mean < floor
    assert np.all(grad_mean[:, below] == 0) and np.any(grad_mean[:, ~below] != 0)


def test_the_free_bits_floor_falls_linearly_to_zero_over_its_decay():
    model = small_vae()
    x = binary_images(16)
    z_mean, z_log_var = (v.numpy().astype(np.float64) for v in model.encode(x))
    batch_mean = (-0.5 * (1 + z_log_var - z_mean**2 - np.exp(z_log_var))).mean(0)
    floor = 2.0 * float(batch_mean.max())  # every dimension below it at the start
    decaying = ELBO(free_bits=floor, free_bits_decay_steps=8)
    for step, left in ((0, 1.0), (2, 0.75), (6, 0.25), (8, 0.0), (20, 0.0), (None, 0.0)):
        terms = decaying(model, x, seed=2, step=step)
        counted = np.mean(terms["loss"] - terms["reconstruction_loss"])
        np.testing.assert_allclose(counted, np.maximum(batch_mean, left * floor).sum(),
                                   rtol=1e-4)
        np.testing.assert_allclose(terms["free_bits_floor"], left * floor, rtol=1e-6)
    with pytest.raises(ValueError, match="`free_bits_decay_steps` applies only with free bits"):
        ELBO(free_bits_decay_steps=8)
    assert ELBO.from_config(decaying.get_config()).free_bits_decay_steps == 8


def test_iwae_free_bits_push_each_dimension_below_the_floor_up_and_fall_to_the_bound():
    model = small_vae()
    x = binary_images(16)
    batch_mean, floor = batch_mean_kl_and_a_floor_between(model, x)
    decaying = IWAE(k=4, free_bits=floor, free_bits_decay_steps=8)
    for step, left in ((0, 1.0), (4, 0.5), (8, 0.0), (None, 0.0)):
        terms = decaying(model, x, seed=tf.constant([3, 4]), step=step)
        plain = IWAE(k=4)(model, x, seed=tf.constant([3, 4]))
        np.testing.assert_allclose(terms["iwae_bound"], plain["iwae_bound"], rtol=1e-6)
        added = np.mean(terms["loss"] - plain["loss"])
        np.testing.assert_allclose(added, np.maximum(left * floor - batch_mean, 0).sum(),
                                   rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(terms["free_bits_floor"], left * floor, rtol=1e-6)
    # What the floor adds pushes the KL of the dimensions below it up (gradient -1 per
    # example on their KL), and leaves the others alone.
    with tf.GradientTape() as tape:
        params = list(model.encode(x))
        tape.watch(params)
        kl = model.posterior.kl_per_dimension(params, model.prior_distribution())
        tape.watch(kl)
        added = tf.reduce_mean(keras_vae.objectives.free_bits_shortfall(kl, floor))
    grad = tape.gradient(added, kl).numpy()
    below = batch_mean < floor
    np.testing.assert_allclose(grad[:, below], -1 / len(x))
    assert np.all(grad[:, ~below] == 0)
    config = IWAE.from_config(decaying.get_config()).get_config()
    assert config == {"k": 4, "free_bits": floor, "free_bits_decay_steps": 8, "elbo_steps": 0}
    with pytest.raises(ValueError, match="`free_bits_decay_steps` applies only with free bits"):
        IWAE(free_bits_decay_steps=8)


def test_iwae_trains_on_the_elbo_of_its_samples_for_its_first_elbo_steps():
    model = small_vae()
    x = binary_images(8)
    seed = tf.constant([3, 4])
    switching = IWAE(k=4, elbo_steps=5)
    plain = IWAE(k=4)(model, x, seed=seed)
    # The ELBO over the same 4 draws, from the log-weights computed independently of IWAE.
    log_w, s = model.log_importance_weights(x, 4, seed=seed)
    z_mean, z_log_var = (v.numpy().astype(np.float64) for v in model.encode(x))
    kl = (-0.5 * (1 + z_log_var - z_mean**2 - np.exp(z_log_var))).sum(-1)
    elbo = np.mean(s["log_px_z"], axis=0) - kl
    for step, expected in ((0, -elbo), (4, -elbo), (5, -plain["iwae_bound"]),
                           (None, -plain["iwae_bound"])):
        np.testing.assert_allclose(switching(model, x, seed=seed, step=step)["loss"], expected,
                                   rtol=1e-5)
    assert IWAE.from_config(switching.get_config()).elbo_steps == 5


def test_free_bits_need_a_kl_that_splits_per_dimension():
    with pytest.raises(ValueError, match="`free_bits` needs a KL that splits"):
        small_vae(posterior="full", objective=ELBO(free_bits=0.5), compile=False)
    with pytest.raises(ValueError, match="`free_bits` needs a KL that splits"):
        small_vae(posterior="full", objective=IWAE(free_bits=0.5), compile=False)


def test_iwae_with_k1_is_the_elbo_in_expectation_and_grows_with_k():
    model = small_vae()
    model.fit(binary_images(64), epochs=3, batch_size=16, verbose=0)
    x = binary_images(8, seed=5)
    means = {}
    for k in (1, 5, 50):
        bound = tf.function(lambda seed, k=k: IWAE(k=k)(model, x, seed=seed)["iwae_bound"])
        draws = np.stack([bound(tf.constant([s, k])) for s in range(200)])
        means[k] = (draws.mean(), draws.mean(1).std() / math.sqrt(len(draws)))
    elbo_fn = tf.function(lambda seed: ELBO()(model, x, seed=seed)["elbo"])
    elbo = np.stack([elbo_fn(tf.constant([s, 1000])) for s in range(200)])
    elbo_stderr = elbo.mean(1).std() / math.sqrt(len(elbo))
    assert abs(means[1][0] - elbo.mean()) < 4 * math.hypot(means[1][1], elbo_stderr)
    assert means[1][0] < means[5][0] < means[50][0]


def test_iwae_loss_is_minus_the_log_mean_of_independently_computed_weights():
    model = small_vae(objective=IWAE(k=4))
    x = binary_images(3)
    terms = model.loss_terms(x, seed=tf.constant([5, 6]))
    z_mean, z_log_var = model.encode(x)
    eps = tf.random.stateless_normal((4, 3, 3), seed=[5, 6])
    z = z_mean + tf.exp(0.5 * z_log_var) * eps
    q = tfd.MultivariateNormalDiag(z_mean, tf.exp(0.5 * z_log_var))
    log_px = tf.stack([model.likelihood.distribution(model.decoder_params(z[i])).log_prob(x)
                       for i in range(4)])
    log_w = log_px + tfd.MultivariateNormalDiag(tf.zeros(3)).log_prob(z) - q.log_prob(z)
    expected = np.log(np.mean(np.exp(log_w.numpy().astype(np.float64)), axis=0))
    np.testing.assert_allclose(-terms["loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(terms["iwae_bound"], expected, rtol=1e-5)


def test_both_gradient_estimators_agree_in_mean_within_their_standard_errors():
    model = small_vae()
    x = binary_images(4)
    weights = model.encoder.trainable_weights

    def gradients(objective, n):
        @tf.function
        def draw(seed):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(objective(model, x, seed=seed)["loss"])
            return tf.concat([tf.reshape(g, [-1]) for g in tape.gradient(loss, weights)], 0)

        return np.stack([draw(tf.constant([s, 0])).numpy() for s in range(n)])

    pathwise = gradients(ELBO(), 300)
    score = gradients(ELBO(gradient="score_function"), 3000)
    diff = pathwise.mean(0) - score.mean(0)
    stderr = np.sqrt(pathwise.var(0) / len(pathwise) + score.var(0) / len(score))
    informative = stderr > 0
    z = diff[informative] / stderr[informative]
    assert np.mean(np.abs(z) < 3) > 0.97  # about 99.7% of them for unbiased estimators
    assert score.var(0).sum() > 10 * pathwise.var(0).sum()  # and REINFORCE is far noisier


@pytest.mark.parametrize("kwargs, name", [
    ({"beta": -1.0}, "beta"), ({"free_bits": -0.1}, "free_bits"), ({"mc_samples": 0},
                                                                   "mc_samples"),
    ({"kl_warmup_steps": -5}, "kl_warmup_steps"), ({"gradient": "magic"}, "gradient")])
def test_bad_elbo_arguments_are_refused(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        ELBO(**kwargs)


def test_k_below_one_is_refused():
    with pytest.raises(ValueError, match=r"`k` must be an int >= 1. Received: k=0"):
        IWAE(k=0)


def test_more_monte_carlo_samples_average_the_reconstruction():
    model = small_vae(objective=ELBO(mc_samples=3))
    x = binary_images(5)
    terms = model.loss_terms(x, seed=tf.constant([8, 9]))
    s = model.sampled_terms(x, 3, seed=tf.constant([8, 9]))
    np.testing.assert_allclose(terms["reconstruction_loss"],
                               -np.mean(s["log_px_z"].numpy(), axis=0), rtol=1e-6)


# ------------------------------------------------------- exactness on probabilistic PCA


def ppca_full_covariance_vae():
    """Probabilistic PCA with a W whose columns are not orthogonal: the exact posterior has a
    full covariance, sigma^2 M^-1 with M = W^T W + sigma^2 I, which the full-covariance
    posterior represents exactly."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=(5, 2))
    b = rng.normal(size=5)
    m = w.T @ w + SIGMA**2 * np.eye(2)
    m_inv = np.linalg.inv(m)
    chol = np.linalg.cholesky(SIGMA**2 * m_inv)
    raw = chol.copy()
    raw[np.diag_indices(2)] = np.log(np.expm1(np.diag(chol) - 1e-4))  # softplus^-1
    encoder_in = keras.Input((5,))
    encoder = keras.Model(encoder_in, [keras.layers.Dense(2, name="z_mean")(encoder_in),
                                       keras.layers.Dense(3, name="scale_tril")(encoder_in)])
    encoder.get_layer("z_mean").set_weights([w @ m_inv, -(m_inv @ w.T @ b)])
    encoder.get_layer("scale_tril").set_weights(
        [np.zeros((5, 3)), tfp.math.fill_triangular_inverse(raw).numpy()])
    decoder_in = keras.Input((2,))
    decoder = keras.Model(decoder_in, keras.layers.Dense(5)(decoder_in))
    decoder.layers[-1].set_weights([w.T, b])
    model = keras_vae.VAE(encoder, decoder, likelihood=keras_vae.Gaussian(scale=SIGMA),
                          posterior="full")
    covariance = w @ w.T + SIGMA**2 * np.eye(5)
    x = rng.multivariate_normal(b, covariance, size=30).astype("float32")
    exact = tfd.MultivariateNormalFullCovariance(b, covariance).log_prob(x.astype(np.float64))
    return model, x, np.asarray(exact)


def test_importance_sampling_is_exact_with_each_posterior_that_can_represent_ppca():
    for model, x, exact in (ppca_vae(), ppca_full_covariance_vae()):
        # q = p(z|x): every importance weight equals p(x).
        result = evaluation.importance_sampled_log_likelihood(model, x, k=10, verbose=0)
        np.testing.assert_allclose(result["log_likelihood"], exact, atol=2e-3)
        np.testing.assert_allclose(result["elbo"], exact, atol=2e-3)


# ------------------------------ each part, and each prior x posterior pair, trains and round-trips

LIKELIHOODS = distributions.available_likelihoods()
PRIORS = distributions.available_priors()
POSTERIORS = distributions.available_posteriors()


def _data_for(likelihood):
    return np.round(binary_images(16) * 0.6 * 255 + 40) / 255 if not (
        distributions.get_likelihood(likelihood).binarize) else binary_images(16)


# Every prior x posterior pair, each with a likelihood in turn, so that every likelihood
# takes part at least once: the three parts are configured apart (each its own
# `get_config`), and the 63-case product took about 6 minutes of CI.
COMBINATION_CASES = [(LIKELIHOODS[i % len(LIKELIHOODS)], prior, posterior)
                     for i, (prior, posterior) in enumerate(
                         (p, q) for p in PRIORS for q in POSTERIORS)]


def test_every_likelihood_takes_part_in_a_combination():
    assert {case[0] for case in COMBINATION_CASES} == set(LIKELIHOODS)


@pytest.mark.parametrize("likelihood, prior, posterior", COMBINATION_CASES)
def test_each_pair_and_each_likelihood_trains_a_step_round_trips_keras_and_exports(
        likelihood, prior, posterior, tmp_path):
    model = small_vae(likelihood=likelihood, prior=prior, posterior=posterior,
                      objective=IWAE(k=2) if prior == "vamp" else ELBO(mc_samples=2))
    x = _data_for(likelihood)
    logs = model.fit(x, epochs=1, batch_size=8, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values())
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for role in ("likelihood", "prior", "posterior", "objective"):
        assert getattr(loaded, role).get_config() == getattr(model, role).get_config()
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)
    np.testing.assert_allclose(loaded.loss_terms(x, seed=4)["elbo"],
                               model.loss_terms(x, seed=4)["elbo"], rtol=1e-5)
    path = keras_vae.export_saved_model(model, str(tmp_path / "export"))
    served = tf.saved_model.load(path)
    np.testing.assert_allclose(served.signatures["serving_default"](images=x)["reconstructions"],
                               model.predict(x, verbose=0), atol=1e-5)
    np.testing.assert_allclose(served.signatures["elbo"](images=x, seed=tf.constant(3))["elbo"],
                               model.loss_terms(x, seed=tf.constant(3))["elbo"], rtol=1e-4)
    np.testing.assert_allclose(served.signatures["sample"](n=tf.constant(2),
                                                           seed=tf.constant(5))["images"],
                               model.sample(2, seed=tf.constant(5)), atol=1e-5)
    with open(os.path.join(path, "assets.extra", "keras_vae.json")) as f:
        metadata = json.load(f)
    assert metadata["prior"]["config"]["name"] == model.prior.name
    assert metadata["posterior"]["class_name"] == type(model.posterior).__name__
    assert metadata["kl"].startswith("analytic" if model.kl_analytic else "Monte Carlo")
