#!/usr/bin/env bash
# A throwaway Redis for the tests: its own directory, 127.0.0.1 only, a free port, no persistence, stopped by its pid.
#   eng/redis.sh start DIR   starts it and prints `export OCSP_STAPLING_REDIS='<StackExchange.Redis configuration>'`
#   eng/redis.sh stop DIR    stops the server started in DIR (by the pid in DIR/redis.pid) and waits for it
# Needs the Debian redis-server package.
set -euo pipefail

command=${1:?usage: eng/redis.sh start|stop DIR}
dir=${2:?usage: eng/redis.sh start|stop DIR}

case "$command" in
  start)
    server=$(command -v redis-server) || { echo "redis.sh: redis-server not found (apt-get install redis-server)" >&2; exit 1; }
    mkdir -p "$dir"
    for attempt in 1 2 3 4 5 6 7 8; do
      port=$(( 20000 + (RANDOM % 20000) ))
      rm -f "$dir/redis.pid"
      if "$server" --bind 127.0.0.1 --port "$port" --protected-mode yes --daemonize yes \
           --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" --save '' --appendonly no >/dev/null 2>&1; then
        for _ in $(seq 1 50); do
          if [ -s "$dir/redis.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "export OCSP_STAPLING_REDIS='127.0.0.1:$port'"
            exit 0
          fi
          sleep 0.1
        done
        [ -s "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
      fi
    done
    cat "$dir/redis.log" >&2 2>/dev/null || true
    exit 1
    ;;
  stop)
    pidfile="$dir/redis.pid"
    [ -f "$pidfile" ] || exit 0
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    ;;
  *) echo "usage: eng/redis.sh start|stop DIR" >&2; exit 2 ;;
esac
