#!/usr/bin/env bash
# Quick start: build admin-audit and run the example's main job, the approved
# backfill ADM-002 of examples/shop, under audit; fill its Execution log and
# catalog row from the journal (in a scratch copy).  Prints where the journal
# is and its head hash, then verifies the chain.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/.ci/install-deps.sh" build
build=${BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

# A scratch copy of the example project, so the checkout stays clean.
work=$build/example
rm -rf "$work"
mkdir -p "$work"
cp -a "$top/examples/shop/." "$work/"
export APP_ENV=staging
export IMAGE_REF=registry.example.com/shop:1.4.2
export DATABASE_URL=file://$work/data
export API_KEYS_FILE=$work/keys/api.key
mkdir -p "$work/keys"
cd "$work"
# aa VERB ARGS...: the wrapper with the example's config and journal.
aa() { "$build/wrapper/admin-audit" "$1" --config config.json --log "$work/audit.jsonl" "${@:2}"; }

echo "== admin-audit lint: the catalog and every task document"
"$build/wrapper/admin-audit" lint . && echo "lint: no findings"
echo "== admin-audit check --task ADM-002: every check of the gate, nothing run"
aa check --task ADM-002
echo "== ADM-001, the migration"
aa run -q --task ADM-001
bin/seed-users.sh   # users without a locale, what the backfill is for
echo "== ADM-002, the backfill (the main job): its documented command, under audit"
aa run --task ADM-002
echo "== admin-audit report --task ADM-002 --write: the Execution log and the catalog row, from the journal"
aa report --task ADM-002 --write
grep -E '^\*\*Status\*\*|^- (Invoked|Exit code|Output summary|Rows)|Admin Task Catalog$' .aiwg/admin-tasks/ADM-002.md
grep '^| ADM-002 ' .aiwg/deployment/admin-processes.md
echo "== ADM-003, the key rotation"
aa run -q --task ADM-003
echo "== the journal: $work/audit.jsonl"
"$build/wrapper/admin-audit" verify "$work/audit.jsonl"
