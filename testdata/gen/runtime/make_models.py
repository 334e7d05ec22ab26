#!/usr/bin/python3
"""make_models.py: writes the small ONNX models that pkg/runtime's tests load.

Regenerate (from the repository root) with Debian's Python, which has onnx 1.12:

    /usr/bin/python3 testdata/gen/runtime/make_models.py testdata/runtime

pkg/runtime's TestModelsUpToDate runs this script into a temporary folder and fails when the
committed files differ, so edit the script, rerun it, and commit both.

Every model uses opset 13 with IR version 7 (see FACTS.md) and passes onnx.checker. Weights are
defined by integer formulas (no random numbers), so the Go tests rebuild them exactly:

  tiny.onnx               input "input" float [N,1,28,28] -> Flatten(axis=1) -> Gemm(W 784x10, b 10)
                          -> Softmax(axis=1) -> "probabilities" float [N,10], with
                          W[i][j] = float32(((i*7 + j*13) % 23 - 11) / 100),
                          b[j]    = float32((j - 4.5) / 10).
  fixed_batch.onnx        input "input" float [3,1,28,28] -> Flatten -> first 10 columns -> Softmax
                          -> "out" [3,10] (a fixed batch size, and an output not named
                          "probabilities").
  multi_output.onnx       outputs "logits" (first 10 pixels) then "probabilities" (their softmax):
                          the runtime must pick "probabilities".
  wrong_input_shape.onnx  input "input" float [N,2,14,28]: 784 values an image, but not one
                          28x28 grayscale image in any of the layouts the runtime takes.
  wrong_input_type.onnx   input "input" uint8 [N,1,28,28].
  wrong_output_shape.onnx output "probabilities" float [N,5].
  two_inputs.onnx         inputs "input" [N,1,28,28] and "scale" [1].
  garbage.onnx            bytes that are not a protobuf ModelProto.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 7


def w_tiny():
    i = np.arange(784).reshape(784, 1)
    j = np.arange(10).reshape(1, 10)
    k = (i * 7 + j * 13) % 23 - 11
    return (k.astype(np.float64) / 100).astype(np.float32)


def b_tiny():
    return ((np.arange(10).astype(np.float64) - 4.5) / 10).astype(np.float32)


def model(name, nodes, inputs, outputs, inits):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    m = helper.make_model(graph, producer_name="fmkit testdata/gen/runtime/make_models.py",
                          opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = IR_VERSION
    onnx.checker.check_model(m, full_check=True)
    return m


def first10(src, dst, prefix=""):
    """Nodes taking columns 0..9 of a [N,K] tensor (K >= 10)."""
    inits = [numpy_helper.from_array(np.array([0], np.int64), prefix + "starts"),
             numpy_helper.from_array(np.array([10], np.int64), prefix + "ends"),
             numpy_helper.from_array(np.array([1], np.int64), prefix + "axes")]
    node = helper.make_node("Slice", [src, prefix + "starts", prefix + "ends", prefix + "axes"], [dst],
                            name=prefix + "first10")
    return [node], inits


def tensor(name, elem, dims):
    return helper.make_tensor_value_info(name, elem, dims)


def build():
    F = TensorProto.FLOAT
    out = {}

    out["tiny.onnx"] = model(
        "tiny",
        [helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1),
         helper.make_node("Gemm", ["flat", "dense.weight", "dense.bias"], ["logits"], name="dense"),
         helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1)],
        [tensor("input", F, ["N", 1, 28, 28])],
        [tensor("probabilities", F, ["N", 10])],
        [numpy_helper.from_array(w_tiny(), "dense.weight"),
         numpy_helper.from_array(b_tiny(), "dense.bias")])

    sl, inits = first10("flat", "logits")
    out["fixed_batch.onnx"] = model(
        "fixed_batch",
        [helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1)] + sl +
        [helper.make_node("Softmax", ["logits"], ["out"], name="softmax", axis=1)],
        [tensor("input", F, [3, 1, 28, 28])],
        [tensor("out", F, [3, 10])],
        inits)

    sl, inits = first10("flat", "logits")
    out["multi_output.onnx"] = model(
        "multi_output",
        [helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1)] + sl +
        [helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1)],
        [tensor("input", F, ["N", 1, 28, 28])],
        [tensor("logits", F, ["N", 10]), tensor("probabilities", F, ["N", 10])],
        inits)

    sl, inits = first10("flat", "logits")
    out["wrong_input_shape.onnx"] = model(
        "wrong_input_shape",
        [helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1)] + sl +
        [helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1)],
        [tensor("input", F, ["N", 2, 14, 28])],
        [tensor("probabilities", F, ["N", 10])],
        inits)

    sl, inits = first10("flat", "logits")
    out["wrong_input_type.onnx"] = model(
        "wrong_input_type",
        [helper.make_node("Cast", ["input"], ["x"], name="cast", to=F),
         helper.make_node("Flatten", ["x"], ["flat"], name="flatten", axis=1)] + sl +
        [helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1)],
        [tensor("input", TensorProto.UINT8, ["N", 1, 28, 28])],
        [tensor("probabilities", F, ["N", 10])],
        inits)

    inits = [numpy_helper.from_array(np.array([0], np.int64), "starts"),
             numpy_helper.from_array(np.array([5], np.int64), "ends"),
             numpy_helper.from_array(np.array([1], np.int64), "axes")]
    out["wrong_output_shape.onnx"] = model(
        "wrong_output_shape",
        [helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1),
         helper.make_node("Slice", ["flat", "starts", "ends", "axes"], ["logits"], name="first5"),
         helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1)],
        [tensor("input", F, ["N", 1, 28, 28])],
        [tensor("probabilities", F, ["N", 5])],
        inits)

    sl, inits = first10("flat", "logits")
    out["two_inputs.onnx"] = model(
        "two_inputs",
        [helper.make_node("Mul", ["input", "scale"], ["x"], name="scale"),
         helper.make_node("Flatten", ["x"], ["flat"], name="flatten", axis=1)] + sl +
        [helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1)],
        [tensor("input", F, ["N", 1, 28, 28]), tensor("scale", F, [1])],
        [tensor("probabilities", F, ["N", 10])],
        inits)
    return out


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_models.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, m in sorted(build().items()):
        write_atomic(os.path.join(outdir, name), m.SerializeToString(deterministic=True))
    write_atomic(os.path.join(outdir, "garbage.onnx"),
                 b"this is not an ONNX model, just text that protobuf cannot parse \xff\xff\xff\n")


if __name__ == "__main__":
    main()
