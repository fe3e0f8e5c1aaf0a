"""Datasets and tf.data pipelines for keras_vae.

`load(name, ...)` returns images scaled to [0, 1] with a train and a validation
split; `make_dataset(images, ...)` turns images into a batched, shuffled, optionally
dynamically binarized `tf.data.Dataset` (of a folder's files, `ImageFiles`, decoded as
it goes); `stream_dataset(idx_dataset(path)[0], ...)` does the
same for images streamed from disk, in memory that does not grow with the dataset.
"""

from keras_vae.data.idx import idx_dataset, read_idx, write_idx
from keras_vae.data.pipeline import binarize_once, count_batches, make_dataset, stream_dataset
from keras_vae.data.folders import (
    COLOR_MODES,
    IMAGE_EXTENSIONS,
    ImageFiles,
    check_image_size,
    read_arrays,
    scan_folder,
)
from keras_vae.data.sprites import Sprites
from keras_vae.data.sources import (
    FILE_OPTIONS,
    STORAGES,
    Splits,
    available_datasets,
    check_options,
    check_source,
    ground_truth,
    infer_dataset,
    load,
    load_all,
    load_arrays,
    load_digits,
    load_folder,
    load_mnist,
)

__all__ = [
    "COLOR_MODES",
    "FILE_OPTIONS",
    "IMAGE_EXTENSIONS",
    "ImageFiles",
    "STORAGES",
    "Splits",
    "Sprites",
    "check_image_size",
    "check_options",
    "check_source",
    "ground_truth",
    "infer_dataset",
    "load_all",
    "load_arrays",
    "load_folder",
    "read_arrays",
    "scan_folder",
    "available_datasets",
    "binarize_once",
    "load",
    "load_digits",
    "load_mnist",
    "count_batches",
    "make_dataset",
    "idx_dataset",
    "read_idx",
    "stream_dataset",
    "write_idx",
]
