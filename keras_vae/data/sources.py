"""Image datasets as in-memory arrays scaled to [0, 1], split into train and validation.

Sources: `digits` (scikit-learn's bundled 8x8 handwritten digits, no network), `sprites`
(`keras_vae.data.sprites`: dSprites-like shapes drawn from known factors, no network), `mnist` from
a directory of IDX files or through TensorFlow Datasets, `folder` (a user's folder of image
files, `keras_vae.data.folders`), `arrays` (a `.npy` / `.npz` file), and any TensorFlow
Datasets image dataset by name. `infer_dataset(path)` says which of them a path holds.
"""

import dataclasses
import glob
import os

import numpy as np

from keras_vae.data import folders
from keras_vae.data.idx import read_idx

BUILTIN = ("digits", "sprites", "mnist", "folder", "arrays")
# Images of the sprites dataset drawn for a run, unless `num_images` says otherwise.
SPRITES_IMAGES = 20000
STORAGES = ("auto", "memory", "stream")
# Folder images are held in memory when, as float32, they take at most this share of the
# memory available: the rest is left to the model, its optimizer and the pipeline.
MEMORY_SHARE = 0.25


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

    @property
    def streamed(self) -> bool:
        """Whether the training images stay on disk (`folders.ImageFiles`), decoded anew
        every epoch."""
        return isinstance(self.x_train, folders.ImageFiles)


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
    if n_val >= len(x):
        raise ValueError(
            f"Argument `validation_fraction` must leave training images: {validation_fraction} "
            f"of {len(x)} {source} images holds out {n_val}. Received: "
            f"validation_fraction={validation_fraction}")
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:n_val], order[n_val:]
    y_train, y_val = (None, None) if y is None else (y[train], y[val])
    if isinstance(x, folders.ImageFiles):  # the validation images in memory, the rest as is
        return Splits(name, x.subset(train), y_train, x.subset(val).load(),
                      y_val, _held_out_words(n_val, len(x), source, validation_fraction, seed))
    return Splits(name, x[train], y_train, x[val], y_val,
                  _held_out_words(n_val, len(x), source, validation_fraction, seed))


def _held_out_words(n_val, n, source, validation_fraction, seed):
    return (f"{n_val} of the {n} {source} images held out at random "
            f"(validation_fraction={validation_fraction}, seed={seed})")


