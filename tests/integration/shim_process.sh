#!/bin/bash
# Processes that close every fd, vfork, run threads, daemonise or exec in
# parallel stay audited, with exactly one record per exec.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shim_common.bash"

srun "$PROBE closerange /bin/sh -c '/bin/true cr-marker'"
expect "close_range then exec: audited" "len([e for e in E if e['process']['args']==['/bin/true','cr-marker']])" 1

srun "$PROBE vfork /bin/true vfork-marker"
[ "$rc" -eq 0 ] || fail "vfork runs" "rc=$rc"
expect "vfork + exec: audited" "[e['audit']['exec']['api'] for e in E if e['process']['args']==['/bin/true','vfork-marker']]" "['execv']"

srun "$PROBE threads 8 25 /bin/true thr-marker"
grep -q "spawned 200 fails 0" "$T/out" && ok "8x25 posix_spawn ran" || fail "threads ran" "$(cat "$T/out" "$T/err")"
expect "8x25 posix_spawn: exactly 200 records" "len([e for e in E if e['process']['args']==['/bin/true','thr-marker'] and e['audit']['exec']['api']=='posix_spawn'])" 200

start=$(date +%s)
srun "$PROBE daemon 2 /bin/true daemon-marker"
el=$(( $(date +%s) - start ))
expect "daemon execs after the command exited: recorded" "len([e for e in E if e['process']['args']==['/bin/true','daemon-marker']])" 1
expect "session.end after the daemon's exec" "[r['event']['action'] for r in R][-1] == 'session.end' and [i for i, r in enumerate(R) if r['event']['action']=='process.exec' and r['process']['args']==['/bin/true','daemon-marker']][0] < len(R) - 1" True
[ "$el" -ge 2 ] && ok "session lasted until the daemon was gone (${el}s)" || fail "session length" "${el}s"

srun "seq 1000 | xargs -P4 -n1 /bin/true"
[ "$rc" -eq 0 ] || fail "xargs runs" "rc=$rc $(cat "$T/err")"
expect "xargs -P4: exactly 1000 records, one per argument" "sorted(int(e['process']['args'][1]) for e in E if e['process']['args'][0]=='/bin/true') == list(range(1, 1001))" True
expect "contiguous chain" "[r['chain']['seq'] for r in R] == list(range(1, len(R) + 1))" True
"$AA_BIN" verify "$JOURNAL" >/dev/null 2>&1; v=$?
[ "$v" -eq 0 ] && ok "verify intact" || fail "verify" "exit $v"
expect "session.end counts execs" "[r['session']['counts']['execs'] for r in R if r['event']['action']=='session.end'][0] >= 1000" True
# A child that drops privileges still reaches the channel (abstract socket).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    srun "setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c '/bin/true as-nobody'"
    expect "setpriv to nobody: still audited" "[e['process']['user']['id'] for e in E if e['process']['args']==['/bin/true','as-nobody']]" "['65534']"
fi
aa_done
