"""The data's recipe (`keras_vae.recipe_for`), as the library gives it and as `keras-vae
train` applies it to the settings no flag gives."""

import json
import os

import numpy as np
import pytest

import keras_vae
from keras_vae.app.commands import train
from keras_vae.app.runs import prepare_run_dir
from keras_vae.app.training import load_run_data
from keras_vae.recipes import describe_images


def mnist_like(n=50, side=28, seed=0):
    """Grey images with 90% of pixels exactly 0 or 1 and the rest other 8-bit levels."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, side, side, 1)) / 255.0
    extremes = rng.random(x.shape) < 0.9
    return np.where(extremes, rng.integers(0, 2, size=x.shape), x).astype(np.float32)


def eight_bit(n=20, side=32, channels=3, seed=0):
    return (np.random.default_rng(seed).integers(0, 256, size=(n, side, side, channels))
            / 255.0).astype(np.float32)


def test_images_are_sorted_by_their_values_and_shape():
    binary = describe_images(mnist_like())
    assert binary.values == "binary" and binary.shape == (28, 28, 1)
    assert binary.extreme_share == pytest.approx(0.9 + 0.1 * 12 / 256, abs=0.02)
    assert describe_images(eight_bit()).values == "8-bit"
    assert describe_images(eight_bit(channels=1)).values == "8-bit"  # grey, not near binary
    unit = np.random.default_rng(0).random((10, 8, 8, 1)).astype(np.float32)
    assert describe_images(unit).values == "unit"
    assert describe_images(unit * 4 - 2).values == "real"
    with pytest.raises(ValueError, match="finite"):
        describe_images(np.full((2, 4, 4, 1), np.nan))
    with pytest.raises(ValueError, match=r"`images` must be an array of at least one image"):
        describe_images(np.zeros((0, 4, 4, 1)))
    with pytest.raises(TypeError, match=r"`model_class` must be a subclass"):
        keras_vae.recipe_for(unit, model_class="hvae")


def test_each_kind_gets_its_measured_recipe():
    binary = keras_vae.recipe_for(mnist_like())
    assert binary.model_class is keras_vae.VAE
    assert (binary.architecture, binary.hidden_units, binary.latent_dim, binary.likelihood,
            binary.binarize, binary.batch_size, binary.learning_rate) == (
        "mlp", (500,), 20, "bernoulli", True, 100, 2e-3)
    # docs/results/cifar_recipes.md's colour recipe, for the one-layer VAE.
    colour = keras_vae.recipe_for(eight_bit(), keras_vae.VAE)
    assert (colour.architecture, colour.hidden_units, colour.blocks, colour.latent_dim,
            colour.likelihood, colour.binarize, colour.batch_size, colour.learning_rate) == (
        "resnet", (32, 64, 128), 1, 128, "logistic_mixture", False, 128, 1e-3)
    # One resolution more per doubling of the side, down to a 4x4 grid.
    assert keras_vae.recipe_for(eight_bit(n=2, side=64)).hidden_units == (32, 64, 128, 256)
    assert keras_vae.recipe_for(eight_bit(n=2, side=8)).architecture == "mlp"
    line = colour.reason()
    assert "32x32 colour, 8-bit" in line and "cifar_recipes.md" in line
    # Without a model: the hierarchy on the resnet's feature maps, better in less training
    # time (docs/results/recipes.md), built by the recipe itself.
    best = keras_vae.recipe_for(eight_bit())
    assert best.model_class is keras_vae.HierarchicalVAE
    assert (best.architecture, best.latent_dim, best.likelihood) == (
        "resnet", 8, "logistic_mixture")
    assert best.model_arguments == {"latent_layout": "feature_maps", "upper_latent_dims": (8,)}
    assert "HierarchicalVAE" in best.reason()
    model = best.build()
    assert isinstance(model, keras_vae.HierarchicalVAE)
    assert "2 layers [512, 128]" in model.describe()  # 8 channels on the 8x8 and 4x4 grids
    assert keras_vae.recipe_for(eight_bit(n=2, side=8)).model_class is keras_vae.VAE


def test_the_hierarchy_s_recipe_is_the_documented_one():
    recipe = keras_vae.recipe_for(mnist_like(), keras_vae.HierarchicalVAE)
    assert (recipe.hidden_units, recipe.activation, recipe.latent_dim, recipe.clip_norm) == (
        (200, 200), "tanh", 100, 1.0)
    assert recipe.model_arguments["upper_latent_dims"] == (50,)
    model = recipe.build(keras_vae.HierarchicalVAE, total_steps=1000)
    objective = model.objective
    assert (objective.mc_samples, objective.free_bits, objective.free_bits_decay_steps) == (
        5, 0.1, 500)
    optimizer = recipe.optimizer(total_steps=1000)
    assert optimizer.global_clipnorm == 1.0
    assert optimizer._learning_rate.get_config()["decay_steps"] == 1000  # cosine, to 0
    colour = keras_vae.recipe_for(eight_bit(), keras_vae.HierarchicalVAE)
    assert colour.model_arguments["latent_layout"] == "feature_maps"


def run_config(tmp_path, name, argv):
    """The `config.json` that `keras-vae train argv` writes (the same steps as `train`: the
    data's recipe resolved, the run directory prepared), without training."""
    file_values, args = train.parse_args([*argv, "--output-dir", str(tmp_path / name)])
    args.pop("verbose", None)
    run_data = load_run_data(train.config_from_args(file_values, args), verbose=0)
    run_dir, _ = prepare_run_dir(run_data.config, restart=False)
    with open(os.path.join(run_dir, "config.json")) as f:
        return json.load(f)


def test_bare_hvae_equals_the_documented_recipe(tmp_path):
    documented = ["--model", "hvae", "--epochs", "100", "--hidden-units", "200", "200",
                  "--activation", "tanh", "--latent-dim", "100", "--upper-latent-dims", "50",
                  "--upper-hidden-units", "100", "100", "--free-bits", "0.1",
                  "--free-bits-decay-epochs", "50", "--clip-norm", "1", "--mc-samples", "5"]
    bare = run_config(tmp_path, "bare", ["--model", "hvae", "--epochs", "100"])
    given = run_config(tmp_path, "documented", documented)
    assert bare["model_settings"] == given["model_settings"]
    for key in ("hidden_units", "activation", "latent_dim", "clip_norm", "likelihood",
                "binarize", "learning_rate", "batch_size"):
        assert bare[key] == given[key], key


def test_flags_override_the_recipe_and_leave_the_rest_to_it(tmp_path, capsys):
    config = run_config(tmp_path, "run", ["--model", "hvae", "--mc-samples", "1",
                                          "--latent-dim", "30"])
    assert config["model_settings"]["mc_samples"] == 1 and config["latent_dim"] == 30
    assert config["model_settings"]["free_bits"] == 0.1 and config["clip_norm"] == 1.0
    # A floor of 0 has no decay to take from the recipe.
    config = run_config(tmp_path, "no-floor", ["--model", "hvae", "--free-bits", "0"])
    assert config["model_settings"]["free_bits_decay_epochs"] == 0
    assert config["model_settings"]["mc_samples"] == 5
    # Another architecture than the recipe's keeps the recipe's sizes for its network out.
    config = run_config(tmp_path, "conv", ["--architecture", "conv"])
    assert config["architecture"] == "conv" and config["hidden_units"] is None
    assert config["model"] == "vae"  # the bundled digits are nearly binary


def test_colour_images_get_the_colour_recipe_from_the_command(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    for index, image in enumerate(eight_bit(n=12, side=16)):
        Image.fromarray((image * 255).round().astype(np.uint8)).save(folder / f"{index}.png")
    file_values, args = train.parse_args(["--data-dir", str(folder), "--output-dir",
                                          str(tmp_path / "run")])
    run_data = load_run_data(train.config_from_args(file_values, args), verbose=1)
    config = run_data.config
    assert (config.model, config.architecture, config.likelihood, config.binarize,
            config.hidden_units, config.latent_dim) == (
        "hvae", "resnet", "logistic_mixture", False, [32, 64], 8)
    assert config.model_settings["latent_layout"] == "feature_maps"
    assert not run_data.binarize
    line = [line for line in capsys.readouterr().out.splitlines() if "Recipe" in line]
    assert len(line) == 1 and "16x16 colour, 8-bit" in line[0] and "likelihood" in line[0]
    assert "it set model," in line[0]
    # A setting of another model than the recipe's is refused, naming it; --model names one.
    file_values, args = train.parse_args(["--data-dir", str(folder), "--prior", "mixture"])
    with pytest.raises(ValueError, match=r"\['prior'\] do not apply to the hvae model"):
        load_run_data(train.config_from_args(file_values, args), verbose=0)
    file_values, args = train.parse_args(["--data-dir", str(folder), "--model", "vae"])
    config = load_run_data(train.config_from_args(file_values, args), verbose=0).config
    assert (config.model, config.latent_dim) == ("vae", 128)
    with pytest.raises(ValueError, match=r"`--num-codes` applies to the vqvae model"):
        train.parse_args(["--data-dir", str(folder), "--num-codes", "4"])
    # The hierarchy's colour recipe is for latents on feature maps: another layout given, the
    # data's recipe (a flat latent of 128) sizes the rest.
    file_values, args = train.parse_args(["--data-dir", str(folder), "--model", "hvae",
                                          "--latent-layout", "vector"])
    config = load_run_data(train.config_from_args(file_values, args), verbose=0).config
    assert config.latent_dim == 128 and list(config.model_settings["upper_latent_dims"]) == [50]
    file_values, args = train.parse_args(["--data-dir", str(folder), "--model", "hvae"])
    config = load_run_data(train.config_from_args(file_values, args), verbose=0).config
    assert config.latent_dim == 8 and config.model_settings["latent_layout"] == "feature_maps"


def test_the_recipe_line_names_the_settings_flags_gave_otherwise():
    """The line describes the recipe, then names what it set and what flags replaced."""
    from keras_vae.app.runs import resolve_recipe

    file_values, args = train.parse_args(["--architecture", "conv", "--hidden-units", "8", "16",
                                          "--latent-dim", "20", "--beta", "2"])
    config, line = resolve_recipe(train.config_from_args(file_values, args), mnist_like())
    assert (config.architecture, config.hidden_units, config.latent_dim) == ("conv", [8, 16], 20)
    assert "mlp 500" in line  # the recipe's description
    # latent_dim=20 is the recipe's own value: not named as given otherwise.
    assert line.endswith("; flags gave architecture, hidden_units (flags override each)")
    _, line = resolve_recipe(train.config_from_args(*train.parse_args([])), mnist_like())
    assert "flags gave" not in line
