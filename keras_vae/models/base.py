"""What every model of the family shares: an encoder, a decoder, a likelihood and its config.

`BaseAutoencoder` owns the networks, the one overridable method `loss_terms(x)` that returns a
model's per-example loss terms, the hooks a training run calls, and the base config. Keras'
steps and compile defaults (`steps.KerasSteps`), the checked `fit`/`evaluate`/`predict`
(`entry_points.CheckedEntryPoints`) and the serving signatures (`serving.Servable`) are
mixins of their own files. A model (`Autoencoder`, `VAE`, ...) adds only what is its own.
"""

import math

import keras
import tensorflow as tf
from keras import ops

from keras_vae.data.pipeline import count_batches
from keras_vae.distributions.likelihoods import get_likelihood
from keras_vae.models.entry_points import CheckedEntryPoints
from keras_vae.models.network_checks import built_network, checked_discriminator, weighted_mean
from keras_vae.models.serving import Servable, elbo_endpoint
from keras_vae.models.steps import KerasSteps
from keras_vae.networks import architecture_options, build_decoder, build_encoder


class NotGenerativeError(TypeError):
    """Raised by `sample` on a model that has no distribution over its latent space."""


class BaseAutoencoder(CheckedEntryPoints, Servable, KerasSteps, keras.Model):
    """An encoder, a decoder and a likelihood p(x | decoder output), trained by `model.fit`.

    Subclasses implement `loss_terms(x, training, seed)` (a dict of `(batch,)` tensors with at
    least `loss`, what is minimized; with a `step` argument too, the optimizer's step count
    reaches it, for schedules), give `metric_names` (the keys of `loss_terms`, one tracker
    each), call `self.track_loss_terms()` at the end of `__init__`, and extend
    `serving_endpoints`, `serving_metadata` and `get_config` with their own. A model with a
    distribution over its latent space sets `generative = True` and implements
    `sample(n, seed)`. Code that trains or evaluates a model reaches it only through the
    methods under "training's hooks" below, never through a branch on its class.

    Args:
        encoder: `keras.Model`. Built network from `(batch, *input_shape)` to the heads the
            subclass asks for (`encoder_heads()`).
        decoder: `keras.Model`. Built network from `(batch, latent_dim)` to the likelihood's
            parameters `(batch, *input_shape[:-1], likelihood.output_channels(channels))`.
        likelihood: str, dict, `keras_vae.Likelihood` or a function returning a
            `tfd.Distribution`. Defaults to `"bernoulli"`.
        seed: int or None. Seed of the model's noise. Defaults to `None`.
        **kwargs: standard `keras.Model` arguments (`name`, ...).
    """

    generative = False
    metric_names = ("loss",)
    # Optimizers besides `optimizer`, for models whose networks are updated separately:
    # `{compile argument: function returning its default}` (see `AdversarialAutoencoder`).
    extra_optimizers = {}
    # Whether the model has a posterior q(z|x) and a prior p(z), so that it is scored by the
    # importance-sampled log-likelihood.
    has_posterior = False
    # Whether the networks take a condition besides the images (`split_condition`).
    conditional = False
    # Whether the model learns from partly labelled images (-1: unlabelled).
    partially_labelled = False

    def __init__(self, encoder, decoder, likelihood="bernoulli", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_shape, self.latent_dim = self.network_shapes(encoder, decoder)
        self.likelihood = get_likelihood(likelihood)
        self.encoder = encoder
        self.decoder = decoder
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.seed = seed
        self.built = True

    @classmethod
    def from_architecture(cls, input_shape, latent_dim, architecture="mlp", hidden_units=None,
                          activation="relu", likelihood="bernoulli", seed=None, blocks=None,
                          kernel_size=None, dense_units=None, **kwargs):
        """Builds the model with a ready-made MLP, convolutional or residual encoder and
        decoder (`keras_vae.networks`).

        Args:
            input_shape: tuple of ints. Shape of one example, e.g. `(28, 28, 1)`.
            latent_dim: int. Size of z, at least 1.
            architecture: str. `"mlp"`, `"conv"` or `"resnet"`. Defaults to `"mlp"`.
            hidden_units: list of ints or None. Hidden widths (MLP) or filters per resolution
                (conv, resnet), from the data side. Defaults to the builder's default
                (`[500]`, `[32, 64]`, `[32, 64, 128]`).
            activation: str. Hidden activation. Defaults to `"relu"`.
            likelihood: as for the model. Defaults to `"bernoulli"`.
            blocks: int or None. Residual blocks per resolution (resnet only; refused for
                the others). Defaults to the builder's (2).
            kernel_size: int or None. Kernel size of the convolutions (conv only). Defaults
                to the builder's (3).
            dense_units: list of ints or None. Dense widths between the convolutions and the
                latent code (conv only). Defaults to none; `kernel_size=4`,
                `hidden_units=[32, 32, 64, 64]`, `dense_units=[256]` is disentanglement_lib's
                encoder (Locatello et al. 2019), the decoder its mirror image.
            seed: int or None. Seed of the model's noise. Weight initialization follows
                Keras' global seed (`keras.utils.set_random_seed`).
            **kwargs: the model's own arguments (a `VAE`'s `prior`, `posterior`,
                `objective`; the encoder gets the heads they ask for) and `keras.Model`'s.
        """
        likelihood = get_likelihood(likelihood)
        heads = cls.architecture_heads(latent_dim, kwargs)
        encoder, decoder = cls.build_networks(
            architecture, tuple(input_shape), latent_dim, hidden_units, activation, heads,
            likelihood.output_channels(tuple(input_shape)[-1]), kwargs,
            **architecture_options(architecture, blocks=blocks, kernel_size=kernel_size,
                                   dense_units=dense_units))
        return cls(encoder, decoder, likelihood=likelihood, seed=seed, **kwargs)

    def describe(self) -> str:
        """The model in one line, for logs."""
        return f"{type(self).__name__}, {self.likelihood.kind} likelihood"

    @classmethod
    def recipe(cls, recipe):
        """The model's own recipe for the images a `keras_vae.recipes.Recipe` was chosen for
        (`keras_vae.recipe_for(images, model_class)`): the data's recipe as it is, unless a
        subclass measured better settings for itself."""
        return recipe

    # ---------------------------------------------------------------- training's hooks

    def after_fit(self, images):
        """Called by a training run after `fit`, with the training images as they are
        evaluated: fits what a model fits after training (the VQ-VAE's code prior)."""

    def evaluation_metrics(self, images, labels=None) -> dict:
        """The model's own figures for `metrics.json` on `images` and their `labels` (int
        array or None): the VQ-VAE's codebook use, the semi-supervised VAE's accuracy;
        JSON-ready values."""
        return {}

    @classmethod
    def batches_per_epoch(cls, num_images, batch_size, labels=None, settings=None) -> int:
        """Batches in an epoch of the training pipeline of a model built with `settings` (its
        constructor's arguments) on `num_images` images with `labels`."""
        return count_batches(num_images, batch_size)

    def dataset_options(self, labels=None) -> dict:
        """Options of `keras_vae.data.make_dataset` for the model's training batches with
        `labels` (the semi-supervised VAE's share of labelled images); none here."""
        return {}

    def own_figures(self, path, seed=0, images=None, labels=None) -> dict:
        """The model's own figures, saved with `path(file name)`: `{caption: file}` (the
        hierarchical VAE's samples with one layer held fixed; with held-out `images` and
        their `labels`, the semi-supervised VAE's confusion matrix); none here."""
        return {}

    @classmethod
    def build_networks(cls, architecture, input_shape, latent_dim, hidden_units, activation,
                       heads, output_channels, parts, **options):
        """The encoder and decoder `from_architecture` builds (`keras_vae.networks`), the
        decoder with `output_channels` (the likelihood's parameters per pixel) and both with
        the architecture's own `options`; a subclass may wrap them (the conditional VAE feeds
        them the label too)."""
        encoder = build_encoder(architecture, input_shape, latent_dim, hidden_units, activation,
                                heads=heads, **options)
        decoder = build_decoder(architecture, input_shape, latent_dim, hidden_units, activation,
                                output_channels=output_channels, **options)
        return encoder, decoder

    @staticmethod
    def network_shapes(encoder, decoder):
        """`(data_shape, latent_dim)`: the encoder's input shape and the decoder's input size
        (a subclass whose networks take more inputs reads them its own way)."""
        return built_network(encoder, "encoder"), int(built_network(decoder, "decoder")[-1])

    @classmethod
    def architecture_heads(cls, latent_dim, parts):
        """`{name: size}` of the encoder heads `from_architecture` builds, given the model's
        own arguments `parts` (which a subclass may resolve in place)."""
        return {"z": latent_dim}

    def track_loss_terms(self):
        """Makes one `keras.metrics.Mean` per entry of `metric_names` (Keras resets them each
        epoch through `metrics`); subclasses call it once their parts are configured."""
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        if "elbo" in self.trackers and self.likelihood.reports_bits_per_dim:
            # The ELBO of a discrete likelihood in bits per data dimension: -ELBO / (D ln 2).
            self.trackers["bits_per_dim"] = keras.metrics.Mean(name="bits_per_dim")

    def bits_per_dim(self, log_px):
        """`log_px` (nats per example) as -log2 p(x) / D, D the values of one example; None
        where the likelihood is a density (`Likelihood.bits_per_dim`)."""
        return self.likelihood.bits_per_dim(-log_px, math.prod(self.data_shape))

    # ---------------------------------------------------------------------- the networks

    def encoder_heads(self):
        """`{name: size}` of the encoder's outputs, in order."""
        return self.architecture_heads(self.latent_dim, {})

    def check_networks(self):
        """Raises `ValueError` unless the encoder outputs `encoder_heads()` and the decoder
        the likelihood's parameters for the data's shape."""
        heads = self.encoder_heads()
        outputs = self.encoder.outputs
        if len(outputs) != len(heads) or any(
                tuple(o.shape[1:]) != (size,) for o, size in zip(outputs, heads.values())):
            expected = ", ".join(f"{name} (batch, {size})" for name, size in heads.items())
            raise ValueError(
                f"Argument `encoder` must output [{expected}] for {self.describe_heads()} "
                f"with latent_dim={self.latent_dim} (the decoder's input). "
                f"Received: outputs of shapes {[tuple(o.shape) for o in outputs]}"
            )
        channels = self.likelihood.output_channels(self.data_shape[-1])
        expected = (*self.data_shape[:-1], channels)
        received = tuple(self.decoder.outputs[0].shape[1:])
        if len(self.decoder.outputs) != 1 or received != expected:
            raise ValueError(
                f"Argument `decoder` must output one tensor of shape (batch, *{expected}) for "
                f"the {self.likelihood.kind} likelihood ({channels} parameter(s) per "
                f"position for {self.data_shape[-1]} channel(s)). Received: output shapes "
                f"{[tuple(o.shape) for o in self.decoder.outputs]}"
            )

    def encoding_names(self):
        """Names of what `encode` returns, in order (the `encode` signature's outputs)."""
        return tuple(self.encoder_heads())

    def describe_heads(self):
        """Where the encoder's heads come from, for error messages."""
        return f"the {type(self).__name__}"

    def split_condition(self, x):
        """`(images, condition)` of a model's input `x`: the images and None for a model
        without a condition (a conditional model splits off its one-hot labels)."""
        return x, None

    def encoder_outputs(self, x, training=False, condition=None):
        """The encoder's outputs for images `x` (with the `condition`, for a conditional
        model's two-input encoder), always a list."""
        inputs = x if condition is None else [x, condition]
        outputs = self.encoder(inputs, training=training)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    def encode(self, x, training=False):
        """The encoder's outputs for the input `x`, a tuple in `encoder_heads()` order."""
        images, condition = self.split_condition(x)
        return tuple(self.encoder_outputs(images, training=training, condition=condition))

    def latent_code(self, x, training=False):
        """One deterministic latent vector per image `(batch, latent_dim)`."""
        return self.encode(x, training=training)[0]

    def decoder_params(self, z, training=False, condition=None):
        """Returns the likelihood's parameters for latent vectors `z`, in float32. With a
        `condition` `(batch, ...)`, `z` may hold several samples per example stacked
        sample-major (`(samples * batch, latent_dim)`): the condition is repeated to match."""
        if condition is None:
            return ops.cast(self.decoder(z, training=training), "float32")
        z = ops.convert_to_tensor(z, "float32")
        repeats = tf.shape(z)[0] // tf.shape(condition)[0]
        condition = tf.tile(condition, [repeats, 1])
        return ops.cast(self.decoder([z, condition], training=training), "float32")

    def log_likelihood(self, x, z, training=False, log_prob=None, condition=None):
        """log p(x|z) `(samples, batch)` for images `x` `(batch, ...)` and latent samples `z`
        `(samples, batch, latent_dim)`; `log_prob` may replace `likelihood.log_prob`."""
        log_prob = log_prob or self.likelihood.log_prob
        params = self.decoder_params(ops.reshape(z, (-1, z.shape[-1])), training=training,
                                     condition=condition)
        samples = z.shape[0] if z.shape[0] is not None else tf.shape(z)[0]
        params = tf.reshape(params, [samples, -1, *params.shape[1:]])
        # The likelihood broadcasts x (batch, ...) against params (samples, batch, ...).
        return log_prob(params, x)

    def decode(self, z, condition=None):
        """Returns the mean of p(x|z) for latent vectors `z`."""
        return self.likelihood.mean(self.decoder_params(z, condition=condition))

    def reconstruction_nll(self, x, z, training=False, condition=None):
        """-log p(x|z) per example `(batch,)` for images `x` and latent vectors `z`."""
        params = self.decoder_params(z, training=training, condition=condition)
        return -self.likelihood.log_prob(params, x)

    def noise_seed(self, seed=None):
        """The seed of a draw: `seed` as given, or the model's generator (fresh noise)."""
        return self.seed_generator if seed is None else seed

    def call(self, inputs, training=False):
        """Deterministic reconstruction: the mean of p(x|z) at the latent code of `inputs`."""
        _, condition = self.split_condition(inputs)
        return self.likelihood.mean(self.decoder_params(
            self.latent_code(inputs, training=training), training=training,
            condition=condition))

    @property
    def ready_to_sample(self):
        """Whether `sample` works now (a generative model; one whose prior is fitted after
        training, like the VQ-VAE's, once it is)."""
        return self.generative

    @property
    def sampling_description(self):
        """How `sample` draws, in words (figure titles)."""
        return ""

    def latent_traversals(self, images, values):
        """Decoder means of the images' latent codes with each dimension swept over `values`
        (`VAE.latent_traversals`), or None: a model without a continuous prior to sweep (here)
        has none."""
        return None

    def sample(self, n, seed=None):
        raise NotGenerativeError(
            f"A {type(self).__name__} cannot sample: it has no distribution over its latent "
            "space to draw codes from (encode and decode only). Use a generative model "
            "(keras_vae.VAE, ...) to sample.")

    def loss_terms(self, x, training=False, seed=None, step=None):
        """The per-example loss terms, in nats: the one method every step reports from.

        Args:
            x: images `(batch, *data_shape)`.
            training: bool. Training mode of the networks.
            seed: None (fresh noise from the model's generator) or an int or integer scalar
                tensor (reproducible noise).
            step: optimizer step, for objectives with a schedule; None means its end.

        Returns:
            dict of `(batch,)` tensors named by `metric_names`; `loss` is minimized.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement `loss_terms`.")

    # ----------------------------------------------------------------------- config

    def save(self, filepath, *args, **kwargs):
        """`keras.Model.save`, refusing first, with the reason, a model whose parts a `.keras`
        file cannot hold (an unregistered function, a fixed distribution object): otherwise
        the file is written and fails only at `keras.models.load_model`."""
        for role in ("likelihood", "prior", "posterior"):
            part = getattr(self, role, None)
            problem = None if part is None else part.saving_problem()
            if problem:
                raise ValueError(f"Argument `{role}` of this {type(self).__name__} cannot be "
                                 f"saved: {problem}. Received: {role}={part!r}")
        return super().save(filepath, *args, **kwargs)

    _SEED_STATE = "seed_generator_state"

    def save_own_variables(self, store):
        """Saves the noise generator's state with the weights (`.keras`, `save_weights`,
        `BackupAndRestore`), so that a reloaded or resumed model draws the noise it would have
        drawn next."""
        super().save_own_variables(store)
        store[self._SEED_STATE] = self.seed_generator.state

    def load_own_variables(self, store):
        if self._SEED_STATE in store.keys():  # files written before 0.1 do not hold it
            self.seed_generator.state.assign(store[self._SEED_STATE])
            store = {key: store[key] for key in store.keys() if key != self._SEED_STATE}
        super().load_own_variables(store)

    def get_config(self):
        return {
            **super().get_config(),  # name, trainable and the dtype policy
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "likelihood": keras.saving.serialize_keras_object(self.likelihood),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        config["likelihood"] = get_likelihood(config["likelihood"])
        return cls(**config)


__all__ = ["BaseAutoencoder", "NotGenerativeError", "built_network", "checked_discriminator",
           "elbo_endpoint", "weighted_mean"]
