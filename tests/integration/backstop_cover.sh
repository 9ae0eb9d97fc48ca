#!/bin/bash
# The seccomp backstop (contract §1, §2 --seccomp, §7.5), run as root (auto =
# on): execs and connects the shim cannot see (a gcc -static program, raw
# syscall(SYS_execve/SYS_connect) from a dynamic one) are recorded with
# audit.source "seccomp" and counted in shim_unavailable; what the shim sees
# is recorded once (exec: no second record; connect: the shim's record,
# marked audit.seccomp); io_uring is denied; foreign-ABI syscalls are killed;
# strace and gdb still work inside; --seccomp off records nothing of its own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shim_common.bash"
[ "$(id -u)" = 0 ] || { echo "skip: needs CAP_SYS_ADMIN for --seccomp auto = on"; exit 77; }
BS=$AA_HELPERS/aa-bs-probe
[ -x "$BS" ] || { echo "aa-bs-probe helper not built"; exit 1; }
SBS=$T/aa-bs-probe-static
if ! cc -static -O1 -o "$SBS" "$AA_SOURCE_DIR/tests/helpers/aa-bs-probe.c" -lpthread 2>"$T/cc.err"; then
    echo "skip: no static libc ($(head -1 "$T/cc.err"))"
    exit 77
fi

python3 - "$T/port" <<'PY' &
import socket, sys, os
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(120)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    c.close()
PY
srv=$!
trap 'kill $srv 2>/dev/null; aa_cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
PORT=$(cat "$T/port")

BSX="[r for r in R if r['event']['action']=='process.exec' and r['audit']['source']=='seccomp']"
BSC="[r for r in R if r['event']['action']=='network.connect' and r['audit']['source']=='seccomp']"
COUNTS="[r['session']['counts'] for r in R if r['event']['action']=='session.end'][0]"

# ---- static binary ------------------------------------------------------------
srun "$SBS exec /bin/echo static-hi"
check "static exec ran" grep -qx static-hi "$T/out"
expect "session.start: seccomp coverage on" "[(r['session']['coverage']['seccomp'], r['session']['coverage']['seccomp_detail'][:3]) for r in R if r['event']['action']=='session.start']" "[(True, 'on:')]"
expect "static exec recorded by the backstop" "[(r['process']['executable'], r['process']['args'], r['audit']['exec']['api'], r['process']['working_directory'], r['event']['outcome']) for r in $BSX]" \
    "[('/bin/echo', ['/bin/echo', 'static-hi'], 'execve', '$P', 'unknown')]"
expect "recorded in the static program's process" "[r['process']['pid'] == p['process']['pid'] for r in $BSX for p in E if p['process']['executable'] == '$SBS']" "[True]"
expect "counts: execs 3, shim_unavailable 1" "($COUNTS['execs'], $COUNTS['shim_unavailable'])" "(3, 1)"

srun "$SBS connect 127.0.0.1 $PORT"
check "static connect works" grep -qx connected "$T/out"
expect "static connect recorded by the backstop" "[(r['destination']['ip'], r['destination']['port'], r['network']['transport'], r['network']['type'], r['audit']['syscall']) for r in $BSC]" \
    "[('127.0.0.1', $PORT, 'tcp', 'ipv4', 'connect')]"
expect "counts: connects 1" "$COUNTS['connects']" "1"

srun "$SBS connect ::1 $PORT"
expect "static ipv6 connect (refused) recorded" "[(r['destination']['ip'], r['network']['type']) for r in $BSC]" "[('::1', 'ipv6')]"

srun "$SBS udp 127.0.0.1 9"
expect "static sendto with an address recorded" "[(r['network']['transport'], r['audit']['syscall'], r['destination']['port']) for r in $BSC]" "[('udp', 'sendto', 9)]"

# ---- raw syscalls from a dynamic (preloaded) program ------------------------------
srun "$BS rawexec /bin/echo raw-hi"
check "raw execve ran" grep -qx raw-hi "$T/out"
expect "raw execve recorded once, by the backstop" "[(r['process']['executable'], r['process']['args']) for r in R if r['event']['action']=='process.exec' and r['process']['executable']=='/bin/echo']" \
    "[('/bin/echo', ['/bin/echo', 'raw-hi'])]"
expect "raw execve: source seccomp, shim_unavailable 1" "([r['audit']['source'] for r in $BSX], $COUNTS['shim_unavailable'])" "(['seccomp'], 1)"

