"""The vector quantizer of the VQ-VAE (van den Oord et al. 2017) as a Keras layer."""

import keras
from keras import ops

from keras_vae.arguments import check_int


def nearest_codes(vectors, codebook):
    """Index of the nearest codebook row (squared Euclidean distance) for each of `vectors`
    `(n, code_dim)`; `codebook` is `(num_codes, code_dim)`. Returns `(n,)` int32."""
    distances = (ops.sum(vectors ** 2, axis=1, keepdims=True)
                 - 2.0 * ops.matmul(vectors, ops.transpose(codebook))
                 + ops.sum(codebook ** 2, axis=1)[None, :])
    return ops.cast(ops.argmin(distances, axis=1), "int32")


def perplexity(indices, num_codes):
    """exp(H) of the empirical distribution of `indices` over `num_codes` codes: 1 when one
    code is used, `num_codes` when all are used equally."""
    counts = ops.bincount(ops.reshape(indices, (-1,)), minlength=num_codes)
    p = ops.cast(counts, "float32") / ops.cast(ops.maximum(ops.sum(counts), 1), "float32")
    return ops.exp(-ops.sum(p * ops.log(p + 1e-10)))


@keras.saving.register_keras_serializable(package="keras_vae")
class VectorQuantizer(keras.layers.Layer):
    """Replaces each `code_dim`-vector of its input by the nearest of `num_codes` code vectors.

    #### Mathematical details

    For an encoder output z_e split into vectors of size `code_dim`, k = argmin_j
    ||z_e - e_j||^2 and z_q = e_k. The output is z_e + stop_gradient(z_q - z_e): its value is
    z_q, its gradient with respect to z_e the identity (the straight-through estimator).
    `losses(z_e, z_q)` gives, per example, the codebook loss ||sg(z_e) - z_q||^2 (which moves
    the codes) and the commitment loss ||z_e - sg(z_q)||^2 (which keeps the encoder near its
    codes), each summed over the example's vectors. With `ema=True` the codes are not trained
    by gradient but follow exponential moving averages of the vectors assigned to them
    (van den Oord et al. 2017, appendix A.1): N_j <- d N_j + (1 - d) n_j,
    m_j <- d m_j + (1 - d) sum_{i: k_i = j} z_e_i, e_j = m_j / N_j (N Laplace-smoothed), in
    training calls only.

    Args:
        num_codes: int. Size K of the codebook. Defaults to 64.
        code_dim: int. Size of each code vector. Defaults to 4.
        ema: bool. Update the codebook by moving averages instead of its loss. Defaults to
            False.
        decay: float in (0, 1). Decay d of the moving averages. Defaults to 0.99.
        **kwargs: standard `keras.layers.Layer` arguments.

    References:
        van den Oord, A., Vinyals, O. and Kavukcuoglu, K. Neural Discrete Representation
        Learning. NeurIPS 2017.
    """

    def __init__(self, num_codes=64, code_dim=4, ema=False, decay=0.99, **kwargs):
        super().__init__(**kwargs)
        check_int("num_codes", num_codes, 2)
        check_int("code_dim", code_dim, 1)
        self.num_codes, self.code_dim = num_codes, code_dim
        if not isinstance(ema, bool):
            raise ValueError(f"Argument `ema` must be a bool. Received: ema={ema!r}")
        if not (isinstance(decay, (int, float)) and 0 < decay < 1):
            raise ValueError(f"Argument `decay` must be a number in (0, 1). Received: "
                             f"decay={decay!r}")
        self.ema, self.decay = ema, float(decay)
        self.codebook = self.add_weight(
            shape=(self.num_codes, self.code_dim), name="codebook", trainable=not ema,
            initializer=keras.initializers.VarianceScaling(1.0, "fan_in", "uniform"))
        if ema:
            self.ema_counts = self.add_weight(shape=(self.num_codes,), name="ema_counts",
                                              initializer="ones", trainable=False)
            self.ema_sums = self.add_weight(shape=(self.num_codes, self.code_dim),
                                            name="ema_sums", trainable=False,
                                            initializer="zeros")
            self._ema_started = self.add_weight(shape=(), name="ema_started",
                                                initializer="zeros", trainable=False)
        self.built = True

    def vectors(self, z_e):
        """`z_e` `(batch, latent_dim)` as `(batch, latent_dim // code_dim, code_dim)`."""
        return ops.reshape(z_e, (-1, z_e.shape[-1] // self.code_dim, self.code_dim))

    def nearest(self, z_e):
        """`(indices, z_q)`: `(batch, vectors)` code indices and the quantized `z_e`, shaped
        like `z_e`, without the straight-through trick."""
        vectors = self.vectors(z_e)
        flat = ops.reshape(vectors, (-1, self.code_dim))
        indices = nearest_codes(flat, ops.convert_to_tensor(self.codebook))
        z_q = ops.reshape(ops.take(self.codebook, indices, axis=0), ops.shape(z_e))
        return ops.reshape(indices, ops.shape(vectors)[:2]), z_q

    def lookup(self, indices):
        """Code indices `(batch, vectors)` to latent vectors `(batch, vectors * code_dim)`."""
        z_q = ops.take(self.codebook, ops.cast(indices, "int32"), axis=0)
        return ops.reshape(z_q, (-1, indices.shape[-1] * self.code_dim))

    def call(self, z_e, training=False):
        """Returns `(z, indices, z_q)`: the straight-through output, the code indices and the
        plain quantized vectors. A training call with `ema=True` updates the codebook."""
        indices, z_q = self.nearest(z_e)
        if training and self.ema:
            self._update_ema(ops.reshape(z_e, (-1, self.code_dim)), ops.reshape(indices, (-1,)))
        z = z_e + ops.stop_gradient(z_q - z_e)
        return z, indices, z_q

    def _update_ema(self, flat, indices):
        flat = ops.stop_gradient(flat)
        one_hot = ops.one_hot(indices, self.num_codes, dtype=flat.dtype)
        counts = ops.sum(one_hot, axis=0)
        sums = ops.matmul(ops.transpose(one_hot), flat)
        # The first update starts the averages at the codebook (N_j = 1, m_j = e_j).
        started = self._ema_started > 0
        old_counts = ops.where(started, self.ema_counts, ops.ones_like(self.ema_counts))
        old_sums = ops.where(started, self.ema_sums, ops.convert_to_tensor(self.codebook))
        new_counts = self.decay * old_counts + (1 - self.decay) * counts
        new_sums = self.decay * old_sums + (1 - self.decay) * sums
        total = ops.sum(new_counts)
        smoothed = (new_counts + 1e-5) / (total + self.num_codes * 1e-5) * total
        self.ema_counts.assign(new_counts)
        self.ema_sums.assign(new_sums)
        self.codebook.assign(new_sums / smoothed[:, None])
        self._ema_started.assign(1.0)

    def losses_per_example(self, z_e, z_q):
        """`(codebook_loss, commitment_loss)`, each `(batch,)`: ||sg(z_e) - z_q||^2 and
        ||z_e - sg(z_q)||^2 summed over the example's vectors."""
        codebook = ops.sum((ops.stop_gradient(z_e) - z_q) ** 2, axis=-1)
        commitment = ops.sum((z_e - ops.stop_gradient(z_q)) ** 2, axis=-1)
        return codebook, commitment

    def compute_output_spec(self, z_e, training=False):
        vectors = z_e.shape[-1] // self.code_dim
        return (keras.KerasTensor(z_e.shape, z_e.dtype),
                keras.KerasTensor((z_e.shape[0], vectors), "int32"),
                keras.KerasTensor(z_e.shape, z_e.dtype))

    def get_config(self):
        return {**super().get_config(), "num_codes": self.num_codes, "code_dim": self.code_dim,
                "ema": self.ema, "decay": self.decay}


__all__ = ["VectorQuantizer", "nearest_codes", "perplexity"]
