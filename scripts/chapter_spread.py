#!/usr/bin/python3
"""The chapter's 500-sample runs over many seeds, fmtrain beside its PyTorch peer.

The book reports one run of each: the small model on the first 500 training images for 20 epochs
(0.7924) and for 50 epochs with horizontal flips and a height shift of 3 (0.8109). One run of so few
samples says little: this script trains each recipe with seeds 1..N in both engines and prints the
mean, the sample standard deviation and the range of the test accuracy, so a reader sees where the
book's single figures fall.

  fmtrain: bin/fmtrain --arch small --train-size 500 --batch-size 40 --epochs 20 [--augment hflip,hshift=3 --epochs 50]
  PyTorch: scripts/torch_recipes.py small / aug (the same recipe, Keras' initialisers and Adam)

Usage: /usr/bin/python3 scripts/chapter_spread.py [--seeds 10] [--fmtrain bin/fmtrain] [--threads 2]
Prints one JSON line per run on stderr and a Markdown table on stdout.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_recipes  # noqa: E402  (the PyTorch peer)

RECIPES = [
    ("500 samples, 20 epochs", "small", 0.7924, []),
    ("500 samples, 50 epochs, flip and height shift", "aug", 0.8109,
     ["--epochs", "50", "--augment", "hflip,hshift=3"]),
]


def fmtrain_run(binary, extra, seed, threads, data, tmp):
    out = os.path.join(tmp, "model-%d.fmk" % seed)
    args = [binary, "--arch", "small", "--train-size", "500", "--batch-size", "40", "--epochs", "20",
            "--seed", str(seed), "--threads", str(threads), "--quiet", "--out", out] + extra
    if data:
        args += ["--data", data]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(tmp, "model-%d.history.json" % seed)) as f:
        return json.load(f)["test_accuracy"]


def summary(xs):
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return "%.4f ± %.4f (%.4f–%.4f)" % (statistics.mean(xs), sd, min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--fmtrain", default="bin/fmtrain")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default=os.environ.get("FMNIST_DATA", "/usr/share/datasets/fashion-mnist"))
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, peer, book, extra in RECIPES:
            ours, theirs = [], []
            for seed in range(1, a.seeds + 1):
                acc = fmtrain_run(a.fmtrain, extra, seed, a.threads, a.data, tmp)
                ours.append(acc)
                print(json.dumps({"engine": "fmtrain", "recipe": peer, "seed": seed, "test_accuracy": acc}),
                      file=sys.stderr, flush=True)
                r = torch_recipes.run(peer, seed, a.threads, a.data, "rows")
                theirs.append(r["test_accuracy"])
                print(json.dumps(dict(r, engine="pytorch")), file=sys.stderr, flush=True)
            rows.append((name, book, ours, theirs))
    print("| recipe | book (one run) | fmtrain, %d seeds: mean ± sd (range) | PyTorch 1.13, %d seeds |" % (a.seeds, a.seeds))
    print("| --- | --- | --- | --- |")
    for name, book, ours, theirs in rows:
        print("| %s | %.4f | %s | %s |" % (name, book, summary(ours), summary(theirs)))


if __name__ == "__main__":
    sys.exit(main())
