#!/usr/bin/env bash
# Runs the killed-fleet soak (FleetKillTests: three `serve --ca` on one Redis, one on PostgreSQL, asked continuously while
# processes are SIGKILLed and restarted, Redis restarted empty, the responder cut off) for longer than CI's 45 s (the README's test command runs 20 s).
#   eng/fleet-kill.sh SECONDS [SEED]     e.g. eng/fleet-kill.sh 600 7
# Starts a throwaway PostgreSQL (eng/postgres.sh) unless OCSP_STAPLING_POSTGRES is set; the test starts its own Redis.
# Prints the counts (requests, answers by kind, kills, restarts, recoveries); exits 1 if any answer was wrong or a process
# did not recover within the bound.
set -euo pipefail
cd "$(dirname "$0")/.."
export OCSP_STAPLING_FLEET_SECONDS=${1:?usage: eng/fleet-kill.sh SECONDS [SEED]}
[ -n "${2:-}" ] && export OCSP_STAPLING_FLEET_SEED=$2
if [ -z "${OCSP_STAPLING_POSTGRES:-}" ]; then
  pg_dir=$(mktemp -d /tmp/ocsp-fleet-pg.XXXXXX)
  trap 'eng/postgres.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
  eval "$(eng/postgres.sh start "$pg_dir")"
fi
dotnet build tests/Ocsp.Stapling.Tool.Tests -c Release -v q -nologo >/dev/null
log=$(mktemp /tmp/ocsp-fleet.XXXXXX.log)
status=0
dotnet test tests/Ocsp.Stapling.Tool.Tests -c Release --no-build --filter "FullyQualifiedName~FleetKillTests" \
  --logger "console;verbosity=detailed" >"$log" 2>&1 || status=1
sed -n '/fleet run:/,/^$/p' "$log"
grep -E "^\s+(Passed|Failed|Skipped) " "$log" || true
[ $status = 0 ] || { grep -A20 "Error Message" "$log" | head -40; echo "(full log: $log)"; }
exit $status
