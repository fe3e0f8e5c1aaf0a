"""tf.data pipelines: seeded shuffle, batches, dynamic binarization, prefetch.

`make_dataset` feeds in-memory images; `stream_dataset` feeds images streamed from disk
(`idx_dataset`, TFRecords, a generator) with a bounded shuffle buffer, so that training
memory does not grow with the dataset.
"""

import numpy as np
import tensorflow as tf

from keras_vae.arguments import check_int
from keras_vae.data.checks import checked_batches
from keras_vae.data.folders import ImageFiles


def binarize(images, seed):
    """Draws x_bin ~ Bernoulli(x) pixel-wise, with a stateless seed of shape (2,).

    Dynamic binarization (Salakhutdinov & Murray 2008): grey levels are read as probabilities
    and a fresh binary image is drawn every time the image is seen.
    """
    noise = tf.random.stateless_uniform(tf.shape(images), seed=seed, dtype=images.dtype)
    return tf.cast(noise < images, images.dtype)


def binarize_once(images, seed=0):
    """One fixed draw of binary images x_bin ~ Bernoulli(x), as a float32 numpy array: how a
    held-out set is binarized for evaluation."""
    images = np.asarray(images, np.float32)
    return (np.random.default_rng(seed).random(images.shape) < images).astype(np.float32)


def _on_images(fn):
    """`fn` applied to the images of a dataset element, `images` or `(images, labels)`."""
    def apply(x, *args):
        if isinstance(x, tuple):
            return (fn(x[0], *args), *x[1:])
        return fn(x, *args)
    return apply


def _check_labels(labels, n):
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"Argument `labels` must be one int per image, shape ({n},). Received: labels of "
            f"shape {labels.shape} and dtype {labels.dtype}")
    return labels


def _check_images(images):
    images = np.asarray(images)
    if images.ndim < 2 or not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            "Argument `images` must be a float array (n, *example_shape) scaled to [0, 1]. "
            f"Received: dtype={images.dtype}, shape={images.shape}"
        )
    if not np.all(np.isfinite(images)):
        raise ValueError("Argument `images` must hold finite values. Received: NaN or inf")
    if images.size and (images.min() < 0 or images.max() > 1):
        raise ValueError(
            "Argument `images` must be scaled to [0, 1]. Received: values in "
            f"[{images.min():g}, {images.max():g}]"
        )
    return images


def labelled_per_batch(batch_size, labelled_share):
    """Labelled images in each batch of `make_dataset` with `labelled_share`: the share of
    the batch, rounded, at least 1 and at most all but one."""
    return min(batch_size - 1, max(1, round(labelled_share * batch_size)))


