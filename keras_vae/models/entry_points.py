"""`fit`, `evaluate`, `predict` and `export` as Keras defines them, with the data checked first
and Keras' contracts kept with many steps per execution (true batch counts, see
`keras_vae.models.execution`).
"""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_vae.models import execution, input_checks
from keras_vae.models.execution import num_batches


class CheckedEntryPoints:
    """The checked Keras entry points of a `BaseAutoencoder` (see there)."""

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
        self.build_optimizers()
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

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        # The optimizers first, as in `fit` (`build_optimizers`: one trace of the step).
        self.build_optimizers()
        return super().train_on_batch(x, y, sample_weight=sample_weight,
                                      class_weight=class_weight, return_dict=return_dict)

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
