#!/usr/bin/env bash
# The caching proxy against nginx proxy_cache on the same work, in one run: both in front of the same OCSP responder,
# both asked the same cached RFC 5019 GET by the same client (wrk), caches warmed first, 0 upstream requests under load.
#   benchmarks/proxy-vs-nginx.sh [SECONDS] [CONNECTIONS]      (defaults: 10 s rounds, 64 connections, wrk -t2)
# Rounds: `ocsp-stapling serve --ca` right after its start (its first SECONDS), then warm; nginx 1.22 with 1 and with 2
# workers. Prints requests/s and p99 per round and the ratio serve / nginx. Needs nginx and wrk (apt-get install nginx wrk).
# Everything listens on 127.0.0.1; nginx runs with its own config and pidfile and is stopped by that pid.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
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

wrk_round() { # NAME URL [HOST]: one wrk round; prints "NAME requests/s p99"
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
  printf '%-40s %12s req/s   p99 %8s%s\n' "$name" "$rps" "$p99" "${errors:+   non-2xx: $errors}"
  echo "$rps" >"$work/rps-$(echo "$name" | tr -c 'a-z0-9' '_')"
}

# serve: started, one request to fill its cache, then the first round at once (its first seconds), then a warm round.
serve_port=$(free_port)
dotnet "$tool" serve --urls "http://127.0.0.1:$serve_port" --cache "$work/serve-cache" --ca "$work/pki/issuer.pem" \
  --allow-responder "$responder" >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do grep -q "OCSP proxy listening" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
curl -sf -o /dev/null -H "Host: $responder_host" "http://127.0.0.1:$serve_port$get_path" || { echo "serve did not answer:"; cat "$work/serve.log"; exit 1; }

# nginx proxy_cache in front of the same responder, same GET path, its cache warmed the same way.
nginx_round() { # WORKERS
  local workers=$1 port
  port=$(free_port)
  mkdir -p "$work/nginx-$workers/cache" "$work/nginx-$workers/temp"
  chmod 777 "$work/nginx-$workers/cache" "$work/nginx-$workers/temp"
  cat >"$work/nginx-$workers/nginx.conf" <<EOF
worker_processes $workers;
pid $work/nginx.pid;
error_log $work/nginx-$workers/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  proxy_cache_path $work/nginx-$workers/cache keys_zone=ocsp:10m;
  proxy_temp_path $work/nginx-$workers/temp;
  client_body_temp_path $work/nginx-$workers/temp;
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://$responder_host;   # no URI part: the request target goes upstream unchanged (%2F kept)
      proxy_cache ocsp;
      proxy_cache_key \$request_uri;
      proxy_cache_valid 200 1h;
      proxy_ignore_headers Cache-Control Expires;
    }
  }
}
EOF
  nginx -c "$work/nginx-$workers/nginx.conf" -p "$work/nginx-$workers"
  for _ in $(seq 1 100); do [ -s "$work/nginx.pid" ] && break; sleep 0.1; done
  curl -sf -o /dev/null "http://127.0.0.1:$port$responder_path$get_path" || { echo "nginx did not answer:"; cat "$work/nginx-$workers/error.log"; exit 1; }
  curl -sf -o /dev/null "http://127.0.0.1:$port$responder_path$get_path" || { echo "nginx did not answer:"; cat "$work/nginx-$workers/error.log"; exit 1; }
  wrk_round "nginx 1.22 proxy_cache, $workers worker(s)" "http://127.0.0.1:$port$responder_path$get_path"
  kill "$(cat "$work/nginx.pid")"
  for _ in $(seq 1 100); do [ -f "$work/nginx.pid" ] || break; sleep 0.1; done
  rm -f "$work/nginx.pid"
}

echo "Cached GET for one certificate, wrk -t2 -c$connections, ${seconds} s rounds, $(nproc) cores:"
wrk_round "serve --ca, first ${seconds} s after start" "http://127.0.0.1:$serve_port$get_path" "$responder_host"
wrk_round "serve --ca, warm" "http://127.0.0.1:$serve_port$get_path" "$responder_host"
wrk_round "serve --ca, warm (again)" "http://127.0.0.1:$serve_port$get_path" "$responder_host"
nginx_round 1
nginx_round 2

read_rps() { cat "$work/rps-$(echo "$1" | tr -c 'a-z0-9' '_')"; }
first=$(read_rps "serve --ca, first ${seconds} s after start")
warm=$(read_rps "serve --ca, warm (again)")
n1=$(read_rps "nginx 1.22 proxy_cache, 1 worker(s)")
n2=$(read_rps "nginx 1.22 proxy_cache, 2 worker(s)")
python3 - "$first" "$warm" "$n1" "$n2" <<'EOF'
import sys
first, warm, n1, n2 = map(float, sys.argv[1:])
print(f"serve warm / nginx 1 worker: {warm / n1:.2f}; serve warm / nginx 2 workers: {warm / n2:.2f}; serve first seconds / serve warm: {first / warm:.2f}")
EOF
upstream=$(kill -TERM "${pids[0]}" 2>/dev/null; sleep 1; grep -o 'answered [0-9]* request' "$work/responder.log" || true)
echo "Responder: ${upstream:-(count not printed)} in all (the warm-up requests only)."
