#!/usr/bin/env bash
# bench/docker/run.sh: the runtime audit of N running containers (issue 15).
#
# A recorded-response Engine API (fake_engine.py, chunked as dockerd answers)
# serves N containers; bulwark reads /info, the container list, one inspect
# per container, images and networks over its own HTTP/1.1 client and runs
# every container.* and docker.* check on them:
#   bulwark audit --root EMPTY --docker unix://SOCK --only container,docker \
#                 --format json --output /dev/null
# The reference is what a user would otherwise run to see the same data:
#   docker -H unix://SOCK inspect $(docker -H unix://SOCK ps -aq)
# against the same server (Debian's docker.io CLI), when it is installed.
# Median of RUNS runs. Target: 500 containers under 1 s.
#
# Usage: bench/docker/run.sh [--bulwark PATH] [--containers N] [--runs R]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bulwark="$here/build/bulwark"
n=500
runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --bulwark) bulwark=$2; shift 2 ;;
    --containers) n=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--bulwark PATH] [--containers N] [--runs R]" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d /tmp/bw-dockerbench-XXXXXX)
python3 "$here/bench/docker/fake_engine.py" "$tmp/docker.sock" "$n" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do [ -S "$tmp/docker.sock" ] && break; sleep 0.1; done
mkdir -p "$tmp/root/etc"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }

"$bulwark" audit --root "$tmp/root" --docker "unix://$tmp/docker.sock" --only container,docker \
  --format json --output "$tmp/report.json" >/dev/null 2>&1 || true
found=$(python3 -c "import json,sys; r=json.load(open('$tmp/report.json')); print(len({f['subject'] for f in r['findings'] if f['subject'].startswith('container ')}))")
echo "containers judged: $found of $n"
b=$(for _ in $(seq "$runs"); do ms "$bulwark" audit --root "$tmp/root" --docker "unix://$tmp/docker.sock" --only container,docker --format json --output /dev/null; done | median)
echo "bulwark audit (container,docker) of $n containers: ${b} ms wall (median of $runs)"
if [ -x /usr/bin/time ]; then
  # bulwark exits 1 when something fails: not an error of the benchmark.
  cpu=$(for _ in $(seq "$runs"); do { /usr/bin/time -f "%U %S" "$bulwark" audit --root "$tmp/root" --docker "unix://$tmp/docker.sock" --only container,docker --format json --output /dev/null 2>&1 >/dev/null || true; } | tail -1 | awk '{printf "%d\n", ($1 + $2) * 1000}'; done | median)
  echo "bulwark CPU time (user + system): ${cpu} ms (median of $runs); load average: $(cut -d' ' -f1 /proc/loadavg)"
fi
if command -v docker >/dev/null; then
  d=$(for _ in $(seq "$runs"); do ms sh -c "docker -H unix://$tmp/docker.sock inspect \$(docker -H unix://$tmp/docker.sock ps -aq)"; done | median)
  echo "docker ps -aq + docker inspect (same server): ${d} ms (median of $runs)"
fi
