#!/bin/bash
# Regression (found by tests/bench): an exec with thousands of short
# arguments (`cat "$dir"/*.log`, `find -exec grep {} +`) must run and be
# recorded exactly as without admin-audit.  The shim's scratch arena was sized
# for the argument copies without their alignment padding, so such an exec
# failed with ENOMEM (exit 126) and left no record.
. "$(dirname "$0")/lib.sh"
aa_init
P=$T/proj
aa_project "$P"
cd "$P" || exit 1

# 6000 one-to-four-character arguments: pointers + padded copies exceed the
# old estimate by far, and the report spans several channel chunks
cat > "$T/many.sh" <<'EOF'
/bin/echo $(seq 1 6000) | wc -w
EOF
aa_task "$P" ADM-001 "/bin/sh $T/many.sh"
aa_run --task ADM-001 $(aa_opts)
check "run succeeds" [ "$rc" = 0 ]
check "echo saw all 6000 arguments" grep -qx 6000 "$T/out"
check "the exec was recorded with all its arguments" \
    [ "$(jcount 'r["event"]["action"] == "process.exec" and r["process"].get("args_count") == 6001')" = 1 ]
check "nothing lost" [ "$(jcount 'r["event"]["action"] == "session.end" and r["session"]["counts"]["lost"] == 0')" = 1 ]

# a single argument of 100 KiB, and 20000 empty ones
cat > "$T/big.sh" <<'EOF'
/bin/echo "$(head -c 102400 /dev/zero | tr '\0' x)" | wc -c
set --; i=0; while [ $i -lt 20000 ]; do set -- "$@" ""; i=$((i + 1)); done
/bin/true "$@" && echo empty-ok
EOF
aa_task "$P" ADM-002 "/bin/sh $T/big.sh"
aa_run --task ADM-002 $(aa_opts)
check "big run succeeds" [ "$rc" = 0 ]
check "100 KiB argument passed" grep -qx 102401 "$T/out"
check "20000 empty arguments passed" grep -qx empty-ok "$T/out"
check "true with 20000 empty arguments recorded" \
    [ "$(jcount 'r["event"]["action"] == "process.exec" and r["process"].get("args_count") == 20001')" = 1 ]
aa_done
