# admin-audit lint on real projects: the seed template's catalog with three
# filled documents (clean), a broken project (every finding with file:line,
# golden text), --format json, the examples (as CI runs it), DIR defaults
# and exit codes 0/1/64.
. "$(dirname "$0")/lib.sh"
aa_init
FX=$AA_SOURCE_DIR/tests/fixtures/lint

lint() {
    set +e
    "$AA_BIN" lint "$@" >"$T/out" 2>"$T/err"
    rc=$?
}

# clean project built on the seed template (its own catalog rows ADM-001..003 + ADM-XXX)
lint "$FX/seed"
check "seed project: exit 0" [ "$rc" -eq 0 ]
check "seed project: no output" [ ! -s "$T/out" ]

lint "$FX/seed/.aiwg/admin-tasks"
check "tasks dir as DIR: exit 0" [ "$rc" -eq 0 ]
lint "$FX/seed/.aiwg"
check ".aiwg dir as DIR: exit 0" [ "$rc" -eq 0 ]

# default DIR: nearest .aiwg upward from the cwd
set +e
(cd "$FX/seed/.aiwg/admin-tasks" && "$AA_BIN" lint >"$T/out" 2>"$T/err")
rc=$?
check "default DIR from a subdirectory: exit 0" [ "$rc" -eq 0 ]
(cd "$FX/bad/.aiwg/deployment" && "$AA_BIN" lint >"$T/out" 2>"$T/err")
rc=$?
check "default DIR in the bad project: exit 1" [ "$rc" -eq 1 ]

# the examples, as CI runs them
if [ -d "$AA_SOURCE_DIR/examples/shop/.aiwg" ]; then
    lint "$AA_SOURCE_DIR/examples/shop"
    check "examples/shop: exit 0" [ "$rc" -eq 0 ]
    [ "$rc" -eq 0 ] || cat "$T/out"
fi

# broken project: golden text, compiler style FILE:LINE: severity: message [rule]
set +e
(cd "$FX" && "$AA_BIN" lint bad >"$T/out" 2>"$T/err")
rc=$?
check "bad project: exit 1" [ "$rc" -eq 1 ]
if diff -u "$FX/bad.expected" "$T/out" >"$T/diff"; then
    ok "bad project: findings match bad.expected"
else
    fail "bad project golden" "$(cat "$T/diff")"
fi
n=$(wc -l <"$T/out")
bad_lines=$(grep -Evc '^bad/[^:]+(:[0-9]+)?: (error|warning): .+ \[[a-z.-]+\]$' "$T/out")
check "every finding is FILE[:LINE]: severity: message [rule]" [ "$bad_lines" -eq 0 ]
with_line=$(grep -Ec '^bad/[^:]+:[0-9]+: ' "$T/out")
check "all but whole-file findings carry a line ($with_line of $n)" [ "$with_line" -ge $((n - 2)) ]
grep -q "^admin-audit: lint: $n findings" "$T/err" && ok "summary on stderr" || fail "summary" "$(cat "$T/err")"

# json: same findings, parseable, with file/line/severity/rule/message
set +e
(cd "$FX" && "$AA_BIN" lint bad --format json >"$T/json" 2>"$T/err")
rc=$?
check "json: exit 1" [ "$rc" -eq 1 ]
python3 - "$T/json" "$T/out" <<'PY' && ok "json matches the text findings" || fail "json" "$(head -c 400 "$T/json")"
import json, sys
doc = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read().splitlines()
assert doc["errors"] + doc["warnings"] == len(doc["findings"]) == len(text), (len(doc["findings"]), len(text))
for f, t in zip(doc["findings"], text):
    loc = f["file"] + (":%d" % f["line"] if f["line"] else "")
    assert t == "%s: %s: %s [%s]" % (loc, f["severity"], f["message"], f["rule"]), (t, f)
