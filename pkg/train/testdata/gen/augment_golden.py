#!/usr/bin/python3
"""Regenerates pkg/train/testdata/augment_golden.json from Keras' own ImageDataGenerator.

The reference is keras-preprocessing 1.1 (Debian's python3-keras-preprocessing, with
python3-scipy), the code behind Keras' ImageDataGenerator. Two parts:

cases  train.Augment's deterministic transform (rotation, shift, zoom, flips) against
       ImageDataGenerator.apply_transform on float32 images (rows, cols, channels). As a check
       on the reference itself, every case is also computed by an independent sampler,
       PyTorch's grid_sample (bilinear, border padding, align_corners=True) in float64 on the
       same matrix; the script fails if the two disagree by more than float32 rounding.
draws  train.Augment's random draws against ImageDataGenerator.get_random_transform: for
       each generator, DRAWS transforms from numpy's generator seeded with SEED, summarised
       per parameter: a count per value when Keras' values are whole numbers (the integer
       shifts, the flips), else their count, mean, variance, min and max. The Go test draws
       as many from train's generator and compares the distributions.
photometric  the per-sample photometric transforms with a fixed factor:
       brightness  keras-preprocessing's apply_brightness_shift (PIL's ImageEnhance.Brightness)
                   on an image whose values are the whole numbers 0..255 with both ends present,
                   so that its rescaling to 0..255 is the identity; the Go test scales by 1/255
                   and allows the uint8 truncation Keras applies (one level).
       contrast    tf.image.adjust_contrast ((x - mean) * c + mean per channel), transcribed in
                   numpy (TensorFlow is not installed), clipped to [0, 1] as Keras'
                   RandomContrast clips to its value range.
       blur        torchvision's gaussian_blur (torchvision is not installed), transcribed with
                   torch: the 1-D kernel of torchvision's _get_gaussian_kernel1d, reflect padding
                   (torch.nn.functional.pad), conv2d with the outer-product kernel, in float32.

Run from the repository root:
    /usr/bin/python3 pkg/train/testdata/gen/augment_golden.py [OUTPUT]
OUTPUT defaults to pkg/train/testdata/augment_golden.json; the Go test
TestAugmentGoldenCurrent writes elsewhere and compares, to catch stale files.
"""
import json
import os
import sys

import keras_preprocessing
import numpy as np
import scipy
import torch
from keras_preprocessing.image import ImageDataGenerator

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "augment_golden.json")
DRAWS = 20000
SEED = 1
DRAW_SHAPE = (28, 20, 1)  # rows, cols, channels: not square, so the two shift axes differ


def keras_transform(img, theta, tx, ty, flip_h, flip_v, zx=1, zy=1):
    """img is (c, h, w) float32; Keras works on (h, w, c)."""
    params = {"theta": theta, "tx": tx, "ty": ty, "zx": zx, "zy": zy, "flip_horizontal": flip_h, "flip_vertical": flip_v}
    out = ImageDataGenerator().apply_transform(np.ascontiguousarray(img.transpose(1, 2, 0)), params)
    assert out.dtype == np.float32, out.dtype
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def grid_sample_transform(img, theta, tx, ty, flip_h, flip_v, zx=1, zy=1):
    """The same map, sampled independently of scipy: Keras' matrix, PyTorch's sampler."""
    c, h, w = img.shape
    m = np.eye(3)
    if theta != 0:
        t = np.deg2rad(theta)
        m = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    m = m @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=np.float64)
    m = m @ np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]], dtype=np.float64)
    oy, ox = h / 2 + 0.5, w / 2 + 0.5  # keras-preprocessing's transform_matrix_offset_center
    m = np.array([[1, 0, oy], [0, 1, ox], [0, 0, 1]]) @ m @ np.array([[1, 0, -oy], [0, 1, -ox], [0, 0, 1]])
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
    ("integer_shift_flip_h", (1, 28, 28), 0, -1, 0, True, False),
    ("far_shift_clamps", (1, 28, 28), 0, 40.5, -35.25, False, False),
    ("rotate_90_square", (1, 5, 5), 90, 0, 0, False, False),
    ("nonsquare_rotate_90_shift_flip_v", (2, 6, 9), 90, -1, 2, False, True),
    ("nonsquare_rotate_-120.5_both_flips", (2, 6, 9), -120.5, 2.5, 0.5, True, True),
    ("rotate_7_three_channels", (3, 8, 11), 7, -0.3, 0.8, False, False),
    # name, shape, theta, tx, ty, flip_h, flip_v, zx, zy
    ("zoom_out_1.2", (1, 28, 28), 0, 0, 0, False, False, 1.2, 1.2),
    ("zoom_in_0.85_0.9", (1, 28, 28), 0, 0, 0, False, False, 0.85, 0.9),
    ("zoom_rotate_shift_flip", (1, 28, 28), 12.5, 1.5, -2, True, False, 1.1, 0.93),
    ("nonsquare_zoom_both_flips", (2, 6, 9), -30, 0.5, 1, True, True, 0.8, 1.25),
]

