#!/usr/bin/env python
"""Train the IWAE paper's one- and two-stochastic-layer models on the same data and budget,
and write one table of held-out figures and the curves of both.

    python -m experiments.compare_hierarchy --data-dir ../shared/data/mnist --epochs 100 --eval-k 5000
    python -m experiments.compare_hierarchy --rows vae-elbo hvae-elbo --epochs 2 --eval-k 10

Each row is a `keras-vae train` run in `<runs-dir>/<row>/` (tanh MLPs: 784-200-200-50 for the
VAE; 784-200-200 to a 100-unit z_1 and 100-100 to a 50-unit z_2 for the hierarchy; batch 100,
the trainer's default learning-rate schedule, 5,000 of the 24,345 shared images held out); a
row whose `metrics.json` exists is read back instead of retrained, so a killed comparison
continues where it stopped. The table (markdown) is rewritten after every row; the figure
`<figures>/elbo_curves.png` plots each row's held-out ELBO against epochs and training time.
With `--log-likelihood-every N` each row also estimates the held-out log-likelihood every N
epochs with `--log-likelihood-k` samples (`keras-vae train`'s flags of the same names), and
`<figures>/log_likelihood_curves.png` plots it against epochs and training time:

    python -m experiments.compare_hierarchy --rows vae-elbo-500 hvae-elbo-500 \
        --log-likelihood-every 25 --log-likelihood-k 500
"""

import csv
import glob
import os


from keras_vae.app import cli

cli.quiet_tensorflow()

from matplotlib.figure import Figure

from keras_vae.callbacks import read_curve
from keras_vae.app.reporting import paired_difference

from experiments.comparison import (
    limit_training_images,
    chosen_rows,
    make_parser,
    minutes,
    run_rows,
    write_markdown,
)

BASE = {"architecture": "mlp", "hidden_units": [200, 200], "activation": "tanh",
        "validation_fraction": 0.2054}
ONE_LAYER = {"latent_dim": 50}
# The hierarchy's recipe: free bits and clipping keep it off the plateau (docs/results/hierarchy.md).
TWO_LAYERS = {"model": "hvae", "latent_dim": 100, "upper_latent_dims": [50],
              "upper_hidden_units": [100, 100], "clip_norm": 1.0}
FALLING_FLOOR = {"free_bits": 0.1, "free_bits_decay_epochs": 50}


def elbo_first(epochs):
    """The IWAE rows' start: `epochs` on the ELBO of the k samples while the floor falls."""
    return {"free_bits": 0.1, "free_bits_decay_epochs": epochs, "elbo_epochs": epochs}


def rows():
    """`{row name: (TrainConfig overrides, description)}`."""
    return {
        "vae-elbo": (ONE_LAYER, "one stochastic layer (50), ELBO: the default recipe"),
        "hvae-elbo": ({**TWO_LAYERS, "free_bits": 0.1},
                      "two layers (100, 50), ELBO, free bits 0.1, clip 1"),
        "hvae-elbo-fbdecay": ({**TWO_LAYERS, **FALLING_FLOOR},
                              "two layers, ELBO, free bits 0.1 falling to 0 over 50 epochs, "
                              "clip 1"),
        "vae-elbo5": ({**ONE_LAYER, "mc_samples": 5},
                      "one layer, the ELBO averaged over 5 samples of z per image"),
        "hvae-elbo5-fbdecay": ({**TWO_LAYERS, **FALLING_FLOOR, "mc_samples": 5},
                               "hvae-elbo-fbdecay with the ELBO averaged over 5 samples of "
                               "each layer per image"),
        "hvae-elbo-fbdecay-300": ({**TWO_LAYERS, **FALLING_FLOOR, "epochs": 300},
                                  "hvae-elbo-fbdecay for 300 epochs"),
        "vae-elbo-fb-clip": ({**ONE_LAYER, "free_bits": 0.1, "clip_norm": 1.0},
                             "one layer, ELBO with the hierarchy's free bits 0.1 and clip 1"),
        "hvae-elbo-noclip": ({**TWO_LAYERS, "free_bits": 0.1, "clip_norm": None},
                             "two layers, ELBO, free bits 0.1, no clipping"),
        "vae-elbo-300": ({**ONE_LAYER, "epochs": 300}, "vae-elbo for 300 epochs"),
        "hvae-elbo-300": ({**TWO_LAYERS, "free_bits": 0.1, "epochs": 300},
                          "hvae-elbo for 300 epochs"),
        "vae-elbo-500": ({**ONE_LAYER, "epochs": 500}, "vae-elbo for 500 epochs"),
        "hvae-elbo-500": ({**TWO_LAYERS, "free_bits": 0.1, "epochs": 500},
                          "hvae-elbo for 500 epochs"),
        "vae-iwae5": ({**ONE_LAYER, "objective": "iwae", "k": 5}, "one layer, IWAE k = 5"),
        "hvae-iwae5": ({**TWO_LAYERS, "objective": "iwae", "k": 5}, "two layers, IWAE k = 5, "
                       "clip 1"),
        "hvae-iwae5-fbdecay": ({**TWO_LAYERS, **FALLING_FLOOR, "objective": "iwae", "k": 5},
                               "two layers, IWAE k = 5, free bits 0.1 falling to 0 over 50 "
                               "epochs, clip 1"),
        "hvae-iwae5-elbo25": ({**TWO_LAYERS, **elbo_first(25), "objective": "iwae", "k": 5},
                              "two layers, the ELBO of 5 samples for 25 epochs (free bits 0.1 "
                              "falling to 0 over them), then IWAE k = 5, clip 1"),
        "hvae-iwae5-elbo50": ({**TWO_LAYERS, **elbo_first(50), "objective": "iwae", "k": 5},
                              "the same with 50 epochs on the ELBO"),
        "vae-iwae50": ({**ONE_LAYER, "objective": "iwae", "k": 50}, "one layer, IWAE k = 50"),
        "hvae-iwae50": ({**TWO_LAYERS, "objective": "iwae", "k": 50},
                        "two layers, IWAE k = 50, clip 1"),
        "hvae-iwae50-elbo50": ({**TWO_LAYERS, **elbo_first(50), "objective": "iwae", "k": 50},
                               "two layers, the ELBO of 50 samples for 50 epochs (free bits 0.1 "
                               "falling to 0 over them), then IWAE k = 50, clip 1"),
    }


