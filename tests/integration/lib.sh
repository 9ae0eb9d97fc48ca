# Shared fixtures for the integration tests (sourced, not run by ctest: no
# test_ prefix needed because ctest globs *.sh -- this file is excluded by name
# in tests/CMakeLists.txt).
#
#   aa_init                 temp dir $T, counters, cleanup trap; $AA_BIN etc. checked
#   aa_project DIR          DIR/.aiwg/admin-tasks, DIR/.env.example (DATABASE_URL, APP_ENV)
#   aa_task DIR ID CMD [k=v ...]
#                           write an approved, fully filled task document whose documented
#                           Execution command is CMD; overrides: status= reviewer= envs=
#                           approved= created= image= vars= check1=x|' ' category=
#   aa_run ARGS...          run the wrapper with the fixture env (APP_ENV=staging, IMAGE_REF,
#                           DATABASE_URL) and --config $T/none.json --log $T/audit.jsonl;
#                           sets $rc, stdout in $T/out, stderr in $T/err
#   ok NAME / fail NAME MSG record a result;  aa_done prints "N passed, N failed" and exits
#   jq_count FILTER         number of journal records matching a python predicate on r (dict)

set -u
: "${AA_BIN:?AA_BIN not set}" "${AA_SHIM:?AA_SHIM not set}" "${AA_HELPERS:?}" "${AA_SOURCE_DIR:?}"

aa_pass=0
aa_fail=0

aa_init() {
    T=$(mktemp -d /tmp/aa-test.XXXXXX)
    trap 'aa_cleanup' EXIT
    JOURNAL=$T/audit.jsonl
}

aa_cleanup() {
    [ -n "${AA_KEEP:-}" ] && { echo "kept $T"; return; }
    [ -n "${T:-}" ] && rm -rf "$T"
}

ok() { aa_pass=$((aa_pass + 1)); echo "ok - $1"; }
fail() { aa_fail=$((aa_fail + 1)); echo "not ok - $1: ${2:-}"; }

# check NAME CONDITION... : run a test command, ok/fail by its status.
check() {
    local name=$1; shift
    if "$@"; then ok "$name"; else fail "$name" "$*"; fi
}

aa_done() {
    echo "$aa_pass passed, $aa_fail failed"
    [ "$aa_fail" -eq 0 ]
    exit $?
}

aa_project() {
    mkdir -p "$1/.aiwg/admin-tasks"
    cat > "$1/.env.example" <<'ENV'
# names only
APP_ENV=
DATABASE_URL=
IMAGE_REF=
ENV
}

aa_task() {
    local dir=$1 id=$2 cmd=$3; shift 3
    local status=approved reviewer="Bob Reviewer/engineering lead" envs="staging, prod"
    local approved=2026-01-10 created=2026-01-05 image="registry.example/app:1.2.3"
    local vars="DATABASE_URL" c1=x c2=x c3=x c4=x category=data-fix lang=bash
    local rollback="echo rollback"
    local kv
    for kv in "$@"; do
        case $kv in
            status=*) status=${kv#*=} ;; reviewer=*) reviewer=${kv#*=} ;;
            envs=*) envs=${kv#*=} ;; approved=*) approved=${kv#*=} ;;
            created=*) created=${kv#*=} ;; image=*) image=${kv#*=} ;;
            vars=*) vars=${kv#*=} ;; check1=*) c1=${kv#*=} ;; check4=*) c4=${kv#*=} ;;
            category=*) category=${kv#*=} ;; lang=*) lang=${kv#*=} ;;
            rollback=*) rollback=${kv#*=} ;;
            *) echo "aa_task: unknown override $kv" >&2; return 1 ;;
        esac
    done
    cat > "$dir/.aiwg/admin-tasks/$id.md" <<DOC
# $id: Test task $id

**Category**: $category
**Created**: $created
**Author**: Alice Author
**Status**: $status

## Purpose
Exercise admin-audit in an integration test.

## Scope
- Services affected: api
- Data affected: users table, about 10 rows
- Environments: $envs

## Approval
- Reviewer: $reviewer
- Approved at: $approved
- Authorization: PR-1234

## Execution
**Command**:
\`\`\`$lang
$cmd
\`\`\`

**Runtime environment**:
- Container image: $image
- Environment variables required: $vars
- Expected duration: 1 minutes
- Resource requirements: 64Mi, 0.1 CPU

**Pre-execution checks**:
- [$c1] Backup completed (if data-modifying)
- [$c2] Staging run successful (if applicable)
- [$c3] Maintenance window scheduled (if user-visible)
- [$c4] Oncall notified

**Execution log**:
- Invoked at: YYYY-MM-DDTHH:MM:SSZ
- Invoked by: {name}
- Exit code: {0 = success}
- Output summary: {link to log aggregator}
- Rows/objects affected: {N}

## Rollback
**Command**:
\`\`\`bash
$rollback
\`\`\`

**Verification after rollback**:
- [ ] Rows restored

## Post-Execution Audit
- [ ] Results verified
- [ ] Stakeholders notified
- [ ] Task marked executed in the Admin Task Catalog
- [ ] Any follow-up tickets created
DOC
}

# The environment a passing run needs (matches aa_task defaults).  For a
# wrapper started in the background use `env "${AA_ENV[@]}" "$AA_BIN" ... &`
# so that $! is the wrapper itself (a function in the background is a subshell).
AA_ENV=(APP_ENV=staging IMAGE_REF=registry.example/app:1.2.3 DATABASE_URL=postgres://db.invalid/app)
aa_env() {
    env "${AA_ENV[@]}" "$@"
}

aa_run() {
    set +e
    aa_env "$AA_BIN" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    set -e 2>/dev/null || true
    set +e
    return 0
}

# Standard option prefix for a run inside project $P with journal $JOURNAL.
aa_opts() {
    echo --tasks-dir "$P/.aiwg/admin-tasks" --config "$T/none.json" --log "$JOURNAL"
}

# Count journal records for which the python expression on r is true.
jcount() {
    python3 - "$JOURNAL" "$1" <<'PY'
import json, sys
path, expr = sys.argv[1], sys.argv[2]
n = 0
for line in open(path, encoding="utf-8"):
    r = json.loads(line)
    if eval(expr, {"r": r}):
        n += 1
print(n)
PY
}
