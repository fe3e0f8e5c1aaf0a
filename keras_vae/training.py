"""A training run from a configuration: data, model, fit, and a run directory of results.

`scripts/train.py` is the command line of `train(config)`; everything it does lives here.
"""

import dataclasses
import datetime
import json
import os
import shutil
import zipfile
import zlib

import keras
import numpy as np
import tensorflow as tf

from keras_vae import data
from keras_vae.arguments import check_int
from keras_vae.callbacks import (
    AtomicCheckpoint,
    DivergenceGuard,
    ImageLogger,
    save_model_atomically,
)
from keras_vae.distributions.likelihoods import check_support_numpy, get_likelihood
from keras_vae.distributions.posteriors import InverseAutoregressiveFlow, get_posterior
from keras_vae.distributions.priors import GaussianMixture, VampPrior, get_prior
from keras_vae.losses import ELBO, IWAE, get_objective
from keras_vae.evaluation.run import evaluate_model, read_history
from keras_vae.models import (
    VAE,
    VQVAE,
    VAEGAN,
    AdversarialAutoencoder,
    ConditionalVAE,
    GumbelSoftmaxVAE,
    get_model_class,
)
from keras_vae.optimizers import FusedAdam


LR_SCHEDULES = ("cosine", "constant")
STRATEGIES = ("default", "mirrored", "multiworker")


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


def worker_index() -> int:
    """This process' index among the workers of a `TF_CONFIG` cluster (0, the chief, without
    one): workers other than the chief write their run directories beside the chief's."""
    task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
    if task.get("type", "worker") == "chief":
        return 0
    return int(task.get("index", 0)) + (1 if "chief" in json.loads(
        os.environ.get("TF_CONFIG", "{}")).get("cluster", {}) else 0)


@dataclasses.dataclass
class TrainConfig:
    """Settings of one training run; `config.json` in a run directory holds them.

    `binarize=None` means: dynamic binarization where the likelihood asks for it (Bernoulli),
    none otherwise. `prior`, `posterior`, `objective` and their settings (`prior_components`:
    10 for the mixture, 50 for the VampPrior by default; `flow_steps` of the IAF; `k` of the
    IWAE bound; `mc_samples`, `beta`, `kl_warmup_epochs`, `free_bits` of the ELBO) are turned
    into the model's distribution and objective objects by `model_parts`.
    At the end the validation images are evaluated (`keras_vae.evaluation.evaluate_model`) with
    `eval_k` importance samples; TensorBoard gets image grids every `image_log_every` epochs.
    `steps_per_execution` batches run per host round-trip (32: about 15% faster than 1 on a
    2-core CPU; `VAE.fit` caps it at an epoch's batches and reports true batch counts). Under
    a `strategy` other than `"default"` (`make_strategy`) it is 1 and the batch is the global
    batch, split across the replicas.
    The learning rate starts at `learning_rate` and, with `lr_schedule="cosine"`, decays to 0
    along a cosine over the run's steps (`"constant"` keeps it fixed). On MNIST (784-500-20,
    20 epochs) cosine decay from 2e-3 ends about 1.3 nats better than Adam's constant 1e-3
    (docs/results.md). `output_dir=None` means `runs/<dataset>-<date>-<time>`. `split_seed` chooses the held-out
    validation images (when the dataset has no test split) apart from `seed`, so that runs
    with different seeds are scored on the same images.
    """

    model: str = "vae"
    dataset: str = "digits"
    data_dir: str = None
    architecture: str = "mlp"
    hidden_units: list = None
    activation: str = "relu"
    latent_dim: int = 20
    likelihood: str = "bernoulli"
    prior: str = "normal"
    prior_components: int = None
    posterior: str = "diagonal"
    flow_steps: int = 2
    objective: str = "elbo"
    k: int = 5
    mc_samples: int = 1
    beta: float = 1.0
    kl_warmup_epochs: int = 0
    free_bits: float = 0.0
    num_codes: int = 64
    code_dim: int = 4
    commitment: float = 0.25
    ema: bool = False
    categories: int = 10
    temperature: float = 1.0
    min_temperature: float = 0.5
    anneal_rate: float = 3e-5
    adversarial_weight: float = 1.0
    feature_weight: float = 1.0
    feature_variance: object = "fitted"  # a float, or "fitted"
    binarize: bool = None
    epochs: int = 20
    batch_size: int = 100
    learning_rate: float = 2e-3
    lr_schedule: str = "cosine"
    seed: int = 0
    validation_fraction: float = 0.1
    split_seed: int = 0
    max_train_examples: int = None
    eval_k: int = 100
    amortization_images: int = 100
    image_log_every: int = 5
    steps_per_execution: int = 32
    strategy: str = "default"
    output_dir: str = None

    @classmethod
    def from_dict(cls, values):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"Unknown configuration key(s) {unknown}: expected keys among {sorted(known)}. "
                f"Received: {dict((k, values[k]) for k in unknown)}"
            )
        return cls(**values)

    def to_dict(self):
        return dataclasses.asdict(self)

    @property
    def binarized(self) -> bool:
        """Whether training images are dynamically binarized (`binarize`, resolved)."""
        if self.binarize is not None:
            return bool(self.binarize)
        return get_likelihood(self.likelihood).binarize


