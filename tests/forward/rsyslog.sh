# Sourced by tests/integration/forward_*.sh: a real rsyslogd on 127.0.0.1
# with its own config, work directory and pid file, stopped by pid.
#   rs_setup DIR     ports in $RS_TCP $RS_TLS $RS_RELP, certs in DIR/certs, conf DIR/rsyslog.conf
#   rs_start / rs_stop / rs_kill9 / rs_lines FILE
RS_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

rs_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

rs_setup() {
    RS_DIR=$1
    command -v rsyslogd >/dev/null || { echo "rsyslogd not installed"; exit 77; }
    [ -e /usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so ] || [ -n "$(find /usr/lib -name imrelp.so 2>/dev/null | head -1)" ] \
        || { echo "rsyslog-relp not installed"; exit 77; }
    mkdir -p "$RS_DIR/spool"
    bash "$RS_SRC/certs.sh" "$RS_DIR/certs"
    RS_TCP=$(rs_free_port); RS_TLS=$(rs_free_port); RS_RELP=$(rs_free_port)
    sed -e "s|@DIR@|$RS_DIR|g" -e "s|@TCP@|$RS_TCP|g" -e "s|@TLS@|$RS_TLS|g" \
        -e "s|@RELP@|$RS_RELP|g" "$RS_SRC/rsyslog.conf.in" > "$RS_DIR/rsyslog.conf"
    rsyslogd -N1 -f "$RS_DIR/rsyslog.conf" >"$RS_DIR/validate.out" 2>&1 \
        || { cat "$RS_DIR/validate.out"; echo "rsyslog config invalid"; exit 1; }
}

# Wait until a port accepts connections (bounded).
rs_wait_port() {
    local i
    for i in $(seq 100); do
        python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$1)))" && return 0
        sleep 0.05
    done
    return 1
}

rs_start() {
    rm -f "$RS_DIR/rsyslogd.pid"
    rsyslogd -n -f "$RS_DIR/rsyslog.conf" -i "$RS_DIR/rsyslogd.pid" >>"$RS_DIR/rsyslogd.out" 2>&1 &
    RS_PID=$!
    rs_wait_port "$RS_TCP" && rs_wait_port "$RS_TLS" && rs_wait_port "$RS_RELP"
}

rs_stop() {
    [ -n "${RS_PID:-}" ] || return 0
    kill "$RS_PID" 2>/dev/null
    local i
    for i in $(seq 100); do kill -0 "$RS_PID" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$RS_PID" 2>/dev/null
    wait "$RS_PID" 2>/dev/null
    RS_PID=
}

rs_kill9() {
    [ -n "${RS_PID:-}" ] || return 0
    kill -9 "$RS_PID" 2>/dev/null
    wait "$RS_PID" 2>/dev/null
    RS_PID=
}

rs_lines() {
    [ -f "$1" ] && wc -l < "$1" || echo 0
}
