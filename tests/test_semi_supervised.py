"""The semi-supervised VAE (M2): its loss against the sum over classes written out in numpy,
the labelled share of its batches, its refusals, and saving, reloading, exporting, serving."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae.data import make_dataset
from keras_vae.distributions.posteriors import bounded_log_variance
from tests.helpers import refused

CLASSES = 3


def tiny_model(alpha=2.0, seed=0):
    keras.utils.set_random_seed(seed)
    return keras_vae.SemiSupervisedVAE.from_architecture(
        (4, 4, 1), latent_dim=2, num_classes=CLASSES, hidden_units=[8], alpha=alpha, seed=seed)


def binary_images(n, seed=0):
    return (np.random.default_rng(seed).random((n, 4, 4, 1)) > 0.5).astype("float32")


def log_softmax(logits):
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def test_the_loss_is_the_sum_over_classes_written_out_in_numpy():
    """A decoder blind to z makes the reconstruction exact; the KL is the Gaussian's closed
    form; q(y|x), p(y) = 1/3 and alpha's term combine as Kingma et al.'s eq. 7-9, in numpy."""
    model = tiny_model(alpha=2.0)
    first_dense = next(layer for layer in model.decoder.get_layer(index=-1).layers
                       if isinstance(layer, keras.layers.Dense))
    kernel = first_dense.kernel.numpy()
    kernel[: model.latent_dim] = 0.0  # the rows that z feeds
    first_dense.kernel.assign(kernel)
    x = binary_images(5)
    labels = np.array([-1, 2, -1, 0, 1])
    terms = model.loss_terms({"images": x, "labels": labels}, seed=1)

    log_q = log_softmax(np.asarray(model.classifier(x)))
    loss_by_class = np.zeros((5, CLASSES))
    for c in range(CLASSES):
        onehot = np.eye(CLASSES, dtype="float32")[[c] * 5]
        mean, raw_log_var = model.encoder([x, onehot])
        mean, log_var = np.asarray(mean), np.asarray(bounded_log_variance(raw_log_var))
        kl = 0.5 * np.sum(mean ** 2 + np.exp(log_var) - 1.0 - log_var, axis=-1)
        logits = np.asarray(model.decoder([np.zeros((5, 2), "float32"), onehot])).reshape(5, -1)
        flat = x.reshape(5, -1)
        log_px = np.sum(flat * logits - np.logaddexp(0.0, logits), axis=-1)
        loss_by_class[:, c] = -log_px + kl + np.log(CLASSES)  # -(ELBO + log p(y))
    q = np.exp(log_q)
    unlabelled = (q * loss_by_class).sum(-1) + (q * log_q).sum(-1)
    labelled = loss_by_class[np.arange(5), np.maximum(labels, 0)] - 2.0 * log_q[
        np.arange(5), np.maximum(labels, 0)]
    expected = np.where(labels >= 0, labelled, unlabelled)
    np.testing.assert_allclose(np.asarray(terms["loss"]), expected, rtol=1e-5, atol=1e-4)
    # The bound on log p(x) of every image, labels unused: -U(x).
    np.testing.assert_allclose(np.asarray(terms["elbo"]), -unlabelled, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(np.asarray(terms["classification_loss"])[labels >= 0],
                               -log_q[np.arange(5), np.maximum(labels, 0)][labels >= 0],
                               rtol=1e-5)


def test_batches_hold_the_labelled_share_and_cycle_through_the_labels():
    labels = np.full(100, -1)
    labels[[3, 17, 29, 41, 55, 68, 90]] = np.arange(7) % 3
    images = np.random.default_rng(0).random((100, 2, 2, 1)).astype("float32")
    images[:, 0, 0, 0] = np.arange(100) / 100  # each image's index, readable back
    dataset = make_dataset(images, 10, labels=labels, labelled_share=0.2, seed=3)
    batches = list(dataset)
    assert len(batches) == int(dataset.cardinality()) == -(-93 // 8)
    seen = np.concatenate([np.round(b[0][:, 0, 0, 0].numpy() * 100).astype(int) for b in batches])
    batch_labels = [b[1].numpy() for b in batches]
    assert all((lab[:2] >= 0).all() and (lab[2:] == -1).all() for lab in batch_labels)
    unlabelled_seen = seen[np.concatenate([lab == -1 for lab in batch_labels])]
    assert sorted(unlabelled_seen) == sorted(np.flatnonzero(labels == -1))  # once each
    labelled_seen = seen[np.concatenate([lab >= 0 for lab in batch_labels])]
    # 24 draws of 7 labelled images: every cycle of 7 draws is a permutation.
    for start in range(0, 21, 7):
        assert sorted(labelled_seen[start:start + 7]) == [3, 17, 29, 41, 55, 68, 90]
    np.testing.assert_array_equal(np.concatenate(batch_labels)[np.concatenate(
        [lab >= 0 for lab in batch_labels])], labels[labelled_seen])
    with pytest.raises(ValueError, match="`batch_size` must be at least 2 with `labelled_share`"):
        make_dataset(images, 1, labels=labels, labelled_share=0.2)
    # Another epoch, another order.
    assert not np.array_equal(seen, np.concatenate(
        [np.round(b[0][:, 0, 0, 0].numpy() * 100).astype(int) for b in dataset]))


def test_fit_learns_a_classifier_from_a_few_labels():
    """Three classes of 4x4 images (a bright row in a different place each): two labels per
    class among 300 images."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, CLASSES, 300)
    x = (rng.random((300, 4, 4, 1)) < 0.1).astype("float32")
    x[np.arange(300), y, :, 0] = 1.0
    partial = np.full(300, -1)
    for c in range(CLASSES):
        partial[np.flatnonzero(y == c)[:2]] = c
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x, partial, epochs=15, batch_size=30, verbose=0)
    accuracy = model.evaluation_metrics(x, y)["accuracy"]
    assert accuracy > 0.9
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] == pytest.approx(
        accuracy, abs=1e-6)


