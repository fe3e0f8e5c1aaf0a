"""The models the `keras-vae` command builds by name, and each one's flags.

A model's settings are its constructor's keyword arguments (validated there, returned by
`get_config`); this table says which of them are flags of `keras-vae train --model NAME`, with
their help text (defaults come from the constructor's signature), and how a run's settings
become constructor arguments where they are not the same: a VAE's `--prior NAME` is a prior
object, `--kl-warmup-epochs` counts epochs where the objective counts steps. Adding a model
to the command is one `register_model` line: `register_model("mine", MyModel,
settings=(Setting("weight", float, "weight of my term"),))`.
"""

import dataclasses
from typing import Callable

import numpy as np

from keras_vae.arguments import check_int
from keras_vae.distributions import available_posteriors, available_priors
from keras_vae.distributions.posteriors import InverseAutoregressiveFlow, get_posterior
from keras_vae.distributions.priors import get_prior
from keras_vae.losses import (ELBO, IWAE, AnnealedVAE, BetaTCVAE, DIPVAE, DIP_VARIANTS,
                              available_objectives, get_objective)
from keras_vae.models import (VAE, VAEGAN, VQVAE, AdversarialAutoencoder, Autoencoder,
                              BaseAutoencoder, ConditionalVAE, FactorVAE, GumbelSoftmaxVAE,
                              HierarchicalVAE, SemiSupervisedVAE)
from keras_vae.models.hierarchical import LATENT_LAYOUTS
from keras_vae.app.settings import Setting, fitted_or_number

# Run settings of the importance-sampled evaluation: refused for a model without a posterior.
POSTERIOR_RUN_SETTINGS = ("eval_k", "eval_budget", "amortization_images",
                          "log_likelihood_every", "log_likelihood_k")

# The objective's settings, shared by every model trained by `keras_vae.losses`' objectives.
OBJECTIVE_SETTINGS = (
    Setting("objective", str, f"what training minimizes, one of {available_objectives()}",
            default="elbo"),
    Setting("k", int, "importance samples of the iwae objective", default=5),
    Setting("elbo_epochs", int, "epochs the iwae objective trains on the ELBO (over its k "
            "samples) before its bound", default=0, within_run="before_end"),
    Setting("mc_samples", int, "samples of z per example in the elbo", default=1),
    Setting("beta", float, "weight of the KL term in the elbo (default 1), of the total "
            "correlation in betatcvae (default 6)", default=None),
    Setting("kl_warmup_epochs", int, "epochs of a linear KL warm-up from 0 to beta",
            default=0, within_run="end"),
    Setting("free_bits", float, "per-dimension KL floor, nats", default=0.0),
    Setting("free_bits_decay_epochs", int, "epochs over which the free-bits floor falls "
            "linearly to 0 (0: it stays)", default=0, within_run="end"),
    Setting("dip_variant", str, "the dipvae objective's covariance: i (of the posterior "
            "means) or ii (of z)", default="i", choices=DIP_VARIANTS),
    Setting("lambda_od", float, "weight of the dipvae penalty's off-diagonal terms",
            default=10.0),
    Setting("lambda_d", float, "weight of the dipvae penalty's diagonal terms (default 10 "
            "lambda_od for i, lambda_od for ii)", default=None),
    Setting("capacity", float, "the annealed objective's final KL target c_max, nats",
            default=25.0),
    Setting("capacity_epochs", int, "epochs over which the annealed objective's KL target "
            "rises from 0 to --capacity (more than the run's: it ends below c_max)",
            default=10),
    Setting("capacity_weight", float, "gamma, weight of the annealed objective's |KL - C|",
            default=1000.0),
)

# The prior's and the posterior's settings (the VAE and the VAE-GAN).
DISTRIBUTION_SETTINGS = (
    Setting("prior", str, f"p(z), one of {available_priors()}", default="normal"),
    Setting("prior_components", int, "components of the mixture (10) or vamp (50) prior",
            default=None),
    Setting("posterior", str, f"q(z|x), one of {available_posteriors()}", default="diagonal"),
    Setting("flow_steps", int, "steps of the iaf posterior", default=2),
)


