#!/usr/bin/python3
"""Regenerates pkg/train/testdata/recipe_golden.json: references for the recipe features of
pkg/train (learning-rate schedules, AdamW, label smoothing), from PyTorch 1.13 where it has the
feature, and from a transcription of Keras' algorithm where Keras defines the semantics.

cosine          the learning rate of every optimizer step of
                SequentialLR([LinearLR(start_factor=f, total_iters=W),
                              CosineAnnealingLR(T_max=T-W, eta_min)], milestones=[W])
                (CosineAnnealingLR alone when W = 0), stepped once per optimizer step. The script
                also evaluates the closed form that pkg/train's LRSchedule.CosineLR documents (the
                LambdaLR formula) and fails if the two differ by more than 1e-9 relative; the
                golden keeps both.
plateau         Keras' ReduceLROnPlateau (keras/callbacks.py, on_epoch_end), transcribed below in
                float64, driven by fixed sequences of monitored values; the learning rate after
                each epoch. Where the semantics coincide (cooldown 0), the script checks the
                transcription against torch.optim.lr_scheduler.ReduceLROnPlateau with
                patience - 1, threshold_mode "abs", threshold = min_delta and eps 0, and fails if
                they differ (PyTorch reduces after more than `patience` bad epochs, Keras at
                `patience`; their cooldowns count differently, so cooldown cases are Keras only).
adamw           weights after each of STEPS steps of torch.optim.AdamW(eps=0, weight_decay)
                from fixed weights and gradients, with the learning rate changed every step (the
                decay uses the step's rate). With eps = 0 PyTorch's and Keras' Adam coincide
                (they place epsilon differently; see pkg/train/adam.go). A second case with
                epsilon 1e-7 is the transcription of pkg/train's AdamW (Keras' epsilon form,
                float32 moments, lr_t in float64), checked against torch.optim.AdamW within the
                epsilon's effect.
label_smoothing torch.nn.CrossEntropyLoss(label_smoothing=s) on fixed float32 logits: the mean
                loss and d(loss)/d(logits) in float64; the script checks Keras'
                CategoricalCrossentropy formula (y*(1-s) + s/K on one-hot labels) gives the same.

Run from the repository root:
    /usr/bin/python3 pkg/train/testdata/gen/recipe_golden.py [OUTPUT]
OUTPUT defaults to pkg/train/testdata/recipe_golden.json. The golden records this script's
SHA-256; the Go tests fail when it is stale, and TestRecipeGoldenCurrent (not under -short)
regenerates it into a temporary file and compares.
"""
import hashlib
import json
import math
import os
import sys
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "recipe_golden.json")

# name, base lr, warm-up steps W, total steps T, LinearLR start_factor, eta_min
COSINE = [
    ("warmup_5_of_40", 0.001, 5, 40, 1 / 3, 0.0),
    ("warmup_12_of_100_floor", 0.003, 12, 100, 0.01, 1e-5),
    ("no_warmup_25", 0.002, 0, 25, 1 / 3, 0.0),
    ("warmup_1_of_7", 0.01, 1, 7, 0.5, 1e-4),
]

# name, keras arguments, monitored values per epoch
PLATEAU = [
    ("patience_2", dict(monitor="val_loss", factor=0.5, patience=2, min_delta=1e-4, cooldown=0, min_lr=0.0),
     [1.0, 0.9, 0.95, 0.91, 0.92, 0.85, 0.86, 0.87, 0.88, 0.80, 0.80, 0.80]),
    ("min_delta_counts", dict(monitor="val_loss", factor=0.1, patience=1, min_delta=0.05, cooldown=0, min_lr=0.0),
     [1.0, 0.96, 0.90, 0.94, 0.80, 0.78, 0.76, 0.70]),
    ("min_lr_floor", dict(monitor="val_loss", factor=0.2, patience=1, min_delta=0.0, cooldown=0, min_lr=5e-5),
     [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7]),
    ("accuracy_maximised", dict(monitor="val_accuracy", factor=0.5, patience=2, min_delta=0.0, cooldown=0, min_lr=0.0),
     [0.5, 0.6, 0.6, 0.59, 0.7, 0.69, 0.7, 0.71, 0.71, 0.70]),
    ("nan_is_no_improvement", dict(monitor="val_loss", factor=0.5, patience=2, min_delta=0.0, cooldown=0, min_lr=0.0),
     [1.0, float("nan"), float("nan"), 0.5, float("nan"), 0.6]),
    ("cooldown_2", dict(monitor="val_loss", factor=0.5, patience=1, min_delta=0.0, cooldown=2, min_lr=0.0),
     [1.0, 1.1, 1.2, 1.3, 1.4, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5]),
    ("patience_0_cooldown_1", dict(monitor="loss", factor=0.7, patience=0, min_delta=0.0, cooldown=1, min_lr=1e-4),
     [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.4]),
]
PLATEAU_LR = 0.001