def check_config(config: TrainConfig) -> None:
    """Raises `ValueError` for any bad setting, before data is read or a model is built."""
    for name in ("latent_dim", "epochs", "batch_size", "eval_k", "image_log_every",
                 "steps_per_execution"):
        check_int(name, getattr(config, name), 1)
    if config.max_train_examples is not None:
        check_int("max_train_examples", config.max_train_examples, 1)
    check_int("amortization_images", config.amortization_images, 0,
              "(0 skips the amortization gap)")
    if config.hidden_units is not None:
        if not isinstance(config.hidden_units, (list, tuple)) or not config.hidden_units:
            raise ValueError("Argument `hidden_units` must be a non-empty list of ints >= 1. "
                             f"Received: hidden_units={config.hidden_units!r}")
        for units in config.hidden_units:
            check_int("hidden_units", units, 1, f"in each entry (of {config.hidden_units})")
    get_likelihood(config.likelihood)
    get_model_class(config.model)
    model_parts(config, steps_per_epoch=1)
    if not (isinstance(config.learning_rate, (int, float)) and config.learning_rate > 0):
        raise ValueError(
            "Argument `learning_rate` must be a positive number. "
            f"Received: learning_rate={config.learning_rate!r}"
        )
    if config.strategy not in STRATEGIES:
        raise ValueError(f"Argument `strategy` must be one of {STRATEGIES}. "
                         f"Received: strategy={config.strategy!r}")
    if config.lr_schedule not in LR_SCHEDULES:
        raise ValueError(
            f"Argument `lr_schedule` must be one of {LR_SCHEDULES}. "
            f"Received: lr_schedule={config.lr_schedule!r}"
        )


# The settings of `TrainConfig` that are constructor arguments of one model only.
MODEL_SETTINGS = {
    VQVAE: ["num_codes", "code_dim", "commitment", "ema"],
    GumbelSoftmaxVAE: ["categories", "temperature", "min_temperature", "anneal_rate"],
    AdversarialAutoencoder: ["adversarial_weight"],
    VAEGAN: ["feature_weight", "feature_variance"],
}


