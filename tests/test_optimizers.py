import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from tests.helpers import binary_images, small_vae


def run_updates(optimizer, steps=6, graph=None):
    """Applies the same seeded gradients to two variables; returns their final values."""
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=(3, 4)).astype("float32")),
                 keras.Variable(rng.normal(size=(4,)).astype("float32"))]
    gradients = [[rng.normal(size=v.shape).astype("float32") for v in variables]
                 for _ in range(steps)]

    def apply(grads):
        optimizer.apply(grads, variables)

    if graph is not None:
        apply = tf.function(apply, jit_compile=graph == "xla")
    for grads in gradients:
        apply([tf.constant(g) for g in grads])
    return [v.numpy() for v in variables]


@pytest.mark.parametrize("graph", [None, "graph", "xla"])
@pytest.mark.parametrize("schedule", [False, True])
def test_fused_adam_makes_the_updates_of_keras_adam(graph, schedule):
    def learning_rate():
        return keras.optimizers.schedules.CosineDecay(0.1, 6) if schedule else 0.1

    expected = run_updates(keras.optimizers.Adam(learning_rate()), graph=graph)
    fused = run_updates(keras_vae.FusedAdam(learning_rate()), graph=graph)
    for a, b in zip(expected, fused):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(expected[0], run_updates(keras.optimizers.SGD(0.1))[0])


def test_fused_adam_with_amsgrad_is_keras_amsgrad():
    expected = run_updates(keras.optimizers.Adam(0.1, amsgrad=True))
    np.testing.assert_allclose(run_updates(keras_vae.FusedAdam(0.1, amsgrad=True))[0],
                               expected[0], rtol=1e-6)


@pytest.mark.parametrize("optimizer", [None, "adam"])
def test_vae_compiles_with_keras_adam_by_default(optimizer):
    model = small_vae(compile=False)
    model.compile() if optimizer is None else model.compile(optimizer=optimizer)
    assert type(model.optimizer) is keras.optimizers.Adam and not model.jit_compile


def test_the_opt_in_fused_adam_saves_and_reloads_its_state(tmp_path):
    model = small_vae(compile=False)
    model.compile(optimizer=keras_vae.FusedAdam())
    assert isinstance(model.optimizer, keras_vae.FusedAdam)
    x = binary_images(64)
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.optimizer, keras_vae.FusedAdam)
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 4
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_allclose(np.array(a), np.array(b))
    loaded.fit(x, batch_size=16, epochs=1, verbose=0)
    assert int(loaded.optimizer.iterations) == 8
