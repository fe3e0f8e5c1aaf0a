#!/usr/bin/env python
"""Train a VAE (or another model of the family, `--model`) and write a run directory.

    python scripts/train.py                                    # bundled 8x8 digits, no download
    python scripts/train.py --model autoencoder --latent-dim 2
    python scripts/train.py --dataset mnist --data-dir ../shared/data/mnist --epochs 20
    python scripts/train.py --config runs/<run>/config.json    # rerun a run

Run again with the same settings and `--output-dir`, an interrupted run continues where it
stopped (a finished one is left as it is); `--restart` starts it over.

Flags given on the command line override the values in `--config`.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from scripts import cli  # noqa: E402

cli.quiet_tensorflow()

from keras_vae.distributions import (  # noqa: E402
    available_likelihoods,
    available_posteriors,
    available_priors,
)
from keras_vae.losses import available_objectives  # noqa: E402
from keras_vae.models import available_models  # noqa: E402
from keras_vae.training import TrainConfig, make_strategy, train  # noqa: E402


def fitted_or_number(text):
    """`--feature-variance`: "fitted" or a number (the model checks that it is > 0)."""
    if text == "fitted":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'fitted' or a number, got {text!r}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     argument_default=argparse.SUPPRESS)
    add = parser.add_argument
    add("--config", help="JSON file of settings with the keys below (underscores for dashes)")
    add("--model", help=f"one of {available_models()} (default vae); the prior, posterior and "
        "objective flags apply to the vae")
    add("--dataset", help="digits (default, bundled), mnist, or a TensorFlow Datasets name")
    add("--data-dir", help="directory of MNIST IDX files (mnist); TFDS data dir otherwise")
    add("--architecture", choices=["mlp", "conv"], help="encoder/decoder family (default mlp)")
    add("--hidden-units", type=int, nargs="+", help="hidden widths or conv filters")
    add("--activation", help="hidden activation (default relu)")
    add("--latent-dim", type=int, help="size of z (default 20)")
    add("--likelihood", help=f"p(x|z), one of {available_likelihoods()} (default bernoulli; "
        "gaussian has per-pixel scales, gaussian_global one learned scale, gaussian_fixed "
        "scale 0.1)")
    add("--prior", help=f"p(z), one of {available_priors()} (default normal)")
    add("--prior-components", type=int,
        help="components of the mixture (default 10) or vamp (default 50) prior")
    add("--posterior", help=f"q(z|x), one of {available_posteriors()} (default diagonal)")
    add("--flow-steps", type=int, help="steps of the iaf posterior (default 2)")
    add("--objective", help=f"one of {available_objectives()} (default elbo)")
    add("--k", type=int, help="importance samples of the iwae objective (default 5)")
    add("--mc-samples", type=int, help="samples of z per example in the elbo (default 1)")
    add("--beta", type=float, help="weight of the KL term in the elbo (default 1)")
    add("--kl-warmup-epochs", type=int,
        help="epochs of a linear KL warm-up from 0 to beta (default 0)")
    add("--free-bits", type=float, help="per-dimension KL floor, nats (default 0)")
    add("--num-codes", type=int, help="codebook size of the vqvae (default 64)")
    add("--code-dim", type=int, help="size of each vqvae code vector (default 4; it must "
        "divide --latent-dim)")
    add("--commitment", type=float, help="weight of the vqvae commitment loss (default 0.25)")
    add("--ema", action=argparse.BooleanOptionalAction,
        help="vqvae codebook by exponential moving averages (default off)")
    add("--categories", type=int, help="classes of each gumbel latent variable (default 10; "
        "it must divide --latent-dim)")
    add("--temperature", type=float, help="initial gumbel-softmax temperature (default 1)")
    add("--min-temperature", type=float, help="floor of the annealed temperature (default 0.5)")
    add("--anneal-rate", type=float, help="temperature decay rate per step (default 3e-5)")
    add("--adversarial-weight", type=float,
        help="weight of the aae's generator loss (default 1)")
    add("--feature-weight", type=float,
        help="weight of the vaegan's feature loss in the decoder's objective (default 1)")
    add("--feature-variance", type=fitted_or_number,
        help="variance of the vaegan's feature likelihood: a number (1 is Larsen et al.'s) or "
        "'fitted', its maximum-likelihood value on each batch (default)")
    add("--binarize", action=argparse.BooleanOptionalAction,
        help="dynamic binarization (default: on for bernoulli)")
    add("--epochs", type=int, help="default 20")
    add("--batch-size", type=int, help="default 100")
    add("--learning-rate", type=float, help="Adam's initial learning rate (default 2e-3)")
    add("--lr-schedule", choices=["cosine", "constant"],
        help="cosine decay to 0 over the run (default) or a constant learning rate")
    add("--seed", type=int, help="default 0")
    add("--validation-fraction", type=float, help="held out when there is no test split")
    add("--split-seed", type=int, help="seed of the held-out validation split (default 0)")
    add("--max-train-examples", type=int, help="train on the first N training images only")
    add("--eval-k", type=int, help="importance samples of the final evaluation (default 100)")
    add("--amortization-images", type=int,
        help="validation images for the amortization gap (default 100, 0 skips)")
    add("--image-log-every", type=int, help="TensorBoard image grids every N epochs (default 5)")
    add("--steps-per-execution", type=int,
        help="batches per host round-trip (default 32; fit caps it at an epoch's batches and "
        "shows true counts; batch callbacks see one batch per execution)")
    add("--strategy", help="tf.distribute strategy: default (one device), mirrored (all local "
        "GPUs), multiworker (MultiWorkerMirroredStrategy, cluster from TF_CONFIG)")
    add("--output-dir", help="run directory (default runs/<dataset>-<date>-<time>); an "
        "interrupted run there with the same settings is resumed")
    add("--restart", action="store_true",
        help="start the run in --output-dir over instead of resuming it")
    add("--verbose", type=int, choices=[0, 1, 2], help="Keras verbosity (default 1)")
    return vars(parser.parse_args(argv))


def config_from_args(args):
    """Defaults, overridden by the `--config` file, overridden by explicit flags."""
    values = {}
    path = args.pop("config", None)
    if path is not None:
        if not os.path.isfile(path):
            raise ValueError(f"Argument `--config` must name a JSON file. Received: {path!r}")
        with open(path) as f:
            try:
                values.update(json.load(f))
            except json.JSONDecodeError as error:
                raise ValueError(f"Argument `--config` must name a JSON file; {path} is not "
                                 f"valid JSON: {error}") from error
    values.update(args)
    return TrainConfig.from_dict(values)


def main(argv=None):
    args = parse_args(argv)
    verbose = args.pop("verbose", 1)
    restart = args.pop("restart", False)
    # MultiWorkerMirroredStrategy must exist before TensorFlow runs its first operation.
    strategy = make_strategy("multiworker") if args.get("strategy") == "multiworker" else None
    run_dir, _ = train(config_from_args(args), verbose=verbose, restart=restart,
                       strategy=strategy)
    return run_dir


if __name__ == "__main__":
    cli.run(main)
