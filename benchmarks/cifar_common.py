"""What the CIFAR-10 benchmark programs share: the folder, its held-out split, the settings,
one JSON result line. Kept free of keras_vae so that the PyTorch reference is independent."""

import argparse
import os

import numpy as np

from common import report  # noqa: F401 - re-exported for the programs

CIFAR_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                         "data", "cifar10", "train")
HELD_OUT = 5000


def folder_files(folder):
    """The image files of a class-subfolder tree in the order the package lists them (class
    folders sorted, files sorted), with their class indices."""
    files, labels = [], []
    for index, name in enumerate(sorted(os.listdir(folder))):
        for file in sorted(os.listdir(os.path.join(folder, name))):
            files.append(os.path.join(folder, name, file))
            labels.append(index)
    return files, np.asarray(labels)


def split(n, held_out=HELD_OUT, seed=0):
    """`(train, validation)` indices: the package's held-out split (a seeded permutation, the
    first `held_out` images held out)."""
    order = np.random.default_rng(seed).permutation(n)
    return order[held_out:], order[:held_out]


def parse_args(argv=None, **defaults):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=CIFAR_DIR)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs after the warm-up")
    parser.add_argument("--warmup-epochs", type=int, default=1)
    parser.add_argument("--latent", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-images", type=int, default=0, help="0: all 45,000")
    parser.add_argument("--evaluate", type=int, default=1,
                        help="score the held-out images at the end (bits/dim)")
    for key, value in defaults.items():
        parser.add_argument("--" + key.replace("_", "-"), type=type(value), default=value)
    return parser.parse_args(argv)
