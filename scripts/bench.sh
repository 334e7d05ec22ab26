#!/usr/bin/env bash
# Speed check: the native engine against onnxruntime and PyTorch on this
# machine, in one run (internal/cmd/fmbench, scripts/bench_torch.py). Prints a
# table of ratios; about a minute with the defaults.
#
#   scripts/bench.sh [fmbench flags]     e.g. --threads 2 --duration 3s --json
#
# ONNXRUNTIME_SHARED_LIBRARY_PATH defaults to the set-up cache that
# scripts/setup.sh fills. Measure on a quiet machine: the table shows the
# load average before and after, and PyTorch's OpenMP threads in particular
# slow down badly when the cores are oversubscribed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cache=${FMKIT_CACHE:-$here/.cache}
lib=$cache/onnxruntime/1.24.1/libonnxruntime.so.1
if [[ -z "${ONNXRUNTIME_SHARED_LIBRARY_PATH:-}" && -f $lib ]]; then
	export ONNXRUNTIME_SHARED_LIBRARY_PATH=$lib
fi
GO=${GO:-go}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
"$GO" build -o "$bin/fmbench" ./internal/cmd/fmbench
"$bin/fmbench" --torch-script "$here/scripts/bench_torch.py" "$@"
