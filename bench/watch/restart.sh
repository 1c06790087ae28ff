#!/bin/sh
# bench/watch/restart.sh: how long `bulwark watch` takes to start with N bans
# in force in its SQLite state (default 65,536, limits.max_bans), in a
# private network namespace with real nftables (unshare -n, as root).
#
# Two starts in the same namespace:
#  - cold: the kernel holds none of the bans (a reboot, a flushed ruleset):
#    all N go back into nftables;
#  - warm: the kernel kept them (bulwark itself restarted): the same adds,
#    no-ops for elements the kernel holds (no listing of the sets first).
# For each: seconds from exec to "watching" (reading logs), to "restored N
# bans into nftables" (the last of them in the kernel; the restore runs in
# chunks between reads of the logs), the CPU the daemon used by then (utime + stime: the
# wall time depends on the load of the machine), and the elements found in
# the sets afterwards. Several N: --bans 6005,65536,100000.
# Usage: bench/watch/restart.sh [--bulwark PATH] [--bans N[,N...]]
set -eu
BIN=${BULWARK:-build/bulwark}
NS=65536
while [ $# -gt 0 ]; do
  case $1 in
    --bulwark) BIN=$2; shift 2 ;;
    --bans) NS=$2; shift 2 ;;
    *) echo "usage: $0 [--bulwark PATH] [--bans N[,N...]]" >&2; exit 2 ;;
  esac
done
BIN=$(realpath "$BIN")
for N in $(echo "$NS" | tr , ' '); do
T=$(mktemp -d /tmp/bulwark-restart-XXXXXX)
mkdir "$T/state"
: >"$T/auth.log"
cat >"$T/watch.yaml" <<Y
state_dir: $T/state
metrics: {listen: ''}
limits: {max_bans: 200000}
jails:
  sshd: {logs: [$T/auth.log]}
Y
# The state a previous run left: N bans of distinct addresses, a tenth of
# them IPv6 /64s, an hour to go, each with its reason and the three log
# lines that caused it (as bulwark records them).
python3 - "$T/state/bans.sqlite" "$N" <<'P'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2]); now = int(time.time())
db.execute("CREATE TABLE bans (jail TEXT NOT NULL, address TEXT NOT NULL, prefix INTEGER NOT NULL,"
           " banned_at INTEGER NOT NULL, until INTEGER NOT NULL, nth INTEGER NOT NULL,"
           " reason TEXT NOT NULL DEFAULT '', lines TEXT NOT NULL DEFAULT '',"
           " PRIMARY KEY (jail, address, prefix))")
def row(i):
    if i % 10 == 9:
        a, p = f"2001:db8:{i >> 16 & 0xffff:x}:{i & 0xffff:x}::", 64
    else:
        a, p = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 32
    lines = "".join(f"Dec  6 10:00:0{k} host sshd[{1000 + k}]: Failed password for invalid user "
                    f"admin from {a}1 port {40000 + k} ssh2\n" for k in range(3))
    return (a, p, now, now + 3600, "failed_password", lines)
db.executemany("INSERT INTO bans VALUES ('sshd', ?, ?, ?, ?, 1, ?, ?)", (row(i) for i in range(n)))
db.commit()
P
unshare -n sh -c '
  start() {
    : >"$2/err"
    rm -f "$2/err.fifo"; mkfifo "$2/err.fifo"
    # The daemon'"'"'s stderr through a FIFO read line by line: the shell
    # sleeps in read(2) until a line comes, instead of polling the file
    # with grep, kill and sleep every 10 ms (three processes per poll that
    # competed for the two CPUs with the daemon being measured).
    t0=$(date +%s.%N)
    "$1" watch --config "$2/watch.yaml" >"$2/out" 2>"$2/err.fifo" &
    pid=$!
    exec 3<"$2/err.fifo" # open until the daemon is gone: no EPIPE for it
    watching=""; restored=""
    while IFS= read -r line <&3; do
      printf "%s\n" "$line" >>"$2/err"
      case $line in
        *watching*) watching=$(date +%s.%N) ;;
        # "restored N bans into nftables": the last chunk is in (warm:
        # adds of elements the kernel holds, no-ops).
        *"bans into "*) restored=$(date +%s.%N); break ;;
      esac
    done
    [ -n "$restored" ] || { cat "$2/err" >&2; exit 1; }
    cpu=$(awk -v hz="$(getconf CLK_TCK)" "{ printf \"%.2f\", (\$14 + \$15) / hz }" /proc/$pid/stat)
    # schedstat: nanoseconds on a CPU, and waiting in the run queue for
    # one (runnable but not running: the load of the machine).
    runq=$(awk "{ printf \"%.2f\", \$2 / 1e9 }" /proc/$pid/schedstat)
    kill -TERM $pid; wait $pid || true
    exec 3<&-
    n=$(nft list table inet bulwark | grep -o "timeout [0-9]" | wc -l)
    echo "$3 bans, $4 start: watching after $(echo "$watching - $t0" | bc) s, all in the kernel after $(echo "$restored - $t0" | bc) s, $cpu s CPU, $runq s waiting for a CPU, $n elements in the sets, load $(cut -d" " -f1 /proc/loadavg)"
  }
  start "$1" "$2" "$3" cold
  start "$1" "$2" "$3" warm
' sh "$BIN" "$T" "$N"
[ -n "${KEEP:-}" ] || rm -rf "$T"
done
