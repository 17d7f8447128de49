#!/usr/bin/env bash
# The caching proxy against its floor and nginx proxy_cache on the same work, in one run: all in front of the same OCSP
# responder, all asked the same cached RFC 5019 GET by the same client (wrk), caches warmed first, 0 upstream requests
# under load.
#   benchmarks/proxy-vs-nginx.sh [SECONDS] [CONNECTIONS] [ROUNDS]   (defaults: 10 s runs, 64 connections, wrk -t2, 3 rounds)
# - serve: `ocsp-stapling serve --ca`, once right after its start (its first SECONDS), then warm in each round;
# - the floor: a bare Kestrel app answering every request with the bytes and headers serve sent (the benchmark
#   program's --floor mode: no routing, no middleware, no lookup), started with serve's runtime settings (server GC, no
#   quick JIT): what serve could reach at most on the same server;
# - nginx 1.22 proxy_cache with `worker_processes auto`.
# The three alternate within each round so that the machine's drift hits all alike. Prints requests/s and p99 per run,
# serve / floor and serve / nginx per round and their range. Needs nginx and wrk (apt-get install nginx wrk).
# Everything listens on 127.0.0.1; nginx runs with its own config and pidfile and is stopped by that pid.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
rounds=${3:-3}
for tool in nginx wrk curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install nginx wrk curl)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/ocsp-proxy-bench.XXXXXX)
chmod 755 "$work" # nginx's workers run as another user when started as root
pids=()
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

echo "Building (Release)..."
dotnet build -c Release -v q -nologo benchmarks/Ocsp.Stapling.Benchmarks >/dev/null
dotnet build -c Release -v q -nologo src/Ocsp.Stapling.Tool >/dev/null
tool=artifacts/bin/Ocsp.Stapling.Tool/release/ocsp-stapling.dll
bench=artifacts/bin/Ocsp.Stapling.Benchmarks/release/Ocsp.Stapling.Benchmarks.dll

# The upstream: a test PKI's responder on 127.0.0.1 (the benchmark program's --responder mode).
dotnet "$bench" --responder "$work/pki" >"$work/responder.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do [ -f "$work/pki/ready" ] && break; sleep 0.1; done
[ -f "$work/pki/ready" ] || { echo "the responder did not start:"; cat "$work/responder.log"; exit 1; }
responder=$(cat "$work/pki/responder.url")          # http://127.0.0.1:PORT/ocsp
responder_host=$(echo "$responder" | sed -E 's#^http://([^/]+)/.*#\1#')
responder_path=$(echo "$responder" | sed -E 's#^http://[^/]+(/.*)$#\1#' | sed 's#/$##')   # /ocsp
get_path=$(cat "$work/pki/get-path")

wrk_round() { # NAME URL [HOST]: one wrk run; prints "NAME requests/s p99" and keeps the requests/s
  local name=$1 url=$2 host=${3:-}
  local out
  if [ -n "$host" ]; then
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Host: $host" "$url")
  else
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$url")
  fi
  local rps p99 errors
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx or 3xx responses/ {print $5}')
  printf '%-46s %12s req/s   p99 %8s%s\n' "$name" "$rps" "$p99" "${errors:+   non-2xx: $errors}"
  echo "$rps" >"$work/rps-$(echo "$name" | tr -c 'a-z0-9' '_')"
}
read_rps() { cat "$work/rps-$(echo "$1" | tr -c 'a-z0-9' '_')"; }

# serve: started, one request to fill its cache, then the first run at once (its first seconds).
serve_port=$(free_port)
dotnet "$tool" serve --urls "http://127.0.0.1:$serve_port" --cache "$work/serve-cache" --ca "$work/pki/issuer.pem" \
  --allow-responder "$responder" >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do grep -q "OCSP proxy listening" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
curl -sf -D "$work/serve.headers" -o "$work/serve.body" -H "Host: $responder_host" "http://127.0.0.1:$serve_port$get_path" \
  || { echo "serve did not answer:"; cat "$work/serve.log"; exit 1; }