def objective_arguments(settings: dict, steps_per_epoch: int, num_images: int = 0) -> dict:
    """`{"objective": Objective}` from the objective's settings (`OBJECTIVE_SETTINGS`, popped
    from the dict `settings`), epochs counted in steps of `steps_per_epoch`, `num_images` the
    training images (beta-TCVAE's dataset size; 0 where unknown). A setting of the objective
    not chosen (`k` with the ELBO, `free_bits` with the IWAE) is refused."""
    given = {setting.name: settings.pop(setting.name) for setting in OBJECTIVE_SETTINGS}
    objective = given["objective"]
    defaults = {setting.name: setting.default for setting in OBJECTIVE_SETTINGS}
    for names, where in ((("k", "elbo_epochs"), ("iwae",)),
                         (("mc_samples", "kl_warmup_epochs"), ("elbo",)),
                         (("beta",), ("elbo", "betatcvae")),
                         (("free_bits", "free_bits_decay_epochs"), ("elbo", "iwae")),
                         (("dip_variant", "lambda_od", "lambda_d"), ("dipvae",)),
                         (("capacity", "capacity_epochs", "capacity_weight"), ("annealed",))):
        changed = {name: given[name] for name in names if given[name] != defaults[name]}
        if changed and objective not in where:
            names = " and ".join(where) + " objective" + "s" * (len(where) > 1)
            raise ValueError(f"Argument(s) {sorted(changed)} apply to the {names} only. "
                             f"Received: {changed} with objective={objective!r}")
    beta = {} if given["beta"] is None else {"beta": given["beta"]}
    if objective == "betatcvae":
        return {"objective": BetaTCVAE(**beta, dataset_size=num_images)}
    if objective == "dipvae":
        return {"objective": DIPVAE(given["dip_variant"], given["lambda_od"], given["lambda_d"])}
    if objective == "annealed":
        epochs = check_int("capacity_epochs", given["capacity_epochs"], 0)
        return {"objective": AnnealedVAE(given["capacity"], given["capacity_weight"],
                                         epochs * steps_per_epoch)}
    if objective not in ("elbo", "iwae"):
        return {"objective": get_objective(objective)}
    decay = check_int("free_bits_decay_epochs", given["free_bits_decay_epochs"], 0)
    if decay and not given["free_bits"]:
        raise ValueError("Argument `free_bits_decay_epochs` applies only with free bits "
                         f"(a floor to lower). Received: free_bits_decay_epochs={decay} "
                         "with free_bits=0")
    free_bits = {"free_bits": given["free_bits"], "free_bits_decay_steps": decay * steps_per_epoch}
    if objective == "iwae":
        elbo_epochs = check_int("elbo_epochs", given["elbo_epochs"], 0)
        return {"objective": IWAE(k=given["k"], elbo_steps=elbo_epochs * steps_per_epoch,
                                  **free_bits)}
    warmup = check_int("kl_warmup_epochs", given["kl_warmup_epochs"], 0)
    return {"objective": ELBO(**beta, kl_warmup_steps=warmup * steps_per_epoch,
                              mc_samples=given["mc_samples"], **free_bits)}


def distribution_arguments(settings: dict, steps_per_epoch: int = 1, num_images: int = 0) -> dict:
    """`{"prior": Prior, "posterior": Posterior}` from the distribution settings
    (`DISTRIBUTION_SETTINGS`, popped from `settings`). A setting of a part that is not chosen
    is refused."""
    given = {setting.name: settings.pop(setting.name) for setting in DISTRIBUTION_SETTINGS}
    prior, posterior = get_prior(given["prior"]), get_posterior(given["posterior"])
    if given["prior_components"] is not None:
        if not hasattr(prior, "components"):
            raise ValueError(
                "Argument `prior_components` applies to the mixture and vamp priors only. "
                f"Received: prior_components={given['prior_components']!r} with "
                f"prior={given['prior']!r}")
        prior = type(prior)(components=given["prior_components"])
    if isinstance(posterior, InverseAutoregressiveFlow):
        posterior = InverseAutoregressiveFlow(flow_steps=given["flow_steps"])
    elif given["flow_steps"] != 2:
        raise ValueError("Argument(s) ['flow_steps'] apply to the iaf posterior only. "
                         f"Received: flow_steps={given['flow_steps']!r} with "
                         f"posterior={given['posterior']!r}")
    return {"prior": prior, "posterior": posterior}


