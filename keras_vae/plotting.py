"""Figures of a trained model, saved as PNG with matplotlib."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _tile(images, ncols):
    """Tiles `(n, h, w, c)` images into one `(rows*h, ncols*w, c)` array (blank cells white)."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w, c = images.shape
    rows = math.ceil(n / ncols)
    grid = np.ones((rows * (h + 1) - 1, ncols * (w + 1) - 1, c), dtype=np.float32)
    for i, image in enumerate(images):
        r, q = divmod(i, ncols)
        grid[r * (h + 1): r * (h + 1) + h, q * (w + 1): q * (w + 1) + w] = image
    return grid


def save_image_grid(images, path, title, ncols=10):
    """Saves `(n, height, width, channels)` images in [0, 1] as a grid in a PNG file."""
    grid = np.clip(_tile(images, ncols), 0.0, 1.0)
    cmap = "gray" if grid.shape[-1] == 1 else None
    grid = grid[..., 0] if grid.shape[-1] == 1 else grid
    height, width = grid.shape[:2]
    scale = 8.0 / max(height, width)
    fig, ax = plt.subplots(figsize=(max(width * scale, 3.0), height * scale + 0.6))
    ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def save_reconstructions(model, images, path, n=10):
    """Saves `n` images (top rows) above their deterministic reconstructions (bottom rows)."""
    images = np.asarray(images[:n], dtype=np.float32)
    reconstructions = np.asarray(model(images, training=False))
    ncols = min(n, 10)
    rows = []
    for start in range(0, len(images), ncols):
        rows += [images[start:start + ncols], reconstructions[start:start + ncols]]
    title = "originals (odd rows) and reconstructions: decoder mean at z = E[q(z|x)]"
    return save_image_grid(np.concatenate(rows), path, title, ncols=ncols)


def save_samples(model, path, n=100, seed=0):
    """Saves decoder means of `n` latent vectors drawn from the prior N(0, I)."""
    samples = np.asarray(model.sample(n, seed=seed))
    title = f"decoder means of {n} draws z ~ N(0, I) (seed {seed})"
    return save_image_grid(samples, path, title, ncols=min(n, 10))
