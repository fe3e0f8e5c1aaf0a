"""What every model of the family shares: an encoder, a decoder, a likelihood and Keras' steps.

`BaseAutoencoder` owns the generic `train_step`/`test_step`, built on one overridable method,
`loss_terms(x)`, that returns the model's per-example loss terms; loss trackers named after
those terms; `fit`/`evaluate`/`predict` that check their data first; the compile defaults;
serving signatures assembled from what a model can do (`encode`, `decode`, `sample` for a
generative model, and a subclass' own); the export's metadata; and the base config. A model
(`Autoencoder`, `VAE`, ...) adds only what is its own.
"""

import inspect
import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae.arguments import check_int
from keras_vae.data.conditions import images_of
from keras_vae.distributions.likelihoods import get_likelihood
from keras_vae.models import execution, input_checks
from keras_vae.models.execution import num_batches
from keras_vae.networks import architecture_options, build_decoder, build_encoder


def built_network(network, arg_name):
    """Returns the input shape (without batch axis) of a built functional network."""
    inputs = getattr(network, "inputs", None)
    if not isinstance(network, keras.Model) or not inputs or len(inputs) != 1:
        raise ValueError(
            f"Argument `{arg_name}` must be a built Keras model with one known input, such as "
            "a functional model or a Sequential starting with keras.Input. "
            f"Received: {arg_name}={network!r}"
        )
    return tuple(inputs[0].shape[1:])


def checked_discriminator(discriminator, input_shape, what, outputs=None):
    """Returns `discriminator` if it is a built Keras model taking `(batch, *input_shape)`
    (`what` it judges, in words) and, when `outputs` is a list of names, giving those
    outputs; else raises `ValueError` naming the argument."""
    expected = f"take {what} of shape (batch, {', '.join(str(d) for d in input_shape)})"
    if outputs:
        expected += f" and output [{', '.join(outputs)}]"
    received = built_network(discriminator, "discriminator")
    if received != tuple(input_shape) or (outputs and len(discriminator.outputs) != len(outputs)):
        raise ValueError(f"Argument `discriminator` must {expected}. Received: input shape "
                         f"{received}, {len(discriminator.outputs)} output(s)")
    return discriminator


def weighted_mean(values, sample_weight):
    """The mean of per-example `values`, weighted by `sample_weight` when given."""
    if sample_weight is None:
        return ops.mean(values)
    sample_weight = ops.cast(ops.reshape(sample_weight, ops.shape(values)), values.dtype)
    return ops.sum(values * sample_weight) / ops.maximum(ops.sum(sample_weight), 1e-12)


def elbo_endpoint(model):
    """`{"elbo": (fn, input specs)}`: the serving signature of a model's ELBO, its terms at one
    draw of the noise with an int32 `seed`."""
    images = tf.TensorSpec((None, *model.data_shape), tf.float32, name="images")
    seed = tf.TensorSpec((), tf.int32, name="seed")

    def elbo(images, seed):
        terms = model.loss_terms(images, seed=seed)
        return {key: terms[key] for key in ("elbo", "reconstruction_loss", "kl_loss")}

    return {"elbo": (elbo, [images, seed])}


class NotGenerativeError(TypeError):
    """Raised by `sample` on a model that has no distribution over its latent space."""