STEPS = 6


def keras_plateau(args, values, lr):
    """Keras 2.x ReduceLROnPlateau.on_epoch_end, mode 'auto', in float64."""
    if "acc" in args["monitor"]:
        monitor_op = lambda a, b: np.greater(a, b + args["min_delta"])
        best = -np.inf
    else:
        monitor_op = lambda a, b: np.less(a, b - args["min_delta"])
        best = np.inf
    cooldown_counter = 0
    wait = 0
    out = []
    for current in values:
        if cooldown_counter > 0:
            cooldown_counter -= 1
            wait = 0
        if monitor_op(current, best):
            best = current
            wait = 0
        elif not cooldown_counter > 0:
            wait += 1
            if wait >= args["patience"]:
                old_lr = lr
                if old_lr > args["min_lr"]:
                    new_lr = old_lr * args["factor"]
                    new_lr = max(new_lr, args["min_lr"])
                    lr = new_lr
                    cooldown_counter = args["cooldown"]
                    wait = 0
        out.append(lr)
    return out


def torch_plateau(args, values, lr):
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=lr)
    mode = "max" if "acc" in args["monitor"] else "min"
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode=mode, factor=args["factor"], patience=args["patience"] - 1, threshold=args["min_delta"],
        threshold_mode="abs", cooldown=0, min_lr=args["min_lr"], eps=0)
    out = []
    for v in values:
        sched.step(v)
        out.append(opt.param_groups[0]["lr"])
    return out


def cosine_closed(lr, w, t, f, eta_min, s):
    if s < w:
        return lr * (f + (1 - f) * s / w)
    return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * (s - w) / (t - w))) / 2


def torch_cosine(lr, w, t, f, eta_min):
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=lr)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t - w, eta_min=eta_min)
    if w > 0:
        lin = torch.optim.lr_scheduler.LinearLR(opt, start_factor=f, end_factor=1.0, total_iters=w)
        sched = torch.optim.lr_scheduler.SequentialLR(opt, [lin, cos], milestones=[w])
    else:
        sched = cos
    out = []
    for _ in range(t):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def det(shape, salt):
    n = int(np.prod(shape))
    j = np.arange(n, dtype=np.uint64)
    u = ((j * np.uint64(2654435761) + np.uint64(salt)) % np.uint64(2 ** 32)).astype(np.float64) / 2.0 ** 32
    return (2 * u - 1).astype(np.float32).reshape(shape)


ADAM_SHAPES = [(3, 4), (5,)]


def adamw_inputs():
    weights = [det(s, 1000 + i) for i, s in enumerate(ADAM_SHAPES)]
    grads = [[(det(s, 7 * k + 31 * i + 5) * np.float32(0.1 + 0.05 * k)).astype(np.float32) for i, s in enumerate(ADAM_SHAPES)]
             for k in range(STEPS)]
    lrs = [0.01 * (1 - 0.1 * k) for k in range(STEPS)]
    return weights, grads, lrs


def torch_adamw(weights, grads, lrs, wd, eps):
    ps = [torch.nn.Parameter(torch.tensor(w)) for w in weights]
    opt = torch.optim.AdamW(ps, lr=lrs[0], betas=(0.9, 0.999), eps=eps, weight_decay=wd)
    out = []
    for k in range(STEPS):
        opt.param_groups[0]["lr"] = lrs[k]
        for p, g in zip(ps, grads[k]):
            p.grad = torch.tensor(g)
        opt.step()
        out.append([p.detach().numpy().copy() for p in ps])
    return out


def ours_adamw(weights, grads, lrs, wd, eps, b1=0.9, b2=0.999):
    """pkg/train's Adam with WeightDecay: float32 state, lr_t in float64 rounded to float32."""
    ws = [w.copy() for w in weights]
    ms = [np.zeros_like(w) for w in weights]
    vs = [np.zeros_like(w) for w in weights]
    out = []
    for k in range(STEPS):
        t = k + 1
        lr_t = np.float32(lrs[k] * math.sqrt(1 - b2 ** t) / (1 - b1 ** t))
        decay = np.float32(1 - lrs[k] * wd)
        for i in range(len(ws)):
            g = grads[k][i]
            ws[i] = ws[i] * decay
            ms[i] = np.float32(b1) * ms[i] + np.float32(1 - b1) * g
            vs[i] = np.float32(b2) * vs[i] + np.float32(1 - b2) * g * g
            ws[i] = ws[i] - lr_t * ms[i] / (np.sqrt(vs[i]) + np.float32(eps))
        out.append([w.copy() for w in ws])
    return out


