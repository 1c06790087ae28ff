#!/usr/bin/env bash
# bench/firewall.sh: bulwark's firewall verdicts on big rulesets.
#
# Builds throwaway roots with N generated rules (iptables-persistent
# rules.v4/v6, and the same rules as /etc/nftables.conf), checks each file
# with the real loader (iptables-restore --test, nft -c -f) and times
#   bulwark audit --root DIR --only firewall --format json --output /dev/null
#   bulwark facts firewall --root DIR          (the full open-port table)
# (median of RUNS runs). No tool a user would pick evaluates a ruleset for
# open ports (Lynis only greps for a loaded ruleset), so the reference is
# the kernel's own loader time for the same file.
#
# Usage: bench/firewall.sh [--bulwark PATH] [--rules N...] [--runs R]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bulwark="$here/build/bulwark"
sizes=(100 1000 10000)
runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --bulwark) bulwark=$2; shift 2 ;;
    --rules) sizes=($2); shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--bulwark PATH] [--rules 'N ...'] [--runs R]" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d /tmp/bw-fwbench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # prints the median wall seconds of "$@"
  for _ in $(seq "$runs"); do
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || [ $? -lt 64 ]; e=$(date +%s.%N)
    echo "$e - $s" | bc
  done | median
}

printf '%-8s %-10s %12s %12s %12s\n' rules backend audit_s facts_s loader_check_s
for n in "${sizes[@]}"; do
  for backend in iptables nft; do
    root="$tmp/$backend-$n"
    mkdir -p "$root/etc/systemd/system/multi-user.target.wants" "$root/etc/iptables" "$root/etc/ssh"
    echo "Port 22" > "$root/etc/ssh/sshd_config"
    if [ "$backend" = iptables ]; then
      ln -s /lib/systemd/system/netfilter-persistent.service \
        "$root/etc/systemd/system/multi-user.target.wants/netfilter-persistent.service"
      {
        echo '*filter'; echo ':INPUT DROP [0:0]'; echo ':FORWARD DROP [0:0]'; echo ':OUTPUT ACCEPT [0:0]'
        echo '-A INPUT -i lo -j ACCEPT'
        echo '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'
        for i in $(seq 1 "$n"); do
          echo "-A INPUT -s 10.$((i % 250)).$((i / 250 % 250)).0/24 -p tcp -m tcp --dport $((1024 + i % 60000)) -j ACCEPT"
        done
        echo 'COMMIT'
      } > "$root/etc/iptables/rules.v4"
      sed 's|10\.\([0-9]*\)\.\([0-9]*\)\.0/24|fd00:\1:\2::/64|' "$root/etc/iptables/rules.v4" > "$root/etc/iptables/rules.v6"
      check=(iptables-restore --test "$root/etc/iptables/rules.v4")
    else
      mkdir -p "$root/etc/systemd/system/sysinit.target.wants"
      ln -s /lib/systemd/system/nftables.service \
        "$root/etc/systemd/system/sysinit.target.wants/nftables.service"
      {
        echo 'flush ruleset'; echo 'table inet filter {'; echo ' chain input {'
        echo '  type filter hook input priority filter; policy drop;'
        echo '  iif lo accept'; echo '  ct state established,related accept'
        for i in $(seq 1 "$n"); do
          echo "  ip saddr 10.$((i % 250)).$((i / 250 % 250)).0/24 tcp dport $((1024 + i % 60000)) accept"
        done
        echo ' }'; echo '}'
      } > "$root/etc/nftables.conf"
      check=(nft -c -f "$root/etc/nftables.conf")
    fi
    "${check[@]}" || { echo "the loader rejects the generated $backend ruleset" >&2; exit 1; }
    a=$(timeit "$bulwark" audit --root "$root" --only firewall --format json --output /dev/null)
    f=$(timeit "$bulwark" facts firewall --root "$root")
    c=$(timeit "${check[@]}")
    printf '%-8s %-10s %12.3f %12.3f %12.3f\n' "$n" "$backend" "$a" "$f" "$c"
  done
done
