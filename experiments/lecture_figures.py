#!/usr/bin/env python
"""The lecture notes' figures: what each term of the ELBO does to the latent space, and prior
samples as the latent space grows.

    python -m experiments.lecture_figures --data-dir ../shared/data/mnist --epochs 10

1. "Autoencoder vs KL only vs VAE" (`ae_kl_vae_latents.png`): 2-D posterior means (the code,
   for the autoencoder) of held-out images coloured by digit, for a model trained on the
   reconstruction loss only (`Autoencoder`), on the KL term only (a `VAE` whose gradient step
   minimizes its `kl_loss` alone), and on both (the `VAE`).
2. Prior samples for latent sizes 2, 5, 10 and 20 (`prior_samples_by_latent_dim.png`;
   Kingma & Welling 2014, figure 5): decoder means of z ~ N(0, I), the same seed for each
   (`--latent-sizes` chooses others; size 2 is the VAE of the first figure, not retrained).

All models are 784-500-ReLU MLPs trained with the package's defaults on dynamically binarized
MNIST (batch 100); the held-out images are the shared split's validation images, binarized
once. The figures are written into `--output-dir` (default `docs/results/figures/lecture`).
"""

import os


from keras_vae.app import cli

cli.quiet_tensorflow()

import argparse

import keras
import numpy as np
from matplotlib.figure import Figure

import keras_vae
from keras_vae import data
from keras_vae.arguments import check_int, check_int_list
from keras_vae.evaluation.latents import latent_codes
from keras_vae.plotting import tile_images

HIDDEN = [500]
LATENT_SIZES = (2, 5, 10, 20)


class KLOnly(keras_vae.VAE):
    """A VAE whose training step minimizes the KL term alone (the lecture's "KL only"); it
    reports every term as the VAE does."""

    def minimized_loss(self, terms, sample_weight):
        return super().minimized_loss({**terms, "loss": terms["kl_loss"]}, sample_weight)


def trained(model_class, latent_dim, train_ds, epochs, verbose):
    keras.utils.set_random_seed(0)
    model = model_class.from_architecture((28, 28, 1), latent_dim, hidden_units=HIDDEN, seed=0)
    model.compile()
    model.fit(train_ds, epochs=epochs, verbose=verbose)
    return model


def save_latent_panels(panels, labels, path):
    """One scatter per `(title, codes (n, 2))`, coloured by `labels`, side by side."""
    fig = Figure(figsize=(5 * len(panels), 5))
    axes = fig.subplots(1, len(panels))
    for ax, (title, codes) in zip(axes, panels):
        points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=3,
                            vmin=-0.5, vmax=9.5)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("z_1")
        ax.set_ylabel("z_2")
    fig.colorbar(points, ax=list(axes), ticks=range(10), label="digit")
    fig.savefig(path, dpi=100)
    return path


def save_sample_panels(panels, path):
    """One 10x10 grid per `(title, images)`, side by side."""
    fig = Figure(figsize=(4 * len(panels), 4.4))
    axes = fig.subplots(1, len(panels))
    for ax, (title, images) in zip(axes, panels):
        ax.imshow(np.clip(tile_images(np.asarray(images), 10), 0, 1)[..., 0], cmap="gray",
                  vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.path.join("..", "shared", "data", "mnist"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-images", type=int, default=None,
                        help="train on the first N training images (default all)")
    parser.add_argument("--held-out", type=int, default=2000,
                        help="held-out images in the scatter plots (default 2000)")
    parser.add_argument("--latent-sizes", type=int, nargs="+", default=list(LATENT_SIZES),
                        help="latent sizes of the prior-samples figure (default 2 5 10 20)")
    parser.add_argument("--output-dir", default=os.path.join("docs", "results", "figures", "lecture"))
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)
    for name in ("epochs", "held_out"):
        check_int(name, getattr(args, name), 1)
    if args.train_images is not None:
        check_int("train_images", args.train_images, 1, "(or omitted for all)")
    check_int_list("latent_sizes", args.latent_sizes)
    splits = data.load("mnist", args.data_dir)
    train_ds = data.make_dataset(splits.x_train[:args.train_images], 100, binarize_images=True,
                                 seed=0)
    held_out = data.binarize_once(splits.x_val[:args.held_out], seed=1)
    labels = splits.y_val[:args.held_out]
    os.makedirs(args.output_dir, exist_ok=True)

    spreads, elbos, panels, models = {}, {}, [], {}
    for title, model_class in (("reconstruction loss only (autoencoder)", keras_vae.Autoencoder),
                               ("KL term only", KLOnly), ("both: the VAE", keras_vae.VAE)):
        model = models[model_class] = trained(model_class, 2, train_ds, args.epochs, args.verbose)
        codes = latent_codes(model, held_out)
        logs = model.evaluate(held_out, batch_size=500, verbose=0, return_dict=True)
        terms = ", ".join(f"{k} {logs[k]:.1f}" for k in ("reconstruction_loss", "kl_loss")
                          if k in logs)
        panels.append((f"{title}\n{terms} (held out)", codes))
        spreads[model_class.__name__] = codes.std(axis=0)
        print(f"{title}: {terms}; code spread (std per axis) "
              f"{np.round(codes.std(axis=0), 3).tolist()}", flush=True)
    path = save_latent_panels(panels, labels, os.path.join(args.output_dir,
                                                           "ae_kl_vae_latents.png"))
    print(f"Written {path}")

    samples = []
    for latent_dim in args.latent_sizes:
        model = models[keras_vae.VAE] if latent_dim == 2 else trained(
            keras_vae.VAE, latent_dim, train_ds, args.epochs, args.verbose)
        logs = model.evaluate(held_out, batch_size=500, verbose=0, return_dict=True)
        samples.append((f"latent size {latent_dim}: held-out ELBO {logs['elbo']:.1f}",
                        model.sample(100, seed=0)))
        print(f"latent size {latent_dim}: held-out ELBO {logs['elbo']:.2f}", flush=True)
        elbos[latent_dim] = logs["elbo"]
    path = save_sample_panels(samples, os.path.join(args.output_dir,
                                                    "prior_samples_by_latent_dim.png"))
    print(f"Written {path}")
    return {"code_spread": spreads, "elbo": elbos}


if __name__ == "__main__":
    cli.run(main)
