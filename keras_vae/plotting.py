"""Figures of a trained model, saved as PNG with matplotlib."""

import math

# Figures are made with matplotlib's object API and saved to files: no pyplot, so importing
# keras_vae leaves the user's backend (a notebook's inline one, plt.show()) as it is.
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
import numpy as np

from keras_vae.data.conditions import as_tensors, images_of, take


def tile_images(images, ncols):
    """Tiles images into one array, row by row, one white pixel between cells.

    Args:
        images: array of shape `(n, height, width, channels)`.
        ncols: int. Images per row.

    Returns:
        A float32 array of shape `(rows * (height + 1) - 1, ncols * (width + 1) - 1,
        channels)`, `rows = ceil(n / ncols)`; cells past the last image are white (1).
    """
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
    grid = np.clip(tile_images(images, ncols), 0.0, 1.0)
    cmap = "gray" if grid.shape[-1] == 1 else None
    grid = grid[..., 0] if grid.shape[-1] == 1 else grid
    height, width = grid.shape[:2]
    scale = 8.0 / max(height, width)
    fig = Figure(figsize=(max(width * scale, 3.0), height * scale + 0.6))
    ax = fig.subplots()
    ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def save_reconstructions(model, images, path, n=10):
    """Saves `n` images (top rows) above their deterministic reconstructions (bottom rows)."""
    examples = take(images, 0, n)  # images, or images and labels for a conditional model
    images = np.asarray(images_of(examples), dtype=np.float32)
    reconstructions = np.asarray(model(as_tensors(examples), training=False))
    ncols = min(n, 10)
    rows = []
    for start in range(0, len(images), ncols):
        rows += [images[start:start + ncols], reconstructions[start:start + ncols]]
    title = "originals (odd rows) and reconstructions: decoder mean at the latent code"
    return save_image_grid(np.concatenate(rows), path, title, ncols=ncols)


def save_samples(model, path, n=100, seed=0):
    """Saves decoder means of `n` latent vectors drawn from the model's prior p(z)."""
    samples = np.asarray(model.sample(n, seed=seed))
    title = f"decoder means of {n} draws {model.sampling_description} (seed {seed})"
    return save_image_grid(samples, path, title, ncols=min(n, 10))


def save_conditional_samples(model, path, n=10, seed=0):
    """Saves a conditional model's decoder means for `n` draws z ~ p(z) (columns), each
    decoded with every label (rows): what changes along a row is the style z holds, down a
    column the class."""
    z = model.prior.sample(n, seed=seed, posterior_of=model.posterior_distribution)
    classes = model.num_classes
    images = model.decode(np.tile(np.asarray(z), (classes, 1)), np.repeat(np.arange(classes), n))
    title = f"decoder means: one z ~ p(z) per column (seed {seed}), labels 0..{classes - 1} " \
        "by row"
    return save_image_grid(np.asarray(images), path, title, ncols=n)


def save_latent_manifold(model, path, n=20):
    """Decodes a grid of prior quantiles for a 2-D latent space (Kingma & Welling 2014, Fig. 4).

    The grid points are z = (Phi^-1(u), Phi^-1(v)) for u, v evenly spaced in (0, 1), so that
    equal areas of the picture hold equal prior mass. Shows decoder means.
    """
    if model.latent_dim != 2:
        raise ValueError(
            "The latent manifold needs a 2-D latent space. Received: a model with "
            f"latent_dim={model.latent_dim}"
        )
    from statistics import NormalDist

    quantiles = np.linspace(0.5 / n, 1 - 0.5 / n, n)
    values = np.array([NormalDist().inv_cdf(q) for q in quantiles], np.float32)
    z = np.array([[x, y] for y in values[::-1] for x in values], np.float32)
    images = np.asarray(model.decode(z))
    title = f"decoder means on a {n}x{n} grid of prior quantiles of z (2-D latent manifold)"
    return save_image_grid(images, path, title, ncols=n)


def _principal_components(z, k=2):
    centred = z - z.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    points = centred @ vt[:k].T  # fewer than k columns for fewer than k images
    return np.pad(points, ((0, 0), (0, k - points.shape[1])))


