#!/usr/bin/env bash
# Running the command (contract §3, §7.4, §7.6): exit statuses, signals,
# timeout and grace, the session lasting until the last descendant is gone,
# stdio and the child's environment.
. "$(dirname "$0")/lib.sh"
aa_init
P=$T/proj
aa_project "$P"
opts() { echo --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/none.json" --log "$JOURNAL"; }
# run_doc CMDTEXT [wrapper args...] : document CMDTEXT and run it (no COMMAND)
run_doc() {
    local cmd=$1; shift
    aa_task "$P" ADM-001 "$cmd"
    aa_run $(opts) --task ADM-001 "$@"
}
end_field() { tail -1 "$JOURNAL" | python3 -c "import json,sys; r=json.load(sys.stdin); print($1)"; }

run_doc "exit 3"
check "exit status passed through" [ "$rc" = 3 ]
check "session.end exit_code" [ "$(end_field 'r["process"]["exit_code"]')" = 3 ]

run_doc 'kill -TERM $$'
check "killed by SIGTERM gives 143" [ "$rc" = 143 ]
check "session.end signal" [ "$(end_field 'r["audit"]["signal"]')" = SIGTERM ]
check "session.end reason signal" [ "$(end_field 'r["session"]["end_reason"]')" = signal ]

aa_task "$P" ADM-001 "/nonexistent/cmd --x"
aa_run $(opts) --task ADM-001 -- /nonexistent/cmd --x
check "not found gives 127" [ "$rc" = 127 ]
check "failed exec recorded with ENOENT" [ "$(jcount 'r["event"]["action"]=="process.exec" and r.get("error",{}).get("code")=="ENOENT"')" = 1 ]
printf '#!/bin/sh\necho hi\n' > "$T/noexec"; chmod 644 "$T/noexec"
aa_task "$P" ADM-001 "$T/noexec"
aa_run $(opts) --task ADM-001 -- "$T/noexec"
check "not executable gives 126" [ "$rc" = 126 ]
check "failed exec recorded with EACCES" [ "$(jcount 'r["event"]["action"]=="process.exec" and r.get("error",{}).get("code")=="EACCES"')" = 1 ]

start=$(date +%s)
run_doc "sleep 30" --timeout 1s --grace 2s
el=$(( $(date +%s) - start ))
check "timeout gives 124" [ "$rc" = 124 ]
check "timeout is prompt ($el s)" [ "$el" -le 6 ]
check "session.end reason timeout" [ "$(end_field 'r["session"]["end_reason"]')" = timeout ]

start=$(date +%s)
run_doc "trap '' TERM; sleep 30; exit 0" --timeout 1s --grace 1s
el=$(( $(date +%s) - start ))
check "TERM-ignoring command killed after grace: 124" [ "$rc" = 124 ]
check "grace kill is prompt ($el s)" [ "$el" -le 8 ]

# Signals sent to the wrapper reach the command's process group.  (A
# background job of a non-interactive shell ignores SIGINT, so SIGTERM and
# SIGHUP are the ones tested here.)
for sig in TERM HUP; do
    aa_task "$P" ADM-001 "sleep 30"
    set +e
    env APP_ENV=staging IMAGE_REF=registry.example/app:1.2.3 DATABASE_URL=postgres://db.invalid/app \
        "$AA_BIN" $(opts) --task ADM-001 >"$T/out" 2>"$T/err" &
    wp=$!
    for _ in $(seq 50); do pgrep -P "$wp" sleep >/dev/null && break; sleep 0.1; done
    kill -$sig "$wp"
    wait "$wp"; rc=$?
    want=$((128 + $(kill -l $sig)))
    check "SIG$sig forwarded: $want" [ "$rc" = "$want" ]
done

# The session lasts until the last descendant (a daemon) is gone.
start=$(date +%s.%N)
run_doc "setsid sh -c 'sleep 2; touch $T/daemon-done' </dev/null >/dev/null 2>&1 & exit 0"
el=$(python3 -c "print($(date +%s.%N) - $start)")
check "command's status despite daemon" [ "$rc" = 0 ]
check "wrapper waited for the daemon ($el s)" python3 -c "import sys; sys.exit(0 if $el >= 1.8 else 1)"
check "daemon finished before the session ended" [ -e "$T/daemon-done" ]

# stdio and environment are the command's.
aa_task "$P" ADM-001 "cat"
set +e
out=$(echo "through stdin" | aa_env "$AA_BIN" $(opts) --task ADM-001 -- cat 2>"$T/err")
check "stdin/stdout untouched" [ "$out" = "through stdin" ]
aa_task "$P" ADM-001 "env"
aa_env FOO_VISIBLE=1 "$AA_BIN" $(opts) --task ADM-001 -- env >"$T/env" 2>"$T/err"
sid=$(grep '^ADMIN_AUDIT_SESSION=' "$T/env" | cut -d= -f2)
check "ADMIN_AUDIT_SESSION set" [ -n "$sid" ]
check "ADMIN_AUDIT_TASK set" grep -qx 'ADMIN_AUDIT_TASK=ADM-001' "$T/env"
tp=$(grep '^TRACEPARENT=' "$T/env" | cut -d= -f2)
check "TRACEPARENT derived from the session id" [ "${tp:3:32}" = "$(echo "$sid" | tr -d -)" ]
check "TRACEPARENT shape" python3 -c "import re,sys; sys.exit(0 if re.fullmatch(r'00-[0-9a-f]{32}-[0-9a-f]{16}-01', '$tp') else 1)"
check "user's variables kept" grep -qx 'FOO_VISIBLE=1' "$T/env"
check "session id in journal" grep -q "\"session\":{\"id\":\"$sid\"" "$JOURNAL"

# --sync: every record is fdatasync'ed before the action it describes.
if command -v strace >/dev/null; then
    aa_task "$P" ADM-001 "/bin/true; /bin/true"
    set +e
    # (LeakSanitizer needs ptrace at exit, which strace holds: off for these two runs)
    ASAN_OPTIONS=detect_leaks=0 aa_env strace -f -qq -e trace=fdatasync -o "$T/sync.trace" "$AA_BIN" $(opts) --task ADM-001 --sync >/dev/null 2>"$T/err"
    rc=$?
    nsync=$(grep -c 'fdatasync(' "$T/sync.trace")
    nrec=$(grep -o '"records":[0-9]*' "$JOURNAL" | tail -1 | cut -d: -f2)
    check "--sync runs" [ "$rc" = 0 ]
    check "--sync: one fdatasync per record ($nsync for $nrec records)" [ "$nsync" -ge "$nrec" ]
    aa_run $(opts) --task ADM-001
    ASAN_OPTIONS=detect_leaks=0 aa_env strace -f -qq -e trace=fdatasync -o "$T/nosync.trace" "$AA_BIN" $(opts) --task ADM-001 >/dev/null 2>&1
    check "without --sync no fdatasync" [ "$(grep -c 'fdatasync(' "$T/nosync.trace")" = 0 ]
fi

# --quiet keeps only the exit line with the chain head.
run_doc "true" -q
check "quiet: one line on stderr" [ "$(grep -c . "$T/err")" = 1 ]
check "quiet: it is the receipt" grep -q "seq [0-9]* head [0-9a-f]\{64\}" "$T/err"
check "journal of all these sessions verifies" "$AA_BIN" verify "$JOURNAL"
aa_done
