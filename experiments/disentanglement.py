"""Disentanglement on the sprites (issue 37): a plain VAE, beta-VAE, beta-TCVAE, FactorVAE,
DIP-VAE-I and AnnealedVAE, each over several seeds, scored by the five metrics of
`keras_vae.evaluation.disentanglement` and the ELBO.

    python -m experiments.disentanglement --epochs 4 --seeds 0 1 2 --points 500

Each row `<model>-s<seed>` is a `keras-vae train --dataset sprites` run (`--num-images`
sprites with uniformly drawn factors, 10% held out; a convolutional encoder and decoder of
3x3 stride-2 convolutions of 16, 32, 32, 64 filters, half of disentanglement_lib's 4x4 ones
of 32, 32, 64, 64 to fit CPU time, or with `--network disentanglement_lib` those and its 256
dense units; latent 10, Bernoulli, batch 64, Adam 1e-3) in
`<runs-dir>/<row>/`, then `disentanglement.json` in that directory (`keras_vae.app.reporting
.disentanglement_of`: MIG and SAP with disentanglement_lib's 10,000 points (5,000 held out),
the BetaVAE and FactorVAE scores and DCI, whose cost grows far faster (a batch of 64 images
per point; 100 gradient-boosted trees per class), with `--points` (half as many held out)). A row whose files exist is read back, so a killed comparison continues where it
stopped. The table gives each figure's mean and spread (standard deviation) over seeds;
`--figures` gets each model's latent traversals (its first seed's run, the same three sprites
for every model, dimensions by their KL on the held-out images).
"""

import argparse
import json
import os

import numpy as np

from keras_vae.app import cli

cli.quiet_tensorflow()

from experiments.comparison import run_rows, write_markdown  # noqa: E402
from keras_vae.app.reporting import disentanglement_of  # noqa: E402
from keras_vae import plotting  # noqa: E402
from keras_vae.app.runs import load_run  # noqa: E402
from keras_vae.data import ground_truth  # noqa: E402

COMMON = {"dataset": "sprites", "architecture": "conv", "latent_dim": 10,
          "likelihood": "bernoulli", "binarize": False, "batch_size": 64,
          "learning_rate": 1e-3, "eval_k": 20}
# `--network`: the encoder's and decoder's shape. "half": 3x3 convolutions of 16, 32, 32, 64
# filters (the runs so far); "disentanglement_lib": Locatello et al.'s 4x4 convolutions of
# 32, 32, 64, 64 filters and 256 dense units (the decoder their mirror image, then this
# package's 3x3 output convolution where disentanglement_lib ends on a 4x4 transposed one).
NETWORKS = {"half": {"hidden_units": [16, 32, 32, 64]},
            "disentanglement_lib": {"hidden_units": [32, 32, 64, 64], "kernel_size": 4,
                                    "dense_units": [256]}}