def load_digits(validation_fraction=0.1, seed=0) -> Splits:
    """scikit-learn's 1,797 8x8 handwritten digits (grey levels 0-16), bundled, no download."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = _scaled(bunch.images, 16.0)
    return _hold_out("digits", x, bunch.target.astype(np.int64), validation_fraction, seed,
                     "scikit-learn digits")


def load_sprites(num_images=None, validation_fraction=0.1, seed=0) -> Splits:
    """`num_images` (default `SPRITES_IMAGES`) images of `keras_vae.data.Sprites`, their
    factors drawn uniformly with `seed`, without labels; `validation_fraction` held out."""
    from keras_vae.data.sprites import Sprites

    num_images = SPRITES_IMAGES if num_images is None else num_images
    sprites = Sprites()
    if (isinstance(num_images, bool) or not isinstance(num_images, (int, np.integer))
            or not 2 <= num_images <= sprites.num_images):
        raise ValueError(f"Argument `num_images` must be an int in [2, {sprites.num_images}] "
                         f"(the sprites drawn). Received: num_images={num_images!r}")
    images, _ = sprites.sample(int(num_images), seed=seed)
    return _hold_out("sprites", images, None, validation_fraction, seed, "sprites")


# The datasets whose images come with the factors that made them.
WITH_FACTORS = ("sprites",)


def ground_truth(name):
    """The ground-truth dataset of `name` (`WITH_FACTORS`): an object with `factor_names`,
    `factor_sizes`, `sample_factors(n, rng)` and `images(factors)`, what the disentanglement
    metrics draw from (`keras_vae.evaluation.disentanglement`)."""
    if name != "sprites":
        raise ValueError(f"Argument `dataset` must be a dataset with known factors, one of "
                         f"{list(WITH_FACTORS)}, to measure disentanglement. Received: "
                         f"dataset={name!r}")
    from keras_vae.data.sprites import Sprites

    return Sprites()


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


def infer_dataset(data_dir) -> str:
    """The kind of data `data_dir` holds: `"mnist"` (IDX files), `"folder"` (image files),
    `"arrays"` (a `.npy` / `.npz` file); `"digits"` (bundled) for None."""
    if data_dir is None:
        return "digits"
    if not os.path.exists(data_dir):
        raise ValueError(f"Argument `data_dir` must be an existing folder of images or of "
                         f"MNIST IDX files, or a .npy / .npz file. Received: "
                         f"data_dir={data_dir!r}, which does not exist")
    if os.path.isfile(data_dir):
        if data_dir.lower().endswith(folders.ARRAY_EXTENSIONS):
            return "arrays"
        raise ValueError(f"Argument `data_dir` must be a folder, or a file ending in "
                         f"{list(folders.ARRAY_EXTENSIONS)}. Received: data_dir={data_dir!r}")
    if _find(data_dir, "train-images-idx3-ubyte"):
        return "mnist"
    if folders.holds_images(data_dir):
        return "folder"
    present = sorted(os.listdir(data_dir))
    raise ValueError(
        f"Argument `data_dir` must hold image files {list(folders.IMAGE_EXTENSIONS)} (flat or "
        "in class subfolders) or the MNIST IDX file train-images-idx3-ubyte[.gz]. Received: "
        f"data_dir={data_dir!r}, which holds " + (f"{present[:5]}" if present else "nothing"))


def check_source(dataset, data_dir) -> None:
    """Refuses a `dataset` that `data_dir` contradicts (what the path holds is another kind
    of data), naming both. A TensorFlow Datasets name takes `data_dir` as its own data
    directory, which must then hold none of the kinds read here."""
    if dataset in ("digits", "sprites") and data_dir is not None:
        raise ValueError(
            f"Argument `data_dir` does not apply to the {dataset} dataset, which is made in "
            "the package (leave out --dataset to train on what the path holds). Received: "
            f"dataset={dataset!r}, data_dir={data_dir!r}")
    if data_dir is None:
        if dataset in ("folder", "arrays"):
            raise ValueError(f"Argument `data_dir` must name the {dataset} to read for "
                             f"dataset={dataset!r}. Received: data_dir=None")
        return
    if dataset in BUILTIN:
        held = infer_dataset(data_dir)
        if held != dataset:
            raise ValueError(
                f"Argument `dataset` contradicts `data_dir`: {data_dir!r} holds {held} data, "
                f"not {dataset} (leave out --dataset to train on what the path holds). "
                f"Received: dataset={dataset!r}, data_dir={data_dir!r}")
        return
    if os.path.isfile(data_dir) or (os.path.isdir(data_dir) and (
            _find(data_dir, "train-images-idx3-ubyte") or folders.holds_images(data_dir))):
        raise ValueError(
            f"Argument `dataset` contradicts `data_dir`: {data_dir!r} holds "
            f"{infer_dataset(data_dir)} data, while the TensorFlow Datasets name "
            f"{dataset!r} takes data_dir as its download directory. Received: "
            f"dataset={dataset!r}, data_dir={data_dir!r}")


def _validation_path(data_dir, validation_dir):
    """The validation set beside `data_dir`: `validation_dir`, else a sibling `val/` or
    `test/` folder of a folder of images; None when there is none."""
    if validation_dir is not None:
        return validation_dir
    if not os.path.isdir(data_dir):
        return None
    parent = os.path.dirname(os.path.abspath(data_dir))
    for name in ("val", "test"):
        sibling = os.path.join(parent, name)
        if os.path.isdir(sibling) and os.path.abspath(sibling) != os.path.abspath(data_dir):
            return sibling
    return None


def _available_memory() -> int:
    """Bytes of memory available now (Linux: MemAvailable; elsewhere all physical memory)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _held(images, storage, log):
    """`images` (`ImageFiles`) read into memory, or left on disk to be streamed, as `storage`
    says ("auto": in memory when they fit), with a line saying which."""
    size = f"{images.nbytes / 2**20:.0f} MiB as float32"
    if storage == "auto":
        budget = MEMORY_SHARE * _available_memory()
        storage = "memory" if images.nbytes <= budget else "stream"
        reason = (f"within {MEMORY_SHARE:.0%} of the {budget / MEMORY_SHARE / 2**20:.0f} MiB "
                  "available" if storage == "memory" else
                  f"more than {MEMORY_SHARE:.0%} of the {budget / MEMORY_SHARE / 2**20:.0f} MiB "
                  "available")
    else:
        reason = f"image_storage={storage!r}"
    if storage == "memory":
        log(f"Training images: {len(images)} files decoded into memory ({size}, {reason}).")
        return images.load()
    log(f"Training images: {len(images)} files streamed from disk every epoch ({size}, "
        f"{reason}).")
    return images


