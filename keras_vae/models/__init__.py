"""Model families of keras_vae."""

from keras_vae.models.vae import VAE

__all__ = ["VAE"]
