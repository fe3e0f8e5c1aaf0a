"""Variational autoencoders as first-class Keras 3 models on TensorFlow."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        "keras_vae needs the TensorFlow backend of Keras 3. Set KERAS_BACKEND=tensorflow. "
        f"Received: KERAS_BACKEND={keras.backend.backend()}"
    )

__version__ = "0.1.0"

from keras_vae import callbacks, data, distributions, evaluation, losses, networks, objectives, plotting  # noqa: E402
from keras_vae.export import export_saved_model, export_version  # noqa: E402
from keras_vae.distributions.likelihoods import Bernoulli, Gaussian, Likelihood  # noqa: E402
from keras_vae.losses import ELBO, IWAE  # noqa: E402
from keras_vae.layers.sampling import Sampling  # noqa: E402
from keras_vae.optimizers import FusedAdam  # noqa: E402
from keras_vae.models import AdversarialAutoencoder, Autoencoder, BaseAutoencoder, ConditionalVAE, GumbelSoftmaxVAE, HierarchicalVAE, NotGenerativeError, Setting, VAE, VAEGAN, VQVAE, register_model  # noqa: E402
from keras_vae.networks import build_decoder, build_encoder  # noqa: E402

__all__ = [
    "VAE",
    "VAEGAN",
    "AdversarialAutoencoder",
    "GumbelSoftmaxVAE",
    "HierarchicalVAE",
    "VQVAE",
    "Autoencoder",
    "BaseAutoencoder",
    "ConditionalVAE",
    "NotGenerativeError",
    "Setting",
    "register_model",
    "FusedAdam",
    "export_saved_model",
    "export_version",
    "Sampling",
    "Likelihood",
    "Bernoulli",
    "Gaussian",
    "ELBO",
    "IWAE",
    "losses",
    "callbacks",
    "build_encoder",
    "build_decoder",
    "data",
    "distributions",
    "evaluation",
    "plotting",
    "networks",
    "objectives",
]
