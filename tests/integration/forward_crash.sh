#!/bin/bash
# Receiver crash loop (R5) and forwarder kill (R7): rsyslog (relp) is killed
# with SIGKILL three times while a burst of 60000 records is being
# delivered, and restarted each time; then the delivering forwarder process
# itself is SIGKILLed mid-burst.  After a final flush every record has
# arrived: none missing, in chain order on first occurrence, duplicates
# allowed (bounded by the RELP window per crash).
source "$AA_SOURCE_DIR/tests/integration/lib.sh"
source "$AA_SOURCE_DIR/tests/forward/rsyslog.sh"
FW=$AA_SOURCE_DIR/tests/forward
aa_init
rs_setup "$T/rs"
trap 'rs_stop; aa_cleanup' EXIT
N=60000
python3 "$FW/gen_journal.py" "$JOURNAL" BURST $N
cat > "$T/fwd.json" <<JSON
{"forward": ["relp://127.0.0.1:$RS_RELP"]}
JSON
rs_start || { fail rsyslog-start "$(cat "$T/rs/rsyslogd.out")"; aa_done; }

"$AA_BIN" flush --config "$T/fwd.json" --log "$JOURNAL" --timeout 50s >"$T/fl1.out" 2>&1 &
fpid=$!
kills=0
for round in 1 2 3; do
    threshold=$(( $(rs_lines "$T/rs/relp.log") + 2000 ))
    for i in $(seq 2000); do
        [ "$(rs_lines "$T/rs/relp.log")" -ge $threshold ] && break
        kill -0 $fpid 2>/dev/null || break
        sleep 0.005
    done
    kill -0 $fpid 2>/dev/null || break
    rs_kill9
    kills=$((kills + 1))
    echo "killed rsyslog at $(rs_lines "$T/rs/relp.log") lines"
    rs_start || { fail rsyslog-restart "$(tail -3 "$T/rs/rsyslogd.out")"; break; }
done
check "receiver SIGKILLed 3 times during the burst" [ "$kills" -eq 3 ]
wait $fpid; frc=$?
echo "flush after the crash loop: exit $frc"

# R7: kill -9 the forwarder process during delivery of a second burst
python3 "$FW/gen_journal.py" "$JOURNAL" BURST2 20000
"$AA_BIN" flush --config "$T/fwd.json" --log "$JOURNAL" --timeout 50s >"$T/fl2.out" 2>&1 &
fpid=$!
killed_fwd=0
for i in $(seq 2000); do
    [ "$(grep -c '"BURST2:' "$T/rs/relp.log")" -ge 5000 ] && break
    sleep 0.005
done
for c in $(cat /proc/$fpid/task/*/children 2>/dev/null); do
    kill -9 "$c" && killed_fwd=1
done
wait $fpid
check "forwarder SIGKILLed during delivery" [ "$killed_fwd" -eq 1 ]

"$AA_BIN" flush --config "$T/fwd.json" --log "$JOURNAL" --timeout 40s >"$T/fl3.out" 2>&1; frc=$?
check "final flush exits 0" [ "$frc" -eq 0 ]
sleep 0.3
if out=$(python3 "$FW/check_seq.py" "$JOURNAL" "$T/rs/relp.log"); then
    ok "all $((N + 20000)) records arrived, in order on first occurrence ($out)"
else
    fail "delivery after crashes" "$out"
fi
dups=$(echo "$out" | sed -n 's/.*dups=\([0-9]*\).*/\1/p')
check "duplicates bounded by 4 windows ($dups)" [ "${dups:-99999}" -le 512 ]
aa_done
