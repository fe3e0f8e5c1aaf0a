import gzip

import numpy as np
import pytest

from keras_vae import data
from keras_vae.data import sources
from tests.helpers import MNIST_DIR, images


def write_idx(path, array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


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