def count_batches(num_images, batch_size, labels=None, labelled_share=None):
    """Batches per epoch of `make_dataset(images, batch_size, labels=labels,
    labelled_share=labelled_share)` for `num_images` images."""
    if labelled_share is None:
        return -(-num_images // batch_size)
    unlabelled = int((np.asarray(labels) < 0).sum())
    return -(-unlabelled // (batch_size - labelled_per_batch(batch_size, labelled_share)))


def make_dataset(
    images,
    batch_size,
    shuffle=True,
    binarize_images=False,
    resample_each_epoch=True,
    seed=0,
    labels=None,
    first_epoch=0,
    labelled_share=None,
):
    """A batched `tf.data.Dataset` of images for `fit`, `evaluate` and `predict`.

    The images are held as one tensor and every batch is gathered from it by index: an epoch's
    order is one permutation drawn in a single op, not a shuffle buffer filled example by
    example (docs/results/benchmarks.md compares the two).

    Args:
        images: float array `(n, *example_shape)` in [0, 1], or `ImageFiles` (a folder's
            image files, `keras_vae.data.folders`): then streamed, each epoch's batches
            decoded from the files in parallel, in the same seeded order, with memory that
            does not grow with the number of files.
        batch_size: int. Examples per batch (the last batch may be smaller).
        shuffle: bool. Shuffle the whole set, with `seed`, anew every epoch. Defaults to True.
        binarize_images: bool. Dynamic binarization: draw binary images with pixel
            probabilities equal to the grey levels. Defaults to False.
        resample_each_epoch: bool. With binarization, draw new binary images every epoch
            (training) or the same ones every time (a fixed validation set). Defaults to True.
        seed: int. Seed of the shuffling and of the binarization. Defaults to 0.
        labels: int array `(n,)` or None. With labels, batches are `(images, labels)` pairs in
            the same order: Keras' `(x, y)`, what a conditional model (`ConditionalVAE`)
            takes. Defaults to None.
        first_epoch: int >= 0. The epoch (counted from 0) the first iteration draws: a run
            resumed after `first_epoch` finished epochs sees the data an uninterrupted one
            would have seen. Defaults to 0.
        labelled_share: float in (0, 1) or None. With `labels` where -1 marks an unlabelled
            image (`SemiSupervisedVAE`): each batch holds round(labelled_share * batch_size)
            labelled images (at least 1), drawn from the labelled ones reshuffled and cycled,
            and unlabelled ones for the rest; an epoch is one pass through the unlabelled
            images. None: the images in one shuffled order, labelled or not.

    Returns:
        A `tf.data.Dataset` of float32 batches `(batch, *example_shape)` (with labels, pairs
        of them and int32 label batches `(batch,)`). Epoch e (iteration e - first_epoch)
        draws its order and binary images from `(seed, e)` alone.
    """
    files = isinstance(images, ImageFiles)
    images = images if files else _check_images(images)
    _check_batch_size(batch_size)
    check_int("first_epoch", first_epoch, 0)
    n = len(images)
    if labels is not None:
        label_table = tf.constant(_check_labels(labels, n).astype(np.int32))
    if not files:
        table = tf.constant(images.astype(np.float32, copy=False))

    def with_labels(x, indices):
        return x if labels is None else (x, tf.gather(label_table, indices))

    batches = count_batches(n, batch_size)
    if labelled_share is not None:
        if files or labels is None:
            raise ValueError(
                "Argument `labelled_share` applies to images in memory with labels (-1: "
                f"unlabelled). Received: labelled_share={labelled_share} with "
                + ("images streamed from files" if files else "no labels"))
        if not 0 < labelled_share < 1:
            raise ValueError("Argument `labelled_share` must lie in (0, 1). Received: "
                             f"labelled_share={labelled_share}")
        if batch_size < 2:
            raise ValueError(
                "Argument `batch_size` must be at least 2 with `labelled_share` (a labelled and "
                f"an unlabelled image per batch). Received: batch_size={batch_size}")
        known = np.flatnonzero(np.asarray(labels) >= 0)
        unknown = np.flatnonzero(np.asarray(labels) < 0)
        if not len(known) or not len(unknown):
            raise ValueError(
                "Argument `labelled_share` needs labelled and unlabelled images (-1). "
                f"Received: {len(known)} labelled and {len(unknown)} unlabelled")
        per_batch = labelled_per_batch(batch_size, labelled_share)
        rest = batch_size - per_batch
        batches = count_batches(n, batch_size, labels, labelled_share)
        known, unknown = tf.constant(known, tf.int64), tf.constant(unknown, tf.int64)
        cycles = -(-batches * per_batch // int(known.shape[0]))

    def semi_supervised_batches(e):
        """Epoch e's batches: the labelled images in a new order each cycle through them,
        the unlabelled ones in one order, keyed by (seed, e)."""
        key = tf.stack([seed, e])
        # One permutation of the labelled images per cycle: the ranks of uniform draws.
        ranks = tf.argsort(tf.random.stateless_uniform(
            [cycles, int(known.shape[0])], seed=key + tf.constant([0, 1], tf.int64)), axis=1)
        cycled = tf.reshape(tf.gather(known, ranks), [-1])
        unknown_order = tf.random.experimental.stateless_shuffle(unknown, seed=key)

        def batch(step):
            indices = tf.concat([cycled[step * per_batch:(step + 1) * per_batch],
                                 unknown_order[step * rest:(step + 1) * rest]], 0)
            return with_labels(tf.gather(table, indices), indices), step * batch_size
        return tf.data.Dataset.range(batches).map(batch)

    def batches_in(order):
        """The batches of images `order` lists, each with its first position."""
        starts = tf.data.Dataset.range(0, n, batch_size)
        if not files:
            return starts.map(lambda start: (with_labels(
                tf.gather(table, order[start:start + batch_size]),
                order[start:start + batch_size]), start))
        # Decoded in parallel, in order; uint8 until batched.
        decoded = images.uint8_dataset(order).batch(batch_size)
        return tf.data.Dataset.zip(decoded, starts).map(lambda x, start: (with_labels(
            tf.cast(x, tf.float32) / 255.0, order[start:start + batch_size]), start))
    # The epoch is counted by a variable that each new iteration (each epoch of `fit`)
    # advances, and every random draw of an epoch is keyed by (seed, epoch): epoch e has the
    # same order and binary images however the run got there, so a resumed run
    # (`first_epoch`) sees the data an uninterrupted one would have seen.
    epoch = tf.Variable(first_epoch, dtype=tf.int64, trainable=False, name="dataset_epoch")
    seed = tf.constant(seed, tf.int64)

    def next_epoch(_):
        return epoch.assign_add(1) - 1

    @tf.autograph.experimental.do_not_convert  # no Python control flow on tensors
    def batches_of(e):
        if labelled_share is not None:
            return semi_supervised_batches(e).map(
                lambda x, start: (x, tf.stack([seed * 1_000_003 + e, start])))
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n, dtype=tf.int64), seed=tf.stack([seed, e])) if shuffle else tf.range(
                n, dtype=tf.int64)
        draw = e if resample_each_epoch else tf.constant(0, tf.int64)
        return batches_in(order).map(
            lambda x, start: (x, tf.stack([seed * 1_000_003 + draw, start])))

    dataset = tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).map(next_epoch)
    dataset = dataset.flat_map(batches_of)
    if binarize_images:
        dataset = dataset.map(_on_images(binarize),
                              num_parallel_calls=tf.data.AUTOTUNE)
    else:
        dataset = dataset.map(lambda x, key: x)
    # flat_map hides the length; Keras needs it for its progress bar and epoch ends.
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    return dataset


