"""Reference: a plain PyTorch conv VAE on the CIFAR-10 folder, written for the comparison.

The folder is decoded to one uint8 tensor once (PIL), the package's held-out split kept
apart; the network is the package's `--architecture conv --hidden-units 32 64 128
--latent-dim 128`: three 3x3 stride-2 convolutions (ReLU), linear heads, a linear projection
to a 4x4x128 grid, three 3x3 stride-2 transposed convolutions (128, 64, 32) and a 3x3
convolution to a mean and a raw scale per channel; a discretized logistic likelihood on the
256 levels (the end bins take the tails, s = softplus(raw) + 1e-3); batch 128, Adam 1e-3.
Prints one `RESULT {json}` line: images/s of the timed epochs, the loss of every epoch,
held-out bits/dim (negative ELBO / (3072 ln 2)).
"""

import math
import time

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from cifar_common import folder_files, parse_args, report, split


class ConvVAE(nn.Module):
    def __init__(self, latent, widths=(32, 64, 128)):
        super().__init__()
        layers, channels = [], 3
        for width in widths:
            layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.ReLU()]
            channels = width
        self.encoder = nn.Sequential(*layers, nn.Flatten())
        self.heads = nn.Linear(4 * 4 * widths[-1], 2 * latent)
        self.project = nn.Linear(latent, 4 * 4 * widths[-1])
        layers = []
        for width in reversed(widths):
            layers += [nn.ConvTranspose2d(channels, width, 3, stride=2, padding=1,
                                          output_padding=1), nn.ReLU()]
            channels = width
        self.decoder = nn.Sequential(*layers, nn.Conv2d(channels, 6, 3, padding=1))
        self.widths = widths

    def forward(self, x):
        mu, log_var = self.heads(self.encoder(x)).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        h = F.relu(self.project(z)).view(-1, self.widths[-1], 4, 4)
        loc, raw_scale = self.decoder(h).chunk(2, dim=1)
        return loc, F.softplus(raw_scale) + 1e-3, mu, log_var


def discretized_logistic_log_prob(x, loc, scale):
    """log P(k) of the levels k = 255 x, summed per image: bins of half-width 1/510 in units
    of x, the end bins taking the tails."""
    half = 0.5 / 255
    upper, lower = (x + half - loc) / scale, (x - half - loc) / scale
    log_upper = F.logsigmoid(upper)  # log F(upper): level 0
    log_lower_tail = F.logsigmoid(-lower)  # log (1 - F(lower)): level 255
    middle = torch.log(torch.clamp(torch.sigmoid(upper) - torch.sigmoid(lower), min=1e-12))
    log_p = torch.where(x < half, log_upper, torch.where(x > 1 - half, log_lower_tail, middle))
    return log_p.flatten(1).sum(1)


def negative_elbo(model, x):
    loc, scale, mu, log_var = model(x)
    kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp(), dim=1)
    return -discretized_logistic_log_prob(x, loc, scale) + kl


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    files, _ = folder_files(args.data_dir)
    start = time.perf_counter()
    images = torch.from_numpy(np.stack([np.asarray(Image.open(f).convert("RGB"))
                                        for f in files])).permute(0, 3, 1, 2).contiguous()
    decode_seconds = time.perf_counter() - start
    train, held_out = split(len(files))
    if args.train_images:
        train = train[:args.train_images]
    train_images = images[torch.from_numpy(train)]
    model = ConvVAE(args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses, epoch_seconds = [], []
    for epoch in range(args.warmup_epochs + args.epochs):
        start, total = time.perf_counter(), 0.0
        order = torch.randperm(len(train_images))
        for i in range(0, len(order), args.batch_size):
            x = train_images[order[i:i + args.batch_size]].float() / 255
            optimizer.zero_grad()
            loss = negative_elbo(model, x).mean()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        epoch_seconds.append(time.perf_counter() - start)
        losses.append(total / len(train_images))
    timed = epoch_seconds[args.warmup_epochs:]
    result = dict(name="pytorch", images_per_second=len(train_images) * len(timed) / sum(timed),
                  epoch_seconds=timed, images=len(train_images), epoch_losses=losses,
                  decode_seconds=decode_seconds, torch_threads=torch.get_num_threads(),
                  torch_version=torch.__version__)
    if args.evaluate:
        with torch.no_grad():
            held = images[torch.from_numpy(held_out)]
            nelbo = torch.cat([negative_elbo(model, held[i:i + 500].float() / 255)
                               for i in range(0, len(held), 500)])
        result["held_out_bits_per_dim"] = float(nelbo.mean()) / (3072 * math.log(2))
    report(**result)


if __name__ == "__main__":
    main()
