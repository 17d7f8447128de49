#!/usr/bin/env bash
# `ocsp-stapling serve` as Native AOT against the JIT build: the time from starting the process to its first answer
# (a cold store: the start-up fetch from the responder included) and its resident memory after 200 answers, the two
# alternated over ROUNDS rounds. The responder is the Kestrel sample's demo one (started here, stopped at the end).
#   benchmarks/aot-serve.sh [ROUNDS]        (default 3; publishing takes about two minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
work=$(mktemp -d /tmp/ocsp-stapling-aot-serve.XXXXXX)
demo="$work/demo"
sample_pid=""
trap '[ -n "$sample_pid" ] && kill -- -"$sample_pid" 2>/dev/null; rm -rf "$work"' EXIT

echo "Publishing the tool with PublishAot=true, and building it for the JIT…"
dotnet publish src/Ocsp.Stapling.Tool -c Release -r linux-x64 -p:PublishAot=true -o "$work/aot" >"$work/publish.log" 2>&1 \
  || { tail -20 "$work/publish.log"; exit 1; }
dotnet build src/Ocsp.Stapling.Tool -c Release -o "$work/jit" >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 1; }
dotnet build samples/Ocsp.Stapling.Samples.Kestrel -c Release >/dev/null 2>&1
setsid dotnet artifacts/bin/Ocsp.Stapling.Samples.Kestrel/release/Ocsp.Stapling.Samples.Kestrel.dll --port 0 --dir "$demo" >"$work/sample.log" 2>&1 &
sample_pid=$!
until grep -q '^  openssl s_client' "$work/sample.log"; do kill -0 "$sample_pid" || { cat "$work/sample.log"; exit 1; }; sleep 0.5; done
openssl ocsp -issuer "$demo/chain.pem" -cert "$demo/localhost.pem" -no_nonce -reqout "$work/request.der" >/dev/null 2>&1

post() { curl -s -o /dev/null -w '%{http_code}' --data-binary @"$work/request.der" -H 'Content-Type: application/ocsp-request' "http://127.0.0.1:$1/" 2>/dev/null || true; }
measure() { # label, program
  local port cache start end pid rss
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cache=$(mktemp -d "$work/cache.XXXXXX")
  start=$(date +%s%N)
  setsid "$2" serve --urls "http://127.0.0.1:$port" --cache "$cache" --cert "$demo/localhost.pem" --issuer "$demo/chain.pem" >"$work/$1.log" 2>&1 &
  pid=$!
  until [ "$(post "$port")" = 200 ]; do kill -0 "$pid" || { cat "$work/$1.log"; exit 1; }; sleep 0.005; done
  end=$(date +%s%N)
  for _ in $(seq 1 200); do post "$port" >/dev/null; done
  rss=$(ps -o rss= -p "$pid")
  printf '%-4s first answer after %5d ms, resident memory after 200 answers %4d MB\n' "$1" $(( (end - start) / 1000000 )) $(( rss / 1024 ))
  kill -- -"$pid"; wait "$pid" 2>/dev/null || true
}
for round in $(seq 1 "$rounds"); do
  echo "Round $round:"
  measure aot "$work/aot/ocsp-stapling"
  measure jit "$work/jit/ocsp-stapling"
done
