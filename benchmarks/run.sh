#!/usr/bin/env bash
# Runs the BenchmarkDotNet suite. Reports (GitHub markdown, CSV, HTML) go to artifacts/benchmarks/results.
#   benchmarks/run.sh                         full run of every benchmark (about 25 minutes on 2 cores)
#   benchmarks/run.sh --quick                 CI mode: BenchmarkDotNet's short job (3 warm-ups, 3 iterations)
#   benchmarks/run.sh --filter '*HotLookup*'  any BenchmarkDotNet option; without --filter every benchmark runs
# Exits non-zero when a benchmark marked [MustNotAllocate] (the hot lookup) allocates.
set -euo pipefail
cd "$(dirname "$0")/.."
options=(--inProcess --artifacts artifacts/benchmarks)
if [ "${1:-}" = "--quick" ]; then
  shift
  options+=(--job short)
  export OCSP_STAPLING_BENCHMARKS_QUICK=1 # the scale benchmarks stop at 10,000 certificates
fi
case " $* " in
  *" --filter "*) ;;
  *) options+=(--filter '*') ;;
esac
exec dotnet run -c Release --project benchmarks/Ocsp.Stapling.Benchmarks -- "${options[@]}" "$@"
