#!/bin/bash
# network.connect and dns.lookup from the shim, loopback only: a lookup of
# "localhost" is tied to the later connect by destination.domain/audit.dns_ref;
# errno values are those of a bare run; fail-closed without a wrapper.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shim_common.bash"

python3 - "$T/port" "$T/accepted" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); __import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
n = 0
s.settimeout(120)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    n += 1; open(sys.argv[2], "w").write(str(n)); c.close()
PY
srv=$!
trap 'kill $srv 2>/dev/null; aa_cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
PORT=$(cat "$T/port")
# a closed port: bind and close a socket to get one
CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

srun "$PROBE connect localhost $PORT"
grep -q connected "$T/out" && ok "connect through getaddrinfo works" || fail "connect" "$(cat "$T/out" "$T/err")"
expect "dns.lookup record" "[(r['dns']['question']['name'], r['dns']['question']['type'], r['dns']['resolved_ip'], r['dns']['response_code'], r['audit']['dns']['api'], r['event']['outcome']) for r in R if r['event']['action']=='dns.lookup']" \
    "[('localhost', 'A', ['127.0.0.1'], 'NOERROR', 'getaddrinfo', 'success')]"
expect "network.connect record" "[(r['destination']['ip'], r['destination']['port'], r['destination'].get('domain'), r['destination']['address'], r['network']['transport'], r['network']['type'], r['network']['direction'], r['event']['outcome'], r['audit']['syscall'], r['audit']['source']) for r in R if r['event']['action']=='network.connect']" \
    "[('127.0.0.1', $PORT, 'localhost', 'localhost', 'tcp', 'ipv4', 'egress', 'success', 'connect', 'shim')]"
expect "connect tied to the lookup (audit.dns_ref)" "[c['audit'].get('dns_ref') == d['event']['id'] and c['process']['pid'] == d['process']['pid'] for c in R if c['event']['action']=='network.connect' for d in R if d['event']['action']=='dns.lookup']" "[True]"
expect "session.end counts connects and lookups" "[(r['session']['counts']['connects'], r['session']['counts']['lookups']) for r in R if r['event']['action']=='session.end']" "[(1, 1)]"

bare=$("$PROBE" connect_ip 127.0.0.1 "$CLOSED")
srun "$PROBE connect_ip 127.0.0.1 $CLOSED"
[ "$(cat "$T/out")" = "$bare" ] && [ "$bare" = ECONNREFUSED ] && ok "ECONNREFUSED as bare" || fail "ECONNREFUSED" "$(cat "$T/out") vs $bare"
expect "refused connect recorded" "[(r['event']['outcome'], r['error']['code'], r['destination'].get('domain'), r['destination']['address']) for r in R if r['event']['action']=='network.connect']" \
    "[('failure', 'ECONNREFUSED', None, '127.0.0.1')]"

srun "$PROBE connect_ip ::1 $CLOSED"
expect "ipv6 connect recorded" "[(r['destination']['ip'], r['network']['type']) for r in R if r['event']['action']=='network.connect']" "[('::1', 'ipv6')]"

srun "$PROBE udp 127.0.0.1 $CLOSED"
expect "udp sendto recorded" "[(r['network']['transport'], r['audit']['syscall'], r['event']['outcome']) for r in R if r['event']['action']=='network.connect']" "[('udp', 'sendto', 'success')]"

srun "$PROBE gethost localhost"
expect "gethostbyname / gethostbyname2_r recorded" "[(r['audit']['dns']['api'], r['dns']['resolved_ip'], r['dns']['response_code']) for r in R if r['event']['action']=='dns.lookup']" \
    "[('gethostbyname', ['127.0.0.1'], 'NOERROR'), ('gethostbyname2_r', ['127.0.0.1'], 'NOERROR')]"

srun "$PROBE connect no-such-host.invalid $PORT"
expect "NXDOMAIN lookup recorded" "[(r['dns']['question']['name'], r['dns']['response_code'], r['error']['code'], r['event']['outcome']) for r in R if r['event']['action']=='dns.lookup']" \
    "[('no-such-host.invalid', 'NXDOMAIN', 'EAI_NONAME', 'failure')]"

srun "$PROBE nameinfo 127.0.0.1"
expect "getnameinfo recorded as PTR" "[(r['dns']['question']['name'], r['dns']['question']['type'], r['dns']['answers'][0]['data']) for r in R if r['event']['action']=='dns.lookup']" \
    "[('127.0.0.1', 'PTR', '$(cat "$T/out")')]"

# AF_UNIX connects are not recorded (python's own socket calls go through libc)
srun "python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.connect_ex(\"/nonexistent.sock\")'"
expect "AF_UNIX connect not recorded" "len([r for r in R if r['event']['action']=='network.connect'])" 0

# Order within a process: a connect reported by datagram just before the same
# process execs is journaled before that exec (four such processes at a time,
# so the wrapper often has both sockets ready at once).
srun "bash -c 'x() { exec 3<>/dev/tcp/127.0.0.1/$PORT; exec /bin/true; }; for i in \$(seq 75); do (x) & (x) & (x) & (x); wait; done'"
expect "connect then exec of one process: journaled in that order (300 processes)" "(lambda E, C: (len(E), sum(1 for p, i in E.items() if p in C and C[p] < i)))({r['process']['pid']: k for k, r in enumerate(R) if r['event']['action']=='process.exec' and r['process']['executable']=='/bin/true'}, {r['process']['pid']: k for k, r in enumerate(R) if r['event']['action']=='network.connect'})" "(300, 300)"

# Fail-closed: the shim with no wrapper behind its socket denies connect and
# exec with EACCES, and nothing reaches the server; fail-open lets them pass.
before=$(cat "$T/accepted" 2>/dev/null || echo 0)
nowrap() { env LD_PRELOAD="$AA_SHIM" ADMIN_AUDIT_SOCKET=admin-audit/gone-$$ ADMIN_AUDIT_SHIM="$AA_SHIM" "$@"; }
out=$(nowrap "$PROBE" connect_ip 127.0.0.1 "$PORT")
after=$(cat "$T/accepted" 2>/dev/null || echo 0)
[ "$out" = EACCES ] && [ "$before" = "$after" ] && ok "no wrapper: connect EACCES, nothing connected" || fail "fail-closed connect" "$out $before $after"
out=$(nowrap "$PROBE" exec execv /bin/echo should-not-run)
[ "$out" = EACCES ] && ok "no wrapper: exec EACCES" || fail "fail-closed exec" "$out"
out=$(env LD_PRELOAD="$AA_SHIM" ADMIN_AUDIT_SOCKET=admin-audit/gone-$$ ADMIN_AUDIT_SHIM="$AA_SHIM" \
    ADMIN_AUDIT_FLAGS=fail-open "$PROBE" exec execv /bin/echo did-run)
[ "$out" = did-run ] && ok "fail-open: exec proceeds" || fail "fail-open exec" "$out"
aa_done
