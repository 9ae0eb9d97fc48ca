#!/bin/bash
# The backstop and privileges (contract §2 --seccomp): as root (CAP_SYS_ADMIN)
# the filter needs no no_new_privs, so a setuid-root program run by an
# unprivileged user inside the task keeps its privileges and its exec (which
# the shim cannot see: the loader drops the preload) is recorded by the
# backstop.  An unprivileged wrapper: auto = off (said so), on = no_new_privs
# (said so in session.start and on stderr; setuid does not elevate).  A dead
# journal makes a backstop-only exec fail with EACCES (fail-closed).
. "$(dirname "$0")/lib.sh"
aa_init
[ "$(id -u)" = 0 ] || { echo "skip: needs root to create the setuid test binary"; exit 77; }
command -v setpriv >/dev/null || { echo "skip: no setpriv"; exit 77; }
U=nobody G=nogroup
getent passwd $U >/dev/null && getent group $G >/dev/null || { echo "skip: no user $U"; exit 77; }
UID_U=$(id -u $U)
BS=$AA_HELPERS/aa-bs-probe
SBS=$T/aa-bs-probe-static
cc -static -O1 -o "$SBS" "$AA_SOURCE_DIR/tests/helpers/aa-bs-probe.c" -lpthread 2>/dev/null ||
    { echo "skip: no static libc"; exit 77; }
chmod 755 "$T"
P=$T/proj
aa_project "$P"
chmod -R a+rX "$P"
SUID=$T/suid-probe
cp "$BS" "$SUID" && chown root:root "$SUID" && chmod 4755 "$SUID"
# a setuid bit the kernel honours here (not a nosuid mount)?
setpriv --reuid=$U --regid=$G --clear-groups "$SUID" euid >"$T/bare" 2>/dev/null
grep -qx euid=0 "$T/bare" || { echo "skip: setuid not honoured under $T ($(cat "$T/bare"))"; exit 77; }

n=0
rj() { # rj CMD [wrapper args...]: root wrapper, task running CMD; journal $JOURNAL
    n=$((n + 1)); local id; id=$(printf 'ADM-%03d' $((200 + n))); local cmd=$1; shift
    aa_task "$P" "$id" "$cmd"
    JOURNAL=$T/root-$n.jsonl
    aa_run --task "$id" "$@" $(aa_opts)
}
q() { # q EXPR: python over R (records of $JOURNAL)
    python3 - "$JOURNAL" "$1" <<'PY'
import json, sys
R = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
print(eval(sys.argv[2], {"R": R}))
PY
}
expectq() { local got; got=$(q "$2" 2>&1); [ "$got" = "$3" ] && ok "$1" || fail "$1" "expected [$3] got [$got]"; }
BSX="[r for r in R if r['event']['action']=='process.exec' and r['audit']['source']=='seccomp']"

# ---- root wrapper: setuid keeps working, its exec is seen by the backstop ----------------
rj "setpriv --reuid=$U --regid=$G --clear-groups $SUID euid"
check "setuid-root program keeps its privileges inside the task ($(cat "$T/out"))" grep -qx euid=0 "$T/out"
expectq "session.start: seccomp on, no no_new_privs" "[(r['session']['coverage']['seccomp'], r['session']['coverage'].get('no_new_privs')) for r in R if r['event']['action']=='session.start']" "[(True, None)]"

rj "setpriv --reuid=$U --regid=$G --clear-groups $SUID exec /bin/echo from-suid"
check "the setuid program's exec ran" grep -qx from-suid "$T/out"
expectq "its exec is recorded by the backstop with euid 0, real uid $UID_U" "[(r['process']['executable'], r['process']['user']['id'], r['process']['real_user']['id']) for r in $BSX]" \
    "[('/bin/echo', '0', '$UID_U')]"
expectq "and counted in shim_unavailable" "[r['session']['counts']['shim_unavailable'] for r in R if r['event']['action']=='session.end']" "[1]"

