#!/usr/bin/env bash
# bench/run.sh: time `bulwark audit --root DIR` against Lynis on a real
# Debian 12 root filesystem.  See bench/README.md.
#
# Usage: bench/run.sh [--root DIR] [--bulwark PATH] [--runs N] [--no-host]
#
#   --root DIR      root filesystem to audit.  Default: a debootstrapped
#                   Debian 12 root cached in ${BULWARK_BENCH_ROOT:-/var/tmp/bulwark-bench-root},
#                   built on first use (needs root, debootstrap and a Debian mirror).
#   --bulwark PATH  bulwark binary (default: build/bulwark under the repository root).
#   --runs N        number of timed bulwark runs; the median is reported (default 10).
#   --no-host       skip the second Lynis reference run on the host itself.
#
# Environment: BULWARK_BENCH_ROOT (cache dir for the default root),
#              BULWARK_BENCH_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS_DIR="$REPO_ROOT/bench/results"
ROOT_PACKAGES="openssh-server,sudo,ufw,fail2ban,redis-server,postgresql,nginx-light,auditd"
SUITE=bookworm
MIRROR=${BULWARK_BENCH_MIRROR:-http://deb.debian.org/debian}
CACHE_ROOT=${BULWARK_BENCH_ROOT:-/var/tmp/bulwark-bench-root}
LYNIS_ARGS=(audit system --quick --no-colors --no-log)

ROOT=""
BULWARK="$REPO_ROOT/build/bulwark"
RUNS=10
HOST_RUN=1

die() { echo "bench: error: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --root)      [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
        --root=*)    ROOT=${1#*=}; shift ;;
        --bulwark)   [ $# -ge 2 ] || die "--bulwark needs a path"; BULWARK=$2; shift 2 ;;
        --bulwark=*) BULWARK=${1#*=}; shift ;;
        --runs)      [ $# -ge 2 ] || die "--runs needs a number"; RUNS=$2; shift 2 ;;
        --runs=*)    RUNS=${1#*=}; shift ;;
        --no-host)   HOST_RUN=0; shift ;;
        -h|--help)   sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *)           die "unknown argument: $1 (see --help)" ;;
    esac
done

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, got '$RUNS'"

# ---- bulwark must exist before anything expensive happens -------------------
if [ ! -e "$BULWARK" ]; then
    die "bulwark binary not found at '$BULWARK'. Build it first (cmake -S . -B build && cmake --build build) or pass --bulwark PATH."
fi
[ -x "$BULWARK" ] || die "bulwark at '$BULWARK' is not executable."
BULWARK=$(cd "$(dirname "$BULWARK")" && pwd)/$(basename "$BULWARK")

[ "$(id -u)" -eq 0 ] || die "must run as root (chroot, mount and debootstrap need it)."
command -v lynis >/dev/null 2>&1 || die "lynis is not installed on the host (apt-get install -y lynis)."

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ---- the root filesystem ------------------------------------------------------
build_root() {
    local dest=$1 tmp
    command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install -y debootstrap)."
    tmp="$dest.partial.$$"
    rm -rf "$tmp"
    log "building benchmark root in $dest (debootstrap $SUITE from $MIRROR; takes several minutes)"
    local t0 t1
    t0=$(now)
    nice -n 10 debootstrap --variant=minbase --include="$ROOT_PACKAGES" "$SUITE" "$tmp" "$MIRROR" >&2
    # Lynis is installed *inside* the root so that the chroot run uses the
    # root's own, dpkg-managed copy (same 3.0.x as the host on bookworm) and
    # nothing has to be bind-mounted.  debootstrap copied the host's
    # resolv.conf into the root, so apt inside the chroot reaches the mirror.
    chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends lynis >&2
    chroot "$tmp" apt-get clean
    t1=$(now)
    mv "$tmp" "$dest"   # only a complete root ever appears at $dest
    log "root built in $(elapsed "$t0" "$t1") s"
}

if [ -z "$ROOT" ]; then
    ROOT=$CACHE_ROOT
    if [ ! -x "$ROOT/usr/bin/dpkg" ]; then
        [ -e "$ROOT" ] && die "$ROOT exists but is not a complete root; remove it or set BULWARK_BENCH_ROOT."
        mkdir -p "$(dirname "$ROOT")"
        build_root "$ROOT"
    else
        log "using cached root $ROOT"
    fi
