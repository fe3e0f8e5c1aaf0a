"""What `fit`, `evaluate` and `predict` promise a Keras user, kept with many steps per execution.

With `steps_per_execution = N > 1` Keras calls the batch hooks with the index of the last batch
of each execution as if every execution were full: an epoch of 17 batches shows "32/17" and
callbacks see batch 31. `ExactCounts` is the `CallbackList` a model hands to Keras instead:
the same callbacks, progress bar and History, with batch indices clipped to the true count.
"""

import keras
import tensorflow as tf

from keras_vae.data.conditions import images_of


def num_batches(x, batch_size=None, steps=None):
    """The number of batches an epoch over `x` has, or None where it cannot be known (a
    dataset of unknown cardinality, a generator)."""
    if steps is not None:
        return int(steps)
    if isinstance(x, tf.data.Dataset):
        cardinality = int(x.cardinality())
        return cardinality if cardinality >= 0 else None
    try:
        length = len(images_of(x))
    except TypeError:
        return None
    return -(-length // (batch_size or 32))


class ExactCounts(keras.callbacks.CallbackList):
    """A `CallbackList` that never reports a batch index beyond the epoch's last batch.

    Args:
        callbacks: list of callbacks (None for none).
        train_batches, test_batches, predict_batches: int or None. Batches per epoch of the
            training data, the evaluation (or validation) data and the prediction data; None
            leaves the indices as Keras gives them.
        **params: as for `keras.callbacks.CallbackList` (`add_history`, `add_progbar`,
            `verbose`, `epochs`, `steps`, `model`).
    """

    def __init__(self, callbacks=None, train_batches=None, test_batches=None,
                 predict_batches=None, **params):
        super().__init__(callbacks, **params)
        self._last = {"train": train_batches, "test": test_batches,
                      "predict": predict_batches}

    def _clip(self, mode, batch):
        last = self._last[mode]
        return batch if last is None else min(batch, last - 1)

    def on_train_batch_begin(self, batch, logs=None):
        super().on_train_batch_begin(self._clip("train", batch), logs)

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(self._clip("train", batch), logs)

    def on_test_batch_begin(self, batch, logs=None):
        super().on_test_batch_begin(self._clip("test", batch), logs)

    def on_test_batch_end(self, batch, logs=None):
        super().on_test_batch_end(self._clip("test", batch), logs)

    def on_predict_batch_begin(self, batch, logs=None):
        super().on_predict_batch_begin(self._clip("predict", batch), logs)

    def on_predict_batch_end(self, batch, logs=None):
        super().on_predict_batch_end(self._clip("predict", batch), logs)


class BatchesSeen(keras.callbacks.Callback):
    """Counts the epochs begun and the training batches run: an input that yields no batch
    ends `fit` with an empty History and no word from Keras; the model refuses it."""

    def __init__(self):
        super().__init__()
        self.epochs = self.batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs += 1

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
