"""Model families of keras_vae, on one base (`BaseAutoencoder`)."""

from keras_vae.models.autoencoder import Autoencoder
from keras_vae.models.base import BaseAutoencoder, NotGenerativeError
from keras_vae.models.vae import VAE

__all__ = ["Autoencoder", "BaseAutoencoder", "NotGenerativeError", "VAE"]
