#!/usr/bin/env bash
# Builds the first C# example of each package's README as a user would: a new project from the template the README
# names (dotnet new web / console), its Program.cs replaced by the example as pasted, and the one package added from the
# packed packages, restored into a package cache of its own. Outside the repository, so no props of ours apply.
#   eng/readme-examples.sh <packages directory> <version>
# Prints one line per README and exits non-zero if any example does not build.
set -uo pipefail
packages=$(cd "${1:?usage: eng/readme-examples.sh <packages directory> <version>}" && pwd)
version=${2:?usage: eng/readme-examples.sh <packages directory> <version>}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/ocsp-stapling-readme.XXXXXX)
trap 'rm -rf "$work"' EXIT
source_url=$(grep -o 'https://[^"]*' "$here/nuget.config" | head -n 1)
cat >"$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="packed" value="$packages" />
    <add key="registry" value="$source_url" />
  </packageSources>
</configuration>
XML

failed=0
# package, template
for entry in "Ocsp.Stapling console" "Ocsp.Stapling.AspNetCore web" "Ocsp.Stapling.PostgreSql web"; do
  set -- $entry
  package=$1 template=$2
  readme="$here/src/$package/README.md"
  project="$work/$package.Example"
  log="$work/$package.log"
  dotnet new "$template" -o "$project" --name Example >"$log" 2>&1
  # The README's first ```csharp block, as pasted.
  awk '/^```csharp$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' "$readme" >"$project/Program.cs"
  sed -i "s|</Project>|  <ItemGroup><PackageReference Include=\"$package\" Version=\"$version\" /></ItemGroup>\n</Project>|" "$project/Example.csproj"
  if [ -s "$project/Program.cs" ] && dotnet build "$project" -c Release --packages "$work/cache" --configfile "$work/nuget.config" -warnaserror >>"$log" 2>&1; then
    echo "README example of $package ($(wc -l <"$project/Program.cs") lines, dotnet new $template + $package $version): builds"
  else
    echo "README example of $package FAILED to build:"; grep -E 'error|warning' "$log" | sort -u | head -20
    failed=1
  fi
done
exit $failed
