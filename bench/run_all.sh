#!/usr/bin/env bash
# `make bench`: the Google Benchmark micro-benchmarks, then every end-to-end bench script.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LIDARMILL_BUILD:-build/release}
out=${LIDARMILL_BENCH_OUT:-build/bench-results}
mkdir -p "$out"
if [[ -x "$build/bench/lidarmill_bench" ]]; then
  "$build/bench/lidarmill_bench" --benchmark_out="$out/micro.json" --benchmark_out_format=json \
    ${LIDARMILL_BENCH_FILTER:+--benchmark_filter="$LIDARMILL_BENCH_FILTER"}
fi
for script in bench/*_bench.sh; do
  [[ -e "$script" ]] || continue
  echo "== $script"
  bash "$script" "$build/lidarmill" | tee "$out/$(basename "$script" .sh).txt"
done
echo "results in $out"
