#!/usr/bin/env python
"""Measure the variance of the encoder's gradient under the reparameterization and the
score-function (REINFORCE) estimators, on the same model and the same batch.

    python -m experiments.gradient_variance --data-dir ../shared/data/mnist --output docs/results/gradient_variance.md
    python -m experiments.gradient_variance --model runs/<run>/model.keras --data-dir ../shared/data/mnist

Without `--model`, a 784-500-20 VAE is trained for `--train-epochs` first, so that the
gradients are those of a model part-way through training, not of a random one.
"""

import argparse
import os
import sys


from keras_vae.app import cli

cli.quiet_tensorflow()

import keras

from keras_vae import data
from keras_vae.evaluation.gradients import gradient_statistics
from keras_vae.models.vae import VAE
from keras_vae.app.runs import load_model_file


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.path.join("..", "shared", "data", "mnist"))
    parser.add_argument("--model", help=".keras file to measure (default: train one)")
    parser.add_argument("--train-epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", help="markdown file to write the figures to")
    args = parser.parse_args(argv)
    for name in ("train_epochs", "batch_size", "draws"):
        if getattr(args, name) < (0 if name == "train_epochs" else 1):
            parser.error(f"argument --{name.replace('_', '-')}: must be at least "
                         f"{0 if name == 'train_epochs' else 1}, got {getattr(args, name)}")
    splits = data.load("mnist", args.data_dir, 0.1, 0)
    x = data.binarize_once(splits.x_val[:args.batch_size], seed=args.seed)
    if args.model:
        if not (os.path.isfile(args.model) and args.model.endswith(".keras")):
            parser.error(f"argument --model: expected an existing .keras file, got {args.model!r}")
        model = load_model_file(args.model)
        source = args.model
    else:
        keras.utils.set_random_seed(args.seed)
        model = VAE.from_architecture(splits.image_shape, 20, hidden_units=[500],
                                      seed=args.seed)
        model.compile()
        if args.train_epochs:
            model.fit(data.make_dataset(splits.x_train, 100, binarize_images=True,
                                        seed=args.seed), epochs=args.train_epochs, verbose=2)
        source = f"784-500-20 VAE trained {args.train_epochs} epoch(s) on MNIST"
    stats = gradient_statistics(model, x, num_draws=args.draws, seed=args.seed)
    lines = [
        f"Model: {source}. One batch of {len(x)} held-out binarized images; {args.draws} "
        "single-sample estimates of the gradient of the batch-mean negative ELBO with respect "
        f"to the encoder's {stats['reparameterization']['draws'].shape[1]:,} weights per "
        "estimator.",
        "",
        "| estimator | total variance (sum over weights) | norm of the mean gradient |",
        "| --- | ---: | ---: |",
    ]
    for name in ("reparameterization", "score_function"):
        s = stats[name]
        lines.append(f"| {name} | {s['total_variance']:.4g} | {s['mean_norm']:.4g} |")
    lines += [
        "",
        f"Variance ratio (score function / reparameterization): "
        f"**{stats['variance_ratio']:.3g}x**. Weights whose two mean gradients agree within 3 "
        f"standard errors: {100 * stats['agreement']:.1f}% (about 99.7% expected of two "
        "unbiased estimators).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(f"<!-- written by experiments/gradient_variance.py {' '.join(argv or sys.argv[1:])} -->\n"
                    + text)
    return stats


if __name__ == "__main__":
    cli.run(main)