echo "Cached GET for one certificate, wrk -t2 -c$connections, ${seconds} s runs, $(nproc) cores, $rounds rounds:"
wrk_round "serve --ca, first ${seconds} s after start" "http://127.0.0.1:$serve_port$get_path" "$responder_host"

# The floor: serve's answer (body and headers as curl saw them) from bare Kestrel, with serve's runtime settings.
floor_port=$(free_port)
DOTNET_gcServer=1 DOTNET_TC_QuickJit=0 dotnet "$bench" --floor "$floor_port" "$work/serve.body" "$work/serve.headers" >"$work/floor.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$floor_port$get_path" && break; sleep 0.1; done
cmp -s <(curl -sf "http://127.0.0.1:$floor_port$get_path") "$work/serve.body" \
  || { echo "the floor does not answer serve's bytes:"; cat "$work/floor.log"; exit 1; }

# nginx proxy_cache in front of the same responder, same GET path, its cache warmed the same way.
nginx_port=$(free_port)
mkdir -p "$work/nginx/cache" "$work/nginx/temp"
chmod 777 "$work/nginx/cache" "$work/nginx/temp"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  proxy_cache_path $work/nginx/cache keys_zone=ocsp:10m;
  proxy_temp_path $work/nginx/temp;
  client_body_temp_path $work/nginx/temp;
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://$responder_host;   # no URI part: the request target goes upstream unchanged (%2F kept)
      proxy_cache ocsp;
      proxy_cache_key \$request_uri;
      proxy_cache_valid 200 1h;
      proxy_ignore_headers Cache-Control Expires;
    }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
for _ in $(seq 1 100); do [ -s "$work/nginx.pid" ] && break; sleep 0.1; done
for _ in 1 2; do
  curl -sf -o /dev/null "http://127.0.0.1:$nginx_port$responder_path$get_path" \
    || { echo "nginx did not answer:"; cat "$work/nginx/error.log"; exit 1; }
done

results=()
for round in $(seq 1 "$rounds"); do
  wrk_round "round $round: serve --ca, warm" "http://127.0.0.1:$serve_port$get_path" "$responder_host"
  wrk_round "round $round: floor (bare Kestrel)" "http://127.0.0.1:$floor_port$get_path"
  wrk_round "round $round: nginx 1.22 proxy_cache, auto workers" "http://127.0.0.1:$nginx_port$responder_path$get_path"
  results+=("$(read_rps "round $round: serve --ca, warm") $(read_rps "round $round: floor (bare Kestrel)") $(read_rps "round $round: nginx 1.22 proxy_cache, auto workers")")
done
python3 - "$(read_rps "serve --ca, first ${seconds} s after start")" "${results[@]}" <<'PY'
import sys
first = float(sys.argv[1])
rounds = [tuple(map(float, r.split())) for r in sys.argv[2:]]
for i, (s, f, n) in enumerate(rounds, 1):
    print(f"round {i}: serve / floor {s / f:.2f}, serve / nginx {s / n:.2f}, floor / nginx {f / n:.2f}")
floor = [s / f for s, f, _ in rounds]
nginx = [s / n for s, _, n in rounds]
print(f"serve / floor {min(floor):.2f}-{max(floor):.2f}; serve / nginx {min(nginx):.2f}-{max(nginx):.2f}; "
      f"serve's first seconds / serve warm (round 1) {first / rounds[0][0]:.2f}")
PY
kill "$(cat "$work/nginx.pid")"
for _ in $(seq 1 100); do [ -f "$work/nginx.pid" ] || break; sleep 0.1; done
rm -f "$work/nginx.pid"
upstream=$(kill -TERM "${pids[0]}" 2>/dev/null; sleep 1; grep -o 'answered [0-9]* request' "$work/responder.log" || true)
echo "Responder: ${upstream:-(count not printed)} in all (the warm-up requests only)."
