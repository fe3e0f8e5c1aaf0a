#!/usr/bin/env python
"""A held-out figure of runs against epochs and against training time, from each run
directory's `history.csv` (`train_seconds`, which every run logs).

    python -m experiments.run_curves runs/a runs/b --metric val_bits_per_dim \
        --output docs/results/figures/recipes/cifar_curves.png
"""

import argparse
import csv
import os

from experiments.compare_hierarchy import save_two_panels


def history_series(run_dir, metric, name=None):
    """`(name, epochs, minutes, values, None)` of a run's `history.csv` for `save_two_panels`."""
    with open(os.path.join(run_dir, "history.csv")) as f:
        rows = list(csv.DictReader(f))
    if not rows or metric not in rows[0] or "train_seconds" not in rows[0]:
        raise ValueError(f"Argument `metric` must be a column of {run_dir}/history.csv beside "
                         f"train_seconds. Received: metric={metric!r} with columns "
                         f"{sorted(rows[0]) if rows else []}")
    return (name or os.path.basename(os.path.normpath(run_dir)),
            [int(row["epoch"]) + 1 for row in rows],
            [float(row["train_seconds"]) / 60 for row in rows],
            [float(row[metric]) for row in rows], None)


def save_run_curves(path, run_dirs, metric, ylabel=None):
    series = [history_series(run_dir, metric) for run_dir in run_dirs]
    return save_two_panels(path, series, ylabel or metric, "minutes of training")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run directories")
    parser.add_argument("--metric", default="val_elbo", help="a column of history.csv")
    parser.add_argument("--ylabel")
    parser.add_argument("--output", required=True, help="the PNG file")
    args = parser.parse_args(argv)
    save_run_curves(args.output, args.runs, args.metric, args.ylabel)


if __name__ == "__main__":
    main()
