"""Evaluates a trained model on a set of images and writes metrics, figures and a report.

`keras-vae evaluate` (`evaluate_path`) and the end of a training run
(`keras_vae.app.training.evaluate_run`) both call `evaluate_model`; the estimators it reports are
`keras_vae.evaluation`'s.
"""

import json
import os
import time

import numpy as np

from keras_vae import data, plotting
from keras_vae.app import report
from keras_vae.atomic import atomic_write
from keras_vae.arguments import check_int, check_positive
from keras_vae.data.conditions import as_tensors, images_of, model_examples, take
from keras_vae.evaluation.amortization import amortization_gap
from keras_vae.evaluation.elbo import elbo_terms
from keras_vae.evaluation.latents import active_units, kl_per_dimension, latent_codes
from keras_vae.evaluation.likelihood import affordable_k, importance_sampled_log_likelihood
from keras_vae.app.runs import load_run, read_history


LOG_LIKELIHOODS_FILE = "log_likelihoods.npy"


def save_array_atomically(path, values) -> None:
    with atomic_write(path, suffix=".npy") as temporary:
        np.save(temporary, np.asarray(values))


def paired_difference(dir_a, dir_b):
    """`(mean, standard error)` of log p(x) in run (or evaluation) directory `dir_a` minus
    that in `dir_b`, image by image (their `log_likelihoods.npy`), nats: the images must be
    the same ones, in the same order."""
    for name, path in (("dir_a", dir_a), ("dir_b", dir_b)):
        if not os.path.isfile(os.path.join(path, LOG_LIKELIHOODS_FILE)):
            raise ValueError(
                f"Argument `{name}` must be a run or evaluation directory holding "
                f"{LOG_LIKELIHOODS_FILE} (written by every evaluation since it was added; "
                f"`keras-vae evaluate RUN` writes one). Received: {name}={path!r}")
    a, b = (np.load(os.path.join(path, LOG_LIKELIHOODS_FILE)) for path in (dir_a, dir_b))
    if a.shape != b.shape:
        raise ValueError(
            "Arguments `dir_a` and `dir_b` must hold estimates of the same images. Received: "
            f"{len(a)} images in {dir_a} and {len(b)} in {dir_b}")
    difference = a - b
    return float(difference.mean()), float(difference.std() / np.sqrt(len(difference)))


class EvaluationStageFailed(RuntimeError):
    """A stage of `evaluate_model` failed; what the stages before it wrote is kept."""


class Stages:
    """Runs an evaluation's stages one after another: each announced and timed on the log
    (`verbose`), each one's failure turned into one `EvaluationStageFailed` line that names
    the stage and what was written before it. `seconds` holds each finished stage's time."""

    def __init__(self, output_dir, verbose):
        self.output_dir, self.verbose, self.seconds = output_dir, verbose, {}

    def run(self, name, function, *args, **kwargs):
        if self.verbose == 1:  # its progress bar follows; at 2, one line per stage
            print(f"Evaluation stage '{name}'...")
        start = time.perf_counter()
        try:
            value = function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - re-raised as one line naming the stage
            written = sorted(os.listdir(self.output_dir))
            raise EvaluationStageFailed(
                f"The evaluation's stage '{name}' failed after "
                f"{time.perf_counter() - start:.0f} s ({type(error).__name__}: "
                f"{' '.join(str(error).split())[:500]}); written before it in "
                f"{self.output_dir}: {', '.join(written) or 'nothing'}") from error
        self.seconds[name] = round(time.perf_counter() - start, 3)
        if self.verbose:
            print(f"Evaluation stage '{name}' took {self.seconds[name]:.1f} s.")
        return value


def chosen_k(model, examples, k, max_k, seconds, seed=0, verbose=1):
    """`k` where given; else the largest K up to `max_k` that fits the importance-sampled
    estimate into `seconds` (`keras_vae.evaluation.affordable_k`), or `max_k` without a
    time limit. Says which, and why."""
    if k is not None:
        return check_int("k", k, 1)
    check_int("max_k", max_k, 1)
    if seconds is None:
        return max_k
    chosen = affordable_k(model, examples, seconds, most=max_k, seed=seed)
    if verbose:
        print(f"K = {chosen} importance samples per image fits the evaluation's budget of "
              f"{seconds:.0f} s" + (f" (K = {max_k} would not; a K you give, --k or --eval-k, "
                                    "is used as it is)" if chosen < max_k else ""))
    return chosen


