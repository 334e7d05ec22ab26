#!/usr/bin/python3
"""The book's recipes in PyTorch, as a peer for fmtrain's accuracy figures.

Runs, on this machine, with Debian's python3-torch (call it as /usr/bin/python3):
  book   the book model, all 60,000 training images, Adam 1e-3, batch 32, 10 epochs
  small  the small model on the first 500 images, batch 40, 20 epochs
  aug    the same, 50 epochs, horizontal flip (p=0.5) and a height shift drawn as Keras does
         (choice(3) * choice([-1, 1]) rows, edges repeated)
  kaug   aug with Keras' own generator doing the shuffling and augmenting: keras-preprocessing's
         ImageDataGenerator(horizontal_flip=True, height_shift_range=3).flow(x, y, batch_size=40),
         seeded (Debian's python3-keras-preprocessing and python3-scipy)
--shift-axis cols moves the augmenting shift to the columns, as tf.keras 2.2-2.18 do for
height_shift_range (their transform swaps the axes; keras-team/keras#17398).
with Keras' defaults: Glorot-uniform kernels, zero biases, Adam(lr=1e-3, eps=1e-7) in tf.keras'
form (epsilon added to sqrt(v), implemented by hand), sparse categorical cross-entropy from logits,
a fresh shuffle each epoch, the last partial batch kept. Prints one JSON line per run with the test
accuracy after the last epoch.

Usage: /usr/bin/python3 scripts/torch_recipes.py RECIPE [--seeds 1,2,3] [--threads 2] [--data DIR]
                                                     [--shift-axis rows|cols]
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

from bench_torch import book_model  # the same model fmbench times (scripts/ is on sys.path)


def load(data, split):
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(os.path.join(data, prefix + "-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(data, prefix + "-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.tensor(x, dtype=torch.float32) / 255.0, torch.tensor(y, dtype=torch.long)


def small_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(64 * 11 * 11, 32), nn.ReLU(), nn.Linear(32, 10))


def keras_init(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # fan_in/out as Keras for (OC,C,KH,KW) and (out,in)
            nn.init.zeros_(m.bias)


class KerasAdam:
    """tf.keras Adam: lr_t = lr*sqrt(1-b2^t)/(1-b1^t); w -= lr_t*m/(sqrt(v)+eps)."""

    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
        self.params = [p for p in params]
        self.lr, self.b1, self.b2, self.eps, self.t = lr, b1, b2, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        self.t += 1
        lr_t = self.lr * math.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            m.mul_(self.b1).add_(g, alpha=1 - self.b1)
            v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
            p.sub_(lr_t * m / (v.sqrt() + self.eps))


def augment(x, gen, axis):
    """Horizontal flip with p=0.5 and a Keras integer shift of range 3 (rows, or columns)."""
    out = x.clone()
    n = x.shape[0]
    flips = torch.rand(n, generator=gen) < 0.5
    out[flips] = out[flips].flip(-1)
    mags = torch.randint(0, 3, (n,), generator=gen)
    signs = torch.randint(0, 2, (n,), generator=gen) * 2 - 1
    rows = torch.arange(28)
    for i in range(n):
        s = int(mags[i] * signs[i])
        if s:
            src = (rows - s).clamp(0, 27)  # nearest fill: edge rows repeat
            if axis == "rows":
                out[i, :, :, :] = out[i, :, src, :]
            else:
                out[i, :, :, :] = out[i, :, :, src]
    return out


def keras_batches(x, y, batch, seed, axis):
    """Yields one epoch's batches from keras-preprocessing's ImageDataGenerator, as Keras' fit does."""
    from keras_preprocessing.image import ImageDataGenerator
    if axis == "rows":
        gen = ImageDataGenerator(horizontal_flip=True, height_shift_range=3)
    else:
        gen = ImageDataGenerator(horizontal_flip=True, width_shift_range=3)
    flow = gen.flow(x.permute(0, 2, 3, 1).numpy(), y.numpy(), batch_size=batch, shuffle=True, seed=seed)
    while True:
        for _ in range(len(flow)):
            xb, yb = next(flow)
            yield torch.from_numpy(np.ascontiguousarray(xb.transpose(0, 3, 1, 2))), torch.from_numpy(yb).long()


def run(recipe, seed, threads, data, axis):
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(seed + 1000)
    xtr, ytr = load(data, "train")
    xte, yte = load(data, "test")
    if recipe == "book":
        model, epochs, batch = book_model(), 10, 32
    else:
        model, batch = small_model(), 40
        epochs = 20 if recipe == "small" else 50
        xtr, ytr = xtr[:500], ytr[:500]
        if recipe == "kaug":
            np.random.seed(seed)  # Keras draws each transform from numpy's global generator
            kflow = keras_batches(xtr, ytr, batch, seed, axis)
    keras_init(model)
    opt = KerasAdam(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    n = xtr.shape[0]
    start = time.time()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        for lo in range(0, n, batch):
            idx = perm[lo:lo + batch]
            xb, yb = xtr[idx], ytr[idx]
            if recipe == "aug":
                xb = augment(xb, gen, axis)
            elif recipe == "kaug":
                xb, yb = next(kflow)
            for p in model.parameters():
                p.grad = None
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        correct = sum((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, 10000, 1000))
    return {"recipe": recipe, "seed": seed, "threads": threads, "epochs": epochs,
            "shift_axis": axis if recipe in ("aug", "kaug") else None,
            "test_accuracy": correct / 10000, "seconds": round(time.time() - start, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("recipe", choices=["book", "small", "aug", "kaug"])
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default=os.environ.get("FMNIST_DATA", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--shift-axis", choices=["rows", "cols"], default="rows")
    a = ap.parse_args()
    for s in a.seeds.split(","):
        print(json.dumps(run(a.recipe, int(s), a.threads, a.data, a.shift_axis)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