def test_bad_labels_are_refused_naming_what_is_wrong():
    model = tiny_model()
    model.compile()
    x = binary_images(6)
    with pytest.raises(ValueError, match=r"labels must lie in \[-1, 3\).*e\.g\. 3"):
        model.fit(x, np.array([0, 1, 2, 3, -1, -1]), verbose=0)
    with pytest.raises(ValueError, match="must label at least one image"):
        model.fit(x, np.full(6, -1), verbose=0)
    with pytest.raises(ValueError, match=r"no label of class\(es\) \[2\]"):
        model.fit(x, np.array([0, 1, -1, -1, -1, -1]), verbose=0)
    with pytest.raises(ValueError, match="`alpha`.*Received: alpha=0"):
        tiny_model(alpha=0)
    with pytest.raises(ValueError, match="`labelled_share` must be below 1"):
        keras_vae.SemiSupervisedVAE.from_architecture((4, 4, 1), 2, num_classes=3,
                                                      labelled_share=1.0)


SERVE = """
import sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
np.save(sys.argv[3], loaded.signatures["classify"](images=tf.constant(x))["probabilities"])
assert "keras_vae" not in sys.modules
"""


def test_saves_reloads_exports_and_serves_classify_without_the_package(tmp_path):
    model = tiny_model()
    model.compile()
    x = binary_images(20)
    partial = np.array([0, 1, 2] + [-1] * 17)
    model.fit(x, partial, epochs=1, batch_size=10, verbose=0)
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(reloaded.classify(x), model.classify(x), atol=1e-6)
    assert (reloaded.alpha, reloaded.labelled_share) == (model.alpha, model.labelled_share)
    keras_vae.export_saved_model(model, str(tmp_path / "export"))
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "serve.py").write_text(SERVE)
    subprocess.run([sys.executable, str(tmp_path / "serve.py"), str(tmp_path / "export"),
                    str(tmp_path / "x.npy"), str(tmp_path / "p.npy")], check=True,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), cwd=tmp_path)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.classify(x), atol=1e-5)
    # Reconstructions take the most probable class where no label is given.
    predicted = model.classify(x).argmax(-1)
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(
        model({"images": x, "labels": tf.constant(predicted)})), atol=1e-6)