fi
[ -d "$ROOT" ] || die "root '$ROOT' is not a directory."
ROOT=$(cd "$ROOT" && pwd)
[ "$ROOT" != / ] || die "--root / is the host; pass a separate root filesystem."

# ---- cleanup: everything mounted or created inside the root is undone --------
MOUNTS=()          # mount points inside ROOT, unmounted in reverse order
CREATED=()         # files/dirs created inside ROOT as mount points, removed afterwards
TMPFILES=()
cleanup() {
    local i
    for (( i=${#MOUNTS[@]}-1; i>=0; i-- )); do
        umount "${MOUNTS[$i]}" 2>/dev/null || umount -l "${MOUNTS[$i]}" 2>/dev/null || true
    done
    for (( i=${#CREATED[@]}-1; i>=0; i-- )); do
        rm -f "${CREATED[$i]}" 2>/dev/null || rmdir "${CREATED[$i]}" 2>/dev/null || true
    done
    [ ${#TMPFILES[@]} -eq 0 ] || rm -f "${TMPFILES[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A profile appended after Lynis' default.prf: Debian's default has
# refresh-repositories=yes, which makes test PKGS-7392 run `apt-get update`
# (network time, and it rewrites the apt lists of the audited system).  We
# measure auditing, not downloading, so turn that off for both Lynis runs.
# skip-upgrade-test=yes is already Debian's default (no version check on the net).
write_profile() {
    printf '%s\n' "# bulwark benchmark: no network during the audit" \
        "refresh-repositories=no" "skip-upgrade-test=yes" > "$1"
}

# ---- 1. bulwark ----------------------------------------------------------------
BULWARK_CMD=("$BULWARK" audit --root "$ROOT" --profile lms-server --format json --output /dev/null)
log "checking bulwark: ${BULWARK_CMD[*]}"
rc=0; "${BULWARK_CMD[@]}" >/dev/null 2>&1 || rc=$?
# an auditor may exit non-zero because it found problems; only >=64 or signals are failures
if [ "$rc" -ge 64 ]; then
    die "bulwark exited with status $rc; run '${BULWARK_CMD[*]}' by hand to see why."
fi

log "timing bulwark ($RUNS runs)"
if command -v hyperfine >/dev/null 2>&1; then
    TIMER=hyperfine
    hf_json=$(mktemp); TMPFILES+=("$hf_json")
    # -N: no intermediate shell; -i: a non-zero exit (findings) is not an error
    hyperfine -N -i --style basic --warmup 1 --runs "$RUNS" --export-json "$hf_json" \
        "$(printf '%q ' "${BULWARK_CMD[@]}")" >&2
    BULWARK_S=$(grep -o '"median": *[0-9.eE+-]*' "$hf_json" | head -1 | sed 's/.*: *//')
    BULWARK_S=$(awk -v x="$BULWARK_S" 'BEGIN { printf "%.4f", x }')
else
    TIMER=bash-loop
    "${BULWARK_CMD[@]}" >/dev/null 2>&1 || true   # warm-up
    times=()
    for (( i=0; i<RUNS; i++ )); do
        t0=$(now); "${BULWARK_CMD[@]}" >/dev/null 2>&1 || true; t1=$(now)
        times+=("$(elapsed "$t0" "$t1")")
    done
    BULWARK_S=$(printf '%s\n' "${times[@]}" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) m = v[(NR+1)/2]; else m = (v[NR/2] + v[NR/2+1]) / 2; printf "%.4f", m }')
fi
log "bulwark median: $BULWARK_S s"

# ---- 2. lynis inside chroot ROOT -------------------------------------------------
# Lynis cannot audit an offline root by itself (it reads absolute paths and
# runs the system's own binaries), so it runs inside `chroot ROOT` with the
# host's /proc mounted at ROOT/proc for the duration of the run.
#  - If the root has its own lynis (the default root does: build_root installs
#    it with apt inside the chroot), that copy is used.
#  - Otherwise the host's lynis is bind-mounted read-only into the root
#    (/usr/sbin/lynis, /usr/share/lynis, /etc/lynis); mount points the script
#    had to create are removed again afterwards.
bind_ro() {   # bind_ro SRC DEST_INSIDE_ROOT
    local src=$1 dst=$ROOT$2
    if [ -d "$src" ]; then
        [ -e "$dst" ] || { mkdir -p "$dst"; CREATED+=("$dst"); }
    else
        [ -e "$dst" ] || { mkdir -p "$(dirname "$dst")"; : > "$dst"; CREATED+=("$dst"); }
    fi
    mount --bind "$src" "$dst"; MOUNTS+=("$dst")
    mount -o remount,bind,ro "$dst" 2>/dev/null || true
}

if [ -x "$ROOT/usr/sbin/lynis" ] && [ -d "$ROOT/usr/share/lynis" ]; then
    LYNIS_SOURCE="installed in root"
else
    LYNIS_SOURCE="bind-mounted from host"
    bind_ro /usr/sbin/lynis /usr/sbin/lynis
    bind_ro /usr/share/lynis /usr/share/lynis
    bind_ro /etc/lynis /etc/lynis
fi
[ -d "$ROOT/proc" ] || { mkdir "$ROOT/proc"; CREATED+=("$ROOT/proc"); }
if mountpoint -q "$ROOT/proc"; then
    log "$ROOT/proc is already mounted; leaving it as it is"
else
    mount -t proc proc "$ROOT/proc"; MOUNTS+=("$ROOT/proc")
fi
[ -d "$ROOT/tmp" ] || die "$ROOT has no /tmp"
chroot_prf=/tmp/bulwark-bench-lynis.$$.prf
chroot_report=/tmp/bulwark-bench-lynis-report.$$.dat
write_profile "$ROOT$chroot_prf"
TMPFILES+=("$ROOT$chroot_prf" "$ROOT$chroot_report")
LYNIS_VERSION_ROOT=$(chroot "$ROOT" lynis --version 2>/dev/null | tail -1 || true)

LYNIS_CHROOT_CMD=(chroot "$ROOT" lynis "${LYNIS_ARGS[@]}" --profile "$chroot_prf" --report-file "$chroot_report")
log "timing lynis in chroot ($LYNIS_SOURCE, $LYNIS_VERSION_ROOT): ${LYNIS_CHROOT_CMD[*]}"
lynis_chroot_log=$(mktemp); TMPFILES+=("$lynis_chroot_log")
t0=$(now); rc=0
"${LYNIS_CHROOT_CMD[@]}" </dev/null >"$lynis_chroot_log" 2>&1 || rc=$?
t1=$(now)
LYNIS_CHROOT_S=$(elapsed "$t0" "$t1")
if [ "$rc" -ne 0 ]; then
    tail -20 "$lynis_chroot_log" >&2
    die "lynis in chroot exited with status $rc"
fi
LYNIS_CHROOT_TESTS=$(grep -o 'Tests performed *: *[0-9]*' "$lynis_chroot_log" | grep -o '[0-9]*$' || echo "?")
cleanup; MOUNTS=(); CREATED=(); TMPFILES=()
log "lynis (chroot): $LYNIS_CHROOT_S s, $LYNIS_CHROOT_TESTS tests"

# ---- 3. lynis on the host (second reference) ------------------------------------
LYNIS_HOST_S=null; LYNIS_HOST_TESTS=null; LYNIS_HOST_CMD=()
if [ "$HOST_RUN" -eq 1 ]; then
    host_prf=$(mktemp --suffix=.prf); host_report=$(mktemp)
    TMPFILES+=("$host_prf" "$host_report")
    write_profile "$host_prf"
    LYNIS_HOST_CMD=(lynis "${LYNIS_ARGS[@]}" --profile "$host_prf" --report-file "$host_report")
    log "timing lynis on the host: ${LYNIS_HOST_CMD[*]}"
    lynis_host_log=$(mktemp); TMPFILES+=("$lynis_host_log")
    t0=$(now); rc=0
    (cd / && "${LYNIS_HOST_CMD[@]}" </dev/null >"$lynis_host_log" 2>&1) || rc=$?
    t1=$(now)
    if [ "$rc" -ne 0 ]; then
        tail -20 "$lynis_host_log" >&2
        die "lynis on the host exited with status $rc"
    fi
    LYNIS_HOST_S=$(elapsed "$t0" "$t1")
    LYNIS_HOST_TESTS=$(grep -o 'Tests performed *: *[0-9]*' "$lynis_host_log" | grep -o '[0-9]*$' || echo "?")
    log "lynis (host): $LYNIS_HOST_S s, $LYNIS_HOST_TESTS tests"
fi

# ---- report ------------------------------------------------------------------------
ratio() { awk -v l="$1" -v b="$2" 'BEGIN { if (l == "null" || b + 0 <= 0) print "null"; else printf "%.1f", l / b }'; }
RATIO_CHROOT=$(ratio "$LYNIS_CHROOT_S" "$BULWARK_S")
RATIO_HOST=$(ratio "$LYNIS_HOST_S" "$BULWARK_S")

echo
printf '%-8s  %-52s  %10s  %14s\n' tool audited "wall s" "lynis/bulwark"
printf '%-8s  %-52s  %10s  %14s\n' -------- ---------------------------------------------------- ---------- --------------
printf '%-8s  %-52s  %10s  %14s\n' bulwark "$ROOT (median of $RUNS)" "$BULWARK_S" "-"
printf '%-8s  %-52s  %10s  %14s\n' lynis "chroot $ROOT (--quick, 1 run)" "$LYNIS_CHROOT_S" "${RATIO_CHROOT}x"
if [ "$HOST_RUN" -eq 1 ]; then
    printf '%-8s  %-52s  %10s  %14s\n' lynis "host / (--quick, 1 run)" "$LYNIS_HOST_S" "${RATIO_HOST}x"
fi
echo

json_str() {   # JSON string literal
    local s=$1
    s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/\\t}; s=${s//$'\n'/\\n}
    printf '"%s"' "$s"
}
num_or_null() { case "$1" in ''|'?'|null) printf null ;; *) printf '%s' "$1" ;; esac; }

mkdir -p "$RESULTS_DIR"
out_tmp=$(mktemp "$RESULTS_DIR/.latest.json.XXXXXX")
{
    printf '{\n'
    printf '  "date": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
    printf '  "root": %s,\n' "$(json_str "$ROOT")"
    printf '  "root_packages": %s,\n' "$(json_str "$ROOT_PACKAGES")"
    printf '  "timer": %s,\n' "$(json_str "$TIMER")"
    printf '  "results": [\n'
    printf '    {"tool": "bulwark", "audited": %s, "command": %s, "runs": %s, "wall_seconds": %s, "statistic": "median"},\n' \
        "$(json_str "root $ROOT")" "$(json_str "${BULWARK_CMD[*]}")" "$RUNS" "$BULWARK_S"
    printf '    {"tool": "lynis", "version": %s, "audited": %s, "lynis_source": %s, "command": %s, "runs": 1, "wall_seconds": %s, "tests_performed": %s, "ratio_lynis_over_bulwark": %s}' \
        "$(json_str "$LYNIS_VERSION_ROOT")" "$(json_str "chroot $ROOT")" "$(json_str "$LYNIS_SOURCE")" \
        "$(json_str "${LYNIS_CHROOT_CMD[*]}")" "$LYNIS_CHROOT_S" "$(num_or_null "$LYNIS_CHROOT_TESTS")" "$RATIO_CHROOT"
    if [ "$HOST_RUN" -eq 1 ]; then
        printf ',\n    {"tool": "lynis", "version": %s, "audited": "host /", "command": %s, "runs": 1, "wall_seconds": %s, "tests_performed": %s, "ratio_lynis_over_bulwark": %s}' \
            "$(json_str "$(lynis --version 2>/dev/null | tail -1)")" "$(json_str "${LYNIS_HOST_CMD[*]}")" \
            "$LYNIS_HOST_S" "$(num_or_null "$LYNIS_HOST_TESTS")" "$RATIO_HOST"
    fi
    printf '\n  ]\n}\n'
} > "$out_tmp"
chmod 644 "$out_tmp"
mv -f "$out_tmp" "$RESULTS_DIR/latest.json"
log "wrote $RESULTS_DIR/latest.json"
