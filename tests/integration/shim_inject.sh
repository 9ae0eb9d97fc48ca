#!/usr/bin/env bash
# A process outside the session cannot inject records (contract: records
# authenticated by the kernel's peer credentials).  While a session runs, an
# unrelated process (a child of this test script, not of the wrapper) loads
# the shim with the session's control variables and execs: the wrapper
# refuses its report, nothing of it reaches the journal, and its exec fails
# closed with EACCES.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shim_common.bash"

aa_task "$P" ADM-001 "env > $T/session-env; sleep 3"
JOURNAL=$T/audit.jsonl
set +e
env "${AA_ENV[@]}" "$AA_BIN" --task ADM-001 $(aa_opts) >"$T/out" 2>"$T/err" &
for _ in $(seq 100); do [ -s "$T/session-env" ] && break; sleep 0.05; done
sock=$(grep '^ADMIN_AUDIT_SOCKET=' "$T/session-env" | cut -d= -f2-)
check "session exposes its socket name to its own processes" [ -n "$sock" ]
env -i LD_PRELOAD="$AA_SHIM" ADMIN_AUDIT_SOCKET="$sock" ADMIN_AUDIT_SHIM="$AA_SHIM" \
    /usr/bin/env /bin/echo injected-marker-4711 >"$T/inj.out" 2>"$T/inj.err"
irc=$?
wait
check "outsider's exec is refused (rc $irc)" [ "$irc" != 0 ]
check "outsider's exec did not run" [ ! -s "$T/inj.out" ]
check "outsider saw EACCES" grep -qi "permission denied" "$T/inj.err"
check "nothing of the outsider in the journal" bash -c "! grep -q injected-marker-4711 '$JOURNAL'"
check "the session's journal still verifies" "$AA_BIN" verify "$JOURNAL"
aa_done
