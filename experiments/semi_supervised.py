"""Semi-supervised MNIST (issue 36): the M2 model's held-out error with N labels, against a
classifier of the same network trained on the N labelled images alone.

    python -m experiments.semi_supervised --labels 100 600 1000 3000 --draws 3

Every row holds out the same 5,000 images of `../shared/data/mnist` (never labelled, never
trained on: `--validation-fraction 0.2054`) and keeps N / 10 labels of each digit among the
rest (`--labels-per-class`, a balanced draw per `--label-seed`). Rows `m2-<N>-d<draw>` are
`keras-vae train --model ssvae --latent-dim 50` runs; `m1` is one VAE (latent 50) trained on
the 19,345 training images without labels, and rows `m1m2-<N>-d<draw>` are `--model ssvae
--stack-on runs/.../m1` runs (M2 with the recipe of M1's latent means); rows
`classifier-<N>-d<draw>` train the SemiSupervisedVAE's classifier network alone (MLP 500,
relu, dynamically binarized images, Adam, cross-entropy) on the same N labelled images for as
many steps as M2's run takes. The table gives the mean and the spread (the standard deviation
over draws) of the held-out error.
"""

import argparse
import json
import os
import time

import keras
import numpy as np

from experiments.comparison import run_rows, write_markdown
from keras_vae import data
from keras_vae.app.runs import TrainConfig
from keras_vae.app.training import load_run_data
from keras_vae.models import SemiSupervisedVAE
from keras_vae.networks import build_encoder

# 5,000 of ../shared/data/mnist's 24,345 images (its training images only) held out.
VALIDATION_FRACTION = 0.2054


def data_settings(args):
    return {"dataset": "mnist", "data_dir": args.data_dir,
            "validation_fraction": VALIDATION_FRACTION}


def m2_settings(args, labels, draw):
    return {**data_settings(args), "model": "ssvae", "labels_per_class": labels // 10,
            "label_seed": draw, "latent_dim": args.latent_dim, "epochs": args.epochs,
            "seed": draw}


def m1m2_settings(args, labels, draw, m1_dir):
    return {**data_settings(args), "model": "ssvae", "stack_on": m1_dir,
            "labels_per_class": labels // 10, "label_seed": draw, "epochs": args.m1m2_epochs,
            "seed": draw}


