"""Property-based tests (hypothesis) of the data pipeline and the input checks: random shapes,
dtypes and values (issue 11)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from keras_vae import data
from keras_vae.distributions.likelihoods import Bernoulli, Gaussian
from keras_vae.models.input_checks import check_in_memory

FEW = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FEW
@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), height=st.integers(1, 5),
       channels=st.integers(1, 3), seed=st.integers(0, 2**31 - 1))
def test_an_epoch_holds_every_image_exactly_once(n, batch_size, height, channels, seed):
    images = np.random.default_rng(seed).random((n, height, 3, channels)).astype("float32")
    dataset = data.make_dataset(images, batch_size, seed=seed)
    for _ in range(2):  # two epochs, two orders, the same images
        batches = [b.numpy() for b in dataset]
        assert len(batches) == -(-n // batch_size) == int(dataset.cardinality())
        assert all(len(b) == batch_size for b in batches[:-1])
        seen = np.concatenate(batches)
        order = np.lexsort(seen.reshape(n, -1).T)
        expected = np.lexsort(images.reshape(n, -1).T)
        np.testing.assert_array_equal(seen[order], images[expected])


@settings(FEW, max_examples=10)  # each example walks up to 5 epochs of two pipelines
@given(n=st.integers(1, 40), batch_size=st.integers(1, 50), seed=st.integers(0, 1000),
       epoch=st.integers(0, 5))
def test_an_epoch_is_the_same_whichever_way_it_is_reached(n, batch_size, seed, epoch):
    images = np.random.default_rng(seed).random((n, 4, 4, 1)).astype("float32")
    walked = data.make_dataset(images, batch_size, binarize_images=True, seed=seed)
    for _ in range(epoch):
        list(walked)
    jumped = data.make_dataset(images, batch_size, binarize_images=True, seed=seed,
                               first_epoch=epoch)
    for a, b in zip(walked, jumped):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=32)


@FEW
@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64, np.float16]),
                    hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=4),
                    elements=finite_or_not))
def test_the_input_check_accepts_exactly_the_finite_values_in_the_support(x):
    likelihood = Bernoulli()
    shape = x.shape[1:]
    valid = np.all(np.isfinite(x)) and x.min() >= 0 and x.max() <= 1
    if valid:
        check_in_memory(x, shape, likelihood, "x")
    else:
        with pytest.raises(ValueError, match=r"Argument `x` must hold (finite|values in)"):
            check_in_memory(x, shape, likelihood, "x")


@FEW
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4),
       expected=hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=4))
def test_the_input_check_refuses_other_shapes_naming_both(shape, expected):
    x = np.zeros((2, *shape), "float32")
    if tuple(shape) == tuple(expected):
        check_in_memory(x, expected, Gaussian(), "x")
    else:
        with pytest.raises(ValueError, match=r"examples of shape .*Received"):
            check_in_memory(x, expected, Gaussian(), "x")


@FEW
@given(dtype=st.sampled_from([np.uint8, np.int32, np.bool_, np.complex64, object]))
def test_make_dataset_refuses_non_float_images_naming_the_dtype(dtype):
    images = np.zeros((3, 2, 2, 1), dtype=dtype)
    with pytest.raises(ValueError, match="float array"):
        data.make_dataset(images, 2)
