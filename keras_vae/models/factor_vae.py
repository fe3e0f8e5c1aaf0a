"""The FactorVAE: a VAE whose total correlation a discriminator estimates and penalizes."""

import keras
import tensorflow as tf
from keras import ops

from keras_vae.arguments import check_number
from keras_vae.layers.sampling import seed_pair
from keras_vae.models.adversarial import logistic_loss
from keras_vae.models.base import checked_discriminator, weighted_mean
from keras_vae.models.vae import VAE
from keras_vae.networks import mlp_discriminator


def discriminator_optimizer():
    """Adam at 1e-4 with beta_1 = 0.5, beta_2 = 0.9, Kim & Mnih's discriminator optimizer."""
    return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.5, beta_2=0.9)


def permute_dims(z, seed):
    """Each column of `z` `(batch, latent_dim)` shuffled over the batch on its own: a sample
    of prod_d q(z_d) from a sample of q(z) (Kim & Mnih 2018, Algorithm 1). `seed` as
    `keras_vae.layers.sampling.seed_pair` takes it."""
    keys = tf.random.stateless_uniform(tf.shape(z), seed=seed_pair(seed))
    order = ops.transpose(ops.argsort(keys, axis=0))  # (latent_dim, batch)
    return ops.transpose(tf.gather(ops.transpose(z), order, batch_dims=1))


@keras.saving.register_keras_serializable(package="keras_vae")
class FactorVAE(VAE):
    """FactorVAE (Kim & Mnih 2018): the VAE's objective plus gamma times the total
    correlation of q(z), estimated by a discriminator of codes against permuted codes.

    #### Mathematical details

    TC = KL(q(z) || prod_d q(z_d)) ~ E_q(z)[log D(z) / (1 - D(z))] = E[logit D(z)], D the
    probability that a code comes from q(z) rather than from prod_d q(z_d), whose samples are
    a batch of codes each column permuted on its own (`permute_dims`). Each step makes two
    updates from one pass:
    1. encoder and decoder minimize the objective's loss (the ELBO by default) +
       gamma * logit D(z), z ~ q(z|x) (`optimizer`);
    2. the discriminator minimizes softplus(-D(z)) + softplus(D(permuted z)), the codes held
       fixed (`discriminator_optimizer`).
    Reported besides the objective's terms: `total_correlation` (the discriminator's
    estimate) and `discriminator_loss`; `loss` is what the encoder and decoder minimize.

    Args:
        encoder, decoder, likelihood, prior, posterior, objective, seed: as for
            `keras_vae.VAE`.
        discriminator: `keras.Model` from `(batch, latent_dim)` to `[logit (batch, 1), ...]`
            (or the logit alone). Defaults to Kim & Mnih's 6 hidden layers of 1000 leaky
            ReLU units.
        gamma: float >= 0. Weight of the total correlation. Defaults to 30 (disentanglement_lib's
            middle value for dSprites; Kim & Mnih report 10 to 100).
        **kwargs: standard `keras.Model` arguments.

    `compile(optimizer=..., discriminator_optimizer=...)`: the second defaults to Adam at
    1e-4 with beta_1 = 0.5, beta_2 = 0.9 (`discriminator_optimizer`).

    References:
        Kim, H. and Mnih, A. Disentangling by factorising. ICML 2018.
    """

    extra_optimizers = {"discriminator_optimizer": discriminator_optimizer}

    def __init__(self, encoder, decoder, discriminator=None, gamma=30.0, likelihood="bernoulli",
                 prior="normal", posterior="diagonal", objective="elbo", seed=None, **kwargs):
        super().__init__(encoder, decoder, likelihood=likelihood, prior=prior,
                         posterior=posterior, objective=objective, seed=seed, **kwargs)
        if discriminator is None:
            discriminator = mlp_discriminator((self.latent_dim,), hidden_units=[1000] * 6,
                                              activation="leaky_relu")
        self.discriminator = checked_discriminator(discriminator, (self.latent_dim,), "codes")
        self.gamma = float(check_number("gamma", gamma, 0))

    @property
    def metric_names(self):
        return (*self.objective.metric_names, "total_correlation", "discriminator_loss")

    def critic(self, z, training=False):
        """The discriminator's logits `(batch,)` for codes `z`."""
        outputs = self.discriminator(z, training=training)
        return ops.reshape(outputs[0] if isinstance(outputs, (list, tuple)) else outputs, (-1,))

    def loss_terms(self, x, training=False, seed=None, step=None):
        terms = self.objective(self, x, training=training, seed=seed, step=step)
        noise = self.noise_seed(seed)
        z, _ = self.posterior.sample(list(self.encode(x, training=training)), 1, seed=noise)
        z = z[0]
        tc = self.critic(z, training=training)
        fixed = tf.stop_gradient(z)
        discriminator = (logistic_loss(self.critic(fixed, training=training), real=True)
                         + logistic_loss(self.critic(permute_dims(fixed, noise),
                                                     training=training), real=False))
        return {**terms, "loss": terms["loss"] + self.gamma * tc, "total_correlation": tc,
                "discriminator_loss": discriminator}

    def optimizer_variables(self, name):
        own = self.discriminator.trainable_variables
        if name == "discriminator_optimizer":
            return own
        return [v for v in self.trainable_variables if not any(v is d for d in own)]

    def train_step(self, data):
        """Both updates from one pass: the VAE's loss on the encoder and decoder, the
        discriminator's on the discriminator (each with its layers' own losses)."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x = self.model_inputs(x, y)
        with tf.GradientTape(persistent=True) as tape:
            terms = self.step_loss_terms(x, training=True)
            loss = self.with_layer_losses(weighted_mean(terms["loss"], sample_weight),
                                          self.encoder, self.decoder)
            discriminator = self.with_layer_losses(
                weighted_mean(terms["discriminator_loss"], sample_weight), self.discriminator)
        self.apply_updates(tape, {"optimizer": loss, "discriminator_optimizer": discriminator})
        del tape
        return self.update_metrics(x, terms, sample_weight, training=False)

    def get_config(self):
        return {**super().get_config(),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "gamma": self.gamma}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return super().from_config(config)


__all__ = ["FactorVAE", "discriminator_optimizer", "permute_dims"]
