"""Reference: a plain PyTorch importance-sampling evaluator, chunks of 1,000 samples per image.

Reads the weights and binarized images that `package_is.py` wrote, so both score the same
model on the same images. Prints one `RESULT {json}` line.
"""

import math
import time

import numpy as np
import torch
from torch.nn import functional as F

from common import parse_args, report


def main(argv=None):
    args = parse_args(argv, k=5000, chunk=1000, exchange="is_exchange.npz")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = np.load(args.exchange)
    w = {key: torch.from_numpy(data[key]) for key in data.files if "/" in key}
    images = torch.from_numpy(data["images"])

    def dense(h, name, activation=None):
        h = h @ w[name + "/kernel"] + w[name + "/bias"]
        return activation(h) if activation else h

    @torch.no_grad()
    def log_likelihood(x):
        h = dense(dense(x[None], "encoder/hidden_0", torch.tanh), "encoder/hidden_1", torch.tanh)
        mu = dense(h, "encoder/z_mean")
        log_var = 30.0 * torch.tanh(dense(h, "encoder/z_log_var") / 30.0)  # as keras_vae
        parts = []
        for _ in range(args.k // args.chunk):
            eps = torch.randn(args.chunk, mu.shape[1])
            z = mu + torch.exp(0.5 * log_var) * eps
            g = dense(dense(z, "decoder/hidden_0", torch.tanh), "decoder/hidden_1", torch.tanh)
            logits = dense(g, "decoder/params")
            log_px_z = -F.binary_cross_entropy_with_logits(
                logits, x.expand_as(logits), reduction="none").sum(1)
            log_prior = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(1)
            log_q = -0.5 * (eps.pow(2) + log_var + math.log(2 * math.pi)).sum(1)
            parts.append(log_px_z + log_prior - log_q)
        return (torch.logsumexp(torch.cat(parts), 0) - math.log(args.k)).item()

    log_likelihood(images[0])  # warm-up
    start = time.perf_counter()
    estimates = np.array([log_likelihood(x) for x in images])
    seconds = time.perf_counter() - start
    report(name="pytorch_is", samples_per_second=len(images) * args.k / seconds,
           seconds=seconds, images=len(images), k=args.k,
           log_likelihood=float(estimates.mean()),
           log_likelihood_stderr=float(estimates.std() / np.sqrt(len(estimates))),
           torch_threads=torch.get_num_threads())


if __name__ == "__main__":
    main()
