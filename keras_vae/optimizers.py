"""Adam with TensorFlow's fused update kernel: the package's default optimizer.

Keras' `Adam` updates each variable with about ten small TensorFlow ops; on a CPU those ops'
scheduling costs more than their arithmetic for a model the size of the MNIST VAE.
`FusedAdam` computes the very same update (Kingma & Ba 2015, with Keras' bias correction and
epsilon) with one `ResourceApplyAdam` kernel per variable. Measured on this project's 2-core
CPU (docs/benchmarks.md), it trains the 784-400-20 VAE in graph mode faster than Keras' Adam
with or without XLA.
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
