"""Reference: a Keras 3 VAE in the style of the keras.io example, kept plain.

Sampling layer, functional encoder and decoder, a `keras.Model` with a GradientTape
`train_step` and `Mean` trackers (https://keras.io/examples/generative/vae/), with the
pytorch/examples MLP (784-400-20, ReLU, Bernoulli from logits), batch 128, Adam 1e-3 and
dynamic binarization in the tf.data pipeline. Prints one `RESULT {json}` line.
"""

import os
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import tensorflow as tf
from keras import layers, ops

from common import load_mnist_images, make_epoch_timer, parse_args, report


class Sampling(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            logits = self.decoder(z)
            reconstruction_loss = ops.mean(ops.sum(
                keras.losses.binary_crossentropy(data[..., None], logits[..., None],
                                                 from_logits=True), axis=1))
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def build(hidden, latent):
    inputs = keras.Input(shape=(784,))
    h = layers.Dense(hidden, activation="relu")(inputs)
    z_mean = layers.Dense(latent, name="z_mean")(h)
    z_log_var = layers.Dense(latent, name="z_log_var")(h)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")
    latent_inputs = keras.Input(shape=(latent,))
    h = layers.Dense(hidden, activation="relu")(latent_inputs)
    decoder = keras.Model(latent_inputs, layers.Dense(784)(h), name="decoder")
    return VAE(encoder, decoder)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    images = load_mnist_images(args.data_dir, args.train_images)
    dataset = (tf.data.Dataset.from_tensor_slices(images)
               .shuffle(len(images), seed=args.seed)
               .batch(args.batch_size)
               .map(lambda x: tf.cast(tf.random.uniform(tf.shape(x)) < x, tf.float32))
               .prefetch(tf.data.AUTOTUNE))
    vae = build(args.hidden, args.latent)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    timer = make_epoch_timer()
    history = vae.fit(dataset, epochs=args.warmup_epochs + args.epochs, verbose=0,
                      callbacks=[timer])
    timed = timer.seconds[args.warmup_epochs:]
    report(name="keras_io", images_per_second=len(images) * len(timed) / sum(timed),
           epoch_seconds=timed, images=len(images),
           epoch_losses=history.history["total_loss"], keras_version=keras.__version__)


if __name__ == "__main__":
    main()
