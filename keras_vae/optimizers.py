"""Adam with TensorFlow's fused update kernel: an opt-in (the default is Keras' `Adam`).

Keras' `Adam` updates each variable with about ten small TensorFlow ops; on a CPU those ops'
scheduling can cost more than their arithmetic for a small model. `FusedAdam` computes the
very same update (Kingma & Ba 2015, with Keras' bias correction and epsilon) with one
`ResourceApplyAdam` kernel per variable. docs/benchmarks.md measures the difference.

It relies on Keras' private optimizer internals, which a Keras release may change: the slot
lists `_momentums` and `_velocities` that `keras.optimizers.Adam.build` creates, and
`_get_variable_index(variable)`, which finds a variable's slots; and on the TensorFlow
backend's `keras.Variable.value.handle`. `tests/test_optimizers.py` pins its updates to
Keras' `Adam` (graph and eager, constant and scheduled rates, AMSGrad): if a release breaks
it, that test fails rather than users' training.
"""

import keras
import tensorflow as tf


def _handle(variable):
    return (variable.value if isinstance(variable, keras.Variable) else variable).handle


@keras.saving.register_keras_serializable(package="keras_vae")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam`, every argument the same, updating each variable in one fused
    TensorFlow kernel. `amsgrad=True` and sparse gradients fall back to Keras' update."""

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable),
            m=_handle(self._momentums[index]),
            v=_handle(self._velocities[index]),
            beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype),
        )
