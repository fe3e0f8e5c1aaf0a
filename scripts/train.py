#!/usr/bin/env python
"""Train a model of the family and write a run directory: `keras-vae train`, kept as a script.

    python scripts/train.py --help
"""

from keras_vae.app.cli import script

if __name__ == "__main__":
    script("train")
