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
# The scripts take their binary in different forms; each prints its own table.
echo "== bench/laz_bench.sh"
bash bench/laz_bench.sh "$build" | tee "$out/laz_bench.txt"
echo "== bench/enrich_bench.sh"
bash bench/enrich_bench.sh --bin "$build/lidarmill" | tee "$out/enrich_bench.txt"
echo "== bench/copc_bench.sh"
sh bench/copc_bench.sh "$build/lidarmill" "$out/copc-work" | tee "$out/copc_bench.txt"
echo "results in $out"