class BaseAutoencoder(keras.Model):
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
                          **kwargs):
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
            **architecture_options(architecture, blocks=blocks))
        return cls(encoder, decoder, likelihood=likelihood, seed=seed, **kwargs)

    def describe(self) -> str:
        """The model in one line, for logs."""
        return f"{type(self).__name__}, {self.likelihood.kind} likelihood"

    # ---------------------------------------------------------------- training's hooks

    def after_fit(self, images):
        """Called by a training run after `fit`, with the training images as they are
        evaluated: fits what a model fits after training (the VQ-VAE's code prior)."""

    def evaluation_metrics(self, images) -> dict:
        """The model's own figures for `metrics.json` on `images` (the VQ-VAE's codebook use);
        JSON-ready values."""
        return {}

    def own_figures(self, path, seed=0) -> dict:
        """The model's own figures, saved with `path(file name)`: `{caption: file}` (the
        hierarchical VAE's samples with one layer held fixed); none here."""
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
        if "elbo" in self.trackers and self.likelihood.levels is not None:
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

    # ------------------------------------------------------------------------ Keras steps

    def compile(self, optimizer="adam", *, jit_compile=False, steps_per_execution=1,
                evaluation_seed=0, **kwargs):
        """`keras.Model.compile` with the family's defaults.

        Args:
            optimizer: a Keras optimizer or its name, as `keras.Model.compile` takes it.
                Defaults to `"adam"`, Keras' `Adam()`.
            jit_compile: bool. XLA; off by default (docs/results/benchmarks.md compares the two).
            steps_per_execution: int. Batches per host round-trip. Defaults to 1, Keras' own
                contract: callbacks see every batch. More is faster for small models
                (docs/results/benchmarks.md) and opt-in; `fit`
                then never runs more steps per execution than an epoch has, the progress bar
                and callbacks get true batch counts, but `on_*_batch_*` hooks see only the
                last batch of each execution. Not available under a `tf.distribute` strategy
                (Keras 3.15 fails there with "You must feed a value for placeholder tensor").
            evaluation_seed: int or None. Seed of the noise of `evaluate` (and of the
                validation in `fit`): with an int (the default, 0) evaluating the same data
                twice gives the same figures, so that EarlyStopping and ModelCheckpoint
                monitor a noise-free value. None draws fresh noise at every call.
            **kwargs: other `keras.Model.compile` arguments. `metrics` compare the images with
                their reconstructions (`model(x)`, the decoder mean at the latent code), e.g.
                `metrics=["mse"]`. A model with several optimizers takes one more argument per
                network (`extra_optimizers`: `discriminator_optimizer=...`), each saved and
                restored with the `.keras` file.
        """
        check_int("steps_per_execution", steps_per_execution, 1)
        if evaluation_seed is not None:
            check_int("evaluation_seed", evaluation_seed, 0, "or None")
        if steps_per_execution > 1 and tf.distribute.has_strategy():
            raise ValueError(
                "Argument `steps_per_execution` must be 1 under a tf.distribute strategy: "
                "Keras 3.15 fails there with more steps per execution. Received: "
                f"steps_per_execution={steps_per_execution} in the scope of "
                f"{type(tf.distribute.get_strategy()).__name__}")
        extra = {name: kwargs.pop(name, None) for name in self.extra_optimizers}
        super().compile(optimizer=optimizer, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, **kwargs)
        self.evaluation_seed = evaluation_seed
        self.requested_steps_per_execution = steps_per_execution
        # Metrics given to `compile` compare the images with their reconstructions.
        self.has_compiled_metrics = bool(kwargs.get("metrics") or kwargs.get("weighted_metrics"))
        for name, value in extra.items():
            value = self.extra_optimizers[name]() if value is None else keras.optimizers.get(
                value)
            setattr(self, name, value)
            if self.built and not value.built:
                # Built here, in the strategy's scope where compile is called: built inside a
                # distributed step instead, its slots fail to be created there.
                value.build(self.optimizer_variables(name))

    def get_compile_config(self):
        """Keras' compile config with the family's own arguments: `evaluation_seed` and the
        optimizers of `extra_optimizers`."""
        config = super().get_compile_config()
        if config:
            config["evaluation_seed"] = self.evaluation_seed
            for name in self.extra_optimizers:
                config[name] = keras.saving.serialize_keras_object(getattr(self, name))
        return config

    def compile_from_config(self, config):
        """Recompiles a loaded model as it was saved (Keras skips models whose `compile` is
        overridden), then builds each optimizer so that its saved state can be restored."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            for name in ("optimizer", *self.extra_optimizers):
                getattr(self, name).build(self.optimizer_variables(name))

    def optimizer_variables(self, name):
        """The variables the optimizer `name` (`"optimizer"` or one of `extra_optimizers`)
        updates: all trainable variables for a model with one optimizer."""
        return self.trainable_variables

    @property
    def metrics(self):
        """The loss trackers, then what Keras tracks besides them (the metrics given to
        `compile`), without Keras' own loss tracker: `loss` is the model's."""
        trackers = list(self.trackers.values())
        return trackers + [metric for metric in super().metrics
                           if metric.name != "loss" and not any(metric is t for t in trackers)]

    def update_metrics(self, x, terms, sample_weight, training):
        """Updates the loss trackers and the metrics given to `compile` (images against their
        reconstructions, computed only when there are such metrics); returns all results."""
        if "bits_per_dim" in self.trackers:
            terms = {**terms, "bits_per_dim": self.bits_per_dim(terms["elbo"])}
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name], sample_weight=sample_weight)
        if getattr(self, "has_compiled_metrics", False):
            reconstructions = self(x, training=training)
            logs = self.compute_metrics(x, ops.cast(images_of(x), reconstructions.dtype),
                                        reconstructions, sample_weight)
        else:
            logs = self.get_metrics_result()
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras 3.15 reduces each worker's logs with strategy.reduce("MEAN", v, axis=0),
            # which needs an axis: scalars fail there ("Invalid reduction dimension 0").
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    @staticmethod
    def with_layer_losses(loss, *networks):
        """`loss` plus the layer losses (weight and activity regularization) of `networks`:
        what a model whose optimizers update separate networks adds to each network's
        objective."""
        losses = [term for network in networks for term in network.losses]
        return loss + ops.sum(losses) if losses else loss

    def minimized_loss(self, terms, sample_weight):
        """The scalar a step's gradient is taken of: the batch mean of `terms["loss"]`, plus
        the layers' own losses."""
        loss = weighted_mean(terms["loss"], sample_weight)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    def apply_updates(self, tape, losses):
        """One update per optimizer: `losses` maps `"optimizer"` or a name among
        `extra_optimizers` to the scalar it minimizes over `optimizer_variables(name)`, its
        gradient taken on `tape`. Each loss is divided by the replicas under a
        `tf.distribute` strategy (as Keras' own trainer does: the replicas' gradients are
        summed) and scaled by the optimizer for mixed precision (`scale_loss`), both recorded
        on the tape (outside it their gradient would be None)."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tape:
            scaled = {name: getattr(self, name).scale_loss(loss / replicas if replicas > 1
                                                           else loss)
                      for name, loss in losses.items()}
        for name, loss in scaled.items():
            variables = self.optimizer_variables(name)
            getattr(self, name).apply(tape.gradient(loss, variables), variables)

    def step_loss_terms(self, x, training, seed=None):
        """`loss_terms` as the Keras steps call it: with the optimizer's step for a model
        whose `loss_terms` takes `step` (schedules: KL warm-up, temperature annealing); an
        override without it is called without it (Keras' trainer does the same for
        `compute_loss` without `training`)."""
        if "step" in inspect.signature(self.loss_terms).parameters:
            return self.loss_terms(x, training=training, seed=seed,
                                   step=self.optimizer.iterations)
        return self.loss_terms(x, training=training, seed=seed)

    def model_inputs(self, x, y):
        """What the model takes from a batch `(x, y)`: the images `x` (a model without a
        condition has no target and ignores `y`); the conditional VAE pairs them with the
        labels `y`."""
        return x

    def check_condition(self, x, y, arg_name):
        """Checks the condition of the data handed to `fit`/`evaluate`/`predict` (none here)."""

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x = self.model_inputs(x, y)
        with tf.GradientTape() as tape:
            terms = self.step_loss_terms(x, training=True)
            loss = self.minimized_loss(terms, sample_weight)
        self.apply_updates(tape, {"optimizer": loss})
        return self.update_metrics(x, terms, sample_weight, training=False)

    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x = self.model_inputs(x, y)
        terms = self.step_loss_terms(x, training=False,
                                     seed=getattr(self, "evaluation_seed", None))
        return self.update_metrics(x, terms, sample_weight, training=False)

    def predict_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self(self.model_inputs(x, y), training=False)

    # ------------------------------------------------------------- checked entry points

    def _checked(self, x, arg_name):
        return input_checks.check_inputs(x, self.data_shape, self.likelihood, arg_name)

    @staticmethod
    def _target_for_weights(x, y, kwargs):
        # Keras drops `sample_weight` given without `y`; these models have no target, so a
        # placeholder keeps the weights (train_step and test_step ignore y).
        if y is None and kwargs.get("sample_weight") is not None:
            return np.zeros((len(x),), "float32")
        return y

    def _execution_callbacks(self, callbacks, verbose, epochs, train_batches, test_batches,
                             predict_batches=None, add_history=False):
        """The callbacks to hand Keras: with many steps per execution, the same ones with true
        batch counts (`execution.ExactCounts`); with one, as given."""
        if self.steps_per_execution == 1 or isinstance(callbacks, keras.callbacks.CallbackList):
            return callbacks
        verbose = 1 if verbose == "auto" else verbose
        steps = train_batches if add_history else (test_batches or predict_batches)
        return execution.ExactCounts(
            callbacks, train_batches=train_batches, test_batches=test_batches,
            predict_batches=predict_batches, add_history=add_history,
            add_progbar=verbose != 0, verbose=verbose, epochs=epochs, steps=steps, model=self)

    def _executions_for(self, batches):
        """Never more steps per execution than an epoch has (`compile`'s value otherwise)."""
        requested = getattr(self, "requested_steps_per_execution", self.steps_per_execution)
        wanted = requested if batches is None else max(1, min(requested, batches))
        if wanted != self.steps_per_execution:
            self.steps_per_execution = wanted
            self.make_train_function(force=True)
            self.make_test_function(force=True)
            self.make_predict_function(force=True)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, **kwargs):
        if isinstance(x, tf.data.Dataset):
            # A dataset shuffles itself; Keras' default shuffle=True would only warn.
            shuffle = False
        self.check_condition(x, y, "x")
        x = self._checked(x, "x")
        y = self._target_for_weights(x, y, kwargs)
        if isinstance(validation_data, (tuple, list)):
            self.check_condition(validation_data[0], validation_data[1] if len(
                validation_data) > 1 else None, "validation_data")
            validation_data = (self._checked(validation_data[0], "validation_data"),
                               *validation_data[1:])
        else:
            if validation_data is not None:
                self.check_condition(validation_data, None, "validation_data")
            validation_data = self._checked(validation_data, "validation_data")
        train_batches = num_batches(x, batch_size, kwargs.get("steps_per_epoch"))
        if train_batches is not None and validation_split and not isinstance(
                x, tf.data.Dataset):
            train_batches = num_batches(range(math.ceil(len(x) * (1 - validation_split))),
                                        batch_size)
        if validation_split and not isinstance(x, tf.data.Dataset):
            test_batches = num_batches(range(len(x) - math.ceil(len(x) * (1 - validation_split))),
                                       kwargs.get("validation_batch_size") or batch_size)
        else:
            val_x = validation_data[0] if isinstance(validation_data, (tuple, list)) \
                else validation_data
            test_batches = None if val_x is None else num_batches(
                val_x, kwargs.get("validation_batch_size") or batch_size,
                kwargs.get("validation_steps"))
        self._executions_for(train_batches)
        callbacks = self._execution_callbacks(callbacks, verbose, epochs, train_batches,
                                              test_batches, add_history=True)
        seen = execution.BatchesSeen()
        if isinstance(callbacks, keras.callbacks.CallbackList):
            callbacks.callbacks.append(seen)
        else:
            callbacks = [*(callbacks or []), seen]
        self.fitting = True  # Keras' validation calls `evaluate`: no counts of its own there
        try:
            with input_checks.reraise_input_errors():
                history = super().fit(x, y, batch_size=batch_size, epochs=epochs,
                                      verbose=verbose, callbacks=callbacks,
                                      validation_split=validation_split,
                                      validation_data=validation_data, shuffle=shuffle,
                                      **kwargs)
        finally:
            self.fitting = False
        if seen.epochs and not seen.batches:
            raise ValueError(
                "Argument `x` must yield at least one batch of examples per epoch. Received: "
                "an input that yielded none")
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, **kwargs):
        self.check_condition(x, y, "x")
        x = self._checked(x, "x")
        y = self._target_for_weights(x, y, {"sample_weight": sample_weight})
        if not getattr(self, "fitting", False):  # not the validation of our own `fit`
            batches = num_batches(x, batch_size, steps)
            self._executions_for(batches)
            callbacks = self._execution_callbacks(callbacks, verbose, 1, None, batches)
        with input_checks.reraise_input_errors():
            return super().evaluate(x, y, batch_size=batch_size, verbose=verbose,
                                    sample_weight=sample_weight, steps=steps,
                                    callbacks=callbacks, **kwargs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None,
                **kwargs):
        self.check_condition(x, None, "x")
        x = self._checked(x, "x")
        batches = num_batches(x, batch_size, steps)
        self._executions_for(batches)
        callbacks = self._execution_callbacks(callbacks, verbose, 1, None, None, batches)
        with input_checks.reraise_input_errors():
            return super().predict(x, batch_size=batch_size, verbose=verbose, steps=steps,
                                   callbacks=callbacks, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               **kwargs):
        """`keras.Model.export`, which works straight away (trained or not): the input
        signature is the images' `(None, *data_shape)` float32. For the model's own named
        signatures (encode, decode, ...) use `keras_vae.export_saved_model`."""
        if input_signature is None:
            input_signature = [keras.InputSpec(shape=(None, *self.data_shape), dtype="float32")]
        return super().export(filepath, format=format, verbose=verbose,
                              input_signature=input_signature, **kwargs)

    # ----------------------------------------------------------------------- serving

    def serving_endpoints(self):
        """The signatures `keras_vae.export_saved_model` writes: `{name: (fn, input specs)}`,
        from what the model can do: reconstruct, encode and decode always, sample when it is
        generative. Subclasses add their own."""
        images = tf.TensorSpec((None, *self.data_shape), tf.float32, name="images")
        latents = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")

        def reconstruct(images):
            return {"reconstructions": self(images, training=False)}

        def encode(images):
            return dict(zip(self.encoding_names(), self.encode(images)))

        def decode(z):
            return {"images": self.decode(z)}

        endpoints = {
            "serving_default": (reconstruct, [images]),
            "encode": (encode, [images]),
            "decode": (decode, [latents]),
        }
        if self.generative:
            def sample(n, seed):
                return {"images": self.sample(n, seed=seed)}

            endpoints["sample"] = (sample, [tf.TensorSpec((), tf.int32, name="n"),
                                            tf.TensorSpec((), tf.int32, name="seed")])
        return endpoints

    def serving_metadata(self):
        """What a client of an export needs to know, as JSON-ready values."""
        high = self.likelihood.support[1]
        signatures = {
            "serving_default": "images -> reconstructions (decoder mean at the latent code)",
            "encode": f"images -> {', '.join(self.encoding_names())}",
            "decode": "z -> images (decoder mean)",
        }
        if self.generative:
            signatures["sample"] = ("n (int32), seed (int32) -> images (decoder means of "
                                    "z ~ p(z))")
        return {
            "model": type(self).__name__,
            "input_shape": list(self.data_shape),
            "input_dtype": "float32",
            "latent_dim": self.latent_dim,
            "likelihood": keras.saving.serialize_keras_object(self.likelihood),
            "preprocessing": f"images scaled to {self.likelihood.describe_support()} "
            f"(uint8 pixels divided by 255)" if high != float("inf") else "none required",
            "signatures": signatures,
        }

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
