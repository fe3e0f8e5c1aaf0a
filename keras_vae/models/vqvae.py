"""The VQ-VAE: a deterministic encoder, a vector quantizer and a decoder."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae.arguments import check_count, check_divisor, check_number
from keras_vae.layers.sampling import seed_pair
from keras_vae.layers.vector_quantizer import VectorQuantizer, perplexity
from keras_vae.models.base import BaseAutoencoder


@keras.saving.register_keras_serializable(package="keras_vae")
class VQVAE(BaseAutoencoder):
    """Vector-quantized autoencoder (van den Oord et al. 2017).

    #### Mathematical details

    The encoder's output z_e `(batch, latent_dim)` is read as `latent_dim // code_dim` vectors,
    each replaced by its nearest code of a K-vector codebook (`VectorQuantizer`, with the
    straight-through gradient), and the decoder reconstructs from the codes:
    loss = -log p(x | g(z_q)) + ||sg(z_e) - z_q||^2 + commitment * ||z_e - sg(z_q)||^2, per
    example (the codebook term is dropped with `ema=True`, where moving averages move the
    codes). Reported besides: `codebook_perplexity`, exp of the entropy of the batch's code use
    (K when all codes are used equally, 1 when one is). There is no ELBO.

    Sampling needs a prior over codes. The paper trains a PixelCNN on them; this model offers a
    simple one and says so: `fit_code_prior(images)` counts how often each position uses each
    code, and `sample` draws every position independently from those frequencies. Samples
    from it are blurrier mixtures than the paper's.

    Args:
        encoder: `keras.Model`. Built network from `(batch, *input_shape)` to one output
            `(batch, latent_dim)`, `latent_dim` a multiple of `code_dim`.
        decoder: `keras.Model`. Built network from `(batch, latent_dim)` to the likelihood's
            parameters.
        likelihood: as for `keras_vae.VAE`. Defaults to `"bernoulli"`.
        num_codes: int. Codebook size K. Defaults to 64.
        code_dim: int. Size of each code vector. Defaults to 4.
        commitment: float >= 0. Weight of the commitment loss (beta in the paper). Defaults
            to 0.25.
        ema: bool. Exponential-moving-average codebook updates. Defaults to False.
        decay: float. Decay of the moving averages. Defaults to 0.99.
        seed: int or None. Seed of `sample`'s draws. Defaults to `None`.
        **kwargs: standard `keras.Model` arguments.

    Example:

    ```python
    vq = keras_vae.VQVAE.from_architecture((28, 28, 1), latent_dim=32, num_codes=64,
                                           code_dim=4)
    vq.compile()
    vq.fit(x_train, epochs=10, batch_size=100)
    vq.fit_code_prior(x_train)
    images = vq.sample(16, seed=0)
    ```

    References:
        van den Oord, A., Vinyals, O. and Kavukcuoglu, K. Neural Discrete Representation
        Learning. NeurIPS 2017.
    """

    generative = True

    @classmethod
    def recipe(cls, recipe):
        """On binarized images a latent of 32 (8 codes of 4 numbers), the size
        docs/results/models.md measured; the data's recipe elsewhere."""
        if recipe.binarize:
            return dataclasses.replace(recipe, latent_dim=32,
                                       why="8 codes of 4, docs/results/models.md")
        return recipe

    def __init__(self, encoder, decoder, likelihood="bernoulli", num_codes=64, code_dim=4,
                 commitment=0.25, ema=False, decay=0.99, seed=None, **kwargs):
        super().__init__(encoder, decoder, likelihood=likelihood, seed=seed, **kwargs)
        check_divisor("code_dim", code_dim, self.latent_dim,
                      "the latent size")
        check_number("commitment", commitment, 0)
        self.commitment = float(commitment)
        self.quantizer = VectorQuantizer(num_codes, code_dim, ema=ema, decay=decay,
                                         name="quantizer")
        self.num_codes, self.code_dim, self.ema, self.decay = num_codes, code_dim, ema, decay
        self.num_vectors = self.latent_dim // code_dim
        self.code_counts = self.add_weight(shape=(self.num_vectors, num_codes),
                                           name="code_counts", initializer="zeros",
                                           trainable=False)
        self.check_networks()
        self.track_loss_terms()

    @property
    def metric_names(self):
        names = ("loss", "reconstruction_loss", "commitment_loss", "codebook_perplexity")
        return names if self.ema else (*names[:2], "codebook_loss", *names[2:])

    def codes(self, x, training=False):
        """The code indices of images `x`, `(batch, latent_dim // code_dim)` int32."""
        return self.quantizer.nearest(self.encode(x, training=training)[0])[0]

    def latent_code(self, x, training=False):
        """The quantized latent vector z_q of each image."""
        return self.quantizer.nearest(self.encode(x, training=training)[0])[1]

    def loss_terms(self, x, training=False, seed=None):
        x = ops.cast(x, "float32")
        z_e = self.encode(x, training=training)[0]
        z, indices, z_q = self.quantizer(z_e, training=training)
        reconstruction = self.reconstruction_nll(x, z, training=training)
        codebook, commitment = self.quantizer.losses_per_example(z_e, z_q)
        loss = reconstruction + self.commitment * commitment
        terms = {"reconstruction_loss": reconstruction, "commitment_loss": commitment}
        if not self.ema:
            loss = loss + codebook
            terms["codebook_loss"] = codebook
        used = perplexity(indices, self.num_codes)
        terms["codebook_perplexity"] = ops.broadcast_to(used, ops.shape(loss))
        return {"loss": loss, **terms}

    # ------------------------------------------------------------------ the code prior

    def after_fit(self, images):
        """Fits the code prior on the training images (`fit_code_prior`)."""
        self.fit_code_prior(images)

    def evaluation_metrics(self, images, labels=None, batch_size=500):
        """The codebook's use on `images`: the perplexity of the code frequencies (K when
        every code is used equally, 1 when one is), the codes used and the dead ones."""
        codes = np.concatenate([np.asarray(self.codes(images[i:i + batch_size]))
                                for i in range(0, len(images), batch_size)])
        counts = np.bincount(codes.ravel(), minlength=self.num_codes)
        p = counts[counts > 0] / counts.sum()
        return {"codebook_perplexity": float(np.exp(-np.sum(p * np.log(p)))),
                "codes_used": int(np.sum(counts > 0)),
                "dead_codes": int(np.sum(counts == 0)),
                "num_codes": self.num_codes}

    def fit_code_prior(self, images, batch_size=500):
        """Counts each position's code use over `images` (the simple prior `sample` draws
        from); returns the counts `(latent_dim // code_dim, num_codes)`."""
        counts = np.zeros((self.num_vectors, self.num_codes), np.float64)
        for start in range(0, len(images), batch_size):
            # Batch by batch: images streamed from files (`data.ImageFiles`) decode a slice
            # at a time.
            batch = self._checked(np.asarray(images[start:start + batch_size], np.float32),
                                  "images")
            codes = np.asarray(self.codes(batch))
            for position in range(self.num_vectors):
                counts[position] += np.bincount(codes[:, position], minlength=self.num_codes)
        self.code_counts.assign(counts.astype("float32"))
        return counts

    def dead_codes(self):
        """Codes no position used in the images `fit_code_prior` counted."""
        return int(np.sum(np.asarray(self.code_counts).sum(0) == 0))

    @property
    def ready_to_sample(self):
        return float(ops.sum(self.code_counts)) > 0

    @property
    def sampling_description(self):
        return "of codes from the training code frequencies"

    def sample(self, n, seed=None):
        """Decoder means of `n` code grids drawn position by position from the code
        frequencies of `fit_code_prior` (a simple prior, not the paper's PixelCNN)."""
        check_count(n)
        if tf.executing_eagerly() and not self.ready_to_sample:
            raise ValueError(
                "A VQVAE samples codes from the frequencies `fit_code_prior(images)` counts; "
                "call it after training first. Received: a model whose code prior is empty")
        logits = ops.log(self.code_counts + 1e-6)
        draws = tf.random.stateless_categorical(
            tf.tile(logits, [n, 1]), 1, seed=seed_pair(self.noise_seed(seed)), dtype=tf.int32)
        indices = ops.reshape(draws, (-1, self.num_vectors))
        return self.decode(self.quantizer.lookup(indices))

    # ------------------------------------------------------------------ serving, config

    def serving_endpoints(self):
        images = tf.TensorSpec((None, *self.data_shape), tf.float32, name="images")

        def codes(images):
            return {"codes": self.codes(images)}

        return {**super().serving_endpoints(), "codes": (codes, [images])}

    def serving_metadata(self):
        metadata = super().serving_metadata()
        metadata["signatures"]["codes"] = "images -> codes (int32 code index per position)"
        metadata["signatures"]["sample"] += (", codes drawn position by position from the "
                                             "training code frequencies")
        return {**metadata, "num_codes": self.num_codes, "code_dim": self.code_dim,
                "ema": self.ema}

    def get_config(self):
        return {**super().get_config(), "num_codes": self.num_codes,
                "code_dim": self.code_dim, "commitment": self.commitment, "ema": self.ema,
                "decay": self.decay}


__all__ = ["VQVAE"]
