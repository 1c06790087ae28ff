#!/usr/bin/env bash
# bench/compose/run.sh: compose files per second, bulwark against
# `docker-compose config` (Debian's Docker Compose 1.29), same corpus, same run.
#
# Usage: bench/compose/run.sh [--bulwark PATH] [--projects N] [--sample M] [--runs R]
#
#   --bulwark PATH  bulwark binary (default: build/bulwark under the repository)
#   --projects N    projects in the generated corpus (default 1000: 2000 files)
#   --sample M      projects docker-compose is timed on (default 20; it takes
#                   ~0.5-1 s per call, the whole corpus would take many minutes)
#   --runs R        timed bulwark runs, after one warm-up (default 5; median)
#
# The corpus (bench/compose/gen.py, fixed seed) is N directories
# /srv/p<i>/ with docker-compose.yml + docker-compose.override.yml + .env:
# 3-8 services each, a merge-key anchor, interpolation, ports, volumes,
# networks, healthchecks, deploy limits. bulwark runs once over the root:
# `taskset -c 0 bulwark audit --root DIR --only container,network` discovers
# every project, parses, interpolates, merges and runs every container.* and
# network.* check (one core). docker-compose runs
# `taskset -c 0 docker-compose -f docker-compose.yml -f docker-compose.override.yml config -q`
# in each sampled project (parse, interpolate, merge, validate; no audit).
# Printed: files, seconds, files/s of each, and the ratio bulwark/docker-compose.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BULWARK="$REPO_ROOT/build/bulwark"
PROJECTS=1000
SAMPLE=20
RUNS=5

die() { echo "compose/run.sh: error: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case "$1" in
        --bulwark)  BULWARK=$2; shift 2 ;;
        --projects) PROJECTS=$2; shift 2 ;;
        --sample)   SAMPLE=$2; shift 2 ;;
        --runs)     RUNS=$2; shift 2 ;;
        -h|--help)  sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *)          die "unknown argument: $1 (see --help)" ;;
    esac
done
[ -x "$BULWARK" ] || die "bulwark binary not found at '$BULWARK' (build it first or pass --bulwark)"
command -v docker-compose >/dev/null || die "docker-compose is not installed (apt-get install -y docker-compose)"
PIN=(); command -v taskset >/dev/null && PIN=(taskset -c 0)

DIR=$(mktemp -d /tmp/bulwark-compose-bench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
python3 "$REPO_ROOT/bench/compose/gen.py" "$DIR" "$PROJECTS" 1
FILES=$((PROJECTS * 2))

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One timed run: "wall cpu" seconds (cpu = user + sys: the machine may be
# shared, and CPU time is what one core spends on the work).
timed() {
    local out; out=$(mktemp)
    /usr/bin/time -f "%e %U %S" -o "$out" "${PIN[@]}" "$@" >/dev/null 2>&1 || true
    tail -n 1 "$out" | awk '{ printf "%s %.3f\n", $1, $2 + $3 }'; rm -f "$out"
}
# bulwark, twice: loading only (container.compose-valid needs every project
# discovered, parsed, interpolated and merged) and the full audit
# (every container.* and network.* check, JSON report).
measure() {
    local i w=() c=()
    timed "$BULWARK" audit --root "$DIR" "$@" --format json --output /dev/null >/dev/null # warm-up
    for i in $(seq "$RUNS"); do
        read -r a b < <(timed "$BULWARK" audit --root "$DIR" "$@" --format json --output /dev/null)
        w+=("$a"); c+=("$b")
    done
    echo "$(printf '%s\n' "${w[@]}" | median) $(printf '%s\n' "${c[@]}" | median)"
}
read -r load_w load_c < <(measure --only container.compose-valid)
read -r b_s b_c < <(measure --only container,network)
# Exit status 1 means "findings at or above --fail-on": not a failure here.
b_findings=$({ "$BULWARK" audit --root "$DIR" --only container,network --format json 2>/dev/null || true; } |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))') || b_findings="?"

t0=$(now)
for i in $(seq 0 $((SAMPLE - 1))); do
    (cd "$DIR/srv/p$i" && "${PIN[@]}" docker-compose -f docker-compose.yml -f docker-compose.override.yml config -q) >/dev/null 2>&1 \
        || die "docker-compose config failed on project p$i"
done
t1=$(now)
d_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
d_files=$((SAMPLE * 2))

awk -v bf="$FILES" -v lw="$load_w" -v lc="$load_c" -v bs="$b_s" -v bc="$b_c" -v df="$d_files" -v ds="$d_s" -v n="$b_findings" 'BEGIN {
    drate = df / ds
    printf "%-28s %6s %9s %9s %10s %10s\n", "tool", "files", "wall s", "cpu s", "files/s", "(cpu)"
    printf "%-28s %6d %9.3f %9.3f %10.0f %10.0f\n", "bulwark load+merge", bf, lw, lc, bf / lw, bf / lc
    printf "%-28s %6d %9.3f %9.3f %10.0f %10.0f   (%s findings)\n", "bulwark load+merge+audit", bf, bs, bc, bf / bs, bf / bc, n
    printf "%-28s %6d %9.3f %9s %10.1f\n", "docker-compose config", df, ds, "-", drate
    printf "ratio bulwark audit/docker-compose (wall): %.0fx\n", (bf / bs) / drate
}'
