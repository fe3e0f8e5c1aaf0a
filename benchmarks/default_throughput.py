"""The default MLP's training throughput in this tree against another checkout, alternating.

    git worktree add /tmp/baseline 3c01304
    python -m benchmarks.default_throughput --baseline-repo /tmp/baseline --rounds 5

Each round runs `benchmarks/package_run.py` of this tree and of the baseline, one process at a
time, in alternating order: `fit` alone of the MLP 784-400-20 VAE on the shared MNIST
(dynamic binarization, batch 128, Keras' Adam) with the training script's 32 steps per
execution and with `VAE.compile`'s default of 1. Each process imports its own tree's
keras_vae (PYTHONPATH). The figure is images per second over the timed epochs; the ratio is
taken round by round (both sides minutes apart) and its median reported, with every round's.
Writes `docs/results/default_throughput.md`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from benchmarks.harness import REPO, machine

SETTINGS = {"32 steps per execution (keras-vae train)": 32, "1 step per execution (compile())": 1}


def fit_alone(repo, steps_per_execution, args):
    """images/s of `fit` alone in `repo`'s tree."""
    command = [sys.executable, os.path.join(repo, "benchmarks", "package_run.py"),
               "--data-dir", os.path.abspath(args.data_dir), "--epochs", str(args.epochs),
               "--train-images", str(args.train_images),
               "--steps-per-execution", str(steps_per_execution)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=repo)
    done = subprocess.run(command, cwd=os.path.join(repo, "benchmarks"), env=env,
                          capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{repo}: package_run.py failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])["images_per_second"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-repo", required=True,
                        help="a checkout of the baseline (for example a git worktree)")
    parser.add_argument("--data-dir", default=os.path.join(REPO, "..", "shared", "data",
                                                           "mnist"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per process")
    parser.add_argument("--train-images", type=int, default=0, help="0: all of them")
    parser.add_argument("--output", default=os.path.join(REPO, "docs", "results",
                                                         "default_throughput.md"))
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"argument --rounds: expected an int >= 1, got {args.rounds}")
    baseline = os.path.abspath(args.baseline_repo)
    rows = {name: {"current": [], "baseline": []} for name in SETTINGS}
    for round_index in range(args.rounds):
        order = ("current", "baseline") if round_index % 2 == 0 else ("baseline", "current")
        for name, steps in SETTINGS.items():
            for side in order:
                rate = fit_alone(REPO if side == "current" else baseline, steps, args)
                rows[name][side].append(rate)
                print(f"round {round_index + 1}, {name}, {side}: {rate:.0f} images/s",
                      flush=True)
    lines = [
        f"<!-- written by benchmarks/default_throughput.py {' '.join(argv or sys.argv[1:])} -->",
        "# The default MLP's training throughput: this tree against a baseline",
        "",
        f"{machine()}, {time.strftime('%Y-%m-%d')}; baseline `{baseline}`; {args.rounds} "
        "rounds, one process at a time, alternating; `fit` alone of the MLP 784-400-20 VAE on "
        "the shared MNIST, batch 128, Keras' Adam, images per second over "
        f"{args.epochs} timed epochs after a warm-up epoch.",
        "",
        "| setting | this tree, median images/s | baseline, median images/s | this tree / baseline, median of rounds | every round |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, sides in rows.items():
        ratios = [a / b for a, b in zip(sides["current"], sides["baseline"])]
        lines.append(f"| {name} | {statistics.median(sides['current']):.0f} | "
                     f"{statistics.median(sides['baseline']):.0f} | "
                     f"{statistics.median(ratios):.3f} | "
                     + ", ".join(f"{r:.3f}" for r in ratios) + " |")
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return rows


if __name__ == "__main__":
    main()
