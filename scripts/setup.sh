#!/usr/bin/env bash
# setup.sh: installs what fmkit needs on Debian 12, idempotently.
#
#   - Debian packages (apt-get, only the missing ones): the Fashion-MNIST data, the official ONNX checker,
#     the ONNX backend conformance data and onnx.proto, protoc, PyTorch (golden values, benchmarks), and
#     Keras' own ImageDataGenerator (keras-preprocessing, with scipy: the augmentation golden values),
#     and PIL (the image fixtures: testdata/gen/fmnist/*.py).
#   - onnxruntime 1.24.1 (the C library that github.com/yalue/onnxruntime_go v1.27.0 is built against),
#     taken from the official npm package onnxruntime-node@1.24.1 with `npm pack` (its install scripts are
#     never run), checked by SHA-256, into the git-ignored cache .cache/onnxruntime/1.24.1/.
#     A user who already has the library sets ONNXRUNTIME_SHARED_LIBRARY_PATH and this step leaves it alone.
#   - Go modules (go mod download).
#
# Environment: FMKIT_SKIP_APT=1 skips the apt step; FMKIT_CACHE overrides the cache folder.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${FMKIT_CACHE:-$here/.cache}

ORT_VERSION=1.24.1
ORT_NPM=onnxruntime-node@$ORT_VERSION
ORT_MEMBER=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
ORT_SHA256=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4
ORT_DIR=$cache/onnxruntime/$ORT_VERSION

APT_PACKAGES=(dataset-fashion-mnist python3-onnx python3-numpy libonnx-testdata libonnx-dev protobuf-compiler python3-torch python3-keras-preprocessing python3-scipy python3-pil)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

apt_step() {
	if [ "${FMKIT_SKIP_APT:-}" = 1 ]; then say "apt: skipped (FMKIT_SKIP_APT=1)"; return; fi
	local missing=()
	for p in "${APT_PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then say "apt: all ${#APT_PACKAGES[@]} Debian packages present"; return; fi
	local sudo=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "need root to install: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})"
		sudo="sudo -n"
	fi
	say "apt: installing ${missing[*]}"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
	say "apt: done"
}

ort_step() {
	local lib=$ORT_DIR/libonnxruntime.so.1
	# make exports ONNXRUNTIME_SHARED_LIBRARY_PATH pointing at this cache: that is ours to fill.
	if [ -n "${ONNXRUNTIME_SHARED_LIBRARY_PATH:-}" ] && [ "$ONNXRUNTIME_SHARED_LIBRARY_PATH" != "$lib" ]; then
		[ -f "$ONNXRUNTIME_SHARED_LIBRARY_PATH" ] || die "ONNXRUNTIME_SHARED_LIBRARY_PATH=$ONNXRUNTIME_SHARED_LIBRARY_PATH does not exist"
		say "onnxruntime: using ONNXRUNTIME_SHARED_LIBRARY_PATH=$ONNXRUNTIME_SHARED_LIBRARY_PATH (left alone)"
		return
	fi
	if [ -f "$lib" ] && echo "$ORT_SHA256  $lib" | sha256sum -c --quiet - 2>/dev/null; then
		say "onnxruntime: $ORT_VERSION present at $lib"
		return
	fi
	command -v npm >/dev/null || die "npm is needed to fetch $ORT_NPM (apt-get install -y npm), or set ONNXRUNTIME_SHARED_LIBRARY_PATH"
	say "onnxruntime: fetching $ORT_NPM with npm pack (no install scripts run)"
	local tmp
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	(cd "$tmp" && npm pack --silent --ignore-scripts "$ORT_NPM" >/dev/null)
	tar -xzf "$tmp"/onnxruntime-node-$ORT_VERSION.tgz -C "$tmp" "$ORT_MEMBER"
	echo "$ORT_SHA256  $tmp/$ORT_MEMBER" | sha256sum -c --quiet - || die "onnxruntime: SHA-256 mismatch for $ORT_MEMBER from $ORT_NPM"
	mkdir -p "$ORT_DIR"
	install -m 0644 "$tmp/$ORT_MEMBER" "$ORT_DIR/.libonnxruntime.so.1.tmp"
	mv -f "$ORT_DIR/.libonnxruntime.so.1.tmp" "$lib"
	say "onnxruntime: installed $lib (sha256 $ORT_SHA256)"
}

go_step() {
	(cd "$here" && go mod download) || die "go mod download failed"
	say "go: modules ready"
}

apt_step
ort_step
go_step
