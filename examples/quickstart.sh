#!/usr/bin/env bash
# Quick start: build admin-audit and run the example's main job, the approved
# backfill ADM-002 of examples/shop, under audit.  Prints where the journal is
# and its head hash, then verifies the chain.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/.ci/install-deps.sh" build
build=${BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
aa=$build/wrapper/admin-audit

# A scratch copy of the example project, so the checkout stays clean.
work=$build/example
rm -rf "$work"
mkdir -p "$work"
cp -a "$top/examples/shop/." "$work/"
export APP_ENV=staging
export IMAGE_REF=registry.example.com/shop:1.4.2
export DATABASE_URL=file://$work/data
cd "$work"
bin/seed-users.sh

echo "== admin-audit check --task ADM-002"
"$aa" check --task ADM-002 --config config.json --log "$work/audit.jsonl"
echo "== admin-audit --task ADM-002 (the documented command, under audit)"
"$aa" --task ADM-002 --config config.json --log "$work/audit.jsonl"
echo "== journal: $work/audit.jsonl"
"$aa" verify "$work/audit.jsonl"
