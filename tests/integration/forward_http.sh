#!/bin/bash
# HTTP targets against tests/forward/bulk_server.py: Elasticsearch _bulk with
# create/_id = event.id, where every 7th record is rejected (429) the first
# time: the rejected items are retried and every record ends up stored
# exactly once by _id, in order of first storage per session except for the
# retried ones; ECS format on the wire; the JSON-lines mode retries a 503.
source "$AA_SOURCE_DIR/tests/integration/lib.sh"
FW=$AA_SOURCE_DIR/tests/forward
aa_init
python3 "$FW/bulk_server.py" "$T/port" "$T/store.jsonl" 7 1 2>"$T/srv.err" &
spid=$!
trap 'kill $spid 2>/dev/null; wait $spid 2>/dev/null; aa_cleanup' EXIT
for i in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
PORT=$(cat "$T/port")
python3 "$FW/gen_journal.py" "$JOURNAL" HTTP1 500
cat > "$T/bulk.json" <<JSON
{"forward": [{"url": "http://user:secretpw@127.0.0.1:$PORT", "http_mode": "bulk", "http_index": "audit"}],
 "forward_format": "ecs", "checkpoint_every": 100}
JSON
"$AA_BIN" flush --config "$T/bulk.json" --log "$JOURNAL" --timeout 30s >"$T/fl.out" 2>"$T/fl.err"; frc=$?
check "bulk flush exits 0" [ "$frc" -eq 0 ]
check "report redacts the userinfo" grep -q 'http://\[REDACTED\]@127.0.0.1' "$T/fl.out"
check "password not in the report" bash -c "! grep -q secretpw '$T/fl.out' '$T/fl.err'"
check "requests went to /audit/_bulk as ndjson" grep -q '^/audit/_bulk application/x-ndjson' "$T/store.jsonl.requests"
python3 - "$T/store.jsonl" > "$T/res.txt" <<'PY'
import json, sys, collections
docs = [json.loads(l) for l in open(sys.argv[1])]
ids = collections.Counter(d["_id"] for d in docs)
recs = [d for d in docs if d["event"]["action"] != "chain.checkpoint"]
print("stored", len(recs))
print("maxcount", max(ids.values()))
print("ids_ok", all(d["_id"] == d["event"]["id"] for d in recs))
print("ecs", all(d["ecs"]["version"] == "8.11.0" and d["event"]["kind"] == "event" for d in docs))
print("seqs", sorted(d["event"]["sequence"] for d in recs) == list(range(1, 501)))
print("checkpoints", len(docs) - len(recs))
PY
cat "$T/res.txt"
check "all 500 records stored" grep -qx 'stored 500' "$T/res.txt"
check "each _id stored exactly once" grep -qx 'maxcount 1' "$T/res.txt"
check "_id is event.id" grep -qx 'ids_ok True' "$T/res.txt"
check "documents are ECS" grep -qx 'ecs True' "$T/res.txt"
check "every chain.seq once" grep -qx 'seqs True' "$T/res.txt"
check "checkpoints every 100 and at session.end" grep -qx 'checkpoints 5' "$T/res.txt"
retried=$(grep -c '_bulk' "$T/store.jsonl.requests")
check "rejected items were retried in later requests ($retried requests)" [ "$retried" -gt 2 ]
cp="$(ls "$JOURNAL.d/cursors/"*.json)"
check "cursor at the end of the journal" python3 -c "
import json,os,sys; c=json.load(open('$cp')); sys.exit(0 if c['offset']==os.path.getsize('$JOURNAL') and c['event_id']=='HTTP1:500' and 'secretpw' not in open('$cp').read() else 1)"

# a second flush: nothing new is sent
before=$(wc -l < "$T/store.jsonl.requests")
"$AA_BIN" flush --config "$T/bulk.json" --log "$JOURNAL" >/dev/null 2>&1
check "second flush sends nothing" [ "$(wc -l < "$T/store.jsonl.requests")" -eq "$before" ]

# JSON lines mode (native): the first POST gets 503, the batch is retried
rm -f "$T/store.jsonl"
"$AA_BIN" flush --config "$T/none.json" --log "$JOURNAL" --forward "http://127.0.0.1:$PORT/lines" \
    --timeout 20s >"$T/fl.out" 2>"$T/fl.err"; frc=$?
check "lines flush exits 0" [ "$frc" -eq 0 ]
if out=$(python3 "$FW/check_seq.py" "$JOURNAL" "$T/store.jsonl" --exact); then
    ok "lines: every record once, in order ($out)"
else
    fail "lines delivery" "$out"
fi
check "lines: native records (schema admin-audit/1)" grep -q '"schema":"admin-audit/1"' "$T/store.jsonl"

# libcurl is loaded by the http sink only (wrapper/curl_dl.h): the wrapper
# does not link it, so sessions without an http target never map it
check "admin-audit does not link libcurl" bash -c "! readelf -d '$AA_BIN' | grep -q 'NEEDED.*libcurl'"
check "a plain run does not map libcurl" bash -c "LD_DEBUG=files '$AA_BIN' --version >'$T/ld.out' 2>&1 && grep -q libjson-c '$T/ld.out' && ! grep -q libcurl '$T/ld.out'"
# a session with an http target: the forwarder loads libcurl, the wrapper
# (the command's parent) does not, and the records arrive
P=$T/proj
aa_project "$P"
aa_task "$P" ADM-001 'grep -c libcurl /proc/$PPID/maps; true'
rm -f "$T/store.jsonl"
(cd "$P" && aa_env "$AA_BIN" --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/none.json" \
    --log "$T/sess.jsonl" --forward "http://127.0.0.1:$PORT/lines" --task ADM-001) >"$T/out" 2>"$T/err"
check "http target in a session: the wrapper maps no libcurl" [ "$(head -1 "$T/out")" = 0 ]
check "http target in a session: the records arrived" grep -q '"action":"session.end"' "$T/store.jsonl"

# Without a loadable libcurl (here: /dev/null bind-mounted over it in a
# private mount namespace, root only) an http target says why once and
# keeps the records spooled; nothing else breaks.
CURLSO=$(readlink -f "$(ldconfig -p | awk '/libcurl.so.4 .*x86-64/ {print $NF; exit}')" 2>/dev/null)
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && [ -f "$CURLSO" ]; then
    python3 "$FW/gen_journal.py" "$T/nocurl.jsonl" NOCURL 20
    unshare -m -- sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$CURLSO" \
        "$AA_BIN" flush --config "$T/none.json" --log "$T/nocurl.jsonl" --forward "http://127.0.0.1:$PORT/lines" \
        --timeout 3s >"$T/nc.out" 2>"$T/nc.err"; nrc=$?
    check "no libcurl: flush exits 1 (still spooled)" [ "$nrc" -eq 1 ]
    check "no libcurl: the reason is given" grep -q 'cannot load libcurl' "$T/nc.err"
    "$AA_BIN" flush --config "$T/none.json" --log "$T/nocurl.jsonl" --forward "http://127.0.0.1:$PORT/lines" \
        --timeout 20s >/dev/null 2>&1; nrc=$?
    check "with libcurl back: the spooled records go out (flush 0)" [ "$nrc" -eq 0 ]
else
    ok "# skip: no libcurl test without root, unshare and a libcurl.so.4 file"
fi
aa_done
