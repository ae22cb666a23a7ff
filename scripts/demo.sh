#!/usr/bin/env bash
# `make run`: synthesize a demo tile, describe it, and say where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/lidarmill
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
echo "Demo tile: $(realpath "$tile") (ground truth: $(realpath "$tile.truth"))"
