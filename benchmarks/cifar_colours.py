"""How much colour a trained model's decoder means keep, against the originals: for the first
images of a run's held-out split, the spread of each pixel's three channels about their
average (0 for grey), and the correlation of those per-channel deviations between the
reconstructions (decoder mean at the posterior mean) and the originals. Quoted in
docs/results/cifar_recipes.md.

    python benchmarks/cifar_colours.py RUN_DIR [RUN_DIR ...] --images 64
"""

import argparse

import numpy as np

import keras_vae


def colour_figures(run_dir, count):
    model, config = keras_vae.app.runs.load_run(run_dir)
    splits = keras_vae.data.load(config.dataset, config.data_dir, config.validation_fraction,
                                 config.split_seed, log=lambda line: None,
                                 **{**config.data_options(), "image_storage": "stream"})
    originals = np.asarray(splits.x_val[:count])
    means = np.asarray(model.decode(model.latent_code(originals)))
    tint = [images - images.mean(axis=-1, keepdims=True) for images in (originals, means)]
    return {"originals_spread": float(np.mean(originals.std(axis=-1))),
            "decoded_spread": float(np.mean(means.std(axis=-1))),
            "correlation": float(np.corrcoef(tint[0].ravel(), tint[1].ravel())[0, 1])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+")
    parser.add_argument("--images", type=int, default=64)
    args = parser.parse_args(argv)
    print("| run | colour spread, originals | decoder means | correlation of the tints |")
    print("| --- | --- | --- | --- |")
    for run_dir in args.run_dirs:
        f = colour_figures(run_dir, args.images)
        print(f"| {run_dir} | {f['originals_spread']:.3f} | {f['decoded_spread']:.3f} | "
              f"{f['correlation']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
