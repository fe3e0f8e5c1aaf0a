"""The conditional VAE (Sohn et al. 2015): encoder and decoder both see the label."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae.arguments import check_count, check_int
from keras_vae.data.checks import END, MARK
from keras_vae.data.conditions import IMAGES, LABELS
from keras_vae.distributions.priors import VampPrior
from keras_vae.models.vae import VAE


@keras.saving.register_keras_serializable(package="keras_vae")
class ConditionalVAE(VAE):
    """Conditional VAE (Sohn et al. 2015): p(x|y) = ∫ p(x|z, y) p(z) dz, q(z|x, y).

    #### Mathematical details

    The VAE with a label y given to both networks: the encoder maps `[images, one-hot y]` to
    q(z|x, y), the decoder maps `[z, one-hot y]` to p(x|z, y), and the prior p(z) does not
    depend on y (Sohn et al.'s baseline CVAE). The ELBO of log p(x|y) is
    E_q log p(x|z, y) - KL(q(z|x, y) || p(z)), with every prior, posterior, likelihood and
    objective of `VAE` except the VampPrior (its pseudo-inputs have no label). Sampling a
    chosen digit y: z ~ p(z), x = decoder mean of p(x|z, y).

    The model takes `{"images": (batch, *data_shape), "labels": (batch,) ints}` (or the tuple
    `(images, labels)`) wherever a `VAE` takes images: `call`, `encode`, `loss_terms`,
    `log_importance_weights`, ... . `fit(images, labels)` and `evaluate(images, labels)` take
    the labels as Keras' target; a `tf.data.Dataset` yields `(images, labels)` batches
    (`keras_vae.data.make_dataset(images, batch_size, labels=labels)`). A label outside
    `[0, num_classes)` stops the run with an error (a one-hot of it would be all zeros).

    Args:
        encoder: `keras.Model` with two inputs, `[(batch, *data_shape), (batch, num_classes)]`
            (images and one-hot labels), and the posterior's heads as outputs.
        decoder: `keras.Model` with two inputs, `[(batch, latent_dim), (batch, num_classes)]`,
            to the likelihood's parameters.
        **kwargs: as for `VAE` (`likelihood`, `prior`, `posterior`, `objective`, `seed`, ...).

    Example:

    ```python
    cvae = keras_vae.ConditionalVAE.from_architecture((28, 28, 1), latent_dim=20,
                                                      num_classes=10)
    cvae.compile()
    cvae.fit(x_train, y_train, epochs=10, batch_size=100)
    sevens = cvae.sample(16, labels=7, seed=0)
    reconstructions = cvae({"images": x_val, "labels": y_val})
    ```

    References:
        Sohn, K., Lee, H. and Yan, X. Learning Structured Output Representation using Deep
        Conditional Generative Models. NeurIPS 2015.
    """

    conditional = True

    def __init__(self, encoder, decoder, **kwargs):
        if isinstance(kwargs.get("prior"), VampPrior) or kwargs.get("prior") == "vamp" or (
                isinstance(kwargs.get("prior"), dict)
                and kwargs["prior"].get("class_name") == "VampPrior"):
            raise ValueError(
                "Argument `prior` cannot be the VampPrior for a ConditionalVAE: its "
                "pseudo-inputs carry no label. Received: prior='vamp'")
        super().__init__(encoder, decoder, **kwargs)
        self.num_classes = int(encoder.inputs[1].shape[-1])

    @staticmethod
    def network_shapes(encoder, decoder):
        """`(data_shape, latent_dim)` from two-input networks (checked to take the same
        number of classes)."""
        for name, network in (("encoder", encoder), ("decoder", decoder)):
            inputs = getattr(network, "inputs", None)
            if not isinstance(network, keras.Model) or not inputs or len(inputs) != 2 \
                    or len(inputs[1].shape) != 2:
                raise ValueError(
                    f"Argument `{name}` must be a built Keras model with two inputs, "
                    f"[{'images' if name == 'encoder' else 'z'}, one-hot labels "
                    "(batch, num_classes)], for a ConditionalVAE. Received: "
                    f"{name}={network!r} with inputs "
                    f"{[tuple(i.shape) for i in inputs or []]}")
        data_shape = tuple(encoder.inputs[0].shape[1:])
        latent_dim = int(decoder.inputs[0].shape[-1])
        num_classes = int(encoder.inputs[1].shape[-1])
        if int(decoder.inputs[1].shape[-1]) != num_classes:
            raise ValueError(
                "Arguments `encoder` and `decoder` must take the same number of classes. "
                f"Received: {num_classes} (encoder) and {int(decoder.inputs[1].shape[-1])} "
                "(decoder)")
        return data_shape, latent_dim

    def probe_inputs(self):
        return {IMAGES: tf.zeros((1, *self.data_shape)), LABELS: tf.zeros((1,), tf.int32)}

    @classmethod
    def from_architecture(cls, input_shape, latent_dim, num_classes=10, **kwargs):
        """`VAE.from_architecture` with `num_classes` (int >= 2, default 10): the label, one-hot,
        joins the flattened image (MLP) or is broadcast as extra channels (conv, resnet) at the
        encoder's input, and joins z at the decoder's."""
        check_int("num_classes", num_classes, 2)
        kwargs["num_classes"] = num_classes
        return super().from_architecture(input_shape, latent_dim, **kwargs)

    @classmethod
    def build_networks(cls, architecture, input_shape, latent_dim, hidden_units, activation,
                       heads, output_channels, parts, **options):
        num_classes = parts.pop("num_classes")
        height_width, channels = input_shape[:-1], input_shape[-1]
        spatial = architecture in ("conv", "resnet")
        if spatial:
            inner_shape = (*height_width, channels + num_classes)
        else:
            inner_shape = (int(np.prod(input_shape)) + num_classes,)
        inner_encoder, _ = super().build_networks(
            architecture, inner_shape, latent_dim, hidden_units, activation, heads,
            output_channels, parts, **options)
        _, inner_decoder = super().build_networks(
            architecture, input_shape, latent_dim + num_classes, hidden_units, activation,
            heads, output_channels, parts, **options)
        images = keras.Input(input_shape, name="images")
        onehot = keras.Input((num_classes,), name="labels")
        if spatial:
            maps = keras.layers.RepeatVector(int(np.prod(height_width)))(onehot)
            maps = keras.layers.Reshape((*height_width, num_classes))(maps)
            joined = keras.layers.Concatenate()([images, maps])
        else:
            joined = keras.layers.Concatenate()([keras.layers.Flatten()(images), onehot])
        encoder = keras.Model([images, onehot], inner_encoder(joined), name="encoder")
        z = keras.Input((latent_dim,), name="z")
        decoder_onehot = keras.Input((num_classes,), name="labels")
        decoder = keras.Model(
            [z, decoder_onehot],
            inner_decoder(keras.layers.Concatenate()([z, decoder_onehot])), name="decoder")
        return encoder, decoder

    # ---------------------------------------------------------------- the condition

    def one_hot(self, labels):
        """One-hot float32 `(batch, num_classes)` of int labels, which must lie in
        `[0, num_classes)` (checked as the graph runs: a one-hot of any other is all zeros)."""
        num_classes = int(self.encoder.inputs[1].shape[-1])
        labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        message = (f"{MARK}Argument `labels` must hold ints in [0, {num_classes}) (the "
                   f"classes of the ConditionalVAE). Received: a label outside that range{END}")
        with tf.control_dependencies([
                tf.debugging.assert_non_negative(labels, message=message),
                tf.debugging.assert_less(labels, num_classes, message=message)]):
            return tf.one_hot(labels, num_classes)

    def split_inputs(self, x):
        """`(images, one-hot labels)` of `{"images", "labels"}` or `(images, labels)`."""
        if isinstance(x, dict):
            if set(x) != {IMAGES, LABELS}:
                raise ValueError(
                    "Argument `x` must be a dict with keys 'images' and 'labels' for a "
                    f"ConditionalVAE. Received: keys {sorted(x)}")
            images, labels = x[IMAGES], x[LABELS]
        elif len(x) == 2:
            images, labels = x
        else:
            raise ValueError("Argument `x` must be (images, labels) for a ConditionalVAE. "
                             f"Received: a sequence of {len(x)} items")
        return ops.cast(images, "float32"), self.one_hot(labels)

    def split_condition(self, x):
        """`(images, one-hot labels)`: the label is the condition every network call gets."""
        if isinstance(x, (dict, tuple, list)):
            return self.split_inputs(x)
        raise ValueError(
            "Argument `x` must carry labels for a ConditionalVAE: pass "
            "{'images': images, 'labels': labels} (or fit(images, labels), or a dataset of "
            "(images, labels) batches). Received: images alone")

    def model_inputs(self, x, y):
        if isinstance(x, dict) or y is None:
            return x
        return {IMAGES: x, LABELS: y}

    def decode(self, z, condition=None):
        """The mean of p(x|z, y) for latent vectors `z` and the labels y: `condition`, int
        labels `(batch,)` (or their one-hot `(batch, num_classes)`)."""
        if condition is None:
            raise ValueError("Argument `condition` must hold the labels y of the latent "
                             "vectors for a ConditionalVAE's decode(z, condition=labels). "
                             "Received: condition=None")
        condition = tf.convert_to_tensor(condition)
        if condition.shape.rank != 2:
            condition = self.one_hot(condition)
        return super().decode(z, condition=tf.cast(condition, "float32"))

    def sample_labels(self, n, labels=None):
        """The labels `sample` uses: `labels` (an int, or one per sample), or by default
        0, 1, ..., num_classes - 1, 0, 1, ... (a 10-column grid of MNIST samples has one digit
        per column)."""
        if labels is None:
            return tf.range(n) % self.num_classes
        labels = tf.cast(labels, tf.int32)
        if labels.shape.rank == 0:
            return tf.fill([n], labels)
        return labels

    @property
    def sampling_description(self):
        return f"z ~ p(z), {self.prior.kind} prior, labels 0..{self.num_classes - 1} in turn"

    def sample(self, n, seed=None, labels=None):
        """Draws `n` latent vectors from the prior and decodes each with a label: `labels` (an
        int for one chosen class, or `n` ints), by default the classes in turn."""
        check_count(n)
        labels = self.sample_labels(n, labels)
        z = self.prior.sample(n, seed=seed, posterior_of=self.posterior_distribution)
        return self.decode(z, labels)

    # ------------------------------------------------------------ checked entry points

    def check_condition(self, x, y, arg_name):
        """The labels must be there, one int per image, in `[0, num_classes)` (arrays are
        checked whole now; a dataset's batches as they are drawn)."""
        if isinstance(x, tf.data.Dataset):
            spec = x.element_spec
            if isinstance(spec, dict) or (isinstance(spec, tuple) and len(spec) >= 2):
                return
            raise ValueError(
                f"Argument `{arg_name}` must yield (images, labels) batches for a "
                f"ConditionalVAE. Received: a dataset of {spec}")
        if isinstance(x, dict):
            x, y = x.get(IMAGES), x.get(LABELS)
        if x is None:
            return
        if y is None:
            raise ValueError(
                f"Argument `{arg_name}` must come with labels for a ConditionalVAE: "
                "fit(images, labels), validation_data=(images, labels) or "
                "{'images': ..., 'labels': ...}. Received: images without labels")
        self.check_label_values(x, y, arg_name)

    def check_label_values(self, x, y, arg_name, lowest=0, note=""):
        """Labels `y` of the images `x`: one int per image, in `[lowest, num_classes)`
        (`note` says what the values below 0 mean)."""
        labels = np.asarray(y)
        if labels.shape != (len(x),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"Argument `{arg_name}`'s labels must be one int per image{note}, shape "
                f"({len(x)},). Received: labels of shape {labels.shape} and dtype "
                f"{labels.dtype}")
        outside = (labels < lowest) | (labels >= self.num_classes)
        if outside.any():
            raise ValueError(
                f"Argument `{arg_name}`'s labels must lie in [{lowest}, {self.num_classes})"
                f"{note}. Received: {int(outside.sum())} label(s) outside it, e.g. "
                f"{int(labels[outside][0])}")

    def _checked(self, x, arg_name):
        if isinstance(x, dict):
            return {**x, IMAGES: super()._checked(x[IMAGES], arg_name)}
        return super()._checked(x, arg_name)

    # ----------------------------------------------------------------------- serving

    def serving_condition(self):
        return [tf.TensorSpec((None,), tf.int32, name="labels")]

    def serving_inputs(self, images, condition=None):
        return {IMAGES: images, LABELS: condition}

    def serving_endpoints(self):
        """The base's signatures with the labels; `sample` draws one image per label."""
        labels = tf.TensorSpec((None,), tf.int32, name="labels")
        seed = tf.TensorSpec((), tf.int32, name="seed")

        def sample(labels, seed):
            return {"images": self.sample(tf.shape(labels)[0], seed=seed, labels=labels)}

        return {**super().serving_endpoints(), "sample": (sample, [labels, seed])}

    def serving_metadata(self):
        metadata = super().serving_metadata()
        metadata["num_classes"] = self.num_classes
        metadata["signatures"] = {
            "serving_default": "images, labels (int32) -> reconstructions (decoder mean at "
            "z = z_mean)",
            "encode": f"images, labels -> {', '.join(self.encoding_names())} of q(z|x, y)",
            "decode": "z, labels -> images (mean of p(x|z, y))",
            "sample": "labels (int32, one per image), seed (int32) -> images (z ~ p(z))",
            "elbo": "images, labels, seed (int32) -> elbo, reconstruction_loss, kl_loss",
        }
        return metadata

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               **kwargs):
        """`keras.Model.export` with the input `{"images": (None, *data_shape) float32,
        "labels": (None,) int32}`."""
        if input_signature is None:
            input_signature = [{IMAGES: keras.InputSpec(shape=(None, *self.data_shape),
                                                        dtype="float32"),
                                LABELS: keras.InputSpec(shape=(None,), dtype="int32")}]
        return super().export(filepath, format=format, verbose=verbose,
                              input_signature=input_signature, **kwargs)


__all__ = ["ConditionalVAE"]
