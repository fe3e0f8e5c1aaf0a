"""A run directory: its settings (`config.json`), where it stands (`status.json`), its history
and its model, written atomically and read back. Training and evaluation both use it.

| file | what it holds |
| --- | --- |
| `config.json` | `TrainConfig`: the run's settings, the model's own under `model_settings` |
| `status.json` | `{"state": "training" | "trained" | "complete"}` |
| `model.keras` | the model (`keras.models.load_model`) |
| `backup/` | while training: `keras.callbacks.BackupAndRestore`'s state |
| `history.csv` | one row per finished epoch |
"""

import csv
import dataclasses
import datetime
import json
import os
import shutil
import zipfile
import zlib

import keras

from keras_vae import data
from keras_vae.atomic import atomic_write
from keras_vae.arguments import check_int, check_int_list, check_number, check_positive
from keras_vae.distributions.likelihoods import get_likelihood
from keras_vae.app.registry import (get_entry, get_model_class, name_of,
                                    recipe_model_names, setting_owners)
from keras_vae.networks import architecture_options

STATUS_FILE = "status.json"
CONFIG_FILE = "config.json"
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.csv"
CURVE_FILE = "log_likelihood_curve.csv"
BACKUP_DIR = "backup"
LR_SCHEDULES = ("cosine", "constant")
STRATEGIES = ("default", "mirrored", "multiworker")
# Settings a resumed run may change: how often it checkpoints does not change what it trains.
FREE_ON_RESUME = ("checkpoint_every",)
# Settings that name a file or folder: a run resumes from another spelling of the same path
# (relative, through a link, from a copy of the tree beside the same data).
PATH_SETTINGS = ("data_dir", "validation_dir", "unlabelled_dir", "stack_on")


