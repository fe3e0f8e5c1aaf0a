"""The start-up of a first `fit`: optimizers built before it (`build_optimizers`, what `fit`
does) against built inside the first trace of `train_step` (Keras' TensorFlow trainer without
a strategy), which makes TensorFlow trace the step twice.

    python -m benchmarks.fit_startup --rounds 5

Each round builds fresh models of MNIST's shape (the MLP 784-400-20 VAE, the hierarchical VAE
and the VAE-GAN, as the training command makes them) and times `fit` over one batch of 100
random binary images, once each way, in alternating order, in one process; the median of each
way and the median of the round-by-round ratios are reported. Writes
`docs/results/fit_startup.md`.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_vae  # noqa: E402
from benchmarks.harness import REPO, machine  # noqa: E402

MODELS = {
    "VAE 784-400-20": lambda: keras_vae.VAE.from_architecture((28, 28, 1), 20,
                                                              hidden_units=[400], seed=0),
    "HierarchicalVAE 784-(500,500)-100-50": lambda: keras_vae.HierarchicalVAE.from_architecture(
        (28, 28, 1), 100, hidden_units=[500, 500], upper_latent_dims=[50], seed=0),
    "VAEGAN 784-400-20": lambda: keras_vae.VAEGAN.from_architecture((28, 28, 1), 20,
                                                                    hidden_units=[400], seed=0),
}


def first_fit_seconds(make, x, built_first):
    keras.utils.set_random_seed(0)
    model = make()
    model.compile()
    if not built_first:
        model.build_optimizers = lambda: None  # as Keras leaves it: built inside the trace
    start = time.perf_counter()
    model.fit(x, batch_size=100, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    assert all(getattr(model, name).built for name in ("optimizer", *model.extra_optimizers))
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", default=os.path.join(REPO, "docs", "results",
                                                         "fit_startup.md"))
    args = parser.parse_args(argv)
    x = (np.random.default_rng(0).random((100, 28, 28, 1)) > 0.5).astype("float32")
    rows = []
    for name, make in MODELS.items():
        times = {True: [], False: []}
        for round_index in range(args.rounds):
            for built_first in ((True, False) if round_index % 2 else (False, True)):
                times[built_first].append(first_fit_seconds(make, x, built_first))
        ratios = [late / early for early, late in zip(times[True], times[False])]
        rows.append((name, statistics.median(times[False]), statistics.median(times[True]),
                     statistics.median(ratios)))
        print(f"{name}: built in the trace {rows[-1][1]:.2f} s, built first "
              f"{rows[-1][2]:.2f} s, ratio {rows[-1][3]:.2f}", flush=True)
    lines = [
        "# The start-up of a first `fit`",
        "",
        f"`python -m benchmarks.fit_startup --rounds {args.rounds}` ({machine()}): the seconds "
        "of a fresh model's first `fit` over one batch of 100 images (tracing `train_step` "
        "and one step), the optimizers built inside the first trace (Keras' TensorFlow "
        "trainer without a strategy: TensorFlow then traces the step a second time) or "
        "before it (`build_optimizers`, which `fit` calls). Medians over the rounds, "
        "alternating the order, in one process.",
        "",
        "| model | built in the trace (s) | built first (s) | ratio (median of rounds) |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {name} | {late:.2f} | {early:.2f} | {ratio:.2f} |"
          for name, late, early, ratio in rows),
        "",
    ]
    with open(args.output, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
