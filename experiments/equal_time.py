#!/usr/bin/env python
"""The default for binary images at equal training time and at equal epochs: the one-layer
recipe, the same with 5 samples of z, and the hierarchy's recipe, each a bare `keras-vae
train` (the data's recipe) but for the row's own flag.

    python -m experiments.equal_time --data-dir ../shared/data/mnist --seconds 300 --eval-k 1000
    python -m experiments.equal_time --data-dir ../shared/data/mnist --epochs 20 --eval-k 1000

With `--seconds T` each row first trains 2 epochs in `<runs-dir>/probe-<row>` (its second
epoch times one epoch), then as many epochs as fit T; with `--epochs N` every row trains N.
5,000 of the 24,345 shared images are held out (`--validation-fraction 0.2054`); the table
gives each row's held-out ELBO, its importance-sampled log-likelihood and its difference from
the first row, paired image by image on the same held-out images.
"""

import os

from keras_vae.app import cli

cli.quiet_tensorflow()

from keras_vae.app.reporting import paired_difference
from keras_vae.app.runs import TrainConfig, read_history
from keras_vae.app.training import train

from experiments.comparison import chosen_rows, make_parser, run_rows, write_markdown

BASE = {"validation_fraction": 0.2054, "amortization_images": 0}


def rows():
    """`{row name: (TrainConfig overrides, description)}`: flags beside the bare command."""
    return {
        "vae": ({}, "one layer, the default recipe (MLP 500, latent 20, one sample)"),
        "vae-mc5": ({"mc_samples": 5}, "one layer, 5 samples of z per image"),
        "hvae": ({"model": "hvae"}, "two layers, the hierarchy's recipe (--model hvae)"),
    }


def epoch_seconds(name, overrides, base, runs_dir):
    """One epoch's training seconds for a row: the second of a 2-epoch probe run."""
    probe_dir = os.path.join(runs_dir, f"probe-{name}")
    history = read_history(probe_dir)
    if history is None or len(history["train_seconds"]) < 2:
        train(TrainConfig.from_dict({**base, **overrides, "epochs": 2, "eval_k": 1,
                                     "output_dir": probe_dir}), verbose=0, restart=True)
        history = read_history(probe_dir)
    seconds = history["train_seconds"]
    return seconds[1] - seconds[0]


def main(argv=None):
    parser = make_parser(__doc__.split("\n\n")[0], None, 1000,
                         os.path.join("runs", "equal-time"),
                         os.path.join("docs", "results", "equal_time_table.md"))
    parser.add_argument("--seconds", type=float, help="training seconds of every row")
    args = parser.parse_args(argv)
    if (args.seconds is None) == (args.epochs is None):
        parser.error("give one of --seconds (equal time) and --epochs (equal epochs)")
    table = rows()
    names = chosen_rows(parser, args, table)
    base = {**BASE, "data_dir": args.data_dir, "eval_k": args.eval_k, "seed": args.seed}
    if args.max_train_examples is not None:
        base["max_train_examples"] = args.max_train_examples
    planned = {}
    for name in names:
        overrides, description = table[name]
        if args.seconds is None:
            epochs = args.epochs
        else:
            per_epoch = epoch_seconds(name, overrides, base, args.runs_dir)
            epochs = max(1, round(args.seconds / per_epoch))
            print(f"{name}: {per_epoch:.2f} s per epoch, {epochs} epochs", flush=True)
        planned[name] = ({**overrides, "epochs": epochs}, description)
    settings = {key: value for key, value in vars(args).items() if key != "rows"}

    def write_table(results):
        first = os.path.join(args.runs_dir, names[0])
        lines = ["| row | what it is | epochs | training seconds | held-out ELBO | "
                 f"log-likelihood (K = {args.eval_k}) | minus {names[0]}, paired |",
                 "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for name, (description, metrics, _) in results.items():
            run_dir = os.path.join(args.runs_dir, name)
            seconds = read_history(run_dir)["train_seconds"][-1]
            paired = "" if name == names[0] or names[0] not in results else (
                "{:+.2f} ± {:.2f}".format(*paired_difference(run_dir, first)))
            lines.append(
                f"| {name} | {description} | {metrics['epochs']} | {seconds:.0f} | "
                f"{metrics['elbo']:.2f} | {metrics['log_likelihood']:.2f} ± "
                f"{metrics['log_likelihood_stderr']:.2f} | {paired} |")
        write_markdown(args.output, "equal_time.py", settings, lines)

    run_rows(planned, names, args.runs_dir, base, write_table)


if __name__ == "__main__":
    main()