def test_the_command_trains_on_a_few_labels_and_writes_accuracy_and_figures(tmp_path, capsys,
                                                                           digits_run):
    """`keras-vae train --model ssvae --labels-per-class N` on the bundled digits (labelled):
    held-out accuracy in history.csv and metrics.json, the confusion matrix and the analogies,
    a model.keras that reloads to the same classifier."""
    import json

    from keras_vae.app.commands import train

    run_dir = train.main(["--model", "ssvae", "--labels-per-class", "5", "--epochs", "2",
                          "--hidden-units", "32", "--latent-dim", "4", "--output-dir",
                          str(tmp_path / "run"), "--verbose", "2"])
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    printed = capsys.readouterr().out
    assert "Labels: 5 per class kept (50 of 1617 training images" in printed
    assert f"accuracy {metrics['accuracy']:.2%} (error {metrics['error']:.2%})" in printed
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["labels_per_class"] == 5 and config["model"] == "ssvae"
    history = open(os.path.join(run_dir, "history.csv")).readline()
    assert "val_accuracy" in history and "val_classification_loss" in history
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    from keras_vae.data import binarize_once, load_digits

    splits = load_digits(0.1, 0)  # held out as the run holds them out, binarized once
    predicted = model.classify(binarize_once(splits.x_val, 1)).argmax(-1)
    assert metrics["accuracy"] == pytest.approx(np.mean(predicted == splits.y_val))
    confusion = np.asarray(metrics["confusion_matrix"])
    assert confusion.sum() == len(splits.y_val) and np.trace(confusion) == (
        predicted == splits.y_val).sum()
    # alpha is a constant, whatever the number of labels (docs/results/semi_supervised.md).
    assert model.alpha == 20.0
    for figure in ("confusion_matrix.png", "analogies.png", "samples_by_label.png"):
        assert os.path.getsize(os.path.join(run_dir, figure)) > 1000
    with pytest.raises(ValueError, match="`labels_per_class` applies to models that learn"):
        train.main(["--model", "vae", "--labels-per-class", "5", "--output-dir",
                    str(tmp_path / "vae")])
    with pytest.raises(ValueError, match="`label_seed` chooses the labels"):
        train.main(["--model", "ssvae", "--label-seed", "3", "--output-dir",
                    str(tmp_path / "seed")])
    with pytest.raises(ValueError, match=r"at most the images of every class"):
        train.main(["--model", "ssvae", "--labels-per-class", "1000", "--output-dir",
                    str(tmp_path / "many")])
    # M1+M2 from the command line: M2 on the latent means of a VAE run (conftest.py's, on the
    # same digits, latent size 2).
    stacked_dir = train.main(["--model", "ssvae", "--stack-on", digits_run, "--labels-per-class",
                              "5", "--epochs", "1", "--output-dir", str(tmp_path / "m1m2"),
                              "--verbose", "0"])
    stacked = keras.models.load_model(os.path.join(stacked_dir, "model.keras"))
    assert stacked.feature_shape == (2,) and stacked.likelihood.kind == "gaussian"
    assert json.load(open(os.path.join(stacked_dir, "metrics.json")))["accuracy"] > 0
    with pytest.raises(ValueError, match="`stack_on` applies to models that learn"):
        train.main(["--model", "vae", "--stack-on", digits_run, "--output-dir",
                    str(tmp_path / "not")])


