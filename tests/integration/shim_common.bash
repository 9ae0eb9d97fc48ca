# Shared by tests/integration/shim_*.sh (sourced after lib.sh; not a test:
# ctest only globs *.sh).
#
#   srun CMD     run CMD as the documented command of a fresh approved task,
#                journal $JOURNAL (new per call); sets $rc, $T/out, $T/err
#   jq1 EXPR     python expression over R (journal records) and E (the shim's
#                process.exec records); prints it
#   PROBE        path of the aa-probe helper

PROBE=$AA_HELPERS/aa-probe
[ -x "$PROBE" ] || { echo "aa-probe helper not built"; exit 1; }
aa_init
P=$T/proj
aa_project "$P"
srun_n=0
cd "$P" || exit 1

srun() {
    srun_n=$((srun_n + 1))
    local id
    id=$(printf 'ADM-%03d' $((100 + srun_n)))
    aa_task "$P" "$id" "$1"
    JOURNAL=$T/audit-$srun_n.jsonl
    aa_run --task "$id" $(aa_opts)
}

jq1() {
    python3 - "$JOURNAL" "$1" <<'PY'
import json, sys
R = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
E = [r for r in R if r["event"]["action"] == "process.exec" and r["audit"]["source"] == "shim"]
v = eval(sys.argv[2], {"R": R, "E": E})
print(v)
PY
}

# expect NAME EXPR VALUE: ok when jq1 EXPR prints VALUE
expect() {
    local got
    got=$(jq1 "$2" 2>&1)
    if [ "$got" = "$3" ]; then ok "$1"; else fail "$1" "expected [$3] got [$got]"; fi
}