def write_metrics(output_dir, metrics) -> None:
    """`metrics.json`, strict JSON, written atomically."""
    with atomic_write(os.path.join(output_dir, "metrics.json")) as temporary, \
            open(temporary, "w") as f:
        json.dump(json_safe(metrics), f, indent=2, allow_nan=False)


def evaluate_model(
    model,
    images,
    output_dir,
    labels=None,
    k=None,
    split="validation",
    split_source="",
    amortization_images=0,
    history=None,
    config=None,
    extra_metrics=None,
    seed=0,
    verbose=1,
    max_k=5000,
    time_budget=None,
    stages=None,
):
    """Writes `metrics.json`, the figures and `report.html` into `output_dir`; returns the metrics.

    The evaluation runs in stages (the log-likelihood, the latent diagnostics, the
    amortization gap, the model's own figures, the figures and report), each shown and timed
    on the log; `metrics.json` and `log_likelihoods.npy` are written as soon as the
    log-likelihoods are, and a failing stage raises `EvaluationStageFailed`, one line naming
    it. Their times are in `metrics.json` under `evaluation_seconds`.

    Args:
        model: a trained `keras_vae.VAE`, or another model of the family (an `Autoencoder`
            is scored by its reconstructions only: no likelihood of x, no prior, no samples).
        images: float array `(n, *data_shape)`, preprocessed as for training (binarize them
            first when the model was trained on binarized images).
        output_dir: str. Created if missing.
        labels: int array `(n,)` or None. Colours of the latent scatter plot; the condition
            of a conditional model (required there: its figures are of log p(x|y)).
        k: int or None. Importance samples per image; None: as many as `time_budget` allows,
            at most `max_k`.
        split: str. Name of the split, recorded in the metrics.
        split_source: str. Where the images come from, in words.
        amortization_images: int. Images on which the amortization gap is measured (0, the
            default: skip; it refines each image's posterior with 300 Adam steps).
        history: dict or None. Per-epoch logs, for the training curves.
        config: dict or None. The run's configuration, shown in the report.
        extra_metrics: dict or None. More entries for `metrics.json` and the report.
        seed: int. Seed of every estimate.
        verbose: int. 1 prints progress.
        max_k: int. The largest K chosen when `k` is None. Defaults to 5000.
        time_budget: float or None. Seconds the log-likelihood may take when `k` is None.
        stages: `Stages` or None. The stages run before (their times are reported with
            these).
    """
    os.makedirs(output_dir, exist_ok=True)
    images = np.asarray(images, np.float32)
    if not model.has_posterior:
        return _evaluate_reconstructions(model, images, output_dir, labels, split, split_source,
                                         history, config, extra_metrics, seed, verbose)
    examples = model_examples(model, images, labels)
    stages = stages or Stages(output_dir, verbose)
    k = stages.run("choose K", chosen_k, model, examples, k, max_k, time_budget, seed, verbose)
    if verbose:
        print(f"Evaluating on {len(images)} {split} images ({split_source}) with K = {k}"
              + (", each with its label as the condition" if model.conditional else ""))
    estimate = stages.run("log-likelihood", importance_sampled_log_likelihood, model, examples,
                          k=k, seed=seed, verbose=int(verbose == 1))  # 2: no bars, as fit's
    metrics = {
        "units": "nats per image",
        "split": split,
        "split_source": split_source,
        "num_images": int(len(images)),
        "k": k,
        "log_likelihood": float(estimate["log_likelihood"].mean()),
        "log_likelihood_stderr": float(estimate["log_likelihood"].std() / np.sqrt(len(images))),
        "elbo": float(estimate["elbo"].mean()),
        "likelihood": model.likelihood.kind,
        "bits_per_dim_reported": bool(model.likelihood.reports_bits_per_dim),
    }
    if model.likelihood.reports_bits_per_dim:  # 8-bit values: bits per dimension
        per_image = model.bits_per_dim(estimate["log_likelihood"])
        metrics.update({
            "log_likelihood_bits_per_dim": float(per_image.mean()),
            "log_likelihood_bits_per_dim_stderr": float(per_image.std() / np.sqrt(len(images))),
            "elbo_bits_per_dim": float(model.bits_per_dim(metrics["elbo"])),
        })
    metrics.update(extra_metrics or {})
    # Each image's estimate, in the order of `images`: runs scored on the same images compare
    # by paired differences, whose standard error is far below that of either mean. Written
    # first: a later stage's failure keeps them.
    save_array_atomically(os.path.join(output_dir, LOG_LIKELIHOODS_FILE),
                          estimate["log_likelihood"])
    metrics["log_likelihoods_file"] = LOG_LIKELIHOODS_FILE
    write_metrics(output_dir, {**metrics, "evaluation_seconds": stages.seconds})
    codes, count, activity, kl_dims = stages.run(
        "latent diagnostics", _latent_diagnostics, model, examples, metrics, seed)
    if amortization_images and not model.conditional:  # it refines the encoder's outputs
        gap = stages.run("amortization gap", amortization_gap, model,
                         images[:amortization_images], seed=seed, verbose=int(verbose == 1))
        metrics.update({
            "amortization_gap": gap["amortization_gap"],
            "amortization_elbo_encoder": gap["elbo_encoder"],
            "amortization_elbo_refined": gap["elbo_refined"],
            "amortization_images": int(min(amortization_images, len(images))),
        })
    metrics.update(stages.run("model's own metrics", model.evaluation_metrics, images,
                                      labels))
    metrics.update(extra_metrics or {})
    write_metrics(output_dir, {**metrics, "evaluation_seconds": stages.seconds})
    figures = stages.run("figures", save_figures, model, examples, labels, codes, kl_dims,
                         activity, output_dir, history, seed)
    metrics["evaluation_seconds"] = stages.seconds
    write_metrics(output_dir, metrics)
    report.write_report(os.path.join(output_dir, "report.html"), metrics, figures, config)
    if verbose:
        bits = (f" ({metrics['log_likelihood_bits_per_dim']:.3f} bits/dim, ELBO "
                f"{metrics['elbo_bits_per_dim']:.3f})" if "elbo_bits_per_dim" in metrics else
                " nats per image" + (" (binary pixels: no 8-bit bits/dim)"
                                     if model.likelihood.kind == "bernoulli" else ""))
        print(f"{split}: log p(x) ~ {metrics['log_likelihood']:.2f} (K = {k}), ELBO "
              f"{metrics['elbo']:.2f}{bits}, active units {count}/{model.latent_dim}. "
              f"Written to {output_dir}")
    return metrics


