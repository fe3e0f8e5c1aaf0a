"""Model families of keras_vae, on one base (`BaseAutoencoder`)."""

from keras_vae.models.adversarial import AdversarialAutoencoder
from keras_vae.models.autoencoder import Autoencoder
from keras_vae.models.conditional import ConditionalVAE
from keras_vae.models.gumbel import GumbelSoftmaxVAE
from keras_vae.models.base import BaseAutoencoder, NotGenerativeError
from keras_vae.models.vae import VAE
from keras_vae.models.vaegan import VAEGAN
from keras_vae.models.vqvae import VQVAE

_BY_NAME = {"vae": VAE, "cvae": ConditionalVAE, "autoencoder": Autoencoder, "vqvae": VQVAE, "gumbel": GumbelSoftmaxVAE,
            "aae": AdversarialAutoencoder, "vaegan": VAEGAN}


def available_models() -> list:
    return sorted(_BY_NAME)


def get_model_class(name: str) -> type:
    """The model class of `name` (`available_models()`)."""
    if name not in _BY_NAME:
        raise ValueError(f"Argument `model` must be one of {available_models()}. "
                         f"Received: model={name!r}")
    return _BY_NAME[name]


__all__ = ["AdversarialAutoencoder", "Autoencoder", "ConditionalVAE", "GumbelSoftmaxVAE", "BaseAutoencoder", "NotGenerativeError", "VAE", "VAEGAN", "VQVAE", "available_models",
           "get_model_class"]
