#!/bin/bash
# The Debian package, end to end, on this machine: build it with CPack, check
# it with lintian, install it with dpkg -i, run the INSTALLED bulwark, its man
# page and shell completions, then remove and purge it and check that nothing
# it brought is left behind.
#
#   tests/package/deb_test.sh [--build-only] BUILD_DIR
#
# --build-only stops once the .deb is built (for `make package`).
#
# BUILD_DIR is configured here when it is new: no unit tests (cpack builds the
# `all` target first), Debian's hardening flags from dpkg-buildflags as a
# Debian package build would have them, and -O2 without debug information:
# CPack strips the binary (CPACK_STRIP_FILES), GCC's code does not depend on
# -g, so the shipped bytes are the same, and -g nearly doubles the compile
# time at -O2 (26 s against 14 s CPU for src/checks/postgres.cpp). An
# existing BUILD_DIR is used as configured.
#
# Needs: dpkg-dev (dpkg-shlibdeps, dpkg-buildflags), file (CPack's ELF
# detection), man-db, python3 or jq, root or sudo. Optional, with a SKIP line
# when absent: lintian, bash-completion, zsh.
#
# The machine is left as it was: the test refuses to run when a bulwark
# package or /usr/bin/bulwark already exists, and purges the package on any
# exit once it has installed it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
build_only=0
if [[ ${1:-} == --build-only ]]; then
  build_only=1
  shift
