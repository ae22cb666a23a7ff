#!/usr/bin/env bash
# End-to-end LAZ throughput of `lidarmill translate`: LAZ -> LAS (decode) and LAS -> LAZ
# (encode) with 1 and 2 codec threads; wall time, points/s and peak RSS (/usr/bin/time -v),
# plus the compressed size of our re-encoding against the LASzip-written original.
#
# usage: bench/laz_bench.sh [BUILD_DIR] [REPS]
#   BUILD_DIR  holds the lidarmill binary (default build/release)
#   REPS       runs per case; the fastest is reported (default 3). Runs of 1 and 2 threads
#              are interleaved so that load from other processes hits both alike.
# env: LIDARMILL_BENCH_TILES  where the 20 M-point synthetic tiles live / are written
#                             (default /tmp/lidarmill-bench; laz_bench.cpp reads them too)
#      LIDARMILL_BENCH_POINTS points per synthetic tile (default 20000000)
#      LIDARMILL_BENCH_THREADS thread counts to compare (default "1 2")
#      LIDARMILL_BENCH_WORK    where the outputs go (default /dev/shm when present: the
#                              numbers then show the codec pipeline, not the disk)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build/release}
reps=${2:-3}
lidarmill=$build/lidarmill
tiles=${LIDARMILL_BENCH_TILES:-/tmp/lidarmill-bench}
points=${LIDARMILL_BENCH_POINTS:-20000000}
threads_list=${LIDARMILL_BENCH_THREADS:-1 2}
shared=$(cd "$repo/.." && pwd)/shared/data
work_parent=${LIDARMILL_BENCH_WORK:-$([[ -d /dev/shm && -w /dev/shm ]] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
work=$(mktemp -d "$work_parent/laz_bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

[[ -x $lidarmill ]] || { echo "no lidarmill binary in $build (build target lidarmill)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs GNU time at /usr/bin/time" >&2; exit 1; }
mkdir -p "$tiles"

# Synthetic tiles (deterministic: same seed, same bytes), LAZ and LAS.
[[ -s $tiles/s6.laz ]] || "$lidarmill" synth "$tiles/s6.laz" --points "$points" -q
[[ -s $tiles/s8.laz ]] || "$lidarmill" synth "$tiles/s8.laz" --points "$points" --nir -q

# name|laz input|LASzip-written? (compressed-size comparison only for those)
cases=()
for f in real7_2m lonestar4_2m; do
    [[ -s $shared/bench/$f.laz ]] && cases+=("$f|$shared/bench/$f.laz|yes")
done
cases+=("synth_pf6_20m|$tiles/s6.laz|no" "synth_pf8_20m|$tiles/s8.laz|no")

# The LAS header's point count (64-bit field for LAS 1.4, else the legacy one).
point_count() {
    python3 -c 'import struct, sys
h = open(sys.argv[1], "rb").read(255)
n = struct.unpack_from("<I", h, 107)[0]
if h[25] >= 4: n = struct.unpack_from("<Q", h, 247)[0] or n
print(n)' "$1"
}

# Runs one translate under /usr/bin/time; prints "wall_seconds max_rss_kb cpu_seconds".
timed_translate() {
    local in=$1 out=$2 threads=$3 log=$work/time.log
    /usr/bin/time -v "$lidarmill" translate "$in" "$out" --threads "$threads" --progress none \
        > /dev/null 2> "$log" || { cat "$log" >&2; exit 1; }
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + t[i] }
        /Maximum resident set size/ { rss = $2 }
        /User time \(seconds\)|System time \(seconds\)/ { cpu += $2 }
        END { printf "%.3f %d %.3f\n", s, rss, cpu }' "$log"
}

echo "lidarmill $lidarmill, outputs in $work_parent, best of $reps runs"
printf '%-15s %-6s %3s %9s %12s %8s %10s\n' input dir thr wall_s Mpoints/s cpu_s peak_MiB
for entry in "${cases[@]}"; do
    IFS='|' read -r name laz laszip <<< "$entry"
    [[ -s $laz ]] || { echo "$name: $laz absent, skipped"; continue; }
    las=$work/$name.las
    "$lidarmill" translate "$laz" "$las" --progress none > /dev/null
    n=$(point_count "$laz")
    for dir in decode encode; do
        declare -A best=() rss=() cpu=()
        for ((r = 0; r < reps; ++r)); do
            for t in $threads_list; do
                if [[ $dir == decode ]]; then
                    read -r s m c < <(timed_translate "$laz" "$work/out.las" "$t")
                else
                    read -r s m c < <(timed_translate "$las" "$work/out.laz" "$t")
                fi
                if [[ -z ${best[$t]:-} ]] || awk -v a="$s" -v b="${best[$t]}" 'BEGIN{exit !(a < b)}'; then
                    best[$t]=$s
                    cpu[$t]=$c
                fi
                rss[$t]=$m
            done
        done
        for t in $threads_list; do
            awk -v n="$n" -v s="${best[$t]}" -v m="${rss[$t]}" -v c="${cpu[$t]}" -v name="$name" \
                -v dir="$dir" -v t="$t" \
                'BEGIN { printf "%-15s %-6s %3d %9.3f %12.3f %8.2f %10.1f\n", name, dir, t, s, n / s / 1e6, c, m / 1024 }'
        done
        set -- $threads_list
        if (($# >= 2)); then
            awk -v a="${best[$1]}" -v b="${best[$2]}" -v name="$name" -v dir="$dir" -v t1="$1" -v t2="$2" \
                'BEGIN { printf "%-15s %-6s speedup %s->%s threads: %.2fx\n", name, dir, t1, t2, a / b }'
        fi
        unset best rss cpu
    done
    if [[ $laszip == yes ]]; then
        ours=$(stat -c %s "$work/out.laz")
        theirs=$(stat -c %s "$laz")
        awk -v o="$ours" -v l="$theirs" -v name="$name" \
            'BEGIN { printf "%-15s size: ours %d bytes, LASzip %d bytes (%+.3f%%)\n", name, o, l, (o - l) * 100 / l }'
    fi
    rm -f "$las" "$work/out.las" "$work/out.laz"
done
