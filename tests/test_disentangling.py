"""The objectives and the model made to disentangle: beta-TCVAE's total correlation against
scipy, DIP-VAE's penalty against numpy's covariance, AnnealedVAE's capacity and its pull on
the KL, FactorVAE's permutation, updates and round trips, and the latent traversals."""

import math

import keras
import numpy as np
import pytest
from scipy import special, stats

import keras_vae
from keras_vae import losses, objectives
from keras_vae.models.factor_vae import permute_dims

from tests.helpers import SHAPE, binary_images, small_vae


def test_total_correlation_is_the_minibatch_weighted_sampling_estimate():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(6, 3)), 0.3 * rng.normal(size=(6, 3))
    z = rng.normal(size=(6, 3))
    # log q(z_id | x_j) from scipy, then Chen et al.'s estimator with N = 1000, M = 6.
    log_q = stats.norm.logpdf(z[:, None], mean[None], np.exp(0.5 * log_var[None]))
    log_nm = math.log(1000 * 6)
    expected = ((special.logsumexp(log_q.sum(-1), axis=1) - log_nm)
                - (special.logsumexp(log_q, axis=1) - log_nm).sum(-1))
    got = objectives.total_correlation(z, mean, log_var, dataset_size=1000)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)
    # Without N the constant (D - 1) log(N M) is left out.
    np.testing.assert_allclose(np.asarray(objectives.total_correlation(z, mean, log_var)),
                               expected - 2 * log_nm, rtol=1e-5)


@pytest.mark.parametrize("variant", ["i", "ii"])
def test_the_dip_penalty_is_that_of_numpys_covariance(variant):
    rng = np.random.default_rng(1)
    mean, log_var = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    covariance = np.cov(mean.T, bias=True)
    if variant == "ii":
        covariance += np.diag(np.exp(log_var).mean(axis=0))
    off = covariance - np.diag(np.diag(covariance))
    expected = 3.0 * np.sum(off ** 2) + 7.0 * np.sum((np.diag(covariance) - 1) ** 2)
    got = objectives.dip_regularizer(mean.astype("float32"), log_var.astype("float32"), 3.0,
                                     7.0, variant)
    assert float(got) == pytest.approx(expected, rel=1e-4)
    assert losses.DIPVAE(variant, lambda_od=2.0).lambda_d == (20.0 if variant == "i" else 2.0)


def test_the_capacity_rises_linearly_then_holds():
    assert float(objectives.capacity(0, 25.0, 100)) == 0.0
    assert float(objectives.capacity(40, 25.0, 100)) == pytest.approx(10.0)
    assert float(objectives.capacity(500, 25.0, 100)) == 25.0
    assert float(objectives.capacity(None, 25.0, 100)) == 25.0


def test_the_annealed_objective_holds_the_kl_at_its_capacity():
    model = small_vae(objective=losses.AnnealedVAE(capacity=3.0, gamma=50.0, capacity_steps=0))
    x = binary_images(256)
    model.fit(x, epochs=12, batch_size=64, verbose=0)
    kl = model.evaluate(x, verbose=0, return_dict=True)["kl_loss"]
    assert kl == pytest.approx(3.0, abs=0.5)
    # The plain ELBO on the same data keeps another KL: the pull is the objective's.
    plain = small_vae()
    plain.fit(x, epochs=12, batch_size=64, verbose=0)
    assert abs(plain.evaluate(x, verbose=0, return_dict=True)["kl_loss"] - 3.0) > 1.0


@pytest.mark.parametrize("objective", [losses.BetaTCVAE(beta=4.0), losses.DIPVAE("ii"),
                                       losses.AnnealedVAE(capacity_steps=10)])
def test_each_objective_trains_reports_its_term_and_round_trips(objective, tmp_path):
    model = small_vae(objective=objective)
    history = model.fit(binary_images(64), epochs=2, batch_size=16, verbose=0).history
    own = objective.metric_names[-1]
    assert own in history and np.isfinite(history["loss"]).all()
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.objective.get_config() == objective.get_config()
    assert type(loaded.objective) is type(objective)


@pytest.mark.parametrize("objective", ["betatcvae", "dipvae"])
def test_objectives_of_the_posteriors_moments_refuse_another_posterior(objective):
    with pytest.raises(ValueError, match=f"objective.*{objective}.*diagonal"):
        small_vae(posterior="full", objective=objective, compile=False)


