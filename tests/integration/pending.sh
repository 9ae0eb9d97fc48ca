#!/usr/bin/env bash
# admin-audit pending (issue item 5, BG-6/BG-7): break-glass sessions owe a
# retroactive approval within 24 h and a completed post-mortem within 48 h;
# executed tasks owe their Post-Execution Audit.  Exit 0 clean, 1 while
# anything is overdue, 64 usage.  Journals are fabricated with session dates
# and --now on either side of the deadlines.
. "$(dirname "$0")/lib.sh"
aa_init
P=$T/proj
aa_project "$P"
TD=$P/.aiwg/admin-tasks
INC=$P/.aiwg/incidents

# bgsession FILE SID TASK|- USER TIMESTAMP [MODE]: append a session.start.
bgsession() {
    python3 - "$@" <<'PY'
import json, sys
path, sid, task, user, ts = sys.argv[1:6]
mode = sys.argv[6] if len(sys.argv) > 6 else "break-glass"
r = {"@timestamp": ts, "schema": "admin-audit/1",
     "event": {"action": "session.start", "outcome": "success", "id": sid + ":1"},
     "session": {"id": sid, "task": None if task == "-" else task, "mode": mode,
                 "reason": "the database is on fire, restart it"},
     "user": {"name": user, "effective": {"name": "root"}}, "host": {"name": "h"},
     "process": {"pid": 1}, "chain": {"seq": 1, "prev": "0" * 64}, "hash": "0" * 64}
with open(path, "a") as f:
    f.write(json.dumps(r, separators=(",", ":")) + "\n")
PY
}
pend() { aa_run pending --tasks-dir "$TD" --config "$T/none.json" --log "$JOURNAL" "$@"; }
expect_rc() {
    local name=$1 want=$2; shift 2
    pend "$@"
    if [ "$rc" = "$want" ]; then ok "$name"; else fail "$name" "rc=$rc out=$(cat "$T/out") err=$(cat "$T/err")"; fi
}

# ---- usage ----
expect_rc "bad --format is usage (64)" 64 --format xml
expect_rc "bad --now is usage (64)" 64 --now yesterday
expect_rc "impossible date is usage (64)" 64 --now 2026-02-31T00:00:00Z
expect_rc "unknown option is usage (64)" 64 --frobnicate
expect_rc "stray argument is usage (64)" 64 extra
expect_rc "no journal, no tasks: clean (0)" 0
check "clean says so" grep -q "nothing open" "$T/out"

# ---- a break-glass session on a draft task ----
S1=01a00000-0000-7000-8000-000000000001
aa_task "$P" ADM-010 "true" status=draft reviewer="{name/role}" approved=YYYY-MM-DD
bgsession "$JOURNAL" "$S1" ADM-010 alice 2026-01-01T10:00:00.000000Z
bgsession "$JOURNAL" 01a00000-0000-7000-8000-0000000000ff ADM-010 alice 2026-01-01T10:00:00.000000Z standard

expect_rc "2 h after: open, not overdue (0)" 0 --now 2026-01-01T12:00:00Z
check "lists the open approval" grep -q "^open *approval *session $S1 (task ADM-010, operator alice" "$T/out"
check "lists the open post-mortem" grep -q "^open *post-mortem session $S1" "$T/out"
check "standard sessions are not listed" [ "$(grep -c 0000000000ff "$T/out")" = 0 ]
check "says why: draft" grep -q "Status is draft" "$T/out"
expect_rc "session in the future of --now: open (0)" 0 --now 2025-12-31T00:00:00Z
expect_rc "25 h after: approval overdue (1)" 1 --now 2026-01-02T11:00:00Z
check "approval OVERDUE" grep -q "^OVERDUE approval *session $S1" "$T/out"
check "post-mortem still only open" grep -q "^open *post-mortem session $S1" "$T/out"
expect_rc "offset --now honoured (23 h after in UTC: 0)" 0 --now 2026-01-02T11:00:00+02:00

# json
pend --now 2026-01-02T11:00:00Z --format json
python3 - "$T/out" "$S1" > "$T/js" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
kinds = {(i["kind"], i["status"]) for i in d["items"] if i["session"] == sys.argv[2]}
print("ok" if kinds == {("approval", "overdue"), ("post-mortem", "open")} and d["overdue"] == 1
      and d["open"] == 1 and d["now"] == "2026-01-02T11:00:00Z"
      and all(i["due"] for i in d["items"]) else "bad %r" % d)
PY
check "json output" [ "$(cat "$T/js")" = ok ]
check "json exit 1 when overdue" [ "$rc" = 1 ]

