#!/usr/bin/env python
"""What each choice is worth on the CIFAR-10 folder: training runs of `keras-vae train`
that differ in one choice at a time (network, likelihood, latent size), each scored on the
5,000 held-out images in bits/dim (importance-sampled with `--eval-k`), written as a table to
docs/results/cifar_recipes.md.

    python -m experiments.cifar_recipes --epochs 3 --eval-k 20
    python -m experiments.cifar_recipes --only resnet-mixture --epochs 12   # one recipe longer

Each run lives in `<runs-dir>/<recipe>-e<epochs>` and is resumed there if interrupted (run
the same command again); a finished run is read, not trained again.
"""

import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CIFAR_DIR = os.path.join(REPO, "..", "shared", "data", "cifar10", "train")

RECIPES = {
    "conv-logistic": ["--architecture", "conv", "--hidden-units", "32", "64", "128",
                      "--latent-dim", "128", "--likelihood", "discretized_logistic"],
    "conv-mixture": ["--architecture", "conv", "--hidden-units", "32", "64", "128",
                     "--latent-dim", "128", "--likelihood", "logistic_mixture"],
    "resnet-logistic": ["--architecture", "resnet", "--hidden-units", "32", "64", "128",
                        "--blocks", "1", "--latent-dim", "128", "--likelihood",
                        "discretized_logistic"],
    "resnet-mixture": ["--architecture", "resnet", "--hidden-units", "32", "64", "128",
                       "--blocks", "1", "--latent-dim", "128", "--likelihood",
                       "logistic_mixture"],
    "resnet-mixture-z512": ["--architecture", "resnet", "--hidden-units", "32", "64", "128",
                            "--blocks", "1", "--latent-dim", "512", "--likelihood",
                            "logistic_mixture"],
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=CIFAR_DIR)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--eval-k", type=int, default=20)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--only", nargs="*", choices=sorted(RECIPES), help="default: all")
    parser.add_argument("--runs-dir", default=os.path.join(REPO, "runs", "cifar-recipes"))
    parser.add_argument("--output", default=os.path.join(REPO, "docs", "results", "cifar_recipes.md"))
    args = parser.parse_args(argv)
    rows = []
    for name in args.only or RECIPES:
        run_dir = os.path.join(args.runs_dir, f"{name}-e{args.epochs}")
        command = [sys.executable, os.path.join(REPO, "scripts", "train.py"),
                   "--data-dir", args.data_dir, "--validation-fraction", "0.1",
                   "--batch-size", "128", "--learning-rate", str(args.learning_rate),
                   "--epochs", str(args.epochs), "--eval-k", str(args.eval_k),
                   "--amortization-images", "0", "--image-log-every", "1000",
                   "--output-dir", run_dir, "--verbose", "2", *RECIPES[name]]
        subprocess.run(command, check=True, cwd=REPO)
        with open(os.path.join(run_dir, "metrics.json")) as f:
            metrics = json.load(f)
        # From the run's start to its metrics (a finished run is read again, not retrained).
        seconds = (os.path.getmtime(os.path.join(run_dir, "metrics.json"))
                   - os.path.getmtime(os.path.join(run_dir, "config.json")))
        rows.append((name, metrics, seconds))
        print(f"{name}: {metrics['log_likelihood_bits_per_dim']:.3f} bits/dim", flush=True)
    write_table(args, argv, rows)


def write_table(args, argv, rows):
    appending = os.path.isfile(args.output)
    lines = [""] if appending else ["# Recipes on the CIFAR-10 folder", ""]
    command = " ".join(sys.argv[1:] if argv is None else argv)
    lines += [f"## {args.epochs} epochs", "",
              f"`python -m experiments.cifar_recipes {command}`"
              f": {args.epochs} epochs on the 45,000 training images of "
              "`../shared/data/cifar10/train`, batch 128, Adam from "
              f"{args.learning_rate} with the cosine schedule, scored on the 5,000 held-out "
              f"images (importance-sampled log-likelihood, K = {args.eval_k}; the standard "
              "error is over images). Seconds: from the run's start to its metrics, training "
              "and evaluation, on a machine shared with other benchmark runs.", "",
              "| recipe | flags | held-out bits/dim (IS) | s.e. | ELBO bits/dim | seconds |",
              "| --- | --- | --- | --- | --- | --- |"]
    for name, metrics, seconds in rows:
        lines.append(
            f"| {name} | `{' '.join(RECIPES[name])}` | "
            f"{metrics['log_likelihood_bits_per_dim']:.3f} | "
            f"{metrics['log_likelihood_bits_per_dim_stderr']:.3f} | "
            f"{metrics['elbo_bits_per_dim']:.3f} | {seconds:.0f} |")
    with open(args.output, "a" if appending else "w") as f:
        f.write("\n".join(lines) + "\n\n")
    print(f"Written {args.output}")


if __name__ == "__main__":
    main()
