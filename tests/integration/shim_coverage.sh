#!/usr/bin/env bash
# Honest coverage (contract §7.5): with the backstop off, session.start says
# so, and each exec of a program the shim cannot enter (a static binary, a
# setuid program run by another user) is flagged in its record
# (audit.exec.shim_enters false + audit.exec.shim_gap); ordinary dynamic
# programs and scripts are not flagged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shim_common.bash"
[ "$(id -u)" = 0 ] || { echo "needs root (chown for the setuid copy)"; exit 77; }
printf 'int main(void){return 0;}\n' > "$T/s.c"
cc -static -o "$T/static-true" "$T/s.c" 2>/dev/null || { echo "no static libc"; exit 77; }
cp /usr/bin/id "$T/id-suid" && chown nobody "$T/id-suid" && chmod 4755 "$T/id-suid"
printf '#!/bin/sh\nexit 0\n' > "$T/script.sh" && chmod 755 "$T/script.sh"
export T
CMD="$T/static-true; $T/id-suid -u >/dev/null; $T/script.sh; /bin/true"
aa_task "$P" ADM-301 "$CMD"
JOURNAL=$T/cov.jsonl
aa_run --task ADM-301 $(aa_opts) --seccomp off
check "run ok" [ "$rc" = 0 ]
check "session.start says the backstop is off" [ "$(jcount 'r["event"]["action"]=="session.start" and r["session"]["coverage"]["seccomp"] is False')" = 1 ]
flag() { jcount "r['event']['action']=='process.exec' and r['process']['executable'].endswith('$1') and r['audit']['exec'].get('shim_enters') is False and r['audit']['exec'].get('shim_gap')=='$2'"; }
noflag() { jcount "r['event']['action']=='process.exec' and r['process']['executable'].endswith('$1') and 'shim_enters' not in r['audit']['exec']"; }
check "static binary flagged" [ "$(flag /static-true 'static binary')" = 1 ]
check "setuid program flagged" [ "$(flag /id-suid setuid)" = 1 ]
check "script with a dynamic interpreter not flagged" [ "$(noflag /script.sh)" = 1 ]
check "dynamic program not flagged" [ "$(noflag /bin/true)" = 1 ]
aa_done
