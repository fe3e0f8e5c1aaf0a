#!/usr/bin/env python
"""Train the VAE-GAN with its defaults and with each of them undone, one at a time, on the same
data and budget, and write one table of held-out figures and a page of samples per variant.

    python -m experiments.vaegan_ablation --data-dir ../shared/data/mnist --epochs 10
    python -m experiments.vaegan_ablation --rows default unit_variance --epochs 1   # a subset

Each row trains `keras_vae.VAEGAN.from_architecture(image shape, 20, hidden_units=[500])` (the
784-500-ReLU MLP encoder and decoder of `docs/results/models.md`) with `model.fit`, batch 100, every
optimizer on the trainer's cosine schedule, dynamically binarized images; held out: the
validation split binarized once. A finished row (`<runs-dir>/<row>.json`) is read back
instead of retrained.
"""

import json
import os
import time


from keras_vae.app import cli

cli.quiet_tensorflow()

import keras
import numpy as np
import tensorflow_probability as tfp

import keras_vae
from keras_vae import data, plotting
from keras_vae.evaluation import importance_sampled_log_likelihood
from keras_vae.layers.sampling import seed_pair
from keras_vae.networks import mlp_discriminator
from keras_vae.app.runs import TrainConfig, write_json_atomically
from keras_vae.app.training import make_extra_optimizers, make_optimizer
from experiments.comparison import chosen_rows, make_parser, write_markdown


class SampleFeatures(keras_vae.VAEGAN):
    """The feature loss compares the data with the binary sample the discriminator judged."""

    def feature_image(self, mean, image):
        return image


class RelaxedImages(keras_vae.VAEGAN):
    """The discriminator is shown relaxed Bernoulli samples, values between 0 and 1."""

    def decoder_image(self, params, seed):
        return tfp.distributions.RelaxedBernoulli(self.temperature, logits=params).sample(
            seed=seed_pair(seed))


class NoGeneratorLoss(keras_vae.VAEGAN):
    """The decoder never gets the generator loss: a VAE on the discriminator's features."""

    def balance_gates(self, real_cost, fake_cost):
        discriminator, _ = super().balance_gates(real_cost, fake_cost)
        return discriminator, keras.ops.zeros(())


def rows():
    """`{row: (description, model class, constructor arguments, decoder learning rate)}`:
    None keeps the default decoder optimizer."""
    return {
        "default": ("the defaults", keras_vae.VAEGAN, {}, None),
        "unit_variance": ("feature variance 1 (the paper's) instead of fitted",
                          keras_vae.VAEGAN, {"feature_variance": 1.0}, None),
        "last_layer": ("features of the discriminator's last hidden layer, not its first",
                       keras_vae.VAEGAN, {"discriminator": "last"}, None),
        "slow_decoder": ("decoder at the discriminator's rate, 2e-4, not 2e-3",
                         keras_vae.VAEGAN, {}, 2e-4),
        "sample_features": ("feature loss against the binary sample, not the mean",
                            SampleFeatures, {}, None),
        "relaxed_images": ("relaxed (grey) samples shown to the discriminator, not binary",
                           RelaxedImages, {}, None),
        "no_balance": ("no equilibrium gates (margin None)", keras_vae.VAEGAN,
                       {"margin": None}, None),
        "no_generator_loss": ("the decoder without the generator loss (features only)",
                              NoGeneratorLoss, {}, None),
    }


def build(row, image_shape, epochs, steps_per_epoch, seed):
    _, model_class, arguments, decoder_rate = row
    arguments = dict(arguments)
    if arguments.get("discriminator") == "last":
        arguments["discriminator"] = mlp_discriminator(image_shape, feature_layer=-1)
    keras.utils.set_random_seed(seed)
    model = model_class.from_architecture(image_shape, 20, hidden_units=[500], seed=seed,
                                          **arguments)
    config = TrainConfig(epochs=epochs, learning_rate=2e-3, lr_schedule="cosine")  # the MNIST recipe's
    optimizers = make_extra_optimizers(model_class, config, steps_per_epoch)
    if decoder_rate is not None:
        optimizers["decoder_optimizer"] = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
            decoder_rate, epochs * steps_per_epoch), beta_1=0.5)
    model.compile(optimizer=make_optimizer(config, steps_per_epoch), **optimizers)
    return model


