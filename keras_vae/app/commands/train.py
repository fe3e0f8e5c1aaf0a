"""Train a VAE (or another model of the family, `--model`) and write a run directory.

    keras-vae train                                    # bundled 8x8 digits, no download
    keras-vae train --data-dir ../shared/data/mnist    # MNIST's IDX files
    keras-vae train --data-dir my_images/              # your own folder of images
    keras-vae train --model hvae --data-dir ../shared/data/mnist
    keras-vae train --model autoencoder --latent-dim 2
    keras-vae train --model ssvae --data-dir ../shared/data/mnist --labels-per-class 10
    keras-vae train --config runs/<run>/config.json    # rerun a run

The images choose the model and every setting that no flag gives (`keras_vae.recipe_for`:
nearly binary grey images get the one-layer VAE, an MLP and a Bernoulli likelihood on
binarized pixels; 8-bit images of 16x16 and more the hierarchical VAE with latents on a
resnet's feature maps and the mixture of logistics), and the log says what it chose;
`config.json` records it.

Run again with the same settings and `--output-dir`, an interrupted run continues where it
stopped (a finished one is left as it is); `--restart` starts it over.

Flags given on the command line override the values in `--config`.
"""

import argparse
import json
import os

from keras_vae.distributions import available_likelihoods
from keras_vae.app.registry import (available_models, get_entry, get_model_class,
                                    recipe_model_names)
from keras_vae.app.runs import TrainConfig
from keras_vae.app.training import make_strategy, train


