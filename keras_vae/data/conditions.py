"""Examples that carry a condition: `{"images": (n, ...), "labels": (n,)}`.

A conditional model (`keras_vae.ConditionalVAE`) takes its inputs as such a dict; an
unconditional one takes the images alone. These helpers let evaluation and plotting code
slice and batch either form the same way.
"""

import numpy as np
import tensorflow as tf

IMAGES, LABELS = "images", "labels"


def conditioned(images, labels):
    """The dict a conditional model takes: `{"images": images, "labels": labels}`."""
    return {IMAGES: images, LABELS: labels}


def images_of(x):
    """The images of `x` (a dict of images and labels, or images)."""
    return x[IMAGES] if isinstance(x, dict) else x


def num_examples(x):
    return len(images_of(x))


def take(x, start, stop):
    """Examples `start:stop` of `x`, in the same form."""
    if isinstance(x, dict):
        return {key: value[start:stop] for key, value in x.items()}
    return x[start:stop]


def as_tensors(x):
    """`x` as the model takes it: float32 images, int32 labels."""
    if isinstance(x, dict):
        return {IMAGES: tf.constant(np.asarray(x[IMAGES], np.float32)),
                LABELS: tf.constant(np.asarray(x[LABELS], np.int32))}
    return tf.constant(np.asarray(x, np.float32))


def batches(x, batch_size):
    """`x` in batches of `batch_size` examples, as tensors."""
    for start in range(0, num_examples(x), batch_size):
        yield as_tensors(take(x, start, start + batch_size))


def model_examples(model, images, labels):
    """What `model` takes for `images`: with their labels for a conditional model (which
    refuses to go without them), the images alone otherwise."""
    if not getattr(model, "conditional", False):
        return images
    if labels is None:
        raise ValueError(
            f"Argument `labels` must be given for the conditional {type(model).__name__}: it "
            "encodes and decodes each image with its label. Received: labels=None")
    return conditioned(images, labels)


def keep_labels_per_class(labels, per_class, seed=0):
    """`labels` with all but `per_class` of each class's replaced by -1 (unlabelled): a
    balanced random draw, seeded, the way semi-supervised benchmarks keep N labels per class
    (Kingma et al. 2014: 100 labels of MNIST are 10 per digit).

    Args:
        labels: int array `(n,)`, classes 0..C-1.
        per_class: int >= 1. Labels kept of each class.
        seed: int. Which images keep theirs.

    Returns:
        int64 array `(n,)`: the kept labels, -1 elsewhere.
    """
    from keras_vae.arguments import check_int

    check_int("labels_per_class", per_class, 1)
    if labels is None:
        raise ValueError("Argument `labels_per_class` needs labelled images (class subfolders, "
                         "MNIST's label file, an .npz with labels). Received: images without "
                         "labels")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    kept = np.full(len(labels), -1, np.int64)
    for label in np.unique(labels[labels >= 0]):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise ValueError(
                f"Argument `labels_per_class` must be at most the images of every class. "
                f"Received: labels_per_class={per_class} with {len(members)} image(s) of "
                f"class {int(label)}")
        chosen = rng.choice(members, per_class, replace=False)
        kept[chosen] = label
    return kept
