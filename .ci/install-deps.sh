#!/usr/bin/env bash
# Install what admin-audit needs on Debian 12, only when something is missing.
#   install-deps.sh build   libraries to build the wrapper and the shim
#   install-deps.sh test    + what the test suite runs for real (rsyslog, clang/libFuzzer,
#                           asciinema, snoopy for the benchmark, python3, ...)
set -euo pipefail
want=${1:-build}
build_pkgs=(pkg-config libseccomp-dev libjson-c-dev libssl-dev libcurl4-openssl-dev)
test_pkgs=(libcmocka-dev rsyslog rsyslog-relp rsyslog-openssl clang libclang-rt-14-dev
           python3 asciinema openssl strace gdb util-linux procps iproute2 binutils
           file snoopy hyperfine debootstrap dpkg-dev debhelper fakeroot logrotate time)
pkgs=("${build_pkgs[@]}")
[ "$want" = test ] && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# snoopy's package asks (debconf) whether to enable itself system-wide: answer no.
# admin-audit never touches /etc/ld.so.preload; the benchmark preloads snoopy per process.
echo "snoopy snoopy/install-ld-preload boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
