import numpy as np
import pytest
import tensorflow as tf

from keras_vae import data
from keras_vae.data import sources
from keras_vae.data.idx import write_idx
from tests.helpers import MNIST_DIR, images, small_vae


def fake_mnist_dir(tmp_path, n=50, with_test=False):
    rng = np.random.default_rng(0)
    write_idx(str(tmp_path / "train-images-idx3-ubyte.gz"), rng.integers(0, 256, (n, 28, 28)))
    write_idx(str(tmp_path / "train-labels-idx1-ubyte.gz"), rng.integers(0, 10, n))
    if with_test:
        write_idx(str(tmp_path / "t10k-images-idx3-ubyte"), rng.integers(0, 256, (7, 28, 28)))
        write_idx(str(tmp_path / "t10k-labels-idx1-ubyte"), rng.integers(0, 10, 7))
    return str(tmp_path)


def test_read_idx_round_trips_and_rejects_truncated_files(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    for name in ("a-idx3-ubyte", "a-idx3-ubyte.gz"):
        write_idx(str(tmp_path / name), array)
        np.testing.assert_array_equal(data.read_idx(str(tmp_path / name)), array)
    raw = (tmp_path / "a-idx3-ubyte").read_bytes()
    (tmp_path / "cut-idx3-ubyte").write_bytes(raw[:-5])
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(str(tmp_path / "cut-idx3-ubyte"))


def test_mnist_directory_without_test_files_holds_out_a_seeded_validation_split(tmp_path):
    splits = data.load_mnist(fake_mnist_dir(tmp_path), validation_fraction=0.2, seed=3)
    assert splits.x_train.shape == (40, 28, 28, 1) and splits.x_val.shape == (10, 28, 28, 1)
    assert splits.x_train.dtype == np.float32
    assert 0.0 <= splits.x_train.min() and splits.x_train.max() <= 1.0
    assert "held out" in splits.validation
    again = data.load_mnist(str(tmp_path), validation_fraction=0.2, seed=3)
    np.testing.assert_array_equal(again.x_val, splits.x_val)


def test_mnist_directory_with_test_files_uses_the_test_split(tmp_path):
    splits = data.load_mnist(fake_mnist_dir(tmp_path, with_test=True))
    assert len(splits.x_train) == 50 and len(splits.x_val) == 7
    assert "t10k" in splits.validation


def test_real_shared_mnist_is_read_in_full():
    splits = data.load("mnist", MNIST_DIR)
    assert len(splits.x_train) + len(splits.x_val) == 24345
    assert splits.image_shape == (28, 28, 1)
    assert set(np.unique(splits.y_train)) == set(range(10))


def test_missing_or_empty_data_directory_fails_clearly(tmp_path):
    with pytest.raises(ValueError, match=r"`data_dir`.*does not exist"):
        data.load("mnist", str(tmp_path / "nowhere"))
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(ValueError, match=r"`data_dir` must hold .*train-images.*notes.txt"):
        data.load("mnist", str(tmp_path))


def test_bundled_digits_need_no_download():
    splits = data.load("digits")
    assert splits.image_shape == (8, 8, 1)
    assert len(splits.x_train) + len(splits.x_val) == 1797
    assert splits.x_train.max() == 1.0 and splits.x_train.min() == 0.0


def test_unknown_dataset_name_fails_clearly():
    with pytest.raises(ValueError, match=r"`dataset`.*Received: dataset='not_a_dataset'"):
        data.load("not_a_dataset")


def test_mnist_without_directory_and_other_names_go_through_tfds(monkeypatch):
    calls = []
    monkeypatch.setattr(sources, "load_tfds", lambda name, *a, **k: calls.append(name) or name)
    assert data.load("mnist") == "mnist"
    assert data.load("fashion_mnist") == "fashion_mnist"
    assert calls == ["mnist", "fashion_mnist"]


def test_tfds_arrays_are_scaled_and_split(monkeypatch):
    import tensorflow_datasets as tfds

    class FakeBuilder:
        class info:
            splits = {"train": None, "test": None}

        def download_and_prepare(self):
            pass

        def as_dataset(self, split, batch_size, as_supervised):
            n = 6 if split == "train" else 2
            return (np.full((n, 4, 4, 3), 255, np.uint8), np.arange(n))

    monkeypatch.setattr(tfds, "builder", lambda name, data_dir=None: FakeBuilder())
    monkeypatch.setattr(tfds, "as_numpy", lambda x: x)
    splits = sources.load_tfds("cifar10")
    assert splits.x_train.shape == (6, 4, 4, 3) and splits.x_val.shape == (2, 4, 4, 3)
    assert splits.x_train.max() == 1.0 and "test" in splits.validation


def _epochs(dataset, n=2):
    return [np.concatenate([b.numpy() for b in dataset]) for _ in range(n)]


def test_dynamic_binarization_is_resampled_every_epoch():
    x = np.full((400, 4, 4, 1), 0.3, "float32")
    first, second = _epochs(data.make_dataset(x, 100, shuffle=False, binarize_images=True))
    assert set(np.unique(first)) == {0.0, 1.0}
    assert abs(first.mean() - 0.3) < 0.02
    assert (first != second).mean() > 0.3
    fixed = data.make_dataset(x, 100, shuffle=False, binarize_images=True,
                              resample_each_epoch=False)
    np.testing.assert_array_equal(*_epochs(fixed))


def test_shuffle_is_seeded_and_new_every_epoch():
    x = images(50, shape=(2, 2, 1))
    a1, a2 = _epochs(data.make_dataset(x, 10, seed=4))
    b1, _ = _epochs(data.make_dataset(x, 10, seed=4))
    np.testing.assert_array_equal(a1, b1)
    assert not np.array_equal(a1, a2)
    np.testing.assert_allclose(np.sort(a1.ravel()), np.sort(x.ravel()))  # nothing lost


def test_pipeline_rejects_bad_images_and_batch_sizes():
    with pytest.raises(ValueError, match=r"`images` must be scaled to \[0, 1\].*255"):
        data.make_dataset(np.full((4, 2, 2, 1), 255.0, "float32"), 2)
    with pytest.raises(ValueError, match="`batch_size`"):
        data.make_dataset(images(4), 0)


@pytest.mark.parametrize("name", ["s-idx3-ubyte", "s-idx3-ubyte.gz"])
def test_idx_dataset_streams_the_records_read_idx_reads(tmp_path, name):
    array = np.random.default_rng(1).integers(0, 256, (37, 5, 6)).astype(np.uint8)
    path = str(tmp_path / name)
    write_idx(path, array)
    dataset, shape = data.idx_dataset(path)
    assert shape == (37, 5, 6)
    streamed = np.stack([x.numpy() for x in dataset])
    assert streamed.dtype == np.uint8 and streamed.shape == (37, 5, 6, 1)
    np.testing.assert_array_equal(streamed[..., 0], data.read_idx(path))


def test_stream_dataset_scales_shuffles_and_binarizes_without_losing_images(tmp_path):
    array = np.random.default_rng(2).integers(0, 256, (250, 4, 4)).astype(np.uint8)
    write_idx(str(tmp_path / "a-idx3-ubyte.gz"), array)
    source, _ = data.idx_dataset(str(tmp_path / "a-idx3-ubyte.gz"))
    in_order = np.concatenate([b.numpy() for b in data.stream_dataset(source, 64,
                                                                       shuffle_buffer=1)])
    assert in_order.dtype == np.float32 and in_order.shape == (250, 4, 4, 1)
    np.testing.assert_allclose(in_order[..., 0], array / 255.0, rtol=1e-6)
    assert in_order.max() == 1.0  # 255 scales to exactly 1: a Bernoulli likelihood accepts it
    first, second = _epochs(data.stream_dataset(source, 64, shuffle_buffer=100, seed=3))
    assert not np.array_equal(first, second)
    np.testing.assert_allclose(np.sort(first.ravel()), np.sort(in_order.ravel()), rtol=1e-6)
    grey = tf.data.Dataset.from_tensor_slices(np.full((400, 4, 4, 1), 0.3, "float32"))
    first, second = _epochs(data.stream_dataset(grey, 100, binarize_images=True))
    assert set(np.unique(first)) == {0.0, 1.0} and abs(first.mean() - 0.3) < 0.02
    assert (first != second).mean() > 0.3


def test_stream_dataset_rejects_bad_arguments(tmp_path):
    grey = tf.data.Dataset.from_tensor_slices(images(4))
    with pytest.raises(ValueError, match=r"`images` must be an unbatched tf.data.Dataset.*ndarray"):
        data.stream_dataset(images(4), 2)
    with pytest.raises(ValueError, match=r"`images` must yield single uint8 or float.*int32"):
        data.stream_dataset(tf.data.Dataset.range(4).map(lambda i: tf.cast(i, tf.int32)), 2)
    with pytest.raises(ValueError, match=r"`shuffle_buffer` must be an int >= 1.*0"):
        data.stream_dataset(grey, 2, shuffle_buffer=0)
    with pytest.raises(ValueError, match="`batch_size`"):
        data.stream_dataset(grey, 0)
    labels = str(tmp_path / "labels-idx1-ubyte")
    data.write_idx(labels, np.arange(10))  # one dimension: labels, not records
    with pytest.raises(ValueError, match=r"`path` must name a uint8 IDX file of records.*\(10,\)"):
        data.idx_dataset(labels)
    with pytest.raises(ValueError, match=r"`path` must name an existing IDX file.*nowhere"):
        data.idx_dataset(str(tmp_path / "nowhere-idx3-ubyte"))
    with pytest.raises(ValueError, match=r"`array` must hold integers in \[0, 255\].*float"):
        data.write_idx(str(tmp_path / "scaled-idx3-ubyte"), images(4))


def test_a_vae_fits_on_images_streamed_from_an_idx_file(tmp_path):
    path = str(tmp_path / "s-idx3-ubyte.gz")
    write_idx(path, np.random.default_rng(3).integers(0, 256, (96, 8, 8)))
    source, _ = data.idx_dataset(path)
    model = small_vae()
    history = model.fit(data.stream_dataset(source, 32, binarize_images=True), epochs=2,
                        verbose=0)
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))


def test_unshuffled_batches_keep_the_order_and_the_last_partial_batch():
    x = images(50, shape=(2, 2, 1))
    dataset = data.make_dataset(x, 16, shuffle=False)
    assert int(dataset.cardinality()) == 4  # known: Keras' progress bar and epochs need it
    batches = list(dataset)
    assert [len(b) for b in batches] == [16, 16, 16, 2]
    np.testing.assert_array_equal(np.concatenate(batches), x)
    shuffled = np.concatenate(list(data.make_dataset(x, 16)))
    assert not np.array_equal(shuffled, x)
    np.testing.assert_array_equal(np.sort(shuffled, axis=0), np.sort(x, axis=0))
