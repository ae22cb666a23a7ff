#!/usr/bin/env bash
# Runs the libFuzzer reader target for a while, seeded with the small shared sample files.
set -euo pipefail
binary=$1
seconds=${2:-30}
corpus=$(mktemp -d /tmp/lidarmill-fuzz-corpus.XXXXXX)
trap 'rm -rf "$corpus"' EXIT
data="$(dirname "$0")/../../shared/data"
if [[ -d "$data" ]]; then
  find "$data" -type f \( -name '*.las' -o -name '*.laz' \) -size -300k -exec cp {} "$corpus"/ \;
else
  echo "shared data folder absent: $data; fuzzing from an empty corpus" >&2
fi
echo "fuzzing $(basename "$binary") for ${seconds}s from $(ls "$corpus" | wc -l) seed files"
"$binary" "$corpus" -max_total_time="$seconds" -max_len=300000 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
  -timeout=10 -print_final_stats=1 2>&1 | tail -n 25
echo "fuzz: 1 passed, 0 failed"
