"""The hierarchical VAE, checked against a two-layer linear-Gaussian model whose marginal p(x),
posterior and moments have closed forms, and against TFP's KL."""

import json
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import keras_vae
from keras_vae import evaluation
from keras_vae.app.commands import train
from tests.helpers import binary_images
from tests.test_evaluation import _bounded_raw

tfd = tfp.distributions
SIGMA = 0.5
D1, D2, DX = 3, 2, 5


def _dense(inputs, units, kernel, bias, name):
    layer = keras.layers.Dense(units, name=name)
    outputs = layer(inputs)
    layer.set_weights([np.asarray(kernel, np.float32), np.asarray(bias, np.float32)])
    return outputs


def linear_hierarchy(broaden=2.0, combiner=0.0):
    """z2 ~ N(0, I), z1 | z2 ~ N(A z2 + a, diag s1^2), x | z1 ~ N(C z1 + c, SIGMA^2 I), as a
    HierarchicalVAE with linear networks, and q close to the exact posterior: q(z2|x) its
    marginal's mean with the diagonal of its covariance times `broaden`, q(z1|z2,x) centred on
    the exact posterior mean of z1 at the posterior mean of z2, variances from the exact
    conditional, times `broaden`. `combiner` scales the top-down half of q's combiner (a
    linear map of z2 added to q(z1)'s mean and log-variance shifts). Returns
    `(model, params)`."""
    rng = np.random.default_rng(0)
    A, a = rng.normal(size=(D1, D2)), rng.normal(size=D1)
    s1 = np.array([0.5, 0.8, 1.2])
    C, c = rng.normal(size=(DX, D1)), rng.normal(size=DX)
    # The joint Gaussian of (z1, z2, x) and the exact posterior p(z1, z2 | x).
    cov_z = np.block([[A @ A.T + np.diag(s1 ** 2), A], [A.T, np.eye(D2)]])  # (z1, z2)
    mean_z = np.concatenate([a, np.zeros(D2)])
    H = np.hstack([C, np.zeros((DX, D2))])  # x = H z + c + noise
    cov_x = H @ cov_z @ H.T + SIGMA ** 2 * np.eye(DX)
    gain = cov_z @ H.T @ np.linalg.inv(cov_x)  # E[z|x] = mean_z + gain (x - H mean_z - c)
    post_cov = cov_z - gain @ H @ cov_z
    # q(z2|x) = N(G2 x + g2, broaden * diag post_cov_22)
    G, g = gain, mean_z - gain @ (H @ mean_z + c)
    cond_var_z1 = np.diag(post_cov[:D1, :D1] - post_cov[:D1, D1:] @ np.linalg.inv(
        post_cov[D1:, D1:]) @ post_cov[D1:, :D1])
    x_in = keras.Input((DX,))
    # the shift of z1: E[z1|x] - (A E[z2|x] + a), linear in x
    shift_kernel = (G[:D1] - A @ G[D1:]).T
    shift_bias = g[:D1] - A @ g[D1:] - a
    outputs = [
        _dense(x_in, D1, shift_kernel, shift_bias, "z1_mean"),
        _dense(x_in, D1, np.zeros((DX, D1)),
               _bounded_raw(np.log(broaden * cond_var_z1 / s1 ** 2)), "z1_log_var"),
        _dense(x_in, D2, G[D1:].T, g[D1:], "z2_mean"),
        _dense(x_in, D2, np.zeros((DX, D2)),
               _bounded_raw(np.log(broaden * np.diag(post_cov[D1:, D1:]))), "z2_log_var"),
    ]
    encoder = keras.Model(x_in, outputs)
    z2_in = keras.Input((D2,))
    Q, R = combiner * rng.normal(size=(D1, D2)), combiner * rng.normal(size=(D1, D2))
    top_down = keras.Model(z2_in, [
        _dense(z2_in, D1, A.T, a, "mean"),
        _dense(z2_in, D1, np.zeros((D2, D1)), _bounded_raw(np.log(s1 ** 2)), "log_var"),
        _dense(z2_in, D1, Q.T, np.zeros(D1), "q_mean"),
        _dense(z2_in, D1, R.T, np.zeros(D1), "q_log_var")])
    z1_in = keras.Input((D1,))
    decoder = keras.Model(z1_in, _dense(z1_in, DX, C.T, c, "params"))
    model = keras_vae.HierarchicalVAE(encoder, decoder, [top_down],
                                      likelihood=keras_vae.Gaussian(scale=SIGMA))
    return model, {"A": A, "a": a, "s1": s1, "C": C, "c": c, "cov_x": cov_x,
                   "mean_x": C @ a + c, "Q": Q, "R": R}


