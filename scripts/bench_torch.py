#!/usr/bin/python3
"""PyTorch's side of fmbench: the book's model trained and run on the CPU.

Run with Debian's /usr/bin/python3 (torch 1.13). It builds the book's model
(Conv 32, pool, Conv 64, pool, Conv 128, Flatten, Dense 64, Dense 10, 3x3
kernels, ReLU, channels-first), trains it with Adam (lr 1e-3, eps 1e-7, as
Keras) and CrossEntropyLoss on logits at the given batch size with
torch.set_num_threads(threads), on the first --images Fashion-MNIST training
images (random images if the files are missing; the JSON says which), and
measures samples/s after a warm-up of a fifth of --duration. Then it times
inference (eval mode, no_grad) at batch 1, 32 and 256. It prints one JSON
object on standard output; progress goes nowhere.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn


def book_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3), nn.ReLU(),
        nn.Flatten(),
        nn.Linear(1152, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def load(img, lab, n):
    """Returns n images (n, 1, 28, 28) in [0, 1] and labels from the gzip
    IDX files img and lab, and whether they are the real data."""
    try:
        with gzip.open(img, "rb") as f:
            x = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
        with gzip.open(lab, "rb") as f:
            y = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    except OSError:
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, size=n * 784, dtype=np.uint8)
        y = rng.integers(0, 10, size=n, dtype=np.uint8)
        real = False
    else:
        real = True
    n = min(n, len(y))
    x = torch.from_numpy((x[: n * 784].reshape(n, 1, 28, 28) / 255.0).astype(np.float32))
    y = torch.from_numpy(y[:n].astype(np.int64))
    return x, y, real


def measure(duration, items, f):
    """Calls f(i) for a fifth of duration (warm-up), then for duration;
    returns items per second."""
    i = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < duration / 5:
        f(i)
        i += 1
    calls = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < duration or calls < 3:
        f(i)
        i += 1
        calls += 1
    return calls * items / (time.perf_counter() - t0), calls


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--images", type=int, default=4096)
    ap.add_argument("--data", default=os.environ.get("FMNIST_DATA") or "/usr/share/datasets/fashion-mnist")
    ap.add_argument("--images-file", help="gzip IDX images to use instead of --data's training set")
    ap.add_argument("--labels-file", help="gzip IDX labels going with --images-file")
    ap.add_argument("--no-infer", action="store_true", help="skip the inference measurements")
    a = ap.parse_args()
    if a.threads < 1 or a.batch < 1 or a.duration <= 0 or a.images < 256:
        sys.exit("bench_torch.py: --threads, --batch, --duration must be positive and --images >= 256")

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    img = a.images_file or os.path.join(a.data, "train-images-idx3-ubyte.gz")
    lab = a.labels_file or os.path.join(a.data, "train-labels-idx1-ubyte.gz")
    x, y, real = load(img, lab, a.images)
    model = book_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    nb = len(y) // a.batch

    def step(i):
        b = i % nb
        xb, yb = x[b * a.batch:(b + 1) * a.batch], y[b * a.batch:(b + 1) * a.batch]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

    model.train()
    train_rate, steps = measure(a.duration, a.batch, step)

    infer = {}
    if not a.no_infer:
        model.eval()
        with torch.no_grad():
            for bs in (1, 32, 256):
                nbi = len(y) // bs

                def fwd(i, bs=bs, nbi=nbi):
                    b = i % nbi
                    torch.softmax(model(x[b * bs:(b + 1) * bs]), dim=1)

                infer[str(bs)], _ = measure(a.duration, bs, fwd)

    json.dump({
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": a.batch,
        "steps": steps,
        "real_data": real,
        "train_samples_per_s": train_rate,
        "infer_images_per_s": infer,
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
