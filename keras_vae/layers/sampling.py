"""The reparameterization trick as a Keras layer."""

import keras
import tensorflow as tf
from keras import ops

from keras_vae.objectives import reparameterize, reparameterized_log_density


def seed_pair(seed):
    """A stateless seed `(2,)` int32 tensor from an int, an integer scalar or `(2,)` tensor, or a
    `keras.random.SeedGenerator` (its next state: fresh draws at every call)."""
    if isinstance(seed, keras.random.SeedGenerator):
        return tf.cast(seed.next(), "int32")
    seed = tf.cast(seed, "int32")
    if seed.shape.rank == 0:
        return tf.stack([seed, tf.zeros_like(seed)])
    return seed


def standard_normal(shape, seed=None, dtype="float32", batch_axis=None):
    """Draws eps ~ N(0, I) of `shape`.

    Under a `tf.distribute` strategy with R replicas, `batch_axis` given, each replica draws
    the noise of the whole global batch (R times its own) and keeps its own rows: the noise
    that example i of a global batch gets does not depend on how many replicas share the
    batch, so training on R devices follows training on one.

    Args:
        shape: tuple or shape tensor.
        seed: None (fresh draws from Keras' global generator), a
            `keras.random.SeedGenerator` (fresh draws from it), or an int, an integer scalar
            tensor or a `(2,)` integer tensor (stateless: the same seed gives the same draws,
            in Python and in an exported graph alike; an int `s` draws exactly what
            `keras.random.normal(shape, seed=s)` draws).
        dtype: float dtype. Defaults to `"float32"`.
        batch_axis: int or None. The axis of `shape` that runs over the batch.
    """
    def draw(shape):
        if seed is None or isinstance(seed, (int, keras.random.SeedGenerator)):
            return keras.random.normal(shape, dtype=dtype, seed=seed)
        return tf.random.stateless_normal(shape, seed=seed_pair(seed), dtype=dtype)

    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context is not None else 1
    if batch_axis is None or replicas == 1:
        return draw(shape)
    shape = list(shape)
    batch = shape[batch_axis]
    shape[batch_axis] = batch * replicas
    start = tf.cast(context.replica_id_in_sync_group, tf.int32) * batch
    return tf.gather(draw(shape), tf.range(start, start + batch), axis=batch_axis)


def diagonal_normal_sample(z_mean, z_log_var, num_samples=None, seed=None):
    """z = mu + sigma * eps with eps ~ N(0, I), and log q(z) at it.

    Returns `(z, log_q)` of shapes `(num_samples, batch, latent_dim)` and `(num_samples,
    batch)`, or without the samples axis when `num_samples` is None. `seed` as for
    `standard_normal`.
    """
    shape = ops.shape(z_mean) if num_samples is None else (num_samples, *ops.shape(z_mean))
    eps = standard_normal(shape, seed=seed, dtype=z_mean.dtype,
                          batch_axis=0 if num_samples is None else 1)
    z = reparameterize(z_mean, z_log_var, eps)
    return z, reparameterized_log_density(eps, 0.5 * z_log_var)


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

    def call(self, inputs, seed=None):
        """Draws z; `seed` (int or integer scalar tensor) makes the draw reproducible."""
        z_mean, z_log_var = inputs
        seed = self.seed_generator if seed is None else seed
        return diagonal_normal_sample(z_mean, z_log_var, seed=seed)[0]

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
