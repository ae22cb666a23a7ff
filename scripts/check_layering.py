#!/usr/bin/env python3
"""Fails when a module in src/ includes a header of a module it does not depend on.

The allowed edges are the DEPS that CMakeLists.txt gives each lidarmill_module (written
to LAYERS at configure time), closed transitively: a module may include its own headers
and those of every module below it, never one above or beside it.
usage: check_layering.py SRC_DIR LAYERS_FILE
"""
import re
import sys
from pathlib import Path

src, layers_file = Path(sys.argv[1]), Path(sys.argv[2])
direct = {}
for line in layers_file.read_text().split():
    name, _, deps = line.partition(":")
    direct[name] = [d.removeprefix("lidarmill_") for d in deps.split(",")
                    if d.startswith("lidarmill_")]


def below(module, seen=None):
    seen = set() if seen is None else seen
    for dep in direct.get(module, []):
        if dep not in seen:
            seen.add(dep)
            below(dep, seen)
    return seen


allowed_by_module = {m: below(m) | {m} for m in direct}
include = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
errors = []
for path in sorted(src.rglob("*.[ch]pp")):
    module = path.relative_to(src).parts[0]
    allowed = allowed_by_module.get(module, {module})
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = include.match(line)
        if match and match.group(1) in direct and match.group(1) not in allowed:
            errors.append(f"{path}:{number}: {module} includes {match.group(1)}/, "
                          f"which is not below it ({', '.join(sorted(allowed))})")
print("\n".join(errors) if errors else f"layering ok: {len(direct)} modules")
sys.exit(1 if errors else 0)