# Retroactive approval by the operator does not count; nor before the session.
aa_task "$P" ADM-010 "true" status=approved reviewer="alice/sre" approved=2026-01-01
expect_rc "self-approval does not count (1)" 1 --now 2026-01-02T11:00:00Z
check "says the reviewer is the operator" grep -q "Reviewer alice is the operator" "$T/out"
aa_task "$P" ADM-010 "true" status=approved reviewer="Bob/lead" approved=2025-12-30 created=2025-12-29
expect_rc "approval dated before the session does not count (1)" 1 --now 2026-01-02T11:00:00Z
aa_task "$P" ADM-010 "true" status=approved reviewer="Bob/lead" approved=2026-01-01 created=2026-01-01
expect_rc "approved by someone else: only the post-mortem is open (0)" 0 --now 2026-01-02T11:00:00Z
check "no approval line" [ "$(grep -c approval "$T/out")" = 0 ]

# Post-mortem: overdue at 49 h; a draft file does not count; complete does.
expect_rc "49 h after, no post-mortem: overdue (1)" 1 --now 2026-01-03T11:00:00Z
check "post-mortem OVERDUE" grep -q "^OVERDUE post-mortem session $S1" "$T/out"
mkdir -p "$INC"
cat > "$INC/PM-ADM-010-20260101.md" <<PM
# Post-mortem: break-glass session $S1

**Status**: draft
PM
expect_rc "draft post-mortem: still overdue (1)" 1 --now 2026-01-03T11:00:00Z
check "names the draft post-mortem" grep -q "PM-ADM-010-20260101.md not complete" "$T/out"
sed -i 's/^\*\*Status\*\*: draft/**Status**: complete/' "$INC/PM-ADM-010-20260101.md"
expect_rc "complete post-mortem + approval: clean (0)" 0 --now 2026-01-03T11:00:00Z
check "clean output" grep -q "nothing open" "$T/out"
# A hand-written post-mortem found by name (no session id inside).
printf '# PM\n\n**Status:** `Complete`\n' > "$INC/PM-ADM-010-20260101.md"
expect_rc "post-mortem found by task and day, lenient Status (0)" 0 --now 2026-01-03T11:00:00Z

# ---- a break-glass session without a task ----
S2=01a00000-0000-7000-8000-000000000002
bgsession "$JOURNAL" "$S2" - carol 2026-01-05T08:00:00Z
expect_rc "taskless session, 1 h: open (0)" 0 --now 2026-01-05T09:00:00Z
expect_rc "taskless session, 30 h: overdue (1)" 1 --now 2026-01-06T14:00:00Z
check "taskless: no change record" grep -q "^OVERDUE approval *session $S2 (task none, operator carol.*without --task" "$T/out"
# Its post-mortem names the session (the file the wrapper writes does).
printf '# Post-mortem: break-glass session %s\n\n**Status**: complete\n' "$S2" > "$INC/PM-01a00000-0000-20260105.md"
pend --now 2026-01-08T14:00:00Z
check "taskless: post-mortem found by session id" [ "$(grep -c "post-mortem session $S2" "$T/out")" = 0 ]
check "taskless: approval still overdue (1)" [ "$rc" = 1 ]

# ---- executed tasks owe their Post-Execution Audit ----
P2=$T/proj2
aa_project "$P2"
aa_task "$P2" ADM-020 "true" status=executed
aa_task "$P2" ADM-021 "true" status=approved
aa_run pending --tasks-dir "$P2/.aiwg/admin-tasks" --config "$T/none.json" --log "$T/none.jsonl"
check "unticked audit: finding (1)" [ "$rc" = 1 ]
check "audit line names the task and boxes" grep -q "^OVERDUE audit *task ADM-020: executed, 4 of 4 Post-Execution Audit boxes unticked: Results verified" "$T/out"
check "approved task not listed" [ "$(grep -c ADM-021 "$T/out")" = 0 ]
sed -i 's/^- \[ \] \(Results verified\|Stakeholders notified\|Task marked\|Any follow-up\)/- [x] \1/' "$P2/.aiwg/admin-tasks/ADM-020.md"
aa_run pending --tasks-dir "$P2/.aiwg/admin-tasks" --config "$T/none.json" --log "$T/none.jsonl"
check "ticked audit: clean (0)" [ "$rc" = 0 ]

# ---- config incidents_dir is honoured ----
mkdir -p "$T/inc2"
printf '{"incidents_dir": "%s"}\n' "$T/inc2" > "$T/cfg.json"
aa_run pending --tasks-dir "$TD" --config "$T/cfg.json" --log "$JOURNAL" --now 2026-01-03T11:00:00Z
check "config incidents_dir: the project's post-mortem no longer counts (1)" [ "$rc" = 1 ]
check "config incidents_dir named" grep -q "no post-mortem in $T/inc2" "$T/out"

aa_done
