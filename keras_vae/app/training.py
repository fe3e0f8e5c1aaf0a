"""A training run from a configuration: data, model, fit, and a run directory of results.

`keras-vae train` is the command line of `train(config)`. A run is four steps, each a
function of its own: `load_run_data` (images, labels, validation split), `build_model` (the
model `config.model` names, from its own settings, compiled), `fit_run` (training that
resumes, with checkpoints), `evaluate_run` (metrics, figures, report). The run directory's
files are `keras_vae.app.runs`'; the evaluation's are `keras_vae.app.reporting`'s.
"""

import dataclasses
import json
import os
import shutil
import signal
import time

import keras
import numpy as np
import tensorflow as tf

from keras_vae import data
from keras_vae.callbacks import (
    DivergenceGuard,
    ImageLogger,
    IntervalBackup,
    LikelihoodCurve,
    TrainingTime,
    save_model_atomically,
)
from keras_vae.data.conditions import keep_labels_per_class, model_examples
from keras_vae.distributions.likelihoods import check_support_numpy, get_likelihood
from keras_vae.app.reporting import Stages, evaluate_model, json_ready
from keras_vae.app.runs import (
    BACKUP_DIR,
    CURVE_FILE,
    HISTORY_FILE,
    MODEL_FILE,
    STRATEGIES,
    TrainConfig,
    check_config,
    finished_epochs,
    keep_history_rows,
    load_model_file,
    load_run,
    prepare_run_dir,
    read_history,
    resolve_recipe,
    write_status,
)


# The final evaluation's budget is at least this, however short the training.
MINIMUM_EVALUATION_SECONDS = 60.0


def make_strategy(name: str):
    """The `tf.distribute` strategy `name` stands for: `"default"` (one device),
    `"mirrored"` (`MirroredStrategy` over all local GPUs, or the CPU), `"multiworker"`
    (`MultiWorkerMirroredStrategy`, its cluster read from the `TF_CONFIG` environment
    variable)."""
    if name not in STRATEGIES:
        raise ValueError(f"Argument `strategy` must be one of {STRATEGIES}. "
                         f"Received: strategy={name!r}")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def _scheduled(config: TrainConfig, steps_per_epoch: int, learning_rate: float):
    if config.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=config.epochs * steps_per_epoch)
    return learning_rate


def make_optimizer(config: TrainConfig, steps_per_epoch: int):
    """Keras' `Adam` at `config.learning_rate`, decayed as `config.lr_schedule` says, its
    gradients clipped to the global norm `config.clip_norm` when given."""
    return keras.optimizers.Adam(_scheduled(config, steps_per_epoch, config.learning_rate),
                                 global_clipnorm=config.clip_norm or None)


def make_extra_optimizers(model_class, config: TrainConfig, steps_per_epoch: int) -> dict:
    """The optimizers of a model's other networks (`extra_optimizers`: an adversarial
    model's discriminator, ...): each its default, on the same schedule as the main one, so
    that no network keeps moving after the others' rates have decayed (docs/results/models.md)."""
    optimizers = {}
    for name, default in model_class.extra_optimizers.items():
        optimizer = default()
        rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        config_of = optimizer.get_config()
        config_of["learning_rate"] = _scheduled(config, steps_per_epoch, rate)
        optimizers[name] = type(optimizer).from_config(config_of)
    return optimizers


# ---------------------------------------------------------------------------- 1. data

@dataclasses.dataclass
class RunData:
    """The images of a run, as training and evaluation take them."""

    x_train: np.ndarray
    y_train: np.ndarray  # None without labels
    x_val: np.ndarray  # binarized once where training binarizes
    y_val: np.ndarray
    image_shape: tuple
    validation: str  # where the validation images come from, in words
    binarize: bool
    config: TrainConfig  # the run's settings, the recipe's chosen where no flag gave them
    stacked_on: object = None  # M1 of an M1+M2 run (`stack_on`), loaded

    def train_images(self, split_seed):
        """The training images as they are evaluated: binarized once (seed `split_seed + 2`)
        where training binarizes them anew each epoch."""
        return data.binarize_once(self.x_train, split_seed + 2) if self.binarize else self.x_train