# name, ImageDataGenerator arguments, the same as a train.ParseAugment specification. The
# specification's numbers are typed as the Python literals are: "3" an int, "3.0" a float.
GENERATORS = [
    ("book", {"horizontal_flip": True, "height_shift_range": 3}, "hflip,hshift=3"),
    ("int_width_5", {"width_shift_range": 5}, "wshift=5"),
    ("int_1_never_shifts", {"height_shift_range": 1}, "hshift=1"),
    ("float_whole_3.0", {"width_shift_range": 3.0}, "wshift=3.0"),
    ("float_1.0", {"height_shift_range": 1.0}, "hshift=1.0"),
    ("float_pixels_2.5", {"height_shift_range": 2.5}, "hshift=2.5"),
    ("fractions_rotation_vflip", {"rotation_range": 15, "width_shift_range": 0.1, "height_shift_range": 0.25,
                                  "vertical_flip": True}, "vflip,rotate=15,wshift=0.1,hshift=0.25"),
    ("zoom_0.2_hflip", {"zoom_range": 0.2, "horizontal_flip": True}, "hflip,zoom=0.2"),
    ("zoom_pair_brightness", {"zoom_range": [0.9, 1.3], "brightness_range": (0.6, 1.4), "height_shift_range": 2},
     "hshift=2,zoom=0.9:1.3,brightness=0.6:1.4"),
]

PARAMS = [("theta", "theta"), ("tx", "tx"), ("ty", "ty"), ("zx", "zx"), ("zy", "zy"), ("flip_horizontal", "flip_h"),
          ("flip_vertical", "flip_v"), ("brightness", "brightness")]


def summarise(values):
    v = np.asarray(values, dtype=np.float64)
    if np.all(v == np.round(v)) and len(np.unique(v)) <= 16:
        vals, counts = np.unique(v, return_counts=True)
        return {"counts": {repr(int(a)): int(b) for a, b in zip(vals, counts)}}
    return {"n": int(v.size), "mean": float(v.mean()), "var": float(v.var()),
            "min": float(v.min()), "max": float(v.max())}


def draws():
    out = []
    for name, kwargs, spec in GENERATORS:
        gen = ImageDataGenerator(**kwargs)
        np.random.seed(SEED)
        samples = [gen.get_random_transform(DRAW_SHAPE) for _ in range(DRAWS)]
        out.append({
            "name": name, "keras": repr(kwargs), "spec": spec,
            "params": {ours: summarise([s[k] for s in samples]) for k, ours in PARAMS if samples[0][k] is not None},
        })
    return out


def brightness_case(factor):
    h, w = 12, 10
    img = ((np.arange(h * w) * 37) % 256).astype(np.float32).reshape(h, w)
    img[0, 0], img[0, 1] = 0, 255  # both ends present: Keras' rescaling is the identity
    out = ImageDataGenerator().apply_transform(img[:, :, None].copy(), {"brightness": factor})[:, :, 0]
    return {"factor": factor, "h": h, "w": w, "input": [float(v) for v in img.ravel()], "output": [float(v) for v in out.ravel()]}


def contrast_case(factor, c, h, w):
    img = (image(c, h, w) % 1).astype(np.float32)
    mean = img.astype(np.float64).reshape(c, -1).mean(axis=1).reshape(c, 1, 1)
    out = np.clip((img.astype(np.float64) - mean) * factor + mean, 0, 1).astype(np.float32)
    return {"factor": factor, "c": c, "h": h, "w": w, "input": [float(v) for v in img.ravel()], "output": [float(v) for v in out.ravel()]}


def blur_case(sigma, kernel, c, h, w):
    img = (image(c, h, w) % 1).astype(np.float32)
    half = (kernel - 1) * 0.5
    x = torch.linspace(-half, half, steps=kernel)
    pdf = torch.exp(-0.5 * (x / sigma).pow(2))
    k1 = pdf / pdf.sum()
    k2 = torch.mm(k1[:, None], k1[None, :]).expand(c, 1, kernel, kernel)
    t = torch.from_numpy(img)[None]
    p = kernel // 2
    t = torch.nn.functional.pad(t, [p, p, p, p], mode="reflect")
    out = torch.nn.functional.conv2d(t, k2, groups=c)[0].numpy()
    return {"sigma": sigma, "kernel": kernel, "c": c, "h": h, "w": w,
            "input": [float(v) for v in img.ravel()], "output": [float(v) for v in out.ravel()]}


def main():
    dest = sys.argv[1] if len(sys.argv) > 1 else OUT
    torch.set_num_threads(1)
    cases = []
    for name, (c, h, w), theta, tx, ty, fh, fv, *zoom in CASES:
        zx, zy = zoom if zoom else (1, 1)
        img = image(c, h, w)
        out = keras_transform(img, theta, tx, ty, fh, fv, zx, zy)
        check = grid_sample_transform(img, theta, tx, ty, fh, fv, zx, zy)
        worst = float(np.max(np.abs(out.astype(np.float64) - check)))
        if worst > 1e-6:
            raise SystemExit(f"case {name}: Keras and the grid_sample check differ by {worst}")
        cases.append({
            "name": name, "c": c, "h": h, "w": w,
            "theta": theta, "tx": tx, "ty": ty, "zx": zx, "zy": zy, "flip_h": fh, "flip_v": fv,
            "input": [float(v) for v in img.ravel()],
            "output": [float(v) for v in out.ravel()],
        })
    doc = {
        "generator": "pkg/train/testdata/gen/augment_golden.py",
        "keras_preprocessing": keras_preprocessing.__version__,
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "cases": cases,
        "draws": {"n": DRAWS, "seed": SEED, "shape": list(DRAW_SHAPE), "generators": draws()},
        "photometric": {
            "brightness": [brightness_case(f) for f in (0.5, 0.83, 1.0, 1.37)],
            "contrast": [contrast_case(0.6, 1, 9, 7), contrast_case(1.5, 2, 6, 5)],
            "blur": [blur_case(0.7, 5, 1, 12, 10), blur_case(1.3, 9, 1, 28, 28), blur_case(0.1, 3, 2, 6, 9)],
        },
    }
    with open(dest + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    os.replace(dest + ".tmp", dest)
    print("wrote", os.path.normpath(dest), len(cases), "cases,", len(GENERATORS), "generators")


if __name__ == "__main__":
    sys.exit(main())
