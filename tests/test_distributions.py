"""Priors, posteriors and likelihoods against TFP, closed forms and numpy references."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import keras_vae
from keras_vae import distributions, objectives
from keras_vae.distributions.posteriors import made_masks
from tests.helpers import SHAPE, binary_images, small_vae

tfd = tfp.distributions
D = 3


def _params(posterior, batch=4, seed=0):
    """Random encoder outputs for `posterior`, turned into its parameters."""
    posterior.configure(D)
    rng = np.random.default_rng(seed)
    outputs = [tf.constant(rng.normal(scale=0.7, size=(batch, size)), tf.float32)
               for size in posterior.output_sizes(D).values()]
    return posterior.params(outputs)


POSTERIORS = ["diagonal", "full", "iaf"]


@pytest.mark.parametrize("name", POSTERIORS)
def test_one_pass_log_density_of_samples_equals_tfp_log_prob(name):
    posterior = distributions.get_posterior(name)
    params = _params(posterior)
    z, log_q = posterior.sample(params, 5, seed=tf.constant([1, 2]))
    assert z.shape == (5, 4, D) and log_q.shape == (5, 4)
    # TFP's log_prob of the distribution (for the flow: by inverting it) is independent of the
    # one-pass formula used in training.
    np.testing.assert_allclose(log_q, posterior.distribution(params).log_prob(z), atol=2e-4)


def test_flow_density_integrates_to_one():
    posterior = distributions.InverseAutoregressiveFlow(flow_steps=2, hidden_units=8,
                                                        context_units=2)
    keras.utils.set_random_seed(3)
    posterior.configure(2)
    for step in posterior.steps:  # non-trivial flows
        for layer in (step[0], step[2]):
            layer.kernel.assign(layer.kernel * 2.0)
            layer.bias.assign(tf.random.normal(layer.bias.shape))
    outputs = [tf.constant([[0.2, -0.1]]), tf.constant([[0.3, -0.4]]), tf.constant([[1.0, -1.0]])]
    dist = posterior.distribution(posterior.params(outputs))
    grid = np.linspace(-10, 10, 801, dtype="float32")
    zz = np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 1, 2)
    density = np.exp(dist.log_prob(zz).numpy())
    cell = (grid[1] - grid[0]) ** 2
    assert abs(density.sum() * cell - 1.0) < 1e-3


def test_made_masks_are_autoregressive():
    into_hidden, into_outputs = made_masks(4, 10)
    connection = into_hidden @ into_outputs[:, :4]  # paths from input i to output j
    assert np.all(np.tril(connection) == 0)  # output j never sees inputs i >= j
    assert np.all(connection[0, 1:] > 0)  # and sees the inputs before it


def test_flow_jacobian_is_triangular_per_step():
    posterior = distributions.InverseAutoregressiveFlow(flow_steps=1)
    params = _params(posterior, batch=1)
    bijector = posterior._bijector(params[2])
    z0 = tf.constant([[0.3, -1.0, 2.0]])
    with tf.GradientTape() as tape:
        tape.watch(z0)
        z = bijector.forward(z0)
    jacobian = tape.batch_jacobian(z, z0)[0].numpy()
    assert np.allclose(np.triu(jacobian, 1), 0.0)
    np.testing.assert_allclose(np.log(np.diag(jacobian)).sum(),
                               bijector.forward_log_det_jacobian(z0, 1)[0], rtol=1e-5)


@pytest.mark.parametrize("name", ["diagonal", "full"])
def test_analytic_kl_equals_its_monte_carlo_estimate(name):
    posterior = distributions.get_posterior(name)
    params = _params(posterior, batch=3)
    prior = distributions.StandardNormal()
    prior.configure(D, SHAPE)
    q, p = posterior.distribution(params), prior.distribution()
    assert objectives.has_analytic_kl(q, p)
    analytic = objectives.kl_divergence(q, p).numpy()
    z, log_q = posterior.sample(params, 20000, seed=tf.constant([4, 5]))
    draws = (log_q - p.log_prob(z)).numpy()
    stderr = draws.std(0) / math.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(0) - analytic) < 4 * stderr + 1e-3)
    mc = objectives.kl_divergence(q, p, z, log_q, analytic=False).numpy()
    np.testing.assert_allclose(mc, draws.mean(0), rtol=1e-5)


def test_diagonal_kl_per_dimension_is_the_closed_form():
    rng = np.random.default_rng(0)
    mu, log_var = rng.normal(size=(2, 4, D))
    p_mu, p_log_var = rng.normal(size=(2, D))
    per_dim = objectives.kl_diagonal_gaussians(mu, log_var, p_mu, p_log_var)
    expected = tfd.kl_divergence(tfd.Normal(mu, np.exp(0.5 * log_var)),
                                 tfd.Normal(p_mu, np.exp(0.5 * p_log_var)))
    np.testing.assert_allclose(per_dim, expected, rtol=1e-6)


def test_mixture_and_vamp_priors_have_no_closed_form_kl_and_say_so():
    for prior in ("mixture", "vamp"):
        model = small_vae(prior=prior, compile=False)
        assert model.kl_analytic is False
        assert model.serving_metadata()["kl"].startswith("Monte Carlo")
    assert small_vae(compile=False).kl_analytic is True


def test_vamp_prior_is_the_posterior_mixture_at_its_pseudo_inputs():
    model = small_vae(prior=distributions.VampPrior(components=4), compile=False)
    z = tf.random.normal((6, 3))
    q = model.posterior_distribution(model.prior.inputs())  # batch of 4 components
    expected = tf.reduce_logsumexp(q.log_prob(z[:, None, :]), axis=1) - math.log(4)
    np.testing.assert_allclose(model.prior_distribution().log_prob(z), expected, rtol=1e-5)
    pseudo = model.prior.inputs().numpy()
    assert pseudo.shape == (4, *SHAPE) and pseudo.min() >= 0 and pseudo.max() <= 1


def test_vamp_pseudo_inputs_start_near_the_lower_bound_as_in_the_paper():
    # Tomczak & Welling start them at N(0.05, 0.01) in [0, 1]; grey noise let the IWAE
    # architecture collapse onto the mean image on MNIST.
    prior = distributions.VampPrior(components=500)
    prior.configure(D, (8, 8, 1), data_range=(0.0, 2.0))
    pseudo = np.asarray(prior.inputs()) / 2.0
    assert abs(pseudo.mean() - 0.05) < 0.002 and abs(pseudo.std() - 0.01) < 0.002


def test_gaussian_mixture_prior_log_prob_matches_numpy():
    prior = distributions.GaussianMixture(components=3)
    prior.configure(D, SHAPE)
    z = np.random.default_rng(1).normal(size=(5, D)).astype("float32")
    means, log_scales, logits = (np.asarray(v, np.float64) for v in
                                 (prior.means, prior.log_scales, prior.logits))
    weights = np.exp(logits) / np.exp(logits).sum()
    scales = np.exp(log_scales)
    comp = np.exp(-0.5 * (((z[:, None] - means) / scales) ** 2).sum(-1)) / (
        (2 * np.pi) ** (D / 2) * scales.prod(-1))
    np.testing.assert_allclose(prior.distribution().log_prob(z), np.log(comp @ weights),
                               rtol=1e-5)


def test_continuous_bernoulli_matches_its_normalized_density():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 2, 2, 1)).astype("float32") * 2
    x = rng.random((2, 2, 2, 1)).astype("float32")
    lam = 1 / (1 + np.exp(-logits.astype(np.float64)))
    c = 2 * np.arctanh(1 - 2 * lam) / (1 - 2 * lam)
    expected = np.log(c * lam**x * (1 - lam) ** (1 - x)).sum(axis=(1, 2, 3))
    likelihood = distributions.ContinuousBernoulli()
    np.testing.assert_allclose(likelihood.log_prob(logits, x), expected, rtol=1e-4)
    assert likelihood.binarize is False


def test_discretized_logistic_matches_the_logistic_cdf_with_open_end_bins():
    loc = np.array([[0.5, 0.0, 1.0, 0.2]], "float32").reshape(1, 2, 2, 1)
    raw = np.full_like(loc, -3.0)
    x = np.array([[128, 0, 255, 60]], "float32").reshape(1, 2, 2, 1) / 255
    scale = np.log1p(np.exp(raw.astype(np.float64))) + 1e-3

    def cdf(v):
        return 1 / (1 + np.exp(-(v - 255 * loc) / (255 * scale)))

    k = np.round(x * 255)
    upper = np.where(k == 255, 1.0, cdf(k + 0.5))
    lower = np.where(k == 0, 0.0, cdf(k - 0.5))
    expected = np.log(upper - lower).sum(axis=(1, 2, 3))
    likelihood = distributions.DiscretizedLogistic()
    got = likelihood.log_prob(np.concatenate([loc, raw], -1), x)
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_discretized_logistic_fast_log_prob_equals_tfp_distribution():
    rng = np.random.default_rng(4)
    params = np.concatenate([rng.uniform(-0.5, 1.5, (3, 6, 5, 2)),
                             rng.uniform(-9, 3, (3, 6, 5, 2))], -1).astype("float32")
    x = (rng.integers(0, 256, (3, 6, 5, 2)) / 255).astype("float32")
    x[0, 0, 0] = 0.0, 1.0  # the end bins
    likelihood = distributions.DiscretizedLogistic()
    np.testing.assert_allclose(
        likelihood.log_prob(params, x),
        likelihood.distribution(params).log_prob(np.round(x * 255)), rtol=2e-5)


def test_gaussian_global_scale_is_a_trained_saved_weight(tmp_path):
    model = small_vae(likelihood="gaussian_global")
    before = float(model.likelihood.raw_scale)
    model.fit(binary_images(32) * 0.8 + 0.1, epochs=2, batch_size=8, verbose=0)
    after = float(model.likelihood.raw_scale)
    assert after != before
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert float(loaded.likelihood.raw_scale) == after


# ------------------------------------------------------------------------ bad input


def test_unknown_names_list_the_valid_ones():
    for get, name in ((distributions.get_prior, "prior"),
                      (distributions.get_posterior, "posterior"),
                      (distributions.get_likelihood, "likelihood"),
                      (keras_vae.losses.get_objective, "objective")):
        with pytest.raises(ValueError, match=rf"`{name}` must be one of \["):
            get("nonsense")


def test_a_wrong_event_shape_is_refused_at_construction_with_the_shapes():
    def prior_of_wrong_size():
        return tfd.MultivariateNormalDiag(loc=tf.zeros(5))

    with pytest.raises(ValueError, match=r"`prior`.*event shape \(3,\).*\(5,\)"):
        small_vae(prior=prior_of_wrong_size, compile=False)
    with pytest.raises(ValueError, match=r"`encoder` must output \[z_mean \(batch, 3\), "
                                         r"scale_tril \(batch, 6\)\]"):
        keras_vae.VAE(small_vae(compile=False).encoder, small_vae(compile=False).decoder,
                      posterior="full")


def test_a_user_prior_function_is_used():
    def wide_prior():
        return tfd.MultivariateNormalDiag(loc=tf.zeros(3), scale_diag=2 * tf.ones(3))

    model = small_vae(prior=wide_prior, compile=False)
    assert model.kl_analytic  # MVNDiag against MVNDiag
    x = binary_images(4)
    q = model.posterior_distribution(x)
    np.testing.assert_allclose(model.loss_terms(x, seed=1)["kl_loss"],
                               tfd.kl_divergence(q, wide_prior()), rtol=1e-5)


def test_discretized_likelihood_refuses_data_off_the_8_bit_grid():
    model = small_vae(likelihood="discretized_logistic")
    with pytest.raises(ValueError, match=r"`x` must hold 8-bit images"):
        model.fit(np.full((8, *SHAPE), 0.5013, "float32"), epochs=1, verbose=0)
    model.fit(np.full((8, *SHAPE), 128 / 255, "float32"), epochs=1, verbose=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"components": 0}, "components"), ({"components": 2.5}, "components")])
def test_bad_prior_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        distributions.GaussianMixture(**kwargs)
    with pytest.raises(ValueError, match=match):
        distributions.VampPrior(**kwargs)


def test_bad_flow_arguments():
    with pytest.raises(ValueError, match="flow_steps"):
        distributions.InverseAutoregressiveFlow(flow_steps=0)


@keras.saving.register_keras_serializable(package="keras_vae_tests")
def laplace_likelihood(params):
    return tfd.Independent(tfd.Laplace(params, 0.2), reinterpreted_batch_ndims=3)


@keras.saving.register_keras_serializable(package="keras_vae_tests")
def softplus_diagonal(outputs):
    loc, raw = outputs
    return tfd.MultivariateNormalDiag(loc, tf.nn.softplus(raw) + 1e-3)


def test_user_likelihood_and_posterior_functions_train_and_reload(tmp_path):
    keras.utils.set_random_seed(0)
    posterior = distributions.CallablePosterior(softplus_diagonal, output_sizes=[3, 3])
    model = keras_vae.VAE.from_architecture(SHAPE, 3, hidden_units=[16],
                                            likelihood=laplace_likelihood, posterior=posterior)
    assert model.kl_analytic  # MultivariateNormalDiag against N(0, I)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), steps_per_execution=1)
    x = binary_images(16)
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    terms = model.loss_terms(x, seed=tf.constant([1, 2]))
    q = softplus_diagonal(model.encoder(x))
    z = q.sample(1, seed=tf.constant([1, 2]))[0]
    expected = -laplace_likelihood(model.decoder_params(z)).log_prob(x)
    np.testing.assert_allclose(terms["reconstruction_loss"], expected, rtol=1e-5)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.loss_terms(x, seed=tf.constant([1, 2]))["elbo"],
                               terms["elbo"], rtol=1e-5)
