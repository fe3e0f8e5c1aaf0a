"""The variational autoencoder as a subclassed `keras.Model`."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae.distributions.likelihoods import get_likelihood
from keras_vae.layers.sampling import Sampling, standard_normal
from keras_vae.models import input_checks
from keras_vae.networks import build_decoder, build_encoder
from keras_vae.optimizers import FusedAdam
from keras_vae.objectives import (
    bounded_log_variance,
    kl_standard_normal,
    negative_log_likelihood,
)


def _built_network(network, arg_name):
    """Returns the input shape (without batch axis) of a built functional network."""
    inputs = getattr(network, "inputs", None)
    if not isinstance(network, keras.Model) or not inputs or len(inputs) != 1:
        raise ValueError(
            f"Argument `{arg_name}` must be a built Keras model with one known input, such as "
            "a functional model or a Sequential starting with keras.Input. "
            f"Received: {arg_name}={network!r}"
        )
    return tuple(inputs[0].shape[1:])


def _weighted_mean(values, sample_weight):
    if sample_weight is None:
        return ops.mean(values)
    sample_weight = ops.cast(ops.reshape(sample_weight, ops.shape(values)), values.dtype)
    return ops.sum(values * sample_weight) / ops.maximum(ops.sum(sample_weight), 1e-12)


@keras.saving.register_keras_serializable(package="keras_vae")
class VAE(keras.Model):
    """Variational autoencoder (Kingma & Welling 2014) trained by maximizing the ELBO.

    #### Mathematical details

    q(z|x) = N(mu(x), diag sigma^2(x)) from the encoder, p(z) = N(0, I), p(x|z) from the
    decoder through `likelihood`. Each step draws z = mu + sigma * eps and minimizes the
    negative ELBO in nats per example,
    `loss = reconstruction_loss + kl_loss` with `reconstruction_loss = -log p(x|z)` (summed
    over data dimensions) and the closed-form `kl_loss = KL(q(z|x) || p(z))` (summed over
    latent dimensions). `elbo = -loss` is logged too. The encoder's log-variance passes through
    `keras_vae.objectives.bounded_log_variance`, so nothing overflows for extreme outputs.

    Args:
        encoder: `keras.Model`. Built network from `(batch, *input_shape)` to
            `[z_mean, z_log_var]`, each `(batch, latent_dim)`.
        decoder: `keras.Model`. Built network from `(batch, latent_dim)` to the likelihood's
            parameters `(batch, *input_shape[:-1], channels * likelihood.num_params)`.
        likelihood: str, dict or `keras_vae.Likelihood`. `"bernoulli"` (logits) or
            `"gaussian"`. Defaults to `"bernoulli"`.
        seed: int or None. Seed of the sampling layer's noise. Defaults to `None`.
        **kwargs: standard `keras.Model` arguments (`name`, ...).

    Example:

    ```python
    vae = keras_vae.VAE.from_architecture(input_shape=(28, 28, 1), latent_dim=20)
    vae.compile()  # keras_vae.FusedAdam(), graph mode, 32 steps per execution
    vae.fit(x_train, epochs=10, batch_size=100, validation_data=x_val)
    reconstructions = vae.predict(x_val)
    images = vae.sample(16, seed=0)
    ```

    References:
        Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
    """

    metric_names = ("loss", "reconstruction_loss", "kl_loss", "elbo")

    def __init__(self, encoder, decoder, likelihood="bernoulli", seed=None, **kwargs):
        super().__init__(**kwargs)
        # Networks.
        self.data_shape = _built_network(encoder, "encoder")
        decoder_input = _built_network(decoder, "decoder")
        self.latent_dim = int(decoder_input[-1])
        self.likelihood = get_likelihood(likelihood)
        self._check_networks(encoder, decoder)
        self.encoder = encoder
        self.decoder = decoder
        self.sampling = Sampling(seed=seed, name="sampling")
        # Config.
        self.seed = seed
        # Loss trackers, reset by Keras at each epoch through `metrics`.
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        self.built = True

    @classmethod
    def from_architecture(
        cls,
        input_shape,
        latent_dim,
        architecture="mlp",
        hidden_units=None,
        activation="relu",
        likelihood="bernoulli",
        seed=None,
        **kwargs,
    ):
        """Builds a VAE with a ready-made MLP or convolutional encoder and decoder.

        Args:
            input_shape: tuple of ints. Shape of one example, e.g. `(28, 28, 1)`.
            latent_dim: int. Size of z, at least 1.
            architecture: str. `"mlp"` or `"conv"`. Defaults to `"mlp"`.
            hidden_units: list of ints or None. Hidden widths (MLP) or filters (conv), from
                the data side. Defaults to the builder's default (`[500]`, `[32, 64]`).
            activation: str. Hidden activation. Defaults to `"relu"`.
            likelihood: str, dict or `keras_vae.Likelihood`. Defaults to `"bernoulli"`.
            seed: int or None. Seed of the sampling noise. Weight initialization follows
                Keras' global seed (`keras.utils.set_random_seed`).
        """
        likelihood = get_likelihood(likelihood)
        encoder = build_encoder(architecture, input_shape, latent_dim, hidden_units, activation)
        decoder = build_decoder(
            architecture,
            input_shape,
            latent_dim,
            hidden_units,
            activation,
            num_params=likelihood.num_params,
        )
        return cls(encoder, decoder, likelihood=likelihood, seed=seed, **kwargs)

    def _check_networks(self, encoder, decoder):
        outputs = encoder.outputs
        if len(outputs) != 2 or any(tuple(o.shape[1:]) != (self.latent_dim,) for o in outputs):
            raise ValueError(
                "Argument `encoder` must output [z_mean, z_log_var], each of shape "
                f"(batch, {self.latent_dim}) to match the decoder's input. Received: outputs "
                f"of shapes {[tuple(o.shape) for o in outputs]}"
            )
        channels = self.data_shape[-1] * self.likelihood.num_params
        expected = (*self.data_shape[:-1], channels)
        received = tuple(decoder.outputs[0].shape[1:])
        if len(decoder.outputs) != 1 or received != expected:
            raise ValueError(
                f"Argument `decoder` must output one tensor of shape (batch, *{expected}) for "
                f"the {self.likelihood.name} likelihood ({self.likelihood.num_params} "
                f"parameter(s) per data dimension). Received: output shapes "
                f"{[tuple(o.shape) for o in decoder.outputs]}"
            )

    # ----------------------------------------------------------------- the model's functions

    def encode(self, x, training=False):
        """Returns `(z_mean, z_log_var)` of q(z|x)."""
        z_mean, raw_log_var = self.encoder(x, training=training)
        return z_mean, bounded_log_variance(raw_log_var)

    def decoder_params(self, z, training=False):
        """Returns the likelihood's parameters for latent vectors `z`, in float32."""
        return ops.cast(self.decoder(z, training=training), "float32")

    def decode(self, z):
        """Returns the mean of p(x|z) for latent vectors `z`."""
        return self.likelihood.mean(self.decoder_params(z))

    def call(self, inputs, training=False):
        """Deterministic reconstruction: the mean of p(x|z) at z = E_q[z] = z_mean."""
        z_mean, _ = self.encode(inputs, training=training)
        return self.likelihood.mean(self.decoder_params(z_mean, training=training))

    def sample(self, n, seed=None):
        """Draws `n` latent vectors from the prior N(0, I) and returns their decoder means.

        The same int `seed` gives the same images, here and in an exported SavedModel.
        """
        if isinstance(n, int) and (isinstance(n, bool) or n < 1):
            raise ValueError(f"Argument `n` must be an int >= 1. Received: n={n!r}")
        if isinstance(n, int):
            shape = (n, self.latent_dim)
        else:  # a scalar tensor, as in the exported `sample` signature
            shape = ops.stack([ops.cast(n, "int32"), self.latent_dim])
        return self.decode(standard_normal(shape, seed=seed))

    def loss_terms(self, x, training=False, seed=None):
        """The per-example loss terms, in nats: the one method every step reports from.

        Subclasses change the objective here (weights, other priors, other bounds) and keep
        the returned keys.

        Args:
            x: images `(batch, *data_shape)`.
            training: bool. Training mode of the networks.
            seed: None (fresh noise from the sampling layer) or an int or integer scalar
                tensor (reproducible noise).

        Returns:
            dict of `(batch,)` tensors: `reconstruction_loss` (-log p(x|z) at one sample
            z ~ q(z|x)), `kl_loss` (KL(q(z|x) || p(z)), closed form), `loss` (what is
            minimized) and `elbo`.
        """
        x = ops.cast(x, "float32")
        z_mean, z_log_var = self.encode(x, training=training)
        z = self.sampling([z_mean, z_log_var], seed=seed)
        params = self.decoder_params(z, training=training)
        reconstruction = negative_log_likelihood(self.likelihood, params, x)
        kl = kl_standard_normal(ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32"))
        return {
            "loss": reconstruction + kl,
            "reconstruction_loss": reconstruction,
            "kl_loss": kl,
            "elbo": -(reconstruction + kl),
        }

    # ------------------------------------------------------------------------ Keras steps

    def compile(self, optimizer="adam", *, jit_compile=False, steps_per_execution=32, **kwargs):
        """`keras.Model.compile` with faster defaults for a VAE's small steps.

        `optimizer="adam"` (the default) means `keras_vae.FusedAdam()`: Keras' Adam, each
        variable updated in one fused kernel. 32 steps per execution: one host round-trip per
        32 batches. No XLA: on this project's 2-core CPU, graph mode with the fused Adam
        trains the MLP VAE about 1.14 times faster than XLA with Keras' Adam and slightly
        faster than XLA with the fused Adam (XLA at 0.97x), with the same loss curve
        (docs/benchmarks.md). Callbacks still run at every epoch's end; `on_batch_*` hooks see
        every 32nd batch. Pass `optimizer=keras.optimizers.Adam(), steps_per_execution=1` for
        Keras' own behaviour, `jit_compile=True` for XLA.
        """
        if isinstance(optimizer, str) and optimizer.lower() == "adam":
            optimizer = FusedAdam()
        super().compile(optimizer=optimizer, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, **kwargs)

    def compile_from_config(self, config):
        """Recompiles a loaded model as it was saved (Keras skips models whose `compile` is
        overridden), then builds the optimizer so that its saved state can be restored."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _update_trackers(self, terms, sample_weight):
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name], sample_weight=sample_weight)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            terms = self.loss_terms(x, training=True)
            loss = _weighted_mean(terms["loss"], sample_weight)
            if self.losses:
                loss = loss + ops.sum(self.losses)
            scaled_loss = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._update_trackers(terms, sample_weight)

    def test_step(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        terms = self.loss_terms(x, training=False)
        return self._update_trackers(terms, sample_weight)

    def predict_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # ------------------------------------------------------------- checked entry points

    def _checked(self, x, arg_name):
        return input_checks.check_inputs(x, self.data_shape, self.likelihood, arg_name)

    @staticmethod
    def _target_for_weights(x, y, kwargs):
        # Keras drops `sample_weight` given without `y`; a VAE has no target, so a
        # placeholder keeps the weights (train_step and test_step ignore y).
        if y is None and kwargs.get("sample_weight") is not None:
            return np.zeros((len(x),), "float32")
        return y

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        if isinstance(x, tf.data.Dataset) and not args:
            # A dataset shuffles itself; Keras' default shuffle=True would only warn.
            kwargs.setdefault("shuffle", False)
        x = self._checked(x, "x")
        y = self._target_for_weights(x, y, kwargs)
        if isinstance(validation_data, (tuple, list)):
            validation_data = (self._checked(validation_data[0], "validation_data"),
                               *validation_data[1:])
        else:
            validation_data = self._checked(validation_data, "validation_data")
        with input_checks.reraise_input_errors():
            return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        x = self._checked(x, "x")
        y = self._target_for_weights(x, y, kwargs)
        with input_checks.reraise_input_errors():
            return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        x = self._checked(x, "x")
        with input_checks.reraise_input_errors():
            return super().predict(x, *args, **kwargs)

    # ----------------------------------------------------------------------- serving

    def serving_endpoints(self):
        """The signatures `keras_vae.export_saved_model` writes: `{name: (fn, input specs)}`."""
        images = tf.TensorSpec((None, *self.data_shape), tf.float32, name="images")
        latents = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        count = tf.TensorSpec((), tf.int32, name="n")
        seed = tf.TensorSpec((), tf.int32, name="seed")

        def reconstruct(images):
            return {"reconstructions": self(images, training=False)}

        def encode(images):
            z_mean, z_log_var = self.encode(images)
            return {"z_mean": z_mean, "z_log_var": z_log_var}

        def decode(z):
            return {"images": self.decode(z)}

        def sample(n, seed):
            return {"images": self.sample(n, seed=seed)}

        def elbo(images, seed):
            terms = self.loss_terms(images, seed=seed)
            return {key: terms[key] for key in ("elbo", "reconstruction_loss", "kl_loss")}

        return {
            "serving_default": (reconstruct, [images]),
            "encode": (encode, [images]),
            "decode": (decode, [latents]),
            "sample": (sample, [count, seed]),
            "elbo": (elbo, [images, seed]),
        }

    def serving_metadata(self):
        """What a client of an export needs to know, as JSON-ready values."""
        low, high = self.likelihood.support
        return {
            "model": type(self).__name__,
            "input_shape": list(self.data_shape),
            "input_dtype": "float32",
            "latent_dim": self.latent_dim,
            "likelihood": keras.saving.serialize_keras_object(self.likelihood),
            "preprocessing": f"images scaled to {self.likelihood.describe_support()} "
            f"(uint8 pixels divided by 255)" if high != float("inf") else "none required",
            "signatures": {
                "serving_default": "images -> reconstructions (decoder mean at z = z_mean)",
                "encode": "images -> z_mean, z_log_var of q(z|x)",
                "decode": "z -> images (decoder mean)",
                "sample": "n (int32), seed (int32) -> images (decoder means of z ~ N(0, I))",
                "elbo": "images, seed (int32) -> elbo, reconstruction_loss, kl_loss "
                "(nats per example, one z ~ q(z|x) drawn with seed)",
            },
        }

    # ----------------------------------------------------------------------- config

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
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


__all__ = ["VAE"]
