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