# ---- fail-closed: a journal that fills up refuses backstop-only execs ----------------------
if unshare -m true 2>/dev/null; then
    small() {
        n=$((n + 1)); local id; id=$(printf 'ADM-%03d' $((200 + n)))
        aa_task "$P" "$id" "$SBS spawnloop 300 /bin/true"
        set +e
        aa_env unshare -m bash -c '
            mkdir -p "$1/small" && mount -t tmpfs -o size=64k tmpfs "$1/small" || exit 77
            d=$1; shift; "$@"; rc=$?; cp "$d/small/audit.jsonl" "$d/journal.copy" 2>/dev/null; exit $rc
        ' _ "$T" "$AA_BIN" --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/none.json" \
            --log "$T/small/audit.jsonl" --task "$id" "$@" >"$T/out" 2>"$T/err"
        rc=$?
        JOURNAL=$T/journal.copy
    }
    small
    if [ "$rc" != 77 ]; then
        check "fail-closed: the journal failure is reported" grep -q "journal .*write failed" "$T/err"
        check "fail-closed: the refused exec is counted as denied" grep -q "[1-9][0-9]* denied" "$T/err"
        k=$(q "len($BSX)")
        check "fail-closed: backstop execs before the failure are recorded ($k)" [ "$k" -gt 10 ]
        small --fail-open
        check "fail-open: every exec ran ($(cat "$T/out"))" grep -qx "ran=300 eacces=0" "$T/out"
        check "fail-open: the loss is reported" grep -q "[1-9][0-9]* lost" "$T/err"
    else
        echo "# tmpfs mount failed: fail-closed part skipped"
    fi
fi

# ---- unprivileged wrapper ---------------------------------------------------------------------
NB=$T/nb
mkdir -p "$NB" && chown $U:$G "$NB"
uj() { # uj CMD [wrapper args...]: the wrapper itself runs as $U
    n=$((n + 1)); local id; id=$(printf 'ADM-%03d' $((200 + n))); local cmd=$1; shift
    aa_task "$P" "$id" "$cmd"
    chmod a+r "$P/.aiwg/admin-tasks/$id.md"
    JOURNAL=$NB/audit-$n.jsonl
    set +e
    (cd "$NB" && aa_env setpriv --reuid=$U --regid=$G --clear-groups env HOME="$NB" \
        XDG_STATE_HOME="$NB" XDG_RUNTIME_DIR="$NB" "$AA_BIN" --task "$id" "$@" \
        --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/none.json" --log "$JOURNAL") \
        >"$T/out" 2>"$T/err"
    rc=$?
}
uj "$SBS exec /bin/echo nobody-auto"
if [ ! -s "$JOURNAL" ]; then
    fail "unprivileged wrapper ran" "rc $rc: $(cat "$T/err")"
else
    check "auto, unprivileged: the command ran" grep -qx nobody-auto "$T/out"
    expectq "auto, unprivileged: coverage seccomp false, said why" "[(r['session']['coverage']['seccomp'], 'CAP_SYS_ADMIN' in r['session']['coverage']['seccomp_detail']) for r in R if r['event']['action']=='session.start']" "[(False, True)]"
    expectq "auto, unprivileged: no backstop record" "len($BSX)" "0"

    uj "$SBS exec /bin/echo nobody-on" --seccomp on
    check "on, unprivileged: the command ran (rc $rc)" grep -qx nobody-on "$T/out"
    check "on, unprivileged: stderr says setuid will not gain privileges" grep -q "no_new_privs is set" "$T/err"
    expectq "on, unprivileged: session.start says no_new_privs" "[(r['session']['coverage']['seccomp'], r['session']['coverage'].get('no_new_privs')) for r in R if r['event']['action']=='session.start']" "[(True, True)]"
    expectq "on, unprivileged: the static exec is recorded by the backstop" "[r['process']['args'] for r in $BSX]" "[['/bin/echo', 'nobody-on']]"

    uj "$SUID euid" --seccomp on
    check "on, unprivileged: a setuid program does not gain privileges ($(cat "$T/out"))" grep -qx "euid=$UID_U" "$T/out"
fi
aa_done
