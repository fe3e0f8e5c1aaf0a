"""The VAE-GAN: a VAE whose reconstruction is judged in a discriminator's feature space."""

import keras
import tensorflow as tf
from keras import ops

from keras_vae import objectives
from keras_vae.arguments import check_number
from keras_vae.models.adversarial import adversarial_optimizer, logistic_loss
from keras_vae.models.base import built_network, weighted_mean
from keras_vae.models.vae import VAE
from keras_vae.networks import mlp_discriminator


@keras.saving.register_keras_serializable(package="keras_vae")
class VAEGAN(VAE):
    """VAE-GAN (Larsen et al. 2016): encoder, decoder (the generator) and a discriminator whose
    hidden features replace the pixel likelihood, trained together.

    #### Mathematical details

    With z ~ q(z|x), x_r = the decoder mean at z, z_p ~ p(z), x_p = the decoder mean at z_p,
    D the discriminator's logit and F its last hidden features (Larsen et al., eq. 5-9):
    - `kl_loss` = KL(q(z|x) || p(z)) (analytic where TFP has it);
    - `feature_loss` = 1/2 ||F(x) - F(x_r)||^2, -log N(F(x); F(x_r), I) up to a constant;
    - `discriminator_loss` = softplus(-D(x)) + softplus(D(x_r)) + softplus(D(x_p));
    - `generator_loss` = softplus(-D(x_r)) + softplus(-D(x_p)) (the non-saturating form).
    One forward pass, then three updates from its gradients, as in the paper's algorithm 1:
    the encoder minimizes kl_loss + feature_loss (`optimizer`), the decoder
    `feature_weight` * feature_loss + generator_loss (`decoder_optimizer`), the discriminator
    discriminator_loss (`discriminator_optimizer`). `loss` reports the encoder's objective;
    `reconstruction_loss` and `elbo` are the pixel likelihood's, so that the model is scored
    like any VAE (it is not trained on them).

    Args:
        encoder, decoder, likelihood, prior, posterior, seed: as for `keras_vae.VAE`.
        discriminator: `keras.Model` from images to `[logit (batch, 1), features]`. Defaults
            to a 500-500 ReLU MLP (`keras_vae.networks.mlp_discriminator`).
        feature_weight: float >= 0. gamma, the weight of the feature loss in the decoder's
            objective. Defaults to 1.
        **kwargs: standard `keras.Model` arguments.

    `compile(optimizer=..., decoder_optimizer=..., discriminator_optimizer=...)`: the encoder's
    defaults to `FusedAdam()`, the others to Adam at 2e-4 with beta_1 = 0.5.

    References:
        Larsen, A. B. L. et al. Autoencoding beyond pixels using a learned similarity metric.
        ICML 2016.
    """

    extra_optimizers = {"decoder_optimizer": adversarial_optimizer,
                        "discriminator_optimizer": adversarial_optimizer}

    def __init__(self, encoder, decoder, discriminator=None, likelihood="bernoulli",
                 prior="normal", posterior="diagonal", feature_weight=1.0, seed=None,
                 **kwargs):
        kwargs.pop("objective", None)  # the VAE-GAN's losses are its own
        super().__init__(encoder, decoder, likelihood=likelihood, prior=prior,
                         posterior=posterior, seed=seed, **kwargs)
        if discriminator is None:
            discriminator = mlp_discriminator(self.data_shape)
        if built_network(discriminator, "discriminator") != self.data_shape or len(
                discriminator.outputs) != 2:
            raise ValueError(
                f"Argument `discriminator` must take images of shape (batch, "
                f"*{self.data_shape}) and output [logit, features]. Received: inputs "
                f"{tuple(discriminator.inputs[0].shape)}, {len(discriminator.outputs)} output(s)")
        check_number("feature_weight", feature_weight, 0)
        self.discriminator = discriminator
        self.feature_weight = float(feature_weight)

    @property
    def metric_names(self):
        return ("loss", "kl_loss", "feature_loss", "generator_loss", "discriminator_loss",
                "reconstruction_loss", "elbo")

    def loss_terms(self, x, training=False, seed=None, step=None):
        x = ops.cast(x, "float32")
        s = self.sampled_terms(x, 1, seed=seed, training=training)
        kl = objectives.kl_divergence(s["q"], s["p"], s["z"], s["log_q"], self.kl_analytic)
        reconstruction = -s["log_px_z"][0]
        x_r = self.likelihood.mean(self.decoder_params(s["z"][0], training=training))
        z_p = self.prior.sample(ops.shape(x)[0], posterior_of=self.posterior_distribution,
                                seed=self.seed_generator if seed is None else seed + 1)
        x_p = self.likelihood.mean(self.decoder_params(z_p, training=training))
        d_x, f_x = self.discriminator(x, training=training)
        d_r, f_r = self.discriminator(x_r, training=training)
        d_p, _ = self.discriminator(x_p, training=training)
        feature = 0.5 * ops.sum(ops.square(f_x - f_r), axis=-1)
        return {
            "loss": kl + feature,
            "kl_loss": kl,
            "feature_loss": feature,
            "generator_loss": logistic_loss(d_r, real=True) + logistic_loss(d_p, real=True),
            "discriminator_loss": (logistic_loss(d_x, real=True) + logistic_loss(d_r, real=False)
                                   + logistic_loss(d_p, real=False)),
            "reconstruction_loss": reconstruction,
            "elbo": -(reconstruction + kl),
        }

    def optimizer_variables(self, name):
        return {"optimizer": self.encoder.trainable_variables,
                "decoder_optimizer": self.decoder.trainable_variables,
                "discriminator_optimizer": self.discriminator.trainable_variables}[name]

    def train_step(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape(persistent=True) as tape:
            terms = self.loss_terms(x, training=True)
            mean = {name: weighted_mean(value, sample_weight) for name, value in terms.items()}
            objectives_of = {
                "optimizer": mean["kl_loss"] + mean["feature_loss"],
                "decoder_optimizer": self.feature_weight * mean["feature_loss"]
                + mean["generator_loss"],
                "discriminator_optimizer": mean["discriminator_loss"],
            }
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for name, loss in objectives_of.items():
            optimizer, variables = getattr(self, name), self.optimizer_variables(name)
            loss = optimizer.scale_loss(loss / replicas if replicas > 1 else loss)
            optimizer.apply(tape.gradient(loss, variables), variables)
        del tape
        return self.update_metrics(x, terms, sample_weight, training=False)

    def serving_metadata(self):
        return {**super().serving_metadata(),
                "objective": "VAE-GAN (Larsen et al. 2016): KL + discriminator-feature "
                "reconstruction + GAN losses; the elbo signature scores the pixel likelihood"}

    def get_config(self):
        config = super().get_config()
        config.pop("objective")
        return {**config,
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "feature_weight": self.feature_weight}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return super().from_config(config)


__all__ = ["VAEGAN"]
