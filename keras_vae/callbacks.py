"""Keras callbacks of keras_vae."""

import csv
import os
import signal
import time
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_vae.arguments import check_int
from keras_vae.atomic import atomic_write
from keras_vae.data.conditions import as_tensors, model_examples
from keras_vae.evaluation.likelihood import importance_sampled_log_likelihood
from keras_vae.plotting import tile_images


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
        labels: int array `(n,)` or None. The images' labels, for a conditional model.
    """

    def __init__(self, log_dir, images, every_n_epochs=5, num_samples=64, seed=0, labels=None):
        super().__init__()
        check_int("every_n_epochs", every_n_epochs, 1)
        self.images = np.asarray(images[:32], np.float32)
        self.labels = None if labels is None else np.asarray(labels[:32])
        self.every_n_epochs = every_n_epochs
        self.num_samples = num_samples
        self.seed = seed
        self.writer = tf.summary.create_file_writer(f"{log_dir}/images")

    def _grid(self, images):
        grid = np.clip(tile_images(np.asarray(images), 8), 0.0, 1.0)
        return grid[None]

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        examples = model_examples(self.model, self.images, self.labels)
        reconstructions = np.asarray(self.model(as_tensors(examples), training=False))
        pairs = np.concatenate([self.images, reconstructions])
        with self.writer.as_default(step=epoch + 1):
            tf.summary.image("originals_then_reconstructions", self._grid(pairs))
            if self.model.ready_to_sample:  # a VQ-VAE's code prior comes after training
                samples = self.model.sample(self.num_samples, seed=self.seed)
                tf.summary.image("prior_samples_decoder_means", self._grid(samples))
        self.writer.flush()


class TrainingTime(keras.callbacks.Callback):
    """Adds `train_seconds` to every epoch's logs: the seconds of the epochs so far (their
    training and Keras' validation pass), from `seconds_done` on (a resumed run's count).

    Args:
        seconds_done: float. Training seconds of the epochs before. Defaults to 0.
    """

    def __init__(self, seconds_done=0.0):
        super().__init__()
        self.seconds = float(seconds_done)
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.perf_counter() - self._started
        if logs is not None:
            logs["train_seconds"] = self.seconds


class LikelihoodCurve(TrainingTime):
    """The importance-sampled log-likelihood of held-out images every `every` epochs and at
    the last, for curves against epochs and against training time.

    Each evaluation appends a row to the CSV file `path` (rewritten atomically):
    `epochs_trained`, `train_seconds`, `log_likelihood` and `log_likelihood_stderr` (the mean
    over the images, nats, and its standard error), `elbo` (the mean of the K log weights).
    `train_seconds` counts the epochs' own time (training and Keras' validation pass), not
    these evaluations; every epoch's logs get it too (`history.csv`'s `train_seconds`), from
    which a resumed run continues the count.

    Args:
        path: str. The CSV file.
        examples: the held-out examples, as `importance_sampled_log_likelihood` takes them.
        k: int. Importance samples per image.
        every: int. Epochs between evaluations.
        epochs: int. The run's epochs (the last one is always evaluated).
        seed: int. Seed of the samples (the same at every evaluation). Defaults to 0.
        done: int. Epochs a resumed run finished before: the file's later rows are dropped
            (they are trained again). Defaults to 0.
        seconds_done: float. Training seconds of those epochs. Defaults to 0.
        verbose: 0, 1 or 2, as `fit`'s: 1 shows the estimate's progress bar and a line with
            its result, 2 the line only. Defaults to 0.
    """

    COLUMNS = ("epochs_trained", "train_seconds", "log_likelihood", "log_likelihood_stderr",
               "elbo")

    def __init__(self, path, examples, k, every, epochs, seed=0, done=0, seconds_done=0.0,
                 verbose=0):
        super().__init__(seconds_done)
        self.verbose = verbose
        check_int("every", every, 1)
        check_int("k", k, 1)
        self.path, self.examples, self.k, self.every = path, examples, k, every
        self.epochs, self.seed = epochs, seed
        self.rows = [row for row in read_curve(path) if row["epochs_trained"] <= done]

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if (epoch + 1) % self.every and epoch + 1 != self.epochs:
            return
        estimate = importance_sampled_log_likelihood(self.model, self.examples, k=self.k,
                                                     seed=self.seed,
                                                     verbose=int(self.verbose == 1))
        values = estimate["log_likelihood"]
        if self.verbose:
            print(f"Epoch {epoch + 1}: held-out log p(x) ~ {values.mean():.2f} "
                  f"± {values.std() / np.sqrt(len(values)):.2f} (K = {self.k}, "
                  f"{len(values)} images)", flush=True)
        self.rows.append({
            "epochs_trained": epoch + 1,
            "train_seconds": self.seconds,
            "log_likelihood": float(values.mean()),
            "log_likelihood_stderr": float(values.std() / np.sqrt(len(values))),
            "elbo": float(estimate["elbo"].mean()),
        })
        with atomic_write(self.path) as temporary, open(temporary, "w", newline="") as f:
            writer = csv.DictWriter(f, self.COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows)


def read_curve(path):
    """The rows of a `LikelihoodCurve` file (numbers), or [] where there is none."""
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        return [{key: int(value) if key == "epochs_trained" else float(value)
                 for key, value in row.items()} for row in csv.DictReader(f)]


class TrainingDiverged(FloatingPointError):
    """Training produced a non-finite loss term; raised by `DivergenceGuard`."""


def _non_finite_weights(model) -> int:
    return int(sum(np.size(w) - np.count_nonzero(np.isfinite(w)) for w in model.get_weights()))


def save_model_atomically(model, path) -> None:
    """Writes `model` to `path` (`.keras`) through a temporary file in the same directory and a
    rename, so that a kill during the write leaves the previous file whole; refuses weights that
    are not finite (they would replace good ones with NaN)."""
    bad = _non_finite_weights(model)
    if bad:
        raise TrainingDiverged(
            f"Refusing to write {path}: the model holds {bad} non-finite weight(s); the file "
            "keeps the last finite ones")
    with atomic_write(path, suffix=".keras") as temporary:
        model.save(temporary)


class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves the model to one `.keras` file at every epoch's end, atomically (temporary file,
    then rename): a kill during the save never destroys the checkpoint, and non-finite weights
    are never written over finite ones.

    Args:
        path: str. The `.keras` file.
    """

    def __init__(self, path):
        super().__init__()
        self.path = os.fspath(path)

    def on_epoch_end(self, epoch, logs=None):
        save_model_atomically(self.model, self.path)


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training at the first non-finite loss term, naming epoch, batch and term, and
    warns when an epoch's loss explodes.

    The batch logs are the epoch's running means, so a NaN or inf in any batch shows in the
    logs of that batch (or, with several steps per execution, of the last batch of its
    execution). `TrainingDiverged` is raised there, before any later checkpoint could save
    non-finite weights.

    Args:
        explosion_factor: float. Warn when an epoch's mean loss exceeds the best epoch's by more
            than this many times max(|best|, 1) nats. Defaults to 10.
        nats_per_dimension: float. Warn, too, when an epoch's loss exceeds this many nats per
            data dimension (a Bernoulli model that knows nothing pays log 2 = 0.69). Defaults
            to 100.
    """

    def __init__(self, explosion_factor=10.0, nats_per_dimension=100.0):
        super().__init__()
        self.explosion_factor = explosion_factor
        self.nats_per_dimension = nats_per_dimension
        self.best = None
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def _check(self, logs, where):
        for term, value in (logs or {}).items():
            value = float(np.asarray(value))
            if not np.isfinite(value):
                raise TrainingDiverged(
                    f"Training diverged at epoch {self.epoch + 1}, {where}: `{term}` is {value}. "
                    "Stopped; checkpoints keep the last finite weights. Lower the learning "
                    "rate (--learning-rate) or check the data.")

    def _batches(self, batch):
        steps = getattr(self.model, "steps_per_execution", 1) or 1
        if steps == 1:
            return f"batch {batch + 1}"
        return f"batch {batch + 1} (an execution of batches {max(batch - steps + 2, 1)}-{batch + 1})"

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs, self._batches(batch))

    def on_test_batch_end(self, batch, logs=None):
        self._check(logs, "validation " + self._batches(batch))

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, "epoch end")
        loss = float((logs or {}).get("loss", np.nan))
        dimensions = int(np.prod(getattr(self.model, "data_shape", (1,))))
        if loss > self.nats_per_dimension * dimensions:
            warnings.warn(
                f"The loss exploded at epoch {epoch + 1}: {loss:.4g} nats per example, more "
                f"than {self.nats_per_dimension:g} per data dimension ({dimensions}). Training "
                "goes on; lower the learning rate.", stacklevel=2)
        elif self.best is not None and loss - self.best > self.explosion_factor * max(
                abs(self.best), 1.0):
            warnings.warn(
                f"The loss exploded at epoch {epoch + 1}: {loss:.4g} nats against "
                f"{self.best:.4g} at best. Training goes on; lower the learning rate if it "
                "does not recover.", stacklevel=2)
        self.best = loss if self.best is None else min(self.best, loss)


class RunInterrupted(RuntimeError):
    """A run stopped by SIGTERM or SIGINT after checkpointing; rerun it to resume."""


class IntervalBackup(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` that writes at an epoch's end only when `interval`
    seconds have passed since its last write, at the last epoch, and at the end of the epoch
    during which the process got SIGTERM or SIGINT (then it stops the run with
    `RunInterrupted`). With its backup it writes the model's `.keras` file atomically.

    A run killed between two writes repeats at most `interval` seconds of training (one epoch,
    if an epoch is longer): the backup names the epochs it holds, and the run resumes there.

    Args:
        backup_dir: str. The backup's directory (`BackupAndRestore`'s, double checkpoint).
        model_path: str. The `.keras` file written with each backup.
        interval: float. Seconds between writes; 0 writes after every epoch.
        epochs: int. The run's epochs (the last one is always written).
    """

    def __init__(self, backup_dir, model_path, interval, epochs):
        super().__init__(backup_dir, double_checkpoint=True, delete_checkpoint=False)
        self.model_path, self.interval, self.epochs = model_path, interval, epochs
        self.signal = None
        self._last_write = time.monotonic()

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._last_write = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        due = (epoch + 1 == self.epochs or self.signal is not None
               or time.monotonic() - self._last_write >= self.interval)
        if not due:
            return
        save_model_atomically(self.model, self.model_path)
        super().on_epoch_end(epoch, logs)
        self._last_write = time.monotonic()
        if self.signal is not None and epoch + 1 < self.epochs:
            raise RunInterrupted(
                f"Stopped by {signal.Signals(self.signal).name} after epoch {epoch + 1} of "
                f"{self.epochs}, its checkpoint written; rerun the same command to resume.")