def exact_log_likelihood(params, x):
    diff = x - params["mean_x"]
    cov = params["cov_x"]
    return -0.5 * (np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
                   + np.linalg.slogdet(cov)[1] + DX * math.log(2 * math.pi))


def normal_log_density(z, mean, var):
    return -0.5 * np.sum(np.log(2 * np.pi * var) + (z - mean) ** 2 / var, axis=-1)


def test_importance_sampling_converges_to_the_closed_form_marginal():
    model, params = linear_hierarchy()
    x = np.random.default_rng(1).multivariate_normal(params["mean_x"], params["cov_x"],
                                                     size=30).astype("float32")
    exact = exact_log_likelihood(params, x)
    result = evaluation.importance_sampled_log_likelihood(model, x, k=20000, chunk_size=5000,
                                                          verbose=0)
    # q is 6 nats from the posterior (the ELBO's gap); the estimate within 0.06 of log p(x).
    assert np.max(np.abs(result["log_likelihood"] - exact)) < 0.06
    assert abs(np.mean(result["log_likelihood"] - exact)) < 0.02
    assert np.all(result["elbo"] < exact) and np.mean(exact - result["elbo"]) > 1.0


def test_log_weights_match_the_chain_written_out_in_numpy():
    model, params = linear_hierarchy(combiner=0.3)
    x = np.random.default_rng(2).normal(size=(4, DX)).astype("float32")
    log_w, terms = model.log_importance_weights(x, 6, seed=3)
    z = np.asarray(terms["z"], np.float64)
    z1, z2 = z[..., :D1], z[..., D1:]
    log_p = (normal_log_density(x, z1 @ params["C"].T + params["c"], SIGMA ** 2)
             + normal_log_density(z2, 0.0, 1.0)
             + normal_log_density(z1, z2 @ params["A"].T + params["a"], params["s1"] ** 2))
    # q from the encoder's outputs, read back and put together here
    m1, lv1, m2, lv2 = [np.asarray(o, np.float64) for o in model.encoder(x)]
    lv1, lv2 = 30 * np.tanh(lv1 / 30), 30 * np.tanh(lv2 / 30)
    prior_mean = z2 @ params["A"].T + params["a"]
    shift_mean, shift_log_var = z2 @ params["Q"].T, 30 * np.tanh(z2 @ params["R"].T / 30)
    log_q = (normal_log_density(z2, m2, np.exp(lv2))
             + normal_log_density(z1, prior_mean + m1 + shift_mean,
                                  params["s1"] ** 2 * np.exp(lv1 + shift_log_var)))
    np.testing.assert_allclose(np.asarray(log_w), log_p - log_q, rtol=1e-4, atol=1e-3)


