"""The VAE-GAN: a VAE whose reconstruction is judged in a discriminator's feature space."""

import math

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_vae import objectives
from keras_vae.arguments import check_number, check_positive
from keras_vae.models.adversarial import adversarial_optimizer, logistic_loss
from keras_vae.models.base import checked_discriminator, weighted_mean
from keras_vae.layers.sampling import seed_pair
from keras_vae.models.vae import VAE
from keras_vae.networks import mlp_discriminator

tfd = tfp.distributions


def decoder_optimizer():
    """Adam at 2e-3 (the encoder's rate) with beta_1 = 0.5: the VAE-GAN's decoder (the
    discriminator's 2e-4 is compared in docs/results/vaegan.md)."""
    return keras.optimizers.Adam(learning_rate=2e-3, beta_1=0.5)


@keras.saving.register_keras_serializable(package="keras_vae")
class VAEGAN(VAE):
    """VAE-GAN (Larsen et al. 2016): encoder, decoder (the generator) and a discriminator whose
    hidden features replace the pixel likelihood, trained together.

    #### Mathematical details

    With z ~ q(z|x), the decoder's mean image m_r at z, an image x_r drawn from it, z_p ~ p(z)
    and x_p an image drawn at z_p; D the discriminator's logit and F the features of one of
    its hidden layers, d of them (Larsen et al., eq. 5-9):
    - `kl_loss` = KL(q(z|x) || p(z)) (analytic where TFP has it);
    - `feature_loss` = -log N(F(x); F(m_r), s^2 I)
      = 1/2 (||F(x) - F(m_r)||^2 / s^2 + d log(2 pi s^2));
    - `discriminator_loss` = softplus(-D(x)) + softplus(D(x_r)) + softplus(D(x_p));
    - `generator_loss` = softplus(-D(x_r)) + softplus(-D(x_p)) (the non-saturating form).

    The paper's feature variance is s^2 = 1. `feature_variance="fitted"` (the default) takes
    s^2 at its maximum-likelihood value on each batch, the mean of (F(x) - F(m_r))^2 over
    examples and features, held fixed in the gradient, so that the loss does not depend on
    the scale of the features. It is fitted on the batch the loss sees: under a distribution
    strategy each replica fits its own, and `evaluate`'s `feature_loss` depends on its batch
    size (`reconstruction_loss` and `elbo` do not).

    The images the discriminator judges are the data's kind: the decoder's mean for
    grey-level or real-valued data; for binary data (a Bernoulli likelihood, binarized
    images), Bernoulli samples at the decoder's logits, exactly binary in the forward pass,
    with the gradient of a relaxed Bernoulli sample at `temperature` (`tfd.RelaxedBernoulli`,
    Maddison et al. 2017; the straight-through estimator of Bengio et al. 2013). The feature
    loss compares the data with the decoder's mean m_r rather than with a sample.

    One forward pass, then three updates from its gradients, as in the paper's algorithm 1:
    the encoder minimizes kl_loss + feature_loss (`optimizer`), the decoder
    `feature_weight` * feature_loss + generator_loss (`decoder_optimizer`), the discriminator
    discriminator_loss (`discriminator_optimizer`).

    The game is kept balanced (`equilibrium` 0.68, `margin` 0.35) on the discriminator's mean
    cross-entropy c = (c_x + c_r) / 2 over the real images and the reconstructions: a
    discriminator that is winning (c below equilibrium - margin) is not trained on that
    batch, and one that is losing (c above equilibrium + margin) gives the decoder no
    generator loss. A shut gate multiplies its loss by 0; `discriminator_gate` and
    `generator_gate` report the fraction of batches whose gate was open. `margin=None` turns
    the balancing off. What each of these choices is worth on MNIST: docs/results/vaegan.md.

    `loss` reports the encoder's objective;
    `reconstruction_loss` and `elbo` are the pixel likelihood's, so that the model is scored
    like any VAE (it is not trained on them).

    Args:
        encoder, decoder, likelihood, prior, posterior, seed: as for `keras_vae.VAE`.
        discriminator: `keras.Model` from images to `[logit (batch, 1), features]`. Defaults
            to a 500-500 ReLU MLP whose features are its first hidden layer's
            (`keras_vae.networks.mlp_discriminator(..., feature_layer=0)`).
        feature_weight: float >= 0. gamma, the weight of the feature loss in the decoder's
            objective. Defaults to 1.
        equilibrium: float > 0. The discriminator's cross-entropy the balance aims at
            (ln 2 = 0.69 is a discriminator that cannot tell). Defaults to 0.68.
        margin: float >= 0 or None. Half-width of the band around `equilibrium` inside which
            both networks train. Defaults to 0.35; None never shuts a gate.
        temperature: float > 0. Temperature of the relaxed Bernoulli whose gradient the
            binary images carry. Defaults to 0.5.
        feature_variance: float > 0 or `"fitted"`. s^2, the variance of the feature
            likelihood: 1.0 is the paper's. Defaults to `"fitted"`.
        **kwargs: standard `keras.Model` arguments.

    `compile(optimizer=..., decoder_optimizer=..., discriminator_optimizer=...)`: the encoder's
    defaults to Keras' `Adam()`, the decoder's to Adam at 2e-3 and the discriminator's to Adam
    at 2e-4, both with beta_1 = 0.5.

    Example:

    ```python
    model = keras_vae.VAEGAN.from_architecture((28, 28, 1), latent_dim=20)
    model.compile()
    model.fit(binary_images, epochs=10, batch_size=100)
    samples = model.sample(16)
    ```

    References:
        Larsen, A. B. L. et al. Autoencoding beyond pixels using a learned similarity metric.
        ICML 2016.
        Bengio, Y., Leonard, N. and Courville, A. Estimating or propagating gradients through
        stochastic neurons for conditional computation. arXiv:1308.3432, 2013.
    """

    extra_optimizers = {"decoder_optimizer": decoder_optimizer,
                        "discriminator_optimizer": adversarial_optimizer}
    def __init__(self, encoder, decoder, discriminator=None, likelihood="bernoulli",
                 prior="normal", posterior="diagonal", feature_weight=1.0, equilibrium=0.68,
                 margin=0.35, temperature=0.5, feature_variance="fitted", seed=None,
                 **kwargs):
        kwargs.pop("objective", None)  # the VAE-GAN's losses are its own
        super().__init__(encoder, decoder, likelihood=likelihood, prior=prior,
                         posterior=posterior, seed=seed, **kwargs)
        if discriminator is None:
            discriminator = mlp_discriminator(self.data_shape, feature_layer=0)
        checked_discriminator(discriminator, self.data_shape, "images", ["logit", "features"])
        check_number("feature_weight", feature_weight, 0)
        check_number("equilibrium", equilibrium, 0)
        check_positive("temperature", temperature)
        if feature_variance != "fitted":
            check_positive("feature_variance", feature_variance, 'or "fitted"')
        if margin is not None:
            check_number("margin", margin, 0)
        self.discriminator = discriminator
        self.feature_weight = float(feature_weight)
        self.equilibrium = float(equilibrium)
        self.margin = None if margin is None else float(margin)
        self.temperature = float(temperature)
        self.feature_variance = (feature_variance if feature_variance == "fitted"
                                 else float(feature_variance))

    @property
    def metric_names(self):
        return ("loss", "kl_loss", "feature_loss", "generator_loss", "discriminator_loss",
                "reconstruction_loss", "elbo", "discriminator_gate", "generator_gate")

    def loss_terms(self, x, training=False, seed=None):
        x = ops.cast(x, "float32")
        s = self.sampled_terms(x, 1, seed=seed, training=training)
        kl = objectives.kl_divergence(s["q"], s["p"], s["z"], s["log_q"], self.kl_analytic)
        reconstruction = -s["log_px_z"][0]

        def fresh(offset):
            return self.noise_seed(None if seed is None else seed + offset)

        params = self.decoder_params(s["z"][0], training=training)
        mean = self.likelihood.mean(params)
        x_r = self.decoder_image(params, fresh(2)) if self.likelihood.binarize else mean
        z_p = self.prior.sample(ops.shape(x)[0], posterior_of=self.posterior_distribution,
                                seed=fresh(1))
        x_p = self.decoder_image(self.decoder_params(z_p, training=training), fresh(3))
        d_x, f_x = self.discriminator(x, training=training)
        d_r, f_r = self.discriminator(x_r, training=training)
        d_p, _ = self.discriminator(x_p, training=training)
        compared = self.feature_image(mean, x_r)
        if compared is not x_r:
            _, f_r = self.discriminator(compared, training=training)
        feature = self.feature_nll(f_x, f_r)
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
        """What the discriminator sees of the decoder's output `params`: for binary data a
        Bernoulli sample (exactly 0 or 1) carrying the gradient of a relaxed Bernoulli sample
        at `temperature`; the likelihood's mean otherwise."""
        if not self.likelihood.binarize:
            return self.likelihood.mean(params)
        relaxed = tfd.RelaxedBernoulli(self.temperature, logits=params).sample(
            seed=seed_pair(seed))
        # A relaxed sample exceeds 1/2 exactly when its logistic-perturbed logit is > 0:
        # rounding it is a Bernoulli(sigmoid(params)) draw.
        binary = ops.cast(relaxed > 0.5, relaxed.dtype)
        return relaxed + ops.stop_gradient(binary - relaxed)

    def feature_image(self, mean, image):
        """The reconstruction whose features the feature loss compares with the data's: the
        decoder's `mean`, not the `image` the discriminator judged (for binary data a sample;
        docs/results/vaegan.md compares the two)."""
        return mean

    def feature_nll(self, features, reconstructed):
        """Per-example -log N(features; reconstructed, s^2 I), s^2 = `feature_variance`, or
        with "fitted" its maximum-likelihood value on the batch (held fixed in the gradient)."""
        squared = ops.sum(ops.square(features - reconstructed), axis=-1)
        d = ops.cast(ops.shape(features)[-1], squared.dtype)
        if self.feature_variance == "fitted":
            # The floor keeps the log finite when the features match exactly.
            variance = ops.maximum(ops.stop_gradient(ops.mean(squared) / d), 1e-6)
        else:
            variance = self.feature_variance
        return 0.5 * (squared / variance + d * ops.log(2 * math.pi * variance))

    def balance_gates(self, real_cost, fake_cost):
        """`(train_discriminator, train_generator)`, each 1.0 or 0.0 (no gradient), from the
        discriminator's mean cross-entropies on real images and on reconstructions, averaged:
        a discriminator right about one kind and wrong about the other is biased, not
        winning."""
        if self.margin is None:
            return ops.ones(()), ops.ones(())
        cost = 0.5 * (real_cost + fake_cost)
        discriminator = cost >= self.equilibrium - self.margin
        generator = cost <= self.equilibrium + self.margin
        return tuple(ops.stop_gradient(ops.cast(gate, "float32"))
                     for gate in (discriminator, generator))

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
                "optimizer": self.with_layer_losses(
                    mean["kl_loss"] + mean["feature_loss"], self.encoder),
                "decoder_optimizer": self.with_layer_losses(
                    self.feature_weight * mean["feature_loss"]
                    + mean["generator_gate"] * mean["generator_loss"], self.decoder),
                "discriminator_optimizer": self.with_layer_losses(
                    mean["discriminator_gate"] * mean["discriminator_loss"],
                    self.discriminator),
            }
        self.apply_updates(tape, objectives_of)
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
                "margin": self.margin, "temperature": self.temperature,
                "feature_variance": self.feature_variance}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return super().from_config(config)


__all__ = ["VAEGAN"]
