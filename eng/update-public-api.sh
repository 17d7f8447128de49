#!/usr/bin/env bash
# Adds the public symbols the PublicApiAnalyzers report (RS0016) to PublicAPI.Unshipped.txt and drops the ones it no
# longer finds (RS0017) from both files, for one packable project: eng/update-public-api.sh src/Ocsp.Stapling.AspNetCore
# (a removal from PublicAPI.Shipped.txt is a breaking change: after 1.0.0, package validation refuses it).
set -euo pipefail
project=${1:?usage: eng/update-public-api.sh <project directory>}
file="$project/PublicAPI.Unshipped.txt"
log=$(dotnet build "$project" --no-incremental 2>&1 || true)
add=$(grep -oP "RS0016: Symbol '\K[^']+(?=' is not part)" <<<"$log" | sort -u || true)
remove=$(grep -oP "RS0017: Symbol '\K[^']+(?=' is part)" <<<"$log" | sort -u || true)
python3 - "$file" "$add" "$remove" <<'PY'
import sys
path, add, remove = sys.argv[1], set(filter(None, sys.argv[2].split('\n'))), set(filter(None, sys.argv[3].split('\n')))
shipped = path.replace('Unshipped', 'Shipped')
kept = [l for l in open(shipped).read().split('\n') if l and l not in remove]
open(shipped, 'w').write('\n'.join(kept) + '\n')
lines = [l for l in open(path).read().split('\n') if l and l not in remove]
head = [l for l in lines if l.startswith('#')]
body = sorted(set(l for l in lines if not l.startswith('#')) | add)
open(path, 'w').write('\n'.join(head + body) + '\n')
print(f"{path}: +{len(add)} -{len(remove)}")
PY
