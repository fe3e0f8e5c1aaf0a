"""The final evaluation: bounded memory whatever the image size, K sized to a time budget,
stages that fail in one line after writing what finished, and bits/dim only for 8-bit
likelihoods."""

import csv
import json
import math
import os
import re

import numpy as np
import pytest

from keras_vae import evaluation
from keras_vae.app import cli
from keras_vae.app.commands import evaluate
from keras_vae.app.reporting import EvaluationStageFailed, evaluate_model
from keras_vae.evaluation.likelihood import VALUES_PER_STEP, affordable_k
from tests.helpers import binary_images, small_vae


def eight_bit_colour(n, side, seed=0):
    return (np.random.default_rng(seed).integers(0, 256, (n, side, side, 3)) / 255.0).astype(
        np.float32)


def spy_on_decoded_values(model, monkeypatch):
    """Records, for every call of `model.log_importance_weights` (eager, or while a compiled
    step is traced: one trace per shape), the data values it decodes: samples x images x
    values per image."""
    seen = []
    original = model.log_importance_weights
    per_image = math.prod(model.data_shape)

    def spy(x, num_samples, *args, **kwargs):
        seen.append(int(num_samples) * int(x.shape[0]) * per_image)
        return original(x, num_samples, *args, **kwargs)

    monkeypatch.setattr(model, "log_importance_weights", spy)
    return seen


def test_the_amortization_gap_decodes_a_bounded_batch_on_colour_images(monkeypatch):
    model = small_vae("logistic_mixture", shape=(8, 8, 3), compile=False)
    seen = spy_on_decoded_values(model, monkeypatch)
    values = 8 * 8 * 3
    # Room for 4 images x 10 samples per refinement step, 4 x 25 per estimate step.
    gap = evaluation.amortization_gap(
        model, eight_bit_colour(30, 8), steps=2, num_samples=10, eval_samples=50,
        gradient_values=4 * 10 * values, values_per_step=4 * 25 * values)
    assert len(gap["per_image_gap"]) == 30 and np.all(np.isfinite(gap["per_image_gap"]))
    assert seen and max(seen) <= 4 * 25 * values
    # Unbounded, one estimate step would have decoded all 50 samples of 30 images at once.
    assert max(seen) < 30 * 50 * values


def test_the_log_likelihood_decodes_a_bounded_batch_whatever_the_image_size(monkeypatch):
    model = small_vae(shape=(64, 64, 3), compile=False)
    seen = spy_on_decoded_values(model, monkeypatch)
    estimate = evaluation.importance_sampled_log_likelihood(
        model, binary_images(20, (64, 64, 3)), k=40, batch_size=20, verbose=0)
    assert np.all(np.isfinite(estimate["log_likelihood"]))
    assert max(seen) <= VALUES_PER_STEP < 20 * 40 * 64 * 64 * 3


def test_k_is_sized_to_the_time_given():
    model = small_vae(compile=False)
    x = binary_images(40)
    assert affordable_k(model, x, seconds=1e-9, most=500) == 1
    assert affordable_k(model, x, seconds=1e9, most=500) == 500
    middle = affordable_k(model, x, seconds=0.5, most=10 ** 6)
    assert 1 < middle < 10 ** 6


def test_a_failing_stage_is_named_and_what_finished_is_written(tmp_path, monkeypatch):
    model = small_vae(compile=False)

    def broken(images, labels=None):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(model, "evaluation_metrics", broken)
    with pytest.raises(EvaluationStageFailed, match=r"stage 'model's own metrics' failed .*"
                       r"out of memory.*log_likelihoods\.npy, metrics\.json"):
        evaluate_model(model, binary_images(30), str(tmp_path), k=3, verbose=0)
    metrics = json.load(open(tmp_path / "metrics.json"))
    written = np.load(tmp_path / "log_likelihoods.npy")
    assert written.shape == (30,) and metrics["log_likelihood"] == pytest.approx(written.mean())


def test_the_command_reports_a_failed_stage_in_one_line(digits_run, tmp_path, monkeypatch,
                                                        capsys):
    def broken(*args, **kwargs):
        raise MemoryError("std::bad_alloc")

    monkeypatch.setattr("keras_vae.app.reporting.save_figures", broken)
    with pytest.raises(SystemExit) as exit_info:
        cli.run(evaluate.main, [digits_run, "--k", "2", "--output-dir", str(tmp_path / "e"),
                                "--verbose", "0"])
    assert exit_info.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "stage 'figures' failed" in lines[0]
    assert os.path.isfile(tmp_path / "e" / "log_likelihoods.npy")


def test_binarized_images_are_scored_in_nats_only(digits_run, tmp_path, capsys):
    metrics = json.load(open(os.path.join(digits_run, "metrics.json")))
    assert metrics["bits_per_dim_reported"] is False
    assert not [key for key in metrics if "bits_per_dim" in key and key != "bits_per_dim_reported"]
    with open(os.path.join(digits_run, "history.csv")) as f:
        assert not [key for key in next(csv.reader(f)) if "bits_per_dim" in key]
    evaluate_model(small_vae(compile=False), binary_images(20), str(tmp_path), k=2)
    out = capsys.readouterr().out
    assert "nats per image" in out and not re.search(r"\d bits/dim", out)


def test_a_time_budget_beside_a_given_k_is_refused(digits_run, capsys):
    from keras_vae.app.commands import train
    from tests.helpers import refused

    line = refused(evaluate.main, [digits_run, "--k", "5", "--time-budget", "60"], capsys)
    assert "`--time-budget` sizes K when `--k` is not given" in line
    line = refused(train.main, ["--eval-k", "5", "--eval-budget", "0.5"], capsys)
    assert "`eval_budget` sizes K when `eval_k` is not given" in line
    line = refused(train.main, ["--model", "autoencoder", "--eval-budget", "0.5"], capsys)
    assert "`eval_budget` does not apply to the autoencoder model" in line
