#!/usr/bin/env bash
# End to end: a 20 M-point synth tile (peak RSS under 200 MB, same seed -> same bytes)
# round-trips LAS -> LAZ -> LAS with identical records.
set -euo pipefail
bin=$1
points=${2:-20000000}
dir=$(mktemp -d /tmp/lidarmill-e2e.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
peak_kb() { grep "Maximum resident set size" "$1" | awk '{print $6}'; }

/usr/bin/time -v "$bin" synth -q "$dir/tile.las" --points "$points" --seed 11 2> "$dir/time1.txt" || { cat "$dir/time1.txt"; fail "synth"; }
rss=$(peak_kb "$dir/time1.txt")
echo "synth $points points: peak RSS $((rss / 1024)) MB"
((rss < 200 * 1024)) || fail "synth peak RSS ${rss} KB >= 200 MB"
"$bin" synth -q "$dir/again.las" --points "$points" --seed 11
cmp -s "$dir/tile.las" "$dir/again.las" || fail "same seed gave different bytes"
rm "$dir/again.las"

"$bin" translate -q "$dir/tile.las" "$dir/tile.laz"
"$bin" translate -q "$dir/tile.laz" "$dir/back.las"
sha() { "$bin" info --json --checksum --header-only "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["point_count"], d["records_sha256"])'; }
a=$(sha "$dir/tile.las"); b=$(sha "$dir/tile.laz"); c=$(sha "$dir/back.las")
echo "LAS $a"; echo "LAZ $b"; echo "back $c"
[[ "$a" == "$b" && "$a" == "$c" ]] || fail "records differ after LAS -> LAZ -> LAS"
[[ "${a%% *}" == "$points" ]] || fail "point count ${a%% *} != $points"
echo "sizes: LAS $(stat -c %s "$dir/tile.las") bytes, LAZ $(stat -c %s "$dir/tile.laz") bytes"
echo "e2e synth round trip: 1 passed, 0 failed"
