"""Each hostile input observed to give a traceback or a silent answer (issue 11) now gets one
line that names the problem: `<script>: error: ...`, exit status 2."""

import gzip
import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae.data.idx import idx_header
from keras_vae.app import cli
from keras_vae.app.commands import evaluate, train
from tests.helpers import MNIST_DIR, REPO, binary_images, refused, small_vae

QUICK = ["--epochs", "1", "--eval-k", "2", "--amortization-images", "0", "--verbose", "0"]


def test_a_refused_flag_is_one_line_without_tensorflow_noise(tmp_path):
    """In a fresh process: exit status 2, one stderr line, no TensorFlow start-up lines, and
    the refused setting caught before config.json is written."""
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "scripts", "train.py"), "--hidden-units", "0",
         "--output-dir", str(run_dir)], capture_output=True, text=True, cwd=REPO, timeout=300,
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "train.py: error: Argument `hidden_units` must be an int >= 1 in each entry (of [0]). "
        "Received: hidden_units=0"]
    assert not run_dir.exists()


def test_verbose_two_shows_the_traceback(capsys):
    with pytest.raises(ValueError, match="hidden_units"):
        cli.run(train.main, ["--hidden-units", "0", "--verbose", "2"])


def test_invalid_json_config_names_the_file(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text('{"epochs": 2,,}')
    line = refused(train.main, ["--config", str(path)], capsys)
    assert str(path) in line and "not valid JSON" in line and "line 1" in line


def test_max_images_zero_and_negative_amortization_images_are_refused(digits_run, capsys):
    run_dir = digits_run
    line = refused(evaluate.main, [run_dir, "--max-images", "0"], capsys)
    assert "Argument `max_images` must be an int >= 1" in line
    line = refused(evaluate.main, [run_dir, "--amortization-images", "-1"], capsys)
    assert "Argument `amortization_images` must be an int >= 0" in line


@pytest.mark.parametrize("damage", ["truncated", "random", "corrupted"])
def test_a_damaged_model_file_is_named(tmp_path, capsys, damage):
    model = small_vae()
    path = tmp_path / "model.keras"
    model.save(path)
    content = bytearray(path.read_bytes())
    if damage == "truncated":
        content = content[: len(content) // 2]
    elif damage == "random":
        content = bytearray(np.random.default_rng(0).bytes(len(content)))
    else:  # flip bytes inside the first member's data: the zip's CRC check fails
        for i in range(200, 260):
            content[i] ^= 0xFF
    path.write_bytes(bytes(content))
    line = refused(evaluate.main, [str(path), "--k", "2"], capsys)
    assert str(path) in line and ("not one" in line or "corrupt" in line)


def copy_mnist(tmp_path, images=None, labels=None):
    directory = tmp_path / "mnist"
    directory.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join(MNIST_DIR, name), directory / name)
    if images is not None:
        (directory / "train-images-idx3-ubyte.gz").write_bytes(images)
    if labels is not None:
        (directory / "train-labels-idx1-ubyte.gz").write_bytes(labels)
    return directory


def test_a_truncated_gzip_idx_file_is_named(tmp_path, capsys):
    whole = open(os.path.join(MNIST_DIR, "train-images-idx3-ubyte.gz"), "rb").read()
    directory = copy_mnist(tmp_path, images=whole[: len(whole) // 3])
    line = refused(train.main, ["--dataset", "mnist", "--data-dir", str(directory)] + QUICK,
                   capsys)
    assert "train-images-idx3-ubyte.gz" in line and "truncated" in line


def test_a_labels_file_shorter_than_its_images_is_named(tmp_path, capsys):
    labels = gzip.compress(idx_header((100,)) + bytes(100))
    directory = copy_mnist(tmp_path, labels=labels)
    line = refused(train.main, ["--dataset", "mnist", "--data-dir", str(directory)] + QUICK,
                   capsys)
    assert "train-labels-idx1-ubyte.gz" in line and "one label per image" in line
    assert "(100,)" in line and "24345 images" in line


def test_rerunning_a_corrected_command_after_a_refusal_works(tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    refused(train.main, QUICK + ["--hidden-units", "0", "--output-dir", run_dir], capsys)
    assert train.main(QUICK + ["--hidden-units", "8", "--output-dir", run_dir]) == run_dir


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    model = small_vae()
    model.fit(binary_images(40), epochs=1, batch_size=20, verbose=0)
    path = str(tmp_path_factory.mktemp("export") / "vae")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras_vae.export_saved_model(model, path)
    return model, tf.saved_model.load(path)


@pytest.mark.parametrize("signature", ["serving_default", "encode", "elbo"])
@pytest.mark.parametrize("bad", ["nan", "0-255"])
def test_the_saved_model_refuses_what_predict_refuses(export, signature, bad):
    model, loaded = export
    x = binary_images(3)
    x = np.where(x > 0.5, np.nan, x) if bad == "nan" else x * 255 + 0.5
    x = x.astype("float32")
    with pytest.raises(ValueError) as python_error:
        model.predict(x, verbose=0)
    inputs = {"images": tf.constant(x)} | ({"seed": tf.constant(0)} if signature == "elbo"
                                            else {})
    with pytest.raises(tf.errors.InvalidArgumentError) as served_error:
        loaded.signatures[signature](**inputs)
    # The same message (the signature's argument is `images`), up to how numbers are printed.
    expected = str(python_error.value).split(" Received:")[0].replace("`x`", "`images`")
    assert expected in served_error.value.message


KERAS_VAE = os.path.join(os.path.dirname(sys.executable), "keras-vae")  # pip's console script


def test_a_quiet_run_prints_nothing_on_stderr_and_exits_with_zero(uninterrupted_run):
    """TensorFlow's start-up lines (CUDA probing, absl's notice, "failed call to cuInit" on a
    machine without a GPU) are not shown by the installed `keras-vae` command, which exits
    with status 0 when the run is complete (the run of conftest.py's `uninterrupted_run`,
    started without TF_CPP_MIN_LOG_LEVEL)."""
    assert (uninterrupted_run.parent / "uninterrupted.status").read_text() == "0"
    assert (uninterrupted_run.parent / "uninterrupted.stderr").read_text() == ""
    assert json.load(open(uninterrupted_run / "status.json")) == {"state": "complete"}


def test_the_command_lists_its_subcommands_and_refuses_an_unknown_one():
    listed = subprocess.run([KERAS_VAE, "--help"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0
    assert all(f"  {name} " in listed.stdout for name in ("train", "evaluate", "export"))
    unknown = subprocess.run([KERAS_VAE, "fit"], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2
    assert "keras-vae: error: argument command: invalid choice: 'fit'" in unknown.stderr
