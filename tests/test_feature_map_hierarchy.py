"""The hierarchy of latent feature maps (`latent_layout="feature_maps"`): each latent sees its
patch of the image and draws its patch of the output, and the model trains, saves, reloads,
exports and runs from the command line."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae.networks.hierarchy import feature_map_hierarchy
from keras_vae.app.commands import train
from tests.helpers import refused


def _randomized(model, seed=0):
    """`model` with every weight drawn at random: the residual blocks' and heads' zero
    kernels would otherwise hide how far each output reaches."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.3, size=w.shape).astype("float32")
                       for w in model.get_weights()])
    return model


def test_grids_and_shapes_follow_the_backbone_down_to_odd_sizes():
    bottom_up, decoder, top_down = feature_map_hierarchy(
        (20, 18, 3), [2, 3], hidden_units=[4, 8, 8], blocks=1, output_channels=7)
    # 20x18 -> 10x9 -> 5x5 -> 3x3: z_2 on the smallest grid, z_1 on the next.
    assert [tuple(o.shape[1:]) for o in bottom_up.outputs] == [(50,), (50,), (27,), (27,)]
    assert tuple(decoder.inputs[0].shape[1:]) == (50,)
    assert tuple(decoder.outputs[0].shape[1:]) == (20, 18, 7)
    assert len(top_down) == 1 and tuple(top_down[0].inputs[0].shape[1:]) == (27,)
    assert [tuple(o.shape[1:]) for o in top_down[0].outputs] == [(50,)] * 4


def test_each_latent_sees_its_patch_of_the_image_and_draws_its_patch_of_the_output():
    """z_1 on the 32x32 grid of a 64x64 image (one stride-2 convolution, one residual block):
    its position (i, j) sees pixels within 2(i + 2) + 1 of the corner, so the first 8x8
    positions see only the first 21 rows and columns. The decoder's output at rows 32 and
    below does not depend on z_1 at the first 4x4 positions."""
    bottom_up, decoder, top_down = feature_map_hierarchy(
        (64, 64, 1), [2, 2], hidden_units=[4, 8], blocks=1)
    bottom_up, decoder, top_down = (_randomized(bottom_up), _randomized(decoder, 1),
                                    _randomized(top_down[0], 2))
    x = np.random.default_rng(0).random((2, 64, 64, 1)).astype("float32")
    changed = x.copy()
    changed[:, 32:, :] += 1.0
    changed[:, :, 32:] += 1.0
    means = [np.asarray(bottom_up(v)[0]).reshape(2, 32, 32, 2) for v in (x, changed)]
    np.testing.assert_array_equal(means[0][:, :8, :8], means[1][:, :8, :8])
    assert np.abs(means[0] - means[1]).max() > 1e-3

    z1 = np.random.default_rng(1).normal(size=(2, 32, 32, 2)).astype("float32")
    moved = z1.copy()
    moved[:, :4, :4] += 1.0
    images = [np.asarray(decoder(v.reshape(2, -1))) for v in (z1, moved)]
    np.testing.assert_array_equal(images[0][:, 32:], images[1][:, 32:])
    np.testing.assert_array_equal(images[0][:, :, 32:], images[1][:, :, 32:])
    assert np.abs(images[0][:, :8, :8] - images[1][:, :8, :8]).max() > 1e-3

    # p(z_1 | z_2) at z_1's first 4x4 positions reads z_2 near its corner only.
    z2 = np.random.default_rng(2).normal(size=(2, 16, 16, 2)).astype("float32")
    far = z2.copy()
    far[:, 8:, 8:] += 1.0
    priors = [np.asarray(top_down(v.reshape(2, -1))[0]).reshape(2, 32, 32, 2) for v in (z2, far)]
    np.testing.assert_array_equal(priors[0][:, :4, :4], priors[1][:, :4, :4])
    assert np.abs(priors[0] - priors[1]).max() > 1e-3


def feature_map_hvae(seed=1, **kwargs):
    keras.utils.set_random_seed(seed)
    return keras_vae.HierarchicalVAE.from_architecture(
        (12, 12, 3), 2, architecture="resnet", hidden_units=[4, 8], blocks=1,
        likelihood="logistic_mixture", latent_layout="feature_maps", upper_latent_dims=[3],
        seed=seed, **kwargs)


