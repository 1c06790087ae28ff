#!/bin/sh
# tools/unity_names.py must report what it exists to find: two files of one
# unity batch with a same-named internal function of different signatures
# (which compiles, and silently overloads), and must pass the same two files
# once the names differ.
# Usage: unity_names_test.sh SOURCE_DIR CXX
set -eu
src=$1 cxx=$2
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
cat >"$d/a.cpp" <<'X'
namespace demo { namespace { int twice(int v) { return 2 * v; } } int a(int v) { return twice(v); } }
X
cat >"$d/b.cpp" <<'X'
namespace demo { namespace { long twice(long v) { return v + v; } } long b(long v) { return twice(v); } }
X
printf '#include "%s/a.cpp"\n#include "%s/b.cpp"\n' "$d" "$d" >"$d/unity.cpp"
"$cxx" -O0 -g1 -c "$d/unity.cpp" -o "$d/clash.o"
rc=0
python3 "$src/tools/unity_names.py" "$d/clash.o" >"$d/out" || rc=$?
cat "$d/out"
[ "$rc" = 1 ] || { echo "FAIL: exit $rc for a clash (expected 1)"; exit 1; }
grep -q "demo::twice' is defined in 2 files" "$d/out" || { echo "FAIL: clash not named"; exit 1; }
sed -i 's/twice/doubled/g' "$d/b.cpp"
"$cxx" -O0 -g1 -c "$d/unity.cpp" -o "$d/clean.o"
python3 "$src/tools/unity_names.py" "$d/clean.o" || { echo "FAIL: distinct names reported"; exit 1; }
echo "ok"