fi
[[ $# -eq 1 ]] || { echo "usage: $0 [--build-only] BUILD_DIR" >&2; exit 2; }
build=$(realpath -m "$1")

SUDO=
[[ $(id -u) -eq 0 ]] || SUDO=sudo
failures=0
ok() { echo "ok   - $*"; }
skip() { echo "SKIP - $*"; }
bad() { echo "FAIL - $*" >&2; failures=$((failures + 1)); }
die() { echo "FAIL - $*" >&2; exit 1; }

tmp=$(mktemp -d /tmp/bulwark-deb-test.XXXXXX)
installed_by_us=0
cleanup() {
  local rc=$?
  if ((installed_by_us)); then
    echo "cleanup: purging the bulwark package"
    dpkg_locked --purge bulwark >/dev/null || echo "cleanup: dpkg --purge bulwark failed" >&2
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

# dpkg refuses to start while apt or another dpkg holds its lock; wait for it
# (up to 10 minutes) instead of failing the test.
dpkg_locked() {
  local i out
  for ((i = 0; i < 120; i++)); do
    if out=$($SUDO dpkg "$@" 2>&1); then
      printf '%s\n' "$out"
      return 0
    fi
    if [[ $out == *"locked"* ]]; then
      sleep 5
      continue
    fi
    printf '%s\n' "$out" >&2
    return 1
  done
  echo "dpkg: lock still held after 10 minutes" >&2
  return 1
}

# --- preconditions: do not touch an existing installation -------------------
if ((build_only)); then
  :
elif dpkg-query -W -f='${Status}' bulwark 2>/dev/null | grep -qv 'not-installed'; then
  die "a bulwark package is already on this machine ($(dpkg-query -W -f='${Status}' bulwark)); remove it first"
elif [[ -e /usr/bin/bulwark ]]; then
  die "/usr/bin/bulwark exists and is not from a package; remove it first"
fi
for tool in dpkg-shlibdeps file man cpack; do
  command -v "$tool" >/dev/null || die "$tool is missing (packages: dpkg-dev file man-db cmake)"
done

# --- build the package --------------------------------------------------------
if [[ ! -f $build/CMakeCache.txt ]]; then
  echo "configuring $build (hardening flags from dpkg-buildflags)"
  eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  CXXFLAGS="$CXXFLAGS $CPPFLAGS" LDFLAGS="$LDFLAGS" \
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -g0 -DNDEBUG" \
    -DBULWARK_TESTS=OFF \
    "${launcher[@]}" >"$tmp/configure.log" || { cat "$tmp/configure.log"; die "configure"; }
fi
cmake --build "$build" -j"${JOBS:-1}" >"$tmp/build.log" || { tail -30 "$tmp/build.log"; die "build"; }
rm -f "$build"/bulwark_*.deb
(cd "$build" && cpack -G DEB) >"$tmp/cpack.log" 2>&1 || { cat "$tmp/cpack.log"; die "cpack"; }
debs=("$build"/bulwark_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || die "cpack made no single bulwark_*.deb in $build"
deb=${debs[0]}
ok "cpack built $(basename "$deb")"
if ((build_only)); then
  echo "$deb"
  exit 0
fi

version=$("$build/bulwark" version | awk '{print $2}')
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == bulwark ]] || bad "Package is '$(field Package)'"
[[ $(field Version) == "$version"-* ]] || bad "Version '$(field Version)' is not bulwark $version"
[[ $(field Section) == admin ]] || bad "Section is '$(field Section)'"
# Depends comes from dpkg-shlibdeps: the libraries the binary really links.
depends=$(field Depends)
# Only the libraries the binary itself names (NEEDED): dpkg-shlibdeps leaves
# their own dependencies (libpq's Kerberos, libnftables' libmnl) to their
# packages. dpkg's database names some libraries under /lib, others under /usr/lib.
for soname in $(readelf -d "$build/bulwark" | awk '/\(NEEDED\)/ {gsub(/[][]/, "", $5); print $5}'); do
  lib=$(ldd "$build/bulwark" | awk -v s="$soname" '$1 == s {print $3}')
  [[ -n $lib ]] || { bad "ldd does not resolve $soname"; continue; }
  pkg=$({ dpkg-query -S "$lib" || dpkg-query -S "/usr$lib"; } 2>/dev/null | head -1 | cut -d: -f1)
  [[ -n $pkg ]] || { bad "no package provides $lib"; continue; }
  [[ $depends == *"$pkg "* || $depends == *"$pkg,"* || $depends == *"$pkg" ]] ||
    bad "Depends '$depends' lacks $pkg (provides $lib)"
done
# And the libraries it loads on first use with dlopen: not NEEDED entries, so
# read from the table that names them (core/system_libs.hpp's k_libraries).
# (Not `strings` of the binary: at -O2 GCC builds a short literal with
# immediate moves, and the soname is in no string table.)
needed=$(readelf -d "$build/bulwark" | awk '/\(NEEDED\)/ {gsub(/[][]/, "", $5); print $5}')
dlopened=$(sed -n '/k_libraries\[\]/,/};/p' "$src/include/bulwark/core/system_libs.hpp" |
  grep -oE '"lib[a-z0-9_+-]+\.so\.[0-9.]+"' | tr -d '"' | sort -u)
[[ $dlopened == *libpq.so.5* ]] || bad "no dlopen'ed soname in k_libraries (core/system_libs.hpp)"
for soname in $dlopened; do
  grep -qxF "$soname" <<<"$needed" && continue
  lib=$(ldconfig -p | awk -v s="$soname" '$1 == s && !found {print $NF; found = 1}')
  [[ -n $lib ]] || { bad "ldconfig does not know $soname, which bulwark loads"; continue; }
  pkg=$({ dpkg-query -S "$lib" || dpkg-query -S "/usr$lib" || dpkg-query -S "$(realpath "$lib")"; } 2>/dev/null | head -1 | cut -d: -f1)
  [[ -n $pkg ]] || { bad "no package provides $lib"; continue; }
  [[ $depends == *"$pkg "* || $depends == *"$pkg,"* || $depends == *"$pkg" ]] ||
    bad "Depends '$depends' lacks $pkg (provides $lib, which bulwark loads with dlopen)"
done
ok "control: bulwark $(field Version), section admin, Depends: $depends"

if command -v lintian >/dev/null; then
  # Errors and warnings fail the test; info tags are listed.
  if lintian --fail-on error,warning --display-info "$deb" >"$tmp/lintian.log" 2>&1; then
    ok "lintian: no error or warning$(grep -c '^I:' "$tmp/lintian.log" | sed 's/^0$//; s/.\+/ (& info tags)/')"
  else
    bad "lintian:"
  fi
  grep -E '^[EWI]:' "$tmp/lintian.log" | sed 's/^/       /' || true
else
  skip "lintian not installed"
fi

# --- install ------------------------------------------------------------------
# Which paths of the package exist before, to prove the removal restores them.
dpkg-deb -c "$deb" | awk '{print substr($6, 2)}' | sed 's|/$||' | grep -v '^$' >"$tmp/paths"
while read -r p; do [[ -e $p || -L $p ]] && echo "$p"; done <"$tmp/paths" >"$tmp/existed"

installed_by_us=1
dpkg_locked -i "$deb" >"$tmp/install.log" || { cat "$tmp/install.log"; die "dpkg -i"; }
[[ $(dpkg-query -W -f='${Status}' bulwark) == "install ok installed" ]] ||
  die "dpkg -i left bulwark as '$(dpkg-query -W -f='${Status}' bulwark)'"
ok "dpkg -i $(basename "$deb")"

listed=$(dpkg -L bulwark)
for f in /usr/bin/bulwark /usr/share/man/man1/bulwark.1.gz \
  /usr/share/bash-completion/completions/bulwark /usr/share/zsh/vendor-completions/_bulwark \
  /usr/share/doc/bulwark/copyright /usr/share/doc/bulwark/changelog.Debian.gz \
  /usr/share/doc/bulwark/examples/site-profile.yaml /usr/share/doc/bulwark/examples/waivers.yaml; do
  grep -qxF "$f" <<<"$listed" || bad "dpkg -L bulwark does not list $f"
  # dpkg path-exclude rules (minimal images drop /usr/share/man, doc) would
  # list a file that is not there.
  [[ -f $f ]] || bad "$f is listed but not installed (a dpkg path-exclude?)"
done
ok "dpkg -L bulwark lists the binary, man page, completions, copyright and examples"

# --- the installed binary -----------------------------------------------------
bin=/usr/bin/bulwark
[[ $($bin version) == "bulwark $version" ]] || bad "installed version '$($bin version)' is not $version"
set +e
(cd / && $bin audit --format json) >"$tmp/report.json" 2>"$tmp/audit.err"
rc=$?
set -e
case $rc in
  0 | 1) ok "installed bulwark audit --format json: exit $rc (0 clean, 1 findings)" ;;
  *) bad "installed bulwark audit --format json: exit $rc: $(head -5 "$tmp/audit.err")" ;;
