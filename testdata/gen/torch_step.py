#!/usr/bin/python3
"""Reference for pkg/train's TestTorchStep: one training step of the book's
model in PyTorch, with the Keras form of Adam written out by hand.

Run from the repository root with Debian's Python (numpy, torch 1.13):

    /usr/bin/python3 testdata/gen/torch_step.py

It writes pkg/train/testdata/torch_step.json (metadata, labels, loss, the
SHA-256 of this script so the Go test can tell when the golden is stale) and
pkg/train/testdata/torch_step.bin.gz (little-endian float32 arrays listed in
the JSON: the input batch, the logits, every gradient, every updated weight).

Weights are set by a formula the Go test evaluates identically (no shared
PRNG needed): element j of parameter number t (0-based, in the model's
order conv1.weight, conv1.bias, ..., dense2.bias) is

    u = ((j * 2654435761 + 12345 * (t + 1)) mod 2**32) / 2**32
    w = float32((2*u - 1) * limit)

with limit = sqrt(6 / (fan_in + fan_out)) (Keras' Glorot limit) for kernels
and 0.1 for biases. The batch is the first 8 images of Fashion-MNIST's test
set (t10k), scaled by 1/255, with their labels.

Adam is NOT torch.optim.Adam: PyTorch adds epsilon to sqrt(v_hat), Keras to
sqrt(v) (see FACTS.md). Step 1 of Keras' Adam is computed here:
m = 0.1*g, v = (0.001*g)*g in float32, then in float64
lr_t = lr*sqrt(1-beta2^t)/(1-beta1^t), w -= lr_t*m/(sqrt(v)+eps), rounded
to float32, exactly as pkg/train/adam.go does.
"""
import gzip
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(ROOT, "pkg", "train", "testdata")
BATCH = 8


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def det_weights(t, shape, limit):
    n = int(np.prod(shape))
    j = np.arange(n, dtype=np.uint64)
    u = ((j * np.uint64(2654435761) + np.uint64(12345 * (t + 1))) % np.uint64(2 ** 32)).astype(np.float64) / 2.0 ** 32
    return ((2 * u - 1) * limit).astype(np.float32).reshape(shape)


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    images = read_idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz"))[:BATCH]
    labels = read_idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz"))[:BATCH]
    x = (images.astype(np.float32) / np.float32(255)).reshape(BATCH, 1, 28, 28)

    # (name, shape, fan_in, fan_out) in the Go model's parameter order.
    specs = [
        ("conv1.weight", (32, 1, 3, 3), 9 * 1, 9 * 32), ("conv1.bias", (32,), 0, 0),
        ("conv2.weight", (64, 32, 3, 3), 9 * 32, 9 * 64), ("conv2.bias", (64,), 0, 0),
        ("conv3.weight", (128, 64, 3, 3), 9 * 64, 9 * 128), ("conv3.bias", (128,), 0, 0),
        ("dense1.weight", (64, 1152), 1152, 64), ("dense1.bias", (64,), 0, 0),
        ("dense2.weight", (10, 64), 64, 10), ("dense2.bias", (10,), 0, 0),
    ]
    params = []
    for t, (name, shape, fi, fo) in enumerate(specs):
        limit = math.sqrt(6.0 / (fi + fo)) if fi else 0.1
        params.append(torch.tensor(det_weights(t, shape, limit), requires_grad=True))
    w = params

    xt = torch.tensor(x)
    h = F.max_pool2d(F.relu(F.conv2d(xt, w[0], w[1])), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, w[2], w[3])), 2)
    h = F.relu(F.conv2d(h, w[4], w[5]))
    h = h.flatten(1)  # NCHW order, like the Go engine
    h = F.relu(F.linear(h, w[6], w[7]))
    logits = F.linear(h, w[8], w[9])
    loss = F.cross_entropy(logits, torch.tensor(labels.astype(np.int64)))
    loss.backward()

    lr, b1, b2, eps, step = 0.001, 0.9, 0.999, 1e-7, 1
    lr_t = lr * math.sqrt(1 - b2 ** step) / (1 - b1 ** step)
    grads, updated = [], []
    for p in params:
        g = p.grad.detach().numpy().astype(np.float32)
        m = np.float32(1 - b1) * g  # m starts at 0: beta1*0 + (1-beta1)*g
        v = (np.float32(1 - b2) * g) * g
        new = (p.detach().numpy().astype(np.float64) - lr_t * m.astype(np.float64) /
               (np.sqrt(v.astype(np.float64)) + eps)).astype(np.float32)
        grads.append(g)
        updated.append(new)

    arrays = [("input", x), ("logits", logits.detach().numpy().astype(np.float32))]
    arrays += [("grad." + s[0], g) for s, g in zip(specs, grads)]
    arrays += [("updated." + s[0], u) for s, u in zip(specs, updated)]
    blob = bytearray()
    index = []
    for name, a in arrays:
        a = np.ascontiguousarray(a, dtype="<f4")
        index.append({"name": name, "shape": list(a.shape), "offset": len(blob) // 4, "length": int(a.size)})
        blob += a.tobytes()

    with open(os.path.abspath(__file__), "rb") as f:
        script_sha = hashlib.sha256(f.read()).hexdigest()
    meta = {
        "script": "testdata/gen/torch_step.py",
        "script_sha256": script_sha,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "data": "first %d images of t10k-images-idx3-ubyte, /255" % BATCH,
        "labels": [int(v) for v in labels],
        "loss": float(loss.item()),
        "adam": {"lr": lr, "beta1": b1, "beta2": b2, "epsilon": eps, "step": step},
        "arrays": index,
    }
    os.makedirs(OUT, exist_ok=True)
    for name, data, mode in [("torch_step.bin.gz", gzip.compress(bytes(blob), mtime=0), "wb"),
                             ("torch_step.json", (json.dumps(meta, indent=1) + "\n").encode(), "wb")]:
        path = os.path.join(OUT, name)
        tmp = path + ".tmp"
        with open(tmp, mode) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    print("loss %.9g, wrote %d floats" % (loss.item(), len(blob) // 4), file=sys.stderr)


if __name__ == "__main__":
    main()
