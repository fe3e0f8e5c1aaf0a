"""The package side of the CIFAR-10 benchmark: `keras_vae.VAE` with `--architecture conv
--hidden-units 32 64 128 --latent-dim 128 --likelihood discretized_logistic`, batch 128,
Adam 1e-3 (constant, as the reference), on the folder read by `keras_vae.data.load` (the
held-out split of 5,000 images as a training run makes it), fed by `make_dataset`, with the
training script's steps per execution. `--image-storage stream` decodes the JPEG files every
epoch instead of holding the images in memory. Prints one `RESULT {json}` line.
"""

import time

import keras
import numpy as np
import tensorflow as tf

import keras_vae
from keras_vae.app.runs import TrainConfig
from cifar_common import HELD_OUT, parse_args, report
from common import make_epoch_timer


def main(argv=None):
    args = parse_args(argv, image_storage="memory", architecture="conv", likelihood=
                      "discretized_logistic", hidden="32,64,128", blocks=0, jit_compile=0,
                      inter_op_threads=0)
    if args.inter_op_threads:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op_threads)
    keras.utils.set_random_seed(args.seed)
    start = time.perf_counter()
    # Listed on disk, cut to --train-images, then decoded into memory (or left on disk):
    # the memory comparison holds only the images it trains on.
    splits = keras_vae.data.load("folder", args.data_dir, validation_fraction=HELD_OUT / 50_000,
                                 seed=0, image_storage="stream", log=lambda line: None)
    x_train = splits.x_train[:args.train_images] if args.train_images else splits.x_train
    if args.image_storage == "memory":
        x_train = np.asarray(x_train)
    load_seconds = time.perf_counter() - start
    dataset = keras_vae.data.make_dataset(x_train, args.batch_size, seed=args.seed)
    model = keras_vae.VAE.from_architecture(
        (32, 32, 3), args.latent, architecture=args.architecture,
        hidden_units=[int(h) for h in args.hidden.split(",")], likelihood=args.likelihood,
        blocks=args.blocks or None)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=bool(args.jit_compile),
                  steps_per_execution=TrainConfig().steps_per_execution)
    timer = make_epoch_timer()
    history = model.fit(dataset, epochs=args.warmup_epochs + args.epochs, verbose=0,
                        shuffle=False, callbacks=[timer])
    timed = timer.seconds[args.warmup_epochs:]
    result = dict(name=f"keras_vae_{args.image_storage}",
                  images_per_second=len(x_train) * len(timed) / sum(timed),
                  epoch_seconds=timed, images=len(x_train),
                  epoch_losses=history.history["loss"], load_seconds=load_seconds)
    if args.evaluate:
        held_out = keras_vae.data.make_dataset(splits.x_val, 500, shuffle=False)
        result["held_out_bits_per_dim"] = model.evaluate(held_out, verbose=0,
                                                         return_dict=True)["bits_per_dim"]
    report(**result)


if __name__ == "__main__":
    main()
