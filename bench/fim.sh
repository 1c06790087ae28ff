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
#                    (default: p+ftype+i+n+u+g+s+m+c+l+sha256+acl+selinux+xattrs+caps,
#                    what bulwark's X means; AIDE's X adds e2fsattrs, an extra open and
#                    FS_IOC_GETFLAGS ioctl per entry that bulwark does not record)
#   --workers N      AIDE's num_workers and bulwark's --threads (default: bulwark's
#                    default, twice the cores and at least 4); AIDE's own default is 1
#   --cold           drop the page cache before every timed command
#                    (echo 3 > /proc/sys/vm/drop_caches; needs root)
#   --init-only      time init only (AIDE's check of /usr takes minutes)
#
# Each command runs once after one warm-up of both (unless --cold), the
# tree's files read into the page cache before each (see drop()). Printed:
# wall seconds and peak RSS (GNU time's %M) per tool and step, and the ratio
# AIDE/bulwark (above 1: bulwark is faster); --fast check too. Both write
# their databases to a temporary directory that is removed at the end.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BULWARK="$REPO_ROOT/build/bulwark"
ATTRS="p+ftype+i+n+u+g+s+m+c+l+sha256+acl+selinux+xattrs+caps"
# bulwark's default threads (fim::default_threads): twice the cores, at least 4
WORKERS=$(( $(nproc) * 2 < 4 ? 4 : $(nproc) * 2 ))
COLD=0
INIT_ONLY=0
TREES=()

die() { echo "fim.sh: error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --bulwark) [ $# -ge 2 ] || die "--bulwark needs a path"; BULWARK=$2; shift 2 ;;
        --attrs)   [ $# -ge 2 ] || die "--attrs needs an expression"; ATTRS=$2; shift 2 ;;
        --workers) [ $# -ge 2 ] || die "--workers needs a number"; WORKERS=$2; shift 2 ;;
        --cold)    COLD=1; shift ;;
        --init-only) INIT_ONLY=1; shift ;;
        -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# Before every timed command: cold, drop the page cache; warm, read the
# whole tree so that it is all cached. Warming once is not enough: bulwark
# drops the pages of files above 1 MiB after hashing them
# (POSIX_FADV_DONTNEED, so that a daily check does not flush the server's
# cache), so a command that ran after bulwark would read those files from
# disk (earlier figures in docs/fim.md had AIDE pay for that).
drop() {
    if [ "$COLD" = 1 ]; then
        sync; echo 3 > /proc/sys/vm/drop_caches
    else
        find "$CURRENT_TREE" -xdev -type f -print0 2>/dev/null | xargs -0 -r cat >/dev/null 2>&1 || true
    fi
}

# run CMD...: wall seconds, max RSS (KiB) and CPU seconds of one run, "S KIB CPU".
run() {
    drop
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || {
        rc=$?
        # 1 = changes found (both tools use non-zero for "changed")
        [ "$rc" -lt 64 ] || { cat "$WORK/stderr" >&2; die "$* failed ($rc)"; }
    }
    # "wall rss cpu": cpu = user + system seconds (less noisy than wall on a
    # shared machine)
    tail -1 "$WORK/time" | awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }'
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
printf '%-12s %-20s %10s %10s %10s\n' tree step seconds cpu_s rss_mb
for tree in "${TREES[@]}"; do
    tree=$(realpath "$tree")
    CURRENT_TREE=$tree
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
    common=(--aide-config "$conf" --db "$WORK/bulwark.db" --threads "$WORKERS")
    if [ "$COLD" = 0 ]; then # warm-up: both read the tree once
        aide -c "$conf" --init >/dev/null 2>&1 || true
        "$BULWARK" fim init "${common[@]}" "$tree" >/dev/null 2>&1 || true
    fi
    read -r a_init a_init_rss a_init_cpu < <(run aide -c "$conf" --init)
    mv "$WORK/aide.db.new" "$WORK/aide.db"
    read -r b_init b_init_rss b_init_cpu < <(run "$BULWARK" fim init "${common[@]}" "$tree")
    if [ "$INIT_ONLY" = 1 ]; then
        printf '%-12s %-20s %10s %10s %10.1f\n' "$(basename "$tree")" "aide init" "$a_init" "$a_init_cpu" "$(echo "$a_init_rss / 1024" | bc -l)"
        printf '%-12s %-20s %10s %10s %10.1f\n' "$(basename "$tree")" "bulwark init" "$b_init" "$b_init_cpu" "$(echo "$b_init_rss / 1024" | bc -l)"
        awk -v ai="$a_init" -v bi="$b_init" -v aic="$a_init_cpu" -v bic="$b_init_cpu" \
            'BEGIN { printf "ratio aide/bulwark: init %.1fx wall, %.1fx cpu\n", ai/bi, aic/bic }'
        continue
    fi
    read -r a_check a_check_rss a_check_cpu < <(run aide -c "$conf" --check)
    read -r b_check b_check_rss b_check_cpu < <(run "$BULWARK" fim check --allow-unsigned "${common[@]}" "$tree")
    read -r b_fast b_fast_rss b_fast_cpu < <(run "$BULWARK" fim check --fast --allow-unsigned "${common[@]}" "$tree")
    for row in "aide init $a_init $a_init_cpu $a_init_rss" "bulwark init $b_init $b_init_cpu $b_init_rss" \
               "aide check $a_check $a_check_cpu $a_check_rss" "bulwark check $b_check $b_check_cpu $b_check_rss" \
               "bulwark check--fast $b_fast $b_fast_cpu $b_fast_rss"; do
        set -- $row
        printf '%-12s %-20s %10s %10s %10.1f\n' "$(basename "$tree")" "$1 $2" "$3" "$4" "$(echo "$5 / 1024" | bc -l)"
    done
    awk -v ai="$a_init" -v bi="$b_init" -v ac="$a_check" -v bc="$b_check" -v bf="$b_fast" \
        'BEGIN { printf "ratio aide/bulwark (wall): init %.1fx, check %.1fx, check --fast %.1fx\n", ai/bi, ac/bc, ac/bf }'
    awk -v ai="$a_init_cpu" -v bi="$b_init_cpu" -v ac="$a_check_cpu" -v bc="$b_check_cpu" -v bf="$b_fast_cpu" \
        'BEGIN { printf "ratio aide/bulwark (cpu):  init %.1fx, check %.1fx, check --fast %.1fx\n", ai/bi, ac/bc, ac/bf }'
done
