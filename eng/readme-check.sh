#!/usr/bin/env bash
# The README as a new user meets it, from a copy of this checkout and a home of its own (an empty package cache, no
# user NuGet.Config, no tools installed):
#   1. the install block (the ```bash block after <!-- install-from-checkout -->) run as written; it must read the same
#      in docs/getting-started.md;
#   2. the tool it installed answers --help;
#   3. every ```csharp block of the README and docs/ built as pasted in the app the block made: a block that calls
#      WebApplication.Create… is a whole Program.cs; any other is a fragment put into the README's first program (its
#      `using` lines at the top, the rest before `var app = builder.Build();`);
#   4. each package README's first example (eng/readme-examples.sh) against the packages the block packed;
#   5. given a demo directory (the Kestrel sample's demo PKI: a root, an issuing intermediate, its responder running),
#      the README's client-certificate program run as pasted but for its paths and port: its handshake carries a good
#      staple, a good client certificate gets 200 and a revoked one 403.
#   eng/readme-check.sh [demo directory]
# Prints one line per check and exits non-zero if any fails. Logs in artifacts/readme-check/.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
demo=${1:-}
work=$(mktemp -d /tmp/ocsp-stapling-readme-check.XXXXXX)
logs="$here/artifacts/readme-check"
rm -rf "$logs"; mkdir -p "$logs"
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && { kill -- -"$app_pid" 2>/dev/null; wait "$app_pid" 2>/dev/null; }
  rm -rf "$work"
}
trap cleanup EXIT
failed=0
fail() { echo "FAILED: $1"; failed=1; }

# The block after the marker in file $1, as written.
install_block() { awk '/^<!-- install-from-checkout -->$/ { marked = 1; next } marked && /^```bash$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' "$1"; }
install_block "$here/README.md" >"$work/install.sh"
if [ ! -s "$work/install.sh" ]; then
  fail "README.md has no install block after <!-- install-from-checkout -->"; exit 1
fi
diff <(install_block "$here/docs/getting-started.md") "$work/install.sh" >"$logs/install-block.diff" \
  || fail "the install blocks of README.md and docs/getting-started.md differ ($logs/install-block.diff)"

