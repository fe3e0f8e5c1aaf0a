"""The best training recipe the package has measured for a kind of images.

    recipe = keras_vae.recipe_for(x_train)       # looks at the images
    print(recipe.reason())                       # what it chose and why, in one line
    model = recipe.build(input_shape=x_train.shape[1:])
    model.compile(optimizer=recipe.optimizer(total_steps=epochs * steps_per_epoch))
    model.fit(recipe.dataset(x_train), epochs=epochs)

`describe_images` sorts images into the kinds the recipes were measured on: nearly binary
grey images (MNIST, the bundled digits: a Bernoulli likelihood on dynamically binarized
pixels, Kingma & Welling 2014's setting), 8-bit images (CIFAR-10: a residual network and
PixelCNN++'s discretized mixture of logistics, Salimans et al. 2017), and other values in
[0, 1]. The recipe names its model: the one-layer `VAE`, except on 8-bit images of 16x16 and
more, where the `HierarchicalVAE` with latents on the resnet's feature maps was better in less
training time. A model class given refines the recipe for itself (`BaseAutoencoder.recipe`: the
hierarchical VAE's is the IWAE paper's two-layer network with its training settings). The
figures behind each choice are in `docs/results/` (`cifar_recipes.md`, `hierarchy.md`,
`results.md`); `keras-vae train` applies the same recipe to every setting that no flag gives.
"""

import dataclasses

import numpy as np

from keras_vae.arguments import check_int

# A grey image is "nearly binary" when at least this share of its pixels is within
# `EXTREME` of 0 or 1 (MNIST: 89%; CIFAR-10: under 1%; photographs in grey: a few percent).
NEARLY_BINARY_SHARE = 0.8
EXTREME = 0.02


@dataclasses.dataclass(frozen=True)
class ImageKind:
    """What `describe_images` found.

    Attributes:
        values: str. `"binary"` (grey, nearly every pixel at 0 or 1, or only 0 and 1),
            `"8-bit"` (every value k / 255), `"unit"` (other values in [0, 1]) or `"real"`
            (values outside [0, 1]).
        shape: tuple of ints. One image's shape, `(height, width, channels)` or flat.
        extreme_share: float. The share of values within 0.02 of 0 or 1.
    """

    values: str
    shape: tuple
    extreme_share: float

    @property
    def channels(self) -> int:
        return int(self.shape[-1]) if len(self.shape) == 3 else 1

    def __str__(self):
        size = "x".join(str(n) for n in self.shape[:2]) if len(self.shape) == 3 else (
            f"{self.shape} values")
        colour = {1: "grey", 3: "colour"}.get(self.channels, f"{self.channels}-channel")
        share = f"{self.extreme_share:.0%} of pixels at 0 or 1"
        words = {"binary": f"nearly binary ({share})", "8-bit": f"8-bit ({share})",
                 "unit": f"values in [0, 1] off the 8-bit grid ({share})",
                 "real": "values outside [0, 1]"}[self.values]
        return f"{size} {colour}, {words}"


