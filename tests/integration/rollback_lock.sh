#!/usr/bin/env bash
# rollback (contract §2): the documented Rollback command runs through the
# same gate and audit as run, only from Status executed; an ADR instead of a
# command is refused with that reference; report --write then sets reverted
# once the verification boxes are ticked.  The per-task lock: a second
# concurrent run of the same task is refused (125) naming the holder.
. "$(dirname "$0")/lib.sh"
aa_init
P=$T/proj
aa_project "$P"
M=$T/rolled-back
opts() { echo --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/none.json" --log "$JOURNAL"; }
doc=$P/.aiwg/admin-tasks/ADM-001.md

aa_task "$P" ADM-001 "true" status=approved rollback="touch $M"
aa_run rollback $(opts) --task ADM-001
check "rollback refused unless executed" [ "$rc" = 125 ]
check "rollback refusal names the check" grep -q "refused: task.status" "$T/err"
check "rollback refused: nothing ran" [ ! -e "$M" ]

aa_task "$P" ADM-001 "true" status=executed rollback="touch $M"
aa_run rollback $(opts) --task ADM-001 -- touch "$M"
check "rollback takes no COMMAND" [ "$rc" = 125 ]
check "rollback with COMMAND: nothing ran" [ ! -e "$M" ]
aa_run rollback $(opts) --task ADM-001
check "rollback of an executed task runs" [ "$rc" = 0 ]
check "the rollback command ran" [ -e "$M" ]
check "session.verb is rollback" [ "$(jcount 'r["event"]["action"]=="session.start" and r["session"]["verb"]=="rollback"')" = 1 ]
check "rollback exec recorded" [ "$(jcount 'r["event"]["action"]=="process.exec" and "touch" in r["process"].get("executable","")')" -ge 1 ]
check "rollback journal verifies" "$AA_BIN" verify "$JOURNAL"

# report --write: reverted only once every verification box is ticked.
aa_run report $(opts) --task ADM-001 --write
check "report leaves Status while verification is unticked" grep -q '^\*\*Status\*\*: executed' "$doc"
sed -i 's/^- \[ \] Rows restored/- [x] Rows restored/' "$doc"
aa_run report $(opts) --task ADM-001 --write
check "report --write sets reverted after a verified rollback" grep -q '^\*\*Status\*\*: reverted' "$doc"
check "report filled Exit code" grep -q '^- Exit code: 0' "$doc"

# An ADR instead of a rollback command is refused with the reference.
aa_task "$P" ADM-001 "true" status=executed
python3 - "$doc" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r"## Rollback\n\*\*Command\*\*:\n```bash\n.*?\n```\n",
           "## Rollback\nADR-042: the backfill cannot be undone; restore from backup instead.\n", s, flags=re.S)
open(p, "w").write(s)
PY
aa_run rollback $(opts) --task ADM-001
check "ADR rollback refused" [ "$rc" = 125 ]
check "ADR refusal cites the ADR" grep -q "ADR-042" "$T/err"

# Lock: the second concurrent run of the same task is refused with the holder's id.
aa_task "$P" ADM-001 "sleep 3"
set +e
env APP_ENV=staging IMAGE_REF=registry.example/app:1.2.3 DATABASE_URL=x \
    "$AA_BIN" $(opts) --task ADM-001 >"$T/first.out" 2>"$T/first.err" &
first=$!
for _ in $(seq 60); do pgrep -P "$first" >/dev/null && break; sleep 0.05; done
sleep 0.2
aa_run $(opts) --task ADM-001 -- sleep 3
check "concurrent run refused" [ "$rc" = 125 ]
check "refusal names the lock" grep -q "refused: task.lock" "$T/err"
wait "$first"; frc=$?
holder=$(grep -o 'session [0-9a-f-]* seq' "$T/first.err" | awk '{print $2}')
check "first run finished normally" [ "$frc" = 0 ]
check "refusal names the holder's session ($holder)" grep -q "$holder" "$T/err"
aa_run $(opts) --task ADM-001 -- sleep 3
check "the lock is free again afterwards" [ "$rc" = 0 ]
aa_done