def mig_and_sap_sizes(points):
    """MIG's and SAP's own sizes, `points` and half as many held out (disentanglement_lib's
    10,000 and 5,000 by default, whatever `--points` says)."""
    return {"mig": {"num_train": points}, "sap": {"num_train": points, "num_test": points // 2}}

METRICS = ("mig", "beta_vae_score", "factor_vae_score", "sap", "dci_disentanglement",
           "dci_completeness", "dci_informativeness")


def rows(epochs):
    """`{name: (TrainConfig overrides, description)}` of each model."""
    return {
        "vae": ({"model": "vae"}, "VAE (ELBO)"),
        "betavae": ({"model": "vae", "beta": 4.0}, "beta-VAE, beta 4"),
        "betatcvae": ({"model": "vae", "objective": "betatcvae", "beta": 6.0},
                      "beta-TCVAE, beta 6"),
        "factorvae": ({"model": "factorvae", "gamma": 30.0}, "FactorVAE, gamma 30"),
        "dipvae": ({"model": "vae", "objective": "dipvae", "dip_variant": "i",
                    "lambda_od": 10.0}, "DIP-VAE-I, lambda_od 10, lambda_d 100"),
        "annealed": ({"model": "vae", "objective": "annealed", "capacity": 25.0,
                      "capacity_epochs": epochs, "capacity_weight": 1000.0},
                     f"AnnealedVAE, C rising to 25 nats over {epochs} epochs, gamma 1000"),
    }


def scored(run_dir, seed, points, mig_sap_points):
    """The run's `disentanglement.json` figures, measured now unless already there."""
    path = os.path.join(run_dir, "disentanglement.json")
    if not os.path.isfile(path):
        model, _ = load_run(run_dir)
        disentanglement_of(model, ground_truth("sprites"), run_dir, seed=seed, points=points,
                           settings=mig_and_sap_sizes(mig_sap_points))
    with open(path) as f:
        return json.load(f)


def save_traversals(run_dir, path):
    """The run's model's traversals of three fixed sprites, by the run's KL per dimension."""
    model, _ = load_run(run_dir)
    with open(os.path.join(run_dir, "metrics.json")) as f:
        kl = json.load(f)["kl_per_dim"]
    images, _ = ground_truth("sprites").sample(3, seed=5)
    return plotting.save_latent_traversals(model, images, kl, path)


def table(results, names, descriptions):
    """Markdown lines: per model, each metric's mean +- sd over seeds and the ELBO."""
    header = ["model", "seeds", *METRICS, "held-out ELBO (nats)"]
    lines = ["| " + " | ".join(header) + " |", "| --- | ---: |" + " ---: |" * (len(header) - 2)]
    for name in names:
        runs = results.get(name, [])
        if not runs:
            continue
        cells = [descriptions[name], str(len(runs))]
        for key in (*METRICS, "elbo"):
            values = np.array([run[key] for run in runs], np.float64)
            cells.append(f"{values.mean():.3f} ± {values.std():.3f}" if key != "elbo"
                         else f"{values.mean():.1f} ± {values.std():.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--num-images", type=int, default=20000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rows", nargs="+", default=list(rows(1)))
    parser.add_argument("--points", type=int, default=500,
                        help="points of the BetaVAE and FactorVAE scores and of DCI")
    parser.add_argument("--mig-sap-points", type=int, default=10000,
                        help="points of MIG and SAP (half as many held out for SAP)")
    parser.add_argument("--network", choices=list(NETWORKS), default="half",
                        help="the networks' shape (default half; a run directory made with "
                             "another is refused: give each its own --runs-dir)")
    parser.add_argument("--runs-dir", default=os.path.join("runs", "disentanglement"))
    parser.add_argument("--output", default=os.path.join("docs", "results",
                                                         "disentanglement_table.md"))
    parser.add_argument("--figures", default=os.path.join("docs", "results", "figures",
                                                          "disentanglement"))
    args = parser.parse_args(argv)
    table_rows = rows(args.epochs)
    unknown = sorted(set(args.rows) - set(table_rows))
    if unknown:
        parser.error(f"--rows must be among {list(table_rows)}; received {unknown}")
    settings = {**COMMON, **NETWORKS[args.network], "epochs": args.epochs,
                "num_images": args.num_images}
    descriptions = {name: description for name, (_, description) in table_rows.items()}
    results = {}
    for seed in args.seeds:
        for name in args.rows:
            row = f"{name}-s{seed}"
            overrides, description = table_rows[name]
            trained = run_rows({row: (overrides, description)}, [row], args.runs_dir,
                               {**settings, "seed": seed}, lambda done: None)[row]
            figures = scored(os.path.join(args.runs_dir, row), seed, args.points,
                             args.mig_sap_points)
            if seed == args.seeds[0] and args.figures:
                os.makedirs(args.figures, exist_ok=True)
                save_traversals(os.path.join(args.runs_dir, row),
                                os.path.join(args.figures, f"traversals_{name}.png"))
            results.setdefault(name, []).append(
                {**{key: figures[key] for key in METRICS}, "elbo": trained[1]["elbo"]})
            write_markdown(args.output, "disentanglement.py",
                           {**settings, "seeds": args.seeds, "points": args.points,
                            "mig_sap_points": args.mig_sap_points},
                           table(results, args.rows, descriptions))


if __name__ == "__main__":
    main()
