#!/usr/bin/env bash
# The Debian package: build it with packaging/build-deb.sh, inspect it, install
# it into a fresh root and run the installed admin-audit there on the example.
#
# The root is made with `debootstrap --variant=minbase` from the machine's own
# Debian mirror (the one in /etc/apt/sources.list*), with the package's
# dependencies included; downloaded .debs are cached in
# $AA_BUILD_DIR/package-cache so later runs need no network.  The package is
# installed there with dpkg -i (maintainer scripts run for real) and the
# example is checked and run inside the root with chroot, in a private mount
# and pid namespace (unshare) that has its own /proc -- nothing is mounted on
# the host.  When debootstrap is missing or fails, the fallback is
# `dpkg --root=DIR --force-depends --force-script-chrootless -i` and the
# installed DIR/usr/bin/admin-audit is run directly with the host's libraries:
# it must find DIR's shim (next to itself), not the host's or the build tree's.
#
# Bounded: about 5 minutes at worst (build <= 200 s, root <= what is left of
# 270 s, the rest seconds).  Skips (77) when not root, or when dpkg-dev /
# debhelper are missing and cannot be installed.
set -uo pipefail

src=${AA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
nok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() { # check DESCRIPTION COMMAND...
    local d=$1
    shift
    if "$@"; then ok "$d"; else nok "$d"; fi
}
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
}
skip() {
    echo "SKIP: $*"
    exit 77
}

started=$SECONDS
[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, dpkg --root)"
for t in dpkg-deb dpkg; do command -v "$t" >/dev/null || skip "$t not found"; done
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
    echo "# installing dpkg-dev debhelper fakeroot"
    DEBIAN_FRONTEND=noninteractive timeout 150 apt-get install -y -qq --no-install-recommends \
        dpkg-dev debhelper fakeroot >/dev/null 2>&1 || true
    command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null ||
        skip "dpkg-buildpackage/debhelper missing and not installable"
fi
dpkg-checkbuilddeps "$src/packaging/debian/control" 2>/dev/null ||
    skip "build dependencies missing: $(dpkg-checkbuilddeps "$src/packaging/debian/control" 2>&1)"

