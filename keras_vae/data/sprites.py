"""Sprites: binary 64x64 images of a shape drawn from known factors, made by a program.

`Sprites` follows the factors of dSprites (Matthey et al. 2017), the dataset that
disentanglement is measured on: shape (square, ellipse, heart), 6 scales, 40 orientations and
32 x 32 positions, 737,280 images in all, each with its factor values. It is drawn here by a
deterministic program (dSprites' own generator was never published and its file cannot be
downloaded here), so its pixels are not dSprites' pixels: the same factors, the same grid of
values, shapes of similar size. As in dSprites, orientation runs over 40 values of
`linspace(0, 2 pi, 40)` (0 and 2 pi both), so that a square repeats itself every quarter turn
and an ellipse every half turn.

It is a ground-truth dataset in disentanglement_lib's sense: `sample_factors(n, rng)` draws
factor indices uniformly and `images(factors)` renders any of them, which the disentanglement
metrics (`keras_vae.evaluation.disentanglement`) use to draw images with a factor held fixed.
"""

import numpy as np

FACTOR_NAMES = ("shape", "scale", "orientation", "position_x", "position_y")
SHAPES = ("square", "ellipse", "heart")
SIZE = 64
# Half the extent of a shape at scale 1, in pixels, and the margin its centre keeps from the
# image border, so that every shape at every orientation lies inside the image.
RADIUS = 11.0
MARGIN = 12.0
# Pixels rendered at once: bounds the temporary arrays to a few hundred MiB.
CHUNK = 2048


class Sprites:
    """The dSprites-like ground-truth dataset (see the module docstring).

    Attributes:
        factor_names: tuple of str. `("shape", "scale", "orientation", "position_x",
            "position_y")`.
        factor_sizes: tuple of int. `(3, 6, 40, 32, 32)`.
        image_shape: `(64, 64, 1)`.

    Example:

    ```python
    sprites = keras_vae.data.Sprites()
    factors = sprites.sample_factors(1000, np.random.default_rng(0))  # (1000, 5) indices
    images = sprites.images(factors)  # (1000, 64, 64, 1) float32, 0 or 1
    everything = sprites.all_factors()  # (737280, 5), in dSprites' order
    for images, factors in sprites.dataset(batch_size=256):  # the whole set, drawn as read
        ...
    ```

    References:
        Matthey, L. et al. dSprites: Disentanglement testing Sprites dataset. 2017.
        https://github.com/deepmind/dsprites-dataset
    """

    factor_names = FACTOR_NAMES
    factor_sizes = (len(SHAPES), 6, 40, 32, 32)
    image_shape = (SIZE, SIZE, 1)

    def __init__(self):
        self.scales = np.linspace(0.5, 1.0, 6)
        self.orientations = np.linspace(0.0, 2.0 * np.pi, 40)
        self.positions = np.linspace(0.0, 1.0, 32)

    @property
    def num_images(self) -> int:
        return int(np.prod(self.factor_sizes))

    def sample_factors(self, n, rng) -> np.ndarray:
        """`n` factor vectors `(n, 5)` of int indices, each factor uniform and independent,
        drawn with the numpy Generator `rng`."""
        return np.stack([rng.integers(0, size, n) for size in self.factor_sizes], axis=1)

    def all_factors(self) -> np.ndarray:
        """Every factor vector `(737280, 5)`, the last factor varying fastest (dSprites'
        order)."""
        grids = np.meshgrid(*[np.arange(size) for size in self.factor_sizes], indexing="ij")
        return np.stack([grid.ravel() for grid in grids], axis=1)

    def check_factors(self, factors) -> np.ndarray:
        factors = np.asarray(factors)
        if (factors.ndim != 2 or factors.shape[1] != len(self.factor_sizes)
                or not np.issubdtype(factors.dtype, np.integer)):
            raise ValueError(
                f"Argument `factors` must be an integer array (n, {len(self.factor_sizes)}) of "
                f"indices of {self.factor_names}. Received: shape {factors.shape}, dtype "
                f"{factors.dtype}")
        if (factors < 0).any() or (factors >= np.array(self.factor_sizes)).any():
            raise ValueError(f"Argument `factors` must hold indices below {self.factor_sizes} "
                             f"per factor. Received: from {factors.min(axis=0)} to "
                             f"{factors.max(axis=0)}")
        return factors

    def images(self, factors) -> np.ndarray:
        """The images of `factors` (`(n, 5)` int indices): `(n, 64, 64, 1)` float32 of 0 and 1."""
        factors = self.check_factors(factors)
        out = np.empty((len(factors), SIZE, SIZE, 1), np.float32)
        for start in range(0, len(factors), CHUNK):
            out[start:start + CHUNK, ..., 0] = self._draw(factors[start:start + CHUNK])
        return out

    def dataset(self, batch_size=64, factors=None):
        """A `tf.data.Dataset` of `(images, factors)` batches over `factors` (default: the
        whole set, `all_factors()`, in order), each batch drawn as it is read: the 737,280
        images (12 GiB as float32) never sit in memory at once."""
        import tensorflow as tf

        factors = self.all_factors() if factors is None else self.check_factors(factors)

        def draw(batch):
            images = tf.numpy_function(self.images, [batch], tf.float32)
            return tf.ensure_shape(images, (None, *self.image_shape)), batch

        return (tf.data.Dataset.from_tensor_slices(factors).batch(batch_size)
                .map(draw, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))

    def sample(self, n, seed=0):
        """`(images, factors)` of `n` images with uniformly drawn factors (`seed` an int)."""
        factors = self.sample_factors(n, np.random.default_rng(seed))
        return self.images(factors), factors

    def _draw(self, factors):
        """A pixel is on when its centre, in the shape's own frame (centred, turned back by the
        orientation, divided by the scale's radius), lies inside the unit shape."""
        shape, scale, angle, x, y = factors.T
        radius = (RADIUS * self.scales[scale])[:, None, None]
        span = SIZE - 2.0 * MARGIN
        centre_x = (MARGIN + span * self.positions[x])[:, None, None]
        centre_y = (MARGIN + span * self.positions[y])[:, None, None]
        theta = self.orientations[angle][:, None, None]
        pixels = np.arange(SIZE) + 0.5
        dx = (pixels[None, None, :] - centre_x) / radius
        dy = (pixels[None, :, None] - centre_y) / radius
        # Turned back by theta (counter-clockwise on screen, y pointing down).
        u = np.cos(theta) * dx - np.sin(theta) * dy
        v = np.sin(theta) * dx + np.cos(theta) * dy
        inside = np.zeros(np.broadcast_shapes(u.shape, v.shape), bool)
        for index, name in enumerate(SHAPES):
            chosen = shape == index
            if chosen.any():
                inside[chosen] = _inside(name, u[chosen], v[chosen])
        return inside


def _inside(name, u, v):
    """Whether the points (u, v) (y down) lie inside the unit shape `name`, which fits in the
    unit disc: a square of half-side 1/sqrt(2), an ellipse of half-axes 1 and 1/2, and the
    heart (a^2 + b^2 - 1)^3 - a^2 b^3 <= 0 scaled into the disc and pointing down."""
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 1.0 / np.sqrt(2.0)
    if name == "ellipse":
        return u ** 2 + (2.0 * v) ** 2 <= 1.0
    a, b = 1.35 * u, -1.35 * v + 0.1
    return (a ** 2 + b ** 2 - 1.0) ** 3 - a ** 2 * b ** 3 <= 0.0


__all__ = ["FACTOR_NAMES", "SHAPES", "Sprites"]
