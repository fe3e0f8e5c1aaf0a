#!/usr/bin/env python
"""What an epoch of the hierarchy's recipe costs against the one-layer VAE: the IWAE paper's
one- and two-stochastic-layer MLPs, each with the ELBO of 1 and of 5 samples of z per image,
timed epoch by epoch in one process, the four in turn for several rounds (the first round
is the warm-up: tracing, and not counted). Writes docs/results/hierarchy_step_time.md.

    TF_NUM_INTRAOP_THREADS=1 python benchmarks/hierarchy_step_time.py --rounds 4

The models and settings are those of docs/results/hierarchy.md (batch 100, Adam 2e-3, clip 1 for the
hierarchy, free bits 0.1 falling to 0); the images are the shared MNIST training images,
binarized once. Ratios are to the one-layer model with one sample, measured in the same rounds.
"""

import argparse
import datetime
import os
import platform
import statistics
import time


import keras
import numpy as np

import keras_vae
from keras_vae import data

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MLP = {"hidden_units": [200, 200], "activation": "tanh"}


def build(name, mc_samples, steps_per_epoch):
    """One of the compared models, compiled as `keras-vae train` would for its row."""
    decay = 50 * steps_per_epoch
    if name == "vae":
        model = keras_vae.VAE.from_architecture(
            (28, 28, 1), 50, **MLP, objective=keras_vae.losses.ELBO(mc_samples=mc_samples))
        clip = None
    else:
        model = keras_vae.HierarchicalVAE.from_architecture(
            (28, 28, 1), 100, **MLP, upper_latent_dims=[50], upper_hidden_units=[100, 100],
            objective=keras_vae.losses.ELBO(free_bits=0.1, free_bits_decay_steps=decay,
                                            mc_samples=mc_samples))
        clip = 1.0
    model.compile(keras.optimizers.Adam(2e-3, global_clipnorm=clip))
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.path.join(REPO, "..", "shared", "data",
                                                            "mnist"))
    parser.add_argument("--rounds", type=int, default=4, help="rounds, the first not counted")
    parser.add_argument("--train-images", type=int, default=19345)
    parser.add_argument("--output", default=os.path.join(REPO, "docs", "results", "hierarchy_step_time.md"))
    args = parser.parse_args(argv)
    if args.rounds < 2:
        parser.error(f"--rounds must be at least 2 (the first is the warm-up); got {args.rounds}")
    if args.train_images < 1:
        parser.error(f"--train-images must be at least 1; got {args.train_images}")
    splits = data.load("mnist", args.data_dir, 0.2054, 0)
    images = splits.x_train[:args.train_images]
    x = (images > np.random.default_rng(0).random(images.shape)).astype("float32")
    steps = -(-len(x) // 100)
    keras.utils.set_random_seed(0)
    rows = [("vae", 1), ("vae", 5), ("hvae", 1), ("hvae", 5)]
    models = {row: build(*row, steps) for row in rows}
    seconds = {row: [] for row in rows}
    for round_ in range(args.rounds):
        for row in rows if round_ % 2 else rows[::-1]:
            start = time.perf_counter()
            models[row].fit(x, epochs=1, batch_size=100, verbose=0)
            if round_:
                seconds[row].append(time.perf_counter() - start)
        print(f"round {round_ + 1}: " + ", ".join(
            f"{name} x{k} {seconds[(name, k)][-1]:.1f} s" if round_ else f"{name} x{k} warm-up"
            for name, k in rows), flush=True)
    base = statistics.median(seconds[rows[0]])
    lines = [
        "# An epoch of the hierarchy's recipe against the one-layer VAE",
        "",
        "Written by `python benchmarks/hierarchy_step_time.py` "
        f"(`--rounds {args.rounds}`), {datetime.date.today()}, {platform.processor() or platform.machine()}, "
        f"TF_NUM_INTRAOP_THREADS={os.environ.get('TF_NUM_INTRAOP_THREADS', 'unset')}: "
        f"one epoch of {len(x)} MNIST images, batch 100, each model in turn, "
        f"{args.rounds - 1} timed rounds after a warm-up; median seconds per epoch.",
        "",
        "| model | samples of z per image | seconds per epoch | against one layer, one sample |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, k in rows:
        median = statistics.median(seconds[(name, k)])
        label = "one layer (784-200-200-50)" if name == "vae" else "two layers (the recipe's)"
        lines.append(f"| {label} | {k} | {median:.2f} | {median / base:.2f} |")
    with open(args.output, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[-6:]))


if __name__ == "__main__":
    main()
