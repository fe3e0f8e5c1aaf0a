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
from tests.once import made_once


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
import json, os, sys, numpy as np, tensorflow as tf
mode, models = sys.argv[1], sys.argv[2:]
if mode == "multiworker":  # before TensorFlow runs anything
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
elif mode == "mirrored":
    tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                               [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
else:
    strategy = tf.distribute.get_strategy()
import keras, keras_vae
x = (np.random.default_rng(0).random((64, 8, 8, 1)) > 0.5).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices(x).batch(16)  # 4 global batches of 16
results = {}
for name in models:
    with strategy.scope():
        keras.utils.set_random_seed(1)
        if name in ("vae", "hvae"):  # the same 8 SGD steps whatever the strategy
            model = keras_vae.HierarchicalVAE.from_architecture(
                (8, 8, 1), 3, hidden_units=[16], upper_latent_dims=[2],
                upper_hidden_units=[8], seed=1) if name == "hvae" else (
                keras_vae.VAE.from_architecture((8, 8, 1), 3, hidden_units=[16], seed=1))
            model.compile(optimizer=keras.optimizers.SGD(0.1))
        else:  # a model with several optimizers, by its class name; its own compile
            # The FactorVAE's default discriminator (6 x 1000) is small here too.
            small = ({"discriminator": keras_vae.networks.mlp_discriminator((4,), [16])}
                     if name == "FactorVAE" else {})
            model = getattr(keras_vae, name).from_architecture((8, 8, 1), 4, hidden_units=[16],
                                                               seed=1, **small)
            model.compile()
    if name in ("vae", "hvae"):
        start = [w.copy() for w in model.get_weights()]
        history = model.fit(dataset, epochs=2, verbose=0, shuffle=False)
        moved = [(w - s).ravel().tolist() for w, s in zip(model.get_weights(), start)]
    else:
        networks = {network: [w.copy() for w in getattr(model, network).get_weights()]
                    for network in ("encoder", "decoder", "discriminator")}
        history = model.fit(dataset, epochs=1, verbose=0)
        moved = {network: float(sum(np.abs(w - s).sum() for w, s in zip(
            getattr(model, network).get_weights(), start))) for network, start in networks.items()}
    results[name] = {"loss": history.history["loss"], "moved": moved}
print("RESULT " + json.dumps(results))
"""
SEVERAL_OPTIMIZERS = ["AdversarialAutoencoder", "VAEGAN", "FactorVAE"]


def probe(mode, *models, **env):
    """Starts the probe on `models` in turn; returns the process (read by `result_of`)."""
    return subprocess.Popen([sys.executable, "-c", STRATEGY_PROBE, mode, *models], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env})


def result_of(process):
    """The probe's figures by model: its loss per epoch and how far its weights moved."""
    import json

    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    line = [line for line in out.splitlines() if line.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def assert_same_training(one, other):
    """Losses and weight updates of 8 SGD steps agree within float rounding."""
    (loss_one, moved_one), (loss_other, moved_other) = (
        (result["loss"], [np.array(m) for m in result["moved"]]) for result in (one, other))
    np.testing.assert_allclose(loss_other, loss_one, rtol=1e-5)
    norm = np.sqrt(sum((m ** 2).sum() for m in moved_one))
    assert np.sqrt(sum((m ** 2).sum() for m in moved_other)) / norm == pytest.approx(1, abs=1e-4)
    for a, b in zip(moved_one, moved_other):
        np.testing.assert_allclose(b, a, atol=1e-5 * max(1.0, np.abs(a).max()))


def probed_once(tmp_path_factory, mode, *models):
    """The probe's figures, made by one process per test run (each start imports
    TensorFlow: one process runs every model the tests of a mode need)."""
    import json

    def make(path):
        path.write_text(json.dumps(result_of(probe(mode, *models))))

    return json.loads(made_once(tmp_path_factory, f"probe-{mode}", make).read_text())


@pytest.fixture(scope="session")
def one_device(tmp_path_factory):
    return probed_once(tmp_path_factory, "one", "vae", "hvae")


@pytest.fixture(scope="session")
def mirrored(tmp_path_factory):
    return probed_once(tmp_path_factory, "mirrored", "vae", "hvae", *SEVERAL_OPTIMIZERS)


@pytest.mark.distributed
def test_mirrored_strategy_on_two_devices_trains_as_one_device_does(one_device, mirrored):
    """The same 8 SGD steps on the same global batches: one device, and MirroredStrategy over
    two logical CPU devices (each replica half the batch). Before the loss was divided by the
    number of replicas, two replicas moved the weights 1.98 times as far."""
    assert_same_training(one_device["vae"], mirrored["vae"])


@pytest.mark.distributed
def test_mirrored_strategy_trains_the_hierarchical_vae_as_one_device_does(one_device, mirrored):
    """The same check for the hierarchy: its noise is drawn for the global batch and split."""
    assert_same_training(one_device["hvae"], mirrored["hvae"])


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.distributed
def test_two_multiworker_processes_on_localhost_train_as_one_device_does(one_device):
    import json

    workers = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    processes = [probe("multiworker", "vae", TF_CONFIG=json.dumps(
        {"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}}))
        for i in range(2)]
    for process in processes:
        assert_same_training(one_device["vae"], result_of(process)["vae"])


def test_evaluate_and_fit_take_keras_positional_arguments():
    """Keras' order: evaluate(x, y, batch_size, verbose, sample_weight, steps, ...)."""
    model = small_vae()
    x = binary_images(40)
    weights = np.r_[np.ones(20), np.zeros(20)].astype("float32")
    weighted = model.evaluate(x, None, 20, 0, weights, None, return_dict=True)
    first_half = model.evaluate(x[:20], batch_size=20, verbose=0, return_dict=True)
    assert weighted["loss"] == pytest.approx(first_half["loss"], rel=1e-5)
    history = model.fit(x, None, 20, 2, 0)  # batch_size, epochs, verbose
    assert len(history.history["loss"]) == 2


# --- issue 21: three contracts a Keras user relies on -----------------------------------------

def test_a_loss_terms_override_without_step_trains():
    """The extension point the README names, overridden with its documented signature."""
    class PenalizedVAE(type(small_vae(compile=False))):
        def loss_terms(self, x, training=False, seed=None):
            terms = super().loss_terms(x, training=training, seed=seed)
            penalty = keras.ops.sum(keras.ops.square(self.latent_code(x)), axis=-1)
            return {**terms, "loss": terms["loss"] + penalty}

    base = small_vae(compile=False)
    model = PenalizedVAE(base.encoder, base.decoder, seed=1)
    model.compile()
    x = binary_images(32)
    history = model.fit(x, batch_size=16, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 2
    # The override's loss is what was minimized and reported.
    terms = model.loss_terms(x[:16], seed=0)
    z = np.asarray(model.latent_code(x[:16]))
    np.testing.assert_allclose(terms["loss"] - terms["reconstruction_loss"] - terms["kl_loss"],
                               np.sum(z ** 2, axis=1), rtol=1e-4, atol=1e-5)
    assert np.isfinite(history.history["loss"]).all()


def mixture_prior(latent_dim=3):
    tfd = __import__("tensorflow_probability").distributions
    return tfd.MixtureSameFamily(
        tfd.Categorical(logits=[0.0, 0.5]),
        tfd.MultivariateNormalDiag(loc=[[-1.0] * latent_dim, [1.0] * latent_dim],
                                   scale_diag=[[0.5] * latent_dim, [1.5] * latent_dim]))


def test_a_fixed_tfp_distribution_is_a_prior_and_save_says_it_cannot_hold_it(tmp_path):
    base = small_vae(compile=False)
    model = type(base)(base.encoder, base.decoder, prior=mixture_prior(), seed=1)
    assert not model.kl_analytic  # no closed form against a mixture: Monte Carlo
    model.compile()
    x = binary_images(32)
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    # The KL term is log q(z|x) - log p(z) at the model's draw, with p the given object.
    s = model.sampled_terms(x[:8], 1, seed=5)
    expected = (np.asarray(s["q"].log_prob(s["z"]))
                - np.asarray(mixture_prior().log_prob(s["z"])))[0]
    np.testing.assert_allclose(model.loss_terms(x[:8], seed=5)["kl_loss"], expected, rtol=1e-5)
    assert model.sample(4, seed=0).shape == (4, *x.shape[1:])
    path = tmp_path / "m.keras"
    with pytest.raises(ValueError, match=r"`prior` .* cannot be saved: it is a fixed "
                                         r"MixtureSameFamily object.*register_keras_serializable"):
        model.save(str(path))
    assert not path.exists()


def test_an_unregistered_likelihood_function_is_refused_at_save_naming_it(tmp_path):
    tfd = __import__("tensorflow_probability").distributions

    def my_bernoulli(params):
        return tfd.Independent(tfd.Bernoulli(logits=params), reinterpreted_batch_ndims=3)

    base = small_vae(compile=False)
    model = type(base)(base.encoder, base.decoder, likelihood=my_bernoulli, seed=1)
    model.compile()
    model.fit(binary_images(16), batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    with pytest.raises(ValueError, match=r"`likelihood` .* cannot be saved: the function "
                       r"'.*my_bernoulli' is not registered with "
                       r"@keras.saving.register_keras_serializable"):
        model.save(str(path))
    assert not path.exists()


@pytest.mark.distributed
def test_models_with_several_optimizers_train_under_mirrored_strategy(mirrored):
    """Every network of the AAE, the VAE-GAN and the FactorVAE moves under two replicas: the replica
    division and the loss scaling of `apply_updates` are recorded on the tape (outside it,
    every gradient was None) and the extra optimizers are built before the distributed step."""
    for name in SEVERAL_OPTIMIZERS:
        result = mirrored[name]
        assert np.isfinite(result["loss"]).all()
        assert all(moved > 0 for moved in result["moved"].values()), (name, result["moved"])


@pytest.mark.parametrize("name", ["VAE", "VAEGAN"])
def test_fit_and_train_on_batch_trace_the_training_step_once(name, monkeypatch):
    """Each optimizer is built before the first trace (`build_optimizers`): built inside it,
    as Keras' TensorFlow trainer leaves it, TensorFlow traced `train_step` twice (variables
    created in the first trace), doubling the start-up of every `fit`
    (docs/results/fit_startup.md)."""
    keras.utils.set_random_seed(1)
    model = getattr(__import__("keras_vae"), name).from_architecture(
        (8, 8, 1), 3, hidden_units=[16], seed=1)
    model.compile()
    traces = []
    step = type(model).train_step
    monkeypatch.setattr(type(model), "train_step",
                        lambda self, data: traces.append(1) or step(self, data))
    model.fit(binary_images(40), batch_size=20, epochs=2, verbose=0)
    assert len(traces) == 1
    assert int(model.optimizer.iterations) == 4
    fresh = getattr(__import__("keras_vae"), name).from_architecture(
        (8, 8, 1), 3, hidden_units=[16], seed=1)
    fresh.compile()
    fresh.train_on_batch(binary_images(20))
    fresh.train_on_batch(binary_images(20, seed=1))
    assert len(traces) == 2 and int(fresh.optimizer.iterations) == 2
