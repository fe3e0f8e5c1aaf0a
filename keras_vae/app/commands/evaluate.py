"""Evaluate a trained model: ELBO, importance-sampled log-likelihood, latent diagnostics,
figures and report.html.

    keras-vae evaluate runs/<run>                 # K sized to 10 minutes, at most 5000
    keras-vae evaluate runs/<run> --split test --k 5000 --amortization-images 100
    keras-vae evaluate model.keras --dataset mnist --data-dir ../shared/data/mnist
    keras-vae evaluate runs/<run> --data-dir my_test_images/ --k 1000
    keras-vae evaluate runs/<sprites run> --disentanglement   # BetaVAE, FactorVAE, MIG, SAP, DCI

With `--split test` the dataset's test split is used when it has one (MNIST: the `t10k-*`
files), and otherwise the held-out validation split; the output says which.
"""

import argparse

from keras_vae.app.reporting import evaluate_path


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     allow_abbrev=False)
    add = parser.add_argument
    add("model", help="a run directory or a .keras file")
    add("--dataset", help="default: the run's dataset, else digits")
    add("--data-dir", help="the data (default: the run's); a folder of images or a "
        ".npy/.npz file other than the run's is a set kept apart: every image of it is "
        "scored, read as the run's training images were (size, colour mode, scaling)")
    add("--split", choices=["train", "validation", "test"],
        help="default test (the held-out validation split where there is no test split); "
        "refused for a set kept apart")
    add("--k", type=int, help="importance samples per image (default: as many as fit "
        "--time-budget, at most 5000, Burda et al.'s K; give --k 5000 for the literature's "
        "figure whatever it takes)")
    add("--time-budget", type=float,
        help="seconds the log-likelihood may take when --k is not given (default 600)")
    add("--output-dir", help="default: <run>/evaluation-<split>-k<k, or auto>")
    add("--binarize", action=argparse.BooleanOptionalAction,
        help="binarize the images once (default: as in training)")
    add("--amortization-images", type=int, default=0,
        help="images on which to measure the amortization gap (default 0: skipped; each "
        "image's posterior is refined by 300 Adam steps)")
    add("--max-images", type=int, help="evaluate the first N images of the split only")
    add("--seed", type=int, help="seed of the importance samples (default: the run's); the "
        "images are binarized with the run's split seed, as for its metrics.json")
    add("--disentanglement", action="store_true",
        help="also measure the five disentanglement metrics (BetaVAE and FactorVAE scores, "
        "MIG, SAP, DCI) of the latent codes on images drawn from the data's known factors "
        "(--dataset sprites); into metrics.json, the report and disentanglement.json")
    add("--disentanglement-points", type=int,
        help="points of each metric (num_train; half as many held out) in place of "
        "disentanglement_lib's defaults (10000 and 5000)")
    add("--verbose", type=int, default=1, choices=[0, 1])
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.k is not None and args.time_budget is not None:
        raise ValueError("Argument `--time-budget` sizes K when `--k` is not given; with both, "
                         f"K is --k. Received: --time-budget {args.time_budget} with --k "
                         f"{args.k}")
    if args.time_budget is None:
        args.time_budget = 600.0
    output_dir, _ = evaluate_path(
        args.model, dataset=args.dataset, data_dir=args.data_dir, split=args.split, k=args.k,
        output_dir=args.output_dir, binarize=args.binarize, time_budget=args.time_budget,
        amortization_images=args.amortization_images, max_images=args.max_images,
        seed=args.seed, verbose=args.verbose, disentanglement=args.disentanglement,
        disentanglement_points=args.disentanglement_points,
    )
    return output_dir