def describe_images(images, max_images=1000) -> ImageKind:
    """Sorts images by their values and shape, looking at the first `max_images`.

    Args:
        images: array `(n, *shape)` of floats (or anything `np.asarray` takes), pixels scaled
            to [0, 1] as the package's loaders give them.
        max_images: int. Images looked at. Defaults to 1000.

    Returns:
        `ImageKind`.
    """
    check_int("max_images", max_images, 1)
    x = np.asarray(images[:max_images], np.float32)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError("Argument `images` must be an array of at least one image, shape "
                         f"(n, ...). Received: an array of shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("Argument `images` must hold finite values. Received: NaN or "
                         "infinite values")
    shape = tuple(int(n) for n in x.shape[1:])
    extreme = float(np.mean((x <= EXTREME) | (x >= 1 - EXTREME)))
    channels = shape[-1] if len(shape) == 3 else 1
    if x.min() < 0 or x.max() > 1:
        values = "real"
    elif channels == 1 and (extreme >= NEARLY_BINARY_SHARE or np.all((x == 0) | (x == 1))):
        values = "binary"
    elif np.all(np.abs(x * 255 - np.round(x * 255)) < 1e-3):
        values = "8-bit"
    else:
        values = "unit"
    return ImageKind(values, shape, extreme)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How to build and train a model on a kind of images (`recipe_for`).

    Attributes:
        kind: `ImageKind`. The images it was chosen for.
        architecture, hidden_units, blocks, activation, latent_dim, likelihood: the networks
            and likelihood, as `BaseAutoencoder.from_architecture` takes them.
        binarize: bool. Dynamic binarization of the training images (`keras_vae.data`).
        batch_size: int.
        learning_rate: float. Adam's initial rate.
        lr_schedule: str. `"cosine"` (to 0 over training) or `"constant"`.
        clip_norm: float or None. Adam's `global_clipnorm`.
        objective: dict. The ELBO's settings: `mc_samples`, `free_bits` and
            `free_bits_decay` (the share of training over which the floor falls to 0).
        model_arguments: dict. The model's own constructor arguments.
        why: str. Where the recipe was measured, in words.
        model_class: the `keras_vae.BaseAutoencoder` subclass the recipe builds; None: `VAE`.
    """

    kind: ImageKind
    architecture: str
    hidden_units: tuple
    latent_dim: int
    likelihood: str
    binarize: bool
    why: str
    blocks: int = None
    activation: str = "relu"
    batch_size: int = 100
    learning_rate: float = 2e-3
    lr_schedule: str = "cosine"
    clip_norm: float = None
    objective: dict = dataclasses.field(default_factory=dict)
    model_arguments: dict = dataclasses.field(default_factory=dict)
    model_class: type = None

    def reason(self) -> str:
        """What the recipe is and why, in one line."""
        network = f"{self.architecture} {'-'.join(map(str, self.hidden_units))}" + (
            f" ({self.blocks} block{'s' * (self.blocks != 1)} per resolution)"
            if self.blocks else "")
        extras = ", ".join(f"{key} {value}" for key, value in {
            **self.model_arguments, **self.objective,
            **({"clip_norm": self.clip_norm} if self.clip_norm else {})}.items())
        binarized = ", dynamically binarized" if self.binarize else ""
        model = self.model_class.__name__ if self.model_class else "VAE"
        return (f"{self.kind}: {model}, {network}, {self.activation}, latent {self.latent_dim}, "
                f"{self.likelihood} likelihood{binarized}, batch {self.batch_size}, Adam "
                f"{self.learning_rate:g} {self.lr_schedule}" + (f", {extras}" if extras else "")
                + f" ({self.why})")

    def settings(self) -> dict:
        """The recipe as a flat dict of settings (no `kind`, no `why`)."""
        values = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)
                  if field.name not in ("kind", "why", "objective", "model_arguments",
                                          "model_class")}
        return {**values, **self.objective, **self.model_arguments}

    def objective_for(self, total_steps):
        """The `keras_vae.ELBO` of the recipe, its free-bits floor falling over its share of
        `total_steps` training steps."""
        from keras_vae.losses import ELBO

        settings = dict(self.objective)
        decay = settings.pop("free_bits_decay", 0.0)
        return ELBO(free_bits_decay_steps=int(round(decay * total_steps)), **settings)

    def build(self, model_class=None, input_shape=None, total_steps=1, seed=None, **kwargs):
        """The model, built by `model_class.from_architecture` (default: the recipe's) for
        images of `input_shape` (default: the recipe's images); `total_steps` times the
        objective's schedules; `kwargs` go to the constructor."""
        model_class = model_class or self.model_class
        if model_class is None:
            from keras_vae.models import VAE as model_class
        arguments = {**self.model_arguments, **kwargs}
        if self.objective and "objective" not in arguments:
            arguments["objective"] = self.objective_for(total_steps)
        return model_class.from_architecture(
            input_shape=tuple(input_shape or self.kind.shape), latent_dim=self.latent_dim,
            architecture=self.architecture, hidden_units=list(self.hidden_units),
            blocks=self.blocks, activation=self.activation, likelihood=self.likelihood,
            seed=seed, **arguments)

    def optimizer(self, total_steps):
        """Keras' Adam at the recipe's rate, decayed to 0 over `total_steps` under the cosine
        schedule, clipped as the recipe says."""
        import keras

        check_int("total_steps", total_steps, 1)
        rate = self.learning_rate
        if self.lr_schedule == "cosine":
            rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=total_steps)
        return keras.optimizers.Adam(rate, global_clipnorm=self.clip_norm)

    def dataset(self, images, seed=0, **kwargs):
        """`keras_vae.data.make_dataset` of `images` with the recipe's batch size and
        binarization."""
        from keras_vae.data import make_dataset

        return make_dataset(images, self.batch_size, binarize_images=self.binarize, seed=seed,
                            **kwargs)


def _resnet_widths(shape):
    """Filters per resolution of the colour recipe's resnet: (32, 64, 128) on 32x32 images,
    one resolution more (twice the filters) per doubling of the side, down to a 4x4 grid."""
    side, widths = min(shape[:2]), [32]
    while side / 2 ** len(widths) > 4 and len(widths) < 5:
        widths.append(widths[-1] * 2)
    return tuple(widths)


def data_recipe(kind: ImageKind) -> Recipe:
    """The one-layer VAE's recipe for images of `kind` (`recipe_for` without a model)."""
    if kind.values in ("binary", "unit") and kind.channels == 1:
        why = ("the one-layer default measured on binarized MNIST, docs/results/results.md"
               if kind.values == "binary" else
               "grey levels read as the probabilities of binary pixels, as for MNIST")
        return Recipe(kind, "mlp", (500,), 20, "bernoulli", True, why)
    spatial = len(kind.shape) == 3 and min(kind.shape[:2]) >= 16
    if kind.values == "8-bit":
        why = ("the colour recipe measured on CIFAR-10, docs/results/cifar_recipes.md"
               if kind.channels == 3 else
               "the recipe measured on CIFAR-10's 8-bit colour (docs/results/cifar_recipes.md), "
               "not measured on 8-bit grey")
        if spatial:
            return Recipe(kind, "resnet", _resnet_widths(kind.shape), 128, "logistic_mixture",
                          False, why, blocks=1, batch_size=128, learning_rate=1e-3)
        return Recipe(kind, "mlp", (500,), 128, "logistic_mixture", False,
                      why + "; an MLP below 16x16", batch_size=128, learning_rate=1e-3)
    why = ("a Gaussian with per-pixel scales for values that are neither binary nor 8-bit; "
           "no recipe measured on such data")
    if spatial:
        return Recipe(kind, "resnet", _resnet_widths(kind.shape), 128, "gaussian", False, why,
                      blocks=1, batch_size=128, learning_rate=1e-3)
    return Recipe(kind, "mlp", (500,), 20, "gaussian", False, why)


def best_model_class(kind: ImageKind) -> type:
    """The model of the best recipe measured for images of `kind`: the `HierarchicalVAE`
    (latents on feature maps) on 8-bit images of 16x16 and more, where it beat the one-layer
    VAE in less than half the training time (CIFAR-10: 4.658 +- 0.009 bits/dim in 5 epochs
    against 4.716 +- 0.009 in 10, docs/results/recipes.md); the `VAE` elsewhere (binarized
    MNIST: the one-layer VAE was ahead at equal training time)."""
    from keras_vae.models import VAE, HierarchicalVAE

    spatial = len(kind.shape) == 3 and min(kind.shape[:2]) >= 16
    return HierarchicalVAE if kind.values == "8-bit" and spatial else VAE


def recipe_models() -> tuple:
    """The model classes `recipe_for` chooses among when it is given none."""
    from keras_vae.models import VAE, HierarchicalVAE

    return (VAE, HierarchicalVAE)


def recipe_for(images, model_class=None) -> Recipe:
    """The best recipe measured for `images` (`describe_images`), refined by `model_class`
    (`BaseAutoencoder.recipe`; default: the best measured model, `best_model_class`).

    Args:
        images: array `(n, *shape)`, pixels in [0, 1] as the package's loaders give them.
        model_class: a `keras_vae.BaseAutoencoder` subclass or None.

    Returns:
        `Recipe`: `recipe.reason()` says what it chose and why; `recipe.build`,
        `recipe.optimizer` and `recipe.dataset` apply it.
    """
    kind = describe_images(images)
    if model_class is None:
        model_class = best_model_class(kind)
    from keras_vae.models import BaseAutoencoder

    if not (isinstance(model_class, type) and issubclass(model_class, BaseAutoencoder)):
        raise TypeError("Argument `model_class` must be a subclass of "
                        f"keras_vae.BaseAutoencoder or None. Received: model_class={model_class!r}")
    return dataclasses.replace(model_class.recipe(data_recipe(kind)), model_class=model_class)


__all__ = ["ImageKind", "Recipe", "best_model_class", "data_recipe", "describe_images",
           "recipe_for", "recipe_models"]