def _latent_diagnostics(model, examples, metrics, seed):
    """Adds the one-sample ELBO terms, squared error, active units and KL per dimension to
    `metrics`; returns `(codes, active count, activity, KL per dimension)`."""
    codes = latent_codes(model, examples)
    count, activity = active_units(codes)
    kl_dims = kl_per_dimension(model, examples)
    recon_terms = elbo_terms(model, examples, seed=seed)
    metrics.update({
        "elbo_one_sample": float(recon_terms["elbo"]),
        "reconstruction_loss": float(recon_terms["reconstruction_loss"]),
        "kl_loss": float(recon_terms["kl_loss"]),
        "squared_error": squared_error(model, examples),
        "active_units": count,
        "latent_dim": int(model.latent_dim),
        **model.distribution_summary(),
        "conditioned_on_labels": bool(model.conditional),
        "kl_per_dim": None if kl_dims is None else [float(v) for v in kl_dims],
        "activity_per_dim": [float(v) for v in activity],
    })
    if model.likelihood.reports_bits_per_dim:
        metrics["elbo_one_sample_bits_per_dim"] = float(
            model.bits_per_dim(metrics["elbo_one_sample"]))
    return codes, count, activity, kl_dims


def _evaluate_reconstructions(model, images, output_dir, labels, split, split_source, history,
                              config, extra_metrics, seed, verbose):
    """`evaluate_model` for a model without a likelihood of x (an `Autoencoder`): the
    reconstruction loss and squared error, the latent codes and the figures that apply."""
    if verbose:
        print(f"Evaluating on {len(images)} {split} images ({split_source})")
    codes = latent_codes(model, images)
    terms = elbo_terms(model, images, seed=seed)
    metrics = {
        "units": "nats per image",
        "model": type(model).__name__,
        "split": split,
        "split_source": split_source,
        "num_images": int(len(images)),
        "reconstruction_loss": float(terms["reconstruction_loss"]),
        "squared_error": squared_error(model, images),
        "latent_dim": int(model.latent_dim),
        "likelihood": model.likelihood.kind,
    }
    # A bound the model reports (the Gumbel-softmax VAE's, with relaxed samples).
    metrics.update({key: float(terms[key]) for key in ("elbo", "kl_loss") if key in terms})
    metrics.update(model.evaluation_metrics(images, labels))
    metrics.update(extra_metrics or {})
    write_metrics(output_dir, metrics)
    figures = save_figures(model, images, labels, codes, None, None, output_dir, history, seed)
    report.write_report(os.path.join(output_dir, "report.html"), metrics, figures, config)
    if verbose:
        accuracy = (f", accuracy {metrics['accuracy']:.2%} (error {metrics['error']:.2%})"
                    if "accuracy" in metrics else "")  # a classifying model's own figure
        print(f"{split}: reconstruction loss {metrics['reconstruction_loss']:.2f} nats, squared "
              f"error {metrics['squared_error']:.2f} per image{accuracy}. Written to "
              f"{output_dir}")
    return metrics