def load_folder(data_dir, validation_fraction=0.1, seed=0, image_size=None, color_mode=None,
                validation_dir=None, skip_bad_images=False, storage="auto",
                log=print) -> Splits:
    """A folder of images (`folders.scan_folder`), with its validation images from
    `validation_dir` or a sibling `val/` / `test/` folder when there is one, else held out at
    random. The training images are decoded into memory or streamed, as `storage` says."""
    if storage not in STORAGES:
        raise ValueError(f"Argument `image_storage` must be one of {STORAGES}. Received: "
                         f"image_storage={storage!r}")
    images = folders.scan_folder(data_dir, color_mode, image_size, skip_bad_images, log=log)
    name = os.path.basename(os.path.normpath(data_dir))
    val_path = _validation_path(data_dir, validation_dir)
    if val_path is None:
        splits = _hold_out("folder", images, images.labels, validation_fraction, seed,
                           f"{name!r} folder's")
        splits.x_train = _held(splits.x_train, storage, log)
        return splits
    validation = folders.scan_folder(val_path, color_mode, image_size, skip_bad_images,
                                     arg_name="validation_dir", log=log)
    if validation.image_shape != images.image_shape:
        raise ValueError(
            f"Argument `validation_dir` must hold images of the training images' shape "
            f"{images.image_shape}. Received: {val_path!r} of {validation.image_shape}")
    if (validation.class_names or None) != (images.class_names or None):
        raise ValueError(
            "Argument `validation_dir` must hold the training folder's class subfolders "
            f"{images.class_names}. Received: {val_path!r} with {validation.class_names}")
    return Splits("folder", _held(images, storage, log), images.labels, validation.load(),
                  validation.labels, f"the {len(validation)} images of {val_path}")


def load_arrays(path, validation_fraction=0.1, seed=0, array_key=None, labels_key=None,
                validation_dir=None) -> Splits:
    """Images from a `.npy` / `.npz` file (`folders.read_arrays`), validated on
    `validation_dir` (another such file) or a held-out fraction."""
    x, y = folders.read_arrays(path, array_key, labels_key)
    name = os.path.basename(path)
    if validation_dir is None:
        return _hold_out("arrays", x, y, validation_fraction, seed, f"{name!r}")
    x_val, y_val = folders.read_arrays(validation_dir, array_key, labels_key,
                                       arg_name="validation_dir")
    if x_val.shape[1:] != x.shape[1:] or (y is None) != (y_val is None):
        raise ValueError(
            f"Argument `validation_dir` must hold images of the training images' shape "
            f"{x.shape[1:]}{' with labels' if y is not None else ''}. Received: "
            f"{validation_dir!r} with images of {x_val.shape[1:]}"
            f"{' with labels' if y_val is not None else ' without labels'}")
    return Splits("arrays", x, y, x_val, y_val, f"the {len(x_val)} images of {validation_dir}")


