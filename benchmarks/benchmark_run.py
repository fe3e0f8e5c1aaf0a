#!/usr/bin/env python
"""Whole training runs timed as a user times them, side by side, and the default optimizer.

    pip install -e '.[benchmark]'          # PyTorch, for the reference
    python -m benchmarks.benchmark_run --rounds 3

Each round runs, one process at a time, in this order:
- `keras-vae train` for 1 and for N epochs (`--epochs`, default 9) on the shared MNIST
  (784-400-20 MLP, batch 128, 10% held out, every per-epoch step of a run: validation,
  history, TensorBoard, image grids every 5 epochs, checkpoints), timed from the process'
  start to its end; its final evaluation is kept small (`--eval-k 5 --amortization-images 0`):
  it cancels in the difference, and at its default size its own spread (seconds) drowned
  three epochs;
- `benchmarks/torch_run.py`, a plain PyTorch loop doing the same per-epoch work (training on
  freshly binarized images, a validation pass), for 1 and for N epochs, timed the same way;
- `benchmarks/package_run.py`, `fit` alone (no validation, no callbacks) on all 24,345
  images, with Keras' `Adam` (the default).
An epoch of a whole run costs (T(N) - T(1)) / (N - 1): start-up, data loading and the final
evaluation cancel. Throughput = training images / that cost. Ratios are taken round by round
(both sides measured minutes apart) and their medians reported, with every round's. This
machine's slowdowns come and go (docs/results/benchmarks.md), so the least disturbed figures are
reported too: for whole runs (N - 1) x images / (fastest T(N) - fastest T(1)) over the rounds, for
`fit` alone its fastest epoch. Writes `docs/results/benchmark_run.md`.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST = os.path.join(REPO, "..", "shared", "data", "mnist")


def timed(command, cwd=REPO):
    """Seconds a command takes, start to end, and its RESULT line (or None)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{command} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    return seconds, (json.loads(lines[-1][len("RESULT "):]) if lines else None)


def package_run(epochs, run_dir, data_dir, repo=REPO):
    return [sys.executable, os.path.join(repo, "scripts", "train.py"), "--dataset", "mnist",
            "--data-dir", data_dir, "--hidden-units", "400", "--latent-dim", "20",
            "--batch-size", "128", "--epochs", str(epochs), "--output-dir", run_dir,
            "--eval-k", "5", "--amortization-images", "0", "--verbose", "0"]


def torch_run(epochs, data_dir):
    return [sys.executable, os.path.join(REPO, "benchmarks", "torch_run.py"),
            "--data-dir", data_dir, "--epochs", str(epochs)]


