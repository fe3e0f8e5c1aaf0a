"""The sprites: each image against its factors measured back from its pixels (area, centre,
axis), the dataset's options, and `keras-vae evaluate --disentanglement` on a sprites run."""

import functools
import json
import math
import os

import numpy as np
import pytest

from keras_vae import data
from keras_vae.evaluation import disentanglement
from keras_vae.data.sprites import MARGIN, RADIUS, SIZE, Sprites

from tests.helpers import refused

SPRITES = Sprites()


def one(shape, scale, orientation, x, y):
    return SPRITES.images(np.array([[shape, scale, orientation, x, y]]))[0, ..., 0]


def moments(image):
    rows, columns = np.nonzero(image)
    return rows + 0.5, columns + 0.5


def test_the_factor_grid_is_dsprites_and_every_image_is_binary_and_inside():
    assert SPRITES.factor_sizes == (3, 6, 40, 32, 32) and SPRITES.num_images == 737280
    assert len(SPRITES.all_factors()) == 737280
    images, factors = SPRITES.sample(500, seed=1)
    assert images.shape == (500, 64, 64, 1) and factors.shape == (500, 5)
    assert set(np.unique(images)) <= {0.0, 1.0}
    assert images.sum(axis=(1, 2, 3)).min() > 10
    border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]])
    assert border.sum() == 0  # no shape is cut by the image's edge
    again, _ = Sprites().sample(500, seed=1)
    np.testing.assert_array_equal(images, again)  # deterministic