def load_run_data(config: TrainConfig, verbose=1) -> RunData:
    """The dataset `config` names, split, its settings completed by the recipe for its
    images (`resolve_recipe`, logged in one line; `RunData.config`), cut to `max_train_examples`, checked against the
    likelihood's support; validation images binarized once (seed `split_seed + 1`) where
    training binarizes, so that every epoch's validation and the final evaluation see the same
    ones, and runs of other seeds are scored on the same binary images.
    A folder too large for memory stays on disk (`data.ImageFiles`, streamed by
    `data.make_dataset`); its images are 8-bit levels / 255, in every likelihood's support."""
    splits = data.load(config.dataset, config.data_dir, config.validation_fraction,
                       config.split_seed, log=print if verbose else (lambda line: None),
                       **config.data_options())
    # The recipe looks at the training images, or at the held-out ones of a stream; with
    # `stack_on`, at what the networks take: M1's latent means of them.
    looked_at = splits.x_train if isinstance(splits.x_train, np.ndarray) else splits.x_val
    stacked_on = None
    if config.stack_on is not None:
        stacked_on, m1_config = load_run(config.stack_on)
        if config.binarize is None and m1_config is not None:  # M1 sees what it trained on
            config = dataclasses.replace(config, binarize=m1_config.binarized)
        looked_at = np.asarray(stacked_on.latent_code(np.asarray(looked_at[:1000], np.float32)))
    config, recipe_line = resolve_recipe(config, looked_at)
    check_config(config)
    if verbose:
        print(recipe_line)
    x_train = splits.x_train
    if config.max_train_examples is not None:
        x_train = x_train[: config.max_train_examples]
    binarize = config.binarized
    if binarize and splits.streamed:
        raise ValueError(
            "Argument `image_storage` must keep binarized training images in memory: the "
            "final evaluation binarizes the training images once, which a stream cannot "
            "hold. Received: image_storage="
            f"{config.image_storage!r} ({len(x_train)} images) with binarization on "
            "(pass --no-binarize or a likelihood for 8-bit levels, or --image-storage memory)")
    if not binarize:  # binarized images are in every likelihood's support
        for images in (splits.x_val,) if splits.streamed else (x_train, splits.x_val):
            check_support_numpy(get_likelihood(config.likelihood), images, "dataset")
    y_train = None if splits.y_train is None else splits.y_train[: len(x_train)]
    if config.labels_per_class is not None:
        y_train = keep_labels_per_class(y_train, config.labels_per_class, config.label_seed)
        if verbose:
            print(f"Labels: {config.labels_per_class} per class kept ({int((y_train >= 0).sum())}"
                  f" of {len(y_train)} training images, label_seed={config.label_seed}); the "
                  "rest train unlabelled")
    if config.unlabelled_dir is not None:
        x_train, y_train = with_unlabelled(config, x_train, y_train, splits.image_shape, verbose)
    x_val = data.binarize_once(splits.x_val, config.split_seed + 1) if binarize else splits.x_val
    return RunData(x_train, y_train, x_val, splits.y_val, splits.image_shape,
                   splits.validation, binarize, config, stacked_on)


def with_unlabelled(config: TrainConfig, x_train, y_train, image_shape, verbose=1):
    """The training images and labels with the images of `config.unlabelled_dir` appended,
    labelled -1 (its subfolders' names are not labels)."""
    if y_train is None or not isinstance(x_train, np.ndarray):
        raise ValueError(
            "Argument `unlabelled_dir` adds unlabelled images to labelled ones held in memory "
            "(class subfolders, MNIST's label file, an .npz with labels). Received: "
            + ("training images without labels" if y_train is None else
               "training images streamed from files (pass --image-storage memory)"))
    extra = data.scan_folder(config.unlabelled_dir, config.color_mode, config.image_size,
                             config.skip_bad_images, arg_name="unlabelled_dir",
                             log=print if verbose else (lambda line: None))
    if tuple(extra.image_shape) != tuple(image_shape):
        raise ValueError(
            f"Argument `unlabelled_dir` must hold images of the training images' shape "
            f"{tuple(image_shape)}. Received: {config.unlabelled_dir!r} of "
            f"{tuple(extra.image_shape)} (--image-size, --color-mode convert both)")
    if verbose:
        print(f"Unlabelled: {len(extra)} images of {config.unlabelled_dir} join the "
              f"{len(x_train)} training images, labelled -1")
    return (np.concatenate([x_train, extra.load()]),
            np.concatenate([np.asarray(y_train), np.full(len(extra), -1, np.int64)]))


