"""The Gumbel-softmax VAE: categorical latent variables through a relaxed one-hot sample."""

import dataclasses

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_vae.arguments import (
    check_count,
    check_divisor,
    check_int,
    check_number,
    check_positive,
)
from keras_vae.layers.sampling import seed_pair
from keras_vae.models.base import BaseAutoencoder

tfd = tfp.distributions


def temperature_at(step, initial, minimum, rate):
    """The annealed temperature max(minimum, initial * exp(-rate * step)) (Jang et al. 2017,
    section 4: their schedule, updated every step here)."""
    step = ops.cast(step, "float32")
    return ops.maximum(minimum, initial * ops.exp(-rate * step))


@keras.saving.register_keras_serializable(package="keras_vae")
class GumbelSoftmaxVAE(BaseAutoencoder):
    """VAE with categorical latents, trained through the Gumbel-softmax (concrete) relaxation.

    #### Mathematical details

    The encoder's `latent_dim` outputs are the logits of `latent_dim // categories`
    independent categorical variables with `categories` classes each. In training the decoder
    sees a relaxed one-hot sample of each (`tfd.RelaxedOneHotCategorical` at temperature tau,
    reparameterized: Jang et al. 2017; Maddison et al. 2017); evaluation uses the same
    relaxation at the final temperature. The prior is uniform over the classes and the KL is
    analytic, `tfd.kl_divergence` of the categorical q(c|x) against the uniform categorical,
    sum_j q_j log(q_j K). loss = reconstruction_loss + kl_loss, elbo = -loss (with relaxed
    samples the reconstruction term is the relaxation's, as in the papers). tau anneals as
    `temperature_at(step)`; `sample` draws hard one-hot codes from the uniform prior.

    Args:
        encoder: `keras.Model` from images to `(batch, latent_dim)` logits.
        decoder: `keras.Model` from `(batch, latent_dim)` (concatenated one-hot vectors) to
            the likelihood's parameters.
        likelihood: as for `keras_vae.VAE`. Defaults to `"bernoulli"`.
        categories: int >= 2. Classes of each latent variable. Defaults to 10.
        temperature: float > 0. Initial temperature. Defaults to 1.
        min_temperature: float > 0. Floor of the annealed temperature. Defaults to 0.5.
        anneal_rate: float >= 0. Rate r of tau = max(min, tau0 exp(-r step)). Defaults to
            3e-5 (Jang et al. use 1e-5 to 1e-4).
        seed: int or None. Seed of the sampling noise. Defaults to `None`.
        **kwargs: standard `keras.Model` arguments.

    References:
        Jang, E., Gu, S. and Poole, B. Categorical Reparameterization with Gumbel-Softmax.
        ICLR 2017.
        Maddison, C. J., Mnih, A. and Teh, Y. W. The Concrete Distribution. ICLR 2017.
    """

    generative = True
    metric_names = ("loss", "reconstruction_loss", "kl_loss", "elbo", "temperature")

    @classmethod
    def recipe(cls, recipe):
        """A latent of 300 numbers (30 variables of the default 10 classes), the size
        docs/results/models.md measured on MNIST."""
        return dataclasses.replace(recipe, latent_dim=300,
                                   why=recipe.why + "; 30 variables of 10 classes, "
                                   "docs/results/models.md")

    def __init__(self, encoder, decoder, likelihood="bernoulli", categories=10,
                 temperature=1.0, min_temperature=0.5, anneal_rate=3e-5, seed=None, **kwargs):
        super().__init__(encoder, decoder, likelihood=likelihood, seed=seed, **kwargs)
        check_int("categories", categories, 2)
        check_divisor("categories", categories, self.latent_dim,
                      "the latent size")
        check_positive("temperature", temperature)
        check_positive("min_temperature", min_temperature)
        check_number("anneal_rate", anneal_rate, 0)
        self.categories = categories
        self.num_variables = self.latent_dim // categories
        self.temperature, self.min_temperature = float(temperature), float(min_temperature)
        self.anneal_rate = float(anneal_rate)
        self.check_networks()
        self.track_loss_terms()

    def encoder_heads(self):
        return {"logits": self.latent_dim}

    def logits(self, x, training=False):
        """q(c|x)'s logits `(batch, latent_dim // categories, categories)`."""
        return ops.reshape(self.encode(x, training=training)[0],
                           (-1, self.num_variables, self.categories))

    def latent_code(self, x, training=False):
        """The most probable class of each variable, one-hot, concatenated."""
        logits = self.logits(x, training=training)
        one_hot = ops.one_hot(ops.argmax(logits, axis=-1), self.categories)
        return ops.reshape(one_hot, (-1, self.latent_dim))

    def current_temperature(self, step=None):
        if step is None:  # the schedule's end: evaluation and export
            return ops.convert_to_tensor(self.min_temperature if self.anneal_rate else
                                         self.temperature)
        return temperature_at(step, self.temperature, self.min_temperature, self.anneal_rate)

    def loss_terms(self, x, training=False, seed=None, step=None):
        x = ops.cast(x, "float32")
        logits = self.logits(x, training=training)
        tau = self.current_temperature(step if training else None)
        relaxed = tfd.RelaxedOneHotCategorical(tau, logits=logits)
        z = relaxed.sample(seed=seed_pair(self.noise_seed(seed)))
        reconstruction = self.reconstruction_nll(x, ops.reshape(z, (-1, self.latent_dim)),
                                                 training=training)
        uniform = tfd.Categorical(logits=tf.zeros_like(logits))
        kl = ops.sum(tfd.kl_divergence(tfd.Categorical(logits=logits), uniform), axis=-1)
        loss = reconstruction + kl
        return {"loss": loss, "reconstruction_loss": reconstruction, "kl_loss": kl,
                "elbo": -loss,
                "temperature": ops.broadcast_to(ops.cast(tau, loss.dtype), ops.shape(loss))}

    @property
    def sampling_description(self):
        return f"of {self.num_variables} uniform {self.categories}-way categorical codes"

    def sample(self, n, seed=None):
        """Decoder means of `n` hard one-hot codes drawn from the uniform prior."""
        check_count(n)
        draws = tf.random.stateless_uniform(
            ops.stack([ops.cast(n, "int32"), self.num_variables]),
            seed=seed_pair(self.noise_seed(seed)),
            maxval=self.categories, dtype=tf.int32)
        codes = ops.reshape(ops.one_hot(draws, self.categories), (-1, self.latent_dim))
        return self.decode(codes)

    def serving_metadata(self):
        return {**super().serving_metadata(), "categories": self.categories,
                "prior": f"uniform over {self.categories} classes, {self.num_variables} "
                "independent variables"}

    def get_config(self):
        return {**super().get_config(), "categories": self.categories,
                "temperature": self.temperature, "min_temperature": self.min_temperature,
                "anneal_rate": self.anneal_rate}


__all__ = ["GumbelSoftmaxVAE", "temperature_at"]
