#!/usr/bin/env bash
# admin-audit as PID 1 of its PID namespace, as it is when it is a container's
# entrypoint (`docker run app:1.2.3 admin-audit --task ADM-002 -- ...`, the
# template's Pattern A): every process of the namespace descends from it.
# Its children's execs and connects must be accepted as the session's (the
# ancestry walk used to stop at pid 1 before comparing it with the wrapper:
# every exec after the first failed with EACCES), daemons are waited for,
# and a SIGTERM from outside (docker stop) still reaches the command.
# Needs root and unshare(1) (skips with 77 otherwise).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "skip: needs root for a PID namespace"; exit 77; }
command -v unshare >/dev/null || { echo "skip: no unshare(1)"; exit 77; }
unshare -p -f --mount-proc true 2>/dev/null || { echo "skip: cannot create a PID namespace here"; exit 77; }
aa_init
P=$T/proj
aa_project "$P"
opts() { echo --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/none.json" --log "$JOURNAL" --seccomp off; }
# pid1 CMDTEXT: document CMDTEXT and run it with the wrapper as PID 1
pid1() {
    aa_task "$P" ADM-001 "$1"
    set +e
    (cd "$P" && unshare -p -f --mount-proc env "${AA_ENV[@]}" "$AA_BIN" $(opts) --task ADM-001) \
        >"$T/out" 2>"$T/err"
    rc=$?
}

: >"$JOURNAL"
pid1 'echo "wrapper pid $PPID"; /bin/true; /bin/echo child-ran; bash -c "exec 3<>/dev/tcp/127.0.0.1/9" 2>/dev/null; exit 0'
check "as PID 1: exit 0" [ "$rc" = 0 ]
check "as PID 1: the wrapper is pid 1 (the command's parent)" grep -qx 'wrapper pid 1' "$T/out"
check "as PID 1: the command's children ran (no EACCES)" grep -qx 'child-ran' "$T/out"
check "as PID 1: their execs recorded" [ "$(jcount 'r["event"]["action"]=="process.exec" and r["process"]["executable"] in ("/bin/true", "/bin/echo")')" = 2 ]
check "as PID 1: the connect recorded" [ "$(jcount 'r["event"]["action"]=="network.connect" and r["destination"]["port"]==9')" = 1 ]
check "as PID 1: nothing denied or lost" [ "$(jcount 'r["event"]["action"]=="session.end" and r["session"]["counts"]["denied"]==0 and r["session"]["counts"]["lost"]==0')" = 1 ]
check "as PID 1: journal verifies" "$AA_BIN" verify "$JOURNAL"

# A daemon (setsid, parent gone) is re-parented to the wrapper and waited for.
: >"$JOURNAL"
pid1 "setsid sh -c 'sleep 1; /bin/true; touch $T/daemon-done' </dev/null >/dev/null 2>&1 & exit 0"
check "as PID 1: daemon finished before the session ended" [ -e "$T/daemon-done" ]
check "as PID 1: the daemon's exec recorded" [ "$(jcount 'r["event"]["action"]=="process.exec" and r["process"]["executable"]=="/bin/true"')" = 1 ]

# docker stop: SIGTERM to PID 1 from outside the namespace reaches the command.
: >"$JOURNAL"
aa_task "$P" ADM-001 "sleep 30"
set +e
(cd "$P" && exec unshare -p -f --mount-proc env "${AA_ENV[@]}" "$AA_BIN" $(opts) --task ADM-001) \
    >"$T/out" 2>"$T/err" &
outer=$!
wp=
# the wrapper under unshare, once its command (sleep) runs
for _ in $(seq 200); do
    wp=$(pgrep -P "$outer" -f "$AA_BIN" | head -1)
    [ -n "$wp" ] && pgrep -P "$wp" -x sleep >/dev/null && break
    sleep 0.05
done
if [ -n "$wp" ]; then
    kill -TERM "$wp"
    wait "$outer"; rc=$?
    check "as PID 1: SIGTERM from outside ends the command (143)" [ "$rc" = 143 ]
    check "as PID 1: session.end after SIGTERM" [ "$(jcount 'r["event"]["action"]=="session.end" and r["audit"].get("signal")=="SIGTERM"')" = 1 ]
else
    kill "$outer" 2>/dev/null
    fail "as PID 1: wrapper not found under unshare"
fi

# docker stop at start-up: one SIGTERM as soon as the wrapper has claimed it.
# It lands either while the early handler is in place (the wrapper ends as the
# signal ends any other process) or once signals are blocked for the signalfd
# (it is forwarded).  Either way the session ends at once, instead of a PID 1
# that ignores the signal and runs the 30 s command.
: >"$JOURNAL"
set +e
start=$(date +%s)
(cd "$P" && exec unshare -p -f --mount-proc env "${AA_ENV[@]}" "$AA_BIN" $(aa_opts) --seccomp off --task ADM-001) \
    >"$T/out" 2>"$T/err" &
outer=$!
# as soon as the wrapper has claimed SIGTERM, caught (its early handler) or
# blocked (its signalfd); before that the kernel drops it for any PID 1
sigterm_claimed() { # PID
    local k v
    while read -r k v; do
        case $k in SigCgt: | SigBlk:) (( 0x$v & 0x4000 )) && return 0 ;; esac
    done <"/proc/$1/status" 2>/dev/null
    return 1
}
for _ in $(seq 400); do
    wp=$(pgrep -P "$outer" 2>/dev/null | head -1)
    [ -n "$wp" ] && sigterm_claimed "$wp" && break
    sleep 0.005
done
[ -n "$wp" ] && kill -TERM "$wp"
wait "$outer"; rc=$?
el=$(( $(date +%s) - start ))
check "as PID 1: an early SIGTERM ends the session at once (rc $rc after ${el}s)" bash -c "[ $el -lt 10 ] && [ $rc -ge 128 ]"
aa_done
