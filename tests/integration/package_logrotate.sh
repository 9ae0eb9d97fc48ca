#!/usr/bin/env bash
# The logrotate policy (packaging/logrotate/admin-audit + rotate-guard), run by
# the real logrotate on a journal in a temporary directory (the snippet's paths
# rewritten to it):
#   - an idle journal is rotated by rename + create 0600, its content intact in
#     audit.jsonl.1, and the forward cursors of the old file are reset;
#   - while a process holds the journal open (a running session), rotation is
#     refused and the journal is untouched;
#   - while "admin-audit flush" cannot deliver (a RELP target that refuses),
#     rotation is refused and nothing is lost from the spool.
# Needs root (create root root) and logrotate; bounded (a few seconds).
set -uo pipefail

src=${AA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
aa=${AA_BIN:-}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
nok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() {
    local d=$1
    shift
    if "$@"; then ok "$d"; else nok "$d"; fi
}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v logrotate >/dev/null || { echo "SKIP: logrotate not installed"; exit 77; }
[ -n "$aa" ] && [ -x "$aa" ] || { echo "SKIP: AA_BIN (the built wrapper) not set"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/aa-logrotate.XXXXXX")
holder_pid=
cleanup() {
    [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null && wait "$holder_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
logdir=$work/log
mkdir -m 0750 "$logdir"
guard=$work/rotate-guard
install -m 0755 "$src/packaging/logrotate/rotate-guard" "$guard"
sed -e "s#/var/log/admin-audit#$logdir#" -e "s#/usr/libexec/admin-audit/rotate-guard#$guard#" \
    "$src/packaging/logrotate/admin-audit" >"$work/lr.conf"
chmod 0644 "$work/lr.conf"
check "the snippet's paths were rewritten" \
    bash -c '! grep -q "/var/log/admin-audit\|/usr/libexec" "$1"' _ "$work/lr.conf"
echo '{}' >"$work/config.json"
export AA_ROTATE_ADMIN_AUDIT=$aa AA_ROTATE_CONFIG=$work/config.json AA_ROTATE_FLUSH_TIMEOUT=2s
j=$logdir/audit.jsonl
rotate() { timeout 60 logrotate -f -s "$work/state" "$work/lr.conf" >"$work/lr.out" 2>&1; }

# 1. idle journal: rotated, content kept, cursors reset.
python3 "$src/tests/forward/gen_journal.py" "$j" s-one 5
sum=$(sha256sum <"$j")
mkdir -p "$j.d/cursors"
echo '{"offset":1,"event_id":"s-one:1"}' >"$j.d/cursors/0123456789abcdef.json"
: >"$j.d/cursors/0123456789abcdef.lock"
rotate
rc=$?
check "idle journal: logrotate succeeds (rc=$rc)" [ "$rc" -eq 0 ]
check "idle journal: renamed to audit.jsonl.1 intact" \
    bash -c '[ "$(sha256sum <"$1.1")" = "$2" ]' _ "$j" "$sum"
check "idle journal: not compressed yet (delaycompress)" [ ! -e "$j.1.gz" ]
check "idle journal: new empty journal 0600 root:root" \
    bash -c '[ "$(stat -c "%a %U %G %s" "$1")" = "600 root root 0" ]' _ "$j"
check "idle journal: the old file's cursor was reset" [ ! -e "$j.d/cursors/0123456789abcdef.json" ]
check "rotated journal still verifies" bash -c '"$1" verify "$2" >/dev/null' _ "$aa" "$j.1"

# 2. a session holds the journal open: refused, untouched.
python3 "$src/tests/forward/gen_journal.py" "$j" s-two 4
sum=$(sha256sum <"$j")
sleep 30 >>"$j" &
holder_pid=$!
for _ in $(seq 50); do
    [ -n "$(find "/proc/$holder_pid/fd" -lname "$j" 2>/dev/null)" ] && break
    sleep 0.1
done
rotate
rc=$?
check "journal held open: logrotate reports the refusal (rc=$rc)" [ "$rc" -ne 0 ]
check "journal held open: the guard names the holder" grep -q "process $holder_pid has it open" "$work/lr.out"
check "journal held open: not rotated, older journals not renumbered" \
    bash -c '[ "$(sha256sum <"$1")" = "$2" ] && [ -e "$1.1" ] && [ ! -e "$1.2" ] && [ ! -e "$1.2.gz" ]' _ "$j" "$sum"
kill "$holder_pid" 2>/dev/null
wait "$holder_pid" 2>/dev/null
holder_pid=

# 3. a forward target that cannot take the records: refused, spool kept.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '{"forward":["relp://127.0.0.1:%s"]}\n' "$port" >"$work/config.json"
start=$SECONDS
rotate
rc=$?
check "undeliverable records: logrotate reports the refusal (rc=$rc)" [ "$rc" -ne 0 ]
check "undeliverable records: the guard says flush could not deliver" grep -q "could not deliver" "$work/lr.out"
check "undeliverable records: not rotated, older journals not renumbered" \
    bash -c '[ "$(sha256sum <"$1")" = "$2" ] && [ -e "$1.1" ] && [ ! -e "$1.2" ] && [ ! -e "$1.2.gz" ]' _ "$j" "$sum"
check "undeliverable records: bounded ($((SECONDS - start)) s)" [ $((SECONDS - start)) -lt 30 ]

# 4. no forwarding configured again, nobody holding it: rotated.
echo '{}' >"$work/config.json"
rotate
rc=$?
check "idle again: rotated (rc=$rc)" bash -c '[ "$2" -eq 0 ] && [ "$(sha256sum <"$1.1")" = "$3" ] && [ -e "$1.2.gz" ]' _ "$j" "$rc" "$sum"

if [ "$fail" -ne 0 ]; then ls -la "$logdir" | sed "s/^/# /"; sed 's/^/# lr.out: /' "$work/lr.out"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