def test_the_whole_set_streams_in_dsprites_order():
    batches = SPRITES.dataset(batch_size=100)
    assert int(batches.cardinality()) == 7373  # 737,280 images in batches of 100
    images, factors = next(iter(batches))
    expected = SPRITES.all_factors()[:100]
    # The last factor varies fastest: image 33 is x = 1, y = 1; the last is every factor's last.
    np.testing.assert_array_equal(expected[33], [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(SPRITES.all_factors()[-1], [2, 5, 39, 31, 31])
    np.testing.assert_array_equal(factors.numpy(), expected)
    np.testing.assert_array_equal(images.numpy(), SPRITES.images(expected))


def test_area_centre_and_axis_of_the_drawn_shapes_match_their_factors():
    # Areas: a square of half-side R / sqrt(2) covers 2 R^2, an ellipse of half-axes R and
    # R / 2 covers pi R^2 / 2 (pixels counted by their centres: up to a tenth off, a row of
    # pixels along the edge).
    assert one(0, 5, 0, 16, 16).sum() == pytest.approx(2 * RADIUS ** 2, rel=0.1)
    assert one(1, 5, 0, 16, 16).sum() == pytest.approx(math.pi * RADIUS ** 2 / 2, rel=0.1)
    half = one(1, 0, 0, 16, 16).sum()  # scale 0.5: a quarter of the area
    assert half == pytest.approx(math.pi * (RADIUS / 2) ** 2 / 2, rel=0.12)
    # The centre follows the position factors: MARGIN + (SIZE - 2 MARGIN) * value.
    for x, y in ((0, 0), (31, 5), (12, 31)):
        rows, columns = moments(one(1, 3, 7, x, y))
        span = SIZE - 2 * MARGIN
        assert columns.mean() == pytest.approx(MARGIN + span * x / 31, abs=0.3)
        assert rows.mean() == pytest.approx(MARGIN + span * y / 31, abs=0.3)
    # The ellipse's long axis turns with the orientation factor (mod pi; y points down).
    for index in (0, 5, 13, 27):
        rows, columns = moments(one(1, 5, index, 16, 16))
        covariance = np.cov(np.stack([columns, -rows]))
        axis = np.linalg.eigh(covariance)[1][:, -1]
        angle = math.atan2(axis[1], axis[0]) % math.pi
        expected = (2 * math.pi * index / 39) % math.pi
        difference = abs(angle - expected)
        assert min(difference, math.pi - difference) < 0.05


def test_the_sprites_dataset_and_its_options():
    splits = data.load("sprites", num_images=300, validation_fraction=0.1)
    assert splits.x_train.shape == (270, 64, 64, 1) and splits.y_train is None
    with pytest.raises(ValueError, match="num_images"):
        data.load("sprites", num_images=0)
    with pytest.raises(ValueError, match="num_images.*sprites"):
        data.load("digits", num_images=300)
    with pytest.raises(ValueError, match="data_dir"):
        data.load("sprites", data_dir="/tmp")
    with pytest.raises(ValueError, match="factors"):
        data.ground_truth("digits")
    with pytest.raises(ValueError, match="factors"):
        SPRITES.images(np.array([[3, 0, 0, 0, 0]]))


@pytest.fixture(scope="module")
def sprites_run(tmp_path_factory):
    from keras_vae.app.commands import train

    run_dir = str(tmp_path_factory.mktemp("sprites") / "run")
    train.main(["--dataset", "sprites", "--num-images", "300", "--architecture", "mlp",
                "--hidden-units", "32", "--latent-dim", "3", "--objective", "betatcvae",
                "--beta", "3", "--epochs", "1", "--eval-k", "2", "--output-dir", run_dir,
                "--verbose", "0"])
    return run_dir


def test_a_sprites_run_writes_traversals_and_evaluate_measures_disentanglement(sprites_run,
                                                                                capsys,
                                                                                monkeypatch):
    from keras_vae.app.commands import evaluate

    # DCI with 5 boosting stages, not 100: the command's wiring is the point here (the
    # metric's values are tested in test_disentanglement_metrics.py).
    monkeypatch.setitem(disentanglement.METRICS, "dci",
                        functools.partial(disentanglement.dci, trees=5))

    assert os.path.isfile(os.path.join(sprites_run, "traversals.png"))
    with open(os.path.join(sprites_run, "config.json")) as f:
        config = json.load(f)
    assert config["num_images"] == 300
    assert config["model_settings"]["objective"] == "betatcvae"
    output = evaluate.main([sprites_run, "--disentanglement", "--disentanglement-points", "40",
                            "--k", "2", "--verbose", "0"])
    with open(os.path.join(output, "metrics.json")) as f:
        metrics = json.load(f)
    for name in ("beta_vae_score", "factor_vae_score", "mig", "sap", "dci_disentanglement",
                 "dci_completeness", "dci_informativeness"):
        assert 0.0 <= metrics[f"disentanglement_{name}"] <= 1.0
    # Scored on the run's own held-out sprites (30 of its 300), not a default draw.
    assert metrics["num_images"] == 30
    with open(os.path.join(output, "disentanglement.json")) as f:
        details = json.load(f)
    assert details["points"] == 40 and len(details["details"]["mig"]["mig_per_factor"]) == 5
    with open(os.path.join(output, "report.html")) as f:
        assert "disentanglement_mig" in f.read()


def test_disentanglement_needs_factors_and_its_points_need_it(sprites_run, capsys):
    from keras_vae.app.commands import evaluate

    line = refused(evaluate.main, [sprites_run, "--disentanglement-points", "40"], capsys)
    assert "disentanglement_points" in line
    line = refused(evaluate.main, [sprites_run, "--disentanglement", "--disentanglement-points",
                                   "1"], capsys)
    assert "`disentanglement_points` must be an int >= 2" in line
    with pytest.raises(ValueError, match="known factors"):
        evaluate.main([sprites_run, "--dataset", "digits", "--disentanglement", "--k", "2",
                       "--verbose", "0"])


def test_num_images_is_refused_for_other_datasets(capsys):
    from keras_vae.app.commands import train

    with pytest.raises(ValueError, match="num_images.*sprites"):
        train.main(["--num-images", "100", "--epochs", "1", "--verbose", "0"])
