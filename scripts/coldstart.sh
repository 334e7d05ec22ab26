#!/usr/bin/env bash
# coldstart.sh: time from process start to answer for one image, per engine: the median of N runs
# of `fminfer IMAGE` with the embedded default model (a fresh process each time).
# Usage: scripts/coldstart.sh [N]   (run after make build; writes a test image into a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-21}
export ONNXRUNTIME_SHARED_LIBRARY_PATH=${ONNXRUNTIME_SHARED_LIBRARY_PATH:-$PWD/.cache/onnxruntime/1.24.1/libonnxruntime.so.1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin/fmtrain images --set test --index 0 --out "$tmp" >/dev/null
img=$(ls "$tmp"/*.png)
for engine in ort native; do
	bin/fminfer --engine $engine "$img" >/dev/null # warm the page cache
	times=()
	for _ in $(seq "$n"); do
		# $EPOCHREALTIME (bash 5) reads the clock without starting a process: timing with
		# $(date) counted two extra fork+execs, about 10 ms, in every run.
		t0=${EPOCHREALTIME/./}
		bin/fminfer --engine $engine "$img" >/dev/null
		t1=${EPOCHREALTIME/./}
		times+=($(( t1 - t0 )))
	done
	median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
	awk -v m="$median" -v e="$engine" -v n="$n" 'BEGIN { printf "cold start, %-6s engine: median %6.1f ms over %d runs\n", e, m / 1000, n }'
done
