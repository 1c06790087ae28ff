#!/bin/sh
# bench/watch/vs-fail2ban.sh: the same distributed brute force, end to end,
# through fail2ban-server (Debian 12's fail2ban 1.0.2, stock sshd filter,
# banaction nftables-allports) and through `bulwark watch` (nftables), each
# in its own private network namespace (unshare -n, as root) with real
# nftables, at several sizes in one run.
#
# For each N (default 500,2000,5000): gen-attack.py writes an auth.log of N
# attacking sources (3 password attempts each, 3 lines per attempt, a tenth
# IPv6) among M legitimate users (default 200: key logins, passwords
# mistyped once or twice; never banned). Each daemon starts on an empty log
# in a fresh namespace; once it is ready the log is appended in one burst,
# and the seconds from the burst until every attacking source is an element
# of the daemon's nftables sets are measured (the sets polled every 0.5 s:
# one `nft list ruleset` per poll, the same for both), with the daemon's CPU
# (fail2ban: its own and that of the shell and nft processes its action
# runs: cutime + cstime), the bans and the false bans (legitimate sources in
# the sets: must be 0).
#
# fail2ban runs with its own socket, pidfile, database and log under a temp
# dir (a copy of /etc/fail2ban with a fail2ban.local and a jail.local), the
# pyinotify backend (python3-pyinotify), maxretry 3, findtime 10m, bantime
# 1h (bulwark's defaults). Each daemon is stopped by its PID afterwards.
#
# Usage: bench/watch/vs-fail2ban.sh [--bulwark PATH] [--sizes N[,N...]]
#                                   [--legit-clients M] [--timeout S]
set -eu
BIN=${BULWARK:-build/bulwark}
SIZES=500,2000,5000
LEGIT=200
TIMEOUT=1800
while [ $# -gt 0 ]; do
  case $1 in
    --bulwark) BIN=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --legit-clients) LEGIT=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    *) echo "usage: $0 [--bulwark PATH] [--sizes N[,N...]] [--legit-clients M] [--timeout S]" >&2
       exit 2 ;;
  esac
done
BIN=$(realpath "$BIN")
HERE=$(dirname "$(realpath "$0")")
command -v fail2ban-server >/dev/null || { echo "$0: fail2ban is not installed" >&2; exit 3; }
/usr/bin/python3 -c 'import pyinotify' 2>/dev/null ||
  echo "$0: python3-pyinotify missing: fail2ban polls the log every second" >&2

