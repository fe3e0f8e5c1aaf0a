"""Datasets and tf.data pipelines for keras_vae.

`load(name, ...)` returns in-memory images scaled to [0, 1] with a train and a validation
split; `make_dataset(images, ...)` turns images into a batched, shuffled, optionally
dynamically binarized `tf.data.Dataset`; `stream_dataset(idx_dataset(path)[0], ...)` does the
same for images streamed from disk, in memory that does not grow with the dataset.
"""

from keras_vae.data.idx import idx_dataset, read_idx, write_idx
from keras_vae.data.pipeline import binarize_once, make_dataset, set_epoch, stream_dataset
from keras_vae.data.sources import Splits, available_datasets, load, load_digits, load_mnist

__all__ = [
    "Splits",
    "available_datasets",
    "binarize_once",
    "load",
    "load_digits",
    "load_mnist",
    "make_dataset",
    "set_epoch",
    "idx_dataset",
    "read_idx",
    "stream_dataset",
    "write_idx",
]