def train_classifier_alone(settings, seed):
    """The held-out error of the SemiSupervisedVAE's classifier network trained on the
    labelled images alone, in batches of (at most) 100, for as many steps as an M2 run of
    `settings` takes (its epochs of batches of 100, a tenth labelled)."""
    run_data = load_run_data(TrainConfig.from_dict(settings), verbose=0)
    steps = settings["epochs"] * SemiSupervisedVAE.batches_per_epoch(
        len(run_data.x_train), 100, run_data.y_train, {"labelled_share": 0.1})
    labelled = run_data.y_train >= 0
    x, y = run_data.x_train[labelled], run_data.y_train[labelled]
    keras.utils.set_random_seed(seed)
    network = build_encoder("mlp", run_data.image_shape, 10, [500], "relu",
                            heads={"logits": 10})
    network.compile(optimizer=keras.optimizers.Adam(2e-3),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"])
    batches = data.make_dataset(x, min(100, len(x)), binarize_images=True, seed=seed,
                                labels=y)
    # Epochs of at least 200 steps: an epoch of a few labelled images is one batch, and
    # Keras' per-epoch overhead would outweigh the steps themselves.
    per_epoch = max(200, int(batches.cardinality()))
    epochs = max(1, round(steps / per_epoch))
    network.fit(batches.repeat(), epochs=epochs, steps_per_epoch=per_epoch, verbose=0)
    predicted = np.asarray(network.predict(run_data.x_val, verbose=0)).argmax(-1)
    accuracy = float(np.mean(predicted == run_data.y_val))
    return {"accuracy": accuracy, "error": 1 - accuracy, "epochs": epochs,
            "num_validation_images": len(run_data.y_val)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.path.join("..", "shared", "data", "mnist"))
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 600, 1000, 3000])
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--only-draws", type=int, nargs="+",
                        help="train only these of the draws (to share the rows between "
                             "processes); the table still reads every finished draw")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--latent-dim", type=int, default=50, help="M2's z")
    parser.add_argument("--m1-epochs", type=int, default=50)
    parser.add_argument("--m1m2-epochs", type=int, default=100)
    parser.add_argument("--kinds", nargs="+", default=["m2", "m1m2", "classifier"],
                        choices=["m2", "m1m2", "classifier"])
    parser.add_argument("--table-only", action="store_true",
                        help="write the table of the rows finished, training nothing")
    parser.add_argument("--runs-dir", default=os.path.join("runs", "semi-supervised"))
    parser.add_argument("--output", default=os.path.join("docs", "results",
                                                         "semi_supervised_table.md"))
    args = parser.parse_args(argv)
    if args.only_draws and not set(args.only_draws) <= set(range(args.draws)):
        parser.error(f"argument --only-draws: expected draws among 0..{args.draws - 1}, "
                     f"received {args.only_draws}")
    settings = {"labels": args.labels, "draws": args.draws, "epochs": args.epochs,
                "latent_dim": args.latent_dim, "m1_epochs": args.m1_epochs,
                "m1m2_epochs": args.m1m2_epochs}
    errors = {}
    m1_dir = os.path.join(args.runs_dir, "m1")
    def finished(name, description, settings, draw=None):
        """The row's metrics: trained now unless `--table-only` (then None if unfinished)."""
        path = os.path.join(args.runs_dir, name, "metrics.json")
        if args.table_only or (args.only_draws and draw is not None
                               and draw not in args.only_draws):
            if not os.path.isfile(path):
                return None
            with open(path) as f:
                return json.load(f)
        return run_rows({name: ({}, description)}, [name], args.runs_dir, settings,
                        lambda results: None)[name][1]

    def write_table():
        lines = ["| labels | model | held-out error, mean | spread (sd) | draws |",
                 "| ---: | --- | ---: | ---: | ---: |"]
        for (labels, kind), values in sorted(errors.items()):
            lines.append(f"| {labels} | {kind} | {100 * np.mean(values):.2f}% | "
                         f"{100 * np.std(values):.2f} | {len(values)} |")
        write_markdown(args.output, "semi_supervised.py", settings, lines)

    if "m1m2" in args.kinds:
        finished("m1", "M1: a VAE, latent 50, no labels",
                 {**data_settings(args), "model": "vae", "latent_dim": 50,
                  "epochs": args.m1_epochs})

    for labels in args.labels:
        for draw in range(args.draws):
            base = m2_settings(args, labels, draw)
            name = f"m2-{labels}-d{draw}"
            if "m2" in args.kinds:
                metrics = finished(name, f"M2, {labels} labels, draw {draw}", base, draw)
                if metrics:
                    errors.setdefault((labels, "M2"), []).append(metrics["error"])
            if "m1m2" in args.kinds:
                metrics = finished(f"m1m2-{labels}-d{draw}",
                                   f"M1+M2, {labels} labels, draw {draw}",
                                   m1m2_settings(args, labels, draw, m1_dir), draw)
                if metrics:
                    errors.setdefault((labels, "M1+M2"), []).append(metrics["error"])
            if "classifier" in args.kinds:
                path = os.path.join(args.runs_dir, f"classifier-{labels}-d{draw}.json")
                if not os.path.isfile(path) and not args.table_only and (
                        not args.only_draws or draw in args.only_draws):
                    start = time.perf_counter()
                    alone = train_classifier_alone(base, draw)
                    alone["seconds"] = time.perf_counter() - start
                    with open(path, "w") as f:
                        json.dump(alone, f)
                if os.path.isfile(path):
                    with open(path) as f:
                        errors.setdefault((labels, "classifier alone"), []).append(
                            json.load(f)["error"])
            write_table()


if __name__ == "__main__":
    main()