work=$(mktemp -d "${TMPDIR:-/tmp}/aa-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
cache=${AA_BUILD_DIR:-$work}/package-cache
mkdir -p "$cache/debs"

# ------------------------------------------------------------------ build
# AA_PACKAGE_DEB=FILE tests an already built .deb instead.
if [ -n "${AA_PACKAGE_DEB:-}" ]; then
    deb=$AA_PACKAGE_DEB
    : >"$work/build.err"
else
    echo "# building the .deb"
    deb=$(timeout 200 "$src/packaging/build-deb.sh" "$work/out" 2>"$work/build.err" | tail -n 1)
fi
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
    nok "build-deb.sh produced a .deb"
    sed 's/^/# /' "$work/build.err"
    finish
fi
ok "build-deb.sh produced $(basename "$deb")"

# ---------------------------------------------------------------- inspect
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
shim=/usr/lib/$multiarch/admin-audit/libadmin-audit-shim.so
dpkg-deb -c "$deb" | awk '{print $1, $2, $NF}' >"$work/contents"
has() { grep -qE "$1" "$work/contents"; }
check "wrapper in /usr/bin" has '^-rwxr-xr-x root/root \./usr/bin/admin-audit$'
check "shim under the multiarch libdir" has "^-rw-r--r-- root/root \\.$shim\$"
check "default config /etc/admin-audit/config.json" has '^-rw-r--r-- root/root \./etc/admin-audit/config\.json$'
check "journal directory 0750" has '^drwxr-x--- root/root \./var/log/admin-audit/$'
check "logrotate snippet" has '\./etc/logrotate\.d/admin-audit$'
check "rotate guard" has '^-rwxr-xr-x root/root \./usr/libexec/admin-audit/rotate-guard$'
for m in man5/admin-audit.conf.5 man5/admin-audit-records.5; do
    check "man page $m" has "\\./usr/share/man/$m\\.gz\$"
done
mkdir -p "$work/x" "$work/ctl"
dpkg-deb -x "$deb" "$work/x"
dpkg-deb -e "$deb" "$work/ctl"
check "config.json is a conffile" grep -qx /etc/admin-audit/config.json "$work/ctl/conffiles"
check "logrotate snippet is a conffile" grep -qx /etc/logrotate.d/admin-audit "$work/ctl/conffiles"
check "no maintainer script touches ld.so.preload" \
    bash -c '! grep -l "ld\.so\.preload" "$1"/ctl/* | grep -q .' _ "$work"
check "the shipped config is valid JSON" python3 -m json.tool "$work/x/etc/admin-audit/config.json" /dev/null
# Hardening (hardening=+all): PIE, full RELRO (BIND_NOW), stack protector, fortify.
bin=$work/x/usr/bin/admin-audit
check "wrapper is PIE" bash -c 'readelf -h "$1" | grep -q "DYN (Position-Independent"' _ "$bin"
check "wrapper has full RELRO" bash -c 'readelf -lW "$1" | grep -q GNU_RELRO && readelf -d "$1" | grep -q BIND_NOW' _ "$bin"
check "wrapper has the stack protector" bash -c 'nm -D "$1" | grep -q __stack_chk_fail' _ "$bin"
check "wrapper is fortified" bash -c 'nm -D "$1" | grep -q "_chk@"' _ "$bin"
check "shim has full RELRO" bash -c 'readelf -d "$1" | grep -q BIND_NOW' _ "$work/x$shim"
check "shim links libc only" bash -c '[ "$(readelf -d "$1" | grep NEEDED | grep -vc "libc\.so\.6")" = 0 ]' _ "$work/x$shim"
# The installed wrapper must not know any build-tree shim path.
check "no build-tree path compiled into the wrapper" \
    bash -c '! strings "$1" | grep -qE "obj-[a-z0-9_-]+/shim|admin-audit-deb\."' _ "$bin"
check "compiled-in shim path is $shim" bash -c 'strings "$1" | grep -qxF "$2"' _ "$bin" "$shim"
for m in "$work"/x/usr/share/man/man*/admin-audit*.gz; do
    [ -e "$m" ] || continue
    w=$(zcat "$m" | groff -man -Tutf8 -ww -z 2>&1)
    check "$(basename "$m") formats without warnings" [ -z "$w" ]
done

# ------------------------------------------------------------ install root
root=$work/root
mirror=
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ -n "$codename" ]; then
    # deb822 .sources first (URIs + Suites), then one-line "deb URL SUITE ...".
    mirror=$(awk -v s="$codename" '
        /^[Uu][Rr][Ii][Ss]:/ { split($0, a, /[ \t]+/); uri = a[2] }
        /^[Ss]uites:/ { for (i = 2; i <= NF; i++) if ($i == s && uri != "") { print uri; exit } }
        /^$/ { uri = "" }' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
    [ -n "$mirror" ] || mirror=$(awk -v s="$codename" '$1 == "deb" {
        for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\//) { if ($(i + 1) == s) { print $i; exit } break } }' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)
fi
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/[|(].*//; s/[[:space:]]//g' | grep . | paste -sd, -)
mode=
left=$((270 - (SECONDS - started)))
# AA_PACKAGE_NO_DEBOOTSTRAP=1 forces the fallback (to test it).
if [ "${AA_PACKAGE_NO_DEBOOTSTRAP:-}" != 1 ] && command -v debootstrap >/dev/null &&
    [ -n "$mirror" ] && [ "$left" -gt 60 ]; then
    echo "# debootstrap --variant=minbase $codename from $mirror (include $deps; <= ${left}s)"
    if timeout "$left" debootstrap --variant=minbase --cache-dir="$cache/debs" \
        --include="$deps" "$codename" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
        mode=chroot
    else
        echo "# debootstrap failed; last lines:"
        tail -n 5 "$work/debootstrap.log" | sed 's/^/#   /'
        rm -rf "$root"
    fi
fi
if [ -z "$mode" ]; then
    echo "# fallback: dpkg --root (no usable debootstrap root)"
    mode=dpkg-root
    mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/tmp"
    : >"$root/var/lib/dpkg/status"
    : >"$root/var/lib/dpkg/available"
fi

# Run a command in the root (mode chroot) with a clean environment.
in_root() {
    unshare --mount --pid --fork --mount-proc="$root/proc" \
        chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 "$@"
}
export -f in_root
export root

cp "$deb" "$root/tmp/admin-audit.deb"
if [ "$mode" = chroot ]; then
    check "dpkg -i in the debootstrap root" \
        bash -c 'in_root dpkg -i /tmp/admin-audit.deb >"$1" 2>&1' _ "$work/install.log"
else
    check "dpkg --root -i" bash -c 'dpkg --root="$1" --force-depends --force-script-chrootless \
        --log=/dev/null -i "$2" >"$3" 2>&1' _ "$root" "$deb" "$work/install.log"
fi
sed 's/^/#   /' "$work/install.log" | tail -n 5
check "installed as a dpkg package" \
    bash -c 'dpkg-query --admindir="$1/var/lib/dpkg" -W -f="\${Status}" admin-audit | grep -q "install ok installed"' _ "$root"
check "postinst made the journal dir root:adm 0750" \
    bash -c '[ "$(stat -c "%a %U %G" "$1/var/log/admin-audit")" = "750 root adm" ]' _ "$root"
check "installing did not create an ld.so.preload" [ ! -e "$root/etc/ld.so.preload" ]
check "the host has no ld.so.preload naming admin-audit" \
    bash -c '! grep -qs admin-audit /etc/ld.so.preload'

# The example project, as the quick start uses it.
mkdir -p "$root/work"
cp -a "$src/examples/shop" "$root/work/shop"
chown -R root:root "$root/work/shop"
chmod -R go-w "$root/work/shop"
envs=(APP_ENV=staging IMAGE_REF=registry.example.com/shop:1.4.2 DATABASE_URL=file:///work/shop/data)

if [ "$mode" = chroot ]; then
    # check with the package's own /etc/admin-audit/config.json (no --config).
    in_root "${envs[@]}" sh -c 'cd /work/shop && bin/seed-users.sh &&
        admin-audit check --task ADM-002 --log /tmp/check.jsonl' >"$work/check.out" 2>&1
    rc=$?
    check "installed admin-audit check --task ADM-002 exits 0 (rc=$rc)" [ "$rc" -eq 0 ]
    check "check found the installed shim at $shim" \
        grep -qE "coverage\.preload.*$shim" "$work/check.out"
    # and run the task for real under audit, then verify the journal's chain.
    in_root "${envs[@]}" sh -c 'cd /work/shop &&
        admin-audit --task ADM-002 --config config.json --operator pkgtest &&
        admin-audit verify /var/log/admin-audit/audit.jsonl' >"$work/run.out" 2>&1
    rc=$?
    check "installed admin-audit runs ADM-002 and verify is 0 (rc=$rc)" [ "$rc" -eq 0 ]
    j=$root/var/log/admin-audit/audit.jsonl
    check "default journal /var/log/admin-audit/audit.jsonl is 0600" \
        bash -c '[ "$(stat -c %a "$1")" = 600 ]' _ "$j"
    check "session.start records the installed shim as preload coverage" \
        bash -c 'grep "\"session.start\"" "$1" | grep -q "\"preload\":true"' _ "$j"
    check "the shim reported the backfill's exec" python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(not any(r["event"]["action"] == "process.exec" and r.get("audit", {}).get("source") == "shim"
                 and r["process"].get("name") == "shopdb" for r in recs))' "$j"
    check "the backfill ran (users got a locale)" grep -q ',en$' "$root/work/shop/data/users.csv"
    # The logrotate policy parses (logrotate is not in minbase: use the host's).
    if command -v logrotate >/dev/null; then
        check "logrotate accepts /etc/logrotate.d/admin-audit" \
            bash -c 'sed "s#/var/log/admin-audit#$1/var/log/admin-audit#" "$1/etc/logrotate.d/admin-audit" >"$2/lr.conf" &&
                     logrotate -d -s "$2/lr.state" "$2/lr.conf" >"$2/lr.out" 2>&1 && ! grep -qi "error" "$2/lr.out"' _ "$root" "$work"
    fi
else
    cd "$root/work/shop" || exit 1
    env -i PATH=/usr/bin:/bin HOME=/root "${envs[@]/DATABASE_URL=file:\/\/\/work/DATABASE_URL=file://$root/work}" \
        sh -c 'bin/seed-users.sh && "$1" check --task ADM-002 --config "$2" --log "$3"' _ \
        "$root/usr/bin/admin-audit" "$root/etc/admin-audit/config.json" "$work/check.jsonl" \
        >"$work/check.out" 2>&1
    rc=$?
    cd / || exit 1
    check "installed admin-audit check --task ADM-002 exits 0 (rc=$rc)" [ "$rc" -eq 0 ]
    check "check found the root's shim $root$shim" grep -qF "$root$shim" "$work/check.out"
fi
if [ "$fail" -ne 0 ]; then
    for f in check.out run.out lr.out; do
        [ -s "$work/$f" ] && sed "s/^/# $f: /" "$work/$f"
    done
fi
echo "# mode: $mode, $((SECONDS - started)) s"
finish
