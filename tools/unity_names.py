#!/usr/bin/env python3
"""Fails when two source files of one unity batch define the same internal name.

The library compiles as unity batches (CMakeLists.txt, BULWARK_UNITY): the
files of a batch are one translation unit, and all their anonymous namespaces
are one namespace. Two files defining the same internal function with the
same signature do not compile; with different signatures they overload
silently, and a call in one file may pick the other file's function. The
compiler cannot see that, the object files can: this reads each batch's
object (built with line tables: `nm -l` names the source file of every
symbol) and reports each anonymous-namespace name defined by more than one
source file of the batch.

Usage: unity_names.py UNITY_OBJECT...   (exit 1 on a clash, 2 on bad input)
"""

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

# A demangled symbol whose own name sits in an anonymous namespace (not one
# that merely mentions an anonymous type in its template arguments).
ANON = re.compile(r"^((?:[A-Za-z_][A-Za-z_0-9]*::)*)\(anonymous namespace\)::([A-Za-z_][A-Za-z_0-9]*)")


def names_by_file(obj):
    out = subprocess.run(["nm", "-C", "-l", "--defined-only", obj],
                         check=True, capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) < 3:
            continue
        symbol, _, where = parts[2].partition("\t")
        match = ANON.match(symbol)
        if not match or not where:
            continue
        source = where.rsplit(":", 1)[0]
        if not source.endswith(".cpp"):
            continue
        found.setdefault(match.group(1) + match.group(2), set()).add(source)
    return found


def main(objects):
    if not objects:
        print("unity_names.py: no object files given", file=sys.stderr)
        return 2
    clashes = 0
    named = 0
    # `nm -l` looks up a line for every symbol: a few seconds an object.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(names_by_file, objects))
    for obj, found in zip(objects, results):
        named += len(found)
        for name, sources in sorted(found.items()):
            if len(sources) > 1:
                clashes += 1
                print(f"{obj}: '{name}' is defined in {len(sources)} files of one unity batch: "
                      + ", ".join(sorted(sources)))
    if named == 0:
        # Nothing found at all means no line tables or the wrong objects:
        # that is not a pass.
        print("unity_names.py: no anonymous-namespace symbol with a source line in "
              + " ".join(objects), file=sys.stderr)
        return 2
    print(f"{len(objects)} unity objects, {named} internal names, {clashes} clashes")
    return 1 if clashes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
