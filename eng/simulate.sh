#!/usr/bin/env bash
# Runs the seeded fault simulation (FaultSimulationTests: 90 simulated days, hundreds of certificates, random faults,
# invariants after every step) for more seeds than CI's 1-2 (the README's test command runs seed 1 over 30 days), in batches, until the time given is spent.
#   eng/simulate.sh MINUTES [FIRST_SEED]     e.g. eng/simulate.sh 60 3
# Prints each batch's result; a failure names the seed and the step, and the script exits 1 at the first failing batch.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:?usage: eng/simulate.sh MINUTES [FIRST_SEED]}
seed=${2:-3}
batch=${OCSP_STAPLING_SIMULATION_BATCH:-4}
end=$(( $(date +%s) + minutes * 60 ))
dotnet build tests/Ocsp.Stapling.Tests -c Release -v q -nologo >/dev/null
ran=0
while [ "$(date +%s)" -lt "$end" ]; do
  last=$((seed + batch - 1))
  if ! OCSP_STAPLING_SIMULATION_SEEDS="$seed-$last" OCSP_STAPLING_SIMULATION_DAYS=90 dotnet test tests/Ocsp.Stapling.Tests -c Release --no-build \
      --filter "FullyQualifiedName~FaultSimulationTests" --logger "console;verbosity=normal" >"/tmp/ocsp-simulation-$seed.log" 2>&1; then
    echo "seeds $seed-$last: FAILED"; grep -E "Seed [0-9]+|Error Message" -A12 "/tmp/ocsp-simulation-$seed.log" | head -40
    exit 1
  fi
  ran=$((ran + batch))
  echo "seeds $seed-$last: passed ($ran seeds so far)"
  seed=$((last + 1))
done
echo "$ran seed(s) passed, up to seed $((seed - 1))."
