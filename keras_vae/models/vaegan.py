"""The VAE-GAN: a VAE whose reconstruction is judged in a discriminator's feature space."""

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_vae import objectives
from keras_vae.arguments import check_number
from keras_vae.models.adversarial import adversarial_optimizer, logistic_loss
from keras_vae.models.base import built_network, weighted_mean
from keras_vae.layers.sampling import seed_pair
from keras_vae.models.vae import VAE
from keras_vae.networks import mlp_discriminator

tfd = tfp.distributions


@keras.saving.register_keras_serializable(package="keras_vae")
class VAEGAN(VAE):
    """VAE-GAN (Larsen et al. 2016): encoder, decoder (the generator) and a discriminator whose
    hidden features replace the pixel likelihood, trained together.

    #### Mathematical details

    With z ~ q(z|x), x_r = the decoder's image at z, z_p ~ p(z), x_p = the decoder's image at z_p,
    D the discriminator's logit and F its last hidden features (Larsen et al., eq. 5-9):
    - `kl_loss` = KL(q(z|x) || p(z)) (analytic where TFP has it);
    - `feature_loss` = 1/2 ||F(x) - F(x_r)||^2, -log N(F(x); F(x_r), I) up to a constant;
    - `discriminator_loss` = softplus(-D(x)) + softplus(D(x_r)) + softplus(D(x_p));
    - `generator_loss` = softplus(-D(x_r)) + softplus(-D(x_p)) (the non-saturating form).
    The decoder's image is its mean for grey-level or real-valued data. For binary data (a
    Bernoulli likelihood, binarized images) it is a relaxed Bernoulli sample
    (`tfd.RelaxedBernoulli`, Maddison et al. 2017) at `temperature`, near-binary and
    differentiable: a discriminator shown binary data against grey means separates them by
    their grey levels alone, wins at once and teaches the decoder nothing (the samples were
    noise, docs/models.md).
    One forward pass, then three updates from its gradients, as in the paper's algorithm 1:
    the encoder minimizes kl_loss + feature_loss (`optimizer`), the decoder
    `feature_weight` * feature_loss + generator_loss (`decoder_optimizer`), the discriminator
    discriminator_loss (`discriminator_optimizer`).

    The game is kept balanced as public VAE-GAN implementations do (`equilibrium` 0.68,
    `margin` 0.35): with the discriminator's mean cross-entropies on the real images and on
    the reconstructions, c_x and c_r, a discriminator that is winning (c_x or c_r below
    equilibrium - margin) is not trained on that batch, and a discriminator that is losing
    (c_x or c_r above equilibrium + margin) gives the decoder no generator loss; if both
    would stop, both train. Without it the discriminator won on binarized MNIST within an
    epoch (it tells binary images from grey decoder means) and the samples were noise
    (docs/models.md). A gate that is shut multiplies its loss by 0 (Adam's momentum, beta_1
    0.5, still carries a step or two); `discriminator_gate` and `generator_gate` report the
    fraction of batches whose gate was open. `margin=None` turns the balancing off.

    `loss` reports the encoder's objective;
    `reconstruction_loss` and `elbo` are the pixel likelihood's, so that the model is scored
    like any VAE (it is not trained on them).

    Args:
        encoder, decoder, likelihood, prior, posterior, seed: as for `keras_vae.VAE`.
        discriminator: `keras.Model` from images to `[logit (batch, 1), features]`. Defaults
            to a 500-500 ReLU MLP (`keras_vae.networks.mlp_discriminator`).
        feature_weight: float >= 0. gamma, the weight of the feature loss in the decoder's
            objective. Defaults to 1.
        equilibrium: float > 0. The discriminator's cross-entropy the balance aims at
            (ln 2 = 0.69 is a discriminator that cannot tell). Defaults to 0.68.
        temperature: float > 0. Temperature of the relaxed Bernoulli images for binary data.
            Defaults to 0.5.
        margin: float >= 0 or None. Half-width of the band around `equilibrium` inside which
            both networks train. Defaults to 0.35; None never shuts a gate.
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
                 prior="normal", posterior="diagonal", feature_weight=1.0, equilibrium=0.68,
                 margin=0.35, temperature=0.5, seed=None, **kwargs):
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
        check_number("equilibrium", equilibrium, 0)
        check_number("temperature", temperature, 0)
        if temperature <= 0:
            raise ValueError(f"Argument `temperature` must be > 0. Received: "
                             f"temperature={temperature!r}")
        self.temperature = float(temperature)
        if margin is not None:
            check_number("margin", margin, 0)
        self.discriminator = discriminator
        self.feature_weight = float(feature_weight)
        self.equilibrium = float(equilibrium)
        self.margin = None if margin is None else float(margin)

    @property
    def metric_names(self):
        return ("loss", "kl_loss", "feature_loss", "generator_loss", "discriminator_loss",
                "reconstruction_loss", "elbo", "discriminator_gate", "generator_gate")

    def loss_terms(self, x, training=False, seed=None, step=None):
        x = ops.cast(x, "float32")
        s = self.sampled_terms(x, 1, seed=seed, training=training)
        kl = objectives.kl_divergence(s["q"], s["p"], s["z"], s["log_q"], self.kl_analytic)
        reconstruction = -s["log_px_z"][0]
        def fresh(offset):
            return self.seed_generator if seed is None else seed + offset

        x_r = self.decoder_image(self.decoder_params(s["z"][0], training=training), fresh(2))
        z_p = self.prior.sample(ops.shape(x)[0], posterior_of=self.posterior_distribution,
                                seed=fresh(1))
        x_p = self.decoder_image(self.decoder_params(z_p, training=training), fresh(3))
        d_x, f_x = self.discriminator(x, training=training)
        d_r, f_r = self.discriminator(x_r, training=training)
        d_p, _ = self.discriminator(x_p, training=training)
        feature = 0.5 * ops.sum(ops.square(f_x - f_r), axis=-1)
        real_cost, fake_cost = logistic_loss(d_x, real=True), logistic_loss(d_r, real=False)
        train_discriminator, train_generator = self.balance_gates(ops.mean(real_cost),
                                                                  ops.mean(fake_cost))
        ones = ops.ones_like(feature)
        return {
            "loss": kl + feature,
            "kl_loss": kl,
            "feature_loss": feature,
            "generator_loss": logistic_loss(d_r, real=True) + logistic_loss(d_p, real=True),
            "discriminator_loss": (logistic_loss(d_x, real=True) + logistic_loss(d_r, real=False)
                                   + logistic_loss(d_p, real=False)),
            "reconstruction_loss": reconstruction,
            "elbo": -(reconstruction + kl),
            "discriminator_gate": train_discriminator * ones,
            "generator_gate": train_generator * ones,
        }

    def decoder_image(self, params, seed):
        """What the discriminator sees of the decoder's output `params`: a relaxed Bernoulli
        sample at `temperature` for binary data, the likelihood's mean otherwise."""
        if not self.likelihood.binarize:
            return self.likelihood.mean(params)
        relaxed = tfd.RelaxedBernoulli(self.temperature, logits=params)
        return relaxed.sample(seed=seed_pair(seed))

    def balance_gates(self, real_cost, fake_cost):
        """`(train_discriminator, train_generator)`, each 1.0 or 0.0 (no gradient), from the
        discriminator's mean cross-entropies on real images and on reconstructions."""
        if self.margin is None:
            return ops.ones(()), ops.ones(())
        low, high = self.equilibrium - self.margin, self.equilibrium + self.margin
        discriminator = ops.logical_not(ops.logical_or(real_cost < low, fake_cost < low))
        generator = ops.logical_not(ops.logical_or(real_cost > high, fake_cost > high))
        neither = ops.logical_not(ops.logical_or(discriminator, generator))
        gates = [ops.cast(ops.logical_or(gate, neither), "float32")
                 for gate in (discriminator, generator)]
        return tuple(ops.stop_gradient(gate) for gate in gates)

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
                + mean["generator_gate"] * mean["generator_loss"],
                "discriminator_optimizer": mean["discriminator_gate"]
                * mean["discriminator_loss"],
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
                "feature_weight": self.feature_weight, "equilibrium": self.equilibrium,
                "margin": self.margin, "temperature": self.temperature}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return super().from_config(config)


__all__ = ["VAEGAN"]