@dataclasses.dataclass
class TrainConfig:
    """Settings of one training run; `config.json` in a run directory holds them.

    `TrainConfig.from_dict` takes the run's settings and the model's own (flat, as flags and
    `--config` files give them, or under `model_settings`) and fills in the model's defaults.

    Args:
        model: str or None. A name of `keras_vae.app.registry` (`--model`); None: the
            recipe's model for the training images (`resolve_recipe`).
        dataset: str or None. `digits`, `sprites`, `mnist`, `folder`, `arrays` or a TensorFlow Datasets
            name; None: what `data_dir` holds (`keras_vae.data.infer_dataset`), the bundled
            digits without it. A name the path contradicts is refused.
        data_dir, validation_dir, image_size, color_mode, skip_bad_images, image_storage,
            array_key, labels_key: the options of a user's files (`keras_vae.data.load`).
        num_images: int or None. Sprites drawn (`dataset="sprites"` only); None: 20,000.
        architecture, hidden_units, blocks, activation, latent_dim, likelihood: the model's
            networks and likelihood (`BaseAutoencoder.from_architecture`); None: the recipe's
            (`resolve_recipe`).
        kernel_size, dense_units: the conv architecture's kernel size and dense widths
            (`BaseAutoencoder.from_architecture`); None: its builders' defaults.
        model_settings: dict. The model's own settings (`ModelEntry.settings`).
        binarize: bool or None. Dynamic binarization; None: the recipe's, or where the
            likelihood asks for it (Bernoulli).
        epochs: int. Defaults to 20.
        batch_size: int or None. None: the recipe's.
        learning_rate: float or None. Adam's initial rate; None: the recipe's.
        lr_schedule: str or None. `"cosine"` (decay to 0 over the run's steps) or
            `"constant"`; None: the recipe's (cosine).
        clip_norm: float or None. Adam's `global_clipnorm`, 0 for none; None: the recipe's.
        seed: int. Weights, noise and data order. Defaults to 0.
        validation_fraction: float. Held out when the data has no test split.
        split_seed: int. Chooses the held-out images apart from `seed`, so that runs of
            several seeds are scored on the same images. Defaults to 0.
        max_train_examples: int or None. Train on the first N training images only.
        labels_per_class: int or None. Keep the labels of N training images of each class
            (a balanced random draw) and train a partially labelled model (`ssvae`) with
            the rest unlabelled; None: every label.
        label_seed: int. Which images keep their labels. Defaults to 0.
        unlabelled_dir: str or None. A folder of images without labels that joins the
            (labelled) training images, each labelled -1, for a partially labelled model.
        stack_on: str or None. A trained VAE's run directory (or `.keras` file): M1+M2, the
            partially labelled model trained on its latent means (`SemiSupervisedVAE`'s
            `stacked_on`).
        eval_k: int or None. Importance samples of the final evaluation (models with a
            posterior); None: as many as `eval_budget` allows, at most 100.
        eval_budget: float. The final evaluation's share of the training time (at least a
            minute) when `eval_k` is None. Defaults to 0.2.
        log_likelihood_every, log_likelihood_k: ints. The validation log-likelihood every N
            epochs and at the last, with K samples (`log_likelihood_curve.csv`); 0: at the end
            only.
        amortization_images: int. Validation images of the amortization gap; 0 (the
            default) skips it.
        image_log_every: int. TensorBoard image grids every N epochs.
        steps_per_execution: int. Batches per host round-trip (`fit` caps it at an epoch's
            batches and reports true counts); 1 under a `strategy` other than `"default"`.
        checkpoint_every: float. Seconds of training between checkpoints (at an epoch's end;
            the last epoch always).
        strategy: str. `"default"`, `"mirrored"` or `"multiworker"`.
        output_dir: str or None. The run directory; None: `runs/<dataset>-<date>-<time>`.
    """

    model: str = None
    dataset: str = None
    data_dir: str = None
    validation_dir: str = None
    image_size: list = None
    color_mode: str = None
    skip_bad_images: bool = False
    image_storage: str = "auto"
    array_key: str = None
    labels_key: str = None
    num_images: int = None
    architecture: str = None
    hidden_units: list = None
    blocks: int = None
    kernel_size: int = None
    dense_units: list = None
    activation: str = None
    latent_dim: int = None
    likelihood: str = None
    model_settings: dict = dataclasses.field(default_factory=dict)
    binarize: bool = None
    epochs: int = 20
    batch_size: int = None
    learning_rate: float = None
    lr_schedule: str = None
    clip_norm: float = None
    seed: int = 0
    validation_fraction: float = 0.1
    split_seed: int = 0
    max_train_examples: int = None
    labels_per_class: int = None
    label_seed: int = 0
    unlabelled_dir: str = None
    stack_on: str = None
    eval_k: int = None
    eval_budget: float = 0.2
    log_likelihood_every: int = 0
    log_likelihood_k: int = 500
    amortization_images: int = 0
    image_log_every: int = 5
    steps_per_execution: int = 32
    checkpoint_every: float = 60.0
    strategy: str = "default"
    output_dir: str = None
    # The model settings given (not filled in with defaults) by `from_dict`: the recipe
    # chooses the others. Not a setting: not in `to_dict` or `config.json`.
    given_model_settings: tuple = dataclasses.field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls, values):
        """A config from a dict of run settings and model settings, flat (as flags and
        `--config` files give them) or under `model_settings` (as `config.json` stores them;
        flat keys win). A setting of another model than `model` is refused, naming its model,
        unless it holds that model's default (`config.json` files written before
        `model_settings` list every model's settings). Without `model`, the settings of the
        models the recipe chooses among are taken as given; `resolve_recipe` names the model
        and refuses those it does not have."""
        values = dict(values)
        model = values.get("model", cls.model)
        entries = [get_entry(name) for name in (
            recipe_model_names() if model is None else [model])]
        nested = values.pop("model_settings", None) or {}
        if not isinstance(nested, dict):
            raise ValueError("Argument `model_settings` must be a dict of the model's settings. "
                             f"Received: model_settings={nested!r}")
        known = {field.name for field in dataclasses.fields(cls)}
        given = {**nested, **{key: values.pop(key) for key in list(values) if key not in known}}
        own = {setting.name for entry in entries for setting in entry.settings}
        with_model = f"model={model!r}" if model else (
            f"no model (the recipe chooses among {[entry.name for entry in entries]})")
        for key in sorted(set(given) - own):
            owners = setting_owners(key)
            if not owners:
                raise ValueError(
                    f"Unknown configuration key {key!r}: expected the run's settings "
                    f"{sorted(known - {'model_settings'})} or the settings of the "
                    f"model {sorted(own)}. Received: {key}={given[key]!r} with {with_model}")
            owner = get_entry(owners[0])
            default = next(s for s in owner.settings if s.name == key).default_for(
                owner.model_class)
            if given[key] != default:
                raise ValueError(
                    f"Argument `{key}` applies to the {' and '.join(owners)} model(s) only. "
                    f"Received: {key}={given[key]!r} with {with_model}")
            del given[key]
        settings = given if model is None else entries[0].resolve_settings(given)
        return cls(**values, model_settings=settings, given_model_settings=tuple(sorted(given)))

    def __post_init__(self):
        # What the path holds decides the data when `dataset` is not given: a folder of
        # images is never trained on as the bundled digits.
        if self.dataset is None:
            self.dataset = data.infer_dataset(self.data_dir)
        if isinstance(self.image_size, tuple):
            self.image_size = list(self.image_size)

    def data_options(self) -> dict:
        """The options of a user's files (`keras_vae.data.FILE_OPTIONS`), as `data.load`
        takes them."""
        return {key: getattr(self, key) for key in data.FILE_OPTIONS}

    def to_dict(self):
        values = dataclasses.asdict(self)
        del values["given_model_settings"]
        return values

    @property
    def model_class(self):
        if self.model is None:
            raise ValueError("The run's model is not chosen yet: `resolve_recipe` chooses it "
                             "from the training images. Received: model=None")
        return get_model_class(self.model)

    @property
    def model_entry(self):
        """The model's `keras_vae.app.registry.ModelEntry`: its flags and arguments."""
        return get_entry(self.model)

    @property
    def binarized(self) -> bool:
        """Whether training images are dynamically binarized (`binarize`, resolved)."""
        if self.binarize is not None:
            return bool(self.binarize)
        return get_likelihood(self.likelihood or "bernoulli").binarize

    def run_settings(self) -> dict:
        """What `config.json` holds: every setting but `output_dir`."""
        return {key: value for key, value in self.to_dict().items() if key != "output_dir"}


