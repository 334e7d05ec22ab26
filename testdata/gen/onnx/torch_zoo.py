#!/usr/bin/python3
"""torch_zoo.py: small PyTorch CNNs exported as other people export them, fixtures for fmkit's
ONNX importer (issue 16).

Usage (from the repository root, with Debian's python3-torch 1.13 and python3-onnx):

    /usr/bin/python3 testdata/gen/onnx/torch_zoo.py [OUTDIR]

OUTDIR defaults to testdata/onnx/torch_zoo. Each model below (seeded weights, the default
PyTorch initialisation, eval mode) is written in the model-zoo layout:

    OUTDIR/<name>/model.onnx                  torch.onnx.export at the opset named below,
                                              input "input", output "output"; the batch
                                              dynamic ("N") unless the name says fixed
    OUTDIR/<name>/test_data_set_0/input_0.pb  the first 4 Fashion-MNIST test images scaled
                                              by 1/255, in the model's input layout
    OUTDIR/<name>/test_data_set_0/output_0.pb torch's raw output: logits, probabilities or
                                              log-probabilities as the head says

The models vary what the importer must understand: Conv2d (padding, stride, groups,
dilation), Linear, MaxPool2d (padding, dilation, ceil_mode), AvgPool2d (padding, which torch
writes as Pad + AveragePool), AdaptiveAvgPool2d(1), BatchNorm2d with random running
statistics, ReLU, LeakyReLU, ELU, ReLU6, Hardtanh, Sigmoid, Tanh, Dropout, ZeroPad2d,
flatten / view(x.size(0), -1) / reshape(-1, K), the input layouts [N,1,28,28], [N,28,28,1],
[N,28,28] and [N,784], softmax, log_softmax and logit heads, at opsets 9 to 17.

The images come from /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
torch runs on the CPU in float32 with deterministic algorithms; rerunning gives the same
files (TestTorchZooUpToDate checks).
"""
import gzip
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
from torch import nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
N = 4


class Net(nn.Module):
    """A body of layers, an input layout and a head."""

    def __init__(self, body, layout="nchw", head="logits", flatten="flatten", k=None):
        super().__init__()
        self.body, self.layout, self.head, self.flatten, self.k = body, layout, head, flatten, k
        self.fc = nn.LazyLinear(10)

    def forward(self, x):
        if self.layout == "nhwc":
            x = x.permute(0, 3, 1, 2)
        elif self.layout == "hw":
            x = x.unsqueeze(1)
        elif self.layout == "flat":
            x = x.view(-1, 1, 28, 28)
        x = self.body(x)
        if self.flatten == "view":
            x = x.view(x.size(0), -1)
        elif self.flatten == "reshape":
            x = x.reshape(-1, self.k)
        else:
            x = torch.flatten(x, 1)
        x = self.fc(x)
        if self.head == "softmax":
            return F.softmax(x, dim=1)
        if self.head == "log_softmax":
            return F.log_softmax(x, dim=1)
        return x


class MLP(nn.Module):
    def __init__(self, head):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(784, 32), nn.Tanh(), nn.Dropout(0.2), nn.Linear(32, 10))
        self.head = head

    def forward(self, x):
        x = self.net(x)
        return F.log_softmax(x, dim=-1) if self.head == "log_softmax" else x


def c(*a, **k):
    return nn.Conv2d(*a, **k)


