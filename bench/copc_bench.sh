#!/bin/sh
# End-to-end benchmark of `lidarmill copc`: points/s, peak RSS, peak temporary disk and file
# count, for 20 M and 50 M synthetic tiles and ../shared/data/bench/*.laz.
# Usage: bench/copc_bench.sh [LIDARMILL_BINARY] [WORK_DIR] [SIZES]   (SIZES default "20000000 50000000")
# Env: BUDGET (default 512M), THREADS (default 0 = all cores). Prints a Markdown table.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/release/lidarmill}
work=${2:-$root/build/copc-bench}
sizes=${3:-"20000000 50000000"}
budget=${BUDGET:-512M}
threads=${THREADS:-0}
shared=$root/../shared/data
mkdir -p "$work"

# Samples the run folder's disk use and file count every 0.2 s while $1 (a pid) lives.
watch_temp() {
    peak_bytes=0
    peak_files=0
    while kill -0 "$1" 2>/dev/null; do
        bytes=$(du -s -B1 "$work/tmp" 2>/dev/null | cut -f1)
        files=$(find "$work/tmp" -type f 2>/dev/null | wc -l)
        [ "${bytes:-0}" -gt "$peak_bytes" ] && peak_bytes=$bytes
        [ "$files" -gt "$peak_files" ] && peak_files=$files
        sleep 0.2
    done
    echo "$peak_bytes $peak_files" >"$work/temp_peak"
}

run_one() {
    label=$1
    input=$2
    points=$3
    rm -rf "$work/tmp" "$work/out.copc.laz"
    mkdir -p "$work/tmp"
    /usr/bin/time -v "$bin" copc "$input" -o "$work/out.copc.laz" --temp-dir "$work/tmp" \
        --memory-budget "$budget" --threads "$threads" --progress none 2>"$work/time.log" &
    pid=$!
    watch_temp "$pid" &
    watcher=$!
    wait "$pid"
    wait "$watcher"
    wall=$(grep "Elapsed (wall clock)" "$work/time.log" | awk '{print $NF}')
    rss_kb=$(grep "Maximum resident set size" "$work/time.log" | awk '{print $NF}')
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$work/time.log")
    seconds=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
    read -r peak_bytes peak_files <"$work/temp_peak"
    input_mb=$(du -m "$input" | cut -f1)
    out_mb=$(du -m "$work/out.copc.laz" | cut -f1)
    awk -v l="$label" -v p="$points" -v s="$seconds" -v r="$rss_kb" -v b="$peak_bytes" -v f="$peak_files" \
        -v i="$input_mb" -v o="$out_mb" -v c="$cpu" -v n="$(nproc)" 'BEGIN {
        printf "| %s | %d | %.1f | %.2f | %.1f | %.2f | %.0f | %.0f | %d | %d | %d |\n",
               l, p, s, p / s / 1e6, c, p / (c / n) / 1e6, r / 1024, b / 1048576, f, i, o }'
}

echo "lidarmill copc benchmark: budget $budget, threads $threads, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
# "CPU-bound M points/s" = points / (CPU seconds / cores): the rate when nothing else runs.
echo "| input | points | wall s | M points/s | CPU s | CPU-bound M points/s | peak RSS MiB | peak temp MiB | temp files | input MiB | output MiB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for n in $sizes; do
    tile=$work/synth_$n.laz
    [ -f "$tile" ] || "$bin" synth "$tile" --points "$n" --progress none
    run_one "synth $n" "$tile" "$n"
done
for f in "$shared"/bench/*.laz; do
    [ -f "$f" ] || continue
    n=$("$bin" info --json "$f" | sed -n 's/.*"point_count": *\([0-9]*\).*/\1/p' | head -1)
    run_one "bench/$(basename "$f")" "$f" "${n:-0}"
done
rm -rf "$work/tmp" "$work/out.copc.laz" "$work/time.log" "$work/temp_peak"
