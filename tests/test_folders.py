"""A user's own images (issue 22): folders of image files and .npy / .npz arrays, from
Python and from the command line, and every refusal of bad input as one line naming the
file. Each test makes its own small folder; none reads the shared CIFAR-10 folder."""

import json
import os

import numpy as np
import pytest
from PIL import Image

import keras_vae
from keras_vae import data
from keras_vae.app.commands import evaluate, train
from tests.helpers import refused

QUICK = ["--epochs", "1", "--eval-k", "2", "--amortization-images", "0", "--verbose", "0",
         "--batch-size", "8"]
QUIET = {"log": lambda line: None}


def write_images(folder, pixels, extension="png"):
    """Writes each uint8 array of `pixels` as an image file `000.<extension>`, ...;
    returns the paths."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, image in enumerate(pixels):
        path = os.path.join(folder, f"{i:03d}.{extension}")
        Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(path)
        paths.append(path)
    return paths


def colour_pixels(n, shape=(8, 6, 3), seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


@pytest.fixture
def classes(tmp_path):
    """A folder of two classes, 7 and 5 PNG images 8x6 RGB, and their pixels by class."""
    pixels = {"cat": colour_pixels(7, seed=1), "dog": colour_pixels(5, seed=2)}
    for name, images in pixels.items():
        write_images(tmp_path / "images" / name, images)
    return str(tmp_path / "images"), pixels


# ------------------------------------------------------------------ reading a folder

def test_a_folder_of_class_subfolders_reads_its_pixels_and_labels(classes):
    folder, pixels = classes
    files = data.scan_folder(folder, **QUIET)
    assert files.class_names == ["cat", "dog"] and files.image_shape == (8, 6, 3)
    np.testing.assert_array_equal(files.labels, [0] * 7 + [1] * 5)
    expected = np.concatenate([pixels["cat"], pixels["dog"]]) / np.float32(255)
    np.testing.assert_array_equal(files.load(), expected.astype(np.float32))


def test_held_out_split_is_seeded_and_keeps_labels_with_their_images(classes):
    folder, pixels = classes
    everything = np.concatenate([pixels["cat"], pixels["dog"]]) / np.float32(255)
    labels = np.array([0] * 7 + [1] * 5)
    splits = data.load(None, folder, validation_fraction=0.25, seed=3, **QUIET)
    assert splits.name == "folder" and "3 of the 12" in splits.validation
    order = np.random.default_rng(3).permutation(12)
    np.testing.assert_array_equal(splits.x_val, everything[order[:3]])
    np.testing.assert_array_equal(splits.y_val, labels[order[:3]])
    np.testing.assert_array_equal(splits.x_train, everything[order[3:]])
    np.testing.assert_array_equal(splits.y_train, labels[order[3:]])


def test_streamed_folder_gives_the_batches_of_the_folder_in_memory(classes):
    folder, _ = classes
    streamed = data.load(None, folder, 0.25, 0, image_storage="stream", **QUIET)
    held = data.load(None, folder, 0.25, 0, image_storage="memory", **QUIET)
    assert isinstance(streamed.x_train, data.ImageFiles) and isinstance(held.x_train,
                                                                        np.ndarray)
    for binarize in (False, True):
        a = data.make_dataset(streamed.x_train, 4, labels=streamed.y_train, seed=5,
                              binarize_images=binarize, first_epoch=2)
        b = data.make_dataset(held.x_train, 4, labels=held.y_train, seed=5,
                              binarize_images=binarize, first_epoch=2)
        for (xa, ya), (xb, yb) in zip(a, b, strict=True):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)


def test_image_size_and_color_mode_convert_every_file(tmp_path):
    folder = tmp_path / "mixed"
    write_images(folder, colour_pixels(3, (10, 12, 3)))
    Image.fromarray(colour_pixels(1, (5, 5, 1))[0, ..., 0]).save(folder / "grey.png")
    files = data.scan_folder(str(folder), color_mode="grayscale", image_size=(4, 6), **QUIET)
    images = files.load()
    assert images.shape == (4, 4, 6, 1)
    # Resizing keeps the 256 levels (rounded), the discrete likelihoods' grid.
    np.testing.assert_array_equal(np.round(images * 255), images * 255)
    rgb = data.scan_folder(str(folder), color_mode="rgb", image_size=(10, 12), **QUIET).load()
    grey = np.asarray(Image.open(folder / "grey.png").resize((12, 10), Image.BILINEAR))
    assert rgb.shape == (4, 10, 12, 3)
    np.testing.assert_array_equal(rgb[3, ..., 0], rgb[3, ..., 2])  # grey repeated
    assert np.abs(rgb[3, ..., 0] * 255 - grey).mean() < 20  # a resize, not garbage


def test_arrays_npz_with_labels_and_npy_of_floats(tmp_path):
    pixels = colour_pixels(10, (5, 5, 3))
    np.savez(tmp_path / "set.npz", images=pixels, classes=np.arange(10) % 3)
    x, y = data.read_arrays(str(tmp_path / "set.npz"), "images", "classes")
    np.testing.assert_array_equal(x, pixels / np.float32(255))
    np.testing.assert_array_equal(y, np.arange(10) % 3)
    np.save(tmp_path / "grey.npy", np.linspace(0, 1, 10 * 16).reshape(10, 4, 4))
    x, y = data.read_arrays(str(tmp_path / "grey.npy"))
    assert x.shape == (10, 4, 4, 1) and y is None


def test_sibling_val_folder_and_validation_dir_are_the_validation_images(tmp_path):
    write_images(tmp_path / "set" / "train", colour_pixels(6, seed=1))
    write_images(tmp_path / "set" / "val", colour_pixels(4, seed=2))
    splits = data.load(None, str(tmp_path / "set" / "train"), **QUIET)
    assert len(splits.x_train) == 6 and len(splits.x_val) == 4
    assert os.path.join("set", "val") in splits.validation
    write_images(tmp_path / "other", colour_pixels(3, seed=3))
    splits = data.load(None, str(tmp_path / "set" / "train"), validation_dir=str(
        tmp_path / "other"), **QUIET)
    np.testing.assert_array_equal(splits.x_val, colour_pixels(3, seed=3) / np.float32(255))


# ------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("make, pattern", [
    (lambda p: None, "does not exist"),
    (lambda p: os.makedirs(p), "holds nothing"),
    (lambda p: (os.makedirs(p), open(os.path.join(p, "notes.txt"), "w").close()),
     r"no image files among \['notes.txt'\]"),
])
def test_missing_empty_and_imageless_folders_are_refused(tmp_path, make, pattern):
    path = str(tmp_path / "folder")
    make(path)
    with pytest.raises(ValueError, match=pattern):
        data.scan_folder(path, **QUIET)


def test_a_corrupt_file_is_named_and_skip_bad_images_counts_it(tmp_path, capsys):
    folder = tmp_path / "images"
    write_images(folder, colour_pixels(4))
    good = (folder / "001.png").read_bytes()
    (folder / "002.png").write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(ValueError, match=r"1 image file\(s\) that could not be decoded.*002"):
        data.scan_folder(str(folder), **QUIET)
    lines = []
    files = data.scan_folder(str(folder), skip_bad_images=True, log=lines.append)
    assert len(files) == 3 and "002.png" not in " ".join(files.files)
    assert any("Skipped 1 image file(s)" in line and "002.png" in line for line in lines)


def test_several_sizes_and_mixed_channels_are_refused_naming_what_to_pass(tmp_path):
    folder = tmp_path / "sizes"
    write_images(folder, colour_pixels(2, (8, 8, 3)))
    Image.fromarray(colour_pixels(1, (9, 8, 3))[0]).save(folder / "tall.png")
    with pytest.raises(ValueError, match=r"several sizes \(2 of \(8, 8, 3\), 1 of \(9, 8, "
                                         r"3\)\).*--image-size"):
        data.scan_folder(str(folder), **QUIET)
    folder = tmp_path / "channels"
    write_images(folder, colour_pixels(2, (8, 8, 3)))
    Image.fromarray(colour_pixels(1, (8, 8, 1))[0, ..., 0]).save(folder / "grey.png")
    with pytest.raises(ValueError, match=r"different channel counts.*grey.png.*--color-mode"):
        data.scan_folder(str(folder), **QUIET)


def test_class_folders_beside_loose_images_and_an_empty_class_are_refused(tmp_path):
    write_images(tmp_path / "a" / "cat", colour_pixels(2))
    write_images(tmp_path / "a", colour_pixels(1))
    with pytest.raises(ValueError, match="not both"):
        data.scan_folder(str(tmp_path / "a"), **QUIET)
    write_images(tmp_path / "b" / "cat", colour_pixels(2))
    os.makedirs(tmp_path / "b" / "dog")
    with pytest.raises(ValueError, match=r"subfolder\(s\) \['dog'\] hold no image"):
        data.scan_folder(str(tmp_path / "b"), **QUIET)


@pytest.mark.parametrize("array, key, pattern", [
    (np.full((3, 4, 4), np.nan, np.float32), None, "NaN or inf"),
    (np.full((3, 4, 4), 1.5, np.float32), None, r"floats in \[0, 1\].*\[1.5, 1.5\]"),
    (np.zeros((3, 4, 4), np.int32), None, "dtype int32"),
    (np.zeros((3, 4), np.uint8), None, "shape"),
    (np.zeros((3, 4, 4), np.uint8), "pictures", r"array_key.*holds \['x'\].*pictures"),
])
def test_bad_arrays_are_refused_naming_the_file(tmp_path, array, key, pattern):
    path = str(tmp_path / "set.npz")
    np.savez(path, x=array)
    with pytest.raises(ValueError, match=pattern) as error:
        data.read_arrays(path, key)
    assert "set.npz" in str(error.value)


# ----------------------------------------------------------------- the command line

def test_a_folder_run_never_trains_on_the_digits_and_evaluate_scores_a_folder_kept_apart(
        classes, tmp_path, capsys):
    folder, _ = classes
    run_dir = train.main(["--data-dir", folder, "--architecture", "resnet", "--hidden-units",
                          "4", "8", "--blocks", "1", "--likelihood", "logistic_mixture",
                          "--latent-dim", "4", "--validation-fraction", "0.25",
                          "--output-dir", str(tmp_path / "run"), *QUICK])
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["dataset"] == "folder" and config["data_dir"] == folder
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["num_train_images"] == 9 and metrics["num_validation_images"] == 3
    assert metrics["validation"]["bits_per_dim"] == pytest.approx(
        -metrics["validation"]["elbo"] / (8 * 6 * 3 * np.log(2)), rel=1e-5)
    # Not a sibling named test/: that would become the run's validation folder when its data
    # are read again.
    test_folder = tmp_path / "kept" / "apart"
    write_images(test_folder, colour_pixels(5, (16, 12, 3), seed=9), extension="jpg")
    # The run resized nothing, so images of another size are refused, naming the shape; a
    # bare .keras file resizes to the model's input.
    capsys.readouterr()
    with pytest.raises(ValueError, match=r"model's input shape \(8, 6, 3\)"):
        evaluate.main([run_dir, "--data-dir", str(test_folder), "--verbose", "0"])
    line = refused(evaluate.main, [run_dir, "--data-dir", str(test_folder), "--split", "test"],
                   capsys)
    assert "`split` does not apply" in line
    model = keras_vae.app.runs.load_run(run_dir)[0]
    model_path = os.path.join(run_dir, "model.keras")
    out, metrics = keras_vae.app.reporting.evaluate_path(
        model_path, data_dir=str(test_folder), k=3, amortization_images=0, verbose=0,
        output_dir=str(tmp_path / "eval"))
    assert metrics["num_images"] == 5 and "every one of the 5 images" in metrics["split_source"]
    assert metrics["log_likelihood_bits_per_dim"] == pytest.approx(
        -metrics["log_likelihood"] / (8 * 6 * 3 * np.log(2)), rel=1e-6)
    assert model.data_shape == (8, 6, 3)
    # The run's own folder, through a link, is its data, not a set kept apart: its held-out
    # images are scored, as without --data-dir.
    (tmp_path / "link").symlink_to(folder)
    scored = [keras_vae.app.reporting.evaluate_path(
        run_dir, data_dir=data_dir, k=2, amortization_images=0, verbose=0,
        output_dir=str(tmp_path / f"own-{index}"))[1]
        for index, data_dir in enumerate([None, str(tmp_path / "link")])]
    assert scored[0]["num_images"] == scored[1]["num_images"] == 3  # 25% of the 12 images
    assert scored[0]["split_source"] == scored[1]["split_source"]


@pytest.mark.parametrize("argv, pattern", [
    (["--data-dir", "no/such/folder"], r"data_dir.*'no/such/folder', which does not exist"),
    (["--dataset", "mnist", "--data-dir", "{folder}"], r"contradicts `data_dir`.*folder data, "
                                                        r"not mnist"),
    (["--dataset", "digits", "--data-dir", "{folder}"], "does not apply to the digits dataset"),
    (["--data-dir", "{folder}", "--array-key", "x"], "`array_key` applies to data read from "
                                                     "arrays only"),
    (["--image-size", "4", "4"], "`image_size` applies to data read from folder only"),
    (["--blocks", "2"], "`blocks` applies to the resnet architecture only"),
])
def test_train_refuses_data_flags_that_contradict_the_path(classes, argv, pattern, capsys,
                                                           tmp_path):
    folder, _ = classes
    argv = [a.replace("{folder}", folder) for a in argv]
    line = refused(train.main, [*argv, "--output-dir", str(tmp_path / "run"), *QUICK], capsys)
    assert __import__("re").search(pattern, line), line
    assert not (tmp_path / "run").exists()


def test_a_streamed_folder_with_binarized_training_is_refused_naming_the_way_out(
        classes, capsys, tmp_path):
    folder, _ = classes
    line = refused(train.main, ["--data-dir", folder, "--image-storage", "stream",
                                "--likelihood", "bernoulli", "--output-dir",
                                str(tmp_path / "run"), *QUICK], capsys)
    assert "`image_storage` must keep binarized training images in memory" in line
    assert "--no-binarize" in line


def test_train_on_an_npz_file_with_labels_trains_the_conditional_vae(tmp_path):
    pixels = colour_pixels(12, (4, 4, 1))
    np.savez(tmp_path / "set.npz", x=pixels, y=np.arange(12) % 2)
    run_dir = train.main(["--model", "cvae", "--data-dir", str(tmp_path / "set.npz"),
                          "--hidden-units", "8", "--latent-dim", "2", "--likelihood",
                          "discretized_logistic", "--output-dir", str(tmp_path / "run"),
                          "--epochs", "1", "--eval-k", "2", "--verbose", "0", "--batch-size",
                          "8"])
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["dataset"] == "arrays"
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["num_train_images"] + metrics["num_validation_images"] == 12
