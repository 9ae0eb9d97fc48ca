#!/bin/bash
# Receiver down for whole sessions: the records stay spooled in the journal
# (the run is not slowed down nor failed), `flush` with the receiver still
# down exits 1 and says so; once rsyslog is up, `admin-audit flush` delivers
# every record of both sessions, in order, over relp and tcp, and a second
# flush has nothing left to do.
source "$AA_SOURCE_DIR/tests/integration/lib.sh"
source "$AA_SOURCE_DIR/tests/forward/rsyslog.sh"
FW=$AA_SOURCE_DIR/tests/forward
aa_init
rs_setup "$T/rs"
trap 'rs_stop; aa_cleanup' EXIT

P=$T/proj
aa_project "$P"
aa_task "$P" ADM-002 'for i in $(seq 30); do /bin/true $i; done'
cat > "$T/fwd.json" <<JSON
{"forward": ["relp://127.0.0.1:$RS_RELP", "syslog+tcp://127.0.0.1:$RS_TCP"]}
JSON
run_once() {
    local t0=$(date +%s%N)
    aa_env "$AA_BIN" --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/fwd.json" --log "$JOURNAL" \
        --task ADM-002 >"$T/out" 2>"$T/err"
    rc=$?
    elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
}
run_once
check "run 1 with the receiver down exits 0" [ "$rc" -eq 0 ]
check "run 1 warns that records stay spooled" grep -q 'spooled' "$T/err"
run_once
check "run 2 with the receiver down exits 0" [ "$rc" -eq 0 ]
# a dead target costs at most the finish timeout (5 s) plus the command
check "a dead target does not hold the run ($elapsed ms)" [ "$elapsed" -lt 9000 ]
n=$(wc -l < "$JOURNAL")
check "journal has two sessions ($n records)" [ "$n" -ge 60 ]

"$AA_BIN" flush --config "$T/fwd.json" --log "$JOURNAL" --timeout 1s >"$T/fl.out" 2>"$T/fl.err"; frc=$?
check "flush with the receiver down exits 1" [ "$frc" -eq 1 ]
check "flush reports what is spooled" grep -q "$n record(s) still spooled" "$T/fl.out"

rs_start || { fail rsyslog-start "$(cat "$T/rs/rsyslogd.out")"; aa_done; }
"$AA_BIN" flush --config "$T/fwd.json" --log "$JOURNAL" >"$T/fl.out" 2>"$T/fl.err"; frc=$?
check "flush after the receiver came back exits 0" [ "$frc" -eq 0 ]
check "flush report: relp acknowledged, nothing spooled" \
    grep -q '^relp://127.0.0.1:[0-9]* (ack relp): acknowledged through .*, 0 record(s) still spooled' "$T/fl.out"
check "flush report: tcp only sent" grep -q '(ack none): sent through' "$T/fl.out"
sleep 0.3
for f in relp tcp; do
    if out=$(python3 "$FW/check_seq.py" "$JOURNAL" "$T/rs/$f.log" --exact --min-checkpoints 2); then
        ok "$f: both sessions, every record, in order, once ($out)"
    else
        fail "$f: delivery" "$out"
    fi
done
before=$(rs_lines "$T/rs/relp.log")
"$AA_BIN" flush --config "$T/fwd.json" --log "$JOURNAL" >"$T/fl.out" 2>"$T/fl.err"; frc=$?
check "second flush exits 0" [ "$frc" -eq 0 ]
check "second flush sends nothing again" [ "$(rs_lines "$T/rs/relp.log")" -eq "$before" ]

# --forward on the command line works without a config target; usage errors
"$AA_BIN" flush --config "$T/none.json" --log "$JOURNAL" --forward "bogus://x" >/dev/null 2>"$T/fl.err"; frc=$?
check "unusable --forward URL is a usage error (64)" [ "$frc" -eq 64 ]
check "the refusal names the URL" grep -q 'bogus://x' "$T/fl.err"
"$AA_BIN" flush --config "$T/none.json" --log "$JOURNAL" --forward-format xml >/dev/null 2>&1; frc=$?
check "bad --forward-format is a usage error" [ "$frc" -eq 64 ]
"$AA_BIN" flush --config "$T/none.json" --log "$JOURNAL" >/dev/null 2>&1; frc=$?
check "no targets: nothing to do, exit 0" [ "$frc" -eq 0 ]
aa_done
