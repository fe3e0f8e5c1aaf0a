import keras
import numpy as np
import pytest

from keras_vae import Sampling


def test_sampling_draws_from_the_posterior():
    mu = np.full((20000, 2), [1.0, -2.0], "float32")
    log_var = np.full((20000, 2), [0.0, np.log(0.25)], "float32")
    z = np.asarray(Sampling(seed=3)([mu, log_var]))
    np.testing.assert_allclose(z.mean(0), [1.0, -2.0], atol=0.03)
    np.testing.assert_allclose(z.std(0), [1.0, 0.5], atol=0.03)


def test_sampling_is_reproducible_for_a_seed_and_fresh_at_every_call():
    mu, log_var = np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")
    a, b = Sampling(seed=7), Sampling(seed=7)
    first_a, first_b = np.asarray(a([mu, log_var])), np.asarray(b([mu, log_var]))
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.allclose(first_a, np.asarray(a([mu, log_var])))


def test_sampling_config_round_trip():
    layer = Sampling(seed=5, name="s")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(clone, Sampling)
    assert clone.get_config() == layer.get_config()
    assert clone.seed == 5


def test_sampling_rejects_a_non_integer_seed():
    with pytest.raises(TypeError, match="seed"):
        Sampling(seed="one")