# A copy of the working tree (tracked files and new ones not ignored), as a clone would have it; a home of its own.
mkdir -p "$work/checkout" "$work/home"
(cd "$here" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' | tar -c --null -T - ) | tar -x -C "$work/checkout"
export HOME="$work/home"
unset NUGET_PACKAGES DOTNET_CLI_HOME
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
started=$SECONDS
if (cd "$work/checkout" && bash -euo pipefail "$work/install.sh") >"$logs/install.log" 2>&1; then
  echo "README install block: ran as written in $((SECONDS - started)) s from a fresh package cache ($(ls "$HOME/ocsp-stapling-packages" | tr '\n' ' '))"
else
  fail "the README's install block ($logs/install.log):"; tail -20 "$logs/install.log"; exit 1
fi
app="$HOME/MyApp"
version=$(grep -o 'Include="Ocsp.Stapling.AspNetCore" Version="[^"]*' "$app/MyApp.csproj" | grep -o '[^"]*$')

if "$HOME/.dotnet/tools/ocsp-stapling" --help >"$logs/tool-help.txt" 2>&1 && grep -q 'serve' "$logs/tool-help.txt"; then
  echo "Tool installed by the block: ocsp-stapling --help OK"
else
  fail "ocsp-stapling --help after the block ($logs/tool-help.txt)"
fi

# Every ```csharp block of the README and the docs, numbered in reading order, into $work/blocks/N.cs.
mkdir -p "$work/blocks"
for page in "$here/README.md" "$here"/docs/*.md "$here"/docs/guides/*.md; do
  [ -f "$page" ] || continue
  awk -v out="$work/blocks" -v page="${page#"$here"/}" '
    /^```csharp$/ { n = 0; while ((getline line < (out "/count")) > 0) n = line; close(out "/count"); n++; print n > (out "/count"); close(out "/count");
                    file = out "/" n ".cs"; print page > (out "/" n ".page"); close(out "/" n ".page"); inside = 1; next }
    inside && /^```$/ { inside = 0; close(file); next }
    inside { print > file }' "$page"
done
first=""; client=""
for block in $(ls "$work"/blocks/*.cs 2>/dev/null | sort -V); do
  if grep -q 'WebApplication.Create' "$block"; then
    [ -z "$first" ] && first=$block
    grep -q 'CheckOcspRevocation' "$block" && client=$block
  fi
done
[ -n "$first" ] || fail "the README has no whole program (a csharp block calling WebApplication.Create…)"
build_block() { # block file, Program.cs to build
  local name page
  name=$(basename "$1" .cs); page=$(cat "${1%.cs}.page")
  cp "$2" "$app/Program.cs"
  if dotnet build "$app" -c Release -warnaserror >"$logs/block-$name.log" 2>&1; then
    echo "C# block $name of $page ($(wc -l <"$1") lines, $3): builds"
  else
    fail "C# block $name of $page ($3) does not build:"; grep -E 'error|warning' "$logs/block-$name.log" | sort -u | head -10
  fi
}
for block in $(ls "$work"/blocks/*.cs 2>/dev/null | sort -V); do
  [ "$block" = "$client" ] && continue # built last, and run
  if grep -q 'WebApplication.Create' "$block"; then
    build_block "$block" "$block" "a whole Program.cs of dotnet new web"
  elif [ -n "$first" ]; then
    # A fragment: its usings above the first program's, its statements before the app is built.
    { grep -E '^using [A-Za-z.]+;$' "$block"; grep -E '^using [A-Za-z.]+;$' "$first";
      awk -v fragment="$block" '/^var app = builder.Build\(\);$/ { while ((getline line < fragment) > 0) if (line !~ /^using [A-Za-z.]+;$/) print line } !/^using [A-Za-z.]+;$/ { print }' "$first"; } >"$work/fragment.cs"
    build_block "$block" "$work/fragment.cs" "a fragment in the README's first program"
  fi
done

# The package READMEs' first examples, against the packages the block packed.
if "$here/eng/readme-examples.sh" "$HOME/ocsp-stapling-packages" "$version" >"$logs/package-readmes.log" 2>&1; then
  cat "$logs/package-readmes.log"
else
  fail "package README examples:"; cat "$logs/package-readmes.log"
fi

[ -n "$client" ] || { fail "the README has no client-certificate program"; exit 1; }
build_block "$client" "$client" "a whole Program.cs of dotnet new web"
if [ -z "$demo" ]; then
  echo "Client-certificate program not run: no demo directory given"
  exit $failed
fi

# The client-certificate program against the demo PKI (root + issuing intermediate): paths and port changed, nothing else.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat "$demo/localhost.pem" "$demo/chain.pem" >"$work/fullchain.pem"
sed -e "s|/etc/ssl/site/fullchain.pem|$work/fullchain.pem|" -e "s|/etc/ssl/site/privkey.pem|$demo/localhost.key|" \
    -e "s|/etc/ssl/client-ca.pem|$demo/client-ca.pem|" -e "s|ListenAnyIP(443,|ListenLocalhost($port,|" "$client" >"$app/Program.cs"
diff "$client" "$app/Program.cs" >"$logs/client-program.diff"
if ! dotnet build "$app" -c Release >"$logs/client-build.log" 2>&1; then
  fail "the client-certificate program with the demo's paths does not build ($logs/client-build.log)"; exit 1
fi
setsid dotnet "$app/bin/Release/net10.0/MyApp.dll" >"$logs/client-program.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 120); do
  grep -q 'Now listening on' "$logs/client-program.log" && break
  kill -0 "$app_pid" 2>/dev/null || break
  sleep 1
done
# One request with client certificate $1/$2; prints the HTTP status line.
request() {
  printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' \
    | timeout 30 openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$demo/root.pem" -verify_return_error \
        -cert "$1" -key "$2" -status -ign_eof 2>&1
}
request "$demo/client.pem" "$demo/client.key" >"$logs/client-good.txt"
request "$demo/client-revoked.pem" "$demo/client-revoked.key" >"$logs/client-revoked.txt"
good=$(grep -o -m 1 'HTTP/1.1 [0-9][0-9][0-9]' "$logs/client-good.txt")
revoked=$(grep -o -m 1 'HTTP/1.1 [0-9][0-9][0-9]' "$logs/client-revoked.txt")
if grep -q 'Cert Status: good' "$logs/client-good.txt" && [[ "$good" == "HTTP/1.1 200"* ]] && grep -q 'Hello, demo client' "$logs/client-good.txt" \
   && [[ "$revoked" == "HTTP/1.1 403"* ]]; then
  echo "README client-certificate program on the demo PKI (root + issuing intermediate, port $port): stapled (good); good client: $good; revoked client: $revoked"
else
  fail "README client-certificate program on the demo PKI: good client '$good', revoked client '$revoked' ($logs/client-*.txt, $logs/client-program.log)"
  tail -20 "$logs/client-program.log"
fi
exit $failed
