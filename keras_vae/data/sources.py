"""Image datasets as in-memory arrays scaled to [0, 1], split into train and validation.

Sources: `digits` (scikit-learn's bundled 8x8 handwritten digits, no network), `mnist` from
a directory of IDX files or through TensorFlow Datasets, and any TensorFlow Datasets image
dataset by name.
"""

import dataclasses
import glob
import os

import numpy as np

from keras_vae.data.idx import read_idx

BUILTIN = ("digits", "mnist")


@dataclasses.dataclass
class Splits:
    """A dataset split in two, images `(n, height, width, channels)` float32 in [0, 1].

    Attributes:
        name: str. The dataset's name.
        x_train, y_train: training images and labels (labels may be None).
        x_val, y_val: validation images and labels.
        validation: str. Where the validation images come from, in words.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    validation: str

    @property
    def image_shape(self):
        return tuple(self.x_train.shape[1:])


def _scaled(images, maximum):
    images = np.asarray(images, dtype=np.float32) / np.float32(maximum)
    return images[..., None] if images.ndim == 3 else images


def _check_fraction(validation_fraction):
    if not (isinstance(validation_fraction, float) and 0.0 < validation_fraction < 1.0):
        raise ValueError(
            "Argument `validation_fraction` must be a float in (0, 1). "
            f"Received: validation_fraction={validation_fraction!r}"
        )


def _hold_out(name, x, y, validation_fraction, seed, source):
    _check_fraction(validation_fraction)
    n_val = max(1, int(round(len(x) * validation_fraction)))
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:n_val], order[n_val:]
    y_train, y_val = (None, None) if y is None else (y[train], y[val])
    validation = (
        f"{n_val} of the {len(x)} {source} images held out at random "
        f"(validation_fraction={validation_fraction}, seed={seed})"
    )
    return Splits(name, x[train], y_train, x[val], y_val, validation)


def load_digits(validation_fraction=0.1, seed=0) -> Splits:
    """scikit-learn's 1,797 8x8 handwritten digits (grey levels 0-16), bundled, no download."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = _scaled(bunch.images, 16.0)
    return _hold_out("digits", x, bunch.target.astype(np.int64), validation_fraction, seed,
                     "scikit-learn digits")


def _find(data_dir, stem):
    for suffix in (".gz", ""):
        path = os.path.join(data_dir, stem + suffix)
        if os.path.isfile(path):
            return path
    return None


def load_mnist(data_dir=None, validation_fraction=0.1, seed=0) -> Splits:
    """MNIST from a directory of IDX files, or through TensorFlow Datasets when `data_dir` is None.

    The directory must hold `train-images-idx3-ubyte[.gz]` (and, optionally,
    `train-labels-idx1-ubyte[.gz]`). When `t10k-images-idx3-ubyte[.gz]` is there too, it is the
    validation split; otherwise `validation_fraction` of the training images is held out at
    random with `seed`.
    """
    if data_dir is None:
        return load_tfds("mnist", validation_fraction=validation_fraction, seed=seed)
    if not os.path.isdir(data_dir):
        raise ValueError(
            "Argument `data_dir` must be an existing directory holding MNIST IDX files. "
            f"Received: data_dir={data_dir!r}, which does not exist"
        )
    train_images = _find(data_dir, "train-images-idx3-ubyte")
    if train_images is None:
        present = sorted(os.path.basename(p) for p in glob.glob(os.path.join(data_dir, "*")))
        raise ValueError(
            "Argument `data_dir` must hold the MNIST IDX file train-images-idx3-ubyte[.gz]. "
            f"Received: data_dir={data_dir!r} holding {present or 'nothing'}"
        )
    x = _scaled(read_idx(train_images), 255.0)
    y = _labels_for(x, train_images, _find(data_dir, "train-labels-idx1-ubyte"))
    test_images = _find(data_dir, "t10k-images-idx3-ubyte")
    if test_images is None:
        return _hold_out("mnist", x, y, validation_fraction, seed, "MNIST training")
    x_val = _scaled(read_idx(test_images), 255.0)
    y_val = _labels_for(x_val, test_images, _find(data_dir, "t10k-labels-idx1-ubyte"))
    return Splits("mnist", x, y, x_val, y_val,
                  f"the {len(x_val)} MNIST test images (t10k-* files)")


def _labels_for(images, images_path, labels_path):
    """The labels file's labels, checked to be one per image; None without a labels file."""
    if labels_path is None:
        return None
    labels = read_idx(labels_path).astype(np.int64)
    if labels.shape != (len(images),):
        raise ValueError(
            f"IDX labels file {labels_path!r} must hold one label per image of "
            f"{images_path!r} ({len(images)} images). Received: labels of shape {labels.shape}")
    return labels


def load_tfds(name, data_dir=None, validation_fraction=0.1, seed=0) -> Splits:
    """An image dataset of TensorFlow Datasets, with its `test` split for validation if any.

    Downloads through TensorFlow Datasets on first use (into `data_dir` if given).
    """
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=data_dir)
    builder.download_and_prepare()
    splits = builder.info.splits
    train = tfds.as_numpy(builder.as_dataset(split="train", batch_size=-1, as_supervised=True))
    x, y = _scaled(train[0], 255.0), np.asarray(train[1], dtype=np.int64)
    if "test" not in splits:
        return _hold_out(name, x, y, validation_fraction, seed, f"{name} training")
    test = tfds.as_numpy(builder.as_dataset(split="test", batch_size=-1, as_supervised=True))
    x_val, y_val = _scaled(test[0], 255.0), np.asarray(test[1], dtype=np.int64)
    return Splits(name, x, y, x_val, y_val, f"the {len(x_val)} {name} test images (TFDS)")


def available_datasets() -> list:
    """Built-in names; any TensorFlow Datasets image dataset name is accepted as well."""
    return list(BUILTIN)


def load(name, data_dir=None, validation_fraction=0.1, seed=0) -> Splits:
    """Loads dataset `name` ("digits", "mnist" or a TensorFlow Datasets image dataset)."""
    if name == "digits":
        return load_digits(validation_fraction, seed)
    if name == "mnist":
        return load_mnist(data_dir, validation_fraction, seed)
    import tensorflow_datasets as tfds

    if not isinstance(name, str) or name not in tfds.list_builders():
        raise ValueError(
            f"Argument `dataset` must be one of {list(BUILTIN)} or the name of a TensorFlow "
            f"Datasets image dataset (such as 'fashion_mnist' or 'cifar10'). Received: "
            f"dataset={name!r}"
        )
    return load_tfds(name, data_dir, validation_fraction, seed)
