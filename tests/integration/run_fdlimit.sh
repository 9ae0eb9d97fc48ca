#!/usr/bin/env bash
# Descriptors: the wrapper holds one per exec in flight (and per acknowledged
# connection until its EOF is seen), a pidfd per cached member, and its own.
# Under a low RLIMIT_NOFILE an exec storm must still be recorded whole, with
# nothing denied: the wrapper raises its own soft limit toward the hard one,
# sizes its caches to the limit, and takes back parked connections' descriptors
# before it would refuse.  The command gets its own soft limit back.
. "$(dirname "$0")/lib.sh"
aa_init
P=$T/proj
aa_project "$P"
STORM='seq 3000 | xargs -P4 -n1 /bin/true'
aa_task "$P" ADM-001 "$STORM"

for lim in 48 128; do
    : >"$JOURNAL"
    set +e
    (ulimit -n "$lim" && cd "$P" && exec env "${AA_ENV[@]}" "$AA_BIN" $(aa_opts) --task ADM-001) \
        >"$T/out" 2>"$T/err"
    rc=$?
    check "RLIMIT_NOFILE $lim (soft = hard): exec storm exits 0" [ "$rc" = 0 ]
    check "RLIMIT_NOFILE $lim: all 3000 execs of /bin/true recorded" \
        [ "$(jcount 'r["event"]["action"]=="process.exec" and r["process"]["executable"]=="/bin/true"')" = 3000 ]
    check "RLIMIT_NOFILE $lim: nothing denied or lost" \
        [ "$(jcount 'r["event"]["action"]=="session.end" and r["session"]["counts"]["denied"]==0 and r["session"]["counts"]["lost"]==0')" = 1 ]
    grep -q 'Permission denied' "$T/err" && fail "RLIMIT_NOFILE $lim: EACCES seen" "$(head -3 "$T/err")" ||
        ok "RLIMIT_NOFILE $lim: no EACCES"
done

# The wrapper raises only its own soft limit: the command sees the one it was given.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 256 ]; then
    aa_task "$P" ADM-001 'ulimit -Sn'
    : >"$JOURNAL"
    set +e
    (ulimit -Sn 256 && cd "$P" && exec env "${AA_ENV[@]}" "$AA_BIN" $(aa_opts) --task ADM-001) \
        >"$T/out" 2>"$T/err"
    check "the command's soft RLIMIT_NOFILE is its own (256)" [ "$(cat "$T/out")" = 256 ]
else
    ok "# skip: hard RLIMIT_NOFILE $hard leaves nothing to raise"
fi
aa_done
