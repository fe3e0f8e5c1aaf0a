"""The package side of the training benchmark: `keras_vae.VAE` on the reference's model.

MLP 784-400-20, ReLU, Bernoulli, batch 128, Adam 1e-3, dynamic binarization, through the
package's own pipeline (`keras_vae.data.make_dataset`) and the default training script's
settings (Keras' `Adam`, graph mode, `TrainConfig().steps_per_execution` = 32 steps per
execution, which `VAE.fit` makes safe; `VAE.compile` alone defaults to Keras' 1). Prints
one `RESULT {json}` line like the references.
"""

import keras
import tensorflow as tf

import keras_vae
from keras_vae.app.runs import TrainConfig
from common import load_mnist_images, make_epoch_timer, parse_args, report


def main(argv=None):
    args = parse_args(argv, jit_compile=0, steps_per_execution=0)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    images = load_mnist_images(args.data_dir, args.train_images).reshape(-1, 28, 28, 1)
    dataset = keras_vae.data.make_dataset(images, args.batch_size, binarize_images=True,
                                          seed=args.seed)
    model = keras_vae.VAE.from_architecture((28, 28, 1), args.latent, hidden_units=[args.hidden])
    compile_kwargs = {"jit_compile": bool(args.jit_compile), "steps_per_execution":
                      args.steps_per_execution or TrainConfig().steps_per_execution}
    model.compile(optimizer=keras.optimizers.Adam(1e-3), **compile_kwargs)
    timer = make_epoch_timer()
    history = model.fit(dataset, epochs=args.warmup_epochs + args.epochs, verbose=0,
                        shuffle=False, callbacks=[timer])
    timed = timer.seconds[args.warmup_epochs:]
    report(name="keras_vae", images_per_second=len(images) * len(timed) / sum(timed),
           epoch_seconds=timed, images=len(images),
           epoch_losses=history.history["loss"], jit_compile=bool(args.jit_compile),
           steps_per_execution=int(model.steps_per_execution))


if __name__ == "__main__":
    main()
