#!/usr/bin/env bash
# Fail-closed (contract §7.3, reference/schema.md R1/R3): a journal that
# fills up mid-session stops every further exec with EACCES (the marker the
# command would create never appears), the journal keeps only whole lines
# (verify: incomplete, never tampered), and the session is ended.  With
# --fail-open the command continues and the loss is counted.
. "$(dirname "$0")/lib.sh"
aa_init
[ "$(id -u)" = 0 ] || { echo "needs root for a private tmpfs"; exit 77; }
unshare -m true 2>/dev/null || { echo "no mount namespaces here"; exit 77; }
P=$T/proj
aa_project "$P"
M=$T/marker
# 200 execs of /bin/true (about 1 KiB of journal each) then the marker: a
# 64 KiB journal fills long before the marker's exec.
CMD="for i in \$(seq 200); do /bin/true \$i; done; touch $M"
aa_task "$P" ADM-001 "$CMD"

small() { # run the wrapper with its journal on a 64 KiB tmpfs in a private mount namespace
    local extra=$1
    set +e
    aa_env unshare -m bash -c '
        mkdir -p "$1/small" && mount -t tmpfs -o size=64k tmpfs "$1/small" || exit 77
        shift; "$@"; rc=$?; cp "$T_SMALL/small/audit.jsonl" "$T_SMALL/journal.copy" 2>/dev/null; exit $rc
    ' _ "$T" "$AA_BIN" --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/none.json" \
        --log "$T/small/audit.jsonl" --task ADM-001 $extra >"$T/out" 2>"$T/err$extra"
    rc=$?
}
export T_SMALL=$T

timeout 120 true
small ""
[ "$rc" = 77 ] && { echo "tmpfs mount failed"; exit 77; }
check "fail-closed: the marker's exec was refused" [ ! -e "$M" ]
check "fail-closed: non-zero exit ($rc)" [ "$rc" != 0 ]
check "fail-closed: stderr says the journal failed" grep -q "journal .*write failed" "$T/err"
check "fail-closed: the refusal is counted" grep -q "[1-9][0-9]* denied" "$T/err"
JOURNAL=$T/journal.copy
set +e
"$AA_BIN" verify "$JOURNAL" >/dev/null 2>&1; vrc=$?
check "fail-closed: journal is whole lines, incomplete not tampered (verify $vrc)" [ "$vrc" = 3 ]
n=$(jcount 'r["event"]["action"]=="process.exec"')
check "fail-closed: the execs before the failure are recorded ($n)" [ "$n" -gt 10 ]

rm -f "$M"
small "--fail-open"
check "fail-open: the command ran to the end" [ -e "$M" ]
check "fail-open: exit 0" [ "$rc" = 0 ]
check "fail-open: the loss is reported" grep -q "[1-9][0-9]* lost" "$T/err--fail-open"

# A journal path that is a FIFO nobody reads is refused at once (125, the
# marker never created), not an open that blocks for ever.
rm -f "$M"
mkfifo "$T/fifo"
set +e
timeout 20 env "${AA_ENV[@]}" "$AA_BIN" --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/none.json" \
    --log "$T/fifo" --task ADM-001 >"$T/out" 2>"$T/err"
rc=$?
check "FIFO journal without a reader: refused with 125 (not a hang: $rc)" [ "$rc" = 125 ]
check "FIFO journal without a reader: nothing ran" [ ! -e "$M" ]
grep -q "journal.writable: .*nobody reads" "$T/err" && ok "FIFO journal: the refusal says why" || fail "fifo msg" "$(cat "$T/err")"
aa_done