# --------------------------------------------------------------------------- 2. model

def build_model(config: TrainConfig, run_data: RunData, strategy):
    """The model `config.model` names, built from its own settings (`model_settings`) and
    compiled with the run's optimizers, in the strategy's scope."""
    model_class = config.model_class
    labels = (run_data.y_train, run_data.y_val) if model_class.conditional else None
    distributed = config.strategy != "default"
    # Epochs count in the batches of the model's own training pipeline (`dataset_options`:
    # the semi-supervised VAE's pass through its unlabelled images).
    steps_per_epoch = model_class.batches_per_epoch(
        len(run_data.x_train), config.batch_size, run_data.y_train if labels else None,
        config.model_settings)
    with strategy.scope():
        model = model_class.from_architecture(
            input_shape=run_data.image_shape,
            latent_dim=config.latent_dim,
            architecture=config.architecture,
            hidden_units=config.hidden_units,
            blocks=config.blocks,
            kernel_size=config.kernel_size,
            dense_units=config.dense_units,
            activation=config.activation,
            likelihood=config.likelihood,
            seed=config.seed,
            **({} if run_data.stacked_on is None else {"stacked_on": run_data.stacked_on}),
            **config.model_entry.model_arguments(config.model_settings, steps_per_epoch, labels,
                                                 len(run_data.x_train)),
        )
        # Keras 3.15 fails under a strategy with more than one step per execution.
        model.compile(optimizer=make_optimizer(config, steps_per_epoch),
                      **make_extra_optimizers(model_class, config, steps_per_epoch),
                      steps_per_execution=1 if distributed else config.steps_per_execution)
    return model


# ----------------------------------------------------------------------------- 3. fit

class _Signals:
    """While open (main thread only), SIGTERM and SIGINT mark `backup.signal` instead of
    ending the process at once: the epoch finishes, is checkpointed, and the run stops."""

    def __init__(self, backup):
        self.backup, self.previous = backup, {}

    def __enter__(self):
        for number in (signal.SIGTERM, signal.SIGINT):
            try:
                self.previous[number] = signal.signal(number, self._mark)
            except ValueError:  # not the main thread: signals stay as they are
                break
        return self

    def _mark(self, number, frame):
        if self.backup.signal is not None:  # a second signal ends the process
            signal.signal(number, self.previous.get(number) or signal.SIG_DFL)
            signal.raise_signal(number)
        self.backup.signal = number

    def __exit__(self, *exc):
        for number, handler in self.previous.items():
            signal.signal(number, handler)


