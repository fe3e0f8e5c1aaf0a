"""The semi-supervised VAE, M2 of Kingma, Rezende, Mohamed & Welling (2014): a classifier learnt
from a few labels and many unlabelled images."""

import math
import os

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae import plotting
from keras_vae.arguments import check_positive
from keras_vae.data.checks import END, MARK
from keras_vae.data.conditions import IMAGES, LABELS
from keras_vae.data.pipeline import count_batches, make_dataset
from keras_vae.models.conditional import ConditionalVAE
from keras_vae.networks import build_encoder

UNLABELLED = -1
FEATURES = "features"  # what the loss hands its objective: the networks' inputs
DEFAULT_LABELLED_SHARE = 0.1
DEFAULT_ALPHA = 20.0


@keras.saving.register_keras_serializable(package="keras_vae")
class SemiSupervisedVAE(ConditionalVAE):
    """The M2 model of Kingma et al. (2014): a class y, seen for some images and inferred for
    the rest.

    #### Mathematical details

    p(x, y, z) = p(y) p(z) p(x|y, z), p(y) uniform over the classes, p(z) the family's prior;
    the inference networks are a classifier q(y|x) and an encoder q(z|x, y). For a labelled
    image, -L(x, y) = E_q(z|x,y)[log p(x|y, z) + log p(y) + log p(z) - log q(z|x, y)] bounds
    log p(x, y); for an unlabelled one, -U(x) = sum_y q(y|x) (-L(x, y)) + H(q(y|x)) bounds
    log p(x). The sum over the classes is exact: every image is encoded and decoded with each
    class in one batched pass. The loss of a batch is the mean over its images of
    L(x, y) + alpha * (-log q(y|x)) (labelled) and U(x) (unlabelled): Kingma et al.'s eq. 9,
    with the classification term that makes q(y|x) learn from the labels directly.

    Batches hold a fixed share of labelled images, so alpha sets the classification term's
    weight in a batch's loss on its own (alpha * labelled_share per nat); the paper's
    0.1 N / N_labelled would weaken it as labels are added.

    Labels are Keras' target: `fit(x, y)` with `y = -1` marking an unlabelled image, or a
    `tf.data.Dataset` of `(images, labels)` batches. `fit` with arrays draws every batch with
    `labelled_share` of its images labelled (the labelled images cycled, so that a few hundred
    labels among many thousand images are seen at every step; an epoch is one pass through
    the unlabelled images). Metrics:
    `loss`, `elbo` (the bound on log p(x), labels unused, `reconstruction_loss` and
    `kl_loss` its terms, the KL of y included), `classification_loss` and `accuracy` (over the
    labelled images). `classify(images)` gives q(y|x); `model(images)` reconstructs with the
    most probable class, `model({"images", "labels"})` with the given one.

    Args:
        encoder: `keras.Model` `[images, one-hot y] -> posterior heads`, as a
            `ConditionalVAE`'s.
        decoder: `keras.Model` `[z, one-hot y] -> the likelihood's parameters`.
        classifier: `keras.Model` `images -> (batch, num_classes)` logits of q(y|x).
        alpha: float > 0. Weight of -log q(y|x) per labelled image, beside its -L(x, y).
            Defaults to 20: with a tenth of each batch labelled, the classification term
            weighs 2 per nat in the batch's mean loss, whatever the number of labels.
            Kingma et al.'s alpha = 0.1 N weighs their summed objective; per labelled image
            that is 0.1 N / N_labelled, which shrinks as labels are added while batches keep
            a fixed labelled share (see "Mathematical details").
        labelled_share: float in (0, 1). The share of labelled images in each batch `fit`
            draws from arrays. Defaults to 0.1.
        stacked_on: a trained `keras_vae.VAE` or None. M1+M2 (Kingma et al.'s stacked
            model): the networks take M1's posterior means of the images (M1 frozen, saved
            inside this model) and decode back through it; `from_architecture(...,
            stacked_on=m1)` sizes them so. The likelihood is then of M1's latent means (a
            Gaussian fits them).
        **kwargs: as for `ConditionalVAE` (`likelihood`, `prior`, `posterior`, `objective`,
            `seed`, ...).

    Example:

    ```python
    model = keras_vae.SemiSupervisedVAE.from_architecture((28, 28, 1), latent_dim=50,
                                                          num_classes=10)
    model.compile()
    model.fit(x_train, y_partial, epochs=100, batch_size=100)   # y_partial: -1 unlabelled
    probabilities = model.classify(x_test)
    ```

    References:
        Kingma, D. P., Rezende, D. J., Mohamed, S. and Welling, M. Semi-supervised Learning
        with Deep Generative Models. NeurIPS 2014.
    """

    has_posterior = False  # log p(x) sums over y: the importance-sampled estimate is not here
    partially_labelled = True

    def __init__(self, encoder, decoder, classifier, alpha=DEFAULT_ALPHA,
                 labelled_share=DEFAULT_LABELLED_SHARE, stacked_on=None, **kwargs):
        check_positive("alpha", alpha)
        check_positive("labelled_share", labelled_share)
        if labelled_share >= 1:
            raise ValueError("Argument `labelled_share` must be below 1 (the rest of each batch "
                             f"is unlabelled). Received: labelled_share={labelled_share}")
        super().__init__(encoder, decoder, **kwargs)
        self.classifier = classifier
        self.stacked_on = None
        if stacked_on is not None:
            self.stack_on(stacked_on)
        outputs = getattr(classifier, "outputs", None)
        if not isinstance(classifier, keras.Model) or not outputs or len(outputs) != 1 or tuple(
                outputs[0].shape[1:]) != (self.num_classes,) or tuple(
                classifier.inputs[0].shape[1:]) != self.feature_shape:
            raise ValueError(
                "Argument `classifier` must be a built Keras model from what the encoder takes "
                f"(batch, *{self.feature_shape}) to (batch, {self.num_classes}) logits. "
                "Received: "
                f"{classifier!r} with outputs "
                f"{[tuple(o.shape) for o in outputs or []]}")
        self.alpha = float(alpha)
        self.labelled_share = float(labelled_share)

    def stack_on(self, model):
        """M1+M2 (Kingma et al.'s stacked model): the networks take the posterior means of
        the trained `model` (M1, frozen) instead of the images; reconstructions, samples and
        analogies are decoded through it, and the inputs are its images."""
        if not getattr(model, "has_posterior", False) or model.conditional:
            raise ValueError(
                "Argument `stacked_on` must be a trained model with a posterior q(z|x) and no "
                f"condition (a VAE: M1). Received: {type(model).__name__}")
        if (model.latent_dim,) != self.data_shape:
            raise ValueError(
                f"Argument `stacked_on` must have a latent of {self.data_shape} (what the "
                f"networks take). Received: a {type(model).__name__} with latent_dim="
                f"{model.latent_dim}")
        # A copy without M1's optimizer (frozen, it has none to save) and with its weights.
        frozen = type(model).from_config(model.get_config())
        frozen.set_weights(model.get_weights())
        frozen.trainable = False
        self.stacked_on = frozen
        self.feature_shape = self.data_shape
        self.data_shape = tuple(model.data_shape)

    @property
    def feature_shape(self):
        """What the networks take: the images' shape, or M1's latent's when stacked."""
        return getattr(self, "_feature_shape", self.data_shape)

    @feature_shape.setter
    def feature_shape(self, shape):
        self._feature_shape = tuple(shape)

    def features_of(self, images):
        """What the networks see of `images`: the images, or M1's posterior means (no
        gradient reaches M1)."""
        if getattr(self, "stacked_on", None) is None:  # None too while the base is built
            return ops.cast(images, "float32")
        return tf.stop_gradient(ops.cast(self.stacked_on.latent_code(images), "float32"))

    @property
    def metric_names(self):
        return ("loss", "elbo", "reconstruction_loss", "kl_loss", "classification_loss",
                "accuracy")

    def describe(self):
        return f"{super().describe()}, {self.num_classes} classes, alpha {self.alpha:g}"

    @classmethod
    def from_architecture(cls, input_shape, latent_dim, stacked_on=None, **kwargs):
        """`ConditionalVAE.from_architecture` with a classifier of the encoder's
        architecture; with `stacked_on` (a trained VAE, M1) the networks take its latent
        means, and `input_shape` must be its images'."""
        if stacked_on is None:
            return super().from_architecture(input_shape, latent_dim, **kwargs)
        if tuple(input_shape) != tuple(stacked_on.data_shape):
            raise ValueError(
                f"Argument `input_shape` must be the images of `stacked_on`, "
                f"{tuple(stacked_on.data_shape)}. Received: input_shape={tuple(input_shape)}")
        return super().from_architecture((stacked_on.latent_dim,), latent_dim,
                                         stacked_on=stacked_on, **kwargs)

    @classmethod
    def build_networks(cls, architecture, input_shape, latent_dim, hidden_units, activation,
                       heads, output_channels, parts, **options):
        """The conditional VAE's networks, and in `parts["classifier"]` a classifier of the
        encoder's architecture with `num_classes` logits."""
        num_classes = parts["num_classes"]
        encoder, decoder = super().build_networks(
            architecture, input_shape, latent_dim, hidden_units, activation, heads,
            output_channels, parts, **options)
        inner = build_encoder(architecture, input_shape, num_classes, hidden_units, activation,
                              heads={"logits": num_classes}, **options)
        images = keras.Input(input_shape, name="images")
        parts["classifier"] = keras.Model(images, inner(images), name="classifier")
        return encoder, decoder

    # ------------------------------------------------------------------ the classes

    def class_logits(self, features, training=False):
        """The logits of q(y|x) for the networks' inputs (`features_of` the images)."""
        return ops.cast(self.classifier(features, training=training), "float32")

    def classify(self, x, batch_size=256):
        """q(y|x) of images `x` `(n, *data_shape)`: a numpy array `(n, num_classes)`."""
        images = self._checked(np.asarray(x, np.float32), "x")
        return np.concatenate([
            np.asarray(ops.softmax(self.class_logits(
                self.features_of(images[start:start + batch_size]))))
            for start in range(0, len(images), batch_size)]) if len(images) else np.zeros(
                (0, self.num_classes), np.float32)

    def split_labelled(self, x):
        """`(features, int labels)` of the model's input (`features_of` its images): images
        alone are all unlabelled; labels must lie in [-1, num_classes) (checked as the graph
        runs)."""
        if isinstance(x, dict) or isinstance(x, (tuple, list)):
            images, labels = (x[IMAGES], x[LABELS]) if isinstance(x, dict) else x
        else:
            images, labels = x, None
        images = self.features_of(images)
        if labels is None:
            return images, tf.fill([tf.shape(images)[0]], UNLABELLED)
        labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        message = (f"{MARK}Argument `labels` must hold ints in [-1, {self.num_classes}) (-1: "
                   f"unlabelled). Received: a label outside that range{END}")
        with tf.control_dependencies([
                tf.debugging.assert_greater_equal(labels, UNLABELLED, message=message),
                tf.debugging.assert_less(labels, self.num_classes, message=message)]):
            return images, tf.identity(labels)

    def split_condition(self, x):
        """`(features, one-hot y)` (`features_of` the images): the labels given, or for
        images alone the class q(y|x) finds most probable. The loss's own calls pass
        `{"features", "labels"}`, taken as they are."""
        if isinstance(x, dict) and FEATURES in x:
            return ops.cast(x[FEATURES], "float32"), self.one_hot(x[LABELS])
        if isinstance(x, (dict, tuple, list)):
            images, onehot = self.split_inputs(x)
            return self.features_of(images), onehot
        features = self.features_of(x)
        return features, tf.one_hot(ops.argmax(self.class_logits(features), axis=-1),
                                    self.num_classes)

    def check_condition(self, x, y, arg_name):
        """Labels in [-1, num_classes), at least one labelled image, and every class labelled
        at least once (arrays checked whole now; a dataset's labels as its batches run)."""
        if isinstance(x, tf.data.Dataset) or x is None:
            return
        if isinstance(x, dict):
            x, y = x.get(IMAGES), x.get(LABELS)
        if y is None:
            return  # images alone: all unlabelled (evaluate, predict)
        self.check_label_values(x, y, arg_name, lowest=UNLABELLED, note=" (-1: unlabelled)")

    def check_labelled(self, labels, arg_name="y"):
        """Training labels must label at least one image of every class."""
        labels = np.asarray(labels)
        if not (labels >= 0).any():
            raise ValueError(f"Argument `{arg_name}` must label at least one image (-1 marks "
                             f"the unlabelled ones). Received: {len(labels)} labels, all -1")
        missing = sorted(set(range(self.num_classes)) - set(labels[labels >= 0].tolist()))
        if missing:
            raise ValueError(
                f"Argument `{arg_name}` must label at least one image of each of the "
                f"{self.num_classes} classes. Received: no label of class(es) {missing}")

    @classmethod
    def batches_per_epoch(cls, num_images, batch_size, labels=None, settings=None):
        """One pass through the unlabelled images, `labelled_share` of each batch labelled
        (all images where none is unlabelled)."""
        if labels is None or not (np.asarray(labels) < 0).any():
            return count_batches(num_images, batch_size)
        share = (settings or {}).get("labelled_share") or DEFAULT_LABELLED_SHARE
        return count_batches(num_images, batch_size, labels, share)

    def dataset_options(self, labels=None):
        """Batches at `labelled_share` where some `labels` are -1 (unlabelled images)."""
        if labels is None or not (np.asarray(labels) < 0).any():
            return {}
        return {"labelled_share": self.labelled_share}

    def fit(self, x=None, y=None, batch_size=None, epochs=1, shuffle=True, **kwargs):
        """`keras.Model.fit`; images and labels as arrays are drawn into batches with
        `labelled_share` of labelled images (`keras_vae.data.make_dataset`)."""
        if y is not None and not isinstance(x, (tf.data.Dataset, dict)):
            self.check_condition(x, y, "x")
            self.check_labelled(y)
            x = make_dataset(self._checked(np.asarray(x, np.float32), "x"), batch_size or 100,
                             shuffle=shuffle, labels=np.asarray(y), seed=self.seed or 0,
                             **self.dataset_options(y))
            y, batch_size = None, None
        return super().fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=shuffle,
                           **kwargs)

    # ---------------------------------------------------------------------- the loss

    def loss_terms(self, x, training=False, seed=None, step=None):
        """Per-example terms (see the class): every image encoded and decoded with each of
        the classes in one batched pass of the objective, then summed over q(y|x) for the
        unlabelled ones."""
        images, labels = self.split_labelled(x)
        classes = self.num_classes
        batch = tf.shape(images)[0]
        log_q_y = tf.nn.log_softmax(self.class_logits(images, training=training))
        every = self.objective(
            self, {FEATURES: tf.repeat(images, classes, axis=0),
                   LABELS: tf.tile(tf.range(classes), [batch])},
            training=training, seed=seed, step=step)

        def by_class(name):  # (batch, classes): image-major, as repeated above
            return tf.reshape(every[name], [batch, classes])

        log_p_y = -math.log(classes)
        loss_y = by_class("loss") - log_p_y  # L(x, y): -log p(y) joins the -ELBO
        q_y = tf.exp(log_q_y)
        entropy = -tf.reduce_sum(q_y * log_q_y, axis=-1)
        labelled = labels >= 0
        given = tf.maximum(labels, 0)
        class_nll = -tf.gather(log_q_y, given, batch_dims=1)
        loss = tf.where(labelled, tf.gather(loss_y, given, batch_dims=1) + self.alpha * class_nll,
                        tf.reduce_sum(q_y * loss_y, axis=-1) - entropy)
        reconstruction = tf.reduce_sum(q_y * by_class("reconstruction_loss"), axis=-1)
        # KL(q(y|x) q(z|x,y) || p(y) p(z)) = sum_y q(y|x) KL_z(y) + KL(q(y|x) || p(y)).
        kl = tf.reduce_sum(q_y * by_class("kl_loss"), axis=-1) - entropy - log_p_y
        correct = tf.cast(tf.equal(tf.argmax(log_q_y, axis=-1, output_type=tf.int32), labels),
                          "float32")
        return {"loss": loss, "elbo": -(reconstruction + kl),
                "reconstruction_loss": reconstruction, "kl_loss": kl,
                "classification_loss": class_nll, "accuracy": correct,
                "labelled": tf.cast(labelled, "float32")}

    def tracker_weights(self, name, terms, sample_weight):
        """The classification terms are means over the labelled images only."""
        if name not in ("classification_loss", "accuracy"):
            return sample_weight
        return terms["labelled"] if sample_weight is None else (
            terms["labelled"] * ops.cast(sample_weight, "float32"))

    def evaluation_metrics(self, images, labels=None) -> dict:
        """Held-out accuracy and error of q(y|x) on `images` with their `labels`, and the
        confusion matrix (rows: true class, columns: predicted)."""
        if labels is None:
            return {}
        labels = np.asarray(labels)
        predicted = self.classify(images).argmax(-1)
        confusion = np.zeros((self.num_classes, self.num_classes), np.int64)
        np.add.at(confusion, (labels, predicted), 1)
        accuracy = float(np.mean(predicted == labels))
        return {"accuracy": accuracy, "error": 1.0 - accuracy,
                "confusion_matrix": confusion.tolist()}

    def decode(self, z, condition=None):
        """The mean of p(x|z, y) (decoded through M1 when stacked)."""
        features = super().decode(z, condition)
        return features if self.stacked_on is None else self.stacked_on.decode(features)

    def call(self, inputs, training=False):
        """Reconstructions (through M1 when stacked): the decoder mean at the latent code,
        with the labels given or the most probable class."""
        features = super().call(inputs, training=training)
        return features if self.stacked_on is None else self.stacked_on.decode(features)

    def analogies(self, images, labels=None):
        """Kingma et al.'s analogies (their Fig. 1): for each image (rows), its style z, the
        mean of q(z|x, y) at its label (or the most probable class), decoded with every class
        (columns). Returns `(rows * (num_classes + 1), *data_shape)`: each row the image, then
        its style in each class."""
        images = np.asarray(images, np.float32)
        if labels is None:
            labels = self.classify(images).argmax(-1)
        style = np.asarray(self.encode({IMAGES: images, LABELS: np.asarray(labels)})[0])
        classes = np.arange(self.num_classes)
        decoded = np.asarray(self.decode(np.repeat(style, self.num_classes, axis=0),
                                         np.tile(classes, len(images))))
        decoded = decoded.reshape(len(images), self.num_classes, *self.data_shape)
        return np.concatenate([images[:, None], decoded], axis=1).reshape(
            -1, *self.data_shape)

    def own_figures(self, path, seed=0, images=None, labels=None):
        """With held-out `images` and their `labels`: the confusion matrix of q(y|x)
        (`confusion_matrix.png`) and the analogies (`analogies.png`)."""
        if images is None or labels is None or not len(images):
            return {}
        images, labels = np.asarray(images, np.float32), np.asarray(labels)
        confusion = self.evaluation_metrics(images, labels)
        rows = images[:10]
        figures = {
            "Confusion matrix of q(y|x) on the held-out images": plotting.save_confusion_matrix(
                confusion["confusion_matrix"], path("confusion_matrix.png"),
                f"q(y|x) on {len(images)} held-out images: accuracy "
                f"{confusion['accuracy']:.2%}"),
            "Analogies: each row a held-out image, then its style z in each class":
                plotting.save_image_grid(
                    self.analogies(rows, labels[:10]), path("analogies.png"),
                    "first column: held-out images; then the mean of q(z|x, y) decoded with "
                    f"each class 0..{self.num_classes - 1}", ncols=self.num_classes + 1),
        }
        return {caption: os.path.basename(file) for caption, file in figures.items()}

    # ----------------------------------------------------------------------- serving

    def serving_endpoints(self):
        """The conditional VAE's signatures and `classify`: images -> q(y|x)."""
        images = tf.TensorSpec((None, *self.data_shape), tf.float32, name="images")

        def classify(images):
            return {"probabilities": ops.softmax(self.class_logits(self.features_of(images)))}

        return {**super().serving_endpoints(), "classify": (classify, [images])}

    def serving_metadata(self):
        metadata = super().serving_metadata()
        metadata["signatures"]["classify"] = "images -> probabilities (q(y|x), one per class)"
        return metadata

    # ----------------------------------------------------------------------- config

    def get_config(self):
        return {**super().get_config(),
                "classifier": keras.saving.serialize_keras_object(self.classifier),
                "alpha": self.alpha, "labelled_share": self.labelled_share,
                "stacked_on": None if self.stacked_on is None else
                keras.saving.serialize_keras_object(self.stacked_on)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("classifier", "stacked_on"):
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return super().from_config(config)


__all__ = ["SemiSupervisedVAE"]