def test_permuting_dims_shuffles_each_column_on_its_own():
    z = np.arange(200, dtype="float32").reshape(100, 2) * np.array([1.0, -1.0], "float32")
    permuted = np.asarray(permute_dims(z, 3))
    for j in range(2):  # each column keeps its values
        np.testing.assert_array_equal(np.sort(permuted[:, j]), np.sort(z[:, j]))
    # The two columns were perfectly dependent; shuffled apart they are not.
    assert abs(np.corrcoef(permuted.T)[0, 1]) < 0.3


def factor_vae(seed=1):
    keras.utils.set_random_seed(seed)
    model = keras_vae.FactorVAE.from_architecture(
        SHAPE, 3, hidden_units=[16], seed=seed, gamma=5.0,
        discriminator=keras_vae.networks.mlp_discriminator((3,), hidden_units=[16]))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), steps_per_execution=1)
    return model


def test_factor_vae_updates_each_network_with_its_own_loss(tmp_path):
    model = factor_vae()
    x = binary_images(64)
    before = {name: [w.copy() for w in getattr(model, name).get_weights()]
              for name in ("encoder", "decoder", "discriminator")}
    history = model.fit(x, epochs=2, batch_size=16, verbose=0).history
    for key in ("total_correlation", "discriminator_loss", "elbo"):
        assert np.isfinite(history[key]).all()
    for name, start in before.items():
        assert any(not np.allclose(w, s) for w, s in zip(getattr(model, name).get_weights(),
                                                          start)), name
    # The discriminator's loss is the logistic loss of telling z from permuted z: about
    # 2 log 2 for a discriminator that cannot tell them apart.
    assert history["discriminator_loss"][-1] == pytest.approx(2 * math.log(2), abs=0.3)
    path = str(tmp_path / "factor.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.gamma == 5.0
    np.testing.assert_allclose(loaded.predict(x[:8], verbose=0), model.predict(x[:8], verbose=0),
                               atol=1e-6)
    assert loaded.evaluate(x, verbose=0) == pytest.approx(model.evaluate(x, verbose=0))


def test_factor_vae_exports_and_serves(tmp_path):
    import tensorflow as tf

    model = factor_vae()
    x = binary_images(16)
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    path = keras_vae.export_saved_model(model, str(tmp_path / "export"))
    served = tf.saved_model.load(path)
    reconstructions = served.signatures["serving_default"](images=tf.constant(x[:4]))
    np.testing.assert_allclose(list(reconstructions.values())[0].numpy(),
                               model.predict(x[:4], verbose=0), atol=1e-5)


def test_factor_vae_minimizes_gamma_times_the_discriminators_logit():
    """With a discriminator that outputs the sum of z's coordinates, the loss is the ELBO's
    loss plus gamma times that sum at the same draw (the evaluation seed fixes the draw)."""
    model = factor_vae()
    inputs = keras.Input((3,))
    model.discriminator = keras.Model(inputs, keras.ops.sum(inputs, axis=-1, keepdims=True))
    x = binary_images(8)
    terms = model.loss_terms(x, seed=4)
    plain = model.objective(model, x, seed=4)
    z, _ = model.posterior.sample(list(model.encode(x)), 1, seed=4)
    expected = np.asarray(plain["loss"]) + 5.0 * np.asarray(z[0]).sum(-1)
    np.testing.assert_allclose(np.asarray(terms["loss"]), expected, rtol=1e-5)


def test_traversals_change_one_latent_dimension_per_row():
    model = small_vae(latent_dim=3)
    x = binary_images(2)
    values = np.array([-1.0, 0.0, 2.0], "float32")
    decoded = model.latent_traversals(x, values)
    assert decoded.shape == (3, 2, 3, *SHAPE)
    codes = np.asarray(model.latent_code(x))
    z = codes[1].copy()
    z[2] = 2.0  # the second image, dimension 2 at the third value
    np.testing.assert_allclose(decoded[2, 1, 2], np.asarray(model.decode(z[None]))[0],
                               atol=1e-6)
    assert keras_vae.Autoencoder.from_architecture(SHAPE, 2, hidden_units=[8]) \
        .latent_traversals(x, values) is None
