#!/usr/bin/env python
"""Train the IWAE-paper architecture with each prior, posterior, likelihood and objective on the
same data and budget, and write one table of held-out figures.

    python -m experiments.compare_objectives --data-dir ../shared/data/mnist --epochs 100 --eval-k 5000
    python -m experiments.compare_objectives --rows baseline iwae5 --epochs 2   # a subset

Each row is a `keras-vae train` run (784-200-200-50 tanh MLP, batch 100, the trainer's
default learning-rate schedule) in `<runs-dir>/<row>/`; a row whose `metrics.json` exists is
read back instead of retrained, so a killed comparison continues where it stopped. The table
(markdown) is rewritten after every row.
"""

import os


from keras_vae.app import cli

cli.quiet_tensorflow()

from experiments.comparison import (
    limit_training_images,
    chosen_rows,
    make_parser,
    minutes,
    run_rows,
    write_markdown,
)

ARCHITECTURE = {"architecture": "mlp", "hidden_units": [200, 200], "activation": "tanh",
                "latent_dim": 50}


def rows(epochs):
    """`{row name: (TrainConfig overrides, description)}`."""
    return {
        "baseline": ({}, "VAE: N(0, I) prior, diagonal posterior, Bernoulli, ELBO"),
        "constant_lr": ({"lr_schedule": "constant", "learning_rate": 1e-3},
                        "the baseline with Adam at a constant 1e-3 instead of the default "
                        "cosine decay from 2e-3"),
        "iwae5": ({"objective": "iwae", "k": 5}, "IWAE bound, K = 5"),
        "iwae50": ({"objective": "iwae", "k": 50}, "IWAE bound, K = 50"),
        "beta0.5": ({"beta": 0.5}, "beta = 0.5"),
        "beta2": ({"beta": 2.0}, "beta = 2"),
        "warmup": ({"kl_warmup_epochs": max(1, epochs // 3)},
                   f"KL warm-up over {max(1, epochs // 3)} epochs"),
        "free_bits": ({"free_bits": 0.25}, "free bits, 0.25 nats per dimension"),
        "mixture": ({"prior": "mixture", "prior_components": 10}, "mixture prior, 10 Gaussians"),
        "vamp": ({"prior": "vamp", "prior_components": 500}, "VampPrior, 500 pseudo-inputs"),
        "vamp_warmup": ({"prior": "vamp", "prior_components": 500, "kl_warmup_epochs": epochs},
                        f"VampPrior, 500 pseudo-inputs, KL warm-up over all {epochs} epochs"),
        "vamp_warmup_lr1e-3": ({"prior": "vamp", "prior_components": 500,
                                "kl_warmup_epochs": epochs, "lr_schedule": "constant",
                                "learning_rate": 1e-3},
                               "the vamp_warmup row at constant_lr's learning rate "
                               "(compare with constant_lr)"),
        "vamp_warmup_third": ({"prior": "vamp", "prior_components": 500,
                               "kl_warmup_epochs": max(1, epochs // 3)},
                              f"VampPrior, 500 pseudo-inputs, the warmup row's warm-up "
                              f"({max(1, epochs // 3)} epochs)"),
        "full": ({"posterior": "full"}, "full-covariance posterior"),
        "iaf": ({"posterior": "iaf", "flow_steps": 2}, "IAF posterior, 2 steps"),
        "gaussian": ({"likelihood": "gaussian_global", "binarize": False},
                     "Gaussian, one learned scale, grey levels (not binarized)"),
        "continuous_bernoulli": ({"likelihood": "continuous_bernoulli", "binarize": False},
                                 "continuous Bernoulli, grey levels (not binarized)"),
    }


def write_table(path, results, settings):
    lines = [
        "| row | what changes | held-out ELBO | log-likelihood (K = {k}) | active units | "
        "train time |".format(k=settings["eval_k"]),
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, (description, metrics, seconds) in results.items():
        lines.append(
            f"| {name} | {description} | {metrics['elbo']:.2f} | "
            f"{metrics['log_likelihood']:.2f} ± {metrics['log_likelihood_stderr']:.2f} | "
            f"{metrics['active_units']}/{metrics['latent_dim']} | {minutes(seconds)} |")
    write_markdown(path, "compare_objectives.py", settings, lines)


def main(argv=None):
    parser = make_parser(__doc__.split("\n\n")[0], 100, 5000, os.path.join("runs", "compare"), os.path.join("docs", "results", "objectives_table.md"))
    args = parser.parse_args(argv)
    table = rows(args.epochs)
    names = chosen_rows(parser, args, table)
    settings = {"epochs": args.epochs, "eval_k": args.eval_k, "seed": args.seed,
                "data_dir": args.data_dir, **ARCHITECTURE}
    base = {"dataset": "mnist", "data_dir": args.data_dir, "epochs": args.epochs,
            "eval_k": args.eval_k, "amortization_images": 0, "seed": args.seed, **ARCHITECTURE}
    limit_training_images(args, base, settings)
    results = run_rows(table, names, args.runs_dir, base,
                       lambda results: write_table(args.output, results, settings))
    for name, (_, metrics, _) in results.items():
        print(f"{name}: ELBO {metrics['elbo']:.2f}, log p(x) {metrics['log_likelihood']:.2f}, "
              f"active units {metrics['active_units']}", flush=True)
    return results


if __name__ == "__main__":
    cli.run(main)