# name -> (model factory, opset, input layout, fixed batch)
ZOO = {
    "conv_relu_maxpool_op9": (lambda: Net(nn.Sequential(c(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2)), head="softmax", flatten="view"), 9, "nchw", False),
    "avgpool_pad_op10": (lambda: Net(nn.Sequential(c(1, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2))), 10, "nchw", False),
    "avgpool_padding_op11": (lambda: Net(nn.Sequential(c(1, 4, 5), nn.ReLU(), nn.AvgPool2d(3, stride=2, padding=1)), head="log_softmax"), 11, "nchw", False),
    "batchnorm_leaky_op12": (lambda: Net(nn.Sequential(c(1, 6, 3, stride=2), nn.BatchNorm2d(6), nn.LeakyReLU(0.1), nn.MaxPool2d(2, ceil_mode=True))), 12, "nchw", False),
    "adaptive_avg_sigmoid_op13": (lambda: Net(nn.Sequential(c(1, 8, 3), nn.Sigmoid(), c(8, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1)), head="softmax"), 13, "nchw", False),
    "tanh_dropout_op14": (lambda: Net(nn.Sequential(c(1, 4, 3), nn.Tanh(), nn.Dropout(0.5), nn.MaxPool2d(2)), head="log_softmax", flatten="view"), 14, "nchw", False),
    "elu_relu6_op15": (lambda: Net(nn.Sequential(c(1, 4, 3), nn.ELU(), c(4, 4, 3), nn.ReLU6(), nn.MaxPool2d(4))), 15, "nchw", False),
    # Opset 10: from 11 torch 1.13 computes ZeroPad2d's pads with ConstantOfShape and Slice.
    "hardtanh_zeropad_op10": (lambda: Net(nn.Sequential(nn.ZeroPad2d((1, 2, 0, 1)), c(1, 4, 3), nn.Hardtanh(), nn.MaxPool2d(2, padding=1))), 10, "nchw", False),
    "grouped_dilated_op17": (lambda: Net(nn.Sequential(c(1, 4, 3), nn.ReLU(), c(4, 8, 3, groups=2, dilation=2), nn.ReLU(), nn.MaxPool2d(3, stride=2, dilation=2)), head="softmax"), 17, "nchw", False),
    "nhwc_op13": (lambda: Net(nn.Sequential(c(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2)), layout="nhwc", head="softmax"), 13, "nhwc", False),
    "nhwc_fixed_op11": (lambda: Net(nn.Sequential(c(1, 4, 3), nn.ReLU(), nn.AvgPool2d(2)), layout="nhwc", flatten="reshape", k=4 * 13 * 13), 11, "nhwc", True),
    "hw_op13": (lambda: Net(nn.Sequential(c(1, 4, 3, padding=1), nn.LeakyReLU(), nn.MaxPool2d(2)), layout="hw", head="log_softmax"), 13, "hw", False),
    "hw_fixed_op9": (lambda: Net(nn.Sequential(c(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2)), layout="hw", flatten="view"), 9, "hw", True),
    "flat_cnn_op12": (lambda: Net(nn.Sequential(c(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2)), layout="flat", flatten="reshape", k=4 * 13 * 13), 12, "flat", False),
    "mlp_op9": (lambda: MLP("logits"), 9, "flat", False),
    "mlp_log_softmax_fixed_op17": (lambda: MLP("log_softmax"), 17, "flat", True),
    "fixed_batch_op16": (lambda: Net(nn.Sequential(c(1, 4, 3, stride=2), nn.ReLU(), c(4, 8, 3, stride=2), nn.ReLU()), head="softmax", flatten="reshape", k=8 * 6 * 6), 16, "nchw", True),
}


def images(n, layout):
    with gzip.open(IMAGES, "rb") as f:
        data = f.read()
    magic, count, rows, cols = np.frombuffer(data[:16], dtype=">i4")
    assert magic == 0x803 and rows == 28 and cols == 28 and count >= n, (magic, count, rows, cols)
    px = np.frombuffer(data[16:16 + n * 784], dtype=np.uint8).astype(np.float32) / np.float32(255)
    shape = {"nchw": (n, 1, 28, 28), "nhwc": (n, 28, 28, 1), "hw": (n, 28, 28), "flat": (n, 784)}[layout]
    return px.reshape(shape)


def save(t, name, path):
    tp = numpy_helper.from_array(np.ascontiguousarray(t), name)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(tp.SerializeToString())
    os.replace(tmp, path)


def randomize_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features) + 0.5)
                m.weight.copy_(1 + 0.2 * torch.randn(m.num_features))
                m.bias.copy_(0.1 * torch.randn(m.num_features))


def write(outdir, name, factory, opset, layout, fixed, seed):
    torch.manual_seed(seed)
    model = factory()
    x = torch.from_numpy(images(N, layout))
    with torch.no_grad():
        model(x)  # materialises LazyLinear
    randomize_bn(model)
    model.eval()
    with torch.no_grad():
        y = model(x).numpy()
    out = os.path.join(outdir, name)
    ds = os.path.join(out, "test_data_set_0")
    os.makedirs(ds, exist_ok=True)
    tmp = os.path.join(out, "model.onnx.tmp")
    dyn = None if fixed else {"input": {0: "N"}, "output": {0: "N"}}
    torch.onnx.export(model, x, tmp, opset_version=opset, input_names=["input"], output_names=["output"],
                      dynamic_axes=dyn, do_constant_folding=True)
    m = onnx.load(tmp)
    onnx.checker.check_model(m, full_check=True)
    os.replace(tmp, os.path.join(out, "model.onnx"))
    save(x.numpy(), "input", os.path.join(ds, "input_0.pb"))
    save(y, "output", os.path.join(ds, "output_0.pb"))
    print(f"wrote {name}: opset {opset}, ops {sorted(set(n.op_type for n in m.graph.node))}")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "onnx", "torch_zoo")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    for i, (name, (factory, opset, layout, fixed)) in enumerate(sorted(ZOO.items())):
        write(outdir, name, factory, opset, layout, fixed, 20240700 + i)


if __name__ == "__main__":
    main()
