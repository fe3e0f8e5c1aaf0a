"""Keras callbacks of keras_vae."""

import keras
import numpy as np
import tensorflow as tf

from keras_vae.plotting import _tile


class ImageLogger(keras.callbacks.Callback):
    """Logs grids of reconstructions and prior samples to TensorBoard every N epochs.

    Images are decoder means: the reconstruction of each image at its posterior mean, and the
    decoding of fixed draws from the prior (the same draws every time, so that the grids show
    the model changing, not the noise).

    Args:
        log_dir: str. TensorBoard directory (a `images/` subdirectory is written).
        images: float array `(n, *data_shape)`. Images to reconstruct (up to 32 are used).
        every_n_epochs: int. Defaults to 5.
        num_samples: int. Prior samples per grid. Defaults to 64.
        seed: int. Seed of the prior draws. Defaults to 0.
    """

    def __init__(self, log_dir, images, every_n_epochs=5, num_samples=64, seed=0):
        super().__init__()
        if not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(
                f"Argument `every_n_epochs` must be an int >= 1. Received: {every_n_epochs!r}")
        self.images = np.asarray(images[:32], np.float32)
        self.every_n_epochs = every_n_epochs
        self.num_samples = num_samples
        self.seed = seed
        self.writer = tf.summary.create_file_writer(f"{log_dir}/images")

    def _grid(self, images):
        grid = np.clip(_tile(np.asarray(images), 8), 0.0, 1.0)
        return grid[None]

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        reconstructions = np.asarray(self.model(self.images, training=False))
        pairs = np.concatenate([self.images, reconstructions])
        samples = self.model.sample(self.num_samples, seed=self.seed)
        with self.writer.as_default(step=epoch + 1):
            tf.summary.image("originals_then_reconstructions", self._grid(pairs))
            tf.summary.image("prior_samples_decoder_means", self._grid(samples))
        self.writer.flush()
