import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_vae.callbacks import ImageLogger
from keras_vae.app.reporting import paired_difference
from keras_vae.app.commands import evaluate, train
from tests.helpers import MNIST_DIR, binary_images, small_vae

REPORT_FIGURES = ["reconstructions.png", "samples.png", "latent_space.png",
                  "interpolations.png", "kl_per_dim.png"]


@pytest.fixture
def run_dir(digits_run):
    return digits_run


def test_training_ends_with_the_evaluation_and_a_report(run_dir):
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    for key in ("elbo", "log_likelihood", "active_units", "kl_per_dim", "split", "k",
                "num_images", "amortization_gap", "train", "validation"):
        assert key in metrics, key
    assert metrics["k"] == 20 and metrics["num_images"] == 180
    np.testing.assert_allclose(sum(metrics["kl_per_dim"]), metrics["kl_loss"], rtol=1e-5)
    files = set(os.listdir(run_dir))
    assert set(REPORT_FIGURES + ["latent_manifold.png", "training_curves.png",
                                 "report.html"]) <= files
    report = open(os.path.join(run_dir, "report.html")).read()
    assert "log_likelihood" in report and "latent_manifold.png" in report
    assert "Configuration" in report and "latent_dim" in report


def test_tensorboard_gets_image_grids(run_dir):
    event_dir = os.path.join(run_dir, "logs", "images")
    tags = set()
    for name in os.listdir(event_dir):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(event_dir, name)):
            tags |= {value.tag for value in event.summary.value}
    assert {"originals_then_reconstructions", "prior_samples_decoder_means"} <= tags


def test_image_logger_rejects_a_bad_period(tmp_path):
    with pytest.raises(ValueError, match="every_n_epochs"):
        ImageLogger(str(tmp_path), binary_images(4), every_n_epochs=0)


def test_evaluate_script_on_a_run_directory(run_dir, tmp_path):
    out = evaluate.main([run_dir, "--split", "test", "--k", "50", "--amortization-images", "0",
                         "--output-dir", str(tmp_path / "eval"), "--verbose", "0"])
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["split"] == "test" and metrics["k"] == 50
    assert "no test split here" in metrics["split_source"]
    assert "amortization_gap" not in metrics
    assert set(REPORT_FIGURES + ["training_curves.png"]) <= set(os.listdir(out))


def test_evaluate_script_on_a_keras_file_with_real_mnist(tmp_path):
    model = small_vae(shape=(28, 28, 1), latent_dim=4)
    path = str(tmp_path / "mnist.keras")
    model.save(path)
    out = evaluate.main([path, "--dataset", "mnist", "--data-dir", MNIST_DIR, "--split", "test",
                         "--k", "10", "--max-images", "60", "--amortization-images", "0",
                         "--verbose", "0"])
    assert out == os.path.join(str(tmp_path), "evaluation-test-k10")
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["num_images"] == 60 and metrics["dataset"] == "mnist"
    assert "held out" in metrics["split_source"] and "binarized" in metrics["split_source"]


def test_evaluate_script_rejects_bad_arguments(run_dir):
    with pytest.raises(SystemExit):
        evaluate.main([run_dir, "--split", "dev"])
    with pytest.raises(ValueError, match="`k` must be an int >= 1"):
        evaluate.main([run_dir, "--k", "0", "--verbose", "0"])


def test_report_formats_nested_metrics():
    from keras_vae.app import report

    assert report._format({"loss": 104.0123, "kl_loss": 0.001}) == "loss 104.01, kl_loss 0.001"
    assert report._format([0.12345, 2]) == "[0.123, 2]"


def test_rescoring_a_run_uses_the_images_and_noise_of_its_metrics(tmp_path):
    """A run trained with seed 3 binarized its validation images with its split seed; the
    evaluation script takes the run's seeds, so it re-scores the very images with the same
    noise: the same figures, image by image (the per-image estimates runs are paired by)."""
    run_dir = train.main(["--epochs", "1", "--seed", "3", "--eval-k", "7",
                          "--amortization-images", "0", "--output-dir",
                          str(tmp_path / "run"), "--verbose", "0"])
    recorded = json.load(open(os.path.join(run_dir, "metrics.json")))
    output_dir = evaluate.main([run_dir, "--split", "validation", "--k", "7",
                                "--amortization-images", "0", "--verbose", "0"])
    rescored = json.load(open(os.path.join(output_dir, "metrics.json")))
    assert rescored["log_likelihood"] == pytest.approx(recorded["log_likelihood"], rel=1e-6)
    assert rescored["elbo"] == pytest.approx(recorded["elbo"], rel=1e-6)
    per_image = np.load(os.path.join(run_dir, rescored["log_likelihoods_file"]))
    assert per_image.shape == (recorded["num_images"],)
    np.testing.assert_allclose(np.load(os.path.join(output_dir, "log_likelihoods.npy")),
                               per_image, rtol=1e-6)
    # Paired against a model that gives every image 1 nat more (a shifted copy of the file).
    other = tmp_path / "other"
    other.mkdir()
    np.save(other / "log_likelihoods.npy", per_image + 1.0)
    assert paired_difference(str(other), run_dir) == pytest.approx((1.0, 0.0), abs=1e-9)
    np.save(other / "log_likelihoods.npy", per_image[:-1])
    with pytest.raises(ValueError, match="must hold estimates of the same images"):
        paired_difference(str(other), run_dir)
    with pytest.raises(ValueError, match=r"`dir_b` must be a run or evaluation directory "
                                         r"holding log_likelihoods.npy"):
        paired_difference(run_dir, str(tmp_path))
