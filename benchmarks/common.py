"""What the benchmark programs share: MNIST from IDX files, the settings, one JSON result line.

Kept free of keras_vae so that the references are independent of the package.
"""

import argparse
import gzip
import json
import os
import resource
import sys

import numpy as np

MNIST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                         "data", "mnist")


def load_mnist_images(data_dir=MNIST_DIR, limit=0):
    """The training images of an MNIST IDX directory as float32 `(n, 784)` in [0, 1]; the
    first `limit` of them when `limit` > 0."""
    with gzip.open(os.path.join(data_dir, "train-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    n = min(n, limit) if limit else n
    images = np.frombuffer(raw, np.uint8, count=n * rows * cols, offset=16)
    return (images.reshape(n, rows * cols) / np.float32(255.0)).astype(np.float32)


def parse_args(argv=None, **defaults):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=MNIST_DIR)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after the warm-up")
    parser.add_argument("--warmup-epochs", type=int, default=1)
    parser.add_argument("--hidden", type=int, default=400)
    parser.add_argument("--latent", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0, help="0: the library's default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-images", type=int, default=0, help="0: all of them")
    for key, value in defaults.items():
        parser.add_argument("--" + key.replace("_", "-"), type=type(value), default=value)
    return parser.parse_args(argv)


def peak_memory_mib():
    """Peak resident memory of this process, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def report(**values):
    """Prints the result as one JSON line, the last line of the program's output."""
    values["peak_memory_mib"] = round(peak_memory_mib(), 1)
    sys.stdout.write("RESULT " + json.dumps(values) + "\n")
    sys.stdout.flush()


def make_epoch_timer():
    """A Keras callback recording each epoch's wall time in `.seconds` (imports Keras lazily,
    so that the PyTorch programs never load it)."""
    import time

    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = getattr(self, "seconds", []) + [time.perf_counter() - self.start]

    return EpochTimer()