def test_per_layer_kl_matches_tfp_and_free_bits_floor_each_layer():
    model, params = linear_hierarchy(combiner=0.3)
    x = np.random.default_rng(4).normal(size=(5, DX)).astype("float32")
    terms = model.sampled_terms(x, 7, seed=5)
    kl = model.kl_terms(terms)
    m1, lv1, m2, lv2 = [tf.cast(o, tf.float64) for o in model.encoder(x)]
    lv1, lv2 = 30 * tf.tanh(lv1 / 30), 30 * tf.tanh(lv2 / 30)
    z2 = tf.cast(terms["z"], tf.float64)[..., D1:]
    prior_1 = tfd.MultivariateNormalDiag(z2 @ params["A"].T + params["a"],
                                         tf.constant(params["s1"])[None, None] + 0 * z2[..., :1])
    shift_log_var = 30 * tf.tanh(z2 @ params["R"].T / 30)
    q_1 = tfd.MultivariateNormalDiag(prior_1.mean() + m1 + z2 @ params["Q"].T,
                                     params["s1"] * tf.exp(0.5 * (lv1 + shift_log_var)))
    q_2 = tfd.MultivariateNormalDiag(m2, tf.exp(0.5 * lv2))
    expected_1 = tf.reduce_mean(tfd.kl_divergence(q_1, prior_1), axis=0)
    expected_2 = tfd.kl_divergence(q_2, tfd.MultivariateNormalDiag(tf.zeros(D2, tf.float64),
                                                                   tf.ones(D2, tf.float64)))
    np.testing.assert_allclose(kl["kl_z1"], expected_1, rtol=1e-4)
    np.testing.assert_allclose(kl["kl_z2"], expected_2, rtol=1e-4)
    np.testing.assert_allclose(kl["kl_loss"], expected_1 + expected_2, rtol=1e-4)
    # Free bits: a floor above every dimension's KL counts the floor in each of the 5 dims.
    floored = keras_vae.losses.ELBO(free_bits=50.0)(model, x, seed=5)
    np.testing.assert_allclose(floored["loss"] - floored["reconstruction_loss"],
                               50.0 * (D1 + D2), rtol=1e-6)
    # With the IWAE the floor adds what each layer's KL falls short of it, on the same draws.
    floored = keras_vae.losses.IWAE(k=7, free_bits=50.0)(model, x, seed=5)
    np.testing.assert_allclose(floored["loss"] + floored["iwae_bound"],
                               50.0 * (D1 + D2) - (expected_1 + expected_2), rtol=1e-4)


def test_the_elbo_of_many_samples_converges_to_the_mean_log_weight():
    # The ELBO's samples (`mc_samples`, the recipe's 5) average the reconstruction and the
    # analytic KL of z_1 over draws of z_2; the mean log weight (log p - log q, checked against
    # numpy above) estimates the same ELBO by another route. On the same draws the two differ
    # only by the KL's Monte Carlo error (a standard error of 0.02 nats here); with one draw in
    # the loss, the reconstruction's spread (13 nats) would show.
    model, _ = linear_hierarchy(combiner=0.3)
    x = np.random.default_rng(6).normal(size=(3, DX)).astype("float32")
    loss = keras_vae.losses.ELBO(mc_samples=20000)(model, x, seed=8)["loss"]
    log_w, _ = model.log_importance_weights(x, 20000, seed=8)
    np.testing.assert_allclose(-np.asarray(loss), np.mean(np.asarray(log_w), axis=0), atol=0.08)
    one = keras_vae.losses.ELBO(mc_samples=1)(model, x, seed=8)["loss"]
    assert np.max(np.abs(np.asarray(one) - np.asarray(loss))) > 0.05  # one draw is noisier