def stream_dataset(
    images,
    batch_size,
    shuffle_buffer=10_000,
    binarize_images=False,
    resample_each_epoch=True,
    seed=0,
):
    """A batched `tf.data.Dataset` of images streamed from a source that is never held whole
    (or of `(images, labels)` pairs, from a source of `(image, label)` pairs).

    Memory is bounded by the shuffle buffer, whatever the number of images: nothing is
    cached, and uint8 images stay uint8 until they are batched.

    Args:
        images: an unbatched `tf.data.Dataset` of images `(*example_shape)`, uint8 in
            [0, 255] (scaled to [0, 1] here, as from `idx_dataset`) or float in [0, 1]; or
            of `(image, label)` pairs, int labels (for a conditional model).
        batch_size: int. Examples per batch (the last batch may be smaller).
        shuffle_buffer: int >= 1. Images in the shuffle buffer, reshuffled every epoch with
            `seed`; 1 keeps the source's order. Defaults to 10,000.
        binarize_images, resample_each_epoch, seed: as in `make_dataset`.

    Returns:
        A `tf.data.Dataset` of float32 batches `(batch, *example_shape)`.
    """
    if not isinstance(images, tf.data.Dataset):
        raise ValueError(
            "Argument `images` must be an unbatched tf.data.Dataset of images (use "
            f"make_dataset for arrays). Received: {type(images).__name__}"
        )
    spec = images.element_spec
    labelled = isinstance(spec, tuple) and len(spec) == 2 and isinstance(
        spec[1], tf.TensorSpec) and spec[1].dtype.is_integer and spec[1].shape.rank == 0
    if labelled:
        spec = spec[0]
    image_dtype = isinstance(spec, tf.TensorSpec) and (spec.dtype == tf.uint8
                                                        or spec.dtype.is_floating)
    if not image_dtype:
        raise ValueError(
            "Argument `images` must yield single uint8 or float image tensors, or (image, "
            "int label) pairs. "
            f"Received: element_spec={spec}"
        )
    _check_batch_size(batch_size)
    check_int("shuffle_buffer", shuffle_buffer, 1)
    if shuffle_buffer > 1:
        images = images.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    maximum = 255.0 if spec.dtype == tf.uint8 else 1.0  # a division keeps 255 / 255 == 1
    def scale(*element):  # a batch of images, or of images and labels
        scaled = tf.cast(element[0], tf.float32) / maximum
        return scaled if len(element) == 1 else (scaled, *element[1:])

    dataset = images.batch(batch_size).map(scale)
    if spec.dtype != tf.uint8:  # uint8 / 255 lies in [0, 1] by construction; floats may not
        # Checked before binarization, which would turn NaN into 0 and 3.0 into 1 silently.
        dataset = checked_batches(dataset, 0.0, 1.0, "Argument `images` of stream_dataset "
                                  "must hold finite values in [0, 1].",
                                  select=lambda x: x[0] if isinstance(x, tuple) else x)
    return _binarized(dataset, binarize_images, resample_each_epoch, seed)


def _check_batch_size(batch_size):
    check_int("batch_size", batch_size, 1)


def _binarized(dataset, binarize_images, resample_each_epoch, seed):
    """Binarizes the batches if asked, then prefetches."""
    if binarize_images:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=resample_each_epoch)
        seeds = seeds.batch(2)
        dataset = tf.data.Dataset.zip(dataset, seeds).map(
            _on_images(binarize), num_parallel_calls=tf.data.AUTOTUNE
        )
    return dataset.prefetch(tf.data.AUTOTUNE)
