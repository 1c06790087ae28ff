#!/usr/bin/env bash
# bench/watch/run.sh: time `bulwark watch --replay` against fail2ban-regex
# (Debian's fail2ban 1.0.2, its stock sshd filter) and `grep -cE` on the same
# generated auth.log, in one run.  See bench/watch/README.md.
#
# Usage: bench/watch/run.sh [--bulwark PATH] [--lines N] [--runs N] [--f2b-lines N]
#
#   --bulwark PATH  bulwark binary (default: build/bulwark under the repository root).
#   --lines N       lines in the generated auth.log (default 1000000).
#   --runs N        timed runs of bulwark and grep; the median is reported (default 5).
#   --f2b-lines N   give fail2ban-regex only the first N lines (default: all of them;
#                   it manages tens of thousands of lines a second, so the full
#                   million takes about a minute or more).
#
# Environment: BULWARK_BENCH_WATCH_DIR (where generated logs are cached,
#              default /var/tmp/bulwark-bench-watch).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RESULTS_DIR="$REPO_ROOT/bench/results"
CACHE=${BULWARK_BENCH_WATCH_DIR:-/var/tmp/bulwark-bench-watch}
FILTER=/etc/fail2ban/filter.d/sshd.conf
# The failures the sshd filter's "normal" mode counts, as one ERE: the goal
# line, a lower bound for any program that reads every byte.
GREP_RE='sshd\[[0-9]+\]: (Failed [^ ]+ for|Invalid user|error: maximum authentication|Connection closed by invalid|pam_unix\(sshd:auth\): authentication failure)'

BULWARK="$REPO_ROOT/build/bulwark"
LINES=1000000
RUNS=5
F2B_LINES=0

die() { echo "bench: error: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --bulwark)     [ $# -ge 2 ] || die "--bulwark needs a path"; BULWARK=$2; shift 2 ;;
        --bulwark=*)   BULWARK=${1#*=}; shift ;;
        --lines)       [ $# -ge 2 ] || die "--lines needs a number"; LINES=$2; shift 2 ;;
        --lines=*)     LINES=${1#*=}; shift ;;
        --runs)        [ $# -ge 2 ] || die "--runs needs a number"; RUNS=$2; shift 2 ;;
        --runs=*)      RUNS=${1#*=}; shift ;;
        --f2b-lines)   [ $# -ge 2 ] || die "--f2b-lines needs a number"; F2B_LINES=$2; shift 2 ;;
        --f2b-lines=*) F2B_LINES=${1#*=}; shift ;;
        -h|--help)     sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *)             die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ "$LINES" =~ ^[1-9][0-9]*$ ]] || die "--lines must be a positive integer"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"
[[ "$F2B_LINES" =~ ^[0-9]+$ ]] || die "--f2b-lines must be a number"

[ -x "$BULWARK" ] || die "bulwark binary not found at '$BULWARK'. Build it first or pass --bulwark PATH."
command -v fail2ban-regex >/dev/null 2>&1 || die "fail2ban-regex not found (apt-get install -y fail2ban)."
[ -r "$FILTER" ] || die "$FILTER not found (Debian's fail2ban package)."
command -v python3 >/dev/null 2>&1 || die "python3 is needed to generate the log."

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

# ---- the log (generated once per size and seed, then cached) -----------------
mkdir -p "$CACHE"
LOG="$CACHE/auth-$LINES.log"
if [ ! -s "$LOG" ]; then
    log "generating $LOG ($LINES lines)"
    python3 "$REPO_ROOT/bench/watch/gen-authlog.py" --lines "$LINES" > "$LOG.partial.$$"
    mv "$LOG.partial.$$" "$LOG"
fi
F2B_LOG=$LOG
F2B_N=$LINES
if [ "$F2B_LINES" -gt 0 ] && [ "$F2B_LINES" -lt "$LINES" ]; then
    F2B_LOG="$CACHE/auth-$LINES-head-$F2B_LINES.log"
    head -n "$F2B_LINES" "$LOG" > "$F2B_LOG"
    F2B_N=$F2B_LINES
fi
cat "$LOG" > /dev/null   # warm the page cache for everyone

