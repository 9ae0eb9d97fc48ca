#!/bin/bash
# Throughput and memory: 10,000 records to a loopback rsyslog over relp in
# under 5 s; the forwarder's peak RSS stays under 16 MiB with a 150,000
# record backlog (the journal is streamed, never loaded).
source "$AA_SOURCE_DIR/tests/integration/lib.sh"
source "$AA_SOURCE_DIR/tests/forward/rsyslog.sh"
FW=$AA_SOURCE_DIR/tests/forward
aa_init
rs_setup "$T/rs"
trap 'rs_stop; aa_cleanup' EXIT
rs_start || { fail rsyslog-start "$(cat "$T/rs/rsyslogd.out")"; aa_done; }
python3 "$FW/gen_journal.py" "$JOURNAL" PERF 10000
t0=$(date +%s%N)
"$AA_BIN" flush --config "$T/none.json" --log "$JOURNAL" --forward "relp://127.0.0.1:$RS_RELP" >/dev/null 2>&1; frc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "relp: 10000 records in $ms ms"
check "relp flush exits 0" [ "$frc" -eq 0 ]
check "10000 records over relp in < 5 s ($ms ms)" [ "$ms" -lt 5000 ]
sleep 0.3
check "all 10000 arrived" [ "$(grep -c '"id":"PERF:[0-9]*"' "$T/rs/relp.log")" -eq 10000 ]

J2=$T/big.jsonl
python3 "$FW/gen_journal.py" "$J2" BIG 150000
echo "backlog journal: $(stat -c %s "$J2") bytes"
"$AA_BIN" flush --config "$T/none.json" --log "$J2" --forward "relp://127.0.0.1:$RS_RELP" --timeout 50s >/dev/null 2>&1 &
fpid=$!
peak=0
while kill -0 $fpid 2>/dev/null; do
    for c in $(cat /proc/$fpid/task/*/children 2>/dev/null); do
        hwm=$(awk '/^VmHWM:/ {print $2}' /proc/$c/status 2>/dev/null)
        [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    done
    sleep 0.05
done
wait $fpid; frc=$?
echo "forwarder peak RSS: $peak KiB"
check "big backlog delivered" [ "$frc" -eq 0 ]
check "RSS was sampled" [ "$peak" -gt 0 ]
if nm -D "$AA_BIN" 2>/dev/null | grep -q __asan_init; then
    echo "sanitizer build: ASan's shadow memory makes RSS meaningless; bound not checked"
else
    check "forwarder peak RSS < 16 MiB ($peak KiB)" [ "$peak" -lt 16384 ]
fi
aa_done
