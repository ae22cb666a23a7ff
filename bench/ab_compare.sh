#!/usr/bin/env bash
# Old binary against new, interleaved: the same enrich and copc runs alternate between two
# lidarmill binaries for --rounds rounds, so that a shared host's drifting speed weighs on
# both alike. Prints, per configuration, the median wall and CPU seconds and peak RSS of
# each binary and the ratios new/old (below 1: the new one is faster or smaller). Outputs
# of the two binaries are compared byte for byte on the first round.
#
#   bench/ab_compare.sh OLD_BIN NEW_BIN [--work DIR] [--rounds N] [--points N]
set -euo pipefail

old="$1" new="$2"; shift 2
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${TMPDIR:-/tmp}/lidarmill_ab"
rounds=3
points=20000000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --work) work="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --points) points="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
done
real="${here}/../shared/data/bench/real7_2m.laz"
[[ -f "$real" ]] || { echo "ab_compare: $real is absent (../shared/data); nothing measured" >&2; exit 1; }
mkdir -p "$work"
synth="$work/synth_${points}.laz"
[[ -f "$synth" ]] || "$old" synth "$synth" --points "$points" --progress none

configs=(
  "enrich synth core 512M" "enrich synth core 2G" "enrich real7 core 512M" "enrich real7 core 2G"
  "enrich real7 building 512M" "copc synth - 512M" "copc real7 - 512M"
)
results="$work/results.txt"
: > "$results"

# run WHICH BIN KIND INPUT MODE BUDGET ROUND
run() {
  local which="$1" bin="$2" kind="$3" label="$4" mode="$5" budget="$6" round="$7"
  local input="$synth"; [[ "$label" == real7 ]] && input="$real"
  local out="$work/out_${which}"
  rm -rf "$out"; mkdir -p "$out"
  if [[ "$kind" == enrich ]]; then
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$bin" -q enrich --input "$input" \
      --output "$out" --mode "$mode" --memory-budget "$budget" --progress none
  else
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$bin" -q copc "$input" \
      -o "$out/out.copc.laz" --memory-budget "$budget" --temp-dir "$out" --progress none
  fi
  echo "$kind $label $mode $budget $which $(cat "$work/time.txt")" >> "$results"
  if [[ $round -eq 0 ]]; then
    find "$out" -type f \( -name '*.laz' -o -name '*.las' \) -exec sha256sum {} + |
      sed "s|$out/||" | sort > "$work/sums_${which}.txt"
  fi
}

echo "# old: $old"
echo "# new: $new"
echo "# $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $rounds rounds, $(date -u +%H:%M) UTC"
for ((r = 0; r < rounds; r++)); do
  for config in "${configs[@]}"; do
    read -r kind label mode budget <<< "$config"
    # Alternate which binary goes first, so neither always runs on a warm page cache.
    if (( r % 2 == 0 )); then order="old new"; else order="new old"; fi
    for which in $order; do
      bin="$old"; [[ "$which" == new ]] && bin="$new"
      run "$which" "$bin" "$kind" "$label" "$mode" "$budget" "$r"
    done
    if [[ $r -eq 0 ]] && ! cmp -s "$work/sums_old.txt" "$work/sums_new.txt"; then
      echo "OUTPUTS DIFFER: $config" >&2
    fi
  done
done
python3 - "$results" <<'PY'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    kind, label, mode, budget, which, wall, user, system, rss = line.split()
    runs[(kind, label, mode, budget, which)].append((float(wall), float(user) + float(system), int(rss) / 1024))
print(f"{'configuration':32} {'old wall':>9} {'new wall':>9} {'ratio':>6} {'old CPU':>8} {'new CPU':>8} {'ratio':>6} {'old RSS':>8} {'new RSS':>8} {'ratio':>6}")
for key in dict.fromkeys(k[:4] for k in runs):
    o, n = runs[key + ("old",)], runs[key + ("new",)]
    med = lambda rows, i: statistics.median(r[i] for r in rows)
    ow, nw, oc, nc, om, nm = med(o, 0), med(n, 0), med(o, 1), med(n, 1), med(o, 2), med(n, 2)
    name = " ".join(x for x in key if x != "-")
    print(f"{name:32} {ow:8.2f}s {nw:8.2f}s {nw/ow:6.3f} {oc:7.2f}s {nc:7.2f}s {nc/oc:6.3f} {om:6.0f}Mi {nm:6.0f}Mi {nm/om:6.3f}")
PY