def model_parts(config: TrainConfig, steps_per_epoch: int) -> dict:
    """The prior, posterior and objective objects that `config` names, as `VAE` arguments
    (none for the other models, which refuse those settings).

    Raises `ValueError` for a setting that does not apply to the chosen parts (`--k` with the
    ELBO, `--flow-steps` without the IAF, ...) rather than ignore it.
    """
    defaults = TrainConfig()

    def refuse_unless(applies, names, where):
        changed = {n: getattr(config, n) for n in names if getattr(config, n) != getattr(
            defaults, n)}
        if changed and not applies:
            raise ValueError(f"Argument(s) {sorted(changed)} apply to {where} only. Received: "
                             f"{changed} with model={config.model!r}, prior={config.prior!r}, posterior="
                             f"{config.posterior!r}, objective={config.objective!r}")

    model_class = get_model_class(config.model)
    for other, names in MODEL_SETTINGS.items():
        refuse_unless(model_class is other, names, f"the {other.__name__} model")
    if model_class is ConditionalVAE:
        refuse_unless(False, ["amortization_images"],
                      "models without a condition (the gap refines q(z|x) without y)")
    if model_class not in (VAE, ConditionalVAE):
        refuse_unless(False, ["prior", "prior_components", "posterior", "flow_steps",
                              "objective", "k", "mc_samples", "beta", "kl_warmup_epochs",
                              "free_bits"], "the vae model")
        # The likelihood-based evaluation (importance sampling, amortization gap).
        refuse_unless(issubclass(model_class, VAE), ["amortization_images", "eval_k"],
                      "models with a posterior (vae, vaegan)")
        return {name: getattr(config, name) for name in MODEL_SETTINGS.get(model_class, [])}
    prior = get_prior(config.prior)
    posterior = get_posterior(config.posterior)
    objective = get_objective(config.objective)
    refuse_unless(isinstance(posterior, InverseAutoregressiveFlow), ["flow_steps"],
                  "the iaf posterior")
    refuse_unless(isinstance(objective, IWAE), ["k"], "the iwae objective")
    refuse_unless(isinstance(objective, ELBO),
                  ["mc_samples", "beta", "kl_warmup_epochs", "free_bits"], "the elbo objective")
    if config.prior_components is not None:
        if not isinstance(prior, (GaussianMixture, VampPrior)):
            raise ValueError(
                "Argument `prior_components` applies to the mixture and vamp priors only. "
                f"Received: prior_components={config.prior_components!r} with "
                f"prior={config.prior!r}")
        prior = type(prior)(components=config.prior_components)
    if isinstance(posterior, InverseAutoregressiveFlow):
        posterior = InverseAutoregressiveFlow(flow_steps=config.flow_steps)
    if isinstance(objective, IWAE):
        objective = IWAE(k=config.k)
    else:
        if not isinstance(config.kl_warmup_epochs, int) or config.kl_warmup_epochs < 0:
            raise ValueError("Argument `kl_warmup_epochs` must be an int >= 0. Received: "
                             f"kl_warmup_epochs={config.kl_warmup_epochs!r}")
        objective = ELBO(beta=config.beta, free_bits=config.free_bits,
                         kl_warmup_steps=config.kl_warmup_epochs * steps_per_epoch,
                         mc_samples=config.mc_samples)
    return {"prior": prior, "posterior": posterior, "objective": objective}


def _scheduled(config: TrainConfig, steps_per_epoch: int, learning_rate: float):
    if config.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=config.epochs * steps_per_epoch)
    return learning_rate


def make_optimizer(config: TrainConfig, steps_per_epoch: int):
    """`FusedAdam` at `config.learning_rate`, decayed as `config.lr_schedule` says."""
    return FusedAdam(_scheduled(config, steps_per_epoch, config.learning_rate))


def make_extra_optimizers(model_class, config: TrainConfig, steps_per_epoch: int) -> dict:
    """The optimizers of a model's other networks (`extra_optimizers`: an adversarial
    model's discriminator, ...): each its default, on the same schedule as the main one.

    The schedules must decay together: with the main optimizer's cosine decay and constant
    adversarial rates, the adversarial autoencoder's discriminator and generator kept
    moving the codes after the reconstruction's rate had reached 0, and its held-out
    reconstruction loss rose from 71 to 157 nats over the last epochs (docs/models.md)."""
    optimizers = {}
    for name, default in model_class.extra_optimizers.items():
        optimizer = default()
        rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        config_of = optimizer.get_config()
        config_of["learning_rate"] = _scheduled(config, steps_per_epoch, rate)
        optimizers[name] = type(optimizer).from_config(config_of)
    return optimizers


def _json_ready(values):
    return {k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in values.items()}


def evaluate_splits(model, datasets):
    """Returns `{split: {loss, reconstruction_loss, kl_loss, elbo}}` in nats per example."""
    return {
        split: _json_ready(model.evaluate(dataset, verbose=0, return_dict=True))
        for split, dataset in datasets.items()
    }


STATUS_FILE = "status.json"  # {"state": "training" | "trained" | "complete"}


def read_status(run_dir) -> str:
    """Where a run directory stands: `"training"` (started, resumable), `"trained"` (training
    finished, the final evaluation not), `"complete"`, or None for no run there."""
    path = os.path.join(run_dir, STATUS_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)["state"]


