#!/usr/bin/env bash
# fuzz.sh: runs every fuzz target of the module, one after another, and prints a table.
#
#   scripts/fuzz.sh [DURATION] [TARGET...]
#
# DURATION is go test's -fuzztime (default 20s): a time such as 20s, 5m, 1h, or an execution
# count such as 100000x. With TARGET names (FuzzReadIDX ...), only those run; otherwise every
# `func FuzzXxx(f *testing.F)` found in a *_test.go file of the module runs, each in its own
# package.
#
# Environment: GO (default go); FUZZPARALLEL sets go test's -parallel (the number of fuzzing
# workers; default: GOMAXPROCS); FUZZMINIMIZETIME sets -fuzzminimizetime (default: a tenth of
# DURATION, 1 s to 60 s; go test's own default for an execution count); FUZZLOGDIR keeps each
# target's full go test output there (default: a temporary directory, removed at the end).
#
# FuzzGateORT (pkg/onnx) runs every model the model gate accepts in onnxruntime, in a child
# process (the test binary re-run as TestGateORTChild), so an onnxruntime crash fails the input
# instead of killing the fuzzer. Its workers count the models that reached onnxruntime in
# $FMKIT_FUZZ_STATS, which this script points at the log directory; the table shows the total.
#
# Exit status: 0 when every target ran clean, 1 when any failed (a crash, a failing input, a
# build error, or a target that was not found), 2 on a usage error. Go 1.26's fuzz coordinator
# sometimes reports its own -fuzztime deadline as a failure (golang/go#75804, fixed in Go 1.27);
# a run whose only failure is that message, after its whole duration, with no input written and
# no panic, counts as passed and says so in the table. Fuzzing writes only failing
# inputs into the package's testdata/fuzz/TARGET/ (its interesting inputs go to the build
# cache), so a clean run leaves the tree as it was: any new testdata/fuzz file after a passing
# run is removed. After a failure the new files are kept, listed, and are the regression seeds
# to commit with the fix; rerun one with `go test -run 'TARGET/NAME' ./PKG`.
set -uo pipefail

GO=${GO:-go}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2

usage() {
	sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

dur=20s
if [ $# -gt 0 ]; then
	case "$1" in
	-h | --help) usage ;;
	Fuzz*) ;;
	*)
		dur=$1
		shift
		;;
	esac
fi

# seconds DURATION: the duration in whole seconds, or empty for an execution count.
seconds() {
	local d=$1
	case "$d" in
	*x) echo "" ;;
	*ms) echo 1 ;;
	*h) echo $((${d%h} * 3600)) ;;
	*m) echo $((${d%m} * 60)) ;;
	*s) echo $((${d%s})) ;;
	*) return 1 ;;
	esac
}
if ! [[ $dur =~ ^[0-9]+(ms|s|m|h|x)$ ]]; then
	echo "fuzz.sh: DURATION must look like 20s, 5m, 1h or 100000x, got \"$dur\"" >&2
	exit 2
fi
secs=$(seconds "$dur")
# go test's -timeout covers the seed corpus, the fuzzing and the shutdown; an execution count
# gets a generous fixed bound.
if [ -n "$secs" ]; then
	timeout=$((secs + 600))s
else
	timeout=60m
fi

