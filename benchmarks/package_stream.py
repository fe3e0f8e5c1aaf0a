"""Peak memory of training with streamed data, against the same images held in memory.

    python package_stream.py --write /tmp/big-idx3-ubyte --copies 8   # the shared MNIST, 8 times
    python package_stream.py --idx /tmp/big-idx3-ubyte                # train 1 epoch, streamed
    python package_stream.py --idx /tmp/big-idx3-ubyte --in-memory    # the same, from an array

`benchmarks/benchmark.py` runs it at several sizes, each training run in its own process, and
compares the peak resident memory: streamed (`keras_vae.data.idx_dataset` and
`stream_dataset`, a bounded shuffle buffer) it should not grow with the number of images;
in memory (`read_idx` and `make_dataset`) it grows with it. The model is the training
benchmark's (MLP 784-400-20, Bernoulli, dynamic binarization, Adam 1e-3, batch 128).
"""

import gzip
import os
import time

from common import parse_args, report


def write_copies(path, data_dir, copies, limit=0):
    """Writes the shared MNIST training images (the first `limit` of them when `limit` > 0)
    `copies` times over as one uint8 IDX file, holding one copy in memory at a time."""
    from keras_vae.data.idx import idx_header

    with gzip.open(os.path.join(data_dir, "train-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    n = min(n, limit) if limit else n
    with open(path, "wb") as f:
        f.write(idx_header((n * copies, 28, 28)))
        for _ in range(copies):
            f.write(raw[16:16 + n * 28 * 28])
    report(name="write", images=n * copies, path=path)


def train(path, in_memory, args):
    import keras

    import keras_vae

    keras.utils.set_random_seed(args.seed)
    if in_memory:
        images = keras_vae.data.read_idx(path)[..., None] / 255.0
        count = len(images)
        dataset = keras_vae.data.make_dataset(images.astype("float32"), args.batch_size,
                                              binarize_images=True, seed=args.seed)
    else:
        source, shape = keras_vae.data.idx_dataset(path)
        count = shape[0]
        dataset = keras_vae.data.stream_dataset(source, args.batch_size,
                                                shuffle_buffer=args.shuffle_buffer,
                                                binarize_images=True, seed=args.seed)
    model = keras_vae.VAE.from_architecture((28, 28, 1), args.latent, hidden_units=[args.hidden])
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    start = time.perf_counter()
    history = model.fit(dataset, epochs=args.epochs, verbose=0)
    seconds = time.perf_counter() - start
    report(name="keras_vae_in_memory" if in_memory else "keras_vae_streamed", images=count,
           images_per_second=count * args.epochs / seconds, epoch_losses=history.history["loss"],
           shuffle_buffer=None if in_memory else args.shuffle_buffer)


def main(argv=None):
    args = parse_args(argv, write="", copies=1, idx="", in_memory=0, shuffle_buffer=10_000)
    if args.write:
        write_copies(args.write, args.data_dir, args.copies, args.train_images)
    else:
        train(args.idx, bool(args.in_memory), args)


if __name__ == "__main__":
    main()