def load_all(name, path, image_size=None, color_mode=None, skip_bad_images=False,
             array_key=None, labels_key=None, log=print):
    """Every image of a folder or an array file kept apart (a test set), read as a run's
    training images were (`image_size`, `color_mode`, keys): `(images, labels, words)`."""
    if name == "folder":
        files = folders.scan_folder(path, color_mode, image_size, skip_bad_images, log=log)
        images, labels = files.load(), files.labels
    elif name == "arrays":
        images, labels = folders.read_arrays(path, array_key, labels_key)
    else:
        raise ValueError(f"Argument `data_dir` must be a folder of images or a .npy / .npz "
                         f"file to score whole. Received: {path!r}, which holds {name} data")
    return images, labels, f"every one of the {len(images)} images of {path}"


# Options of the sources that read a user's files, and the sources each applies to.
FILE_OPTIONS = {
    "image_size": ("folder",), "color_mode": ("folder",), "skip_bad_images": ("folder",),
    "image_storage": ("folder",), "validation_dir": ("folder", "arrays"),
    "array_key": ("arrays",), "labels_key": ("arrays",), "num_images": ("sprites",),
}
FILE_OPTION_DEFAULTS = {"image_size": None, "color_mode": None, "skip_bad_images": False,
                        "image_storage": "auto", "validation_dir": None, "array_key": None,
                        "labels_key": None, "num_images": None}


def check_options(dataset, options) -> None:
    """Refuses an option (`FILE_OPTIONS`) given for a source it does not apply to."""
    for key, value in options.items():
        if key not in FILE_OPTIONS:
            raise ValueError(f"Unknown data option {key!r}: expected among "
                             f"{sorted(FILE_OPTIONS)}. Received: {key}={value!r}")
        if value != FILE_OPTION_DEFAULTS[key] and dataset not in FILE_OPTIONS[key]:
            raise ValueError(
                f"Argument `{key}` applies to data read from "
                f"{' or '.join(FILE_OPTIONS[key])} only. Received: {key}={value!r} with "
                f"dataset={dataset!r}")


def load(name=None, data_dir=None, validation_fraction=0.1, seed=0, log=print,
         **options) -> Splits:
    """Loads a dataset: `name` among `available_datasets()` or a TensorFlow Datasets image
    dataset; None infers it from what `data_dir` holds (`infer_dataset`).

    `options` are those of a user's files (`FILE_OPTIONS`: `image_size`, `color_mode`,
    `skip_bad_images`, `image_storage` for folders; `array_key`, `labels_key` for arrays;
    `validation_dir` for both; `num_images` for sprites), each refused for a source it does not apply to.
    """
    name = infer_dataset(data_dir) if name is None else name
    check_source(name, data_dir)
    check_options(name, options)
    given = {**FILE_OPTION_DEFAULTS, **options}
    if name == "digits":
        return load_digits(validation_fraction, seed)
    if name == "sprites":
        return load_sprites(given["num_images"], validation_fraction, seed)
    if name == "mnist":
        return load_mnist(data_dir, validation_fraction, seed)
    if name == "folder":
        return load_folder(data_dir, validation_fraction, seed, given["image_size"],
                           given["color_mode"], given["validation_dir"],
                           given["skip_bad_images"], given["image_storage"], log)
    if name == "arrays":
        return load_arrays(data_dir, validation_fraction, seed, given["array_key"],
                           given["labels_key"], given["validation_dir"])
    import tensorflow_datasets as tfds

    if not isinstance(name, str) or name not in tfds.list_builders():
        raise ValueError(
            f"Argument `dataset` must be one of {list(BUILTIN)} or the name of a TensorFlow "
            f"Datasets image dataset (such as 'fashion_mnist' or 'cifar10'). Received: "
            f"dataset={name!r}"
        )
    return load_tfds(name, data_dir, validation_fraction, seed)
