"""Reference: the pytorch/examples VAE (784-400-20, ReLU, Bernoulli), written plainly.

Same data (dynamically binarized, resampled every epoch), batch size and optimizer as the
package run it is compared with. Prints one `RESULT {json}` line: images per second over the
timed epochs, the mean loss (negative ELBO, nats per image) of every epoch, peak memory.
"""

import time

import torch
from torch import nn
from torch.nn import functional as F

from common import load_mnist_images, parse_args, report


class VAE(nn.Module):
    def __init__(self, hidden, latent):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        mu, log_var = self.fc21(h), self.fc22(h)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        return self.fc4(F.relu(self.fc3(z))), mu, log_var


def loss_function(logits, x, mu, log_var):
    """Negative ELBO summed over the batch: BCE over pixels plus the closed-form KL."""
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
    return bce + kl


def train_epoch(model, optimizer, images, batch_size):
    """One epoch over `images` in a new order, each batch binarized afresh; returns the summed
    negative ELBO."""
    order = torch.randperm(len(images))
    total = 0.0
    for i in range(0, len(images), batch_size):
        x = torch.bernoulli(images[order[i:i + batch_size]])
        optimizer.zero_grad()
        logits, mu, log_var = model(x)
        loss = loss_function(logits, x, mu, log_var)
        (loss / len(x)).backward()
        optimizer.step()
        total += loss.item()
    return total


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = torch.from_numpy(load_mnist_images(args.data_dir, args.train_images))
    model = VAE(args.hidden, args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    epoch_losses, timed_images, timed_seconds, epoch_seconds = [], 0, 0.0, []
    for epoch in range(args.warmup_epochs + args.epochs):
        start = time.perf_counter()
        total = train_epoch(model, optimizer, images, args.batch_size)
        seconds = time.perf_counter() - start
        epoch_losses.append(total / len(images))
        if epoch >= args.warmup_epochs:
            timed_images += len(images)
            timed_seconds += seconds
            epoch_seconds.append(seconds)
    report(name="pytorch", images_per_second=timed_images / timed_seconds,
           epoch_seconds=epoch_seconds, images=len(images),
           epoch_losses=epoch_losses, torch_threads=torch.get_num_threads(),
           torch_version=torch.__version__)


if __name__ == "__main__":
    main()
