"""Keras' steps of the family: compile defaults, one optimizer or several, the loss trackers,
and the `train_step`/`test_step`/`predict_step` every model shares.

`KerasSteps` is a mixin of `BaseAutoencoder`: the steps call `loss_terms(x)`, the model's one
method for its per-example terms, so that the reported `loss` is exactly what is minimized.
"""

import inspect

import keras
import tensorflow as tf
from keras import ops

from keras_vae.arguments import check_int
from keras_vae.data.conditions import images_of
from keras_vae.models.network_checks import weighted_mean


class KerasSteps:
    """`compile`, the metrics and the steps of a `BaseAutoencoder` (see there)."""

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

    def build_optimizers(self):
        """Builds every optimizer not yet built, over `optimizer_variables(name)`, in the
        model's strategy scope. `fit` calls it first: Keras' TensorFlow trainer otherwise
        builds an optimizer inside the first trace of `train_step`, and TensorFlow traces a
        function that created variables a second time (twice the start-up of every `fit`)."""
        if not self.built:
            return
        with self.distribute_strategy.scope():
            for name in ("optimizer", *self.extra_optimizers):
                optimizer = getattr(self, name, None)
                if optimizer is not None and not optimizer.built:
                    optimizer.build(self.optimizer_variables(name))

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
            tracker.update_state(terms[name],
                                 sample_weight=self.tracker_weights(name, terms, sample_weight))
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

    def tracker_weights(self, name, terms, sample_weight):
        """The weights of the examples in the mean a tracker reports: Keras' `sample_weight`
        (a model whose term is a mean over some examples only masks the others)."""
        return sample_weight

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
