#!/usr/bin/env python3
"""Pinned enum values: every enumerator of the baseline header keeps its name
and value in the current one (docs/abi-policy.md). Enum values are compiled
into clients, so a changed value breaks them without any change in the
library's symbols or types; abidiff cannot see it (the functions take int).
Every enumerator of the current header must also have an explicit integer
value, so that pinning is visible where it is declared.

Usage: check-enums.py BASELINE_HEADER CURRENT_HEADER"""
import re
import sys


def enumerators(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    values, unpinned = {}, []
    for m in re.finditer(r"\benum\s+(\w+)?\s*\{([^}]*)\}", text):
        enum = m.group(1) or "(anonymous)"
        for item in m.group(2).split(","):
            item = item.strip()
            if not item:
                continue
            v = re.fullmatch(r"(\w+)\s*=\s*(-?\s*(?:0[xX][0-9a-fA-F]+|\d+))", item)
            if not v:
                unpinned.append("%s in enum %s" % (item.split("=")[0].strip(), enum))
                continue
            values[v.group(1)] = (int(v.group(2).replace(" ", ""), 0), enum)
    return values, unpinned


old, _ = enumerators(sys.argv[1])
new, unpinned = enumerators(sys.argv[2])
problems = ["%s: no explicit integer value (every value is pinned: write it out)" % u
            for u in unpinned]
for name, (value, enum) in sorted(old.items(), key=lambda kv: (kv[1][1], kv[1][0])):
    if name not in new:
        problems.append("%s = %d (enum %s) is gone or renamed" % (name, value, enum))
    elif new[name][0] != value:
        problems.append("%s was %d, is now %d" % (name, value, new[name][0]))
if problems:
    print("check-enums: pinned enum values of %s changed in %s:" % (sys.argv[1], sys.argv[2]))
    print("\n".join("  " + p for p in problems))
    sys.exit(1)
print("check-enums: %d enum values of the baseline kept; %d new" % (len(old), len(new) - len(old)))
