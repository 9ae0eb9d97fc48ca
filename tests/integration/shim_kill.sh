#!/bin/bash
# Killing the wrapper with SIGKILL mid-run leaves no exec unrecorded: a child
# execs in a loop, each exec that succeeded logs itself to a side file, and
# every logged exec must be in the journal (record before effect).  After the
# wrapper is gone the next exec fails (EACCES, fail-closed) and the loop ends.
# verify says truncated (2) or incomplete (3), never tampered (1).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shim_common.bash"

SIDE=$T/side
CMD="$PROBE loop $PROBE $SIDE 100000"
aa_task "$P" ADM-900 "$CMD"
JOURNAL=$T/kill.jsonl
env "${AA_ENV[@]}" "$AA_BIN" --task ADM-900 $(aa_opts) >"$T/out" 2>"$T/err" &
wpid=$!
for _ in $(seq 200); do
    [ -f "$SIDE" ] && [ "$(wc -l < "$SIDE")" -ge 50 ] && break
    sleep 0.05
done
kill -KILL "$wpid"
wait "$wpid" 2>/dev/null
# the loop ends at its first failed exec; wait for the side file to settle
last=-1
for _ in $(seq 100); do
    n=$(wc -l < "$SIDE")
    [ "$n" = "$last" ] && break
    last=$n
    sleep 0.2
done
n=$(wc -l < "$SIDE")
[ "$n" -ge 50 ] && ok "loop ran ($n execs before and around the kill)" || fail "loop ran" "$n"
python3 - "$JOURNAL" "$SIDE" "$PROBE" <<'PY' && ok "every exec that ran is in the journal" || fail "unrecorded exec" "see above"
import json, sys
recorded = set()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        r = json.loads(line)
    except ValueError:
        continue  # a torn last line
    a = r.get("process", {}).get("args", [])
    if r["event"]["action"] == "process.exec" and a[:3] == [sys.argv[3], "mark", sys.argv[2]]:
        recorded.add(a[3])
ran = [l.strip() for l in open(sys.argv[2])]
missing = [x for x in ran if x not in recorded]
if missing:
    print("ran but not recorded:", missing[:10]); sys.exit(1)
PY
"$AA_BIN" verify "$JOURNAL" >/dev/null 2>&1; v=$?
{ [ "$v" -eq 2 ] || [ "$v" -eq 3 ]; } && ok "verify: truncated or incomplete ($v)" || fail "verify" "exit $v"
aa_done
