"""Helpers shared by the tests: small models, images, and the path of the shared MNIST."""

import os

import keras
import numpy as np

import keras_vae

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_DIR = os.path.join(REPO, "..", "shared", "data", "mnist")
SHAPE = (8, 8, 1)


def images(n=64, shape=SHAPE, seed=0):
    """Grey-level images in [0, 1]."""
    return np.random.default_rng(seed).random((n, *shape)).astype("float32")


def binary_images(n=64, shape=SHAPE, seed=0):
    return (images(n, shape, seed) > 0.5).astype("float32")


def small_vae(likelihood="bernoulli", architecture="mlp", shape=SHAPE, latent_dim=3, seed=1,
              compile=True, prior="normal", posterior="diagonal", objective="elbo",
              **compile_kwargs):
    units = [16] if architecture == "mlp" else [4, 8]
    keras.utils.set_random_seed(seed)
    model = keras_vae.VAE.from_architecture(
        shape, latent_dim, architecture=architecture, hidden_units=units,
        likelihood=likelihood, prior=prior, posterior=posterior, objective=objective,
        seed=seed,
    )
    if compile:
        # Keras' plain settings keep the unit tests quick; the package's faster defaults
        # (XLA, several steps per execution) run in the training-script tests.
        compile_kwargs = {"jit_compile": False, "steps_per_execution": 1} | compile_kwargs
        model.compile(optimizer=keras.optimizers.Adam(1e-2), **compile_kwargs)
    return model


def assert_l2_joins_the_decoders_update(make_model, lr, l2=0.5):
    """One step of two equal models from `make_model()` (plain SGD at `lr`, the same noise),
    the second with an L2 penalty l2 * ||W||^2 on the decoder's first kernel: that kernel
    must end exactly -lr * 2 * l2 * W further than the first model's (W before the step)."""
    x = binary_images(16)
    plain, regularized = make_model(), make_model()
    kernel = next(w for w in regularized.decoder.trainable_weights if w.path.endswith("kernel"))
    plain_kernel = next(w for w in plain.decoder.trainable_weights if w.path == kernel.path)
    start = kernel.numpy()
    kernel.regularizer = keras.regularizers.L2(l2)
    plain.train_on_batch(x)
    regularized.train_on_batch(x)
    np.testing.assert_allclose(kernel.numpy() - plain_kernel.numpy(), -lr * 2 * l2 * start,
                               rtol=1e-4, atol=1e-6)


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]




def refused(main, argv, capsys):
    """Runs a script's main through its command line, expecting a refusal: exit status 2
    and one `<script>: error: ...` line on stderr, which it returns."""
    import pytest

    from keras_vae.app import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.run(main, argv)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and ": error: " in lines[0], lines
    return lines[0]


RESUME_EPOCHS = 12
# Small and quiet: the settings of the uninterrupted run and of the runs resumed against it.
RESUME_FLAGS = ["--hidden-units", "64", "--eval-k", "5", "--amortization-images", "0",
                "--image-log-every", "100", "--verbose", "0"]