esac
python3 -m json.tool "$tmp/report.json" >/dev/null || bad "the audit report is not JSON"
if command -v jq >/dev/null; then
  jq -e '.schema == "bulwark.audit/v1" and (.findings | length) > 0
         and .tool.version == "'"$version"'"' "$tmp/report.json" >/dev/null ||
    bad "the report lacks schema bulwark.audit/v1, version $version or findings"
  ok "report: $(jq -r '"\(.findings | length) findings, summary \(.summary | tostring)"' "$tmp/report.json")"
fi

examples=/usr/share/doc/bulwark/examples
# The example profile is valid and takes effect (max 2 instead of the guide's 3).
if out=$($bin checks --profile $examples/site-profile.yaml 2>&1); then
  grep -Eq '^ssh\.max-auth-tries .*\[max=2\]' <<<"$out" || bad "site-profile.yaml: ssh.max-auth-tries is not max=2"
  grep -Eq '^ssh\.use-dns .*\(disabled\)' <<<"$out" || bad "site-profile.yaml: ssh.use-dns is not disabled"
  set +e
  $bin audit --profile $examples/site-profile.yaml --format json >"$tmp/profile.json" 2>"$tmp/profile.err"
  rc=$?
  set -e
  if ((rc > 1)); then
    bad "audit --profile site-profile.yaml: exit $rc: $(head -3 "$tmp/profile.err")"
  else
    ok "example profile: parsed, applied (max=2, use-dns disabled), audit exit $rc"
  fi
else
  bad "bulwark checks --profile site-profile.yaml: $out"
fi
if $bin audit --help | grep -q -- '--waivers'; then
  set +e
  $bin audit --waivers $examples/waivers.yaml --format json >"$tmp/waived.json" 2>"$tmp/waived.err"
  rc=$?
  set -e
  ((rc <= 1)) && ok "example waivers: accepted (exit $rc)" ||
    bad "audit --waivers waivers.yaml: exit $rc: $(head -3 "$tmp/waived.err")"
else
  skip "this bulwark has no --waivers yet: waivers.yaml not exercised"
fi

