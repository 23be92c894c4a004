#!/usr/bin/env bash
# How fast 1, 2 and 3 bus workers apply the event log (docs/operations.md,
# "Workers: throughput"). For each worker count, on a fresh nats-server
# (JetStream, R1) and a fresh PostgreSQL database on loopback: publishes a
# simulated marketplace with `ghostwatch publish`, starts the workers
# (`serve --bus --store --clock events`, no e-mail), publishes an advance to
# every partition, and times until every partition has applied it. Prints
# the rate, and the CPU time per event of the workers, PostgreSQL and
# nats-server (ps's cumulative times of the running processes, whole
# seconds), and the database's size per event.
#
#   bench/cluster_throughput.sh [FREELANCERS] [DAYS] [PARTITIONS]   (default 2000 60 16)
#
# GHOSTWATCH_BIN: the binary to measure (default build/ghostwatch; keep its
# name `ghostwatch`, which the CPU count looks for); GHOSTWATCH_WORKERS: the
# worker counts to run (default "1 2 3").
set -euo pipefail
cd "$(dirname "$0")/.."
freelancers=${1:-2000}
days=${2:-60}
partitions=${3:-16}
bin=${GHOSTWATCH_BIN:-build/ghostwatch}
work=$(mktemp -d /tmp/gw-cluster-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  tests/pg_cluster.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Cumulative CPU seconds of the running processes named $1.
cpu() { ps -C "$1" -o times= | awk '{s += $1} END {print s + 0}'; }

tests/pg_cluster.sh start "$work/pg" >/dev/null
conninfo=$(cat "$work/pg/conninfo")
pg_port=$(sed -E 's/.*port=([0-9]+).*/\1/' <<<"$conninfo")
"$bin" simulate --seed 7 --freelancers "$freelancers" --clients $((freelancers * 2 / 5)) --days "$days" \
  --out "$work/events.ndjson" 2>/dev/null
lines=$(wc -l <"$work/events.ndjson")
{ cat examples/policy.toml; printf '\n[bus]\npartitions = %s\n' "$partitions"; } >"$work/policy.toml"
echo "marketplace: $lines lines, $partitions partitions; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

for workers in ${GHOSTWATCH_WORKERS:-1 2 3}; do
  db="postgresql://postgres@127.0.0.1:$pg_port/bench_$workers"
  psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE bench_$workers" postgres
  nats_port=$((14300 + workers))
  nats-server -js -sd "$work/nats-$workers" -a 127.0.0.1 -p "$nats_port" >"$work/nats-$workers.log" 2>&1 &
  pids+=($!)
  sleep 1
  bus="nats://127.0.0.1:$nats_port"
  "$bin" publish --config "$work/policy.toml" --bus "$bus" --store "$db" "$work/events.ndjson" 2>"$work/publish-$workers.log"
  start=$(date +%s.%N)
  pg0=$(cpu postgres)
  nats0=$(cpu nats-server)
  for w in $(seq 1 "$workers"); do
    "$bin" serve --config "$work/policy.toml" --store "$db" --bus "$bus" --clock events --worker-id "w$w" \
      --listen "127.0.0.1:$((18300 + 10 * workers + w))" 2>"$work/w$workers-$w.log" &
    pids+=($!)
  done
  until curl -sf -X POST -H 'Content-Type: text/plain' --data '' \
      "http://127.0.0.1:$((18300 + 10 * workers + 1))/v1/advance?to=2030-01-01T00:00:00Z" >/dev/null; do
    sleep 0.1
  done
  until [ "$(psql -tA -h 127.0.0.1 -p "$pg_port" -U postgres -d "bench_$workers" \
      -c "SELECT COUNT(*) FROM log WHERE kind = 3 AND partition >= 0")" = "$partitions" ]; do
    sleep 0.2
  done
  end=$(date +%s.%N)
  gw_cpu=$(cpu ghostwatch)
  pg_cpu=$(python3 -c "print($(cpu postgres) - $pg0)")
  nats_cpu=$(python3 -c "print($(cpu nats-server) - $nats0)")
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
  db_bytes=$(psql -tA -h 127.0.0.1 -p "$pg_port" -U postgres -c "SELECT pg_database_size('bench_$workers')" postgres)
  python3 -c "
s = $end - $start
print(f'{$workers} worker(s): {s:.1f} s, {$lines / s:,.0f} events/s (load average $(cut -d' ' -f1-3 /proc/loadavg)); '
      f'CPU per event: workers {$gw_cpu / $lines * 1e6:.0f} us, PostgreSQL {$pg_cpu / $lines * 1e6:.0f} us, '
      f'nats-server {$nats_cpu / $lines * 1e6:.0f} us; database {$db_bytes / $lines:.0f} bytes per event')"
done
