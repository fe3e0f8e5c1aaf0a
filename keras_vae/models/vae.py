"""The variational autoencoder as a subclassed `keras.Model`."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae import objectives
from keras_vae.arguments import check_count
from keras_vae.distributions.posteriors import get_posterior
from keras_vae.distributions.priors import get_prior
from keras_vae.losses import get_objective
from keras_vae.models.base import BaseAutoencoder, elbo_endpoint


@keras.saving.register_keras_serializable(package="keras_vae")
class VAE(BaseAutoencoder):
    """Variational autoencoder (Kingma & Welling 2014): three distributions and an objective.

    #### Mathematical details

    A prior p(z), a posterior q(z|x) from the encoder and a likelihood p(x|z) from the decoder,
    each a TensorFlow Probability distribution built by a swappable layer
    (`keras_vae.distributions`), and an objective (`keras_vae.losses`) that says what is
    minimized. The default is the VAE of the paper: p(z) = N(0, I),
    q(z|x) = N(mu(x), diag sigma^2(x)), Bernoulli p(x|z), and the negative ELBO in nats per
    example, `loss = reconstruction_loss + kl_loss`, reconstruction_loss = -log p(x|z) at
    z = mu + sigma * eps, and the KL in closed form. The KL is `tfd.kl_divergence(q, p)` where
    TFP registers a closed form for the pair and a Monte Carlo estimate on the same samples
    otherwise; `kl_analytic` says which, fixed at construction (and in the export's metadata).

    Args:
        encoder: `keras.Model`. Built network from `(batch, *input_shape)` to the posterior's
            heads (`posterior.output_sizes(latent_dim)`; the diagonal posterior's are
            `[z_mean, z_log_var]`, each `(batch, latent_dim)`).
        decoder: `keras.Model`. Built network from `(batch, latent_dim)` to the likelihood's
            parameters `(batch, *input_shape[:-1], likelihood.output_channels(channels))`.
        likelihood: str, dict, `keras_vae.Likelihood` or a function returning a
            `tfd.Distribution`. Defaults to `"bernoulli"`.
        prior: str, dict, `keras_vae.distributions.Prior` or a function of no arguments
            returning a `tfd.Distribution`. `"normal"`, `"mixture"` or `"vamp"`. Defaults to
            `"normal"`.
        posterior: str, dict or `keras_vae.distributions.Posterior`. `"diagonal"`, `"full"` or
            `"iaf"`. Defaults to `"diagonal"`.
        objective: str, dict or `keras_vae.losses.Objective`. `"elbo"` or `"iwae"`, or
            `keras_vae.losses.ELBO(beta=..., free_bits=..., ...)`. Defaults to `"elbo"`.
        seed: int or None. Seed of the sampling noise. Defaults to `None`.
        **kwargs: standard `keras.Model` arguments (`name`, ...).

    Example:

    ```python
    vae = keras_vae.VAE.from_architecture(input_shape=(28, 28, 1), latent_dim=20)
    vae.compile()  # Keras' Adam, graph mode, one step per execution
    vae.fit(x_train, epochs=10, batch_size=100, validation_data=x_val)
    reconstructions = vae.predict(x_val)
    images = vae.sample(16, seed=0)

    iwae = keras_vae.VAE.from_architecture((28, 28, 1), 50, prior="vamp", posterior="iaf",
                                           objective=keras_vae.losses.IWAE(k=5))
    ```

    References:
        Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
    """

    generative = True
    has_posterior = True
    def __init__(self, encoder, decoder, likelihood="bernoulli", prior="normal",
                 posterior="diagonal", objective="elbo", seed=None, **kwargs):
        super().__init__(encoder, decoder, likelihood=likelihood, seed=seed, **kwargs)
        self.posterior = get_posterior(posterior)
        self.posterior.configure(self.latent_dim)
        self.prior = get_prior(prior)
        self.prior.configure(self.latent_dim, self.data_shape, self.likelihood.support)
        self.objective = get_objective(objective)
        self.check_networks()
        self.kl_analytic, self.kl_factorizes = self._kl_forms()
        self.objective.check(self)
        self.track_loss_terms()

    @property
    def metric_names(self):
        return self.objective.metric_names

    @classmethod
    def architecture_heads(cls, latent_dim, parts):
        """The posterior's heads (`parts["posterior"]`, resolved in place)."""
        parts["posterior"] = get_posterior(parts.get("posterior", "diagonal"))
        return parts["posterior"].output_sizes(latent_dim)

    def encoder_heads(self):
        return self.posterior.output_sizes(self.latent_dim)

    def encoding_names(self):
        return tuple(self.posterior.param_names)

    def describe_heads(self):
        return f"the {self.posterior.kind} posterior"

    def describe(self):
        return (f"{type(self).__name__}, {self.likelihood.kind} likelihood, {self.prior.kind} "
                f"prior, {self.posterior.kind} posterior, objective "
                f"{self.objective.describe()}, KL "
                f"{'analytic' if self.kl_analytic else 'Monte Carlo'}")

    def probe_inputs(self):
        """One zero image, as the model takes its inputs (checks of the networks)."""
        return tf.zeros((1, *self.data_shape))

    def _kl_forms(self):
        """(analytic, factorizes): whether TFP has KL(q || p) in closed form for this pair, and
        whether it splits per latent dimension (what free bits needs). Checks the prior's and
        the posterior's event shapes on the way."""
        params = self.encode(self.probe_inputs())
        q, p = self.posterior.distribution(params), self.prior_distribution()
        for role, dist in (("posterior", q), ("prior", p)):
            if tuple(dist.event_shape) != (self.latent_dim,):
                raise ValueError(
                    f"Argument `{role}` must give distributions with event shape "
                    f"({self.latent_dim},) (the latent size). Received: event shape "
                    f"{tuple(dist.event_shape)} from {dist!r}")
        analytic = objectives.has_analytic_kl(q, p)
        factorizes = self.posterior.kl_per_dimension(params, p) is not None
        return analytic, factorizes

    # ----------------------------------------------------------------- the model's functions

    def encode(self, x, training=False):
        """The posterior's parameters for the input `x`: a tuple in `posterior.param_names`
        order (`(z_mean, z_log_var)` for the diagonal posterior)."""
        images, condition = self.split_condition(x)
        return tuple(self.posterior.params(
            self.encoder_outputs(images, training=training, condition=condition)))

    def posterior_distribution(self, x, training=False):
        """q(z|x) as a TFP distribution, batched over the images `x`."""
        return self.posterior.distribution(self.encode(x, training=training))

    def prior_distribution(self):
        """p(z) as a TFP distribution with event `(latent_dim,)`."""
        return self.prior.distribution(self.posterior_distribution)

    def latent_code(self, x, training=False):
        """A deterministic latent vector per image: the posterior's mean (for a flow, its base
        mean carried through the flow)."""
        return self.posterior.mean(self.encode(x, training=training))

    @property
    def sampling_description(self):
        return f"z ~ p(z), {self.prior.kind} prior"

    def latent_traversals(self, images, values):
        """Decoder means `(latent_dim, n, len(values), *data_shape)`: each of the `n` images'
        latent codes with dimension j set to each of `values` in turn (Higgins et al. 2017's
        traversals); None for a conditional model, whose decoder needs a label too."""
        if self.conditional:
            return None
        codes = np.asarray(self.latent_code(images), np.float32)
        values = np.asarray(values, np.float32)
        dims, n, steps = self.latent_dim, len(codes), len(values)
        z = np.broadcast_to(codes[None, :, None], (dims, n, steps, dims)).copy()
        for j in range(dims):
            z[j, :, :, j] = values
        decoded = np.asarray(self.decode(z.reshape(-1, dims)))
        return decoded.reshape(dims, n, steps, *decoded.shape[1:])

    def sample(self, n, seed=None):
        """Draws `n` latent vectors from the prior and returns their decoder means.

        The same int `seed` gives the same images, here and in an exported SavedModel.
        """
        check_count(n)
        return self.decode(self.prior.sample(n, seed=seed,
                                             posterior_of=self.posterior_distribution))

    def sampled_terms(self, x, num_samples, seed=None, training=False, params=None,
                      log_prob=None, fixed_samples=False):
        """What every objective and estimate is made of, for `num_samples` draws z ~ q(z|x).

        Args:
            x: images `(batch, *data_shape)`.
            num_samples: int. Draws per image.
            seed: None (the model's generator), an int, or an integer scalar or `(2,)` tensor.
            training: bool. Training mode of the networks.
            params: list of tensors or None. The posterior's parameters, if not the encoder's
                (the amortization gap refines them).
            log_prob: callable or None. Replaces `likelihood.log_prob`.
            fixed_samples: bool. Hold z fixed (no gradient through it) and take log q(z|x)
                from the distribution: what the score-function estimator needs.

        Returns:
            dict: `params`, `q`, `p` (distributions), `z` `(samples, batch, latent_dim)`,
            `log_q` and `log_px_z` `(samples, batch)`.
        """
        images, condition = self.split_condition(x)
        images = ops.cast(images, "float32")
        if params is None:
            params = self.posterior.params(
                self.encoder_outputs(images, training=training, condition=condition))
        params = list(params)
        z, log_q = self.posterior.sample(params, num_samples, seed=self.noise_seed(seed))
        q = self.posterior.distribution(params)
        if fixed_samples:
            z = tf.stop_gradient(z)
            log_q = q.log_prob(z)
        return {
            "params": params,
            "q": q,
            "p": self.prior_distribution(),
            "z": z,
            "log_q": log_q,
            "log_px_z": self.log_likelihood(images, z, training=training, log_prob=log_prob,
                                            condition=condition),
        }

    def log_importance_weights(self, x, num_samples, seed=None, training=False, params=None,
                               log_prob=None):
        """`(log_w, terms)`: the log-weights log p(x|z) + log p(z) - log q(z|x)
        `(num_samples, batch)` (`objectives.log_weights`) at draws z ~ q(z|x), and the
        `sampled_terms` they come from. The IWAE objective, the importance-sampled
        log-likelihood and the amortization gap all use them."""
        terms = self.sampled_terms(x, num_samples, seed=seed, training=training, params=params,
                                   log_prob=log_prob)
        log_pz = terms["p"].log_prob(terms["z"])
        return objectives.log_weights(terms["log_px_z"], log_pz, terms["log_q"]), terms

    def posterior_params(self, outputs):
        """q(z|x)'s parameters from the encoder's raw outputs (what the amortization gap
        refines per image)."""
        return self.posterior.params(outputs)

    def kl_terms(self, terms):
        """`{"kl_loss": KL(q(z|x) || p(z))}` per example `(batch,)` from `sampled_terms`:
        analytic where TFP has the closed form, else Monte Carlo on the same draws."""
        return {"kl_loss": objectives.kl_divergence(terms["q"], terms["p"], terms["z"],
                                                    terms["log_q"], self.kl_analytic)}

    def kl_per_dimension_terms(self, terms):
        """The KL of each latent dimension `(batch, latent_dim)` from `sampled_terms` (what
        free bits floors), or None where it does not split per dimension in closed form."""
        return self.posterior.kl_per_dimension(terms["params"], terms["p"])

    def kl_per_dimension(self, x):
        """KL(q(z_j|x) || p(z_j)) `(batch, latent_dim)` for the images `x`, or None (see
        `kl_per_dimension_terms`)."""
        return self.posterior.kl_per_dimension(list(self.encode(x)), self.prior_distribution())

    def distribution_summary(self):
        """The model's distributions and objective in words, for `metrics.json`."""
        return {"prior": self.prior.kind, "posterior": self.posterior.kind,
                "objective": self.objective.describe(),
                "kl": "analytic" if self.kl_analytic else "monte_carlo"}

    def loss_terms(self, x, training=False, seed=None, step=None):
        """The per-example loss terms, in nats: the one method every step reports from.

        The objective (`keras_vae.losses`) computes them; a subclass may override this, with
        or without `step`.

        Args:
            x: images `(batch, *data_shape)` (with their condition, for a conditional model).
            training: bool. Training mode of the networks.
            seed: None (fresh noise from the model's generator) or an int or integer scalar
                tensor (reproducible noise).
            step: optimizer step, for objectives with a schedule (KL warm-up); None means the
                schedule's end.

        Returns:
            dict of `(batch,)` tensors named by `objective.metric_names`: `loss` (what is
            minimized), `reconstruction_loss`, `kl_loss`, `elbo` (the true bound,
            `-(reconstruction_loss + kl_loss)`) and the objective's own.
        """
        return self.objective(self, x, training=training, seed=seed, step=step)

    # ----------------------------------------------------------------------- serving

    def serving_endpoints(self):
        """The base's signatures (serving_default, encode, decode, sample) and `elbo`."""
        return {**super().serving_endpoints(), **elbo_endpoint(self)}

    def serving_metadata(self):
        metadata = super().serving_metadata()
        metadata["signatures"].update({
            "serving_default": "images -> reconstructions (decoder mean at z = z_mean)",
            "encode": f"images -> {', '.join(self.encoding_names())} of q(z|x)",
            "elbo": "images, seed (int32) -> elbo, reconstruction_loss, kl_loss "
            "(nats per example, one z ~ q(z|x) drawn with seed)",
        })
        return {
            **metadata,
            "prior": keras.saving.serialize_keras_object(self.prior),
            "posterior": keras.saving.serialize_keras_object(self.posterior),
            "objective": keras.saving.serialize_keras_object(self.objective),
            "kl": "analytic (tfd.kl_divergence)" if self.kl_analytic else
            "Monte Carlo (log q(z|x) - log p(z) at the objective's samples)",
        }

    # ----------------------------------------------------------------------- config

    def get_config(self):
        return {
            **super().get_config(),
            "prior": keras.saving.serialize_keras_object(self.prior),
            "posterior": keras.saving.serialize_keras_object(self.posterior),
            "objective": keras.saving.serialize_keras_object(self.objective),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key, get in (("prior", get_prior), ("posterior", get_posterior),
                         ("objective", get_objective)):
            if key in config:
                config[key] = get(config[key])
        return super().from_config(config)


__all__ = ["VAE"]