def test_m1_plus_m2_trains_on_the_latent_means_and_classifies_through_both(tmp_path):
    """M1+M2: the networks see M1's posterior means (M1 frozen, inside the saved model); the
    classifier on images is q(y|z1) at z1 = M1's mean; images decode back through M1."""
    x = binary_images(60)
    m1 = keras_vae.VAE.from_architecture((4, 4, 1), latent_dim=3, hidden_units=[8])
    m1.compile()
    m1.fit(x, epochs=1, batch_size=20, verbose=0)
    model = keras_vae.SemiSupervisedVAE.from_architecture(
        (4, 4, 1), latent_dim=2, num_classes=CLASSES, hidden_units=[8], likelihood="gaussian",
        stacked_on=m1)
    assert (model.data_shape, model.feature_shape) == ((4, 4, 1), (3,))
    before = [w.copy() for w in m1.get_weights()]
    model.compile()
    model.fit(x, np.array([0, 1, 2] + [-1] * 57), epochs=1, batch_size=20, verbose=0)
    for weight, previous in zip(model.stacked_on.get_weights(), before):
        np.testing.assert_array_equal(weight, previous)  # M1 is not trained
    z1 = np.asarray(m1.latent_code(x))
    logits = np.asarray(model.classifier(z1))
    np.testing.assert_allclose(model.classify(x), np.exp(log_softmax(logits)), atol=1e-5)
    assert np.asarray(model(x)).shape == x.shape and np.asarray(model.sample(4)).shape == (
        4, 4, 4, 1)
    model.save(tmp_path / "m1m2.keras")
    reloaded = keras.models.load_model(tmp_path / "m1m2.keras")
    np.testing.assert_allclose(reloaded.classify(x), model.classify(x), atol=1e-6)
    with pytest.raises(ValueError, match="`input_shape` must be the images of `stacked_on`"):
        keras_vae.SemiSupervisedVAE.from_architecture((8, 8, 1), 2, num_classes=3,
                                                      stacked_on=m1)


def test_labelled_class_folders_and_an_unlabelled_folder_train_together(tmp_path):
    from PIL import Image

    from keras_vae.app.commands import train

    rng = np.random.default_rng(0)
    for folder, count in (("labelled/a", 6), ("labelled/b", 6), ("unlabelled", 20)):
        os.makedirs(tmp_path / folder)
        for index in range(count):
            pixels = (rng.random((8, 8)) * 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / folder / f"{index}.png")
    run_dir = train.main(["--model", "ssvae", "--data-dir", str(tmp_path / "labelled"),
                          "--unlabelled-dir", str(tmp_path / "unlabelled"), "--epochs", "1",
                          "--validation-fraction", "0.25", "--hidden-units", "16",
                          "--alpha", "7.5",
                          "--output-dir", str(tmp_path / "run"), "--verbose", "0"])
    import json

    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["num_train_images"] == 9 + 20 and metrics["num_validation_images"] == 3
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    assert model.num_classes == 2 and model.alpha == 7.5
    os.makedirs(tmp_path / "wide")
    Image.fromarray(np.zeros((8, 9), np.uint8)).save(tmp_path / "wide" / "0.png")
    with pytest.raises(ValueError, match="`unlabelled_dir` must hold images of the training"):
        train.main(["--model", "ssvae", "--data-dir", str(tmp_path / "labelled"),
                    "--unlabelled-dir", str(tmp_path / "wide"), "--output-dir",
                    str(tmp_path / "wide-run")])


@pytest.mark.parametrize("model", ["ssvae", "cvae"])
def test_a_model_that_learns_from_labels_refuses_images_without_them(tmp_path, capsys, model):
    from keras_vae.app.commands import train

    images = np.random.default_rng(0).integers(0, 256, (20, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "images.npz", x=images)
    line = refused(train.main, ["--model", model, "--data-dir", str(tmp_path / "images.npz"),
                                "--output-dir", str(tmp_path / "run")], capsys)
    assert "Argument `model` must be a model that needs no labels" in line
    assert "Received: images without labels" in line and "'cvae'" not in line
