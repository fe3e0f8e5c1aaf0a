"""SavedModel export with named serving signatures, for TensorFlow Serving and any TF program.

The export needs neither keras_vae nor Keras to load: `tf.saved_model.load(path)` and
TensorFlow Serving read it as it is.
"""

import functools
import json
import math
import os
import re
import warnings

import keras
import tensorflow as tf

from keras_vae.arguments import check_int

METADATA_FILE = os.path.join("assets.extra", "keras_vae.json")


def _model_endpoints(model):
    if not callable(getattr(model, "serving_endpoints", None)):
        raise TypeError(
            "Argument `model` must be a keras_vae model that offers serving signatures "
            "(a `serving_endpoints()` method). Received: model of type "
            f"{type(model).__name__}, which offers none; export it with "
            "keras.Model.export(path) instead"
        )
    if not model.built:
        raise ValueError(
            "Argument `model` must be built before export: call it once on a batch of data, or "
            "rebuild it with `type(model).from_config(model.get_config())`. "
            f"Received: an unbuilt {type(model).__name__}"
        )
    return model.serving_endpoints()


def _values_checked(images, likelihood):
    """`images` after a graph assertion of what `VAE.predict` checks in Python
    (`check_support_numpy`): finite values in the likelihood's support, with its messages."""
    finite = tf.math.is_finite(images)
    bad = tf.size(images) - tf.math.count_nonzero(finite, dtype=tf.int32)
    checks = [tf.debugging.Assert(tf.equal(bad, 0), [tf.strings.format(
        "Argument `images` must hold finite values only. Received: {} NaN or inf value(s) in "
        "images of shape {}", (bad, tf.shape(images)))])]
    low, high = likelihood.support
    if math.isfinite(low) or math.isfinite(high):
        finite_values = tf.where(finite, images, tf.zeros_like(images) + max(low, 0.0))
        lowest, highest = tf.reduce_min(finite_values), tf.reduce_max(finite_values)
        with tf.control_dependencies(checks):
            checks.append(tf.debugging.Assert(
                tf.logical_or(tf.equal(tf.size(images), 0),
                              tf.logical_and(lowest >= low, highest <= high)),
                [tf.strings.format(
                    f"Argument `images` must hold {likelihood.describe_support()} for the "
                    f"{likelihood.kind} likelihood (scale images to [0, 1] first). Received: "
                    "values in [{}, {}]", (lowest, highest))]))
    with tf.control_dependencies(checks):
        return tf.identity(images)


def _shape_checked(fn, specs, likelihood=None):
    """Wraps `fn` so that each input's shape is checked first, where the error can name it,
    and images' values as the Python API checks them (`likelihood` given).

    Signatures (what TensorFlow Serving and `saved_model_cli` call) do not check their inputs
    themselves: a wrong shape would fail deep inside the networks, and a NaN pixel or a 0-255
    image would be served an answer.
    """

    @functools.wraps(fn)
    def checked(*args):
        args = [
            tf.ensure_shape(arg, spec.shape, name=f"check_shape_of_{spec.name}")
            for arg, spec in zip(args, specs)
        ]
        if likelihood is not None:
            args = [_values_checked(arg, likelihood) if spec.name == "images" else arg
                    for arg, spec in zip(args, specs)]
        return fn(*args)

    return checked


def export_saved_model(model, path, overwrite=False, metadata=None, verbose=False):
    """Writes `model` as a SavedModel at `path`, with its named signatures and metadata.

    For a `keras_vae.VAE` the signatures are `serving_default` (images to deterministic
    reconstructions), `encode` (images to `z_mean`, `z_log_var`), `decode` (latent vectors to
    decoder means), `sample` (count `n` and integer `seed` to images from the prior) and `elbo`
    (images and integer `seed` to the per-example `elbo`, `reconstruction_loss`, `kl_loss`).
    Each has a dynamic batch dimension. `assets.extra/keras_vae.json` says what a client needs.

    Args:
        model: a keras_vae model.
        path: str. Directory to write; it must not exist unless `overwrite`.
        overwrite: bool. Replace an existing export at `path`. Defaults to False.
        metadata: dict or None. Extra JSON-ready entries for the metadata file (for example
            how the training images were preprocessed). Defaults to None.
        verbose: bool. Let Keras print the exported variables. Defaults to False.

    Returns:
        `path`.
    """
    endpoints = _model_endpoints(model)
    path = os.fspath(path)
    if os.path.exists(path) and os.listdir(path) and not overwrite:
        raise ValueError(
            "Argument `path` must not hold an export already (pass overwrite=True to replace "
            f"it). Received: path={path!r}, which is not empty"
        )
    if getattr(model, "optimizer", None) is None or int(model.optimizer.iterations) == 0:
        warnings.warn(
            f"Exporting a {type(model).__name__} that has not been trained: its signatures will "
            "serve randomly initialized networks.",
            stacklevel=2,
        )
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, (fn, signature) in endpoints.items():
        archive.add_endpoint(name, _shape_checked(fn, signature, getattr(model, "likelihood", None)),
                             input_signature=signature)
    if os.path.exists(path):
        tf.io.gfile.rmtree(path)
    archive.write_out(path, verbose=verbose)
    metadata = {**model.serving_metadata(), **(metadata or {})}
    metadata["keras_vae_version"] = _package_version()
    os.makedirs(os.path.join(path, os.path.dirname(METADATA_FILE)), exist_ok=True)
    with open(os.path.join(path, METADATA_FILE), "w") as f:
        json.dump(metadata, f, indent=2)
    return path


def _package_version():
    from keras_vae import __version__

    return __version__


def next_version(base_dir, name) -> int:
    """1 + the largest integer version under `base_dir/name`, or 1 when there is none."""
    directory = os.path.join(base_dir, name)
    versions = [int(d) for d in os.listdir(directory) if re.fullmatch(r"\d+", d)] if (
        os.path.isdir(directory)) else []
    return max(versions, default=0) + 1


def export_version(model, name, version=None, base_dir="saved_models", overwrite=False,
                   metadata=None):
    """Exports to `base_dir/name/version/`, the TensorFlow Serving layout; returns the path.

    `version=None` takes the next free integer version. An existing version is replaced only
    with `overwrite=True`.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ValueError(
            "Argument `name` must be a model name of letters, digits, '.', '_' or '-'. "
            f"Received: name={name!r}"
        )
    if version is None:
        version = next_version(base_dir, name)
    check_int("version", version, 1)
    path = os.path.join(base_dir, name, str(version))
    if os.path.exists(path) and not overwrite:
        raise ValueError(
            f"Argument `version` names an export that exists already: {path!r}. Pass another "
            f"version, none (the next free one), or overwrite=True. Received: version={version}"
        )
    return export_saved_model(model, path, overwrite=overwrite, metadata=metadata)