def label_smoothing_case(n, k, s, salt):
    logits = (det((n, k), salt) * np.float32(4)).astype(np.float32)
    labels = (np.arange(n) * 7 + salt) % k
    z = torch.tensor(logits.astype(np.float64), requires_grad=True)
    loss = torch.nn.CrossEntropyLoss(label_smoothing=s)(z, torch.tensor(labels, dtype=torch.int64))
    loss.backward()
    # Keras' CategoricalCrossentropy(from_logits=True, label_smoothing=s) on one-hot labels.
    y = np.eye(k)[labels] * (1 - s) + s / k
    zz = logits.astype(np.float64)
    logp = zz - zz.max(1, keepdims=True) - np.log(np.exp(zz - zz.max(1, keepdims=True)).sum(1, keepdims=True))
    keras = float(-(y * logp).sum(1).mean())
    if abs(keras - loss.item()) > 1e-12 * max(1, abs(keras)):
        raise SystemExit(f"label smoothing {s}: Keras' formula {keras} and torch {loss.item()} differ")
    return {"n": n, "classes": k, "smoothing": s, "logits": [float(v) for v in logits.ravel()],
            "labels": [int(v) for v in labels], "loss": float(loss.item()),
            "grad": [float(v) for v in z.grad.numpy().ravel()]}


def flat(ws):
    return [[float(v) for v in w.ravel()] for w in ws]


def main():
    dest = sys.argv[1] if len(sys.argv) > 1 else OUT
    torch.set_num_threads(1)
    # SequentialLR steps CosineAnnealingLR with step(0) at the milestone, which warns.
    warnings.simplefilter("ignore", UserWarning)
    cosine = []
    for name, lr, w, t, f, eta in COSINE:
        closed = [cosine_closed(lr, w, t, f, eta, s) for s in range(t)]
        seq = torch_cosine(lr, w, t, f, eta)
        worst = max(abs(a - b) / b for a, b in zip(closed, seq))
        if worst > 1e-9:
            raise SystemExit(f"cosine {name}: torch's SequentialLR and the closed form differ by {worst} (relative)")
        cosine.append({"name": name, "lr": lr, "warmup_steps": w, "total_steps": t, "start_factor": f, "eta_min": eta,
                       "torch_sequential": seq, "closed_form": closed})
    plateau = []
    for name, args, values in PLATEAU:
        keras = keras_plateau(args, values, PLATEAU_LR)
        checked = False
        if args["cooldown"] == 0 and args["patience"] >= 1:
            ref = torch_plateau(args, values, PLATEAU_LR)
            if ref != keras:
                raise SystemExit(f"plateau {name}: the Keras transcription {keras} and torch {ref} differ")
            checked = True
        plateau.append({"name": name, **args, "lr": PLATEAU_LR,
                        "values": [None if math.isnan(v) else v for v in values], "keras_lr": keras,
                        "checked_against_torch": checked})
    weights, grads, lrs = adamw_inputs()
    adamw = []
    for name, wd, eps in [("torch_eps0_wd0.1", 0.1, 0.0), ("ours_eps1e-7_wd0.05", 0.05, 1e-7)]:
        ref = torch_adamw(weights, grads, lrs, wd, eps)
        ours = ours_adamw(weights, grads, lrs, wd, eps)
        worst = max(float(np.max(np.abs(a - b))) for ra, rb in zip(ref, ours) for a, b in zip(ra, rb))
        # Equal up to float32 rounding with eps 0 (which checks the transcription); with eps
        # 1e-7 the two placements of epsilon differ where |g| is small (Keras' epsilon is
        # PyTorch's divided by sqrt(1 - beta2^t), 30 times larger at step 1).
        if worst > (2e-6 if eps == 0 else 1e-4):
            raise SystemExit(f"adamw {name}: torch.optim.AdamW and the transcription differ by {worst}")
        steps = ref if eps == 0 else ours
        adamw.append({"name": name, "weight_decay": wd, "eps": eps, "reference": "torch.optim.AdamW" if eps == 0 else "transcription",
                      "max_diff_torch_transcription": worst, "weights": [flat(s) for s in steps]})
    smoothing = [label_smoothing_case(6, 10, 0.1, 3), label_smoothing_case(5, 10, 0.3, 11), label_smoothing_case(4, 3, 0.05, 2)]

    with open(os.path.abspath(__file__), "rb") as f:
        script_sha = hashlib.sha256(f.read()).hexdigest()
    doc = {
        "generator": "pkg/train/testdata/gen/recipe_golden.py",
        "script_sha256": script_sha,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "cosine": cosine,
        "plateau": plateau,
        "adamw": {"shapes": [list(s) for s in ADAM_SHAPES], "initial": flat(weights),
                  "grads": [flat(g) for g in grads], "lrs": lrs, "beta1": 0.9, "beta2": 0.999, "cases": adamw},
        "label_smoothing": smoothing,
    }
    with open(dest + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    os.replace(dest + ".tmp", dest)
    print("wrote", os.path.normpath(dest))


if __name__ == "__main__":
    sys.exit(main())