def test_ancestral_samples_follow_the_chain_moments():
    model, params = linear_hierarchy()
    n = 40000
    z = np.asarray(model.ancestral_sample(n, seed=7), np.float64)
    z1, z2 = z[:, :D1], z[:, D1:]
    A, a, s1 = params["A"], params["a"], params["s1"]
    np.testing.assert_allclose(z2.mean(0), 0.0, atol=4 / math.sqrt(n))
    np.testing.assert_allclose(np.cov(z2.T), np.eye(D2), atol=0.03)
    cov_z1 = A @ A.T + np.diag(s1 ** 2)
    assert np.all(np.abs(z1.mean(0) - a) < 4 * np.sqrt(np.diag(cov_z1) / n)), (z1.mean(0), a)
    np.testing.assert_allclose(np.cov(z1.T), cov_z1, atol=0.03 * np.abs(cov_z1).max())
    # Cov(z1, z2) = A; the images are the decoder means C z1 + c.
    np.testing.assert_allclose(np.cov(z.T)[:D1, D1:], A, atol=0.03 * np.abs(A).max())
    images = np.asarray(model.sample(5, seed=7), np.float64)
    np.testing.assert_allclose(images, z[:5, :D1] @ params["C"].T + params["c"], rtol=1e-4,
                               atol=1e-4)
    held = np.asarray(model.ancestral_sample(n, seed=8, given={2: np.ones((n, D2), "float32")}),
                      np.float64)
    np.testing.assert_array_equal(held[:, D1:], 1.0)  # z1 ~ p(z1 | z2 = 1): N(A 1 + a, s1^2)
    np.testing.assert_allclose(held[:, :D1].mean(0), A.sum(1) + a, atol=4 * s1.max() / math.sqrt(n))
    np.testing.assert_allclose(held[:, :D1].std(0), s1, rtol=0.03)
    with pytest.raises(ValueError, match="`given` must name layers 1..2"):
        model.ancestral_sample(3, given={3: np.ones((3, 1))})
    with pytest.raises(ValueError, match=r"shape \(3, 2\) for layer 2 .* Received: shape \(3, 3\)"):
        model.ancestral_sample(3, given={2: np.ones((3, 3))})


def small_hvae(seed=1, **kwargs):
    keras.utils.set_random_seed(seed)
    kwargs = {"upper_latent_dims": [3, 2], "upper_hidden_units": [8], **kwargs}
    return keras_vae.HierarchicalVAE.from_architecture((8, 8, 1), 4, hidden_units=[16],
                                                       seed=seed, **kwargs)


def test_each_prior_starts_as_a_standard_normal_whatever_the_layer_above_then_learns():
    """p(z_l | z_{l+1}) = N(0, I) at the start (the one-layer VAE's prior), for any z_{l+1};
    after training it depends on z_{l+1}."""
    model = small_hvae()
    z_above = {layer: np.random.default_rng(layer).normal(
        scale=3.0, size=(6, model.latent_sizes[layer])).astype("float32") for layer in (1, 2)}
    for layer, z in z_above.items():
        (mean, log_var), _ = model.top_down_params(layer, z)
        np.testing.assert_array_equal(mean, np.zeros((6, model.latent_sizes[layer - 1])))
        np.testing.assert_array_equal(log_var, np.zeros((6, model.latent_sizes[layer - 1])))
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(binary_images(64), epochs=2, batch_size=16, verbose=0)
    for layer, z in z_above.items():
        (mean, _), _ = model.top_down_params(layer, z)
        assert np.std(np.asarray(mean), axis=0).min() > 1e-4


