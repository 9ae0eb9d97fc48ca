#!/bin/bash
# Inheritance through environment rewrites (contract §7.4) and transparency
# of the environment (§7.6): only LD_PRELOAD and ADMIN_AUDIT_* are added.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shim_common.bash"

LIBM=$(ldconfig -p | awk '/libm.so.6 .*x86-64/ {print $NF; exit}')
[ -n "$LIBM" ] || LIBM=/lib/x86_64-linux-gnu/libm.so.6

marker_recorded() { # NAME MARKER
    expect "$1" "len([e for e in E if e['process']['args']==['/bin/true','$2']])" 1
}

srun "env -i /bin/sh -c '/bin/true envi-marker'"
[ "$rc" -eq 0 ] || fail "env -i runs" "rc=$rc $(cat "$T/err")"
marker_recorded "env -i: grandchild still audited" envi-marker

srun "env -i $PROBE env"
extra=$(grep -v -e '^LD_PRELOAD=' -e '^ADMIN_AUDIT_' "$T/out" | tr '\n' ' ')
[ -z "$extra" ] && grep -q "^LD_PRELOAD=$AA_SHIM\$" "$T/out" && ok "env -i: only LD_PRELOAD and ADMIN_AUDIT_* restored" \
    || fail "env -i environment" "extra=[$extra] $(cat "$T/out")"
grep -q '^ADMIN_AUDIT_SESSION=' "$T/out" && ok "env -i: ADMIN_AUDIT_SESSION restored" || fail "session var" "$(cat "$T/out")"

srun "$PROBE emptyenv /bin/sh -c '/bin/true empty-marker'"
marker_recorded "empty envp: audited" empty-marker

srun "$PROBE clearenv /bin/sh -c '/bin/true clear-marker'"
marker_recorded "clearenv: audited" clear-marker

srun "$PROBE unsetenv /bin/sh -c '/bin/true unset-marker'"
marker_recorded "unsetenv LD_PRELOAD/ADMIN_AUDIT_*: audited" unset-marker

srun "$PROBE preload $LIBM /bin/sh -c '/bin/true preload-marker'"
marker_recorded "other LD_PRELOAD: audited" preload-marker
srun "$PROBE preload $LIBM $PROBE env"
grep -q "^LD_PRELOAD=$AA_SHIM:$LIBM\$" "$T/out" && ok "other LD_PRELOAD kept after the shim" \
    || fail "other preload" "$(grep LD_PRELOAD "$T/out")"

# Transparency: compared with a bare run, the program's environment differs
# only by LD_PRELOAD, ADMIN_AUDIT_* and TRACEPARENT.
aa_env "$PROBE" env > "$T/bare.env"
srun "$PROBE env"
python3 - "$T/bare.env" "$T/out" <<'PY' && ok "environment transparent" || fail "environment transparent" "see above"
import sys
def load(p):
    d = {}
    for l in open(p, encoding="utf-8", errors="surrogateescape"):
        k, _, v = l.rstrip("\n").partition("=")
        d[k] = v
    return d
bare, run = load(sys.argv[1]), load(sys.argv[2])
allowed = lambda k: k == "LD_PRELOAD" or k.startswith("ADMIN_AUDIT_") or k == "TRACEPARENT"
ign = {"_", "OLDPWD", "PWD", "SHLVL"}
bad = [k for k in set(bare) | set(run) if not allowed(k) and k not in ign and bare.get(k) != run.get(k)]
if bad:
    print("differs:", bad); sys.exit(1)
PY
aa_done