def num_classes_from_labels(labels) -> dict:
    """`{"num_classes": n}` from a run's `(train labels, validation labels)`: the largest
    label + 1; refused where the data has no labels."""
    if labels is None or any(part is None for part in labels):
        raise ValueError(
            "Argument `model` must be a model that needs no labels (the conditional and the "
            "semi-supervised VAE learn from them), or the dataset must have labels (class "
            "folders; for MNIST train-labels-idx1-ubyte beside the images; an .npz's "
            "labels). Received: images without labels")
    return {"num_classes": int(max(int(np.max(part)) for part in labels)) + 1}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A model of the command: its class, its flags and how the run's settings reach it.

    Args:
        name: str. `--model NAME`.
        model_class: a `keras_vae.BaseAutoencoder` subclass.
        settings: tuple of `Setting`. The model's own flags.
        converters: tuple of functions `(settings, steps_per_epoch, num_images) -> dict`
            (`num_images`: the training images, 0 where not known yet) that pop the
            settings they own from the dict and return constructor arguments in their place
            (`objective_arguments`, `distribution_arguments`).
        from_labels: function `(train labels, validation labels) -> dict` or None. Constructor
            arguments read off the data (the conditional VAE's `num_classes`).
        refused_run_settings: tuple of str or None. Run settings that do not apply to the
            model; None: the importance-sampled evaluation's without a posterior.
    """

    name: str
    model_class: type
    settings: tuple = ()
    converters: tuple = ()
    from_labels: Callable = None
    refused_run_settings: tuple = None

    def resolve_settings(self, given) -> dict:
        """Every setting of the model from the values `given` and the defaults; a key that is
        none of its settings is refused, naming them."""
        own = {setting.name: setting for setting in self.settings}
        unknown = sorted(set(given) - set(own))
        if unknown:
            raise ValueError(f"Argument(s) {unknown} are no settings of "
                             f"{self.model_class.__name__}: expected among {sorted(own)}. "
                             f"Received: { {key: given[key] for key in unknown} }")
        return {name: given.get(name, setting.default_for(self.model_class))
                for name, setting in own.items()}

    def constructor_arguments(self, settings, steps_per_epoch, num_images=0) -> dict:
        """The constructor's keyword arguments from the resolved `settings`, for a run of
        `steps_per_epoch` batches an epoch over `num_images` training images."""
        settings = dict(settings)
        arguments = {}
        for convert in self.converters:
            arguments.update(convert(settings, steps_per_epoch, num_images))
        return {**arguments, **settings}

    def data_arguments(self, labels) -> dict:
        return self.from_labels(labels) if self.from_labels else {}

    def model_arguments(self, settings, steps_per_epoch, labels, num_images=0) -> dict:
        """The constructor's keyword arguments: `constructor_arguments`, where a setting is
        None (not given) what the data's labels say (`data_arguments`)."""
        arguments = self.constructor_arguments(settings, steps_per_epoch, num_images)
        for key, value in self.data_arguments(labels).items():
            if arguments.get(key) is None:
                arguments[key] = value
        return arguments

    def refused_settings(self) -> tuple:
        if self.refused_run_settings is not None:
            return self.refused_run_settings
        return () if self.model_class.has_posterior else POSTERIOR_RUN_SETTINGS


_BY_NAME = {}


def register_model(name: str, model_class: type, settings=(), converters=(), from_labels=None,
                   refused_run_settings=None) -> type:
    """Makes `model_class` (a `BaseAutoencoder` subclass) `keras-vae train --model name`, with
    `settings` (tuple of `Setting`) as its own flags; the other arguments as in `ModelEntry`.
    Returns the class. A name already taken by another class is refused."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError("Argument `name` must be a word (letters, digits, underscores). "
                         f"Received: name={name!r}")
    if not (isinstance(model_class, type) and issubclass(model_class, BaseAutoencoder)):
        raise TypeError("Argument `model_class` must be a subclass of "
                        f"keras_vae.BaseAutoencoder. Received: model_class={model_class!r}")
    if name in _BY_NAME and _BY_NAME[name].model_class is not model_class:
        raise ValueError(f"Argument `name` is taken by {_BY_NAME[name].model_class.__name__}. "
                         f"Received: name={name!r} for {model_class.__name__}")
    _BY_NAME[name] = ModelEntry(name, model_class, tuple(settings), tuple(converters),
                                from_labels, refused_run_settings)
    return model_class


def available_models() -> list:
    return sorted(_BY_NAME)


def get_entry(name: str) -> ModelEntry:
    """The `ModelEntry` of `name` (`available_models()`)."""
    if name not in _BY_NAME:
        raise ValueError(f"Argument `model` must be one of {available_models()}. "
                         f"Received: model={name!r}")
    return _BY_NAME[name]


def get_model_class(name: str) -> type:
    return get_entry(name).model_class


def setting_owners(key: str) -> list:
    """The names of the models that have a setting `key`."""
    return [name for name in available_models()
            if key in {setting.name for setting in _BY_NAME[name].settings}]


def name_of(model_class: type) -> str:
    """The name `model_class` is registered under (the first, where it has several)."""
    for name in available_models():
        if _BY_NAME[name].model_class is model_class:
            return name
    raise ValueError(f"Argument `model_class` must be a model of the command, one of "
                     f"{[entry.model_class.__name__ for entry in _BY_NAME.values()]}. "
                     f"Received: model_class={model_class!r}")


def recipe_model_names() -> list:
    """The names of the models the recipe chooses among when no `--model` is given
    (`keras_vae.recipes.recipe_models`)."""
    from keras_vae.recipes import recipe_models

    return [name_of(model_class) for model_class in recipe_models()]


register_model("vae", VAE, (*DISTRIBUTION_SETTINGS, *OBJECTIVE_SETTINGS),
               (distribution_arguments, objective_arguments))
register_model("cvae", ConditionalVAE, (*DISTRIBUTION_SETTINGS, *OBJECTIVE_SETTINGS),
               (distribution_arguments, objective_arguments),
               from_labels=num_classes_from_labels,
               # The amortization gap refines q(z|x) without y: not for a conditional model.
               refused_run_settings=("amortization_images",))
register_model("ssvae", SemiSupervisedVAE, (
    *DISTRIBUTION_SETTINGS, *OBJECTIVE_SETTINGS,
    Setting("alpha", float, "weight of -log q(y|x) per labelled image"),
    Setting("labelled_share", float, "share of labelled images in each training batch"),
), (distribution_arguments, objective_arguments), from_labels=num_classes_from_labels)
register_model("factorvae", FactorVAE, (
    *DISTRIBUTION_SETTINGS, *OBJECTIVE_SETTINGS,
    Setting("gamma", float, "weight of the total correlation the discriminator estimates"),
), (distribution_arguments, objective_arguments))
register_model("autoencoder", Autoencoder)
register_model("vqvae", VQVAE, (
    Setting("num_codes", int, "codebook size"),
    Setting("code_dim", int, "size of each code vector (must divide --latent-dim)"),
    Setting("commitment", float, "weight of the commitment loss"),
    Setting("ema", bool, "codebook by exponential moving averages"),
))
register_model("gumbel", GumbelSoftmaxVAE, (
    Setting("categories", int, "classes of each latent variable (must divide --latent-dim)"),
    Setting("temperature", float, "initial gumbel-softmax temperature"),
    Setting("min_temperature", float, "floor of the annealed temperature"),
    Setting("anneal_rate", float, "temperature decay rate per step"),
))
register_model("aae", AdversarialAutoencoder, (
    Setting("adversarial_weight", float, "weight of the generator loss"),
))
register_model("vaegan", VAEGAN, (
    *DISTRIBUTION_SETTINGS,
    Setting("feature_weight", float, "weight of the feature loss in the decoder's objective"),
    Setting("feature_variance", fitted_or_number, "variance of the feature likelihood: a "
            "number (1 is Larsen et al.'s) or 'fitted', its maximum-likelihood value on each "
            "batch"),
), (distribution_arguments,))
register_model("hvae", HierarchicalVAE, (
    Setting("latent_layout", str, "'vector': every layer a flat vector, the layers above z_1 "
            "MLPs; 'feature_maps' (resnet): z_1 ... z_L on the backbone's smallest grids, "
            "convolutional top-down networks, --latent-dim and --upper-latent-dims counting "
            "channels per position", default="vector", choices=LATENT_LAYOUTS),
    Setting("upper_latent_dims", int, "sizes of z_2 ... z_L (z_1 is --latent-dim); channels "
            "per position with --latent-layout feature_maps", default=(50,), nargs="+"),
    Setting("upper_hidden_units", int, "hidden widths of each upper layer's bottom-up and "
            "top-down networks, --latent-layout vector only (100 100 when not given)",
            default=None, nargs="+"),
    *OBJECTIVE_SETTINGS,
), (objective_arguments,))

__all__ = ["DISTRIBUTION_SETTINGS", "ModelEntry", "OBJECTIVE_SETTINGS", "available_models",
           "distribution_arguments", "get_entry", "get_model_class", "name_of",
           "objective_arguments", "recipe_model_names", "register_model", "setting_owners"]