def write_json_atomically(path, value) -> None:
    """Writes JSON through a temporary file and a rename: never a half-written file."""
    temporary = f"{path}.tmp"
    with open(temporary, "w") as f:
        json.dump(value, f, indent=2)
    os.replace(temporary, path)


def _prepare_run_dir(config: TrainConfig, restart: bool):
    """Returns `(run_dir, state)`: a new run directory (state "training"), or the run of the
    same settings found there, to resume. Other settings there are refused, naming them.
    Under the multiworker strategy, worker i > 0 keeps its own copy in `<run_dir>.worker-<i>`
    (every worker saves and restores its state; the chief's directory is the run's)."""
    run_dir = config.output_dir or os.path.join(
        "runs", f"{config.dataset}-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    if config.strategy == "multiworker" and worker_index() > 0:
        run_dir = f"{run_dir.rstrip(os.sep)}.worker-{worker_index()}"
    saved_config = {k: v for k, v in config.to_dict().items() if k != "output_dir"}
    config_path = os.path.join(run_dir, "config.json")
    if os.path.isdir(run_dir) and os.listdir(run_dir):
        if not os.path.isfile(config_path):
            raise ValueError(
                "Argument `output_dir` must be a new or empty directory, or a run directory "
                "(with config.json) to resume, so that nothing else is overwritten. Received: "
                f"output_dir={run_dir!r}, which holds other files")
        if restart:
            shutil.rmtree(run_dir)
        else:
            with open(config_path) as f:
                previous = json.load(f)
            changed = {key: (previous.get(key), value) for key, value in saved_config.items()
                       if previous.get(key) != value}
            if changed:
                raise ValueError(
                    f"Argument `output_dir` holds a run with other settings ({run_dir}); rerun "
                    "with its settings to resume it, pass --restart (restart=True) to start "
                    "over, or choose another directory. Received: settings that differ, as "
                    "(run's, given): " + ", ".join(f"{k}={v}" for k, v in changed.items()))
            return run_dir, read_status(run_dir) or "training"
    os.makedirs(run_dir, exist_ok=True)
    write_json_atomically(config_path, saved_config)
    write_json_atomically(os.path.join(run_dir, STATUS_FILE), {"state": "training"})
    return run_dir, "training"


def _finished_epochs(backup_dir) -> int:
    """Epochs a killed run finished, as `keras.callbacks.BackupAndRestore` recorded them."""
    path = os.path.join(backup_dir, "training_metadata.json")
    if not os.path.isfile(path):
        return 0
    with open(path) as f:
        return int(json.load(f)["epoch"])


def _keep_history_rows(path, rows) -> None:
    """Cuts `history.csv` to its header and first `rows` epochs: an epoch logged but not
    backed up before a kill is trained again and logged again, never twice."""
    if not os.path.isfile(path):
        return
    with open(path) as f:
        lines = f.readlines()
    with open(path, "w") as f:
        f.writelines(lines[: rows + 1])


def train(config: TrainConfig, verbose=1, restart=False, strategy=None):
    """Trains a VAE as `config` says and writes its run directory; returns `(run_dir, metrics)`.

    The run directory holds `config.json` (reruns the run), `status.json` (`training`,
    `trained` or `complete`), `model.keras` (written atomically after every epoch),
    `history.csv`, `logs/` (TensorBoard scalars and image grids), `metrics.json` (final train
    and validation loss terms, and the evaluation of `evaluate_model`: importance-sampled
    log-likelihood, active units, KL per dimension, amortization gap), the figures and
    `report.html`.

    Nothing finished is lost: called again with the same settings on a run directory that was
    interrupted, it continues. Training resumes after the last finished epoch
    (`keras.callbacks.BackupAndRestore` in `backup/`: weights, optimizer state and step, the
    learning-rate schedule, the model's noise generator; the data order of the epochs done is
    skipped), `history.csv` keeps one row per epoch, and a run interrupted during the final
    evaluation is evaluated without training again. A resumed run ends with the weights of an
    uninterrupted one. `restart=True` starts over in the same directory. `strategy` (a
    `tf.distribute.Strategy`) replaces the one `config.strategy` names: a
    MultiWorkerMirroredStrategy must be made before TensorFlow runs anything, so the script
    makes it first. Training stops at the
    first non-finite loss term (`keras_vae.callbacks.TrainingDiverged`) and never writes
    non-finite weights.

    With binarization, validation images are binarized once (seed `seed + 1`) and the same
    binary images serve the per-epoch validation and the final evaluation.
    """
    check_config(config)
    likelihood = get_likelihood(config.likelihood)
    binarize = config.binarized
    splits = data.load(
        config.dataset, config.data_dir, config.validation_fraction, config.split_seed
    )
    x_train = splits.x_train
    if config.max_train_examples is not None:
        x_train = x_train[: config.max_train_examples]
    if not binarize:  # binarized images are in every likelihood's support
        for name, images in (("dataset", x_train), ("dataset", splits.x_val)):
            check_support_numpy(likelihood, images, name)
    run_dir, state = _prepare_run_dir(config, restart)
    saved_config = {k: v for k, v in config.to_dict().items() if k != "output_dir"}
    status_path = os.path.join(run_dir, STATUS_FILE)
    metrics_path = os.path.join(run_dir, "metrics.json")
    if state == "complete":
        if verbose:
            print(f"{run_dir} is complete already; nothing to do (--restart starts over).")
        with open(metrics_path) as f:
            return run_dir, json.load(f)
    y_train = None if splits.y_train is None else splits.y_train[:len(x_train)]
    conditional = get_model_class(config.model).conditional
    own_arguments = {}
    if conditional:  # the labels the data has are the condition
        if y_train is None or splits.y_val is None:
            raise ValueError(
                f"Argument `model` {config.model!r} needs labels, and dataset "
                f"{config.dataset!r} has none here (for MNIST: train-labels-idx1-ubyte in "
                f"{config.data_dir!r}). Received: images without labels")
        own_arguments["num_classes"] = int(max(y_train.max(), splits.y_val.max())) + 1
    train_labels = y_train if conditional else None
    val_labels = splits.y_val if conditional else None
    keras.utils.set_random_seed(config.seed)
    steps_per_epoch = -(-len(x_train) // config.batch_size)
    strategy = strategy or make_strategy(config.strategy)
    distributed = config.strategy != "default"
    with strategy.scope():
        model = get_model_class(config.model).from_architecture(
            input_shape=splits.image_shape,
            latent_dim=config.latent_dim,
            architecture=config.architecture,
            hidden_units=config.hidden_units,
            activation=config.activation,
            likelihood=likelihood,
            seed=config.seed,
            **own_arguments,
            **model_parts(config, steps_per_epoch),
        )
        # Keras 3.15 fails under a strategy with more than one step per execution.
        model.compile(optimizer=make_optimizer(config, steps_per_epoch),
                      **make_extra_optimizers(type(model), config, steps_per_epoch),
                      steps_per_execution=1 if distributed else config.steps_per_execution)
    train_ds = data.make_dataset(
        x_train, config.batch_size, binarize_images=binarize, seed=config.seed,
        labels=train_labels,
    )
    val_images = data.binarize_once(splits.x_val, config.seed + 1) if binarize else splits.x_val
    val_ds = data.make_dataset(val_images, config.batch_size, shuffle=False, labels=val_labels)
    if verbose:
        print(f"Training on {len(x_train)} {config.dataset} images {splits.image_shape}; "
              f"validation: {splits.validation}")
        if isinstance(model, VAE):
            print(f"Model: {type(model).__name__}, {model.likelihood.kind} likelihood, "
                  f"{model.prior.kind} prior, "
                  f"{model.posterior.kind} posterior, objective {model.objective.describe()}, "
                  f"KL {'analytic' if model.kl_analytic else 'Monte Carlo'}")
        else:
            print(f"Model: {type(model).__name__}, {model.likelihood.kind} likelihood")
    model_path = os.path.join(run_dir, "model.keras")
    history_path = os.path.join(run_dir, "history.csv")
    backup_dir = os.path.join(run_dir, "backup")
    if state == "training":
        done = _finished_epochs(backup_dir)
        _keep_history_rows(history_path, done)
        data.set_epoch(train_ds, done)  # the data order and binary images of epoch `done`
        if verbose and done:
            print(f"Resuming {run_dir} after epoch {done} of {config.epochs}.")
        model.fit(
            train_ds,
            epochs=config.epochs,
            validation_data=val_ds,
            verbose=verbose,
            shuffle=False,  # the pipeline shuffles, seeded
            callbacks=[
                DivergenceGuard(),
                AtomicCheckpoint(model_path),
                # history.csv before the backup: an epoch logged, then killed before its
                # backup, is cut from history.csv on resume and trained again.
                keras.callbacks.CSVLogger(history_path, append=True),
                keras.callbacks.BackupAndRestore(backup_dir, double_checkpoint=True,
                                                 delete_checkpoint=False),
                keras.callbacks.TensorBoard(os.path.join(run_dir, "logs")),
                ImageLogger(os.path.join(run_dir, "logs"), splits.x_val,
                            every_n_epochs=config.image_log_every, seed=config.seed,
                            labels=splits.y_val),
            ],
        )
        if isinstance(model, VQVAE):  # its simple prior: the training images' code frequencies
            model.fit_code_prior(data.binarize_once(x_train, config.seed + 2) if binarize
                                 else x_train)
        save_model_atomically(model, model_path)
        write_json_atomically(status_path, {"state": "trained"})
        shutil.rmtree(backup_dir, ignore_errors=True)
    else:  # trained, the final evaluation interrupted
        if verbose:
            print(f"{run_dir}: training finished before; evaluating its model.keras.")
        model = load_model_file(model_path)

    train_images = data.binarize_once(x_train, config.seed + 2) if binarize else x_train
    fixed_train_ds = data.make_dataset(train_images, config.batch_size, shuffle=False,
                                       labels=train_labels)
    terms = evaluate_splits(model, {"train": fixed_train_ds, "validation": val_ds})
    metrics = evaluate_model(
        model,
        val_images,
        run_dir,
        labels=splits.y_val,
        k=config.eval_k,
        split="validation",
        split_source=splits.validation + (", binarized once" if binarize else ""),
        amortization_images=config.amortization_images,
        history=read_history(run_dir),
        config=saved_config,
        extra_metrics={
            **terms,
            "dataset": config.dataset,
            "num_train_images": int(len(x_train)),
            "num_validation_images": int(len(splits.x_val)),
            "validation_source": splits.validation,
            "binarized": bool(binarize),
            "epochs": config.epochs,
        },
        seed=config.seed,
        verbose=verbose,
    )
    if verbose:
        # The loss is the sum of these terms for the ELBO alone (beta, IWAE, VQ-VAE, AAE and
        # VAE-GAN losses are other sums), so the terms are listed, not added up.
        val = metrics["validation"]
        terms = ", ".join(f"{name} {val[key]:.2f}" for name, key in (
            ("reconstruction", "reconstruction_loss"), ("KL", "kl_loss")) if key in val)
        print(f"Validation: loss {val['loss']:.2f} ({terms}) nats per example. "
              f"Run directory: {run_dir}")
    write_json_atomically(status_path, {"state": "complete"})
    return run_dir, metrics




def load_run(path):
    """Loads a `.keras` file, or a run directory's `model.keras` and `config.json`.

    Returns:
        `(model, config)`: config is a `TrainConfig`, or None for a bare `.keras` file.
    """
    path = os.fspath(path)
    config = None
    if os.path.isdir(path):
        config_path = os.path.join(path, "config.json")
        if os.path.isfile(config_path):
            with open(config_path) as f:
                config = TrainConfig.from_dict(json.load(f))
        path = os.path.join(path, "model.keras")
    if not (os.path.isfile(path) and path.endswith(".keras")):
        raise ValueError(
            "Argument `model` must be a .keras file or a run directory holding model.keras. "
            f"Received: model={path!r}"
        )
    return load_model_file(path), config


def load_model_file(path):
    """`keras.models.load_model`, with errors that name the file and what is wrong with it."""
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"Argument `model` must be a .keras file (a zip archive written by Keras). Received: "
            f"{path!r} ({os.path.getsize(path)} bytes), which is not one: truncated, empty or "
            "another kind of file")
    try:
        return keras.models.load_model(path)
    except (zipfile.BadZipFile, OSError, KeyError, EOFError, zlib.error) as error:
        raise ValueError(
            f"Argument `model` must be a readable .keras file. Received: {path!r}, which is "
            f"corrupt ({type(error).__name__}: {' '.join(str(error).split())})") from error
