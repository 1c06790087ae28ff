#!/bin/sh
# bench/watch/restart.sh: how long `bulwark watch` takes to start (put its
# bans back into nftables and begin reading logs) with N bans in force in
# its SQLite state (default 65,536, limits.max_bans), in a private network
# namespace with real nftables (unshare -n, as root). Prints the seconds
# from exec to "watching" (the bans are in the kernel before it reads a log
# line), the CPU it used, and the elements found in the set.
# Usage: bench/watch/restart.sh [--bulwark PATH] [--bans N]
set -eu
BIN=${BULWARK:-build/bulwark}
N=65536
while [ $# -gt 0 ]; do
  case $1 in
    --bulwark) BIN=$2; shift 2 ;;
    --bans) N=$2; shift 2 ;;
    *) echo "usage: $0 [--bulwark PATH] [--bans N]" >&2; exit 2 ;;
  esac
done
BIN=$(realpath "$BIN")
T=$(mktemp -d /tmp/bulwark-restart-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
mkdir "$T/state"
: >"$T/auth.log"
cat >"$T/watch.yaml" <<Y
state_dir: $T/state
metrics: {listen: ''}
jails:
  sshd: {logs: [$T/auth.log]}
Y
# The state a previous run left: N bans of distinct /32s, an hour to go.
python3 - "$T/state/bans.sqlite" "$N" <<'P'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2]); now = int(time.time())
db.execute("CREATE TABLE bans (jail TEXT NOT NULL, address TEXT NOT NULL, prefix INTEGER NOT NULL,"
           " banned_at INTEGER NOT NULL, until INTEGER NOT NULL, nth INTEGER NOT NULL,"
           " PRIMARY KEY (jail, address, prefix))")
db.executemany("INSERT INTO bans VALUES ('sshd', ?, 32, ?, ?, 1)",
               ((f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", now, now + 3600) for i in range(n)))
db.commit()
P
unshare -n sh -c '
  start=$(date +%s.%N)
  "$1" watch --config "$2/watch.yaml" >"$2/out" 2>"$2/err" &
  pid=$!
  while ! grep -q watching "$2/err" 2>/dev/null; do
    kill -0 $pid 2>/dev/null || { cat "$2/err" >&2; exit 1; }
    sleep 0.02
  done
  end=$(date +%s.%N)
  # CPU the daemon used until then (utime + stime, clock ticks): the wall
  # time above depends on the load of the machine.
  cpu=$(awk -v hz="$(getconf CLK_TCK)" "{ printf \"%.2f\", (\$14 + \$15) / hz }" /proc/$pid/stat)
  n=$(nft list set inet bulwark v4 | grep -o "timeout [0-9]" | wc -l)
  kill -TERM $pid; wait $pid || true
  echo "restart with $3 bans: $(echo "$end - $start" | bc) s to \"watching\" ($cpu s CPU), $n elements in the set, load $(cut -d" " -f1 /proc/loadavg)"
' sh "$BIN" "$T" "$N"