def per_layer(metrics, key):
    values = metrics.get(key)
    return "" if values is None else " + ".join(f"{v:.1f}" if isinstance(v, float) else str(v)
                                               for v in values)


def one_layer_partner(name, names):
    """The one-layer row a two-layer row is compared with: `hvae-X-Y` against `vae-X-Y`, else
    `vae-X` (the same objective, one layer's default settings), never across a budget (a
    number of epochs: `hvae-elbo-300` only against `vae-elbo-300`); None for none."""
    if not name.startswith("hvae-"):
        return None
    parts = name[1:].split("-")
    for end in range(len(parts), 1, -1):
        if "-".join(parts[:end]) in names:
            return "-".join(parts[:end])
        if parts[end - 1].isdigit():
            return None
    return None


def against_one_layer(runs_dir, name, results):
    """A two-layer row's log-likelihood minus that of its one-layer row (`one_layer_partner`),
    paired image by image: "+d ± s", or "" where either lacks its per-image file."""
    partner = one_layer_partner(name, results)
    if partner is None:
        return ""
    try:
        mean, stderr = paired_difference(os.path.join(runs_dir, name),
                                         os.path.join(runs_dir, partner))
    except ValueError:  # a row scored before per-image files existed
        return ""
    return f"{mean:+.2f} ± {stderr:.2f}"