# Run settings the recipe chooses where `TrainConfig` holds None (`resolve_recipe`).
RECIPE_SETTINGS = ("architecture", "hidden_units", "blocks", "activation", "latent_dim",
                   "likelihood", "binarize", "batch_size", "learning_rate", "lr_schedule",
                   "clip_norm")
# What the recipe sizes for its own network: not carried over to another architecture.
NETWORK_SHAPE_SETTINGS = ("hidden_units", "blocks", "latent_layout", "upper_latent_dims",
                          "upper_hidden_units")


def resolve_recipe(config: TrainConfig, images):
    """`(config, line)`: `config` with every setting no flag gave (None run settings, model
    settings not given; the model itself where `model` is None) taken from
    `keras_vae.recipe_for(images, model class)`, and one log
    line saying what was chosen and why. A flag that departs from the recipe's network
    (another `architecture`) keeps the recipe's sizes for that network out; another
    `latent_layout` than the model's recipe falls back to the data's recipe; another
    `likelihood` keeps its own binarization; `free_bits` given as 0 keeps the floor's decay
    out. A config read back from `config.json` has every
    setting given and comes back as it is."""
    from keras_vae.recipes import data_recipe, recipe_for

    chose_model = config.model is None
    if chose_model:
        recipe = recipe_for(images)
        entry = get_entry(name_of(recipe.model_class))
        foreign = sorted(set(config.model_settings) - {s.name for s in entry.settings})
        if foreign:
            raise ValueError(
                f"Argument(s) {foreign} do not apply to the {entry.name} model, the recipe's "
                f"for {recipe.kind}; name the model they belong to with --model. Received: "
                f"{ {key: config.model_settings[key] for key in foreign} } with no model")
        config = dataclasses.replace(
            config, model=entry.name, model_settings=entry.resolve_settings(config.model_settings))
    else:
        recipe = recipe_for(images, config.model_class)
    given_model = set(config.model_settings if config.given_model_settings is None
                      else config.given_model_settings)
    layout = recipe.model_arguments.get("latent_layout")
    if "latent_layout" in given_model and layout not in (
            None, config.model_settings["latent_layout"]):
        recipe = data_recipe(recipe.kind)  # the model's recipe is for its own layout
    proposed = recipe.settings()
    # The recipe's settings that flags gave other values (the line names them, since its
    # description of the recipe still shows the recipe's).
    overridden = sorted(
        key for key, value in proposed.items()
        if (key in RECIPE_SETTINGS and getattr(config, key) is not None
            and _differs(getattr(config, key), value))
        or (key in given_model and key in config.model_settings
            and _differs(config.model_settings[key], value)))
    decay = proposed.pop("free_bits_decay", None)
    no_floor = "free_bits" in given_model and not config.model_settings["free_bits"]
    if decay is not None and not no_floor:  # a floor given as 0 has nothing to lower
        proposed["free_bits_decay_epochs"] = int(round(decay * config.epochs))
    proposed["hidden_units"] = list(proposed["hidden_units"])
    if config.architecture not in (None, recipe.architecture):
        proposed = {key: value for key, value in proposed.items()
                    if key not in NETWORK_SHAPE_SETTINGS}
    if config.likelihood not in (None, recipe.likelihood):
        proposed.pop("binarize")
    own = {setting.name: setting.default_for(config.model_class)
           for setting in config.model_entry.settings}
    run_values, model_values = {}, {}
    for key, value in proposed.items():
        if key in RECIPE_SETTINGS and getattr(config, key) is None:
            run_values[key] = value
        elif key in own and key not in given_model:
            model_values[key] = list(value) if isinstance(value, tuple) else value
    model_settings = config.model_entry.resolve_settings({**config.model_settings,
                                                          **model_values})
    resolved = dataclasses.replace(
        config, **run_values, model_settings=model_settings,
        given_model_settings=tuple(sorted(model_settings)))
    # Whatever the recipe left open (another architecture's sizes): the builders' defaults.
    for key, default in (("architecture", "mlp"), ("activation", "relu"), ("latent_dim", 20),
                         ("likelihood", "bernoulli"), ("batch_size", 100),
                         ("learning_rate", 2e-3), ("lr_schedule", "cosine")):
        if getattr(resolved, key) is None:
            setattr(resolved, key, default)
    chosen = ["model"] * chose_model + sorted(key for key, value in run_values.items() if value is not None) + sorted(
        key for key, value in model_values.items() if value != own[key])
    line = f"Recipe for {recipe.reason()}" + (
        f"; it set {', '.join(chosen)}" if chosen else "; every setting given") + (
        f"; flags gave {', '.join(overridden)}" if overridden else "") + (
        " (flags override each)")
    return resolved, line


