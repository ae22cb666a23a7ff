#!/usr/bin/env bash
# `make run`: synthesize a demo tile, describe it, and say where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${LIDARMILL_BIN:-build/release/lidarmill}
out=${LIDARMILL_DEMO_DIR:-build/demo}
points=${LIDARMILL_DEMO_POINTS:-3000000}
mkdir -p "$out"
tile="$out/demo_tile.laz"
echo "== synth: $points points -> $tile"
/usr/bin/time -f "   %e s, peak RSS %M KB" "$bin" synth "$tile" --points "$points" --seed 1 --truth --progress plain
echo
echo "== info"
"$bin" info "$tile"
echo
enriched="$out/enriched"
echo "== enrich (building mode) -> $enriched"
/usr/bin/time -f "   %e s, peak RSS %M KB" "$bin" enrich --input "$tile" --output "$enriched" \
  --mode building --force --progress plain
python3 - "$enriched/enrich-report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for f in report["files"]:
    rate = f["points"] / f["seconds"] / 1e6 if f["seconds"] else 0
    print(f"   {f['output']}: {f['points']} points in {f['seconds']:.1f} s ({rate:.2f} M points/s), "
          f"peak memory {f['peak_memory_bytes'] / 2**20:.0f} MiB, {f['chunks']} chunk(s)")
    print(f"   {'feature':22} {'min':>12} {'max':>12} {'no data':>9}")
    for name, s in f["features"].items():
        fmt = lambda v: "-" if v is None else f"{v:12.4f}"
        print(f"   {name:22} {fmt(s['min']):>12} {fmt(s['max']):>12} {s['no_data']:>9}")
PY
echo
copc="$out/demo_tile.copc.laz"
echo "== copc: $enriched/demo_tile.laz -> $copc"
/usr/bin/time -f "   %e s, peak RSS %M KB" "$bin" copc "$enriched/demo_tile.laz" -o "$copc" --progress plain
echo
echo "== validate --deep"
"$bin" validate --deep "$copc"
echo
echo "Demo tile: $(realpath "$tile") (ground truth: $(realpath "$tile.truth"))"
echo "Enriched:  $(realpath "$enriched")"
echo "COPC:      $(realpath "$copc")"
