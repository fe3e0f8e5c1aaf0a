import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vae.distributions.likelihoods import Bernoulli, Gaussian, get_likelihood


def test_names_resolve_and_unknown_names_fail_clearly():
    assert isinstance(get_likelihood("bernoulli"), Bernoulli)
    assert isinstance(get_likelihood("Gaussian"), Gaussian)
    with pytest.raises(ValueError, match=r"likelihood.*Received: likelihood='poisson'"):
        get_likelihood("poisson")
    with pytest.raises(TypeError, match="likelihood"):
        get_likelihood(3)


@pytest.mark.parametrize("likelihood", [Bernoulli(), Gaussian(), Gaussian(scale=0.2)])
def test_likelihood_config_round_trip(likelihood):
    clone = get_likelihood(keras.saving.serialize_keras_object(likelihood))
    assert type(clone) is type(likelihood)
    assert clone.get_config() == likelihood.get_config()
    assert clone.num_params == likelihood.num_params


def test_gaussian_log_prob_matches_the_normal_density():
    rng = np.random.default_rng(0)
    loc, raw = rng.normal(size=(2, 3, 3, 1)), rng.normal(size=(2, 3, 3, 1))
    x = rng.normal(size=(2, 3, 3, 1))
    params = np.concatenate([loc, raw], -1).astype("float32")
    scale = np.log1p(np.exp(raw)) + 1e-3
    expected = (-0.5 * ((x - loc) / scale) ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi)).sum(
        axis=(1, 2, 3))
    likelihood = Gaussian()
    np.testing.assert_allclose(likelihood.distribution(params).log_prob(x.astype("float32")), expected,
                               rtol=1e-4)
    np.testing.assert_allclose(likelihood.mean(params), loc, rtol=1e-6)


def test_gaussian_with_a_fixed_scale_takes_one_parameter():
    likelihood = Gaussian(scale=0.5)
    assert likelihood.num_params == 1
    dist = likelihood.distribution(np.zeros((1, 2, 2, 1), "float32"))
    np.testing.assert_allclose(dist.stddev(), 0.5)
    with pytest.raises(ValueError, match="scale"):
        Gaussian(scale=-1.0)


def test_likelihoods_stay_finite_for_extreme_parameters_and_binary_images():
    params = np.array([[[[-1e4], [1e4]], [[0.0], [88.0]]]], "float32")
    for x in (np.zeros_like(params), np.ones_like(params)):
        assert np.isfinite(Bernoulli().distribution(params).log_prob(x)).all()
        gaussian = Gaussian().distribution(np.concatenate([params, -params], -1))
        assert np.isfinite(gaussian.log_prob(x)).all()


@pytest.mark.parametrize("likelihood", [Bernoulli(), Gaussian(), Gaussian(scale=0.3)])
def test_fast_log_prob_equals_tfp_and_broadcasts_over_samples(likelihood):
    rng = np.random.default_rng(2)
    x = (rng.random((3, 4, 4, 1)) > 0.5).astype("float32")
    params = rng.normal(size=(5, 3, 4, 4, likelihood.num_params)).astype("float32") * 3
    fast = np.asarray(likelihood.log_prob(params, x))
    assert fast.shape == (5, 3)
    for s in range(5):
        reference = likelihood.distribution(params[s]).log_prob(x).numpy()
        np.testing.assert_allclose(fast[s], reference, rtol=1e-5)


@pytest.mark.parametrize("likelihood", [Bernoulli(), Gaussian(), Gaussian(scale=0.3)])
def test_fused_log_prob_equals_log_prob_under_xla_for_extreme_parameters(likelihood):
    rng = np.random.default_rng(3)
    x = rng.random((3, 4, 4, 1)).astype("float32")
    x[0] = (x[0] > 0.5)  # binary and grey-level images
    params = rng.normal(size=(5, 3, 4, 4, likelihood.num_params)).astype("float32") * 4
    params[0, 0, 0, :2, 0] = [-100.0, 100.0]  # exp(-|l|) underflows; the formula must not
    reference = np.asarray(likelihood.log_prob(params.astype("float64"), x.astype("float64")))
    fused = tf.function(likelihood.fused_log_prob, jit_compile=True)(params, x).numpy()
    assert fused.shape == (5, 3)
    # float32 sums of 16 terms of up to ~100 nats: 1e-4 relative covers rounding, not a bug.
    np.testing.assert_allclose(fused, reference, rtol=1e-4, atol=1e-4)
