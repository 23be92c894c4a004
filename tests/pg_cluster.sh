#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests, on loopback, in a temp
# directory:  pg_cluster.sh start STATE_DIR  |  pg_cluster.sh stop STATE_DIR
# `start` writes STATE_DIR/conninfo (a libpq connection string, database
# "postgres") and STATE_DIR/datadir. Without PostgreSQL 15 installed it
# writes nothing and succeeds: the tests that need the server skip, naming
# the package. The server refuses to run as root, so as root it runs as the
# postgres user. fsync is off: nothing here must survive a power cut.
set -euo pipefail
cmd=$1 state=$2
PGBIN=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    mkdir -p "$state"
    rm -f "$state/conninfo" "$state/datadir"
    if [ ! -x "$PGBIN/initdb" ]; then echo "pg_cluster: no $PGBIN/initdb (apt-get install postgresql-15)"; exit 0; fi
    dir=$(mktemp -d /tmp/ghostwatch-pg.XXXXXX)
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
    port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$state/initdb.log"
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
    echo "$dir" >"$state/datadir"
    echo "host=127.0.0.1 port=$port user=postgres dbname=postgres" >"$state/conninfo"
    ;;
  stop)
    if [ -f "$state/datadir" ]; then
      dir=$(cat "$state/datadir")
      as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
      rm -rf "$dir" "$state/datadir" "$state/conninfo"
    fi
    ;;
  *) echo "usage: pg_cluster.sh start|stop STATE_DIR" >&2; exit 2 ;;
esac
