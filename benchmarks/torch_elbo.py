"""The plain PyTorch VAE of `torch_reference.py`, scored on the package's validation split.

A check of the package's MNIST figure against an independent implementation: the same
held-out images as `keras-vae train --dataset mnist` (a `default_rng(split_seed)`
permutation, the first `validation_fraction` held out, binarized once with
`default_rng(seed + 1)`), the same training budget, and Adam with a constant learning rate or
a cosine decay to 0 over the run. Prints the validation negative ELBO (one z per image, nats
per image) after every epoch, then one `RESULT {json}` line.

    python benchmarks/torch_elbo.py --hidden 500 --batch-size 100 --epochs 20 \
        --warmup-epochs 0 --learning-rate 1e-3 --schedule constant
"""

import math

import numpy as np
import torch

from common import load_mnist_images, parse_args, report
from torch_reference import VAE, loss_function


def main(argv=None):
    args = parse_args(argv, learning_rate=2e-3, schedule="cosine", validation_fraction=0.1,
                      split_seed=0)
    if args.schedule not in ("cosine", "constant"):
        raise ValueError(f"Argument `--schedule` must be cosine or constant. "
                         f"Received: {args.schedule!r}")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = load_mnist_images(args.data_dir, args.train_images)
    n_val = max(1, int(round(len(images) * args.validation_fraction)))
    order = np.random.default_rng(args.split_seed).permutation(len(images))
    x_train = torch.from_numpy(images[order[n_val:]])
    x_val = images[order[:n_val]]
    x_val = torch.from_numpy(
        (np.random.default_rng(args.seed + 1).random(x_val.shape) < x_val).astype(np.float32))

    model = VAE(args.hidden, args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    epochs = args.warmup_epochs + args.epochs
    total_steps = epochs * math.ceil(len(x_train) / args.batch_size)

    def factor(step):
        if args.schedule == "constant":
            return 1.0
        return 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    val_losses = []
    for epoch in range(epochs):
        permutation = torch.randperm(len(x_train))
        for i in range(0, len(x_train), args.batch_size):
            x = torch.bernoulli(x_train[permutation[i:i + args.batch_size]])
            optimizer.zero_grad()
            logits, mu, log_var = model(x)
            (loss_function(logits, x, mu, log_var) / len(x)).backward()
            optimizer.step()
            scheduler.step()
        with torch.no_grad():
            logits, mu, log_var = model(x_val)
            val_losses.append(loss_function(logits, x_val, mu, log_var).item() / len(x_val))
        print(f"epoch {epoch + 1}: validation negative ELBO {val_losses[-1]:.2f}", flush=True)
    report(name="pytorch-elbo", validation_loss=val_losses[-1], validation_losses=val_losses,
           num_train_images=len(x_train), num_validation_images=n_val,
           learning_rate=args.learning_rate, schedule=args.schedule)


if __name__ == "__main__":
    main()