# --- the man page -------------------------------------------------------------
page=$(man -w bulwark 2>/dev/null || true)
[[ $page == /usr/share/man/man1/bulwark.1.gz ]] || bad "man -w bulwark gives '$page'"
warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null || true)
[[ -z $warnings ]] || bad "man page warnings: $warnings"
roff=$(zcat /usr/share/man/man1/bulwark.1.gz)
grep -q "^\.TH BULWARK 1 .*\"bulwark $version\"" <<<"$roff" || bad "the man page's .TH does not say bulwark $version"
# Every subcommand and option of the installed --help is documented in the
# man page and offered by both completions.
bash_comp=$(cat /usr/share/bash-completion/completions/bulwark)
zsh_comp=$(cat /usr/share/zsh/vendor-completions/_bulwark)
subcommands=$($bin --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
[[ -n $subcommands ]] || bad "no subcommands in bulwark --help"
checked=0
for cmd in '' $subcommands; do # '' : the options of bulwark itself
  if [[ -n $cmd ]]; then
    grep -q "^\.B $cmd\$\|^\.BI $cmd \|^\.SY \"bulwark $cmd\"" <<<"$roff" || bad "man page: no command $cmd"
    grep -qw -- "$cmd" <<<"$bash_comp" || bad "bash completion: no command $cmd"
    grep -q -- "'$cmd:" <<<"$zsh_comp" || bad "zsh completion: no command $cmd"
  fi
  for opt in $($bin ${cmd:+"$cmd"} --help | grep -oE '^  (-[a-zA-Z],)?--[a-z][a-z-]*' | sed 's/.*,//; s/^ *//'); do
    escaped=${opt//-/\\-}
    grep -qF -- "$escaped" <<<"$roff" || bad "man page: no $opt (bulwark${cmd:+ $cmd} --help has it)"
    grep -qw -- "$opt" <<<"$bash_comp" || bad "bash completion: no $opt for ${cmd:-bulwark}"
    # _arguments specs: --flag[...], --opt=[...], {-h,--help}
    grep -qF -e "$opt[" -e "$opt=[" -e ",$opt}" <<<"$zsh_comp" || bad "zsh completion: no $opt for ${cmd:-bulwark}"
    checked=$((checked + 1))
  done
done
ok "man -w bulwark: $page, no warnings; $checked options of $(wc -w <<<"$subcommands") subcommands documented and completed"

# --- bash completion ----------------------------------------------------------
comp=$(bash -c 'source /usr/share/bash-completion/completions/bulwark; complete -p bulwark')
[[ $comp == "complete -F _bulwark bulwark" ]] || bad "bash completion registers '$comp'"
complete_bash() { # words of the line; the last one is the word being completed
  PATH=/usr/bin:/bin bash -c 'source /usr/share/bash-completion/completions/bulwark
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _bulwark; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}
first_id=$($bin checks | awk 'NR == 1 {print $1}')
[[ $(complete_bash bulwark '' | sort | xargs) == "audit bans checks explain facts fim fix version watch" ]] ||
  bad "bash: subcommands: $(complete_bash bulwark '' | xargs)"
[[ $(complete_bash bulwark audit --format '' | xargs) == "text json sarif junit markdown html" ]] ||
  bad "bash: --format values: $(complete_bash bulwark audit --format '' | xargs)"
[[ $(complete_bash bulwark explain "${first_id:0:6}") == *"$first_id"* ]] ||
  bad "bash: explain does not offer $first_id"
[[ $(complete_bash bulwark audit --profile vpn) == vpn-production ]] ||
  bad "bash: --profile vpn gives '$(complete_bash bulwark audit --profile vpn)'"
if [[ -f /usr/share/bash-completion/bash_completion ]]; then
  # bash-completion loads completions on demand from its directory.
  loaded=$(bash -c 'source /usr/share/bash-completion/bash_completion
    __load_completion bulwark && complete -p bulwark' 2>&1 || true)
  [[ $loaded == "complete -F _bulwark bulwark" ]] || bad "bash-completion does not load it: $loaded"
fi
ok "bash completion: registers _bulwark; subcommands, formats, profiles and check ids complete"

# --- zsh completion -----------------------------------------------------------
if command -v zsh >/dev/null; then
  # Debian's zsh finds it in its default fpath (vendor-completions).
  complete_zsh() { PATH=/usr/bin:/bin timeout 20 zsh -f "$here/zsh_complete.zsh" "" "$1" | sort -u | xargs; }
  [[ $(complete_zsh 'bulwark ') == "audit bans checks explain facts fim fix version watch" ]] ||
    bad "zsh: subcommands: $(complete_zsh 'bulwark ')"
  [[ $(complete_zsh 'bulwark audit --format ') == "html json junit markdown sarif text" ]] ||
    bad "zsh: --format values: $(complete_zsh 'bulwark audit --format ')"
  [[ $(complete_zsh "bulwark explain ${first_id:0:6}") == *"$first_id"* ]] ||
    bad "zsh: explain does not offer $first_id"
  ok "zsh completion: found in the default fpath; subcommands, formats and check ids complete"
else
  skip "zsh not installed"
fi

# --- remove and purge ---------------------------------------------------------
dpkg_locked -r bulwark >"$tmp/remove.log" || { cat "$tmp/remove.log"; die "dpkg -r"; }
[[ ! -e /usr/bin/bulwark ]] || bad "/usr/bin/bulwark is still there after dpkg -r"
dpkg_locked --purge bulwark >"$tmp/purge.log" || { cat "$tmp/purge.log"; die "dpkg --purge"; }
installed_by_us=0
if dpkg -L bulwark >/dev/null 2>&1; then bad "dpkg -L bulwark still succeeds after the purge"; fi
status=$(dpkg-query -W -f='${Status}' bulwark 2>/dev/null || true)
[[ -z $status || $status == *not-installed ]] || bad "dpkg still knows bulwark: $status"
left=$(ls /var/lib/dpkg/info/bulwark.* 2>/dev/null || true)
[[ -z $left ]] || bad "dpkg metadata left: $left"
while read -r p; do
  if [[ -e $p || -L $p ]] && ! grep -qxF "$p" "$tmp/existed"; then bad "left behind: $p"; fi
done <"$tmp/paths"
if man -w bulwark >/dev/null 2>&1; then bad "man -w bulwark still finds a page"; fi
ok "dpkg -r and --purge: no file, directory, dpkg metadata or man page left"

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "all package checks passed"