BINDIR=$(cd /bin && pwd -P)
srun "cd /bin && $BS rawexecat ./echo rel-hi"
expect "raw execveat with a relative path: resolved against the cwd" "[(r['process']['executable'], r['audit']['exec']['api'], r['audit']['exec']['path_arg'], r['process']['working_directory']) for r in $BSX]" \
    "[('$BINDIR/./echo', 'execveat', './echo', '$BINDIR')]"

srun "$BS rawconnect 127.0.0.1 $PORT"
check "raw connect works" grep -qx connected "$T/out"
expect "raw connect recorded once, by the backstop" "[(r['audit']['source'], r['destination']['port']) for r in R if r['event']['action']=='network.connect']" \
    "[('seccomp', $PORT)]"

srun "$BS threadexec /bin/echo thread-hi"
expect "exec from a second thread: one record (shim)" "[(r['audit']['source'], r['process']['args']) for r in R if r['event']['action']=='process.exec' and r['process']['executable']=='/bin/echo']" \
    "[('shim', ['/bin/echo', 'thread-hi'])]"

# ---- one event, one record ----------------------------------------------------------
srun "$BS connect 127.0.0.1 $PORT"
expect "shim-covered connect: one record, the shim's, marked audit.seccomp" "[(r['audit']['source'], r['audit'].get('seccomp'), r['event']['outcome'], r['destination']['port']) for r in R if r['event']['action']=='network.connect']" \
    "[('shim', True, 'success', $PORT)]"
srun "$BS udp 127.0.0.1 9"
expect "shim-covered sendto: one record" "[(r['audit']['source'], r['audit'].get('seccomp'), r['audit']['syscall']) for r in R if r['event']['action']=='network.connect']" \
    "[('shim', True, 'sendto')]"
for api in execve execvp execlp posix_spawn posix_spawnp system popen fexecve execveat; do
    prog=/bin/true
    case $api in execvp|execlp|posix_spawnp) prog=true ;; system|popen) prog="true x-$api" ;; esac
    srun "$PROBE exec $api '$prog'"
    expect "$api: no backstop record, no shim_unavailable" "(len($BSX), $COUNTS['shim_unavailable'])" "(0, 0)"
done
srun "sh -c 'env true; ls / >/dev/null; cd /bin && ./true'"
expect "shell pipeline (PATH search, relative exec): no backstop record" "len($BSX)" "0"

# ---- what cannot get around the filter ---------------------------------------------------
srun "$BS uring"
check "io_uring_setup fails with ENOSYS under the backstop" grep -qx ENOSYS "$T/out"
srun "$BS x32"
check "an x32 syscall kills the process (rc $rc)" [ "$rc" = 159 ]
srun "$BS i386"
check "an i386 int 0x80 syscall kills the process (rc $rc)" [ "$rc" = 159 ]

# ---- debuggers still work inside -----------------------------------------------------------
if command -v strace >/dev/null; then
    srun "strace -f -o /dev/null $SBS exec /bin/echo traced"
    check "strace -f works inside (rc $rc)" [ "$rc" = 0 ]
    check "strace: the traced program ran" grep -qx traced "$T/out"
    expect "the traced static exec is still recorded" "[r['process']['executable'] for r in $BSX]" "['/bin/echo']"
else
    echo "# strace not installed: skipped"
fi
if command -v gdb >/dev/null; then
    gdb -q -batch -ex run -ex bt --args /bin/true >/dev/null 2>&1
    bare=$?
    srun "gdb -q -batch -ex run -ex bt --args /bin/true"
    check "gdb -batch run works inside (rc $rc, bare $bare)" [ "$rc" = "$bare" ]
    check "gdb: the inferior exited normally" grep -q "exited normally" "$T/out"
else
    echo "# gdb not installed: skipped"
fi

# ---- --seccomp off ----------------------------------------------------------------------------
srun_n=$((srun_n + 1))
id=$(printf 'ADM-%03d' $((100 + srun_n)))
aa_task "$P" "$id" "$SBS exec /bin/echo off-hi"
JOURNAL=$T/audit-off.jsonl
aa_run --task "$id" --seccomp off $(aa_opts)
check "--seccomp off: the command runs" grep -qx off-hi "$T/out"
expect "--seccomp off: session.start says so" "[(r['session']['coverage']['seccomp'], r['session']['coverage']['seccomp_detail'][:3], r['session']['policy']['seccomp']) for r in R if r['event']['action']=='session.start']" "[(False, 'off', 'off')]"
expect "--seccomp off: no backstop record, no shim_unavailable" "(len($BSX), $COUNTS['shim_unavailable'])" "(0, 0)"

aa_done
