#!/usr/bin/env python
"""Train every model of the family on the same data and budget, and write one table of
held-out figures and a page of reconstructions and samples per model.

    python -m experiments.compare_models --data-dir ../shared/data/mnist --epochs 10
    python -m experiments.compare_models --rows autoencoder vae --epochs 1   # a subset
    python -m experiments.compare_models --bare --runs-dir runs/models-bare \
        --output docs/results/models_bare_table.md     # each model's bare command

Each row is a `keras-vae train --model NAME` run (784-500-ReLU MLP encoder and decoder,
batch 100, the trainer's default learning-rate schedule, dynamically binarized images) in
`<runs-dir>/<row>/`; a finished row is read back instead of retrained. The figures each run
wrote (reconstructions, samples) are copied into `--figures-dir`.
"""

import os
import shutil


from keras_vae.app import cli

cli.quiet_tensorflow()

from keras_vae.app.registry import get_model_class
from experiments.comparison import (
    limit_training_images,
    chosen_rows,
    make_parser,
    minutes,
    run_rows,
    write_markdown,
)

ARCHITECTURE = {"architecture": "mlp", "hidden_units": [500], "activation": "relu"}
FIGURES = ("reconstructions.png", "samples.png", "latent_space.png", "samples_by_label.png")


def rows():
    """`{row name: (TrainConfig overrides, description)}`."""
    return {
        "autoencoder": ({"model": "autoencoder", "latent_dim": 20},
                        "deterministic autoencoder, 20-d code, reconstruction loss only"),
        "vae": ({"model": "vae", "latent_dim": 20}, "VAE, 20-d Gaussian latent, ELBO"),
        "cvae": ({"model": "cvae", "latent_dim": 20},
                 "conditional VAE, 20-d latent, label given to encoder and decoder; "
                 "figures of log p(x|y)"),
        "vqvae": ({"model": "vqvae", "latent_dim": 32, "num_codes": 64, "code_dim": 4},
                  "VQ-VAE, 8 codes from a 64-vector codebook (4-d), code-frequency prior"),
        "gumbel": ({"model": "gumbel", "latent_dim": 300, "categories": 10},
                   "Gumbel-softmax VAE, 30 variables of 10 classes, tau 1 to 0.5"),
        "aae": ({"model": "aae", "latent_dim": 20},
                "adversarial autoencoder, 20-d code matched to N(0, I) by a discriminator"),
        "vaegan": ({"model": "vaegan", "latent_dim": 20},
                   "VAE-GAN, 20-d latent, discriminator-feature reconstruction"),
    }


def _cell(metrics, key, fmt="{:.2f}"):
    value = metrics.get(key)
    return "" if value is None else fmt.format(value)


def write_table(path, results, settings):
    lines = [
        "| model | what it is | reconstruction loss | squared error | ELBO | "
        f"log-likelihood (K = {settings['eval_k']}) | codebook perplexity (used / K) | "
        "train time |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, (description, m, seconds) in results.items():
        ll = "" if "log_likelihood" not in m else (
            f"{m['log_likelihood']:.2f} ± {m['log_likelihood_stderr']:.2f}")
        codebook = "" if "codebook_perplexity" not in m else (
            f"{m['codebook_perplexity']:.1f} ({m['codes_used']} / {m['num_codes']})")
        lines.append(f"| {name} | {description} | {_cell(m, 'reconstruction_loss')} | "
                     f"{_cell(m, 'squared_error')} | {_cell(m, 'elbo')} | {ll} | {codebook} | "
                     f"{minutes(seconds)} |")
    write_markdown(path, "compare_models.py", settings, lines)


def main(argv=None):
    parser = make_parser(__doc__.split("\n\n")[0], 10, 1000, os.path.join("runs", "models"), os.path.join("docs", "results", "models_table.md"))
    parser.add_argument("--figures-dir", default=os.path.join("docs", "results", "figures", "models"))
    parser.add_argument("--bare", action="store_true",
                        help="each row is `keras-vae train --model NAME` with no other "
                        "setting: the data's and the model's recipe (no figures copied)")
    args = parser.parse_args(argv)
    table = rows()
    names = chosen_rows(parser, args, table)
    architecture = {} if args.bare else ARCHITECTURE
    if args.bare:
        table = {name: ({"model": overrides["model"]}, description + " (bare command)")
                 for name, (overrides, description) in table.items()}
    settings = {"epochs": args.epochs, "eval_k": args.eval_k, "seed": args.seed,
                "data_dir": args.data_dir, "bare": args.bare, **architecture}
    base = {"dataset": "mnist", "data_dir": args.data_dir, "epochs": args.epochs,
            "seed": args.seed, **architecture}
    table = {name: ({**overrides, **({"eval_k": args.eval_k} if get_model_class(
        overrides["model"]).has_posterior else {})}, description)
        for name, (overrides, description) in table.items()}
    limit_training_images(args, base, settings)
    results = run_rows(table, names, args.runs_dir, base,
                       lambda results: write_table(args.output, results, settings))
    if args.bare:
        return results
    os.makedirs(args.figures_dir, exist_ok=True)
    for name in results:
        for figure in FIGURES:
            source = os.path.join(args.runs_dir, name, figure)
            if os.path.isfile(source):
                shutil.copyfile(source, os.path.join(args.figures_dir, f"{name}-{figure}"))
    return results


if __name__ == "__main__":
    cli.run(main)
