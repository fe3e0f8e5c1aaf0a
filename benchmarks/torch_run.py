"""Reference for a whole training run: a plain PyTorch loop doing what `keras-vae train` does
per epoch, timed as a user times it (the whole process, `time python torch_run.py`).

The pytorch/examples VAE (784-400-20, ReLU, Bernoulli; `torch_reference.VAE`), Adam 1e-3,
batch 128, on the shared MNIST with 10% held out at random: every epoch trains on freshly
binarized images in a new order, then scores the held-out images (binarized once) with one
ELBO sample, prints the epoch's losses, and at the end saves the weights. Prints one
`RESULT {json}` line.
"""

import time

import numpy as np
import torch

from common import load_mnist_images, parse_args, report
from torch_reference import VAE, loss_function, train_epoch


def main(argv=None):
    start = time.perf_counter()
    args = parse_args(argv, validation_fraction=0.1, output="")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = load_mnist_images(args.data_dir, args.train_images)
    order = np.random.default_rng(args.seed).permutation(len(images))
    held_out = int(round(len(images) * args.validation_fraction))
    train = torch.from_numpy(images[order[held_out:]])
    val = torch.bernoulli(torch.from_numpy(images[order[:held_out]]))
    model = VAE(args.hidden, args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        model.train()
        total = train_epoch(model, optimizer, train, args.batch_size)
        model.eval()
        val_total = 0.0
        with torch.no_grad():
            for i in range(0, len(val), 500):
                x = val[i:i + 500]
                logits, mu, log_var = model(x)
                val_total += loss_function(logits, x, mu, log_var).item()
        print(f"epoch {epoch + 1}: loss {total / len(train):.2f}, val_loss "
              f"{val_total / len(val):.2f}", flush=True)
    if args.output:
        torch.save(model.state_dict(), args.output)
    report(name="pytorch_run", epochs=args.epochs, train_images=len(train),
           validation_images=held_out, seconds_in_main=time.perf_counter() - start)


if __name__ == "__main__":
    main()
