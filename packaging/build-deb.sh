#!/usr/bin/env bash
# Build the admin-audit .deb from this source tree.
#
#   packaging/build-deb.sh [OUTDIR]      (default OUTDIR: ./out)
#
# The repository keeps the Debian packaging under packaging/debian; this
# script stages a copy of the source tree (without .git and build
# directories) in a temporary directory, puts packaging/debian in place as
# debian/, runs "dpkg-buildpackage -us -uc -b" there and moves the .deb
# (plus .buildinfo and .changes) into OUTDIR.  It prints the path of the
# .deb on stdout, last.  Needs dpkg-dev, debhelper and the Build-Depends of
# packaging/debian/control (dpkg-buildpackage checks them and names what is
# missing; .ci/install-deps.sh test installs them).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$top/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in dpkg-buildpackage dh dpkg-parsechangelog; do
    command -v "$tool" >/dev/null || {
        echo "build-deb: $tool not found; apt-get install dpkg-dev debhelper" >&2
        exit 69
    }
done

# The package version (debian/changelog) must be the CMake project version.
deb_version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
cmake_version=$(sed -n 's/^project(admin-audit VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
if [ "${deb_version%%-*}" != "$cmake_version" ]; then
    echo "build-deb: packaging/debian/changelog says $deb_version but CMakeLists.txt says" \
         "$cmake_version; add a changelog entry (dch -v $cmake_version)" >&2
    exit 65
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/admin-audit-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$tmp/admin-audit-$deb_version
mkdir "$src"
tar -C "$top" \
    --exclude=./.git --exclude='./build*' --exclude=./out --exclude=./debian \
    --exclude='*.deb' -cf - . | tar -C "$src" -xf -
cp -a "$top/packaging/debian" "$src/debian"

(cd "$src" && dpkg-buildpackage -us -uc -b -Jauto) >"$tmp/build.log" 2>&1 || {
    echo "build-deb: dpkg-buildpackage failed; last lines of the log:" >&2
    tail -n 40 "$tmp/build.log" >&2
    exit 1
}
shopt -s nullglob
debs=("$tmp"/admin-audit_*.deb)
[ ${#debs[@]} -eq 1 ] || {
    echo "build-deb: expected one .deb, found ${#debs[@]}" >&2
    exit 1
}
mv -f "$tmp"/admin-audit_*.deb "$tmp"/admin-audit_*.buildinfo "$tmp"/admin-audit_*.changes "$out"/
cp "$tmp/build.log" "$out/admin-audit-deb-build.log"
echo "$out/$(basename "${debs[0]}")"
