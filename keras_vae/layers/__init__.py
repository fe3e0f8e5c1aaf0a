"""Keras layers of keras_vae."""

from keras_vae.layers.sampling import Sampling
from keras_vae.layers.vector_quantizer import VectorQuantizer

__all__ = ["Sampling", "VectorQuantizer"]