def run_row(name, row, splits, args):
    """Trains, evaluates and draws one row; returns its metrics."""
    train_ds = data.make_dataset(splits.x_train[:args.train_images], 100, binarize_images=True,
                                 seed=args.seed)
    held_out = data.binarize_once(splits.x_val[:args.held_out], args.seed + 1)
    steps = len(train_ds)
    model = build(row, splits.image_shape, args.epochs, steps, args.seed)
    start = time.perf_counter()
    history = model.fit(train_ds, epochs=args.epochs, verbose=2)
    seconds = time.perf_counter() - start
    metrics = model.evaluate(data.make_dataset(held_out, 500, shuffle=False), verbose=0,
                             return_dict=True)
    log_px = importance_sampled_log_likelihood(model, held_out, k=args.eval_k,
                                               verbose=0)["log_likelihood"]
    os.makedirs(args.figures_dir, exist_ok=True)
    plotting.save_samples(model, os.path.join(args.figures_dir, f"{name}-samples.png"))
    plotting.save_reconstructions(model, held_out[:50], os.path.join(
        args.figures_dir, f"{name}-reconstructions.png"))
    return {**{k: float(v) for k, v in metrics.items()},
            "log_likelihood": float(np.mean(log_px)),
            "log_likelihood_stderr": float(np.std(log_px) / np.sqrt(len(log_px))),
            "discriminator_gate_train": [float(v) for v in history.history[
                "discriminator_gate"]],
            "train_seconds": seconds}


def write_table(path, results, settings):
    lines = [
        "| variant | what changes | reconstruction loss | KL | ELBO | "
        f"log-likelihood (K = {settings['eval_k']}) | generator loss | "
        "discriminator trained (last epoch) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, (description, m) in results.items():
        lines.append(
            f"| {name} | {description} | {m['reconstruction_loss']:.2f} | {m['kl_loss']:.2f} | "
            f"{m['elbo']:.2f} | {m['log_likelihood']:.2f} ± {m['log_likelihood_stderr']:.2f} | "
            f"{m['generator_loss']:.2f} | {m['discriminator_gate_train'][-1]:.0%} |")
    write_markdown(path, "vaegan_ablation.py", settings, lines)


def main(argv=None):
    parser = make_parser(__doc__.split("\n\n")[0], 10, 1000, os.path.join("runs", "vaegan"),
                         os.path.join("docs", "results", "vaegan_table.md"))
    parser.add_argument("--figures-dir", default=os.path.join("docs", "results", "figures", "vaegan"))
    parser.add_argument("--train-images", type=int, default=None,
                        help="train on the first N training images (default all)")
    parser.add_argument("--held-out", type=int, default=None,
                        help="evaluate on the first N held-out images (default all)")
    args = parser.parse_args(argv)
    for flag in ("train_images", "held_out"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"argument --{flag.replace('_', '-')}: must be >= 1, got {value}")
    table = rows()
    names = chosen_rows(parser, args, table)
    splits = data.load_mnist(args.data_dir, seed=args.seed)
    settings = {"epochs": args.epochs, "eval_k": args.eval_k, "seed": args.seed,
                "data_dir": args.data_dir, "train_images": args.train_images,
                "held_out": args.held_out}
    os.makedirs(args.runs_dir, exist_ok=True)
    results = {}
    for index, name in enumerate(names):
        path = os.path.join(args.runs_dir, f"{name}.json")
        if not os.path.isfile(path):
            print(f"[{index + 1}/{len(names)}] {name}: {table[name][0]}", flush=True)
            write_json_atomically(path, run_row(name, table[name], splits, args))
        with open(path) as f:
            results[name] = (table[name][0], json.load(f))
        write_table(args.output, results, settings)
    return results


if __name__ == "__main__":
    main()