assert doc["tasks"] == 3 and doc["catalogs"] == 1
PY
"$AA_BIN" lint "$FX/seed" --format=json >"$T/json" 2>/dev/null
rc=$?
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["findings"]==[] and d["catalog_rows"]==3 and d["tasks"]==3' "$T/json" &&
    [ "$rc" -eq 0 ] && ok "json clean: empty findings, 3 rows (ADM-XXX skipped)" || fail "json clean" "$(cat "$T/json")"

# a project whose catalog and documents disagree after an edit
P=$T/p
mkdir -p "$P/.aiwg/deployment"
cp -r "$FX/seed/.aiwg/admin-tasks" "$P/.aiwg/"
cp "$FX/seed/.env.example" "$P/"
cp "$FX/seed/.aiwg/deployment/admin-processes.md" "$P/.aiwg/deployment/admin-processes.md"
sed -i 's/^\*\*Category\*\*: migration$/**Category**: backup/' "$P/.aiwg/admin-tasks/ADM-001.md"
rm "$P/.aiwg/admin-tasks/ADM-003.md"
sed -i '/^DATABASE_URL=$/d' "$P/.env.example"
lint "$P"
check "edited project: exit 1" [ "$rc" -eq 1 ]
grep -q "^$P/.aiwg/admin-tasks/ADM-001.md:3: error: Category backup differs from the catalog's migration" "$T/out" &&
    ok "category mismatch at the doc's Category line" || fail "category mismatch" "$(cat "$T/out")"
grep -Eq "^$P/.aiwg/deployment/admin-processes.md:[0-9]+: error: ADM-003 is in the catalog but .* does not exist" "$T/out" &&
    ok "row without document" || fail "row without doc" "$(cat "$T/out")"
grep -q "^$P/.aiwg/admin-tasks/ADM-001.md:29: error: DATABASE_URL is required but is not a key of" "$T/out" &&
    ok "env var missing from .env.example" || fail "env var" "$(cat "$T/out")"
# a second catalog file found by .aiwg/**/admin-processes*.md
mkdir -p "$P/.aiwg/deployment/2027"
printf '## Admin Task Catalog\n\n| Task ID | Name | Category | Invoked by | Approval | Rollback |\n|---|---|---|---|---|---|\n| ADM-002 | Again | data-fix | x | y | z |\n' \
    >"$P/.aiwg/deployment/2027/admin-processes-next.md"
lint "$P"
grep -q "^$P/.aiwg/deployment/2027/admin-processes-next.md:5: error: ADM-002 appears twice in the catalog (first at $P/.aiwg/deployment/admin-processes.md:" "$T/out" &&
    ok "duplicate id across catalog files" || fail "dup across catalogs" "$(cat "$T/out")"
# no catalog at all
rm -r "$P/.aiwg/deployment"
lint "$P"
grep -q "no \"## Admin Task Catalog\" table" "$T/out" && ok "missing catalog reported" || fail "missing catalog" "$(cat "$T/out")"

# a directory with nothing to lint is a finding, not a silent pass (CI on the wrong dir)
mkdir -p "$T/empty"
lint "$T/empty"
check "empty dir: exit 1" [ "$rc" -eq 1 ]
grep -q "nothing to lint" "$T/out" && ok "empty dir: says nothing to lint" || fail "empty dir" "$(cat "$T/out")"

# usage: 64
lint "$T/does-not-exist"
check "missing DIR: 64" [ "$rc" -eq 64 ]
lint --format yaml "$FX/seed"
check "bad --format: 64" [ "$rc" -eq 64 ]
lint --nope
check "unknown option: 64" [ "$rc" -eq 64 ]
lint "$FX/seed" "$FX/bad"
check "two DIRs: 64" [ "$rc" -eq 64 ]
set +e
(cd / && "$AA_BIN" lint >/dev/null 2>&1)
rc=$?
check "no .aiwg above /: 64" [ "$rc" -eq 64 ]
lint --help
check "--help: 0" [ "$rc" -eq 0 ]

aa_done
