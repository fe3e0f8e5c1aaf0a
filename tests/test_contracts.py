"""Keras' contracts, each one observed broken once (issue 11): progress counts and batch
callbacks, Model.export after fit, compile(metrics=...), empty input, a repeatable evaluate,
the package's imports, the loss under tf.distribute."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vae import data
from tests.helpers import REPO, binary_images, small_vae


class BatchRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.train, self.test = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.train.append(batch)

    def on_test_batch_end(self, batch, logs=None):
        self.test.append(batch)


def seventeen_batches():
    return data.make_dataset(binary_images(170), 10, seed=0)  # 17 batches of 10


def test_by_default_callbacks_see_every_batch():
    model = small_vae(compile=False)
    model.compile()  # the package's default compile
    recorder = BatchRecorder()
    model.fit(seventeen_batches(), epochs=1, verbose=0, callbacks=[recorder],
              validation_data=data.make_dataset(binary_images(70), 10, shuffle=False))
    assert recorder.train == list(range(17)) and recorder.test == list(range(7))


def test_many_steps_per_execution_report_true_counts():
    model = small_vae(steps_per_execution=32)
    recorder = BatchRecorder()
    progress = keras.callbacks.ProgbarLogger()
    model.fit(seventeen_batches(), epochs=2, verbose=0, callbacks=[recorder, progress],
              validation_data=data.make_dataset(binary_images(70), 10, shuffle=False))
    # One execution per epoch (never more steps than the epoch has), reported as the last
    # batch of the epoch, not as batch 31 of 17.
    assert recorder.train == [16, 16] and recorder.test == [6, 6]
    assert progress.target == 17 and progress.seen == 17
    assert model.steps_per_execution == 17


def test_export_works_straight_after_fit(tmp_path):
    model = small_vae()
    x = binary_images(40)
    model.fit(x, epochs=1, batch_size=20, verbose=0)
    model.export(str(tmp_path / "export"))
    loaded = tf.saved_model.load(str(tmp_path / "export"))
    served = loaded.serve(tf.constant(x))
    np.testing.assert_allclose(np.asarray(served), model.predict(x, verbose=0), atol=1e-6)


def test_compile_metrics_compare_images_with_reconstructions():
    model = small_vae(metrics=["mse", keras.metrics.MeanAbsoluteError(name="mae")])
    x = binary_images(60)
    history = model.fit(x, epochs=1, batch_size=20, verbose=0)
    assert "mse" in history.history and "mae" in history.history
    logs = model.evaluate(x, batch_size=20, verbose=0, return_dict=True)
    reconstructions = model.predict(x, verbose=0)
    np.testing.assert_allclose(logs["mse"], np.mean((x - reconstructions) ** 2), rtol=1e-5)
    np.testing.assert_allclose(logs["mae"], np.mean(np.abs(x - reconstructions)), rtol=1e-5)


@pytest.mark.parametrize("empty", ["array", "dataset", "filtered dataset"])
def test_empty_input_is_refused(empty):
    model = small_vae()
    x = binary_images(20)
    inputs = {
        "array": x[:0],
        "dataset": data.make_dataset(x, 10).take(0),
        "filtered dataset": tf.data.Dataset.from_tensor_slices(x).filter(
            lambda image: False).batch(10),
    }[empty]
    with pytest.raises(ValueError, match="at least one"):
        model.fit(inputs, epochs=1, verbose=0)


def test_evaluate_is_repeatable_by_default_and_fresh_on_request():
    x = binary_images(60)
    model = small_vae()
    first, second = (model.evaluate(x, batch_size=20, verbose=0) for _ in range(2))
    assert first == second
    fresh = small_vae(evaluation_seed=None)
    assert fresh.evaluate(x, batch_size=20, verbose=0) != fresh.evaluate(
        x, batch_size=20, verbose=0)


def run_python(code, **env):
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env},
                          timeout=300)


def test_import_exposes_callbacks_and_keeps_the_matplotlib_backend():
    result = run_python(
        "import matplotlib, keras_vae; keras_vae.callbacks.ImageLogger; "
        "print(matplotlib.get_backend())", MPLBACKEND="svg")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "svg"


def test_compile_refuses_many_steps_per_execution_under_a_strategy():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = small_vae(compile=False)
        with pytest.raises(ValueError, match="steps_per_execution"):
            model.compile(steps_per_execution=8)


STRATEGY_PROBE = """
import json, numpy as np, tensorflow as tf
tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                           [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, keras_vae
x = (np.random.default_rng(0).random((64, 8, 8, 1)) > 0.5).astype("float32")

def train(strategy):
    with strategy.scope():
        keras.utils.set_random_seed(1)
        model = keras_vae.VAE.from_architecture((8, 8, 1), 3, hidden_units=[16], seed=1)
        model.compile(optimizer=keras.optimizers.SGD(0.1))
    start = [w.copy() for w in model.get_weights()]
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(16)  # 4 global batches of 16
    history = model.fit(dataset, epochs=2, verbose=0, shuffle=False)
    moved = [w - s for w, s in zip(model.get_weights(), start)]
    return history.history["loss"], moved

one_loss, one_moved = train(tf.distribute.get_strategy())
two_loss, two_moved = train(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
print(json.dumps({
    "loss_one": one_loss, "loss_two": two_loss,
    "ratio": float(np.sqrt(sum((m ** 2).sum() for m in two_moved))
                   / np.sqrt(sum((m ** 2).sum() for m in one_moved))),
    "max_difference": float(max(np.abs(a - b).max() for a, b in zip(one_moved, two_moved))),
    "max_move": float(max(np.abs(a).max() for a in one_moved)),
}))
"""


@pytest.mark.distributed
def test_mirrored_strategy_on_two_devices_trains_as_one_device_does():
    """The same 8 SGD steps on the same global batches: one device, and MirroredStrategy over
    two logical CPU devices (each replica half the batch). Before the loss was divided by the
    number of replicas, two replicas moved the weights twice as far."""
    import json

    result = run_python(STRATEGY_PROBE)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["ratio"] == pytest.approx(1.0, abs=1e-4)
    assert figures["max_difference"] < 1e-5 * max(1.0, figures["max_move"]) * 100
    np.testing.assert_allclose(figures["loss_two"], figures["loss_one"], rtol=1e-5)