def _differs(given, proposed):
    """Whether a flag's value departs from the recipe's (lists and tuples alike)."""
    as_list = (lambda value: list(value) if isinstance(value, (list, tuple)) else value)
    return as_list(given) != as_list(proposed)


def check_config(config: TrainConfig) -> None:
    """Raises `ValueError` for any bad run setting, and for the model's settings any its class
    refuses before it is built, before data is read or anything is written."""
    for name in ("latent_dim", "epochs", "batch_size", "eval_k", "image_log_every",
                 "steps_per_execution"):
        if getattr(config, name) is not None:  # None: the recipe's (`resolve_recipe`)
            check_int(name, getattr(config, name), 1)
    check_positive("eval_budget", config.eval_budget)
    if config.max_train_examples is not None:
        check_int("max_train_examples", config.max_train_examples, 1)
    if config.labels_per_class is not None:
        check_int("labels_per_class", config.labels_per_class, 1)
    elif config.label_seed != 0:
        raise ValueError("Argument `label_seed` chooses the labels `labels_per_class` keeps. "
                         f"Received: label_seed={config.label_seed} without labels_per_class")
    check_int("amortization_images", config.amortization_images, 0,
              "(0 skips the amortization gap)")
    check_int("log_likelihood_every", config.log_likelihood_every, 0,
              "(0: the log-likelihood at the end only)")
    check_int("log_likelihood_k", config.log_likelihood_k, 1)
    check_number("checkpoint_every", config.checkpoint_every, 0)
    if config.hidden_units is not None:
        check_int_list("hidden_units", config.hidden_units, 1)
    if config.likelihood is not None:
        get_likelihood(config.likelihood)
    if config.architecture is not None:
        architecture_options(config.architecture, blocks=config.blocks,
                             kernel_size=config.kernel_size, dense_units=config.dense_units)
    if config.blocks is not None:
        check_int("blocks", config.blocks, 1)
    if config.kernel_size is not None:
        check_int("kernel_size", config.kernel_size, 1)
    if config.dense_units is not None:
        check_int_list("dense_units", config.dense_units, 1)
    data.check_source(config.dataset, config.data_dir)
    data.check_options(config.dataset, config.data_options())
    if config.image_size is not None:
        data.check_image_size(config.image_size)
    defaults = TrainConfig()
    if config.model is not None:  # else `resolve_recipe` names it, and this runs again
        check_model_settings(config, defaults)
    if config.eval_k is not None and config.eval_budget != defaults.eval_budget:
        raise ValueError(
            "Argument `eval_budget` sizes K when `eval_k` is not given; with both, K is "
            f"`eval_k`. Received: eval_budget={config.eval_budget} with eval_k={config.eval_k}")
    if not config.log_likelihood_every and config.log_likelihood_k != defaults.log_likelihood_k:
        raise ValueError(
            "Argument `log_likelihood_k` applies only with `log_likelihood_every` > 0 (the "
            "curve's evaluations; the final one takes `eval_k`). Received: log_likelihood_k="
            f"{config.log_likelihood_k} with log_likelihood_every=0")
    if config.learning_rate is not None:
        check_positive("learning_rate", config.learning_rate)
    if config.clip_norm is not None:
        check_number("clip_norm", config.clip_norm, 0)  # 0: no clipping
    for name, allowed in (("strategy", STRATEGIES), ("lr_schedule", LR_SCHEDULES)):
        if getattr(config, name) not in (*allowed, *((None,) if name == "lr_schedule" else ())):
            raise ValueError(f"Argument `{name}` must be one of {allowed}. "
                             f"Received: {name}={getattr(config, name)!r}")