def fit_run(model, config: TrainConfig, run_data: RunData, run_dir, verbose=1):
    """Trains `model` from where the run directory's backup left it (its last checkpointed
    epoch, the data order of that epoch included), fits what the model fits after training
    (`after_fit`), and writes `model.keras` and the status `trained`."""
    model_path = os.path.join(run_dir, MODEL_FILE)
    backup_dir = os.path.join(run_dir, BACKUP_DIR)
    model_class = config.model_class
    labels = model_class.conditional
    done = finished_epochs(run_dir)
    keep_history_rows(run_dir, done)
    train_ds = data.make_dataset(  # the data order and binary images from epoch `done` on
        run_data.x_train, config.batch_size, binarize_images=run_data.binarize,
        seed=config.seed, labels=run_data.y_train if labels else None, first_epoch=done,
        **model.dataset_options(run_data.y_train if labels else None))
    val_ds = data.make_dataset(run_data.x_val, config.batch_size, shuffle=False,
                               labels=run_data.y_val if labels else None)
    if verbose and done:
        print(f"Resuming {run_dir} after epoch {done} of {config.epochs}.")
    backup = IntervalBackup(backup_dir, model_path, config.checkpoint_every, config.epochs)
    callbacks = [
        DivergenceGuard(),
        *likelihood_curve(config, run_data, run_dir, done, verbose),
        # history.csv before the backup: an epoch logged, then killed before its backup,
        # is cut from history.csv on resume and trained again.
        keras.callbacks.CSVLogger(os.path.join(run_dir, HISTORY_FILE), append=True),
        backup,
        keras.callbacks.TensorBoard(os.path.join(run_dir, "logs")),
        ImageLogger(os.path.join(run_dir, "logs"), run_data.x_val,
                    every_n_epochs=config.image_log_every, seed=config.seed,
                    labels=run_data.y_val),
    ]
    with _Signals(backup):
        model.fit(train_ds, epochs=config.epochs, validation_data=val_ds, verbose=verbose,
                  shuffle=False, callbacks=callbacks)  # the pipeline shuffles, seeded
    model.after_fit(run_data.train_images(config.split_seed))
    save_model_atomically(model, model_path)
    write_status(run_dir, "trained")
    shutil.rmtree(backup_dir, ignore_errors=True)


def likelihood_curve(config: TrainConfig, run_data: RunData, run_dir, done, verbose=0):
    """`[LikelihoodCurve]` on the validation images where `config.log_likelihood_every` asks
    for one, else `[TrainingTime]` (before the CSV logger, which writes their
    `train_seconds`: the final evaluation's budget is a share of it)."""
    history = read_history(run_dir) if done else None
    seconds_done = (history["train_seconds"][done - 1]
                    if history and "train_seconds" in history else 0.0)
    if not config.log_likelihood_every:
        return [TrainingTime(seconds_done)]
    examples = model_examples(config.model_class, run_data.x_val, run_data.y_val)
    return [LikelihoodCurve(os.path.join(run_dir, CURVE_FILE), examples, config.log_likelihood_k,
        config.log_likelihood_every, config.epochs, seed=config.seed, done=done,
        seconds_done=seconds_done, verbose=verbose)]


# ------------------------------------------------------------------------ 4. evaluate

def evaluate_run(model, config: TrainConfig, run_data: RunData, run_dir, verbose=1):
    """The final loss terms on the training and validation images, then `evaluate_model` on
    the validation images; returns the metrics written to `metrics.json`."""
    labels = config.model_class.conditional
    train_labels = run_data.y_train if labels else None
    datasets = {
        "train": data.make_dataset(run_data.train_images(config.split_seed), config.batch_size,
                                   shuffle=False, labels=train_labels),
        "validation": data.make_dataset(run_data.x_val, config.batch_size, shuffle=False,
                                        labels=run_data.y_val if labels else None),
    }
    started = time.perf_counter()
    stages = Stages(run_dir, verbose)
    terms = {split: stages.run(f"loss terms on the {split} images", _loss_terms, model, dataset,
                               verbose) for split, dataset in datasets.items()}
    history = read_history(run_dir)
    budget = None
    if history and "train_seconds" in history:
        # A share of the training time (at least a minute): the log-likelihood gets 4/5 of
        # it, less the loss terms' time; the diagnostics and figures the rest.
        total = max(MINIMUM_EVALUATION_SECONDS,
                    config.eval_budget * history["train_seconds"][-1])
        budget = max(10.0, 0.8 * total - (time.perf_counter() - started))
        if verbose and config.eval_k is None and model.has_posterior:
            print(f"Final evaluation: about {total:.0f} s ({config.eval_budget:g} of "
                  f"{history['train_seconds'][-1]:.0f} s of training, at least a minute), "
                  f"{budget:.0f} s of it for the log-likelihood")
    metrics = evaluate_model(
        model, run_data.x_val, run_dir, labels=run_data.y_val, k=config.eval_k, max_k=100,
        time_budget=budget, stages=stages,
        split="validation",
        split_source=run_data.validation + (", binarized once" if run_data.binarize else ""),
        amortization_images=config.amortization_images, history=history,
        config=config.run_settings(),
        extra_metrics={
            **terms,
            "dataset": config.dataset,
            "num_train_images": int(len(run_data.x_train)),
            "num_validation_images": int(len(run_data.x_val)),
            "validation_source": run_data.validation,
            "binarized": bool(run_data.binarize),
            "epochs": config.epochs,
        },
        seed=config.seed, verbose=verbose)
    if verbose:
        # The loss is the sum of these terms for the ELBO alone (beta, IWAE, VQ-VAE, AAE and
        # VAE-GAN losses are other sums), so the terms are listed, not added up.
        val = metrics["validation"]
        listed = ", ".join(f"{name} {val[key]:.2f}" for name, key in (
            ("reconstruction", "reconstruction_loss"), ("KL", "kl_loss")) if key in val)
        print(f"Validation: loss {val['loss']:.2f} ({listed}) nats per example. "
              f"Run directory: {run_dir}")
    return metrics


