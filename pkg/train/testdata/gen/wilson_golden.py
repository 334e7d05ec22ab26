#!/usr/bin/python3
"""Regenerates pkg/train/testdata/wilson_golden.json: Wilson score intervals of a binomial
proportion from SciPy (scipy.stats.binomtest(k, n).proportion_ci(confidence, method="wilson"),
Debian's python3-scipy 1.10), the reference for pkg/train's WilsonInterval.

Usage: /usr/bin/python3 pkg/train/testdata/gen/wilson_golden.py > pkg/train/testdata/wilson_golden.json
"""
import json

import scipy
from scipy.stats import binomtest

CASES = [(9102, 10000, 0.95), (9360, 10000, 0.95), (0, 10000, 0.95), (10000, 10000, 0.95),
         (1, 1, 0.95), (0, 1, 0.95), (7, 20, 0.95), (396, 500, 0.95), (950, 1000, 0.99),
         (3, 13, 0.9), (5000, 10000, 0.5), (866, 1000, 0.95)]

out = {"source": "scipy %s binomtest(k, n).proportion_ci(confidence, method='wilson')" % scipy.__version__,
       "cases": []}
for k, n, conf in CASES:
    ci = binomtest(k, n).proportion_ci(conf, method="wilson")
    out["cases"].append({"k": k, "n": n, "confidence": conf, "low": ci.low, "high": ci.high})
print(json.dumps(out, indent=1))
