#!/usr/bin/env bash
# Assembles a dotnet root that holds this machine's SDK and runtimes plus another shared runtime taken from the package
# registry (Microsoft.NETCore.App and Microsoft.AspNetCore.App runtime packs), so that apps and tests built for net10.0
# can run on it with DOTNET_ROLL_FORWARD=LatestMajor: eng/dotnet-runtime.sh 11.0.0 /tmp/dotnet-11
# Prints the root's path. The muxer and the host are copied (a symlinked muxer looks for frameworks where it really is).
set -euo pipefail
version=${1:?usage: eng/dotnet-runtime.sh <runtime version> <directory>}
root=${2:?usage: eng/dotnet-runtime.sh <runtime version> <directory>}
here=$(cd "$(dirname "$0")/.." && pwd)
system=$(dirname "$(readlink -f "$(command -v dotnet)")")
rid=linux-x64

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/download.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Microsoft.NETCore.App.Runtime.$rid" Version="[$version]" />
    <PackageDownload Include="Microsoft.AspNetCore.App.Runtime.$rid" Version="[$version]" />
  </ItemGroup>
</Project>
XML
cp "$here/nuget.config" "$work/"
dotnet restore "$work/download.csproj" --packages "$work/packages" >"$work/restore.log" 2>&1 || { cat "$work/restore.log" >&2; exit 1; }

rm -rf "$root"
mkdir -p "$root/shared/Microsoft.NETCore.App" "$root/shared/Microsoft.AspNetCore.App"
cp "$system/dotnet" "$root/dotnet"
cp -r "$system/host" "$root/host"
for entry in sdk sdk-manifests packs templates; do
  [ -e "$system/$entry" ] && ln -s "$system/$entry" "$root/$entry"
done
for framework in Microsoft.NETCore.App Microsoft.AspNetCore.App; do
  for existing in "$system/shared/$framework"/*; do
    ln -s "$existing" "$root/shared/$framework/$(basename "$existing")"
  done
done

netcore="$work/packages/microsoft.netcore.app.runtime.$rid/$version/runtimes/$rid"
aspnet="$work/packages/microsoft.aspnetcore.app.runtime.$rid/$version/runtimes/$rid"
mkdir "$root/shared/Microsoft.NETCore.App/$version" "$root/shared/Microsoft.AspNetCore.App/$version"
cp "$netcore"/lib/net*/* "$netcore"/native/* "$root/shared/Microsoft.NETCore.App/$version/"
cp "$aspnet"/lib/net*/* "$root/shared/Microsoft.AspNetCore.App/$version/"
[ -d "$aspnet/native" ] && cp "$aspnet"/native/* "$root/shared/Microsoft.AspNetCore.App/$version/"
"$root/dotnet" --list-runtimes | grep -q "Microsoft.NETCore.App $version" || { echo "the assembled root does not list $version" >&2; exit 1; }
echo "$root"
