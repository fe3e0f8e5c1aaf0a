"""The reparameterization trick as a Keras layer."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_vae")
class Sampling(keras.layers.Layer):
    """Draws z ~ N(z_mean, exp(z_log_var)) differentiably.

    #### Mathematical details

    z = mu + sigma * eps with sigma = exp(log sigma^2 / 2) and eps ~ N(0, I), so that z is a
    deterministic, differentiable function of (mu, log sigma^2) and of noise that does not
    depend on them (Kingma & Welling 2014, Sec. 2.4).

    Args:
        seed: int or None. Seed of the layer's `keras.random.SeedGenerator`; every call draws
            fresh noise from it. Defaults to `None` (a random seed).
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:

    ```python
    z = keras_vae.Sampling(seed=0)([z_mean, z_log_var])
    ```

    References:
        Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and not isinstance(seed, int):
            raise TypeError(f"Argument `seed` must be an int or None. Received: seed={seed!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