def run_parser(model_name):
    """The parser of the run's flags and of `model_name`'s own settings (`--model` chooses
    which model's flags there are; `--help` with `--model NAME` lists that model's); without
    a model (None), those of the models the recipe chooses among."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     argument_default=argparse.SUPPRESS,
                                     allow_abbrev=False)
    add = parser.add_argument
    add("--config", help="JSON file of settings with the keys below (underscores for dashes)")
    add("--model", help=f"one of {available_models()} (default: the recipe's for the images, "
        f"one of {recipe_model_names()}); each has flags of its own, listed by --model NAME "
        "--help")
    add("--dataset", help="digits (bundled), sprites (drawn in the package, with known "
        "factors), mnist, folder, arrays or a TensorFlow Datasets "
        "name (default: what --data-dir holds, the digits without it)")
    add("--data-dir", help="your data: a folder of images (PNG, JPEG, BMP, GIF; one "
        "subfolder per class for labels), a .npy/.npz file, or a folder of MNIST IDX files; "
        "the TFDS data dir for a TFDS name")
    add("--validation-dir", help="validation images (a folder, or a .npy/.npz file); default "
        "a sibling val/ or test/ folder of an image folder, else --validation-fraction")
    add("--image-size", type=int, nargs=2, metavar=("HEIGHT", "WIDTH"),
        help="resize a folder's images (required when they have several sizes)")
    add("--color-mode", choices=["rgb", "grayscale"],
        help="convert a folder's images (default: as the files are; mixed channels refused)")
    add("--skip-bad-images", action="store_true",
        help="skip a folder's files that do not decode, and say how many (default: refuse)")
    add("--image-storage", choices=["auto", "memory", "stream"],
        help="hold a folder's training images in memory, or decode them from the files "
        "every epoch (default auto: in memory when they fit)")
    add("--array-key", help="the images' key in an .npz file (default: its only array, x or "
        "images)")
    add("--labels-key", help="the labels' key in an .npz file (default: y or labels if there)")
    add("--num-images", type=int, help="sprites drawn for --dataset sprites (default 20000)")
    add("--architecture", choices=["mlp", "conv", "resnet"],
        help="encoder/decoder family (default: the recipe's; mlp for binary images, resnet "
        "for 8-bit ones)")
    add("--hidden-units", type=int, nargs="+",
        help="hidden widths (mlp) or filters per resolution (conv, resnet)")
    add("--blocks", type=int, help="residual blocks per resolution (resnet only; default: "
        "the recipe's 1, or 2)")
    add("--kernel-size", type=int, help="kernel size of the convolutions (conv only; "
        "default 3)")
    add("--dense-units", type=int, nargs="+", help="dense widths between the convolutions "
        "and the latent code (conv only; default none). disentanglement_lib's encoder (the "
        "decoder its mirror image, with a 3x3 output convolution): "
        "--architecture conv --hidden-units 32 32 64 64 --kernel-size 4 --dense-units 256")
    add("--activation", help="hidden activation (default: the recipe's, relu)")
    add("--latent-dim", type=int, help="size of z (default: the recipe's; 20 for binary "
        "images, 128 for 8-bit ones)")
    add("--likelihood", help=f"p(x|z), one of {available_likelihoods()} (default: the "
        "recipe's; bernoulli for binary images, logistic_mixture, PixelCNN++'s discretized "
        "mixture of 5 logistics, for 8-bit ones; gaussian has per-pixel scales, "
        "gaussian_global one learned scale, gaussian_fixed scale 0.1)")
    add("--binarize", action=argparse.BooleanOptionalAction,
        help="dynamic binarization (default: the recipe's; on for bernoulli)")
    add("--epochs", type=int, help="default 20")
    add("--batch-size", type=int, help="default: the recipe's (100; 128 for 8-bit images)")
    add("--learning-rate", type=float, help="Adam's initial learning rate (default: the "
        "recipe's, 2e-3; 1e-3 for 8-bit images)")
    add("--lr-schedule", choices=["cosine", "constant"],
        help="cosine decay to 0 over the run (default) or a constant learning rate")
    add("--clip-norm", type=float, help="clip the gradients to this global norm (Adam's "
        "global_clipnorm; default: the recipe's, none; 1 for the hvae model; 0: none)")
    add("--seed", type=int, help="default 0")
    add("--validation-fraction", type=float, help="held out when there is no test split")
    add("--split-seed", type=int, help="seed of the held-out validation split (default 0)")
    add("--max-train-examples", type=int, help="train on the first N training images only")
    add("--labels-per-class", type=int, help="keep the labels of N training images per class "
        "(a balanced random draw), the rest unlabelled: semi-supervised training (--model "
        "ssvae)")
    add("--label-seed", type=int, help="which images keep their labels (default 0)")
    add("--unlabelled-dir", help="a folder of images without labels (subfolder names are not "
        "used) that joins the labelled training images, for --model ssvae")
    add("--stack-on", help="M1+M2: a trained VAE's run directory (or .keras file); --model "
        "ssvae trains on its latent means and classifies through both")
    add("--eval-k", type=int, help="importance samples of the final evaluation (default: as "
        "many as fit --eval-budget, at most 100)")
    add("--eval-budget", type=float, help="the final evaluation's share of the training time "
        "when --eval-k is not given (default 0.2; at least a minute)")
    add("--log-likelihood-every", type=int,
        help="also estimate the validation log-likelihood every N epochs (and at the last), "
        "into log_likelihood_curve.csv with the training seconds (default 0: at the end only)")
    add("--log-likelihood-k", type=int,
        help="importance samples of those estimates (default 500)")
    add("--amortization-images", type=int,
        help="validation images for the amortization gap (default 0: skipped; 100 is the "
        "usual figure, at 300 Adam steps per image)")
    add("--image-log-every", type=int, help="TensorBoard image grids every N epochs (default 5)")
    add("--steps-per-execution", type=int,
        help="batches per host round-trip (default 32; fit caps it at an epoch's batches and "
        "shows true counts; batch callbacks see one batch per execution)")
    add("--checkpoint-every", type=float,
        help="seconds of training between checkpoints, written at an epoch's end (default "
        "60; 0 after every epoch); the last epoch and a SIGTERM/SIGINT are always "
        "checkpointed")
    add("--strategy", help="tf.distribute strategy: default (one device), mirrored (all local "
        "GPUs), multiworker (MultiWorkerMirroredStrategy, cluster from TF_CONFIG)")
    add("--output-dir", help="run directory (default runs/<dataset>-<date>-<time>); an "
        "interrupted run there with the same settings is resumed")
    add("--restart", action="store_true",
        help="start the run in --output-dir over instead of resuming it")
    add("--verbose", type=int, choices=[0, 1, 2], help="Keras verbosity (default 1)")
    names = [model_name] if model_name else recipe_model_names()
    added = set()
    for entry in map(get_entry, names):
        group = parser.add_argument_group(
            f"settings of the {entry.name} model ({entry.model_class.__name__})" + (
                "" if model_name else ", where the recipe chooses it"))
        for setting in entry.settings:
            if setting.name not in added:
                setting.add_to(group, entry.model_class)
                added.add(setting.name)
    return parser


def read_config_file(path):
    if not os.path.isfile(path):
        raise ValueError(f"Argument `--config` must name a JSON file. Received: {path!r}")
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"Argument `--config` must name a JSON file; {path} is not "
                             f"valid JSON: {error}") from error


def parse_args(argv):
    """`(file values, flag values)`: the `--config` file's settings and the flags given.
    The flags are those of the run and of the model chosen by `--model` (or the config
    file's model); another model's flag is refused, naming its model."""
    first = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS,
                                    allow_abbrev=False)
    first.add_argument("--config")
    first.add_argument("--model")
    known, _ = first.parse_known_args(argv)
    file_values = read_config_file(known.config) if "config" in known else {}
    model_name = getattr(known, "model", None) or file_values.get("model")
    if model_name is not None:
        get_model_class(model_name)
    parser = run_parser(model_name)
    args, unknown = parser.parse_known_args(argv)
    for flag in (item.split("=")[0] for item in unknown if item.startswith("--")):
        owners = [name for name in available_models() if flag in {
            setting.flag for setting in get_entry(name).settings}]
        if owners:
            raise ValueError(f"Argument `{flag}` applies to the {' and '.join(owners)} "
                             f"model(s) only (--model {owners[0]}). Received: {flag} with " + (
                                 f"--model {model_name}" if model_name else
                                 f"no --model (the recipe chooses among "
                                 f"{recipe_model_names()})"))
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args = vars(args)
    args.pop("config", None)
    return file_values, args


def config_from_args(file_values, args):
    """Defaults, overridden by the `--config` file, overridden by explicit flags."""
    return TrainConfig.from_dict({**file_values, **args})


def main(argv=None):
    file_values, args = parse_args(argv)
    verbose = args.pop("verbose", 1)
    restart = args.pop("restart", False)
    config = config_from_args(file_values, args)
    # MultiWorkerMirroredStrategy must exist before TensorFlow runs its first operation.
    strategy = make_strategy("multiworker") if config.strategy == "multiworker" else None
    run_dir, _ = train(config, verbose=verbose, restart=restart, strategy=strategy)
    return run_dir

