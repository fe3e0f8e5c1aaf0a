import os

import numpy as np
import pytest
from PIL import Image

from keras_vae import plotting
from tests.helpers import binary_images, small_vae


def _png_size(path):
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_every_figure_is_a_png(tmp_path):
    model = small_vae(latent_dim=2)
    x = binary_images(40)
    z_mean = np.asarray(model.encode(x)[0])
    history = {"loss": [3.0, 2.0], "val_loss": [3.5, 2.5], "reconstruction_loss": [2.0, 1.5],
               "kl_loss": [1.0, 0.5]}
    paths = [
        plotting.save_reconstructions(model, x, str(tmp_path / "r.png"), n=20),
        plotting.save_samples(model, str(tmp_path / "s.png"), n=30),
        plotting.save_latent_manifold(model, str(tmp_path / "m.png"), n=5),
        plotting.save_latent_scatter(z_mean, np.arange(40) % 10, str(tmp_path / "l.png")),
        plotting.save_interpolations(model, x, str(tmp_path / "i.png"), pairs=2, steps=4),
        plotting.save_training_curves(history, str(tmp_path / "t.png")),
        plotting.save_kl_per_dimension([0.5, 0.001], [1.0, 0.0], str(tmp_path / "k.png")),
    ]
    for path in paths:
        width, height = _png_size(path)
        assert width > 100 and height > 100


def test_image_grid_keeps_every_image_in_place():
    images = np.stack([np.full((3, 2, 1), i / 10, "float32") for i in range(7)])
    grid = plotting.tile_images(images, ncols=3)
    assert grid.shape == (3 * 4 - 1, 3 * 3 - 1, 1)
    np.testing.assert_allclose(grid[4:7, 3:5], 0.4)  # image 4: row 1, column 1
    np.testing.assert_allclose(grid[8:11, 6:8], 1.0)  # empty cell stays white


def test_wider_latent_spaces_are_projected_and_manifold_needs_two_dims(tmp_path):
    z = np.random.default_rng(0).normal(size=(50, 5)) * [5, 1, 0.1, 0.1, 0.1]
    projected = plotting._principal_components(z)
    assert projected.shape == (50, 2)
    assert projected[:, 0].var() > 10 * projected[:, 1].var()
    assert os.path.exists(plotting.save_latent_scatter(z, None, str(tmp_path / "pca.png")))
    with pytest.raises(ValueError, match="latent_dim=3"):
        plotting.save_latent_manifold(small_vae(), str(tmp_path / "no.png"))
