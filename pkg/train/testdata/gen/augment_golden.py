#!/usr/bin/python3
"""Regenerates pkg/train/testdata/augment_golden.json.

Reference outputs for train.Augment's deterministic transform (rotation,
shift, flips). The affine matrix is built the way keras-preprocessing 1.1's
apply_affine_transform builds it (scipy path: rotation * shift, offset to the
centre (h/2 - 0.5, w/2 - 0.5), rows first, no axis swap), and the image is
sampled by an independent implementation of bilinear interpolation with edge
clamping: PyTorch's grid_sample(mode='bilinear', padding_mode='border',
align_corners=True) in float64, which equals scipy.ndimage.affine_transform
with order=1, mode='nearest'. Flips are applied afterwards, as Keras'
apply_transform does. Outputs are rounded to float32, as Keras stores them.

Run from the repository root:
    /usr/bin/python3 pkg/train/testdata/gen/augment_golden.py [OUTPUT]
OUTPUT defaults to pkg/train/testdata/augment_golden.json; the Go test
TestAugmentGoldenCurrent writes elsewhere and compares, to catch stale files.
"""
import json
import math
import os
import sys

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "augment_golden.json")


def keras_matrix(theta, tx, ty, h, w):
    m = None
    if theta != 0:
        t = np.deg2rad(theta)
        m = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    if tx != 0 or ty != 0:
        s = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=np.float64)
        m = s if m is None else np.dot(m, s)
    if m is None:
        m = np.eye(3)
    ox, oy = float(h) / 2 - 0.5, float(w) / 2 - 0.5
    offset = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]])
    reset = np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])
    return np.dot(np.dot(offset, m), reset)


def transform(img, theta, tx, ty, flip_h, flip_v):
    c, h, w = img.shape
    m = keras_matrix(theta, tx, ty, h, w)
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    y = m[0, 0] * rows + m[0, 1] * cols + m[0, 2]
    x = m[1, 0] * rows + m[1, 1] * cols + m[1, 2]
    grid = np.stack([2 * x / (w - 1) - 1, 2 * y / (h - 1) - 1], axis=-1)[None]
    src = torch.from_numpy(img.astype(np.float64))[None]
    out = torch.nn.functional.grid_sample(src, torch.from_numpy(grid), mode="bilinear",
                                          padding_mode="border", align_corners=True)[0].numpy()
    if flip_h:
        out = out[:, :, ::-1]
    if flip_v:
        out = out[:, ::-1, :]
    return out.astype(np.float32)


def image(c, h, w):
    ch, r, col = np.meshgrid(np.arange(c), np.arange(h), np.arange(w), indexing="ij")
    v = ((r * 7 + col * 13 + ch * 5) % 17) / 16.0 + 0.01 * r - 0.02 * col + np.sin(r * col + ch)
    return v.astype(np.float32)


CASES = [
    # name, (c, h, w), theta, tx, ty, flip_h, flip_v
    ("rotate_17.3", (1, 28, 28), 17.3, 0, 0, False, False),
    ("rotate_-33.1_shift_flip_h", (1, 28, 28), -33.1, 1.7, -2.25, True, False),
    ("fractional_shift", (1, 28, 28), 0, 0.4, -1.6, False, False),
    ("integer_shift", (1, 28, 28), 0, 2, -2, False, False),
    ("far_shift_clamps", (1, 28, 28), 0, 40.5, -35.25, False, False),
    ("rotate_90_square", (1, 5, 5), 90, 0, 0, False, False),
    ("nonsquare_rotate_90_shift_flip_v", (2, 6, 9), 90, -1, 2, False, True),
    ("nonsquare_rotate_-120.5_both_flips", (2, 6, 9), -120.5, 2.5, 0.5, True, True),
    ("rotate_7_three_channels", (3, 8, 11), 7, -0.3, 0.8, False, False),
]


def main():
    dest = sys.argv[1] if len(sys.argv) > 1 else OUT
    cases = []
    for name, (c, h, w), theta, tx, ty, fh, fv in CASES:
        img = image(c, h, w)
        out = transform(img, theta, tx, ty, fh, fv)
        cases.append({
            "name": name, "c": c, "h": h, "w": w,
            "theta": theta, "tx": tx, "ty": ty, "flip_h": fh, "flip_v": fv,
            "input": [float(v) for v in img.ravel()],
            "output": [float(v) for v in out.ravel()],
        })
    doc = {
        "generator": "pkg/train/testdata/gen/augment_golden.py",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "cases": cases,
    }
    with open(dest + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    os.replace(dest + ".tmp", dest)
    print("wrote", os.path.normpath(dest), len(cases), "cases")


if __name__ == "__main__":
    sys.exit(main())
