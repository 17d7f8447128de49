#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: its own data directory, 127.0.0.1 only, a free port, stopped by its pid.
#   eng/postgres.sh start DIR   starts it and prints `export OCSP_STAPLING_POSTGRES='<connection string>'`
#   eng/postgres.sh stop DIR    stops the server started in DIR (by the pid in its postmaster.pid) and waits for it
# Needs the Debian postgresql package (initdb and pg_ctl under /usr/lib/postgresql/<major>/bin). As root, the server
# runs as the postgres user (initdb refuses root).
set -euo pipefail

command=${1:?usage: eng/postgres.sh start|stop DIR}
dir=${2:?usage: eng/postgres.sh start|stop DIR}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
  start)
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -x "$bin/initdb" ] || { echo "postgres.sh: PostgreSQL binaries not found under /usr/lib/postgresql/*/bin" >&2; exit 1; }
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    for attempt in 1 2 3 4 5 6 7 8; do
      port=$(( 20000 + (RANDOM % 20000) ))
      # -k: the Unix socket goes to the data directory's parent, not /var/run/postgresql; -h: loopback only; -F: no fsync.
      if as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
           -o "-k $dir -h 127.0.0.1 -p $port -F" start >/dev/null 2>&1; then
        echo "export OCSP_STAPLING_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres'"
        exit 0
      fi
    done
    cat "$dir/server.log" >&2
    exit 1
    ;;
  stop)
    pidfile="$dir/data/postmaster.pid"
    [ -f "$pidfile" ] || exit 0
    pid=$(head -n 1 "$pidfile")
    kill -INT "$pid" 2>/dev/null || exit 0   # fast shutdown
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    ;;
  *) echo "usage: eng/postgres.sh start|stop DIR" >&2; exit 2 ;;
esac