def _loss_terms(model, dataset, verbose):
    return json_ready(model.evaluate(dataset, verbose=int(verbose == 1), return_dict=True))


def train(config: TrainConfig, verbose=1, restart=False, strategy=None):
    """Trains the model `config` names and writes its run directory; returns
    `(run_dir, metrics)`.

    The run directory (`keras_vae.app.runs`) holds `config.json` (reruns the run), `status.json`,
    `model.keras`, `history.csv`, `logs/` (TensorBoard scalars and image grids),
    `metrics.json` (final train and validation loss terms and `evaluate_model`'s
    figures), the figures and `report.html`.

    Nothing finished is lost: called again with the same settings on a run directory that was
    interrupted, it continues from its last checkpoint (`IntervalBackup`: weights, optimizer
    state and step, the learning-rate schedule, the model's noise generator; the data order
    of the epochs done is skipped), `history.csv` keeps one row per epoch, and a run
    interrupted during the final evaluation is evaluated without training again. A resumed
    run ends with the weights of an uninterrupted one. `restart=True` starts over in the same
    directory. `strategy` (a `tf.distribute.Strategy`) replaces the one `config.strategy`
    names: a MultiWorkerMirroredStrategy must be made before TensorFlow runs anything, so the
    script makes it first. Training stops at the first non-finite loss term
    (`keras_vae.callbacks.TrainingDiverged`) and never writes non-finite weights.
    """
    check_config(config)
    run_data = load_run_data(config, verbose)
    config = run_data.config
    keras.utils.set_random_seed(config.seed)
    model = build_model(config, run_data, strategy or make_strategy(config.strategy))
    run_dir, state = prepare_run_dir(config, restart)
    if state == "complete":
        if verbose:
            print(f"{run_dir} is complete already; nothing to do (--restart starts over).")
        with open(os.path.join(run_dir, "metrics.json")) as f:
            return run_dir, json.load(f)
    if verbose:
        print(f"Training on {len(run_data.x_train)} {config.dataset} images "
              f"{run_data.image_shape}; validation: {run_data.validation}")
        print(f"Model: {model.describe()}")
    if state == "training":
        fit_run(model, config, run_data, run_dir, verbose)
    else:  # trained, the final evaluation interrupted
        if verbose:
            print(f"{run_dir}: training finished before; evaluating its model.keras.")
        model = load_model_file(os.path.join(run_dir, MODEL_FILE))
    metrics = evaluate_run(model, config, run_data, run_dir, verbose)
    write_status(run_dir, "complete")
    return run_dir, metrics


__all__ = ["RunData", "TrainConfig", "build_model",
           "evaluate_run", "fit_run", "load_run_data", "make_strategy", "train"]
