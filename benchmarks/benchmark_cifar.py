"""The CIFAR-10 suite of `benchmarks/benchmark.py` (`--suite cifar`): writes
docs/results/benchmark_cifar.md. See `benchmarks/benchmark.py` for the programs it runs."""

import datetime
import os
import statistics
import sys

from benchmarks.harness import best_epoch_rate, machine, memory_rows, run, spread

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cifar_suite(args, argv):
    output = (os.path.join(REPO, "docs", "results", "benchmark_cifar.md")
              if args.output.endswith("benchmarks.md") else args.output)
    common = ["--epochs", str(args.epochs), "--train-images", str(args.train_images),
              "--evaluate", "0"]
    programs = {"keras_vae": "cifar_package.py", "pytorch": "cifar_torch.py"}
    results = {name: [] for name in programs}
    for round_index in range(args.rounds):
        order = list(programs)[::-1 if round_index % 2 else 1]
        for name in order:
            result = run(programs[name], *common)
            results[name].append(result)
            print(f"round {round_index + 1}: {name}: {result['images_per_second']:,.0f} img/s",
                  flush=True)
    pipeline = run("cifar_pipeline.py", "--epochs", "3")
    print(f"pipeline: {pipeline['images_per_second']:,.0f} img/s", flush=True)
    memory = []
    for images in args.memory_images:
        for storage in ("stream", "memory"):
            result = run("cifar_package.py", "--image-storage", storage, "--train-images",
                         str(images), "--warmup-epochs", "0", "--epochs", "1", "--evaluate", "0")
            memory.append(result)
            print(f"memory: {storage}, {images}: {result['peak_memory_mib']:.0f} MiB", flush=True)
    quality = {}
    if args.quality_epochs:
        for name, program in programs.items():
            quality[name] = run(program, "--warmup-epochs", "0", "--epochs",
                                str(args.quality_epochs), "--evaluate", "1")
            print(f"quality: {name}: {quality[name]['held_out_bits_per_dim']:.3f} bits/dim",
                  flush=True)
    lines = report_lines(args, argv, results, pipeline, memory, quality)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"Written {output}")


def report_lines(args, argv, results, pipeline, memory, quality):
    command = " ".join(sys.argv[1:] if argv is None else argv)
    lines = [
        "# Benchmarks on the CIFAR-10 folder",
        "",
        f"Measured {datetime.date.today()} on {machine()} (no GPU), with",
        f"`python -m benchmarks.benchmark {command}`.",
        "",
        "The 50,000 JPEG files of `../shared/data/cifar10/train`, 5,000 held out (the "
        "package's seeded split, the same images on both sides). The network of "
        "`--architecture conv --hidden-units 32 64 128 --latent-dim 128`, a discretized "
        "logistic likelihood, batch 128, Adam 1e-3 (constant). keras_vae: "
        "`keras_vae.data.load` of the folder (decoded into memory), `make_dataset`, `VAE.fit` "
        "with the training script's 32 steps per execution (`benchmarks/cifar_package.py`); "
        "PyTorch: the folder decoded to one uint8 tensor once (PIL), a plain loop "
        "(`benchmarks/cifar_torch.py`).",
        "",
        "## Training throughput",
        "",
        f"{args.train_images or 45000:,} training images; each program in its own process, "
        f"alternating order, {args.rounds} rounds of {args.epochs} timed epoch(s) after a "
        "warm-up epoch.",
        "",
        "| program | images/s (median of rounds) | spread | best epoch images/s | peak MiB |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, runs in results.items():
        rates = [r["images_per_second"] for r in runs]
        lines.append(f"| {name} | {statistics.median(rates):,.0f} | {spread(rates)} | "
                     f"{max(best_epoch_rate(r) for r in runs):,.0f} | "
                     f"{max(r['peak_memory_mib'] for r in runs):.0f} |")
    pairs = list(zip(results["keras_vae"], results["pytorch"]))
    ratios = [a["images_per_second"] / b["images_per_second"] for a, b in pairs]
    best = [best_epoch_rate(a) / best_epoch_rate(b) for a, b in pairs]
    lines += ["", f"keras_vae / pytorch, round by round: median **{statistics.median(ratios):.2f}x**"
              f" (rounds: {', '.join(f'{r:.2f}' for r in ratios)}); fastest epochs: median "
              f"**{statistics.median(best):.2f}x** (rounds: {', '.join(f'{r:.2f}' for r in best)})."
              " The goal: at least 1.2x.",
              "",
              "## The input pipeline alone",
              "",
              f"JPEG folder to float batches of 128 (`make_dataset` on the folder's "
              f"`ImageFiles`, decoded from the files every epoch, as a streamed run does), "
              f"nothing else running: **{pipeline['images_per_second']:,.0f} images/s** "
              f"(fastest of 3 passes over {pipeline['images']:,} files), "
              f"**{pipeline['images_per_second'] / statistics.median(r['images_per_second'] for r in results['keras_vae']):.1f}x**"
              " the package's training rate above (goal: at least 5x).",
              "",
              "## Peak memory: a streamed folder against one held in memory",
              "",
              "One epoch of the benchmark's training, the folder's images streamed from the "
              "JPEG files (`--image-storage stream`, nothing cached) or decoded into memory "
              "first; peak resident memory of the process (TensorFlow itself takes most).",
              "",
              "| training images | streamed: peak MiB | in memory: peak MiB | streamed images/s |",
              "| --- | --- | --- | --- |"]
    lines += memory_rows(memory, "keras_vae_stream", "keras_vae_memory")
    if quality:
        epochs = args.quality_epochs
        lines += ["", f"## Held-out bits/dim after {epochs} epochs", "",
                  f"Each program trained {epochs} epochs on the 45,000 training images, then "
                  "scored the 5,000 held-out images: negative ELBO (one z per image) / "
                  "(3072 ln 2).", "",
                  "| program | held-out bits/dim | training loss per epoch (nats) | seconds |",
                  "| --- | --- | --- | --- |"]
        for name, result in quality.items():
            losses = ", ".join(f"{v:.0f}" for v in result["epoch_losses"])
            lines.append(f"| {name} | {result['held_out_bits_per_dim']:.3f} | {losses} | "
                         f"{sum(result['epoch_seconds']):.0f} |")
    return lines