def write_table(path, results, settings, runs_dir):
    lines = [
        "| row | what | held-out ELBO | log-likelihood (K = {k}) | two layers minus one, "
        "paired | KL per layer | active units per layer | time |".format(k=settings["eval_k"]),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, (description, metrics, seconds) in results.items():
        lines.append(
            f"| {name} | {description} | {metrics['elbo']:.2f} | "
            f"{metrics['log_likelihood']:.2f} ± {metrics['log_likelihood_stderr']:.2f} | "
            f"{against_one_layer(runs_dir, name, results)} | "
            f"{per_layer(metrics, 'kl_per_layer') or round(metrics['kl_loss'], 1)} | "
            f"{per_layer(metrics, 'active_units_per_layer') or metrics['active_units']} | "
            f"{minutes(seconds)} |")
    write_markdown(path, "compare_hierarchy.py", settings, lines)


def history(run_dir):
    """`(epochs, held-out ELBO, minutes)` of a run: its `history.csv`, and the wall time of
    each epoch's end in its TensorBoard log, counted from the end of the first epoch (a
    resumed run's pause included)."""
    import tensorflow as tf

    with open(os.path.join(run_dir, "history.csv")) as f:
        entries = list(csv.DictReader(f))
    ends = {}
    for path in glob.glob(os.path.join(run_dir, "logs", "train", "events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(path):
            event = tf.compat.v1.Event.FromString(record.numpy())
            if any(value.tag == "epoch_loss" for value in event.summary.value):
                ends[event.step] = event.wall_time
    epochs = [int(e["epoch"]) for e in entries]
    minutes = [(ends[epoch] - ends[epochs[0]]) / 60 if epoch in ends else float("nan")
               for epoch in epochs]
    return [epoch + 1 for epoch in epochs], [float(e["val_elbo"]) for e in entries], minutes


def save_two_panels(path, series, ylabel, time_label, ylim=None):
    """Each `(name, epochs, minutes, values, errors or None)` of `series` against epochs (left
    panel) and minutes (right); two-layer rows solid, one-layer rows dashed. Returns the
    figure, saved to `path`."""
    fig = Figure(figsize=(11, 4))
    by_epoch, by_time = fig.subplots(1, 2)
    for name, epochs, minutes_done, values, errors in series:
        style = ("-" if name.startswith("hvae") else "--") + ("o" if errors else "")
        for ax, x in ((by_epoch, epochs), (by_time, minutes_done)):
            ax.errorbar(x, values, yerr=errors, fmt=style, markersize=3, capsize=2, label=name)
    for ax, label in ((by_epoch, "epoch"), (by_time, time_label)):
        ax.set_xlabel(label)
        ax.set_ylabel(ylabel)
        if ylim:
            ax.set_ylim(*ylim)
        ax.grid(alpha=0.3)
    by_epoch.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=100)
    return fig


def save_curves(path, runs_dir, names):
    """The held-out ELBO of each row against epochs and against training time (the figure)."""
    series = []
    for name in names:
        if os.path.isfile(os.path.join(runs_dir, name, "history.csv")):
            epochs, elbo, minutes_done = history(os.path.join(runs_dir, name))
            series.append((name, epochs, minutes_done, elbo, None))
    return save_two_panels(path, series, "held-out ELBO (nats)",
                           "minutes after the first epoch", ylim=(-130, -85))


def save_likelihood_curves(path, runs_dir, names):
    """The held-out log-likelihood of each row that estimated it along the run
    (`log_likelihood_curve.csv`), with its standard error, against epochs and against the
    training seconds (the evaluations not counted): the figure, or None where no row has a
    curve."""
    series = []
    for name in names:
        rows = read_curve(os.path.join(runs_dir, name, "log_likelihood_curve.csv"))
        if rows:
            series.append((name, [row["epochs_trained"] for row in rows],
                           [row["train_seconds"] / 60 for row in rows],
                           [row["log_likelihood"] for row in rows],
                           [row["log_likelihood_stderr"] for row in rows]))
    if not series:
        return None
    return save_two_panels(path, series, "held-out log-likelihood (nats)",
                           "minutes of training")


def main(argv=None):
    parser = make_parser(__doc__.split("\n\n")[0], 100, 5000, os.path.join("runs", "hierarchy"),
                         os.path.join("docs", "results", "hierarchy_table.md"))
    parser.add_argument("--figures", default=os.path.join("docs", "results", "figures", "hierarchy"))
    parser.add_argument("--log-likelihood-every", type=int, default=0,
                        help="also estimate the held-out log-likelihood every N epochs")
    parser.add_argument("--log-likelihood-k", type=int, default=500,
                        help="importance samples of those estimates (default 500)")
    args = parser.parse_args(argv)
    table = rows()
    names = chosen_rows(parser, args, table)
    settings = {"epochs": args.epochs, "eval_k": args.eval_k, "seed": args.seed,
                "data_dir": args.data_dir, **BASE}
    base = {"dataset": "mnist", "data_dir": args.data_dir, "epochs": args.epochs,
            "eval_k": args.eval_k, "amortization_images": 0, "seed": args.seed, **BASE}
    if args.log_likelihood_every:
        base.update(log_likelihood_every=args.log_likelihood_every,
                    log_likelihood_k=args.log_likelihood_k)
        settings.update(log_likelihood_every=args.log_likelihood_every,
                        log_likelihood_k=args.log_likelihood_k)
    limit_training_images(args, base, settings)
    results = run_rows(table, names, args.runs_dir, base,
                       lambda results: write_table(args.output, results, settings,
                                                   args.runs_dir))
    save_curves(os.path.join(args.figures, "elbo_curves.png"), args.runs_dir, names)
    save_likelihood_curves(os.path.join(args.figures, "log_likelihood_curves.png"),
                           args.runs_dir, names)
    for name, (_, metrics, _) in results.items():
        print(f"{name}: ELBO {metrics['elbo']:.2f}, log p(x) {metrics['log_likelihood']:.2f}",
              flush=True)
    return results


if __name__ == "__main__":
    cli.run(main)