def squared_error(model, images, batch_size=500):
    """Mean over `images` of the summed squared error of their deterministic reconstructions
    (`model(x)`, the decoder mean at the latent code); `images` as the model takes them."""
    total, n = 0.0, len(images_of(images))
    for start in range(0, n, batch_size):
        batch = take(images, start, start + batch_size)
        reconstructions = np.asarray(model(as_tensors(batch)))
        total += float(np.sum((reconstructions - images_of(batch)) ** 2))
    return total / n


def json_ready(values):
    """Keras' logs as JSON values: numpy floats as Python floats."""
    return {k: (float(v) if isinstance(v, (np.floating, float)) else v)
            for k, v in values.items()}


def json_safe(value):
    """`value` with every non-finite float (NaN, inf) replaced by None: strict JSON, which a
    bare `NaN` is not."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


def save_figures(model, images, labels, z_mean, kl_dims, activity, output_dir, history=None,
                 seed=0):
    """Saves every figure of a model into `output_dir`; returns `{caption: file name}`."""
    def path(name):
        return os.path.join(output_dir, name)

    figures = {
        "Originals (odd rows) and reconstructions": plotting.save_reconstructions(
            model, images, path("reconstructions.png"), n=20),
    }
    if model.generative:
        figures["Samples from the prior (decoder means)"] = plotting.save_samples(
            model, path("samples.png"), n=100, seed=seed)
    figures.update(model.own_figures(path, seed=seed, images=images_of(images), labels=labels))
    if model.conditional:
        figures["One z per column, one label per row"] = plotting.save_conditional_samples(
            model, path("samples_by_label.png"), seed=seed)
    figures["Latent space"] = plotting.save_latent_scatter(
        z_mean[:5000], None if labels is None else labels[:5000], path("latent_space.png"))
    # A line between two codes has no one label to decode with; and it needs two images.
    if not model.conditional and len(images) >= 2:
        figures["Interpolations"] = plotting.save_interpolations(model, images,
                                                                 path("interpolations.png"))
    by_kl = kl_dims is not None and len(kl_dims) == model.latent_dim
    if (by_kl or activity is not None) and len(images) >= 1:
        traversals = plotting.save_latent_traversals(
            model, images_of(images)[:3], kl_dims if by_kl else activity,
            path("traversals.png"),
            importance_name="KL, nats" if by_kl else "variance of E[z_j|x]")
        if traversals:
            figures["Latent traversals: one row per latent dimension"] = traversals
    if kl_dims is not None:
        figures["KL per latent dimension"] = plotting.save_kl_per_dimension(
            kl_dims, activity, path("kl_per_dim.png"))
    if model.latent_dim == 2 and model.has_posterior and not model.conditional:
        # a grid of z decoded by one decoder
        figures["2-D latent manifold"] = plotting.save_latent_manifold(
            model, path("latent_manifold.png"))
    if history:
        figures["Training curves"] = plotting.save_training_curves(
            history, path("training_curves.png"))
    return {caption: os.path.basename(file) for caption, file in figures.items()}


def evaluate_path(model_path, dataset=None, data_dir=None, split=None, k=None,
                  output_dir=None, binarize=None, amortization_images=0, max_images=None,
                  validation_fraction=0.1, split_seed=0, seed=None, verbose=1, max_k=5000,
                  time_budget=600.0, disentanglement=False, disentanglement_points=None):
    """Evaluates a `.keras` file or a run directory on a dataset split (see `evaluate_model`).

    `split="test"` (the default) takes the dataset's test split (MNIST's `t10k-*` files) when
    there is one and otherwise the held-out validation split, and says which. Dataset,
    binarization and split settings default to the run's own `config.json`. A `data_dir`
    holding a folder of images or an array file other than the run's own is a set kept apart:
    every one of its images is scored (`split` does not apply), read as the run's training
    images were (its `image_size`, `color_mode`, keys; for a bare `.keras` file, the model's
    input size and channels). `seed=None` means the run's seed (0 for a bare `.keras` file),
    the seed of the samples. Images are binarized once with `split_seed + 1` (validation and
    test) or `split_seed + 2` (train), the run's split seed where there is a run, as
    `keras_vae.app.training.train` did for its `metrics.json`: re-scoring a run uses the very
    images it was scored on, and runs of any seed are scored on the same ones. `k=None`
    takes as many importance samples as fit `time_budget` seconds, at most `max_k` (5000,
    Burda et al.'s). With `disentanglement` (data with known factors,
    `keras_vae.data.ground_truth`), the five disentanglement metrics of the model's latent
    codes join `metrics.json` and the report, each metric's full output in
    `disentanglement.json` (`disentanglement_points`: see `disentanglement_metrics`).
    Returns `(output_dir, metrics)`.
    """
    if k is not None:
        check_int("k", k, 1)
    if time_budget is not None:
        check_positive("time_budget", time_budget)
    if split not in (None, "train", "validation", "test"):
        raise ValueError("Argument `split` must be one of ['train', 'validation', 'test']. "
                         f"Received: split={split!r}")
    if max_images is not None:
        check_int("max_images", max_images, 1, "(or None for the whole split)")
    check_int("amortization_images", amortization_images, 0, "(0 skips the amortization gap)")
    if disentanglement_points is not None:
        check_int("disentanglement_points", disentanglement_points, 2,
                  "(or None for disentanglement_lib's sizes)")
    model, config = load_run(model_path)
    if seed is None:
        seed = config.seed if config is not None else 0
    # The run's own data, however the path is spelled (relative, through a link): its splits.
    own_data = config is not None and config.data_dir is not None and (
        data_dir is None or os.path.realpath(data_dir) == os.path.realpath(config.data_dir))
    kept_apart = data_dir is not None and not own_data and (
        dataset in (None, "folder", "arrays")) and data.infer_dataset(data_dir) in (
        "folder", "arrays")
    if kept_apart:
        images, labels, source, dataset = _kept_apart(model, config, data_dir, split, dataset,
                                                      verbose)
        split = "test"
    else:
        if config is not None:
            dataset = dataset or (config.dataset if data_dir is None else None)
            data_dir = config.data_dir if own_data else data_dir
            validation_fraction, split_seed = config.validation_fraction, config.split_seed
        split = split or "test"
        # The run's own options: its files', or the images it drew (sprites' num_images).
        same_source = config is not None and data_dir is None and dataset == config.dataset
        options = config.data_options() if own_data or same_source else {}
        splits = data.load(dataset, data_dir, validation_fraction, split_seed,
                           log=print if verbose else (lambda line: None), **options)
        dataset = splits.name
        if split == "train":
            images, labels, source = splits.x_train, splits.y_train, f"{dataset} training images"
        else:
            images, labels, source = splits.x_val, splits.y_val, splits.validation
            has_test = "test" in splits.validation
            if split == "test" and not has_test:
                source = "no test split here; the held-out validation split instead: " + source
    if config is not None and binarize is None:
        binarize = config.binarized
    if binarize is None:
        binarize = model.likelihood.binarize
    if max_images is not None:
        images = images[:max_images]
        labels = None if labels is None else labels[:max_images]
    images = np.asarray(images, np.float32)
    if binarize:
        images = data.binarize_once(images, seed=split_seed + (2 if split == "train" else 1))
        source += ", binarized once"
    history = read_history(model_path)
    if output_dir is None:
        base = model_path if os.path.isdir(model_path) else os.path.dirname(
            os.path.abspath(model_path))
        output_dir = os.path.join(base, f"evaluation-{split}" + (
            f"-k{k or 'auto'}" if model.has_posterior else ""))
    extra = {"dataset": dataset, "num_images": int(len(images))}
    if disentanglement:
        extra.update(disentanglement_of(model, data.ground_truth(dataset), output_dir, seed,
                                        disentanglement_points, verbose))
    elif disentanglement_points is not None:
        raise ValueError("Argument `disentanglement_points` applies with `disentanglement` "
                         f"only. Received: disentanglement_points={disentanglement_points!r}")
    metrics = evaluate_model(model, images, output_dir, labels=labels, k=k, max_k=max_k,
                             time_budget=time_budget, split=split,
                             split_source=source, amortization_images=amortization_images,
                             history=history, config=None if config is None else config.to_dict(),
                             extra_metrics=extra, seed=seed, verbose=verbose)
    return output_dir, metrics


def disentanglement_of(model, ground_truth, output_dir, seed=0, points=None, settings=None,
                       verbose=1) -> dict:
    """The five disentanglement metrics of `model`'s latent codes (`latent_codes`) on images
    drawn from `ground_truth` (`keras_vae.evaluation.disentanglement_metrics`): writes every
    metric's output to `disentanglement.json` in `output_dir` and returns the headline
    figures, each under `disentanglement_` + its name (`points`, `settings`: as
    `disentanglement_metrics` takes them)."""
    from keras_vae.evaluation.disentanglement import disentanglement_metrics

    if verbose:
        print(f"Disentanglement metrics on images drawn from {type(ground_truth).__name__} "
              f"(factors {', '.join(ground_truth.factor_names)}), "
              f"{'disentanglement_lib' if points is None else points} points...", flush=True)
    start = time.perf_counter()
    result = disentanglement_metrics(ground_truth, lambda images: latent_codes(model, images),
                                     seed=seed, points=points, settings=settings)
    seconds = time.perf_counter() - start
    os.makedirs(output_dir, exist_ok=True)
    details = {"points": points or "disentanglement_lib's defaults", "settings": settings,
               "seed": seed, "seconds": seconds, **result}
    with atomic_write(os.path.join(output_dir, "disentanglement.json")) as temporary, \
            open(temporary, "w") as f:
        json.dump(json_safe(details), f, indent=2, allow_nan=False)
    headline = {f"disentanglement_{key}": value for key, value in result.items()
                if key != "details"}
    if verbose:
        print("Disentanglement (" + f"{seconds:.0f} s): " + ", ".join(
            f"{key[len('disentanglement_'):]} {value:.3f}" for key, value in headline.items()))
    return {**headline, "disentanglement_points": points or "disentanglement_lib's defaults"}


def _kept_apart(model, config, data_dir, split, dataset, verbose):
    """Every image of `data_dir` (a folder or an array file), read as the run's training
    images were: `(images, labels, source, dataset)`."""
    if split is not None:
        raise ValueError(
            f"Argument `split` does not apply to {data_dir!r}, a set kept apart whose every "
            f"image is scored. Received: split={split!r}")
    kind = data.infer_dataset(data_dir)
    if dataset is not None and dataset != kind:
        data.check_source(dataset, data_dir)
    if config is not None and config.dataset in ("folder", "arrays"):
        options = {key: value for key, value in config.data_options().items()
                   if key not in ("validation_dir", "image_storage", "num_images")}
    else:  # as the model takes them: its input size and channels
        height, width, channels = (tuple(model.data_shape) + (1, 1, 1))[:3]
        options = {"image_size": (height, width),
                   "color_mode": {1: "grayscale", 3: "rgb"}.get(channels)}
    if kind == "arrays":
        options = {key: options.get(key) for key in ("array_key", "labels_key")}
    else:
        options.pop("array_key", None), options.pop("labels_key", None)
    images, labels, source = data.load_all(kind, data_dir, log=print if verbose else (
        lambda line: None), **options)
    if tuple(images.shape[1:]) != tuple(model.data_shape):
        raise ValueError(
            f"Argument `data_dir` must hold images of the model's input shape "
            f"{tuple(model.data_shape)}. Received: {data_dir!r} with images of "
            f"{tuple(images.shape[1:])}")
    if verbose:
        print(f"Scoring {source}.")
    return images, labels, source, kind
