#!/usr/bin/env python
"""A quick screen of the hierarchical VAE's training settings: a few epochs of the IWAE paper's
two-layer MLP on the shared MNIST, printing each epoch's reconstruction loss and the KL of
each layer (nats, training batches' means).

    python benchmarks/hierarchy_screen.py --epochs 8 --clip-norm 1 --free-bits 0.1

It shows whether a setting leaves the 208-nat plateau where the decoder ignores z (the
pixels' marginals) and how fast; the held-out importance-sampled log-likelihood, not this
screen, decides a recipe (experiments/compare_hierarchy.py). docs/results/hierarchy.md quotes it.
"""

import argparse
import os


import keras
import numpy as np

import keras_vae
from keras_vae import data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.path.join("..", "shared", "data", "mnist"))
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--clip-norm", type=float, help="Adam's global_clipnorm (default none)")
    parser.add_argument("--free-bits", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    splits = data.load("mnist", args.data_dir, 0.2054, 0)
    rng = np.random.default_rng(args.seed)
    x = (splits.x_train > rng.random(splits.x_train.shape)).astype("float32")
    keras.utils.set_random_seed(args.seed)
    model = keras_vae.HierarchicalVAE.from_architecture(
        (28, 28, 1), 100, hidden_units=[200, 200], activation="tanh",
        objective=keras_vae.losses.ELBO(free_bits=args.free_bits))
    model.compile(keras.optimizers.Adam(args.learning_rate, global_clipnorm=args.clip_norm),
                  steps_per_execution=50)
    print("epoch | reconstruction | KL z1 | KL z2 | ELBO (nats, constant rate, one pass "
          f"over {len(x)} images binarized once)")
    for epoch in range(1, args.epochs + 1):
        logs = {k: v[-1] for k, v in model.fit(x, epochs=1, batch_size=100,
                                               verbose=0).history.items()}
        print(f"{epoch} | {logs['reconstruction_loss']:.1f} | {logs['kl_z1']:.1f} | "
              f"{logs['kl_z2']:.1f} | {logs['elbo']:.1f}", flush=True)


if __name__ == "__main__":
    main()