T=$(mktemp -d /tmp/bulwark-vs-f2b-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

# One measured run in a fresh network namespace. $1: bulwark|fail2ban,
# $2: N, $3: the run's directory (burst.log, attackers, legit in it).
# Prints one line: tool N wall_s cpu_s bans false_bans load.
run_one() {
  unshare -n sh -c '
    tool=$1; BIN=$2; D=$3; N=$4; TIMEOUT=$5
    ip link set lo up
    # Addresses in the sets: IPv4 and the 2001:db8 prefixes of the attack
    # (the rules name none).
    count() {
      nft list ruleset | grep -oE "([0-9]+\.){3}[0-9]+|2001:db8:[0-9a-f:]+" | sort -u >"$D/inset"
      wc -l <"$D/inset"
    }
    : >"$D/auth.log"
    if [ "$tool" = bulwark ]; then
      mkdir -p "$D/state"
      printf "state_dir: %s\nmetrics: {listen: \"\"}\nlimits: {max_bans: 262144}\njails:\n  sshd: {logs: [%s]}\n" \
        "$D/state" "$D/auth.log" >"$D/watch.yaml"
      "$BIN" watch --config "$D/watch.yaml" >"$D/out" 2>"$D/err" &
      pid=$!
      until grep -q watching "$D/err"; do
        kill -0 $pid 2>/dev/null || { cat "$D/err" >&2; exit 1; }
        sleep 0.05
      done
    else
      cp -r /etc/fail2ban "$D/conf"
      cat >"$D/conf/fail2ban.local" <<EOF
[Definition]
loglevel = NOTICE
logtarget = $D/f2b.log
socket = $D/f2b.sock
pidfile = $D/f2b.pid
dbfile = $D/f2b.sqlite3
EOF
      cat >"$D/conf/jail.local" <<EOF
[DEFAULT]
banaction = nftables-allports
banaction_allports = nftables-allports
maxretry = 3
findtime = 10m
bantime = 1h
[sshd]
enabled = true
backend = pyinotify
logpath = $D/auth.log
EOF
      fail2ban-server -f -x -c "$D/conf" -s "$D/f2b.sock" -p "$D/f2b.pid" start \
        >"$D/f2b.out" 2>&1 &
      pid=$!
      i=0
      until fail2ban-client -c "$D/conf" -s "$D/f2b.sock" status sshd >/dev/null 2>&1; do
        kill -0 $pid 2>/dev/null || { cat "$D/f2b.out" "$D/f2b.log" >&2; exit 1; }
        i=$((i + 1)); [ $i -lt 600 ] || { echo "fail2ban did not start" >&2; kill -TERM $pid; exit 1; }
        sleep 0.1
      done
    fi
    hz=$(getconf CLK_TCK)
    cpu0=$(awk "{ print \$14 + \$15 + \$16 + \$17 }" /proc/$pid/stat)
    t0=$(date +%s.%N)
    cat "$D/burst.log" >>"$D/auth.log"
    n=0
    while :; do
      n=$(count)
      [ "$n" -ge "$N" ] && break
      kill -0 $pid 2>/dev/null || { echo "$tool died" >&2; exit 1; }
      if [ "$(echo "$(date +%s.%N) - $t0 > $TIMEOUT" | bc)" = 1 ]; then
        echo "$tool: only $n of $N after $TIMEOUT s" >&2; break
      fi
      sleep 0.5
    done
    t1=$(date +%s.%N)
    cpu=$(awk -v c0="$cpu0" -v hz="$hz" "{ printf \"%.2f\", (\$14 + \$15 + \$16 + \$17 - c0) / hz }" /proc/$pid/stat)
    load=$(cut -d" " -f1 /proc/loadavg)
    if [ "$tool" = bulwark ]; then
      kill -TERM $pid
    else
      fail2ban-client -c "$D/conf" -s "$D/f2b.sock" stop >/dev/null 2>&1 || kill -TERM $pid
    fi
    wait $pid || true
    sed "s,/.*,," "$D/legit" | sort -u >"$D/legit.addr"
    false_bans=$(comm -12 "$D/inset" "$D/legit.addr" | wc -l)
    echo "$tool $N $(echo "$t1 - $t0" | bc) $cpu $n $false_bans $load"
  ' sh "$1" "$BIN" "$3" "$2" "$TIMEOUT"
}

printf "%-8s %7s %9s %8s %7s %6s %5s\n" tool sources wall_s cpu_s bans false load
for N in $(echo "$SIZES" | tr , ' '); do
  for tool in bulwark fail2ban; do
    D="$T/$tool-$N"
    mkdir -p "$D"
    # Generated just before the run: fail2ban ignores lines older than
    # findtime (the log's times span the last 5 minutes).
    python3 "$HERE/gen-attack.py" --sources "$N" --legit-clients "$LEGIT" \
      --attackers "$D/attackers" --legit "$D/legit" >"$D/burst.log"
    run_one "$tool" "$N" "$D" | tee -a "$T/results" |
      awk '{ printf "%-8s %7d %9.2f %8.2f %7d %6d %5s\n", $1, $2, $3, $4, $5, $6, $7 }'
  done
done
# Ratio and growth: fail2ban's seconds per ban at each size.
awk '
  $1 == "bulwark" { b[$2] = $3 }
  $1 == "fail2ban" { f[$2] = $3; order[++k] = $2 }
  END {
    for (i = 1; i <= k; ++i) {
      n = order[i]
      printf "N=%d: fail2ban %.2f s (%.1f ms per ban), bulwark %.2f s: fail2ban/bulwark %.0fx\n",
        n, f[n], 1000 * f[n] / n, b[n], (b[n] > 0 ? f[n] / b[n] : 0)
    }
  }' "$T/results"
