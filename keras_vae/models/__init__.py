"""Model families of keras_vae, on one base (`BaseAutoencoder`).

Adding a model to the family: a file of its own with a `BaseAutoencoder` subclass (its
constructor's settings, its `loss_terms`); `keras_vae.app.register_model` makes it a
`--model` of the `keras-vae` command.
"""

from keras_vae.models.adversarial import AdversarialAutoencoder
from keras_vae.models.autoencoder import Autoencoder
from keras_vae.models.base import BaseAutoencoder, NotGenerativeError
from keras_vae.models.conditional import ConditionalVAE
from keras_vae.models.factor_vae import FactorVAE
from keras_vae.models.gumbel import GumbelSoftmaxVAE
from keras_vae.models.hierarchical import HierarchicalVAE
from keras_vae.models.semi_supervised import SemiSupervisedVAE
from keras_vae.models.vae import VAE
from keras_vae.models.vaegan import VAEGAN
from keras_vae.models.vqvae import VQVAE

__all__ = ["AdversarialAutoencoder", "Autoencoder", "ConditionalVAE", "FactorVAE",
           "GumbelSoftmaxVAE",
           "HierarchicalVAE", "SemiSupervisedVAE",
           "BaseAutoencoder", "NotGenerativeError", "VAE", "VAEGAN", "VQVAE"]
