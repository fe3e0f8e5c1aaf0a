"""Variational autoencoders as first-class Keras 3 models on TensorFlow.

Everything below is imported on first use (PEP 562), so that `keras-vae --help` and the
commands' quiet TensorFlow start do not import TensorFlow before they are ready for it.
"""

import importlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "VAE": "keras_vae.models",
    "VAEGAN": "keras_vae.models",
    "AdversarialAutoencoder": "keras_vae.models",
    "GumbelSoftmaxVAE": "keras_vae.models",
    "HierarchicalVAE": "keras_vae.models",
    "VQVAE": "keras_vae.models",
    "Autoencoder": "keras_vae.models",
    "BaseAutoencoder": "keras_vae.models",
    "ConditionalVAE": "keras_vae.models",
    "SemiSupervisedVAE": "keras_vae.models",
    "FactorVAE": "keras_vae.models",
    "NotGenerativeError": "keras_vae.models",
    "export_saved_model": "keras_vae.export",
    "export_version": "keras_vae.export",
    "Sampling": "keras_vae.layers.sampling",
    "Likelihood": "keras_vae.distributions.likelihoods",
    "Bernoulli": "keras_vae.distributions.likelihoods",
    "Gaussian": "keras_vae.distributions.likelihoods",
    "ELBO": "keras_vae.losses",
    "IWAE": "keras_vae.losses",
    "BetaTCVAE": "keras_vae.losses",
    "DIPVAE": "keras_vae.losses",
    "AnnealedVAE": "keras_vae.losses",
    "Sprites": "keras_vae.data.sprites",
    "build_encoder": "keras_vae.networks",
    "build_decoder": "keras_vae.networks",
    "recipe_for": "keras_vae.recipes",
    "describe_images": "keras_vae.recipes",
    "Recipe": "keras_vae.recipes",
}
_SUBMODULES = ("app", "callbacks", "data", "distributions", "evaluation", "export", "layers",
               "losses", "models", "networks", "objectives", "plotting", "recipes")


def _check_backend():
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ImportError(
            "keras_vae needs the TensorFlow backend of Keras 3. Set KERAS_BACKEND=tensorflow. "
            f"Received: KERAS_BACKEND={keras.backend.backend()}")


def __getattr__(name):
    if name in _EXPORTS:
        _check_backend()
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        _check_backend()
        value = importlib.import_module(f"keras_vae.{name}")
    else:
        raise AttributeError(f"module 'keras_vae' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS, *_SUBMODULES])


__all__ = [*_EXPORTS, "callbacks", "data", "distributions", "evaluation", "losses",
           "networks", "objectives", "plotting", "recipes"]
