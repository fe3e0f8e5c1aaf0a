#!/usr/bin/env python
"""Evaluate a run or a .keras file: `keras-vae evaluate`, kept as a script.

    python scripts/evaluate.py --help
"""

from keras_vae.app.cli import script

if __name__ == "__main__":
    script("evaluate")
