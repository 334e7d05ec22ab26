#!/usr/bin/python3
"""torch_book.py: the book's CNN exported by PyTorch, a fixture for fmkit's ONNX importer.

Usage (from the repository root, with Debian's python3-torch 1.13 and python3-onnx):

    /usr/bin/python3 testdata/gen/onnx/torch_book.py

Builds Conv2d(1,32,3)-ReLU-MaxPool2d(2)-Conv2d(32,64,3)-ReLU-MaxPool2d(2)-Conv2d(64,128,3)-
ReLU-Flatten-Linear(1152,64)-ReLU-Linear(64,10)-Softmax(dim=1) with seeded random weights
(torch.manual_seed(20240601); the default PyTorch initialisation, biases included), and
writes, in the model-zoo layout:

    testdata/onnx/torch_book/model.onnx                   torch.onnx.export, opset 13,
                                                          dynamic batch "N"
    testdata/onnx/torch_book/test_data_set_0/input_0.pb   the first 8 Fashion-MNIST test
                                                          images scaled by 1/255, (8,1,28,28)
    testdata/onnx/torch_book/test_data_set_0/output_0.pb  torch's probabilities, (8,10)

It also writes testdata/onnx/torch_variants/ the same way: a model exported at opset 11 that
shows the other forms the importer must accept: a strided, padded Conv2d, MaxPool2d with
padding and ceil_mode, BatchNorm2d (eval, random running statistics), AvgPool2d with
count_include_pad=False, x.reshape(-1, K) (Reshape of a constant shape), x @ W + b
(MatMul + Add) and softmax(dim=-1) with opset 11's 2-D meaning.

The images come from /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
torch runs on the CPU in float32 with deterministic algorithms; rerunning gives the same
files.
"""
import gzip
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
from torch import nn

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
N = 8


def book():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3), nn.ReLU(),
        nn.Flatten(),
        nn.Linear(1152, 64), nn.ReLU(),
        nn.Linear(64, 10), nn.Softmax(dim=1),
    )


class Variants(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3, stride=2, padding=(2, 1))
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.bn = nn.BatchNorm2d(6)
        self.avg = nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)
        self.drop = nn.Dropout(0.3)
        self.k = 6 * 9 * 9
        self.w = nn.Parameter(torch.randn(self.k, 10) * 0.05)
        self.b = nn.Parameter(torch.randn(10) * 0.1)
        with torch.no_grad():
            self.bn.running_mean.copy_(torch.randn(6) * 0.1)
            self.bn.running_var.copy_(torch.rand(6) + 0.5)
            self.bn.weight.copy_(1 + 0.2 * torch.randn(6))
            self.bn.bias.copy_(0.1 * torch.randn(6))

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = self.avg(self.bn(self.pool(x)))
        x = self.drop(x.reshape(-1, self.k))
        return torch.softmax(x @ self.w + self.b, dim=-1)


def images(n):
    with gzip.open(IMAGES, "rb") as f:
        data = f.read()
    magic, count, rows, cols = np.frombuffer(data[:16], dtype=">i4")
    assert magic == 0x803 and rows == 28 and cols == 28 and count >= n, (magic, count, rows, cols)
    px = np.frombuffer(data[16:16 + n * 784], dtype=np.uint8).reshape(n, 1, 28, 28)
    return px.astype(np.float32) / np.float32(255)


def save(t, name, path):
    tp = numpy_helper.from_array(np.ascontiguousarray(t), name)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(tp.SerializeToString())
    os.replace(tmp, path)


def write(model, name, opset):
    out = os.path.join(ROOT, "testdata", "onnx", name)
    x = torch.from_numpy(images(N))
    with torch.no_grad():
        y = model(x).numpy()
    ds = os.path.join(out, "test_data_set_0")
    os.makedirs(ds, exist_ok=True)
    tmp = os.path.join(out, "model.onnx.tmp")
    torch.onnx.export(model, x, tmp, opset_version=opset, input_names=["input"], output_names=["probabilities"],
                      dynamic_axes={"input": {0: "N"}, "probabilities": {0: "N"}}, do_constant_folding=True)
    m = onnx.load(tmp)
    onnx.checker.check_model(m, full_check=True)
    os.replace(tmp, os.path.join(out, "model.onnx"))
    save(x.numpy(), "input", os.path.join(ds, "input_0.pb"))
    save(y, "probabilities", os.path.join(ds, "output_0.pb"))
    print(f"wrote {out}: opset {opset}, ops {[n.op_type for n in m.graph.node]}")


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.manual_seed(20240601)
    write(book().eval(), "torch_book", 13)
    torch.manual_seed(20240602)
    write(Variants().eval(), "torch_variants", 11)
    return 0


if __name__ == "__main__":
    sys.exit(main())
