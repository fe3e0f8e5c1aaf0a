"""Export a trained model as a SavedModel in the TensorFlow Serving layout.

    keras-vae export runs/<run> --name mnist_vae            # saved_models/mnist_vae/1
    keras-vae export model.keras --name vae --version 3 --base-dir /models

Prints the export's path. An existing version is never replaced without `--overwrite`.
"""

import argparse

from keras_vae.app.runs import load_for_export
from keras_vae.export import export_version


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     allow_abbrev=False)
    parser.add_argument("model", help="a .keras file or a run directory holding model.keras")
    parser.add_argument("--name", required=True, help="model name: saved_models/<name>/")
    parser.add_argument("--version", type=int, default=None,
                        help="integer version (default: the next free one)")
    parser.add_argument("--base-dir", default="saved_models", help="default saved_models")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing version")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model, metadata = load_for_export(args.model)
    path = export_version(model, args.name, version=args.version, base_dir=args.base_dir,
                          overwrite=args.overwrite, metadata=metadata)
    print(path)
    return path