def colour(n, shape=(12, 12, 3), seed=0):
    return (np.random.default_rng(seed).integers(0, 256, (n, *shape)) / 255).astype("float32")


def test_the_feature_map_hierarchy_starts_at_the_standard_prior_trains_saves_and_exports(
        tmp_path):
    model = feature_map_hvae()
    assert model.latent_sizes == (6 * 6 * 2, 3 * 3 * 3)
    z2 = np.random.default_rng(0).normal(scale=3.0, size=(4, 27)).astype("float32")
    (mean, log_var), (q_mean, q_log_var) = model.top_down_params(1, z2)
    for value in (mean, log_var, q_mean, q_log_var):
        np.testing.assert_array_equal(value, np.zeros((4, 72)))
    x = colour(64)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(x, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.std(np.asarray(model.top_down_params(1, z2)[0][0]), axis=0).max() > 1e-4
    path = str(tmp_path / "hvae.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.sample(3, seed=4), model.sample(3, seed=4), atol=1e-5)
    export_dir = str(tmp_path / "export")
    keras_vae.export_saved_model(model, export_dir)
    served = tf.saved_model.load(export_dir)
    sampled = served.signatures["sample"](n=tf.constant(3), seed=tf.constant(4))["images"]
    np.testing.assert_allclose(sampled, model.sample(3, seed=4), atol=1e-5)


def test_feature_maps_train_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = feature_map_hvae()
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        history = model.fit(colour(32), epochs=2, batch_size=16, verbose=0)
        samples = np.asarray(model.sample(3, seed=0))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert samples.shape == (3, 12, 12, 3) and np.isfinite(samples).all()


@pytest.mark.parametrize("kwargs, pattern", [
    ({"architecture": "mlp"}, r"latent_layout`='feature_maps' needs architecture='resnet'.*"
                              r"Received: architecture='mlp'"),
    ({"upper_hidden_units": [16]}, r"`upper_hidden_units` applies to latent_layout='vector' "
                                   r"only.*Received: upper_hidden_units=\[16\]"),
    ({"upper_latent_dims": [3, 3]}, r"`channels` must list the channels of 2 to 2 latent "
                                    r"layers.*Received: channels=\(2, 3, 3\)"),
    ({"latent_layout": "grid"}, r"`latent_layout` must be one of \['vector', 'feature_maps'\]"
                                r".*Received: latent_layout='grid'"),
])
def test_bad_feature_map_settings_are_refused_naming_them(kwargs, pattern):
    arguments = {"architecture": "resnet", "latent_layout": "feature_maps", **kwargs}
    with pytest.raises(ValueError, match=pattern):
        keras_vae.HierarchicalVAE.from_architecture(
            (12, 12, 3), 2, hidden_units=[4, 8], likelihood="logistic_mixture",
            upper_latent_dims=arguments.pop("upper_latent_dims", [3]), **arguments)


def test_the_script_trains_a_feature_map_hierarchy_and_refuses_what_does_not_apply(
        tmp_path, capsys):
    path = str(tmp_path / "pictures.npy")
    np.save(path, (colour(24) * 255).astype("uint8"))
    argv = ["--model", "hvae", "--data-dir", path, "--architecture", "resnet",
            "--hidden-units", "4", "8", "--blocks", "1", "--likelihood", "logistic_mixture",
            "--latent-layout", "feature_maps", "--latent-dim", "2", "--upper-latent-dims", "3",
            "--epochs", "1", "--eval-k", "2", "--amortization-images", "0", "--batch-size", "8",
            "--verbose", "0"]
    run_dir = train.main([*argv, "--output-dir", str(tmp_path / "run")])
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["latent_sizes"] == [72, 27] and len(metrics["kl_per_layer"]) == 2
    assert np.isfinite(metrics["log_likelihood"])
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["model_settings"]["latent_layout"] == "feature_maps"
    model = keras_vae.app.runs.load_run(run_dir)[0]
    assert model.latent_sizes == (72, 27)
    assert os.path.exists(os.path.join(run_dir, "layer_samples_z2.png"))
    line = refused(train.main, [*argv, "--upper-hidden-units", "16", "--output-dir",
                                str(tmp_path / "refused")], capsys)
    assert "`upper_hidden_units` applies to latent_layout='vector' only" in line
    assert not os.path.exists(tmp_path / "refused")
