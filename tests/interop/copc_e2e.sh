#!/bin/sh
# End-to-end COPC acceptance on a big synthetic tile (CTest label e2e, release build only):
# conservation of every record (order-free digest), validate --deep, identical bytes with 1
# and 2 threads, and four adjacent tiles merged into one COPC.
# Usage: copc_e2e.sh LIDARMILL_BINARY WORK_DIR [POINTS]
set -eu
bin=$1
work=$2/copc-e2e
points=${3:-20000000}
here=$(cd "$(dirname "$0")" && pwd)
# numpy is needed for the record digests; pyenv shims may lack it where the system Python has it.
py=python3
python3 -c 'import numpy' 2>/dev/null || py=/usr/bin/python3
rm -rf "$work"
mkdir -p "$work"
cd "$work"

echo "== synth $points points"
"$bin" synth tile.las --points "$points" --progress none
echo "== copc, 2 threads, 512M budget"
"$bin" copc tile.las -o two.copc.laz --threads 2 --memory-budget 512M --progress plain
echo "== copc, 1 thread"
"$bin" copc tile.las -o one.copc.laz --threads 1 --memory-budget 512M --progress none
cmp one.copc.laz two.copc.laz
echo "ok    1-thread and 2-thread outputs are byte-identical"
"$bin" validate --deep two.copc.laz
"$bin" translate two.copc.laz back.las --progress none
"$py" "$here/copc_multiset.py" tile.las back.las
echo "ok    every record of the tile is in the COPC exactly once"
rm -f one.copc.laz back.las

echo "== four adjacent tiles merged"
quarter=$((points / 4))
side=$(python3 -c "import math; print(math.sqrt($quarter / 15.0))")
for i in 0 1 2 3; do
  x=$(python3 -c "print(650000 + ($i % 2) * $side)")
  y=$(python3 -c "print(6860000 + ($i // 2) * $side)")
  "$bin" synth "t$i.las" --points "$quarter" --seed $((i + 7)) --origin "$x,$y" --progress none
done
"$bin" copc t0.las t1.las t2.las t3.las -o merged.copc.laz --memory-budget 512M --progress none
"$bin" validate --deep merged.copc.laz
"$bin" translate merged.copc.laz merged.las --progress none
# The tiles' records, concatenated, with coordinates in the merged file's offsets.
"$py" - "$work" <<'PY'
import struct, sys, numpy as np
work = sys.argv[1]
def header(path):
    h = open(path, 'rb').read(375)
    return dict(offset=struct.unpack_from('<I', h, 96)[0], length=struct.unpack_from('<H', h, 105)[0],
                count=struct.unpack_from('<Q', h, 247)[0], scale=struct.unpack_from('<3d', h, 131),
                off=struct.unpack_from('<3d', h, 155), raw=h)
m = header(f'{work}/merged.las')
out = open(f'{work}/tiles.las', 'wb')
total = 0
parts = []
for i in range(4):
    t = header(f'{work}/t{i}.las')
    assert t['length'] == m['length'] and t['scale'] == m['scale']
    data = np.fromfile(f'{work}/t{i}.las', dtype=np.uint8, offset=t['offset'], count=t['count'] * t['length'])
    recs = data.reshape(t['count'], t['length']).copy()
    xyz = recs[:, :12].copy().view('<i4').astype(np.int64)
    for a in range(3):
        xyz[:, a] += round((t['off'][a] - m['off'][a]) / m['scale'][a])
    recs[:, :12] = xyz.astype('<i4').view(np.uint8).reshape(-1, 12)
    parts.append(recs)
    total += t['count']
out.write(open(f'{work}/merged.las', 'rb').read(m['offset']))
for p in parts: out.write(p.tobytes())
out.close()
PY
"$py" "$here/copc_multiset.py" tiles.las merged.las
echo "ok    the merged COPC holds every record of the four tiles exactly once"
cd / && rm -rf "$work"
echo "copc e2e: all checks passed"
