"""The adversarial autoencoder: a discriminator on the code in place of the KL."""

import keras
import tensorflow as tf
from keras import ops

from keras_vae.distributions.priors import get_prior
from keras_vae.arguments import check_count, check_number
from keras_vae.models.base import BaseAutoencoder, checked_discriminator, weighted_mean
from keras_vae.networks import mlp_discriminator


def adversarial_optimizer():
    """Adam at 2e-4 with beta_1 = 0.5, the usual GAN setting (Radford et al. 2016)."""
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


def logistic_loss(logits, real):
    """Per-example binary cross-entropy of discriminator `logits` `(batch, 1)` against the
    label real (1) or generated (0): softplus(-l) or softplus(l)."""
    logits = ops.reshape(logits, (-1,))
    return ops.softplus(-logits) if real else ops.softplus(logits)


@keras.saving.register_keras_serializable(package="keras_vae")
class AdversarialAutoencoder(BaseAutoencoder):
    """Adversarial autoencoder (Makhzani et al. 2015): a deterministic autoencoder whose code
    distribution is pushed toward a prior by a discriminator, in place of the VAE's KL.

    #### Mathematical details

    Each training step has the paper's two phases, three updates in order:
    1. reconstruction: encoder and decoder minimize -log p(x | g(f(x))) (`optimizer`);
    2. regularization, discriminator: D minimizes softplus(-D(z_p)) + softplus(D(f(x))),
       z_p ~ p(z) (`discriminator_optimizer`);
    3. regularization, generator: the encoder minimizes `adversarial_weight` *
       softplus(-D(f(x))), fooling D (`generator_optimizer`).
    Reported: `reconstruction_loss`, `discriminator_loss`, `generator_loss`, and
    `loss` = reconstruction_loss + adversarial_weight * generator_loss (what the encoder
    minimizes in all). There is no likelihood bound. `sample` decodes draws from the prior.

    Args:
        encoder: `keras.Model` from images to `(batch, latent_dim)` codes.
        decoder: `keras.Model` from codes to the likelihood's parameters.
        discriminator: `keras.Model` from `(batch, latent_dim)` to `[logit (batch, 1), ...]`
            (or the logit alone). Defaults to a 500-500 ReLU MLP (the paper's MNIST
            discriminator is 1000-1000).
        likelihood: as for `keras_vae.VAE`. Defaults to `"bernoulli"`.
        prior: `"normal"`, `"mixture"` or a `keras_vae.distributions.Prior` that samples
            without a posterior. Defaults to `"normal"`.
        adversarial_weight: float >= 0. Weight of the generator loss. Defaults to 1.
        seed: int or None. Seed of the prior draws. Defaults to `None`.
        **kwargs: standard `keras.Model` arguments.

    `compile(optimizer=..., discriminator_optimizer=..., generator_optimizer=...)`: the first
    updates encoder and decoder (default Keras' `Adam()`), the others default to Adam at 2e-4
    with beta_1 = 0.5 (`adversarial_optimizer`).

    References:
        Makhzani, A. et al. Adversarial Autoencoders. arXiv:1511.05644, 2015.
    """

    generative = True
    metric_names = ("loss", "reconstruction_loss", "discriminator_loss", "generator_loss")
    extra_optimizers = {"discriminator_optimizer": adversarial_optimizer,
                        "generator_optimizer": adversarial_optimizer}

    def __init__(self, encoder, decoder, discriminator=None, likelihood="bernoulli",
                 prior="normal", adversarial_weight=1.0, seed=None, **kwargs):
        super().__init__(encoder, decoder, likelihood=likelihood, seed=seed, **kwargs)
        if discriminator is None:
            discriminator = mlp_discriminator((self.latent_dim,))
        checked_discriminator(discriminator, (self.latent_dim,), "codes")
        check_number("adversarial_weight", adversarial_weight, 0)
        self.discriminator = discriminator
        self.prior = get_prior(prior)
        if getattr(self.prior, "kind", None) == "vamp":
            raise ValueError("Argument `prior` must sample without a posterior (normal, "
                             "mixture): the adversarial autoencoder has none. Received: "
                             "prior='vamp'")
        self.prior.configure(self.latent_dim, self.data_shape, self.likelihood.support)
        self.prior.trainable = False  # a target for the codes, not a parameter
        self.adversarial_weight = float(adversarial_weight)
        self.check_networks()
        self.track_loss_terms()

    def critic(self, z, training=False):
        """The discriminator's logits `(batch, 1)` for codes `z`."""
        outputs = self.discriminator(z, training=training)
        return outputs[0] if isinstance(outputs, (list, tuple)) else outputs

    def prior_draws(self, n, seed=None):
        return self.prior.sample(n, seed=self.noise_seed(seed))

    def adversarial_terms(self, z, z_prior, training=False):
        """`(discriminator_loss, generator_loss)` per example for codes `z` and prior draws."""
        fake = self.critic(z, training=training)
        discriminator = (logistic_loss(self.critic(z_prior, training=training), real=True)
                         + logistic_loss(fake, real=False))
        return discriminator, logistic_loss(fake, real=True)

    def loss_terms(self, x, training=False, seed=None):
        x = ops.cast(x, "float32")
        z = self.latent_code(x, training=training)
        reconstruction = self.reconstruction_nll(x, z, training=training)
        discriminator, generator = self.adversarial_terms(
            z, self.prior_draws(ops.shape(x)[0], seed), training=training)
        return {"loss": reconstruction + self.adversarial_weight * generator,
                "reconstruction_loss": reconstruction, "discriminator_loss": discriminator,
                "generator_loss": generator}

    def optimizer_variables(self, name):
        return {"optimizer": self.encoder.trainable_variables + self.decoder.trainable_variables,
                "discriminator_optimizer": self.discriminator.trainable_variables,
                "generator_optimizer": self.encoder.trainable_variables}[name]

    def train_step(self, data):
        """The paper's three updates in order, each from `loss_terms` on the networks as the
        previous update left them, with the same prior draws; each term is reported from
        the update that minimized it."""
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        seed = self.seed_generator.next()  # one set of prior draws for the step
        reported = {}
        # Each network's layer losses join the first update that moves it.
        for name, term, weight, networks in (
                ("optimizer", "reconstruction_loss", 1.0, (self.encoder, self.decoder)),
                ("discriminator_optimizer", "discriminator_loss", 1.0, (self.discriminator,)),
                ("generator_optimizer", "generator_loss", self.adversarial_weight, ())):
            with tf.GradientTape() as tape:
                terms = self.loss_terms(x, training=True, seed=seed)
                loss = self.with_layer_losses(
                    weight * weighted_mean(terms[term], sample_weight), *networks)
            self.apply_updates(tape, {name: loss})
            reported[term] = terms[term]
        reported["loss"] = (reported["reconstruction_loss"]
                            + self.adversarial_weight * reported["generator_loss"])
        return self.update_metrics(x, reported, sample_weight, training=False)

    @property
    def sampling_description(self):
        return f"z ~ p(z), {self.prior.kind} prior"

    def sample(self, n, seed=None):
        """Decoder means of `n` draws from the prior the codes were matched to."""
        check_count(n)
        return self.decode(self.prior_draws(n, seed))

    def serving_metadata(self):
        return {**super().serving_metadata(),
                "prior": keras.saving.serialize_keras_object(self.prior)}

    def get_config(self):
        return {**super().get_config(),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "prior": keras.saving.serialize_keras_object(self.prior),
                "adversarial_weight": self.adversarial_weight}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        config["prior"] = get_prior(config["prior"])
        return super().from_config(config)


__all__ = ["AdversarialAutoencoder", "adversarial_optimizer", "logistic_loss"]
