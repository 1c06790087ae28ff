#!/usr/bin/env bash
# bench/fim.sh: `bulwark fim init` and `check` against AIDE 0.18 (`aide
# --init`, `aide --check`) on the same tree, with the same selection line and
# the same attributes, in the same run.
#
# Usage: bench/fim.sh [--bulwark PATH] [--attrs EXPR] [--workers N] [--cold] [TREE...]
#
#   TREE...          trees to baseline (default: /usr)
#   --bulwark PATH   bulwark binary (default: build/bulwark under the repository)
#   --attrs EXPR     the attribute expression both record
#                    (default: p+ftype+i+n+u+g+s+m+c+l+sha256+X)
#   --workers N      AIDE's num_workers (default: every core, as bulwark uses);
#                    AIDE's own default is 1
#   --cold           drop the page cache before every timed command
#                    (echo 3 > /proc/sys/vm/drop_caches; needs root)
#
# Each command runs once after one warm-up of both (unless --cold). Printed:
# wall seconds and peak RSS (GNU time's %M) per tool and step, and the ratio
# AIDE/bulwark (above 1: bulwark is faster); --fast check too. Both write
# their databases to a temporary directory that is removed at the end.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BULWARK="$REPO_ROOT/build/bulwark"
ATTRS="p+ftype+i+n+u+g+s+m+c+l+sha256+X"
WORKERS=$(nproc)
COLD=0
TREES=()

die() { echo "fim.sh: error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --bulwark) [ $# -ge 2 ] || die "--bulwark needs a path"; BULWARK=$2; shift 2 ;;
        --attrs)   [ $# -ge 2 ] || die "--attrs needs an expression"; ATTRS=$2; shift 2 ;;
        --workers) [ $# -ge 2 ] || die "--workers needs a number"; WORKERS=$2; shift 2 ;;
        --cold)    COLD=1; shift ;;
        -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*)        die "unknown option: $1 (see --help)" ;;
        *)         TREES+=("$1"); shift ;;
    esac
done
[ ${#TREES[@]} -gt 0 ] || TREES=(/usr)
[ -x "$BULWARK" ] || die "bulwark binary not found at '$BULWARK' (build it first or pass --bulwark)"
command -v aide >/dev/null || die "aide is not installed (apt-get install -y aide)"
[ -x /usr/bin/time ] || die "GNU time is not installed (apt-get install -y time)"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

drop() { if [ "$COLD" = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi; }

# run LABEL CMD...: wall seconds and max RSS (KiB) of one run, "S KIB".
run() {
    drop
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || {
        rc=$?
        # 1 = changes found (both tools use non-zero for "changed")
        [ "$rc" -lt 64 ] || { cat "$WORK/stderr" >&2; die "$* failed ($rc)"; }
    }
    tail -1 "$WORK/time"
}

printf '%-12s %-14s %10s %10s\n' tree step seconds rss_mb
for tree in "${TREES[@]}"; do
    tree=$(realpath "$tree")
    rx=$(printf '%s' "$tree" | sed 's/[.[\*^$()+?{|]/\\&/g')
    conf="$WORK/aide.conf"
    cat > "$conf" <<EOF
database_in=file:$WORK/aide.db
database_out=file:$WORK/aide.db.new
report_url=stdout
report_level=summary
num_workers=$WORKERS
log_level=error
$rx $ATTRS
EOF
    common=(--aide-config "$conf" --db "$WORK/bulwark.db")
    if [ "$COLD" = 0 ]; then # warm-up: both read the tree once
        aide -c "$conf" --init >/dev/null 2>&1 || true
        "$BULWARK" fim init "${common[@]}" "$tree" >/dev/null 2>&1 || true
    fi
    read -r a_init a_init_rss < <(run aide -c "$conf" --init)
    mv "$WORK/aide.db.new" "$WORK/aide.db"
    read -r b_init b_init_rss < <(run "$BULWARK" fim init "${common[@]}" "$tree")
    read -r a_check a_check_rss < <(run aide -c "$conf" --check)
    read -r b_check b_check_rss < <(run "$BULWARK" fim check --allow-unsigned "${common[@]}" "$tree")
    read -r b_fast b_fast_rss < <(run "$BULWARK" fim check --fast --allow-unsigned "${common[@]}" "$tree")
    for row in "aide init $a_init $a_init_rss" "bulwark init $b_init $b_init_rss" \
               "aide check $a_check $a_check_rss" "bulwark check $b_check $b_check_rss" \
               "bulwark check--fast $b_fast $b_fast_rss"; do
        set -- $row
        printf '%-12s %-14s %10s %10.1f\n' "$(basename "$tree")" "$1 $2" "$3" "$(echo "$4 / 1024" | bc -l)"
    done
    awk -v ai="$a_init" -v bi="$b_init" -v ac="$a_check" -v bc="$b_check" -v bf="$b_fast" \
        'BEGIN { printf "ratio aide/bulwark: init %.1fx, check %.1fx, check --fast %.1fx\n", ai/bi, ac/bc, ac/bf }'
done
