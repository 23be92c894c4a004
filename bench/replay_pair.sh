#!/usr/bin/env bash
# Compares two builds' replay CPU time on a machine whose speed drifts (a
# VM whose neighbours come and go: the same run may take 3.3 s one minute
# and 5 s the next). Both binaries replay the same file at the same time,
# one pinned to each of the first two CPUs, swapping CPUs every round, so
# both see the same drift; prints each one's CPU time (user + sys) and the
# ratio B / A per round, then the median and the geometric mean of the
# ratios (an even number of rounds cancels one CPU being slower than the
# other). Nothing else should run meanwhile. Outputs go to a temporary
# directory on /dev/shm and are removed.
#
#   bench/replay_pair.sh A_BINARY B_BINARY [EVENTS_FILE] [ROUNDS] [CONFIG] [REPLAY_ARG...]
#
# EVENTS_FILE defaults to the one bench/replay_throughput generates
# (/tmp/ghostwatch-bench-10000000.ndjson), ROUNDS to 6, CONFIG to
# examples/policy.toml; REPLAY_ARGs go to both replays (e.g. --model M).
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1
b=$2
events=${3:-/tmp/ghostwatch-bench-10000000.ndjson}
rounds=${4:-6}
config=${5:-examples/policy.toml}
replay_args=("${@:6}")
out=$(mktemp -d /dev/shm/gw-replay-pair.XXXXXX)
trap 'rm -rf "$out"' EXIT

# run BINARY CPU: writes the CPU seconds of one replay to $out/cpu.CPU.
run() {
  /usr/bin/time -f "%U %S" -o "$out/time.$2" taskset -c "$2" "$1" replay --config "$config" --events "$events" \
    --actions "$out/actions.$2" --episodes "$out/episodes.$2" --rejects "$out/rejects.$2" \
    "${replay_args[@]}" 2>/dev/null
  awk '{print $1 + $2}' "$out/time.$2" >"$out/cpu.$2"
}

ratios=()
for ((i = 1; i <= rounds; i++)); do
  cpu_a=$(((i + 1) % 2))
  cpu_b=$((i % 2))
  run "$a" "$cpu_a" &
  run "$b" "$cpu_b" &
  wait
  ta=$(cat "$out/cpu.$cpu_a")
  tb=$(cat "$out/cpu.$cpu_b")
  ratio=$(awk -v a="$ta" -v b="$tb" 'BEGIN {printf "%.3f", b / a}')
  ratios+=("$ratio")
  echo "round $i: A $ta s (CPU $cpu_a), B $tb s (CPU $cpu_b), B / A $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{r[NR] = $1; l += log($1)}
  END {printf "B / A: median %.3f, geometric mean %.3f over %d rounds\n", r[int((NR + 1) / 2)], exp(l / NR), NR}'