def test_three_layers_train_with_iwae_save_reload_and_export(tmp_path):
    model = small_hvae(objective=keras_vae.losses.IWAE(k=3))
    assert model.latent_sizes == (4, 3, 2) and model.latent_dim == 9
    x = binary_images(64)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(x, epochs=2, batch_size=16, verbose=0)
    assert {"iwae_bound", "kl_z1", "kl_z2", "kl_z3"} <= set(history.history)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = str(tmp_path / "hvae.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.sample(4, seed=2), model.sample(4, seed=2), atol=1e-6)
    np.testing.assert_allclose(loaded.latent_code(x[:4]), model.latent_code(x[:4]), atol=1e-6)
    assert len(model.encode(x[:2])) == 6
    export_dir = str(tmp_path / "export")
    keras_vae.export_saved_model(model, export_dir)
    served = tf.saved_model.load(export_dir)
    sampled = served.signatures["sample"](n=tf.constant(4), seed=tf.constant(2))["images"]
    np.testing.assert_allclose(sampled, model.sample(4, seed=2), atol=1e-5)
    encoded = served.signatures["encode"](images=tf.constant(x[:2]))
    assert set(encoded) == {f"z{i}_{h}" for i in (1, 2, 3) for h in ("mean", "log_var")}
    elbo = served.signatures["elbo"](images=tf.constant(x[:2]), seed=tf.constant(0))
    np.testing.assert_allclose(elbo["elbo"], model.loss_terms(x[:2], seed=0)["elbo"],
                               rtol=1e-5)


@pytest.mark.parametrize("architecture", ["mlp", "resnet"])
def test_mixed_precision_training_stays_finite(architecture):
    """The MLP on binary images; the residual backbone on colour images with the mixture of
    logistics, its upper layer an MLP on the flattened features."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        if architecture == "mlp":
            model, x = small_hvae(objective=keras_vae.losses.ELBO(free_bits=0.1)), \
                binary_images(64)
        else:
            keras.utils.set_random_seed(1)
            model = keras_vae.HierarchicalVAE.from_architecture(
                (8, 8, 3), 6, architecture="resnet", hidden_units=[8, 16], blocks=1,
                likelihood="logistic_mixture", upper_latent_dims=[4], upper_hidden_units=[16])
            x = (np.random.default_rng(0).integers(0, 256, (32, 8, 8, 3)) / 255).astype(
                "float32")
        model.compile(optimizer=keras.optimizers.Adam(1e-2, global_clipnorm=1.0))
        history = model.fit(x, epochs=2, batch_size=16, verbose=0)
        samples = np.asarray(model.sample(3, seed=0))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert samples.shape == (3, *x.shape[1:]) and np.isfinite(samples).all()


def test_bad_networks_and_settings_are_refused_naming_them():
    model, _ = linear_hierarchy()
    with pytest.raises(ValueError, match=r"to \[mean, log_var, q_mean, q_log_var\] of z1"):
        z2 = keras.Input((D2,))
        keras_vae.HierarchicalVAE(model.encoder, model.decoder, [keras.Model(
            z2, [keras.layers.Dense(D1)(z2), keras.layers.Dense(D1)(z2)])])
    with pytest.raises(ValueError, match="`top_down` must hold 1 network"):
        keras_vae.HierarchicalVAE(model.encoder, model.decoder, [model.top_down[0]] * 2)
    with pytest.raises(ValueError, match="`top_down` must be a non-empty list"):
        keras_vae.HierarchicalVAE(model.encoder, model.decoder, [])
    with pytest.raises(ValueError, match="reparameterization"):
        keras_vae.HierarchicalVAE(model.encoder, model.decoder, model.top_down,
                                  objective=keras_vae.losses.ELBO(gradient="score_function"))
    with pytest.raises(ValueError, match="upper_latent_dims"):
        small_hvae(upper_latent_dims=[3, 0])


def test_the_script_trains_evaluates_and_reloads_an_hvae(tmp_path):
    argv = [
        "--model", "hvae", "--latent-dim", "6", "--hidden-units", "32",
        "--upper-latent-dims", "4", "--upper-hidden-units", "16", "8", "--free-bits", "0.05",
        "--kl-warmup-epochs", "1", "--epochs", "2", "--eval-k", "20",
        "--amortization-images", "10", "--output-dir", str(tmp_path / "run"), "--verbose", "0"]
    run_dir = train.main(argv)
    header = open(os.path.join(run_dir, "history.csv")).readline().strip().split(",")
    assert {"kl_z1", "kl_z2", "val_kl_z1", "val_kl_z2", "kl_weight"} <= set(header)
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["latent_sizes"] == [6, 4] and metrics["latent_dim"] == 10
    assert len(metrics["active_units_per_layer"]) == 2 and len(metrics["kl_per_layer"]) == 2
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["model_settings"]["upper_latent_dims"] == [4]
    assert config["model_settings"]["upper_hidden_units"] == [16, 8]
    # The same command again finds the run complete (its list settings read back equal).
    modified = os.path.getmtime(os.path.join(run_dir, "metrics.json"))
    assert train.main(argv) == run_dir
    assert os.path.getmtime(os.path.join(run_dir, "metrics.json")) == modified
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    assert type(model) is keras_vae.HierarchicalVAE and model.latent_sizes == (6, 4)
    for name in ("samples.png", "layer_samples_z2.png", "reconstructions.png", "report.html"):
        assert os.path.exists(os.path.join(run_dir, name))
