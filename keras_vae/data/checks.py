"""Batch-by-batch value checks of a `tf.data.Dataset`, shared by `stream_dataset` and `VAE.fit`.

A failing batch raises a graph assertion whose text lies between `MARK` and `END`;
`keras_vae.models.input_checks.reraise_input_errors` turns it into the `ValueError` it stands
for.
"""

import tensorflow as tf

MARK = "keras_vae input error: "
END = " (end of keras_vae input error)"


def checked_batches(dataset, low, high, requirement, select=lambda element: element):
    """`dataset` with the values of every batch checked to be finite and in [low, high].

    Args:
        dataset: a batched `tf.data.Dataset`.
        low, high: floats (infinite for an unbounded side).
        requirement: str. Opens the error message, e.g. "Argument `x` must hold finite values
            in [0, 1]."; the message goes on with the batch's index and what it holds.
        select: callable. The tensor of an element to check (the images of an `(x, y)` pair).
    """

    def verify(index, x):
        """The exact check, with the message: run only for a batch the quick test rejects."""
        finite = tf.math.is_finite(x)
        n_bad = tf.reduce_sum(tf.cast(tf.logical_not(finite), tf.int64))
        safe = tf.where(finite, x, tf.zeros_like(x))
        lowest, highest = tf.reduce_min(safe), tf.reduce_max(safe)
        ok = tf.logical_and(
            tf.equal(n_bad, 0), tf.logical_and(lowest >= low, highest <= high)
        )
        message = tf.strings.format(
            MARK + requirement + " Received: batch {} (counting from 0) holds {} NaN or inf "
            "value(s) and finite values in [{}, {}]" + END,
            (index, n_bad, lowest, highest),
        )
        with tf.control_dependencies([tf.debugging.Assert(ok, [message])]):
            return tf.identity(ok)

    @tf.autograph.experimental.do_not_convert  # plain ops and tf.cond: no conversion needed
    def check(index, element):
        x = tf.cast(select(element), tf.float32)
        # Three reductions and no temporaries: a NaN or an inf makes the sum non-finite (so
        # does an overflowing sum of finite values, which `verify` then accepts).
        quick_ok = tf.logical_and(
            tf.math.is_finite(tf.reduce_sum(x)),
            tf.logical_and(tf.reduce_min(x) >= low, tf.reduce_max(x) <= high),
        )
        checked = tf.cond(quick_ok, lambda: quick_ok, lambda: verify(index, x))
        with tf.control_dependencies([checked]):
            return tf.nest.map_structure(tf.identity, element)

    return dataset.enumerate().map(check, num_parallel_calls=tf.data.AUTOTUNE)
