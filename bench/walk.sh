#!/usr/bin/env bash
# bench/walk.sh: the tree walk behind fs.world-writable against the command a
# user would otherwise run, `find ROOT -xdev -perm -0002`, in the same run.
#
# Usage: bench/walk.sh [--bulwark PATH] [--runs N] [ROOT...]
#
#   ROOT...         trees to walk (default: /work/bench-root and /usr)
#   --bulwark PATH  bulwark binary (default: build/bulwark under the repository)
#   --runs N        timed runs per command, after 3 warm-ups (default 15)
#
# bulwark runs as `bulwark audit --root ROOT --only fs.world-writable`: one
# walk (every entry but symlinks lstat'ed, like find -perm) plus the start-up
# (catalogue, profile), which find does not pay. The cache is warm (warm-ups),
# the commands alternate per round so that load from other processes hits
# both alike, and the median wall time of each is reported with the ratio
# bulwark/find (below 1: bulwark is faster). Uses hyperfine when installed
# (`apt-get install -y hyperfine`), a date(1) loop otherwise.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BULWARK="$REPO_ROOT/build/bulwark"
RUNS=15
ROOTS=()

die() { echo "walk.sh: error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --bulwark) [ $# -ge 2 ] || die "--bulwark needs a path"; BULWARK=$2; shift 2 ;;
        --runs)    [ $# -ge 2 ] || die "--runs needs a number"; RUNS=$2; shift 2 ;;
        -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*)        die "unknown option: $1 (see --help)" ;;
        *)         ROOTS+=("$1"); shift ;;
    esac
done
[ ${#ROOTS[@]} -gt 0 ] || ROOTS=(/work/bench-root /usr)
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, got '$RUNS'"
[ -x "$BULWARK" ] || die "bulwark binary not found at '$BULWARK' (build it first or pass --bulwark)"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One timed run of a command, seconds on stdout.
time_once() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

# Alternating rounds: each round runs bulwark once and find once.
measure() {
    local root=$1 i b f
    local -a bw=("$BULWARK" audit --root "$root" --only fs.world-writable --format json --output /dev/null)
    local -a fd=(find "$root" -xdev -perm -0002)
    local bt ft
    bt=$(mktemp); ft=$(mktemp)
    for i in 1 2 3; do "${bw[@]}" >/dev/null 2>&1 || true; "${fd[@]}" >/dev/null 2>&1 || true; done
    if command -v hyperfine >/dev/null 2>&1; then
        local hj; hj=$(mktemp)
        for (( i = 0; i < RUNS; i++ )); do
            hyperfine -N -i --style none --runs 1 --export-json "$hj" "${bw[*]}" "${fd[*]}" >/dev/null 2>&1
            python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["times"][0]); print(r[1]["times"][0], file=sys.stderr)' "$hj" >>"$bt" 2>>"$ft"
        done
        rm -f "$hj"
        TIMER=hyperfine
    else
        for (( i = 0; i < RUNS; i++ )); do
            time_once "${bw[@]}" >>"$bt"
            time_once "${fd[@]}" >>"$ft"
        done
        TIMER=date
    fi
    b=$(median <"$bt"); f=$(median <"$ft")
    rm -f "$bt" "$ft"
    local entries
    entries=$(find "$root" -xdev 2>/dev/null | wc -l)
    awk -v r="$root" -v n="$entries" -v b="$b" -v f="$f" -v t="$TIMER" -v k="$RUNS" 'BEGIN {
        printf "%-20s %9d %12.1f %12.1f %8.2f   (%s, median of %d)\n", r, n, b * 1000, f * 1000, b / f, t, k }'
}

printf "%-20s %9s %12s %12s %8s\n" "root" "entries" "bulwark ms" "find ms" "ratio"
for root in "${ROOTS[@]}"; do
    [ -d "$root" ] || die "'$root' is not a directory"
    measure "$root"
done
echo "nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
