"""The package side of the log-likelihood benchmark: importance sampling at K = 5000 on the
IWAE paper's 784-200-200-50 tanh model, through `keras_vae.evaluation`.

Writes the model's weights and the binarized images to `--exchange` (an .npz) so that the
PyTorch evaluator scores the very same model on the very same images.
"""

import time

import keras
import numpy as np

import keras_vae
from common import load_mnist_images, parse_args, report


def main(argv=None):
    args = parse_args(argv, k=5000, images=200, model="", exchange="is_exchange.npz")
    keras.utils.set_random_seed(args.seed)
    if args.model:
        model = keras.models.load_model(args.model)
    else:
        model = keras_vae.VAE.from_architecture((28, 28, 1), 50, hidden_units=[200, 200],
                                                activation="tanh")
    pixels = load_mnist_images(args.data_dir)[-args.images:]
    images = keras_vae.data.binarize_once(pixels, seed=args.seed).reshape(-1, 28, 28, 1)
    weights = {}
    for network in (model.encoder, model.decoder):
        for layer in network.layers:
            if layer.weights:
                kernel, bias = layer.get_weights()
                weights[f"{network.name}/{layer.name}/kernel"] = kernel
                weights[f"{network.name}/{layer.name}/bias"] = bias
    np.savez(args.exchange, images=images.reshape(len(images), -1), **weights)
    evaluate = keras_vae.evaluation.importance_sampled_log_likelihood
    evaluate(model, images[:20], k=args.k, verbose=0)  # warm-up: traces and compiles
    start = time.perf_counter()
    result = evaluate(model, images, k=args.k, verbose=0, seed=args.seed)
    seconds = time.perf_counter() - start
    estimates = result["log_likelihood"]
    report(name="keras_vae_is", samples_per_second=len(images) * args.k / seconds,
           seconds=seconds, images=len(images), k=args.k,
           log_likelihood=float(estimates.mean()),
           log_likelihood_stderr=float(estimates.std() / np.sqrt(len(estimates))))


if __name__ == "__main__":
    main()
