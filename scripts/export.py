#!/usr/bin/env python
"""Export a run or a .keras file as a SavedModel: `keras-vae export`, kept as a script.

    python scripts/export.py --help
"""

from keras_vae.app.cli import script

if __name__ == "__main__":
    script("export")