# All targets as "PKGDIR NAME", from the module's test files (not the caches or vendored code).
mapfile -t all < <(
	git ls-files --cached --others --exclude-standard -- '*_test.go' 2>/dev/null |
		xargs -r grep -H -o '^func Fuzz[A-Za-z0-9_]*(' 2>/dev/null |
		sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' | sort -u -k2
)
if [ ${#all[@]} -eq 0 ]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi

targets=()
missing=()
if [ $# -eq 0 ]; then
	targets=("${all[@]}")
else
	for want in "$@"; do
		found=""
		for t in "${all[@]}"; do
			if [ "${t#* }" = "$want" ]; then
				targets+=("$t")
				found=1
			fi
		done
		[ -n "$found" ] || missing+=("$want")
	done
fi

logdir=${FUZZLOGDIR:-}
if [ -z "$logdir" ]; then
	logdir=$(mktemp -d)
	trap 'rm -rf "$logdir"' EXIT
else
	mkdir -p "$logdir"
fi

# corpus PKGDIR NAME: the files under the target's testdata/fuzz directory, one a line.
corpus() {
	local d="$1/testdata/fuzz/$2"
	[ -d "$d" ] && find "$d" -type f | sort
	return 0
}

# deadline_race LOG NAME NEW TOOK: true when a failed run is Go's fuzz-coordinator race at the
# end of a duration -fuzztime (golang/go#75804) and nothing else: the run lasted the whole
# duration, the only failure text is "context deadline exceeded", no input was written, and
# nothing panicked. Anything more (a crasher, a panic, a hang, a build error) stays a failure.
deadline_race() {
	local log=$1 name=$2 new=$3 took=$4
	[ -n "$secs" ] || return 1
	[ -z "$new" ] || return 1
	[ "$took" -ge "$secs" ] || return 1
	grep -q "^--- FAIL: ${name} (" "$log" || return 1
	grep -q -e 'panic:' -e 'Failing input written' -e 'fuzzing process hung' -e 'build failed' "$log" && return 1
	# Between "--- FAIL" and the closing "FAIL" there is exactly one line: the deadline message.
	local body
	body=$(sed -n "/^--- FAIL: ${name} (/,/^FAIL\$/p" "$log" | sed '1d;$d')
	[ "$(echo "$body" | wc -l)" -eq 1 ] && echo "$body" | grep -q -x '[[:space:]]*context deadline exceeded'
}

parallel=()
[ -n "${FUZZPARALLEL:-}" ] && parallel=(-parallel "$FUZZPARALLEL")

# go test spends up to -fuzzminimizetime (default 60s) shrinking each new interesting input,
# fuzzing nothing meanwhile: in a 20 s run one large seed could eat the whole budget. A tenth
# of the duration (at least 1 s, at most 60 s) keeps most of the time for fuzzing; a failing
# input is still reported and kept, only perhaps less shrunk.
minimize=()
if [ -n "${FUZZMINIMIZETIME:-}" ]; then
	minimize=(-fuzzminimizetime "$FUZZMINIMIZETIME")
elif [ -n "$secs" ]; then
	mt=$((secs / 10))
	mt=$((mt < 1 ? 1 : (mt > 60 ? 60 : mt)))
	minimize=(-fuzzminimizetime "${mt}s")
fi

rows=()
failed=0
for t in "${targets[@]}"; do
	pkg=${t%% *}
	name=${t#* }
	log="$logdir/$name.log"
	before=$(corpus "$pkg" "$name")
	echo "fuzz.sh: $name in ./$pkg for $dur" >&2
	start=$(date +%s)
	stats="$logdir/$name.stats"
	mkdir -p "$stats"
	FMKIT_FUZZ_STATS=$stats "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$dur" -timeout "$timeout" "${parallel[@]}" "${minimize[@]}" "./$pkg" >"$log" 2>&1
	rc=$?
	raced=""
	took=$(($(date +%s) - start))
	# The last status line carries the total: "fuzz: elapsed: 20s, execs: 123456 (6172/sec), ...".
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	execs=${execs:-0}
	after=$(corpus "$pkg" "$name")
	new=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')
	if [ $rc -ne 0 ] && deadline_race "$log" "$name" "$new" "$took"; then
		# Go 1.26's fuzz coordinator can report its own -fuzztime deadline as a failure
		# (golang/go#75804, fixed in Go 1.27): the target ran its whole time and found nothing.
		echo "fuzz.sh: $name: go test reported only its own -fuzztime deadline (golang/go#75804), no failing input: counted as passed" >&2
		rc=0
		raced=1
	fi
	if [ $rc -eq 0 ] && { [ -n "$raced" ] || grep -q '^ok' "$log"; }; then
		result=ok
		[ -n "$raced" ] && result="ok (go#75804 deadline report ignored)"
		# A clean run must leave nothing behind.
		if [ -n "$new" ]; then
			echo "$new" | xargs -r rm -f
			rmdir -p "$pkg/testdata/fuzz/$name" 2>/dev/null || true
		fi
	else
		result=FAIL
		failed=$((failed + 1))
		echo "fuzz.sh: $name FAILED (exit $rc); the end of its output:" >&2
		tail -40 "$log" | sed 's/^/    /' >&2
		if [ -n "$new" ]; then
			echo "fuzz.sh: failing input(s) kept, commit them as regression seeds with the fix:" >&2
			echo "$new" | sed 's/^/    /' >&2
			result="FAIL (input: $(echo "$new" | head -1))"
		fi
	fi
	# Targets that run a child engine (FuzzGateORT) leave one "ran N refused-by-onnxruntime M"
	# line per worker process.
	ran=$(cat "$stats"/[0-9]* 2>/dev/null | awk '$1 == "ran" { r += $2; f += $4 } END { if (r) printf "%d models run by onnxruntime (%d refused by it)", r, f }')
	[ -n "$ran" ] && result="$result; $ran"
	rows+=("$(printf '%-24s %-22s %12s %6ss  %s' "$name" "./$pkg" "$execs" "$took" "$result")")
done

printf '\n%-24s %-22s %12s %7s  %s\n' TARGET PACKAGE EXECS TIME RESULT
for r in "${rows[@]}"; do
	echo "$r"
done
for m in "${missing[@]}"; do
	printf '%-24s %-22s %12s %7s  %s\n' "$m" "-" 0 - "FAIL (no such fuzz target)"
	failed=$((failed + 1))
done
if [ $failed -gt 0 ]; then
	echo "fuzz.sh: $failed target(s) failed" >&2
	exit 1
fi
echo "fuzz.sh: all ${#targets[@]} target(s) passed ($dur each)"
