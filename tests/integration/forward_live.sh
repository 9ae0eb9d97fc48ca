#!/bin/bash
# Live forwarding during a real wrapper run to a real rsyslog (tcp, tls with a
# test CA, relp): records reach the receiver while the command still runs,
# every record arrives in order by the end of the run, RFC 5424 header
# fields parse in rsyslog, TLS verification is on by default.
source "$AA_SOURCE_DIR/tests/integration/lib.sh"
source "$AA_SOURCE_DIR/tests/forward/rsyslog.sh"
FW=$AA_SOURCE_DIR/tests/forward
aa_init
rs_setup "$T/rs"
trap 'rs_stop; aa_cleanup' EXIT
rs_start || { fail rsyslog-start "$(cat "$T/rs/rsyslogd.out")"; aa_done; }

P=$T/proj
aa_project "$P"
CMD='/bin/true one; sleep 2; for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true $i; done'
aa_task "$P" ADM-001 "$CMD"
cat > "$T/fwd.json" <<JSON
{"forward": [
  "syslog+tcp://127.0.0.1:$RS_TCP",
  {"url": "syslog+tls://127.0.0.1:$RS_TLS", "ca_file": "$T/rs/certs/ca.pem"},
  "relp://127.0.0.1:$RS_RELP"
 ],
 "checkpoint_every": 5}
JSON

aa_env "$AA_BIN" --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/fwd.json" --log "$JOURNAL" \
    --task ADM-001 >"$T/out" 2>"$T/err" &
wpid=$!
# live: session.start is at the receivers while the command is still sleeping
live=0
for i in $(seq 36); do
    if grep -q '"action":"session.start"' "$T/rs/relp.log" 2>/dev/null &&
       grep -q '"action":"session.start"' "$T/rs/tls.log" 2>/dev/null &&
       grep -q '"action":"session.start"' "$T/rs/tcp.log" 2>/dev/null; then
        kill -0 $wpid 2>/dev/null && live=1
        break
    fi
    sleep 0.05
done
wait $wpid; rc=$?
check "run exits 0" [ "$rc" -eq 0 ]
check "records delivered while the command runs" [ "$live" -eq 1 ]
n=$(wc -l < "$JOURNAL")
check "journal has the session ($n records)" [ "$n" -ge 14 ]
# finish() delivers up to session.end before the wrapper exits: no flush needed
for f in tcp tls relp; do
    if out=$(python3 "$FW/check_seq.py" "$JOURNAL" "$T/rs/$f.log" --min-checkpoints 3); then
        ok "$f: every record, in order ($out)"
    else
        fail "$f: delivery" "$out"
    fi
done
check "no flush hint when everything was delivered" bash -c "! grep -q 'stay spooled' '$T/err'"
# RFC 5424 as rsyslog parsed it
check "rfc5424 header parsed by rsyslog" grep -q \
    'ver=1 host=[^ ]* app=admin-audit procid=[0-9]* msgid=process.exec sd=\[admin-audit@32473 session="' \
    "$T/rs/tcp.props"
check "session.start is severity notice (authpriv)" grep -q 'pri=85 .*msgid=session.start' "$T/rs/tcp.props"
# MSG is the exact journal line (native format)
first=$(head -1 "$JOURNAL")
check "native MSG is the journal line byte for byte" grep -qxF "$first" "$T/rs/relp.log"
# session.forwarding: honest ack labels (R12)
python3 - "$JOURNAL" > "$T/fw.txt" <<'PY'
import json, sys
end = [json.loads(l) for l in open(sys.argv[1]) if '"session.end"' in l][-1]
for t in end["session"]["forwarding"]["targets"]:
    print(t["url"].split(":")[0], t["ack"], "acked_seq" in t, "sent_seq" in t)
PY
check "relp reported as acked" grep -qx 'relp relp True False' "$T/fw.txt"
check "tcp reported as unconfirmed" grep -qx 'syslog+tcp none False True' "$T/fw.txt"
check "tls reported as unconfirmed" grep -qx 'syslog+tls none False True' "$T/fw.txt"

# TLS verification: an unrelated CA is refused, records stay spooled; tls_verify=false sends.
J2=$T/j2.jsonl
python3 "$FW/gen_journal.py" "$J2" TLSV 5
before=$(rs_lines "$T/rs/tls.log")
cat > "$T/bad.json" <<JSON
{"forward": [{"url": "syslog+tls://127.0.0.1:$RS_TLS", "ca_file": "$T/rs/certs/other.pem"}]}
JSON
"$AA_BIN" flush --config "$T/bad.json" --log "$J2" --timeout 2s >"$T/fl.out" 2>"$T/fl.err"; frc=$?
check "flush with a wrong CA exits 1" [ "$frc" -eq 1 ]
check "wrong CA: nothing delivered" [ "$(rs_lines "$T/rs/tls.log")" -eq "$before" ]
check "wrong CA: report says spooled" grep -q '5 record(s) still spooled' "$T/fl.out"
cat > "$T/noverify.json" <<JSON
{"forward": [{"url": "syslog+tls://127.0.0.1:$RS_TLS", "tls_verify": false}]}
JSON
"$AA_BIN" flush --config "$T/noverify.json" --log "$J2" --timeout 5s >"$T/fl.out" 2>"$T/fl.err"; frc=$?
check "tls_verify=false delivers" [ "$frc" -eq 0 ]
sleep 0.3
check "tls_verify=false: 5 more records" [ "$(grep -c '"id":"TLSV:[0-9]*"' "$T/rs/tls.log")" -eq 5 ]
aa_done
