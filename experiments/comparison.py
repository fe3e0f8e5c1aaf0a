"""What the comparison scripts share: one training run per row, read back when finished, and a
markdown table rewritten atomically after every row."""

import argparse
import json
import os
import time

from keras_vae.app.runs import TrainConfig
from keras_vae.atomic import atomic_write
from keras_vae.app.training import train


def run_rows(table, names, runs_dir, base_settings, write_table):
    """Trains row `name` of `table` (`{name: (TrainConfig overrides, description)}`) for each
    of `names` into `<runs_dir>/<name>/` with `base_settings`, unless its `metrics.json`
    exists; calls `write_table(results)` after each row; returns
    `{name: (description, metrics, seconds or None)}`, the seconds of the `train` call that
    finished the row (training and evaluation; for a resumed row, only what was left).

    An unfinished row is resumed, not restarted: `keras_vae.app.training.train` continues after
    its last finished epoch, or evaluates a model that finished training."""
    results = {}
    for index, name in enumerate(names):
        overrides, description = table[name]
        run_dir = os.path.join(runs_dir, name)
        metrics_path = os.path.join(run_dir, "metrics.json")
        seconds_path = os.path.join(run_dir, "train_seconds.txt")
        seconds = None
        if not os.path.isfile(metrics_path):
            print(f"[{index + 1}/{len(names)}] {name}: {description}", flush=True)
            config = TrainConfig.from_dict({**base_settings, **overrides, "output_dir": run_dir})
            start = time.perf_counter()
            train(config, verbose=2)
            seconds = time.perf_counter() - start
            with open(seconds_path, "w") as f:
                f.write(f"{seconds:.1f}\n")
        elif os.path.isfile(seconds_path):
            with open(seconds_path) as f:
                seconds = float(f.read())
        with open(metrics_path) as f:
            results[name] = (description, json.load(f), seconds)
        write_table(results)
    return results


def write_markdown(path, script, settings, lines):
    """Writes a table's `lines` under a comment naming the script and its settings; a kill
    never leaves half a table."""
    text = (f"<!-- written by experiments/{script} with {json.dumps(settings)} -->\n"
            + "\n".join(lines) + "\n")
    with atomic_write(path) as temporary, open(temporary, "w") as f:
        f.write(text)


def minutes(seconds):
    return "" if seconds is None else f"{seconds / 60:.1f} min"


def make_parser(description, epochs, eval_k, runs_dir, output):
    """The arguments every comparison script takes, with its own defaults."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", default=os.path.join("..", "shared", "data", "mnist"))
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--eval-k", type=int, default=eval_k)
    parser.add_argument("--rows", nargs="+", help="names of the rows to run (default all)")
    parser.add_argument("--runs-dir", default=runs_dir)
    parser.add_argument("--output", default=output)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-train-examples", type=int,
                        help="train each row on the first N training images only (default all)")
    return parser


def limit_training_images(args, base, settings):
    """Adds `--max-train-examples`, when given, to the rows' settings and the table's."""
    if args.max_train_examples is not None:
        base["max_train_examples"] = settings["max_train_examples"] = args.max_train_examples


def chosen_rows(parser, args, table):
    """The row names `--rows` chose (all by default); unknown ones end the script."""
    names = args.rows or list(table)
    unknown = sorted(set(names) - set(table))
    if unknown:
        parser.error(f"argument --rows: unknown row(s) {unknown}; choose from {list(table)}")
    return names
