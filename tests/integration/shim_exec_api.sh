#!/bin/bash
# Every exec entry point of the shim yields a process.exec record with the
# resolved executable, argv, cwd, pid and api name; a failed exec gets a
# result record with error.code, and the program sees the same errno as bare.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shim_common.bash"

for api in execve execv execvp execvpe execl execle execlp fexecve execveat posix_spawn posix_spawnp; do
    prog=/bin/echo
    case $api in execvp|execvpe|execlp|posix_spawnp) prog=echo ;; esac
    srun "$PROBE exec $api $prog hello-$api"
    if [ "$rc" -ne 0 ] || ! grep -q "hello-$api" "$T/out"; then
        fail "$api runs" "rc=$rc out=$(cat "$T/out") err=$(cat "$T/err")"
        continue
    fi
    # the probe's own record (exec'd by bash), then the one under test
    expect "$api recorded" "[(__import__('os').path.realpath(e['process']['executable']), e['process']['name'], e['process']['args'], e['process']['args_count'], e['audit']['source'], e['audit']['exec']['phase'], e['event']['outcome'], e['audit']['exec'].get('path_arg'), e['process']['working_directory'], e['process']['user']['id']) for e in E if e['audit']['exec']['api']=='$api' and e['process']['args'][0]!='$PROBE']" \
        "[('/usr/bin/echo', 'echo', ['$prog', 'hello-$api'], 2, 'shim', 'attempt', 'unknown', $( [ $api = fexecve ] && echo None || echo "'$prog'"), '$P', '$(id -u)')]"
    expect "$api pid is the caller" \
        "[e['process']['pid'] for e in E if e['audit']['exec']['api']=='$api' and e['process']['args'][0]!='$PROBE'] == [e['process']['pid'] for e in E if e['process']['args'][:3]==['$PROBE','exec','$api']]" True
done

# system / popen: recorded as /bin/sh -c CMD, and the shell records its own exec
for api in system popen; do
    srun "$PROBE exec $api 'echo via-$api; /bin/true x-$api'"
    grep -q "via-$api" "$T/out" || fail "$api output" "$(cat "$T/out" "$T/err")"
    expect "$api recorded" "[(e['process']['executable'], e['process']['args']) for e in E if e['audit']['exec']['api']=='$api' and e['process']['args'][0]!='$PROBE']" \
        "[('/bin/sh', ['sh', '-c', 'echo via-$api; /bin/true x-$api'])]"
    expect "$api shell child recorded" "len([e for e in E if e['process']['args']==['/bin/true','x-$api']])" 1
done

# A failed exec: attempt + result with error.code, errno as seen bare.
bare=$("$PROBE" exec execve /nonexistent/prog)
for api in execve execvp execl posix_spawn posix_spawnp; do
    srun "$PROBE exec $api /nonexistent/prog"
    got=$(cat "$T/out")
    [ "$got" = "$bare" ] && [ "$got" = ENOENT ] && ok "$api ENOENT as bare" || fail "$api errno" "got [$got] bare [$bare]"
    expect "$api failure result" "[(e['audit']['exec']['phase'], e['event']['outcome'], e.get('error',{}).get('code'), e['audit'].get('ref') == a['event']['id']) for a in E if a['audit']['exec']['api']=='$api' and a['process']['args'][0]!='$PROBE' and a['audit']['exec']['phase']=='attempt' for e in E if e['audit']['exec']['api']=='$api' and e['process']['args'][0]!='$PROBE' and e['audit']['exec']['phase']=='result']" \
        "[('result', 'failure', 'ENOENT', True)]"
done
# EACCES (not executable) and ENOEXEC-free PATH search miss
bare=$("$PROBE" exec execvp no-such-cmd-xyz)
srun "$PROBE exec execvp no-such-cmd-xyz"
[ "$(cat "$T/out")" = "$bare" ] && ok "execvp miss errno as bare ($bare)" || fail "execvp miss" "$(cat "$T/out") vs $bare"
printf 'data\n' > "$T/plain"; chmod 644 "$T/plain"
bare=$("$PROBE" exec execve "$T/plain")
srun "$PROBE exec execve $T/plain"
[ "$(cat "$T/out")" = "$bare" ] && [ "$bare" = EACCES ] && ok "EACCES as bare" || fail "EACCES" "$(cat "$T/out") vs $bare"
expect "EACCES result" "[e.get('error',{}).get('code') for e in E if e['audit']['exec']['phase']=='result']" "['EACCES']"
aa_done
