#!/bin/sh
# bench/watch/attack.sh: a distributed brute force end to end. N sources
# (default 100,000; a tenth IPv6 /64s) make 3 password attempts each on sshd
# among 2,000 legitimate users (gen-attack.py); `bulwark watch` follows the
# auth.log with the real nftables backend in a private network namespace
# (unshare -n, as root). The log is appended in one burst after "watching".
# Prints the seconds from the burst to the last ban decided (stdout) and to
# every ban in the kernel, the bans made, false bans (legitimate sources
# banned: must be 0), missed attackers (must be 0), the daemon's CPU and
# peak RSS; and, for scale, fail2ban-regex's time to only match the same log
# with Debian's stock sshd filter (fail2ban's own daemon would add an nft
# command per ban on top).
# Usage: bench/watch/attack.sh [--bulwark PATH] [--sources N] [--no-fail2ban]
set -eu
BIN=${BULWARK:-build/bulwark}
N=100000
F2B=1
while [ $# -gt 0 ]; do
  case $1 in
    --bulwark) BIN=$2; shift 2 ;;
    --sources) N=$2; shift 2 ;;
    --no-fail2ban) F2B=; shift ;;
    *) echo "usage: $0 [--bulwark PATH] [--sources N] [--no-fail2ban]" >&2; exit 2 ;;
  esac
done
BIN=$(realpath "$BIN")
HERE=$(dirname "$(realpath "$0")")
T=$(mktemp -d /tmp/bulwark-attack-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
mkdir "$T/state"
python3 "$HERE/gen-attack.py" --sources "$N" --attackers "$T/attackers" --legit "$T/legit" >"$T/burst.log"
: >"$T/auth.log"
cat >"$T/watch.yaml" <<Y
state_dir: $T/state
metrics: {listen: ''}
limits: {max_bans: 262144}
jails:
  sshd: {logs: [$T/auth.log]}
Y
unshare -n sh -c '
  T=$2; N=$3
  "$1" watch --config "$T/watch.yaml" >"$T/out" 2>"$T/err" &
  pid=$!
  while ! grep -q watching "$T/err"; do
    kill -0 $pid 2>/dev/null || { cat "$T/err" >&2; exit 1; }
    sleep 0.02
  done
  cpu0=$(awk "{ print \$14 + \$15 }" /proc/$pid/stat)
  t0=$(date +%s.%N)
  cat "$T/burst.log" >>"$T/auth.log"
  decided=""
  # All in nftables: the daemon idle (its CPU time unchanged for 1.5 s)
  # after the last decision; checked against a listing afterwards. Polling
  # the sets meanwhile would cost nft two seconds of CPU per listing of
  # 100,000 elements and slow what it measures.
  last=""; changed=$t0
  while :; do
    kill -0 $pid 2>/dev/null || { cat "$T/err" >&2; exit 1; }
    now=$(date +%s.%N)
    c=$(awk "{ print \$14 + \$15 }" /proc/$pid/stat)
    [ "$c" != "$last" ] && { last=$c; changed=$now; }
    if [ -z "$decided" ] && [ "$(grep -c " ban sshd " "$T/out")" -ge "$N" ]; then
      decided=$(echo "$now - $t0" | bc)
    fi
    if [ -n "$decided" ] && [ "$(echo "$now - $changed > 1.5" | bc)" = 1 ]; then
      break
    fi
    sleep 0.1
  done
  applied=$(echo "$changed - $t0" | bc)
  cpu=$(awk -v c0="$cpu0" -v hz="$(getconf CLK_TCK)" "{ printf \"%.2f\", (\$14 + \$15 - c0) / hz }" /proc/$pid/stat)
  rss=$(awk "/VmHWM/ { print \$2 / 1024 }" /proc/$pid/status)
  inkernel=$(nft list table inet bulwark | grep -o "expires" | wc -l)
  [ "$inkernel" -ge "$N" ] || echo "only $inkernel of $N bans in nftables" >&2
  kill -TERM $pid; wait $pid || true
  sed -n "s/.* ban sshd \([^ ]*\) .*/\1/p" "$T/out" | sort -u >"$T/banned"
  sort -u "$T/attackers" >"$T/attackers.sorted"
  sort -u "$T/legit" >"$T/legit.sorted"
  false_bans=$(comm -12 "$T/banned" "$T/legit.sorted" | wc -l)
  missed=$(comm -23 "$T/attackers.sorted" "$T/banned" | wc -l)
  echo "bulwark: $(wc -l <"$T/burst.log") lines, $N attacking sources: last ban decided after $decided s, all $inkernel in nftables after $applied s; $(wc -l <"$T/banned") bans, false bans $false_bans, attackers missed $missed; $cpu s CPU, peak RSS ${rss} MB; load $(cut -d" " -f1 /proc/loadavg)"
' sh "$BIN" "$T" "$N"
if [ -n "$F2B" ] && command -v fail2ban-regex >/dev/null; then
  /usr/bin/time -f "%e %U %S" -o "$T/f2b.time" \
    fail2ban-regex "$T/burst.log" /etc/fail2ban/filter.d/sshd.conf >"$T/f2b" 2>&1 || true
  read -r e u s <"$T/f2b.time"
  echo "fail2ban-regex (matching only, stock sshd filter): $e s wall, $(echo "$u + $s" | bc) s CPU; $(grep -m1 "^Lines:" "$T/f2b")"
fi
