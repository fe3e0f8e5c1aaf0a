"""Where TensorFlow's time goes in the CIFAR benchmark's conv step, op by op (figures quoted
in docs/results/benchmarks.md, "Issue 22"): the encoder and the decoder forward and backward, each
transposed convolution of the decoder against the `conv2d` that mirrors it, and the same
transposed convolution computed as a sub-pixel convolution (exact, tried and dropped). Prints
milliseconds per call and the cores the process kept busy (CPU time / wall time).

    python benchmarks/tf_conv_ops.py --intra-op-threads 2
"""

import argparse
import time

import tensorflow as tf

from keras_vae.networks.conv import conv_decoder, conv_encoder

BATCH = 128


def timed(name, fn, *args, repeats=20):
    fn = tf.function(fn)
    for _ in range(3):
        fn(*args)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(repeats):
        fn(*args)
    wall = time.perf_counter() - wall
    print(f"{name:48s} {wall / repeats * 1000:7.1f} ms  {(time.process_time() - cpu) / wall:.2f} "
          "cores", flush=True)


def with_gradient(op, sources):
    def fn(*args):
        with tf.GradientTape() as tape:
            tape.watch(args)
            loss = tf.reduce_sum(tf.square(op(*args)))
        return tape.gradient(loss, list(args) + sources)
    return fn


def subpixel_transpose(x, kernel):
    """`conv2d_transpose(x, kernel, stride 2, "SAME")` for a 3x3 `kernel` `(3, 3, out, in)` as
    a 2x2 convolution to 4x the channels and `depth_to_space`: output phase (a, b) of the
    2x2 block reads input rows (i-1, i) through kernel rows {0: 2, 1: 0} for a = 0 and
    {1: 1} for a = 1 (the same for columns)."""
    taps = {0: {0: 2, 1: 0}, 1: {1: 1}}
    zero = tf.zeros_like(kernel[0, 0])
    phases = []
    for a in (0, 1):
        for b in (0, 1):
            window = [[zero, zero], [zero, zero]]
            for r, kr in taps[a].items():
                for c, kc in taps[b].items():
                    window[r][c] = kernel[kr, kc]
            phases.append(tf.stack([tf.stack(row) for row in window]))
    kernel = tf.transpose(tf.concat(phases, axis=2), (0, 1, 3, 2))
    padded = tf.pad(x, [[0, 0], [1, 0], [1, 0], [0, 0]])
    return tf.nn.depth_to_space(tf.nn.conv2d(padded, kernel, 1, "VALID"), 2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--intra-op-threads", type=int, default=0, help="0: TensorFlow's own")
    args = parser.parse_args(argv)
    if args.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)
    encoder = conv_encoder((32, 32, 3), 128, hidden_units=[32, 64, 128])
    decoder = conv_decoder((32, 32, 3), 128, hidden_units=[32, 64, 128], output_channels=6)
    images, z = tf.random.uniform((BATCH, 32, 32, 3)), tf.random.normal((BATCH, 128))
    timed("encoder forward", lambda x: encoder(x), images)
    timed("encoder forward+backward", with_gradient(encoder, encoder.trainable_variables), images)
    timed("decoder forward", lambda z: decoder(z), z)
    timed("decoder forward+backward", with_gradient(decoder, decoder.trainable_variables), z)
    for size, fan_in, fan_out in [(4, 128, 128), (8, 128, 64), (16, 64, 32)]:
        x = tf.random.normal((BATCH, size, size, fan_in))
        kernel = tf.random.normal((3, 3, fan_out, fan_in))
        shape = (BATCH, 2 * size, 2 * size, fan_out)

        def transpose(x, kernel, shape=shape):
            return tf.nn.conv2d_transpose(x, kernel, shape, 2, "SAME")

        error = tf.reduce_max(tf.abs(transpose(x, kernel) - subpixel_transpose(x, kernel)))
        label = f"{size}x{size} -> {2 * size}x{2 * size}, {fan_in} -> {fan_out}"
        timed(f"conv2d_transpose {label}", transpose, x, kernel)
        timed(f"  its mirror conv2d", lambda y, k: tf.nn.conv2d(y, k, 2, "SAME"),
              tf.random.normal(shape), kernel)
        timed(f"  sub-pixel (max error {float(error):.0e})", subpixel_transpose, x, kernel)
        timed("  conv2d_transpose forward+backward", with_gradient(transpose, []), x, kernel)
        timed("  sub-pixel forward+backward", with_gradient(subpixel_transpose, []), x, kernel)
    timed("output conv2d 32x32, 32 -> 6", lambda x, k: tf.nn.conv2d(x, k, 1, "SAME"),
          tf.random.normal((BATCH, 32, 32, 32)), tf.random.normal((3, 3, 32, 6)))


if __name__ == "__main__":
    main()
