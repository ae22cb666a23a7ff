#!/usr/bin/env bash
# End-to-end benchmark of `lidarmill enrich` (LAZ in, LAZ out): points/s and peak RSS for
# core and building mode, on a 20 M-point synthetic tile and on real IGN data, at several
# memory budgets. With --big it also checks that a 50 M-point tile stays under a 512 MB
# budget. CPU seconds are reported too: on a shared machine wall time alone misleads.
#
# Each configuration runs --repeat times (default 3) and reports the median run (by wall
# time) with the range of wall times: on a shared host one run can be 1.4x another.
#
#   bench/enrich_bench.sh [--bin PATH] [--work DIR] [--budgets "512M 2G"] [--modes "core building"]
#                         [--repeat N] [--big]
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${here}/build/release/lidarmill"
work="${TMPDIR:-/tmp}/lidarmill_enrich_bench"
budgets="512M 2G"
modes="core building"
big=0
repeat=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --budgets) budgets="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --big) big=1; shift ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
done
real="${here}/../shared/data/bench/real7_2m.laz"
mkdir -p "$work"
synth20="$work/synth20m.laz"
[[ -f "$synth20" ]] || "$bin" synth "$synth20" --points 20000000 --progress none

# run LABEL INPUT MODE BUDGET: `repeat` enrich runs, one result line (the median run).
run() {
  local label="$1" input="$2" mode="$3" budget="$4"
  local out="$work/out_${label}_${mode}_${budget}"
  local stats="$work/time.txt" runs="$work/runs.txt"
  : > "$runs"
  for ((i = 0; i < repeat; i++)); do
    rm -rf "$out"
    /usr/bin/time -f "%e %U %S %M" -o "$stats" \
      "$bin" -q enrich --input "$input" --output "$out" --mode "$mode" --memory-budget "$budget" \
      --progress none
    cat "$stats" >> "$runs"
  done
  python3 - "$label" "$mode" "$budget" "$out/enrich-report.json" "$runs" <<'PY'
import json, sys
label, mode, budget, report, runs = sys.argv[1:]
f = json.load(open(report))["files"][0]
points = int(f["points"])
plan = f"{'out-of-core' if f['out_of_core'] else 'in-memory'} {f['chunks']} chunks"
rows = sorted((float(w), float(u) + float(s), int(m) * 1024)
              for w, u, s, m in (line.split() for line in open(runs) if line.strip()))
wall, cpu, rss = rows[(len(rows) - 1) // 2]
spread = f"{rows[0][0]:.1f}-{rows[-1][0]:.1f} s" if len(rows) > 1 else "1 run"
print(f"{label:8} {mode:9} budget {budget:>5}: {points/1e6:6.2f} M points, {wall:7.1f} s wall "
      f"(median of {len(rows)}, {spread}), {points/wall/1e6:5.2f} M points/s wall, {cpu:7.1f} s CPU "
      f"({points/cpu*2/1e6:5.2f} M points/s per 2 cores of CPU), peak RSS {rss/2**20:7.1f} MiB, "
      f"{plan}")
PY
  rm -rf "$out"
}

# The speed this machine gives a fixed one-thread workload (coding 48-byte feature records,
# BM_Byte14Encode): on a shared host it changes by up to 1.6x within minutes, so points/s
# from different runs compare only with this figure beside them.
calibration_bench="$(dirname "$bin")/bench/lidarmill_bench"
calibrate() {
  if [[ ! -x "$calibration_bench" ]]; then
    echo "# host speed ($1): $calibration_bench not built, no calibration"
    return
  fi
  "$calibration_bench" --benchmark_filter='^BM_Byte14Encode/features_48b$' \
    --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_format=json \
    2>/dev/null | python3 -c '
import json, sys
median = [b for b in json.load(sys.stdin)["benchmarks"] if b.get("aggregate_name") == "median"][0]
nanoseconds = median["time/symbol"] * 1e9
print(f"# host speed ({sys.argv[1]}): {nanoseconds:.2f} ns per coded feature byte, one thread "
      "(BM_Byte14Encode; lower is faster)")' "$1"
}

echo "# lidarmill enrich benchmark, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
calibrate start
for mode in $modes; do
  for budget in $budgets; do
    run synth20 "$synth20" "$mode" "$budget"
    run real7 "$real" "$mode" "$budget"
  done
done

if [[ $big -eq 1 ]]; then
  synth50="$work/synth50m.laz"
  [[ -f "$synth50" ]] || "$bin" synth "$synth50" --points 50000000 --progress none
  run synth50 "$synth50" core 512M
fi
calibrate end
