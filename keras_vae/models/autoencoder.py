"""The deterministic autoencoder: the model the VAE grew out of."""

import keras
from keras import ops

from keras_vae.models.base import BaseAutoencoder


@keras.saving.register_keras_serializable(package="keras_vae")
class Autoencoder(BaseAutoencoder):
    """Deterministic autoencoder: a code z = f(x) and a reconstruction loss, nothing else.

    #### Mathematical details

    loss = reconstruction_loss = -log p(x | g(f(x))), in nats per example, with the decoder g
    giving the likelihood's parameters (Bernoulli: the binary cross-entropy summed over
    pixels; a Gaussian of fixed scale s: the squared error / (2 s^2) plus a constant). There is
    no prior over z, so the model cannot sample (`sample` says so) and has no ELBO. With linear
    encoder and decoder and squared error it spans the principal subspace of the data
    (Baldi & Hornik 1989).

    Args:
        encoder: `keras.Model`. Built network from `(batch, *input_shape)` to one output
            `(batch, latent_dim)`.
        decoder: `keras.Model`. Built network from `(batch, latent_dim)` to the likelihood's
            parameters `(batch, *input_shape[:-1], likelihood.output_channels(channels))`.
        likelihood: str, dict, `keras_vae.Likelihood` or a function returning a
            `tfd.Distribution`: what the reconstruction loss is the negative log of.
            Defaults to `"bernoulli"`.
        seed: int or None. Unused by the model itself (it draws no noise); kept so that
            every model of the family takes it. Defaults to `None`.
        **kwargs: standard `keras.Model` arguments (`name`, ...).

    Example:

    ```python
    ae = keras_vae.Autoencoder.from_architecture(input_shape=(28, 28, 1), latent_dim=2)
    ae.compile()
    ae.fit(x_train, epochs=10, batch_size=100, validation_data=x_val)
    codes = ae.latent_code(x_val)
    ```

    References:
        Baldi, P. and Hornik, K. Neural networks and principal component analysis: learning
        from examples without local minima. Neural Networks 2, 1989.
    """

    metric_names = ("loss", "reconstruction_loss")

    def __init__(self, encoder, decoder, likelihood="bernoulli", seed=None, **kwargs):
        super().__init__(encoder, decoder, likelihood=likelihood, seed=seed, **kwargs)
        self.check_networks()
        self.track_loss_terms()

    def loss_terms(self, x, training=False, seed=None):
        """`loss` and `reconstruction_loss`, -log p(x | g(f(x))) per example `(batch,)`."""
        x = ops.cast(x, "float32")
        reconstruction = self.reconstruction_nll(x, self.latent_code(x, training=training),
                                                 training=training)
        return {"loss": reconstruction, "reconstruction_loss": reconstruction}


__all__ = ["Autoencoder"]
