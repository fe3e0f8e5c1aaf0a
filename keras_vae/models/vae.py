"""The variational autoencoder as a subclassed `keras.Model`."""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae import objectives
from keras_vae.distributions.likelihoods import get_likelihood
from keras_vae.distributions.posteriors import get_posterior
from keras_vae.distributions.priors import get_prior
from keras_vae.losses import get_objective
from keras_vae.arguments import check_int
from keras_vae.models import execution, input_checks
from keras_vae.models.execution import num_batches
from keras_vae.networks import build_decoder, build_encoder
from keras_vae.optimizers import FusedAdam


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
            parameters `(batch, *input_shape[:-1], channels * likelihood.num_params)`.
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
    vae.compile()  # keras_vae.FusedAdam(), graph mode, one step per execution
    vae.fit(x_train, epochs=10, batch_size=100, validation_data=x_val)
    reconstructions = vae.predict(x_val)
    images = vae.sample(16, seed=0)

    iwae = keras_vae.VAE.from_architecture((28, 28, 1), 50, prior="vamp", posterior="iaf",
                                           objective=keras_vae.losses.IWAE(k=5))
    ```

    References:
        Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
    """

    def __init__(self, encoder, decoder, likelihood="bernoulli", prior="normal",
                 posterior="diagonal", objective="elbo", seed=None, **kwargs):
        super().__init__(**kwargs)
        # Networks and distributions.
        self.data_shape = _built_network(encoder, "encoder")
        decoder_input = _built_network(decoder, "decoder")
        self.latent_dim = int(decoder_input[-1])
        self.likelihood = get_likelihood(likelihood)
        self.posterior = get_posterior(posterior)
        self.posterior.configure(self.latent_dim)
        self.prior = get_prior(prior)
        self.prior.configure(self.latent_dim, self.data_shape, self.likelihood.support)
        self.objective = get_objective(objective)
        self._check_networks(encoder, decoder)
        self.encoder = encoder
        self.decoder = decoder
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Config.
        self.seed = seed
        self.built = True
        self.kl_analytic, self.kl_factorizes = self._kl_forms()
        self.objective.check(self)
        # Loss trackers, reset by Keras at each epoch through `metrics`.
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in self.objective.metric_names}

    @property
    def metric_names(self):
        return self.objective.metric_names

    @classmethod
    def from_architecture(
        cls,
        input_shape,
        latent_dim,
        architecture="mlp",
        hidden_units=None,
        activation="relu",
        likelihood="bernoulli",
        prior="normal",
        posterior="diagonal",
        objective="elbo",
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
            likelihood, prior, posterior, objective: as for `VAE`. The encoder gets the heads
                the posterior asks for.
            seed: int or None. Seed of the sampling noise. Weight initialization follows
                Keras' global seed (`keras.utils.set_random_seed`).
        """
        likelihood = get_likelihood(likelihood)
        posterior = get_posterior(posterior)
        encoder = build_encoder(architecture, input_shape, latent_dim, hidden_units, activation,
                                heads=posterior.output_sizes(latent_dim))
        decoder = build_decoder(
            architecture,
            input_shape,
            latent_dim,
            hidden_units,
            activation,
            num_params=likelihood.num_params,
        )
        return cls(encoder, decoder, likelihood=likelihood, prior=prior, posterior=posterior,
                   objective=objective, seed=seed, **kwargs)

    def _check_networks(self, encoder, decoder):
        heads = self.posterior.output_sizes(self.latent_dim)
        outputs = encoder.outputs
        if len(outputs) != len(heads) or any(
                tuple(o.shape[1:]) != (size,) for o, size in zip(outputs, heads.values())):
            expected = ", ".join(f"{name} (batch, {size})" for name, size in heads.items())
            raise ValueError(
                f"Argument `encoder` must output [{expected}] for the {self.posterior.kind} "
                f"posterior with latent_dim={self.latent_dim} (the decoder's input). "
                f"Received: outputs of shapes {[tuple(o.shape) for o in outputs]}"
            )
        channels = self.data_shape[-1] * self.likelihood.num_params
        expected = (*self.data_shape[:-1], channels)
        received = tuple(decoder.outputs[0].shape[1:])
        if len(decoder.outputs) != 1 or received != expected:
            raise ValueError(
                f"Argument `decoder` must output one tensor of shape (batch, *{expected}) for "
                f"the {self.likelihood.kind} likelihood ({self.likelihood.num_params} "
                f"parameter(s) per data dimension). Received: output shapes "
                f"{[tuple(o.shape) for o in decoder.outputs]}"
            )

    def _kl_forms(self):
        """(analytic, factorizes): whether TFP has KL(q || p) in closed form for this pair, and
        whether it splits per latent dimension (what free bits needs). Checks the prior's and
        the posterior's event shapes on the way."""
        x = tf.zeros((1, *self.data_shape))
        params = self.encode(x)
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
        """The posterior's parameters for images `x`: a tuple in `posterior.param_names` order
        (`(z_mean, z_log_var)` for the diagonal posterior)."""
        outputs = self.encoder(x, training=training)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return tuple(self.posterior.params(outputs))

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

    def decoder_params(self, z, training=False):
        """Returns the likelihood's parameters for latent vectors `z`, in float32."""
        return ops.cast(self.decoder(z, training=training), "float32")

    def decode(self, z):
        """Returns the mean of p(x|z) for latent vectors `z`."""
        return self.likelihood.mean(self.decoder_params(z))

    def call(self, inputs, training=False):
        """Deterministic reconstruction: the mean of p(x|z) at the latent code of `inputs`."""
        return self.likelihood.mean(
            self.decoder_params(self.latent_code(inputs, training=training), training=training))

    def sample(self, n, seed=None):
        """Draws `n` latent vectors from the prior and returns their decoder means.

        The same int `seed` gives the same images, here and in an exported SavedModel.
        """
        if isinstance(n, int) and (isinstance(n, bool) or n < 1):
            raise ValueError(f"Argument `n` must be an int >= 1. Received: n={n!r}")
        return self.decode(self.prior.sample(n, seed=seed,
                                             posterior_of=self.posterior_distribution))

    def log_likelihood(self, x, z, training=False, log_prob=None):
        """log p(x|z) `(samples, batch)` for images `x` `(batch, ...)` and latent samples `z`
        `(samples, batch, latent_dim)`; `log_prob` may replace `likelihood.log_prob`."""
        log_prob = log_prob or self.likelihood.log_prob
        params = self.decoder_params(ops.reshape(z, (-1, self.latent_dim)), training=training)
        samples = z.shape[0] if z.shape[0] is not None else tf.shape(z)[0]
        params = tf.reshape(params, [samples, -1, *params.shape[1:]])
        # The likelihood broadcasts x (batch, ...) against params (samples, batch, ...).
        return log_prob(params, x)

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
        x = ops.cast(x, "float32")
        params = list(params) if params is not None else list(self.encode(x, training=training))
        seed = self.seed_generator if seed is None else seed
        z, log_q = self.posterior.sample(params, num_samples, seed=seed)
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
            "log_px_z": self.log_likelihood(x, z, training=training, log_prob=log_prob),
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

    def loss_terms(self, x, training=False, seed=None, step=None):
        """The per-example loss terms, in nats: the one method every step reports from.

        The objective (`keras_vae.losses`) computes them; a subclass may override this.

        Args:
            x: images `(batch, *data_shape)`.
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

    # ------------------------------------------------------------------------ Keras steps

    def compile(self, optimizer="adam", *, jit_compile=False, steps_per_execution=1,
                evaluation_seed=0, **kwargs):
        """`keras.Model.compile` with a VAE's defaults.

        Args:
            optimizer: `"adam"` (the default) means `keras_vae.FusedAdam()`: Keras' Adam, each
                variable updated in one fused kernel; any Keras optimizer otherwise.
            jit_compile: bool. XLA; off by default (on a 2-core CPU graph mode with the fused
                Adam trains the MLP VAE faster than XLA, docs/benchmarks.md).
            steps_per_execution: int. Batches per host round-trip. Defaults to 1, Keras' own
                contract: callbacks see every batch. More is faster for small models (32
                trains the benchmark's MLP about 15% faster on 2 CPU cores) and opt-in; `fit`
                then never runs more steps per execution than an epoch has, the progress bar
                and callbacks get true batch counts, but `on_*_batch_*` hooks see only the
                last batch of each execution. Not available under a `tf.distribute` strategy
                (Keras 3.15 fails there with "You must feed a value for placeholder tensor").
            evaluation_seed: int or None. Seed of the latent noise of `evaluate` (and of the
                validation in `fit`): with an int (the default, 0) evaluating the same data
                twice gives the same figures, so that EarlyStopping and ModelCheckpoint
                monitor a noise-free value. None draws fresh noise at every call.
            **kwargs: other `keras.Model.compile` arguments. `metrics` compare the images with
                their reconstructions (`model(x)`, the decoder mean at the latent code), e.g.
                `metrics=["mse"]`.
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
        if isinstance(optimizer, str) and optimizer.lower() == "adam":
            optimizer = FusedAdam()
        super().compile(optimizer=optimizer, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, **kwargs)
        self.evaluation_seed = evaluation_seed
        self._requested_steps_per_execution = steps_per_execution
        self._compile_config.config["evaluation_seed"] = evaluation_seed

    def compile_from_config(self, config):
        """Recompiles a loaded model as it was saved (Keras skips models whose `compile` is
        overridden), then builds the optimizer so that its saved state can be restored."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        compiled = getattr(self, "_compile_metrics", None)
        return list(self.trackers.values()) + ([compiled] if compiled is not None else [])

    def _update_metrics(self, x, terms, sample_weight, training):
        """Updates the loss trackers and the metrics given to `compile` (images against their
        reconstructions, computed only when there are such metrics); returns all results."""
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name], sample_weight=sample_weight)
        if getattr(self, "_compile_metrics", None) is not None:
            reconstructions = self(x, training=training)
            self._compile_metrics.update_state(ops.cast(x, reconstructions.dtype),
                                               reconstructions, sample_weight)
        logs = self.get_metrics_result()
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras 3.15 reduces each worker's logs with strategy.reduce("MEAN", v, axis=0),
            # which needs an axis: scalars fail there ("Invalid reduction dimension 0").
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    def train_step(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            terms = self.loss_terms(x, training=True, step=self.optimizer.iterations)
            loss = _weighted_mean(terms["loss"], sample_weight)
            if self.losses:
                loss = loss + ops.sum(self.losses)
            # As Keras' own trainer does: under a tf.distribute strategy each replica's
            # gradient is summed across replicas, so the mean over the global batch needs the
            # per-replica mean divided by the number of replicas.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled_loss = self.optimizer.scale_loss(loss / replicas if replicas > 1 else loss)
        gradients = tape.gradient(scaled_loss, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._update_metrics(x, terms, sample_weight, training=False)

    def test_step(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        terms = self.loss_terms(x, training=False, seed=getattr(self, "evaluation_seed", None),
                                step=self.optimizer.iterations)
        return self._update_metrics(x, terms, sample_weight, training=False)

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
        requested = getattr(self, "_requested_steps_per_execution", self.steps_per_execution)
        wanted = requested if batches is None else max(1, min(requested, batches))
        if wanted != self.steps_per_execution:
            self.steps_per_execution = wanted
            self.train_function = self.test_function = self.predict_function = None

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, **kwargs):
        if isinstance(x, tf.data.Dataset):
            # A dataset shuffles itself; Keras' default shuffle=True would only warn.
            shuffle = False
        x = self._checked(x, "x")
        y = self._target_for_weights(x, y, kwargs)
        if isinstance(validation_data, (tuple, list)):
            validation_data = (self._checked(validation_data[0], "validation_data"),
                               *validation_data[1:])
        else:
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
        with input_checks.reraise_input_errors():
            history = super().fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                                  callbacks=callbacks, validation_split=validation_split,
                                  validation_data=validation_data, shuffle=shuffle, **kwargs)
        if seen.epochs and not seen.batches:
            raise ValueError(
                "Argument `x` must yield at least one batch of examples per epoch. Received: "
                "an input that yielded none")
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, **kwargs):
        x = self._checked(x, "x")
        y = self._target_for_weights(x, y, {"sample_weight": sample_weight})
        if not kwargs.get("_use_cached_eval_dataset"):  # Keras' own call from `fit`
            batches = num_batches(x, batch_size, steps)
            self._executions_for(batches)
            callbacks = self._execution_callbacks(callbacks, verbose, 1, None, batches)
        with input_checks.reraise_input_errors():
            return super().evaluate(x, y, batch_size=batch_size, verbose=verbose,
                                    sample_weight=sample_weight, steps=steps,
                                    callbacks=callbacks, **kwargs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None,
                **kwargs):
        x = self._checked(x, "x")
        batches = num_batches(x, batch_size, steps)
        self._executions_for(batches)
        callbacks = self._execution_callbacks(callbacks, verbose, 1, None, None, batches)
        with input_checks.reraise_input_errors():
            return super().predict(x, batch_size=batch_size, verbose=verbose, steps=steps,
                                   callbacks=callbacks, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               **kwargs):
        """`keras.Model.export`, which works on a VAE straight away (trained or not): the input
        signature is the images' `(None, *data_shape)` float32. For the VAE's own named
        signatures (encode, decode, sample, elbo) use `keras_vae.export_saved_model`."""
        if input_signature is None:
            input_signature = [keras.InputSpec(shape=(None, *self.data_shape), dtype="float32")]
        return super().export(filepath, format=format, verbose=verbose,
                              input_signature=input_signature, **kwargs)

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
            return dict(zip(self.posterior.param_names, self.encode(images)))

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
            "prior": keras.saving.serialize_keras_object(self.prior),
            "posterior": keras.saving.serialize_keras_object(self.posterior),
            "objective": keras.saving.serialize_keras_object(self.objective),
            "kl": "analytic (tfd.kl_divergence)" if self.kl_analytic else
            "Monte Carlo (log q(z|x) - log p(z) at the objective's samples)",
            "preprocessing": f"images scaled to {self.likelihood.describe_support()} "
            f"(uint8 pixels divided by 255)" if high != float("inf") else "none required",
            "signatures": {
                "serving_default": "images -> reconstructions (decoder mean at z = z_mean)",
                "encode": f"images -> {', '.join(self.posterior.param_names)} of q(z|x)",
                "decode": "z -> images (decoder mean)",
                "sample": "n (int32), seed (int32) -> images (decoder means of z ~ p(z))",
                "elbo": "images, seed (int32) -> elbo, reconstruction_loss, kl_loss "
                "(nats per example, one z ~ q(z|x) drawn with seed)",
            },
        }

    # ----------------------------------------------------------------------- config

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
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "likelihood": keras.saving.serialize_keras_object(self.likelihood),
            "prior": keras.saving.serialize_keras_object(self.prior),
            "posterior": keras.saving.serialize_keras_object(self.posterior),
            "objective": keras.saving.serialize_keras_object(self.objective),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        config["likelihood"] = get_likelihood(config["likelihood"])
        for key, get in (("prior", get_prior), ("posterior", get_posterior),
                         ("objective", get_objective)):
            if key in config:
                config[key] = get(config[key])
        return cls(**config)


__all__ = ["VAE"]