def check_model_settings(config: TrainConfig, defaults: TrainConfig) -> None:
    """The model's settings and the run settings it refuses (`check_config`)."""
    entry = config.model_entry
    for name in ("labels_per_class", "unlabelled_dir", "stack_on"):
        if getattr(config, name) is not None and not config.model_class.partially_labelled:
            raise ValueError(
                f"Argument `{name}` applies to models that learn from partial labels (ssvae). "
                f"Received: {name}={getattr(config, name)!r} with model={config.model!r}")
    for name in entry.refused_settings():
        if getattr(config, name) != getattr(defaults, name):
            raise ValueError(
                f"Argument `{name}` does not apply to the {config.model} model. Received: "
                f"{name}={getattr(config, name)!r} with model={config.model!r}")
    entry.constructor_arguments(config.model_settings, steps_per_epoch=1)
    for setting in entry.settings:
        setting.check_within(config.model_settings.get(setting.name), config.epochs)


def worker_index() -> int:
    """This process' index among the workers of a `TF_CONFIG` cluster (0, the chief, without
    one): workers other than the chief write their run directories beside the chief's."""
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task = cluster.get("task", {})
    if task.get("type", "worker") == "chief":
        return 0
    return int(task.get("index", 0)) + (1 if "chief" in cluster.get("cluster", {}) else 0)


# ------------------------------------------------------------------------ files

def write_json_atomically(path, value) -> None:
    """Writes JSON through a temporary file and a rename: never a half-written file."""
    with atomic_write(path) as temporary, open(temporary, "w") as f:
        json.dump(value, f, indent=2)


def read_status(run_dir) -> str:
    """Where a run directory stands: `"training"` (started, resumable), `"trained"` (training
    finished, the final evaluation not), `"complete"`, or None for no run there."""
    path = os.path.join(run_dir, STATUS_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)["state"]


def write_status(run_dir, state) -> None:
    write_json_atomically(os.path.join(run_dir, STATUS_FILE), {"state": state})


