#!/usr/bin/env python
"""Benchmark the package against plain references and write docs/results/benchmarks.md.

    pip install -e '.[benchmark]'          # PyTorch, for the references
    python -m benchmarks.benchmark --rounds 3 --epochs 2
    python -m benchmarks.benchmark --suite cifar --rounds 3 --epochs 2 --train-images 10000

Training: `benchmarks/package_run.py` (keras_vae), `keras_reference.py` (keras.io style) and
`torch_reference.py` (pytorch/examples) train the same MLP 784-400-20 on the same dynamically
binarized MNIST, batch 128, Adam 1e-3, each in its own process, in alternating order, for
several rounds after a warm-up epoch. Log-likelihood: `package_is.py` and `torch_is.py` run
importance sampling at K = 5000 on the IWAE paper's 784-200-200-50 model, the same weights and
images on both sides. Memory: `package_stream.py` trains one epoch on the shared MNIST written
1, 8, ... times over into one IDX file, streamed from disk and, for comparison, held in memory.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile

from benchmarks.harness import REPO, best_epoch_rate, machine, matmul_peak_gflops, memory_rows, run, spread

TRAIN_PROGRAMS = {"keras_vae": "package_run.py", "keras_io": "keras_reference.py",
                  "pytorch": "torch_reference.py"}
# Multiply-adds of the MLP 784-400-20 per image, forward: encoder 784*400 + 400*20*2,
# decoder 20*400 + 400*784. Training costs about 3 forward passes (forward, two backward).
FORWARD_FLOPS = 2 * (784 * 400 + 400 * 20 * 2 + 20 * 400 + 400 * 784)
TRAIN_FLOPS = 3 * FORWARD_FLOPS
# Per importance sample of the 784-200-200-50 model: the decoder 50-200-200-784.
IS_FLOPS = 2 * (50 * 200 + 200 * 200 + 200 * 784)
# docs/results/benchmarks.md is measured tables, then hand-written notes under this heading, which a
# new run keeps.
NOTES_HEADING = "## Notes (written by hand, kept by new runs)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", choices=["mnist", "cifar"], default="mnist")
    parser.add_argument("--quality-epochs", type=int, default=10,
                        help="cifar: epochs of the held-out bits/dim comparison (0 skips it)")
    parser.add_argument("--memory-images", type=int, nargs="*", default=[10_000, 45_000],
                        help="cifar: training images of the streamed/in-memory comparison")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per run")
    parser.add_argument("--train-images", type=int, default=0, help="training images of the "
                        "timed runs and of each copy of the memory benchmark (0: all 24,345)")
    parser.add_argument("--is-images", type=int, default=100)
    parser.add_argument("--is-k", type=int, default=5000)
    parser.add_argument("--is-model", default="", help="a trained .keras model of the IWAE "
                        "architecture (default: freshly initialized weights)")
    parser.add_argument("--memory-copies", type=int, nargs="*", default=[1, 8],
                        help="dataset sizes of the memory benchmark, in copies of the shared "
                             "MNIST (none: skip it)")
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--output", default=os.path.join(REPO, "docs", "results", "benchmarks.md"))
    args = parser.parse_args(argv)
    if args.suite == "cifar":
        from benchmarks.benchmark_cifar import cifar_suite

        return cifar_suite(args, argv)
    programs = {k: v for k, v in TRAIN_PROGRAMS.items() if not (args.skip_torch and k == "pytorch")}
    results = {name: [] for name in programs}
    common = ["--epochs", str(args.epochs), "--train-images", str(args.train_images)]
    for round_index in range(args.rounds):
        order = list(programs)
        if round_index % 2:
            order.reverse()
        for name in order:
            result = run(programs[name], *common)
            results[name].append(result)
            print(f"round {round_index + 1}: {name}: {result['images_per_second']:,.0f} img/s, "
                  f"peak {result['peak_memory_mib']:.0f} MiB", flush=True)
    peak = matmul_peak_gflops()
    exchange = os.path.join(tempfile.mkdtemp(prefix="keras_vae_bench_"), "is_exchange.npz")
    is_args = ["--images", str(args.is_images), "--k", str(args.is_k),
               "--exchange", exchange] + (
        ["--model", os.path.abspath(args.is_model)] if args.is_model
                                                   else [])
    torch_args = ["--k", str(args.is_k), "--chunk", str(min(1000, args.is_k)),
                  "--exchange", exchange]
    package_is, torch_is = [], []
    for round_index in range(args.rounds):  # the package first: it writes the exchange file
        order = ["package", "torch"][:1 if args.skip_torch else 2]
        if round_index % 2:
            order.reverse()
        for name in order:
            if name == "package":
                package_is.append(run("package_is.py", *is_args))
            else:
                torch_is.append(run("torch_is.py", *torch_args))
            latest = (package_is if name == "package" else torch_is)[-1]
            print(f"round {round_index + 1}: {name} importance sampling: "
                  f"{latest['samples_per_second']:,.0f} samples/s", flush=True)
    memory = measure_memory(args.memory_copies, args.train_images)
    write_report(args, argv, results, peak, package_is, torch_is, memory)
    print(f"Written {args.output}")


def measure_memory(copies_list, images_per_copy=0):
    """Peak memory of one training epoch on `copies` x the shared MNIST (its first
    `images_per_copy` images when > 0), streamed and in memory, each in its own process; the
    IDX files live in a temporary directory."""
    results = []
    with tempfile.TemporaryDirectory(prefix="keras_vae_stream_") as directory:
        for copies in copies_list:
            path = os.path.join(directory, f"mnist{copies}-idx3-ubyte")
            run("package_stream.py", "--write", path, "--copies", str(copies),
                "--train-images", str(images_per_copy))
            for in_memory in ("0", "1"):
                result = run("package_stream.py", "--idx", path, "--in-memory", in_memory,
                             "--epochs", "1")
                result["copies"] = copies
                results.append(result)
                print(f"memory: {result['name']}, {result['images']:,} images: peak "
                      f"{result['peak_memory_mib']:.0f} MiB", flush=True)
            os.remove(path)
    return results


def write_report(args, argv, results, peak, package_is, torch_is, memory):
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.date.today()} on {machine()} (no GPU), with",
        f"`python -m benchmarks.benchmark {' '.join(sys.argv[1:] if argv is None else argv)}`.",
        f"Practical float32 matrix-multiply peak of this machine (TensorFlow, 2048^3): "
        f"**{peak:.0f} GFLOP/s**.",
        "",
        "## Training throughput",
        "",
        "MLP 784-400-20, ReLU, Bernoulli, batch 128, Adam 1e-3, dynamic binarization, "
        f"{args.train_images or 24345:,} MNIST images; each program in its own process, "
        "alternating order, "
        f"{args.rounds} rounds of {args.epochs} timed epochs after a warm-up epoch. About "
        f"{TRAIN_FLOPS / 1e6:.1f} MFLOP per training image (3 x forward).",
        "",
        "| program | images/s (all timed epochs, median of runs) | spread | best epoch "
        "images/s | GFLOP/s (best) | fraction of peak (best) | peak memory MiB "
        "| loss per epoch (nats) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, runs in results.items():
        rates = [r["images_per_second"] for r in runs]
        best = max(best_epoch_rate(r) for r in runs)
        gflops = best * TRAIN_FLOPS / 1e9
        losses = ", ".join(f"{v:.1f}" for v in runs[0]["epoch_losses"])
        lines.append(f"| {name} | {statistics.median(rates):,.0f} | {spread(rates)} | "
                     f"{best:,.0f} | {gflops:.1f} | {gflops / peak:.0%} | "
                     f"{max(r['peak_memory_mib'] for r in runs):.0f} | {losses} |")
    lines += ["", "Ratios of keras_vae to each reference, measured pair by pair (same round), "
              "on all timed epochs and on each run's fastest epoch:", ""]
    for reference in results:
        if reference == "keras_vae":
            continue
        pairs = list(zip(results["keras_vae"], results[reference]))
        ratios = [a["images_per_second"] / b["images_per_second"] for a, b in pairs]
        best_ratios = [best_epoch_rate(a) / best_epoch_rate(b) for a, b in pairs]
        lines.append(f"- keras_vae / {reference}: median **{statistics.median(ratios):.2f}x** "
                     f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}); fastest epochs: "
                     f"median **{statistics.median(best_ratios):.2f}x** "
                     f"(rounds: {', '.join(f'{r:.2f}' for r in best_ratios)})")
    lines += [
        "",
        f"## Importance-sampled log-likelihood (K = {args.is_k})",
        "",
        f"The IWAE paper's 784-200-200-50 tanh model "
        f"({'trained: ' + args.is_model if args.is_model else 'freshly initialized weights'}), "
        f"{package_is[0]['images']} binarized MNIST images, the same weights and images on "
        f"both sides; {args.rounds} rounds, alternating. About {IS_FLOPS / 1e3:.0f} kFLOP per "
        "importance sample (decoder).",
        "",
        "| program | samples/s (median) | spread | GFLOP/s | fraction of peak | seconds "
        "| log p(x) (mean +- s.e.) | peak memory MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for runs in filter(None, (package_is, torch_is)):
        rates = [r["samples_per_second"] for r in runs]
        median = statistics.median(rates)
        gflops = median * IS_FLOPS / 1e9
        first = runs[0]
        lines.append(f"| {first['name']} | {median:,.0f} | {spread(rates)} | {gflops:.1f} | "
                     f"{gflops / peak:.0%} | {statistics.median(r['seconds'] for r in runs):.1f}"
                     f" | {first['log_likelihood']:.2f} +- {first['log_likelihood_stderr']:.2f} | "
                     f"{max(r['peak_memory_mib'] for r in runs):.0f} |")
    if torch_is:
        ratios = [a["samples_per_second"] / b["samples_per_second"]
                  for a, b in zip(package_is, torch_is)]
        lines += ["", "keras_vae / pytorch, pair by pair: median "
                  f"**{statistics.median(ratios):.2f}x** importance samples per second (rounds: "
                  f"{', '.join(f'{r:.2f}' for r in ratios)})."]
    if memory:
        lines += [
            "",
            "## Peak memory of training: streamed against in memory",
            "",
            "One epoch of the training benchmark's model on the shared MNIST written N times "
            "over into one IDX file. Streamed: `idx_dataset` + `stream_dataset` (shuffle buffer "
            "of 10,000 images, nothing cached); in memory: `read_idx` + `make_dataset`. Peak "
            "resident memory of the training process (TensorFlow itself takes most of it).",
            "",
            "| images | streamed: peak MiB | in memory: peak MiB | streamed images/s |",
            "| --- | --- | --- | --- |",
        ]
        lines += memory_rows(memory, "keras_vae_streamed", "keras_vae_in_memory")
    lines += kept_notes(args.output)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write("\n".join(lines) + "\n")


def kept_notes(path):
    """The hand-written part of an earlier report, from its `NOTES_HEADING` line to the end,
    so that a new run replaces the measured tables and keeps the notes."""
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        text = f.read()
    if NOTES_HEADING not in text:
        return []
    return ["", NOTES_HEADING + text.split(NOTES_HEADING, 1)[1].rstrip("\n")]


if __name__ == "__main__":
    main()
