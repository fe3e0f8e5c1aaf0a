"""Model families of keras_vae, on one base (`BaseAutoencoder`), and the registry of names
that `scripts/train.py --model NAME` builds from.

Adding a model to the family: a file of its own with a `BaseAutoencoder` subclass (its
settings, its `loss_terms`), and one `register_model` line.
"""

from keras_vae.models.adversarial import AdversarialAutoencoder
from keras_vae.models.autoencoder import Autoencoder
from keras_vae.models.base import BaseAutoencoder, NotGenerativeError
from keras_vae.models.conditional import ConditionalVAE
from keras_vae.models.gumbel import GumbelSoftmaxVAE
from keras_vae.models.hierarchical import HierarchicalVAE
from keras_vae.models.settings import Setting
from keras_vae.models.vae import VAE
from keras_vae.models.vaegan import VAEGAN
from keras_vae.models.vqvae import VQVAE

_BY_NAME = {}


def register_model(name: str, model_class: type) -> type:
    """Makes `model_class` (a `BaseAutoencoder` subclass) available as `--model name`
    (`get_model_class(name)`); returns the class. A name already taken is refused."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError("Argument `name` must be a word (letters, digits, underscores). "
                         f"Received: name={name!r}")
    if not (isinstance(model_class, type) and issubclass(model_class, BaseAutoencoder)):
        raise TypeError("Argument `model_class` must be a subclass of "
                        f"keras_vae.BaseAutoencoder. Received: model_class={model_class!r}")
    if _BY_NAME.get(name, model_class) is not model_class:
        raise ValueError(f"Argument `name` is taken by {_BY_NAME[name].__name__}. "
                         f"Received: name={name!r} for {model_class.__name__}")
    _BY_NAME[name] = model_class
    return model_class


register_model("vae", VAE)
register_model("cvae", ConditionalVAE)
register_model("autoencoder", Autoencoder)
register_model("vqvae", VQVAE)
register_model("gumbel", GumbelSoftmaxVAE)
register_model("aae", AdversarialAutoencoder)
register_model("vaegan", VAEGAN)
register_model("hvae", HierarchicalVAE)


def available_models() -> list:
    return sorted(_BY_NAME)


def get_model_class(name: str) -> type:
    """The model class of `name` (`available_models()`)."""
    if name not in _BY_NAME:
        raise ValueError(f"Argument `model` must be one of {available_models()}. "
                         f"Received: model={name!r}")
    return _BY_NAME[name]


__all__ = ["AdversarialAutoencoder", "Autoencoder", "ConditionalVAE", "GumbelSoftmaxVAE",
           "HierarchicalVAE",
           "BaseAutoencoder", "NotGenerativeError", "Setting", "VAE", "VAEGAN", "VQVAE",
           "available_models", "get_model_class", "register_model"]
