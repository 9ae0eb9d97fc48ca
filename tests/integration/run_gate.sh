#!/usr/bin/env bash
# The gate (contract §4): each refusal exits 125, names the check, and the
# command provably did not run (marker file absent); fixed documents pass
# `check` and run.
. "$(dirname "$0")/lib.sh"
aa_init
P=$T/proj
aa_project "$P"
M=$T/marker
CMD="touch $M"
opts() { echo --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/none.json" --log "$JOURNAL"; }

# expect_refusal NAME CHECKNAME [task overrides...] -- [extra wrapper args]
refused() {
    local name=$1 checkname=$2; shift 2
    rm -f "$M"
    aa_run $(opts) --task ADM-001 "$@" -- touch "$M"
    if [ "$rc" = 125 ] && [ ! -e "$M" ] && grep -q "refused: $checkname" "$T/err" \
        && [ "$(grep -c . "$T/err")" -eq 1 ]; then
        ok "$name"
    else
        fail "$name" "rc=$rc marker=$( [ -e "$M" ] && echo present || echo absent) err=$(cat "$T/err")"
    fi
}

# A good document runs.
aa_task "$P" ADM-001 "$CMD"
aa_run $(opts) --task ADM-001 -- touch "$M"
check "approved task runs" [ "$rc" = 0 ] && check "marker created" [ -e "$M" ]
check "journal verifies" "$AA_BIN" verify "$JOURNAL"
check "session.start first" [ "$(head -1 "$JOURNAL" | python3 -c 'import json,sys; print(json.load(sys.stdin)["event"]["action"])')" = session.start ]
check "session.end last" [ "$(tail -1 "$JOURNAL" | python3 -c 'import json,sys; print(json.load(sys.stdin)["event"]["action"])')" = session.end ]
check "exec of the command recorded" [ "$(jcount 'r["event"]["action"]=="process.exec" and r["process"]["args"]==["touch","'"$M"'"]')" = 1 ]
check "checks recorded in session.start" [ "$(jcount 'r["event"]["action"]=="session.start" and any(c["name"]=="task.status" and c["status"]=="pass" for c in r["session"]["checks"])')" = 1 ]
check "task id in envelope" [ "$(jcount 'r["session"]["task"]=="ADM-001"')" = "$(wc -l < "$JOURNAL")" ]
grep -q "session .* seq [0-9]* head [0-9a-f]\{64\}" "$T/err" && ok "exit line with head" || fail "exit line with head" "$(cat "$T/err")"

# Refusals, each with the document fixed again afterwards.
aa_task "$P" ADM-001 "$CMD" status=draft
refused "draft refused" task.status
aa_task "$P" ADM-001 "$CMD" status=reverted
refused "reverted refused" task.status
aa_task "$P" ADM-001 "$CMD" reviewer="$(id -un)/self"
refused "self-review refused" approval.segregation
aa_task "$P" ADM-001 "$CMD" reviewer="{name/role}"
refused "placeholder reviewer refused" approval.reviewer
aa_task "$P" ADM-001 "$CMD" approved=2999-01-01
refused "approval in the future refused" approval.approved_at
aa_task "$P" ADM-001 "$CMD" approved=2026-01-01 created=2026-02-01
refused "approval before creation refused" approval.approved_at
aa_task "$P" ADM-001 "$CMD" envs="prod"
refused "out of scope refused" env.scope
echo "MISSING_VAR=" >> "$P/.env.example"
aa_task "$P" ADM-001 "$CMD" vars="DATABASE_URL, MISSING_VAR"
refused "missing env var refused" env.vars
aa_task "$P" ADM-001 "$CMD" vars="NOT_IN_DOTENV"
NOT_IN_DOTENV=1 refused "var not in .env.example refused" env.dotenv
aa_task "$P" ADM-001 "$CMD" image="registry.example/app:9.9.9"
refused "image mismatch refused" env.image
aa_task "$P" ADM-001 "$CMD" check1=" "
refused "unticked pre-check refused" prechecks
aa_task "$P" ADM-001 "touch $T/other"
refused "deviating command refused" command.match
aa_task "$P" ADM-001 "$CMD" category=cleanup
refused "bad category refused" task.category

# Hostile documents: one clear line, 125, nothing run.
printf '\x00\x01\x02binary\xff\xfe' > "$P/.aiwg/admin-tasks/ADM-001.md"
refused "binary document refused" task.document
: > "$P/.aiwg/admin-tasks/ADM-001.md"
refused "empty document refused" task.document
head -c 5242880 /dev/zero | tr '\0' 'a' > "$P/.aiwg/admin-tasks/ADM-001.md"
refused "5 MB document refused" task.document
rm -f "$P/.aiwg/admin-tasks/ADM-001.md"
refused "missing document refused" task.document
aa_task "$P" ADM-001 "$CMD"
sed -i '0,/^```$/{/^```$/d}' "$P/.aiwg/admin-tasks/ADM-001.md"
rm -f "$M"; aa_run $(opts) --task ADM-001 -- touch "$M"
check "truncated fence refused" [ "$rc" = 125 ] && check "truncated fence: nothing ran" [ ! -e "$M" ]

# The id on the command line must be valid and match the H1.
rm -f "$M"; aa_run $(opts) --task ADM-1 -- touch "$M"
check "invalid task id refused" [ "$rc" = 125 ] && check "invalid id: nothing ran" [ ! -e "$M" ]
aa_task "$P" ADM-002 "$CMD"
cp "$P/.aiwg/admin-tasks/ADM-002.md" "$P/.aiwg/admin-tasks/ADM-001.md"
refused "H1 id differs from file refused" task.id

# Fixed again: check passes and prints every check; run works.
aa_task "$P" ADM-001 "$CMD"
rm -f "$M"
aa_run check $(opts) --task ADM-001 -- touch "$M"
check "check passes when fixed" [ "$rc" = 0 ]
check "check runs nothing" [ ! -e "$M" ]
for c in task.status approval.reviewer approval.segregation env.scope env.vars env.image prechecks command.match; do
    grep -q "^pass  $c" "$T/out" && ok "check prints $c" || fail "check prints $c" "$(cat "$T/out")"
done
aa_task "$P" ADM-001 "$CMD" status=draft
aa_run check $(opts) --task ADM-001 -- touch "$M"
check "check exits 125 on a refusal" [ "$rc" = 125 ]
grep -q "^fail  task.status" "$T/out" && ok "check prints the failing check" || fail "check prints fail" "$(cat "$T/out")"

# --deviation runs a different command, recorded as a violation.
aa_task "$P" ADM-001 "touch $T/other"
aa_run $(opts) --task ADM-001 --deviation "hotfix: different path" -- touch "$M"
check "deviation runs" [ "$rc" = 0 ] && check "deviation marker" [ -e "$M" ]
check "deviation recorded as violation" [ "$(jcount 'r["event"]["action"]=="session.start" and "command.match" in r["session"].get("violations",[])')" -ge 1 ]

# No COMMAND: the documented block runs (bash -c for a bash fence).
rm -f "$M"
aa_task "$P" ADM-001 "echo from-doc > $M; [ -n \"\$BASH_VERSION\" ] && echo bash >> $M"
aa_run $(opts) --task ADM-001
check "documented block runs" [ "$rc" = 0 ]
check "documented block ran under bash" grep -q bash "$M"
rm -f "$M"
aa_task "$P" ADM-001 "echo sh > $M" lang=sh
aa_run $(opts) --task ADM-001
check "sh fence runs with /bin/sh" [ "$rc" = 0 ] && check "sh marker" grep -q sh "$M"

# executed needs --rerun --reason.
aa_task "$P" ADM-001 "$CMD" status=executed
refused "executed refused without --rerun" task.status
rm -f "$M"; aa_run $(opts) --task ADM-001 --rerun -- touch "$M"
check "--rerun without --reason refused" [ "$rc" = 125 ] && check "rerun w/o reason: nothing ran" [ ! -e "$M" ]
aa_run $(opts) --task ADM-001 --rerun --reason "first run was interrupted" -- touch "$M"
check "--rerun --reason runs" [ "$rc" = 0 ] && check "rerun marker" [ -e "$M" ]

# Environment identity: config (root-owned, not writable by others) vs APP_ENV.
aa_task "$P" ADM-001 "$CMD"
if [ "$(id -u)" = 0 ]; then
    echo '{"environment": "production"}' > "$T/prod.json"; chmod 644 "$T/prod.json"
    rm -f "$M"
    set +e
    aa_env "$AA_BIN" --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/prod.json" --log "$JOURNAL" --task ADM-001 -- touch "$M" 2>"$T/err"
    rc=$?
    check "config vs APP_ENV disagreement refused" [ "$rc" = 125 ]
    check "disagreement: nothing ran" [ ! -e "$M" ]
fi
rm -f "$M"
set +e
env -u APP_ENV IMAGE_REF=registry.example/app:1.2.3 DATABASE_URL=x "$AA_BIN" $(opts) --task ADM-001 -- touch "$M" 2>"$T/err"
rc=$?
check "unidentified machine refused" [ "$rc" = 125 ] && check "unidentified: nothing ran" [ ! -e "$M" ]
aa_task "$P" ADM-001 "$CMD" envs="dev, staging"
env -u APP_ENV IMAGE_REF=registry.example/app:1.2.3 DATABASE_URL=x "$AA_BIN" $(opts) --task ADM-001 -- touch "$M" 2>"$T/err"
rc=$?
check "unidentified machine allowed for a dev task" [ "$rc" = 0 ]

# Config: unknown keys rejected by name; the journal must be writable.
aa_task "$P" ADM-001 "$CMD"
echo '{"environmnet": "staging"}' > "$T/bad.json"
rm -f "$M"
aa_run --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/bad.json" --log "$JOURNAL" --task ADM-001 -- touch "$M"
check "unknown config key refused" [ "$rc" = 125 ] && check "config error names the key" grep -q environmnet "$T/err"
check "bad config: nothing ran" [ ! -e "$M" ]
for bad in /dev/full /proc/version; do
    rm -f "$M"
    aa_run --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/none.json" --log "$bad" --task ADM-001 -- touch "$M"
    check "unwritable journal $bad refused" [ "$rc" = 125 ]
    check "unwritable journal $bad: nothing ran" [ ! -e "$M" ]
done
aa_done