def save_latent_scatter(z_mean, labels, path):
    """Posterior means of images coloured by label; the first two principal components when
    the latent space is wider than 2-D."""
    z_mean = np.asarray(z_mean, np.float64)
    if z_mean.shape[1] > 2:
        points, axes = _principal_components(z_mean), ("PC 1 of E[z|x]", "PC 2 of E[z|x]")
    else:
        points = z_mean if z_mean.shape[1] == 2 else np.c_[z_mean, np.zeros(len(z_mean))]
        axes = ("E[z_1|x]", "E[z_2|x]")
    fig = Figure(figsize=(7, 6))
    ax = fig.subplots()
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.7)
    else:
        scatter = ax.scatter(points[:, 0], points[:, 1], c=np.asarray(labels), cmap="tab10",
                             s=4, alpha=0.7)
        fig.colorbar(scatter, ax=ax, label="label")
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(f"posterior means of {len(z_mean)} images")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def save_interpolations(model, images, path, pairs=5, steps=10):
    """Decoder means along straight lines between the posterior means of pairs of images."""
    pairs = min(pairs, len(images) // 2)
    images = np.asarray(images[: 2 * pairs], np.float32)
    z_mean = np.asarray(model.latent_code(images))
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    rows = [(1 - weights) * z_mean[2 * i] + weights * z_mean[2 * i + 1] for i in range(pairs)]
    decoded = np.asarray(model.decode(np.concatenate(rows)))
    title = "decoder means along lines between the posterior means of two images"
    return save_image_grid(decoded, path, title, ncols=steps)


def save_training_curves(history, path):
    """Loss, reconstruction and KL (those the history has) per epoch, train and validation."""
    keys = [key for key in ("loss", "reconstruction_loss", "kl_loss") if key in history]
    fig = Figure(figsize=(14 * len(keys) / 3, 4))
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    for ax, key in zip(axes, keys):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + key in history:
                values = history[prefix + key]
                ax.plot(range(1, len(values) + 1), values, style,
                        label="validation" if prefix else "train")
        ax.set_title(f"{key} (nats per example)")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def save_kl_per_dimension(kl_per_dim, activity, path, threshold=0.01):
    """Bar chart of the KL per latent dimension, active units (Burda et al.) highlighted."""
    kl_per_dim = np.asarray(kl_per_dim)
    active = np.asarray(activity) > threshold
    fig = Figure(figsize=(max(6, 0.25 * len(kl_per_dim) + 2), 4))
    ax = fig.subplots()
    ax.bar(np.arange(len(kl_per_dim)), kl_per_dim,
           color=np.where(active, "tab:blue", "tab:gray"))
    ax.set_xlabel("latent dimension (blue: active, Cov_x E[z_j|x] > 0.01)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("E_x KL(q(z_j|x) || N(0, 1)), nats")
    ax.set_title(f"KL per latent dimension: {int(active.sum())} of {len(active)} units active")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def save_confusion_matrix(confusion, path, title="confusion matrix"):
    """Saves a confusion matrix (rows: true class, columns: predicted), counts in the cells,
    shaded by the share of each true class."""
    confusion = np.asarray(confusion)
    classes = len(confusion)
    shares = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(max(4.0, 0.55 * classes + 1.5),) * 2)
    ax = fig.subplots()
    ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for (row, column), count in np.ndenumerate(confusion):
        ax.text(column, row, str(count), ha="center", va="center", fontsize=8,
                color="white" if shares[row, column] > 0.5 else "black")
    ax.set_xticks(range(classes))
    ax.set_yticks(range(classes))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def prior_quantiles(steps, low=0.05, high=0.95) -> np.ndarray:
    """`steps` values of z_j ~ N(0, 1) at evenly spaced probabilities from `low` to `high`
    (the inverse normal CDF): a sweep over the prior."""
    from statistics import NormalDist

    return np.array([NormalDist().inv_cdf(q) for q in np.linspace(low, high, steps)],
                    np.float32)


def save_latent_traversals(model, images, importance, path, steps=9, max_dims=16,
                           importance_name="KL, nats"):
    """Latent traversals: for each of `images`, its latent code with one dimension swept over
    the prior's quantiles (`prior_quantiles`), decoded; one row per dimension, the dimensions
    in decreasing order of `importance` `(latent_dim,)` (their KL; `importance_name` says
    what it is), at most `max_dims` of
    them; within a row, one block of `steps` columns per image. None where the model has no
    traversals (`latent_traversals` returns None)."""
    values = prior_quantiles(steps)
    decoded = model.latent_traversals(np.asarray(images, np.float32), values)
    if decoded is None:
        return None
    importance = np.asarray(importance, np.float64)
    order = np.argsort(-importance)[:max_dims]
    rows = np.asarray(decoded)[order]  # (dims, images, steps, h, w, c)
    dims, count = rows.shape[:2]
    grid = np.clip(tile_images(rows.reshape(-1, *rows.shape[3:]), count * steps), 0.0, 1.0)
    height = rows.shape[3] + 1
    cmap = "gray" if grid.shape[-1] == 1 else None
    grid = grid[..., 0] if grid.shape[-1] == 1 else grid
    # At least one screen pixel per image pixel (at dpi 100): smaller, the 1-pixel lines
    # between images vanish and neighbouring images merge.
    scale = max(10.0 / max(grid.shape[:2]), 0.01)
    fig = Figure(figsize=(grid.shape[1] * scale + 1.5, grid.shape[0] * scale + 0.8))
    ax = fig.subplots()
    ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_yticks([height * row + height / 2 - 1 for row in range(dims)])
    ax.set_yticklabels([f"z{j} ({importance[j]:.2f})" for j in order], fontsize=7)
    ax.set_xticks([])
    ax.set_title(f"latent traversals of {count} images: z_j from {values[0]:.2f} to "
                 f"{values[-1]:.2f} (prior quantiles 5%-95%), one row per dimension, by "
                 f"{importance_name}{f'; the {dims} largest' if dims < len(importance) else ''}",
                 fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
