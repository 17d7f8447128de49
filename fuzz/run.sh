#!/usr/bin/env bash
# Coverage-guided fuzzing of one parser with afl-fuzz and SharpFuzz.
#   fuzz/run.sh --list                 the targets, one a line
#   fuzz/run.sh TARGET SECONDS         fuzz TARGET for SECONDS; exit 1 naming each crashing or hanging input
#   fuzz/run.sh --replay               replay the seed corpus, fuzz/regressions and any earlier findings in-process (no afl)
# Needs afl++ (apt-get install afl++) and the sharpfuzz tool (dotnet tool install SharpFuzz.CommandLine; installed into
# fuzz/.work/tools when missing). Work files (the instrumented build, the corpus, findings) go to fuzz/.work, or to
# $OCSP_FUZZ_WORK. A crash is any exception other than the target's documented one, or more than 64 MB allocated for one
# input; a hang is an input that runs past the timeout (-t, $OCSP_FUZZ_TIMEOUT_MS, default 2000 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${OCSP_FUZZ_WORK:-fuzz/.work}
timeout_ms=${OCSP_FUZZ_TIMEOUT_MS:-2000}
bin="$work/bin"
corpus="$work/corpus"
harness=(dotnet "$bin/Ocsp.Stapling.Fuzz.dll")                          # instrumented: runs only under afl-fuzz
plain=(dotnet artifacts/bin/Ocsp.Stapling.Fuzz/release/Ocsp.Stapling.Fuzz.dll) # the same code uninstrumented: seeds, list, replay

build_plain() {
  dotnet build fuzz/Ocsp.Stapling.Fuzz -c Release -v q -nologo >/dev/null
  [ -d "$corpus/pki" ] || "${plain[@]}" --seed "$corpus"
}

build() {
  # Two runs started at once would instrument the same copy twice: one builds, the other waits.
  mkdir -p "$work"
  exec 9>"$work/.build.lock"
  flock 9
  build_plain
  # A build of its own, instrumented in place: never the artifacts the tests run. Rebuilt when a source changed since.
  if [ -f "$bin/.instrumented" ] && [ -n "$(find src fuzz/Ocsp.Stapling.Fuzz -newer "$bin/.instrumented" \( -name '*.cs' -o -name '*.csproj' \) -print -quit)" ]; then
    rm -f "$bin/.instrumented"
  fi
  if [ ! -f "$bin/.instrumented" ]; then
    rm -rf "$bin"
    dotnet publish fuzz/Ocsp.Stapling.Fuzz -c Release -o "$bin" -v q -nologo >/dev/null
    local sharpfuzz
    sharpfuzz=$(command -v sharpfuzz || true)
    if [ -z "$sharpfuzz" ]; then
      [ -x "$work/tools/sharpfuzz" ] || dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$work/tools" >/dev/null
      sharpfuzz="$work/tools/sharpfuzz"
    fi
    # Our parsers, the ASN.1 library under them, and the tool's configuration reader.
    for dll in Ocsp.Stapling.dll BouncyCastle.Cryptography.dll ocsp-stapling.dll; do
      "$sharpfuzz" "$bin/$dll" >/dev/null
    done
    touch "$bin/.instrumented"
  fi
  flock -u 9
}

case "${1:-}" in
  --list)
    build_plain
    "${plain[@]}" --list
    exit 0
    ;;
  --replay)
    build_plain
    status=0
    for target in $("${plain[@]}" --list); do
      inputs=("$corpus/$target")
      [ -d "fuzz/regressions/$target" ] && inputs+=("fuzz/regressions/$target")
      for found in "$work/findings/$target"/default/queue "$work/findings/$target"/default/crashes "$work/findings/$target"/default/hangs; do
        [ -d "$found" ] && [ -n "$(ls -A "$found" 2>/dev/null)" ] && inputs+=("$found")
      done
      "${plain[@]}" --replay "$target" "$corpus/pki" "${inputs[@]}" || status=1
    done
    exit $status
    ;;
  ""|-h|--help)
    sed -n '2,9p' "$0"; exit 64
    ;;
esac

target=$1
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS}
command -v afl-fuzz >/dev/null || { echo "afl-fuzz is missing (apt-get install afl++)" >&2; exit 2; }
build
"${plain[@]}" --list | grep -qx "$target" || { echo "no target '$target'; fuzz/run.sh --list" >&2; exit 64; }

findings="$work/findings/$target"
mkdir -p "$findings"
# Resume from the queue of an earlier run of this target when there is one (afl-fuzz -i -).
input="$corpus/$target"
[ -d "$findings/default/queue" ] && input=-
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_AUTORESUME=1
afl-fuzz -i "$input" -o "$findings" -t "$timeout_ms" -m none -V "$seconds" -- "${harness[@]}" "$target" "$corpus/pki" >"$findings/afl.log" 2>&1 || {
  echo "afl-fuzz failed for $target:"; tail -30 "$findings/afl.log"; exit 2; }

stats="$findings/default/fuzzer_stats"
execs=$(awk -F' *: *' '$1 == "execs_done" {print $2}' "$stats" 2>/dev/null || echo "?")
paths=$(awk -F' *: *' '$1 == "corpus_count" {print $2}' "$stats" 2>/dev/null || echo "?")
crashes=$(find "$findings/default/crashes" -type f -name 'id:*' 2>/dev/null | sort)
hangs=$(find "$findings/default/hangs" -type f -name 'id:*' 2>/dev/null | sort)
echo "$target: ${seconds} s, $execs executions, $paths inputs in the corpus, $(echo -n "$crashes" | grep -c . || true) crash(es), $(echo -n "$hangs" | grep -c . || true) hang(s)"
if [ -n "$crashes$hangs" ]; then
  echo "$crashes" | grep . | head -10 | sed 's/^/CRASH /' || true
  echo "$hangs" | grep . | head -10 | sed 's/^/HANG /' || true
  echo "(at most 10 of each shown; replay them all: fuzz/run.sh --replay)"
  exit 1
fi