def read_history(run_dir):
    """The per-epoch logs of a run directory's `history.csv`, or None."""
    path = os.path.join(run_dir, HISTORY_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {key: [float(row[key]) for row in rows] for key in rows[0]} if rows else None


def keep_history_rows(run_dir, rows) -> None:
    """Cuts `history.csv` to its header and first `rows` epochs: an epoch logged but not
    backed up before a kill is trained again and logged again, never twice."""
    path = os.path.join(run_dir, HISTORY_FILE)
    if not os.path.isfile(path):
        return
    with open(path) as f:
        lines = f.readlines()
    with open(path, "w") as f:
        f.writelines(lines[: rows + 1])


def finished_epochs(run_dir) -> int:
    """Epochs a killed run finished, as `keras.callbacks.BackupAndRestore` recorded them."""
    path = os.path.join(run_dir, BACKUP_DIR, "training_metadata.json")
    if not os.path.isfile(path):
        return 0
    with open(path) as f:
        return int(json.load(f)["epoch"])


def prepare_run_dir(config: TrainConfig, restart: bool):
    """Returns `(run_dir, state)`: a new run directory (state "training"), or the run of the
    same settings found there, to resume. Other settings there are refused, naming them.
    Under the multiworker strategy, worker i > 0 keeps its own copy in `<run_dir>.worker-<i>`
    (every worker saves and restores its state; the chief's directory is the run's)."""
    run_dir = config.output_dir or os.path.join(
        "runs", f"{config.dataset}-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    if config.strategy == "multiworker" and worker_index() > 0:
        run_dir = f"{run_dir.rstrip(os.sep)}.worker-{worker_index()}"
    settings = config.run_settings()
    config_path = os.path.join(run_dir, CONFIG_FILE)
    if os.path.isdir(run_dir) and os.listdir(run_dir):
        if not os.path.isfile(config_path):
            raise ValueError(
                "Argument `output_dir` must be a new or empty directory, or a run directory "
                "(with config.json) to resume, so that nothing else is overwritten. Received: "
                f"output_dir={run_dir!r}, which holds other files")
        if restart:
            shutil.rmtree(run_dir)
        else:
            previous = TrainConfig.from_dict(read_json(config_path)).run_settings()
            changed = {key: (previous.get(key), value) for key, value in settings.items()
                       if not _same_setting(key, previous.get(key), value)}
            if changed:
                raise ValueError(
                    f"Argument `output_dir` holds a run with other settings ({run_dir}); rerun "
                    "with its settings to resume it, pass --restart (restart=True) to start "
                    "over, or choose another directory. Received: settings that differ, as "
                    "(run's, given): " + ", ".join(f"{k}={v}" for k, v in changed.items()))
            return run_dir, read_status(run_dir) or "training"
    os.makedirs(run_dir, exist_ok=True)
    write_json_atomically(config_path, settings)
    write_status(run_dir, "training")
    return run_dir, "training"


def _same_setting(key, previous, given):
    """Whether a run's setting and the one given agree, for resuming: paths by the file they
    name, settings free on resume always."""
    if key in FREE_ON_RESUME or previous == given:
        return True
    if key in PATH_SETTINGS and isinstance(previous, str) and isinstance(given, str):
        return os.path.realpath(previous) == os.path.realpath(given)
    return False


def read_json(path):
    with open(path) as f:
        return json.load(f)


def load_run(path):
    """Loads a `.keras` file, or a run directory's `model.keras` and `config.json`.

    Returns:
        `(model, config)`: config is a `TrainConfig`, or None for a bare `.keras` file.
    """
    path = os.fspath(path)
    config = None
    if os.path.isdir(path):
        config_path = os.path.join(path, CONFIG_FILE)
        if os.path.isfile(config_path):
            config = TrainConfig.from_dict(read_json(config_path))
        path = os.path.join(path, MODEL_FILE)
    if not (os.path.isfile(path) and path.endswith(".keras")):
        raise ValueError(
            "Argument `model` must be a .keras file or a run directory holding model.keras. "
            f"Received: model={path!r}")
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


def load_for_export(model_path):
    """Loads a `.keras` file or a run directory's `model.keras`; returns `(model, metadata)`
    for `keras_vae.export_version`: from a run directory, how the training images were
    prepared."""
    model, config = load_run(model_path)
    metadata = {}
    if config is not None:
        metadata["training_data"] = {
            "dataset": config.dataset,
            "dynamically_binarized": config.binarized,
        }
    return model, metadata


__all__ = ["TrainConfig", "load_for_export", "check_config", "resolve_recipe", "load_model_file", "load_run", "prepare_run_dir",
           "read_history", "read_status", "write_json_atomically", "write_status"]
