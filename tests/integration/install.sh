#!/usr/bin/env bash
# `cmake --install` puts admin-audit in bin/ and the shim in
# <libdir>/admin-audit/, and the installed wrapper finds the installed shim
# with no environment variable set (contract §8), wherever the prefix is.
. "$(dirname "$0")/lib.sh"
aa_init
: "${AA_BUILD_DIR:?}"
command -v cmake >/dev/null || { echo "no cmake"; exit 77; }
cmake --install "$AA_BUILD_DIR" --prefix "$T/inst" >"$T/install.log" 2>&1
check "cmake --install succeeds" [ $? = 0 ]
bin=$T/inst/bin/admin-audit
check "wrapper in bin/" [ -x "$bin" ]
shim=$(find "$T/inst" -path '*/admin-audit/libadmin-audit-shim.so' | head -1)
check "shim in <libdir>/admin-audit/" [ -n "$shim" ]
check "man pages installed" [ -f "$T/inst/share/man/man1/admin-audit.1" ] && check "man 5 installed" [ -f "$T/inst/share/man/man5/admin-audit-records.5" ]
P=$T/proj
aa_project "$P"
aa_task "$P" ADM-001 "sh -c 'echo via-installed'"
set +e
env -i PATH=/usr/bin:/bin HOME="$T" "${AA_ENV[@]}" "$bin" check --task ADM-001 --tasks-dir "$P/.aiwg/admin-tasks" \
    --config "$T/none.json" --log "$T/j.jsonl" >"$T/out" 2>&1
check "installed check passes" [ $? = 0 ]
check "installed wrapper found the installed shim" grep -q "coverage.preload .*$T/inst" "$T/out"
env -i PATH=/usr/bin:/bin HOME="$T" "${AA_ENV[@]}" "$bin" --task ADM-001 --tasks-dir "$P/.aiwg/admin-tasks" \
    --config "$T/none.json" --log "$T/j.jsonl" >"$T/out" 2>&1
check "installed run passes" [ $? = 0 ]
JOURNAL=$T/j.jsonl
check "the shim recorded the command's own exec" [ "$(jcount 'r["event"]["action"]=="process.exec" and r["audit"]["source"]=="shim"')" -ge 1 ]
aa_done