def fit_alone(data_dir):
    return [sys.executable, os.path.join(REPO, "benchmarks", "package_run.py"),
            "--data-dir", data_dir, "--epochs", "3"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=9, help="N, the longer runs' epochs")
    parser.add_argument("--data-dir", default=MNIST)
    parser.add_argument("--output", default=os.path.join(REPO, "docs", "results", "benchmark_run.md"))
    parser.add_argument("--baseline-repo", help="a checkout of an earlier version, whose "
                        "keras-vae train is timed the same way in each round")
    args = parser.parse_args(argv)
    train_images = 21911  # 24,345 less the 10% held out, in both runs
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            row = {}
            for epochs in (1, args.epochs):
                run_dir = os.path.join(scratch, f"run-{round_}-{epochs}")
                row[f"package_{epochs}"], _ = timed(package_run(epochs, run_dir, args.data_dir))
                row[f"torch_{epochs}"], _ = timed(torch_run(epochs, args.data_dir))
                if args.baseline_repo:
                    row[f"baseline_{epochs}"], _ = timed(
                        package_run(epochs, run_dir + "-baseline", args.data_dir,
                                    args.baseline_repo), cwd=args.baseline_repo)
            _, result = timed(fit_alone(args.data_dir))
            row["fit_adam"] = result["images_per_second"]
            row["fit_adam_best"] = result["images"] / min(result["epoch_seconds"])
            for side in ("package", "torch", "baseline")[:3 if args.baseline_repo else 2]:
                row[side] = (args.epochs - 1) * train_images / (
                    row[f"{side}_{args.epochs}"] - row[f"{side}_1"])
            rows.append(row)
            print(json.dumps(row), flush=True)

    def median(key):
        return statistics.median(row[key] for row in rows)

    def ratio(a, b):
        values = [row[a] / row[b] for row in rows]
        return statistics.median(values), ", ".join(f"{v:.2f}" for v in values)

    def least_disturbed(name):
        fastest = {epochs: min(row[f"{name}_{epochs}"] for row in rows)
                   for epochs in (1, args.epochs)}
        return (args.epochs - 1) * train_images / (fastest[args.epochs] - fastest[1])

    best = {name: least_disturbed(name) for name in ("package", "torch")}
    if args.baseline_repo:
        best["baseline"] = least_disturbed("baseline")
    best_fit = {name: max(row[f"fit_{name}_best"] for row in rows) for name in ("adam",)}
    sides = ("package", "torch", "baseline") if args.baseline_repo else ("package", "torch")

    lines = [
        f"<!-- written by benchmarks/benchmark_run.py {' '.join(argv or sys.argv[1:])} -->",
        "# Whole training runs, timed as a user times them",
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d')}; {args.rounds} rounds, one process at a time, "
        "alternating. Command: `python -m benchmarks.benchmark_run --rounds "
        f"{args.rounds} --epochs {args.epochs}`.",
        "",
        "| what | median | rounds |",
        "| --- | ---: | --- |",
        f"| `keras-vae train`, images/s per epoch ((T{args.epochs} - T1) / {args.epochs - 1}) | "
        f"{median('package'):.0f} | "
        + ", ".join(f"{row['package']:.0f}" for row in rows) + " |",
        f"| PyTorch loop with validation, images/s per epoch | {median('torch'):.0f} | "
        + ", ".join(f"{row['torch']:.0f}" for row in rows) + " |",
        f"| `fit` alone, Keras `Adam` (default), images/s | {median('fit_adam'):.0f} | "
        + ", ".join(f"{row['fit_adam']:.0f}" for row in rows) + " |",
        *([f"| `keras-vae train` of the baseline ({args.baseline_repo}), images/s per epoch "
           f"| {median('baseline'):.0f} | "
           + ", ".join(f"{row['baseline']:.0f}" for row in rows) + " |",
           "| whole run / the baseline's | {:.2f}x | {} |".format(
               *ratio("package", "baseline"))] if args.baseline_repo else []),
        "| whole run / PyTorch loop | {:.2f}x | {} |".format(*ratio("package", "torch")),
        "| whole run / `fit` alone (default Adam) | {:.2f}x | {} |".format(
            *ratio("package", "fit_adam")),
        "",
        f"Least disturbed (whole runs: {args.epochs - 1} x images / (fastest T({args.epochs}) - "
        "fastest T(1)) over the "
        "rounds; `fit` alone: its fastest epoch over the rounds), images/s: "
        f"`keras-vae train` {best['package']:.0f}, PyTorch loop {best['torch']:.0f}, `fit` "
        f"alone with Adam {best_fit['adam']:.0f}"
        + (f", the baseline's `keras-vae train` {best['baseline']:.0f}"
           if args.baseline_repo else "") + ". Ratios: whole run / PyTorch loop "
        f"{best['package'] / best['torch']:.2f}x; whole run / `fit` alone (Adam) "
        f"{best['package'] / best_fit['adam']:.2f}x"
        + (f"; whole run / the baseline's {best['package'] / best['baseline']:.2f}x"
           if args.baseline_repo else "") + ".",
        "",
        f"Seconds per process, every round (1 and {args.epochs} epochs):",
        "",
        "| round | " + " | ".join(f"{name} {epochs}" for name in sides
                                 for epochs in (1, args.epochs))
        + " |",
        "| ---: |" + " ---: |" * (2 * len(sides)),
        *(f"| {i + 1} | " + " | ".join(f"{row[f'{name}_{epochs}']:.1f}" for name in sides
                                       for epochs in (1, args.epochs)) + " |"
          for i, row in enumerate(rows)),
    ]
    with open(args.output, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
