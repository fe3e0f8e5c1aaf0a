"""The application: the `keras-vae` command and the run directories it writes.

The library (`import keras_vae`) knows nothing of flags or run directories; this subpackage
builds on it: run settings (`runs.TrainConfig`), the run directory (`runs`: config, status,
history, checkpoints, resume), training and evaluation of a run (`training`, `reporting`), the
HTML report (`report`), the models the command builds by name and their flags (`registry`,
`settings`), and the commands (`cli`, `commands`). Imported on first use, so that the
commands start TensorFlow quietly.
"""

import importlib

_EXPORTS = {"ModelEntry": "registry", "available_models": "registry", "get_entry": "registry",
            "register_model": "registry", "Setting": "settings"}


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'keras_vae.app' has no attribute {name!r}")
    return getattr(importlib.import_module(f"keras_vae.app.{_EXPORTS[name]}"), name)


__all__ = list(_EXPORTS)
