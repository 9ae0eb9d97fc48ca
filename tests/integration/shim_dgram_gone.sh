#!/usr/bin/env bash
# A connect reported just before its process exits: the report is a datagram
# the wrapper reads later, by which time the sender may be gone and reaped, so
# its ancestry can no longer be read in /proc.  It must still be recorded
# (the sender is recognised by the pidfd the kernel passes with the report,
# SCM_PIDFD, against the pidfd the member cache keeps for it) or, where the
# kernel cannot tell, at least counted as lost; never silently dropped.
# Made deterministic by stopping the wrapper (SIGSTOP) while the process
# connects, exits and is reaped.
. "$(dirname "$0")/lib.sh"
aa_init
P=$T/proj
aa_project "$P"
mkfifo "$T/go" "$T/end"
CMD="bash -c 'read x < $T/go; exec 3<>/dev/tcp/127.0.0.1/9; exit 0' 2>/dev/null & b=\$!; echo \$b > $T/bpid; wait \$b; : > $T/done; read y < $T/end"
aa_task "$P" ADM-001 "$CMD"
set +e
(cd "$P" && exec env "${AA_ENV[@]}" "$AA_BIN" $(aa_opts) --seccomp off --task ADM-001) >"$T/out" 2>"$T/err" &
wp=$!
for _ in $(seq 200); do # until bash waits on the FIFO
    [ -s "$T/bpid" ] && grep -q 'wait_for_partner\|pipe_read\|fifo' "/proc/$(cat "$T/bpid")/wchan" 2>/dev/null && break
    sleep 0.02
done
bpid=$(cat "$T/bpid" 2>/dev/null)
kill -STOP "$wp"
echo go >"$T/go"               # bash connects (the report waits in the socket) and exits
for _ in $(seq 200); do [ -e "$T/done" ] && break; sleep 0.02; done
check "the connecting process has exited and been reaped" bash -c "[ -e '$T/done' ] && ! kill -0 '$bpid' 2>/dev/null"
kill -CONT "$wp"
sleep 0.3
echo end >"$T/end"
wait "$wp"; rc=$?
check "session exit 0" [ "$rc" = 0 ]
n=$(jcount 'r["event"]["action"]=="network.connect" and r["destination"]["port"]==9 and r["process"]["pid"]=='"${bpid:-0}")
lost=$(jcount 'r["event"]["action"]=="session.end" and r["session"]["counts"]["lost"]>0')
if [ "$n" = 1 ]; then
    ok "the gone process's connect is recorded"
elif [ "$lost" = 1 ]; then
    ok "the gone process's connect is counted as lost (this kernel passes no pidfd for a reaped sender)"
else
    fail "connect of a gone process" "neither recorded nor counted ($n records)"
fi
check "journal verifies" "$AA_BIN" verify "$JOURNAL"
aa_done