# ---- bulwark -------------------------------------------------------------------
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf '' > "$TMP/watch.yaml"
BW_CMD=("$BULWARK" watch --config "$TMP/watch.yaml" --quiet --replay "$LOG")
"${BW_CMD[@]}" > "$TMP/bulwark.out"   # warm-up, and the counts
for _ in $(seq "$RUNS"); do
    t0=$(now); "${BW_CMD[@]}" > /dev/null; t1=$(now)
    elapsed "$t0" "$t1"; echo
done | median > "$TMP/bw.s"
BW_S=$(cat "$TMP/bw.s")
BW_FAIL=$(awk '/^failures:/ { print $2 }' "$TMP/bulwark.out")
BW_BANS=$(awk '/^would have banned:/ { print $4 }' "$TMP/bulwark.out")

# ---- grep -cE (the goal line) ----------------------------------------------------
for _ in $(seq "$RUNS"); do
    t0=$(now); LC_ALL=C grep -cE "$GREP_RE" "$LOG" > "$TMP/grep.count" || true; t1=$(now)
    elapsed "$t0" "$t1"; echo
done | median > "$TMP/grep.s"
GREP_S=$(cat "$TMP/grep.s")
GREP_N=$(cat "$TMP/grep.count")

# ---- fail2ban-regex (one run: it is slow) ----------------------------------------
log "fail2ban-regex on $F2B_N lines (this takes a while)"
t0=$(now); fail2ban-regex "$F2B_LOG" "$FILTER" > "$TMP/f2b.out" 2>&1 || die "fail2ban-regex failed: $(tail -3 "$TMP/f2b.out")"; t1=$(now)
F2B_S=$(elapsed "$t0" "$t1")
F2B_FAIL=$(awk '/^Failregex:/ { print $2; exit }' "$TMP/f2b.out")
F2B_VER=$(fail2ban-regex --version 2>/dev/null | head -1 | awk '{ print $NF }')

BW_RATE=$(rate "$LINES" "$BW_S")
GREP_RATE=$(rate "$LINES" "$GREP_S")
F2B_RATE=$(rate "$F2B_N" "$F2B_S")

printf '%-16s %10s %10s %14s %12s %s\n' tool lines "wall s" "lines/s" "vs bulwark" "failures counted"
printf '%-16s %10s %10s %14s %12s %s\n' "bulwark watch" "$LINES" "$BW_S" "$BW_RATE" "1.0x" "$BW_FAIL (bans: $BW_BANS)"
printf '%-16s %10s %10s %14s %12s %s\n' "grep -cE" "$LINES" "$GREP_S" "$GREP_RATE" "$(ratio "$GREP_RATE" "$BW_RATE")x" "$GREP_N (matching lines)"
printf '%-16s %10s %10s %14s %12s %s\n' "fail2ban-regex" "$F2B_N" "$F2B_S" "$F2B_RATE" "$(ratio "$F2B_RATE" "$BW_RATE")x" "$F2B_FAIL"
echo "bulwark / fail2ban-regex lines per second: $(ratio "$BW_RATE" "$F2B_RATE")x (target >= 100x)"
echo "bulwark time / grep -cE time: $(ratio "$BW_S" "$GREP_S")x (goal <= 3x)"

mkdir -p "$RESULTS_DIR"
cat > "$RESULTS_DIR/watch-latest.json.tmp" <<JSON
{
  "log": {"path": "$LOG", "lines": $LINES, "generator": "bench/watch/gen-authlog.py --lines $LINES"},
  "bulwark": {"command": "${BW_CMD[*]}", "runs": $RUNS, "median_s": $BW_S, "lines_per_s": $BW_RATE, "failures": ${BW_FAIL:-0}, "bans": ${BW_BANS:-0}},
  "grep": {"command": "LC_ALL=C grep -cE '...' $LOG", "runs": $RUNS, "median_s": $GREP_S, "lines_per_s": $GREP_RATE, "count": ${GREP_N:-0}},
  "fail2ban_regex": {"command": "fail2ban-regex $F2B_LOG $FILTER", "version": "$F2B_VER", "lines": $F2B_N, "s": $F2B_S, "lines_per_s": $F2B_RATE, "failregex_total": ${F2B_FAIL:-0}},
  "ratio_lines_per_s_bulwark_over_fail2ban": $(ratio "$BW_RATE" "$F2B_RATE"),
  "ratio_time_bulwark_over_grep": $(ratio "$BW_S" "$GREP_S")
}
JSON
mv "$RESULTS_DIR/watch-latest.json.tmp" "$RESULTS_DIR/watch-latest.json"
