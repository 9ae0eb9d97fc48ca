#!/bin/bash
# tests/bench/run.sh - the admin-audit benchmark: what auditing costs, measured
# against a bare run in ONE interleaved run per workload, plus proof that
# nothing was dropped, plus memory.
#
#   cmake --build BUILD --target bench      (runs this in BUILD)
#   bash tests/bench/run.sh                 (from a build dir, or with AA_BIN/AA_SHIM)
#
# Finds the wrapper as $PWD/wrapper/admin-audit and the shim as
# $PWD/shim/libadmin-audit-shim.so unless AA_BIN / AA_SHIM say otherwise.
# Results: a markdown table on stdout and in $PWD/bench/results.md (raw
# per-round TSVs and abtime outputs beside it).
#
# Knobs (environment):
#   ROUNDS=5          timed rounds per workload (plus WARM warm-up rounds)
#   WARM=1
#   N=2000            execs of the exec-heavy workloads
#   NCONN=5000        connects of the connect-heavy workloads
#   RSS_N=100000      connects of the 100,000-record session (wrapper RSS)
#   WORKLOADS="null true xargs admin conn gai"
#   VARIANTS="bare floor aa-shim aa-seccomp snoopy strace"
#   OUT=DIR           results directory (default $PWD/bench)
#   KEEP=1            keep the work directory under /tmp
#
# Variants (same command, CMD = workload):
#   bare        CMD
#   floor       LD_PRELOAD=<an empty shared library> CMD: what loading any
#               preload library costs here, before it does anything (the
#               least an LD_PRELOAD design can add)
#   aa-shim     admin-audit --task ID --seccomp off -- CMD   (shim only)
#   aa-seccomp  admin-audit --task ID --seccomp on -- CMD    ("n/a" when
#               `admin-audit check --seccomp on` refuses on this machine)
#   snoopy      LD_PRELOAD=libsnoopy.so CMD, snoopy logging to a file.  This
#               snoopy build ignores SNOOPY_INI, so its ini is bind-mounted over
#               /etc/snoopy.ini inside a private mount namespace (unshare -m)
#               that only this benchmark's processes see; "n/a" without root.
#   strace      strace -f -o /dev/null CMD
#
# Method and helpers come from shared/bench (the harness behind
# shared/reference/perf.md): abtime.c (interleaved, order rotated per round,
# paired ratios), loopsrv.c, conncli.c, wl-true.sh, gen-tree.sh, wl-admin.sh
# are copies kept in this directory so the benchmark does not depend on
# shared/.  ratio = median over rounds of (variant / bare in that round);
# net us/op = (median per-round difference to bare - the same on the null
# workload, i.e. the variant's fixed start-up cost) / operations.
#
# Safety: loopback only (loopsrv binds 127.0.0.1, conncli refuses anything
# else); every loop is bounded; the server is stopped by its PID; nothing
# system-wide is changed (the snoopy ini is only visible in our namespace).
set -u
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$PWD
AA_BIN=${AA_BIN:-$BUILD/wrapper/admin-audit}
AA_SHIM=${AA_SHIM:-$BUILD/shim/libadmin-audit-shim.so}
ROUNDS=${ROUNDS:-5}
WARM=${WARM:-1}
N=${N:-2000}
NCONN=${NCONN:-5000}
RSS_N=${RSS_N:-100000}
WORKLOADS=${WORKLOADS:-null true xargs admin conn gai}
VARIANTS=${VARIANTS:-bare floor aa-shim aa-seccomp snoopy strace}
OUT=${OUT:-$BUILD/bench}
CC=${CC:-cc}
SNOOPY_LIB=${SNOOPY_LIB:-/usr/lib/x86_64-linux-gnu/libsnoopy.so}

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

[ -x "$AA_BIN" ] || die "no wrapper at $AA_BIN (run from the build dir or set AA_BIN)"
[ -f "$AA_SHIM" ] || die "no shim at $AA_SHIM (set AA_SHIM)"
command -v python3 >/dev/null || die "python3 is needed to check the journals"

W=$(mktemp -d /tmp/aa-bench.XXXXXX)
mkdir -p "$W/bin" "$W/logs" "$OUT"
SRV_PID=
cleanup() {
    if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
    if [ -z "${KEEP:-}" ]; then rm -rf "$W"; else say "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---------------------------------------------------------------- build
$CC -O2 -o "$W/bin/abtime" "$HERE/abtime.c" -lm || die "cannot build abtime"
$CC -O2 -o "$W/bin/loopsrv" "$HERE/loopsrv.c" || die "cannot build loopsrv"
$CC -O2 -o "$W/bin/conncli" "$HERE/conncli.c" || die "cannot build conncli"
$CC -O2 -o "$W/bin/rss" "$HERE/rss.c" || die "cannot build rss"
$CC -O2 -pthread -o "$W/bin/chancost" "$HERE/chancost.c" || die "cannot build chancost"
printf 'int aa_bench_floor;\n' > "$W/floor.c"
$CC -O2 -shared -fPIC -o "$W/bin/libfloor.so" "$W/floor.c" || die "cannot build the empty preload library"
cp "$HERE/wl-true.sh" "$HERE/wl-xargs.sh" "$HERE/wl-admin.sh" "$W/bin/"
sh "$HERE/gen-tree.sh" "$W/tree" 20 100
AB=$W/bin/abtime

"$W/bin/loopsrv" "$W/port" 100000000 3600 900 2>>"$W/logs/loopsrv.err" &
SRV_PID=$!
for _ in $(seq 200); do [ -s "$W/port" ] && break; sleep 0.05; done
PORT=$(cat "$W/port" 2>/dev/null) || die "loopback server did not start"

# ---------------------------------------------------------------- project
# An approved task per workload whose documented command is the workload
# (document shape: tests/integration/lib.sh).
P=$W/proj
mkdir -p "$P/.aiwg/admin-tasks"
printf '# names only\nAPP_ENV=\nDATABASE_URL=\nIMAGE_REF=\n' > "$P/.env.example"
task_doc() { # ID CMD
    cat > "$P/.aiwg/admin-tasks/$1.md" <<DOC
# $1: Benchmark workload $1

**Category**: data-fix
**Created**: 2026-01-05
**Author**: Alice Author
**Status**: approved

## Purpose
Measure the cost of auditing (tests/bench/run.sh).

## Scope
- Services affected: none
- Data affected: none
- Environments: staging

## Approval
- Reviewer: Bob Reviewer/engineering lead
- Approved at: 2026-01-10
- Authorization: PR-1234

## Execution
**Command**:
\`\`\`sh
$2
\`\`\`

**Runtime environment**:
- Container image: registry.example/app:1.2.3
- Environment variables required: DATABASE_URL
- Expected duration: 5 minutes
- Resource requirements: 64Mi, 0.1 CPU

**Pre-execution checks**:
- [x] Backup completed (if data-modifying)
- [x] Staging run successful (if applicable)
- [x] Maintenance window scheduled (if user-visible)
- [x] Oncall notified

## Rollback
**Command**:
\`\`\`bash
true
\`\`\`
DOC
}
AA_ENV="APP_ENV=staging IMAGE_REF=registry.example/app:1.2.3 DATABASE_URL=postgres://db.invalid/app"

wl_cmd() {
    case $1 in
    null) echo "/bin/true" ;;
    true) echo "/bin/sh $W/bin/wl-true.sh $N" ;;
    xargs) echo "/bin/sh $W/bin/wl-xargs.sh $N" ;;
    admin) echo "/bin/sh $W/bin/wl-admin.sh $W/tree $W/adm-out" ;;
    conn) echo "$W/bin/conncli plain $PORT $NCONN" ;;
    gai) echo "$W/bin/conncli gai $PORT $NCONN" ;;
    rss) echo "$W/bin/rss $W/rss-aa.txt" ;;
    big) echo "$W/bin/conncli plain $PORT $RSS_N" ;;
    esac
}
wl_id() {
    case $1 in null) echo ADM-100 ;; true) echo ADM-101 ;; xargs) echo ADM-102 ;;
    admin) echo ADM-103 ;; conn) echo ADM-104 ;; gai) echo ADM-105 ;; rss) echo ADM-106 ;;
    big) echo ADM-107 ;; esac
}
wl_kind() { case $1 in conn|gai|big) echo connect ;; *) echo exec ;; esac; }
wl_title() {
    case $1 in
    null) echo "null (/bin/true once: fixed cost)" ;;
    true) echo "exec: sh loop, $N x /bin/true" ;;
    xargs) echo "exec: seq $N | xargs -P2 -n1 /bin/true" ;;
    admin) echo "admin job: find/grep/sed/awk/sort/tar over 2000 files" ;;
    conn) echo "connect: $NCONN loopback connects" ;;
    gai) echo "connect: $NCONN x getaddrinfo(localhost) + connect" ;;
    esac
}
for wl in null $WORKLOADS rss big; do task_doc "$(wl_id "$wl")" "$(wl_cmd "$wl")"; done

# the admin-audit command line of variant $1 (aa-shim|aa-seccomp) for workload $2
aa_cmd() {
    local mode=off
    [ "$1" = aa-seccomp ] && mode=on
    echo "cd $P && exec env $AA_ENV $AA_BIN --task $(wl_id "$2") --tasks-dir $P/.aiwg/admin-tasks --config /nonexistent --log $W/logs/j-$2-$1.jsonl -q --seccomp $mode -- $(wl_cmd "$2")"
}

# ---------------------------------------------------------------- variants
NOTE_SECCOMP=
NOTE_SNOOPY=
NOTE_STRACE=
have_variant() { case " $VARIANTS " in *" $1 "*) return 0 ;; esac; return 1; }
if have_variant aa-seccomp; then
    if ! (cd "$P" && env $AA_ENV "$AA_BIN" check --task "$(wl_id null)" --tasks-dir "$P/.aiwg/admin-tasks" \
            --config /nonexistent --log "$W/logs/check.jsonl" --seccomp on -- /bin/true) \
            >"$W/logs/check-seccomp.txt" 2>&1; then
        NOTE_SECCOMP="n/a: \`admin-audit check --seccomp on\` refuses here: $(grep -m1 -iE 'fail|refus|seccomp' "$W/logs/check-seccomp.txt" | tr -s ' ' | cut -c1-160)"
    elif ! sh -c "$(aa_cmd aa-seccomp null)" </dev/null >/dev/null 2>"$W/logs/try-seccomp.txt"; then
        NOTE_SECCOMP="n/a: \`admin-audit --seccomp on\` refuses here ($(grep -m1 -iE 'refus|seccomp' "$W/logs/try-seccomp.txt" | cut -c1-160))"
    fi
fi
SNOOPY_NS=
if have_variant snoopy; then
    printf '[snoopy]\noutput = file:%s\n' "$W/logs/snoopy.log" > "$W/snoopy.ini"
    if [ ! -f "$SNOOPY_LIB" ]; then
        NOTE_SNOOPY="n/a: $SNOOPY_LIB not installed (apt-get install snoopy)"
    elif [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
        NOTE_SNOOPY="n/a: needs root and unshare(1) to give snoopy its own ini in a private mount namespace"
    elif unshare -m -- sh -c "mount --bind $W/snoopy.ini /etc/snoopy.ini && LD_PRELOAD=$SNOOPY_LIB /bin/sh -c /bin/true" \
            >/dev/null 2>&1 && [ -s "$W/logs/snoopy.log" ]; then
        SNOOPY_NS=1
    else
        NOTE_SNOOPY="n/a: snoopy did not log to its bind-mounted ini in a private mount namespace"
    fi
fi
if have_variant strace && ! command -v strace >/dev/null; then
    NOTE_STRACE="n/a: strace not installed"
fi
variant_ok() {
    have_variant "$1" || return 1
    case $1 in
    aa-seccomp) [ -z "$NOTE_SECCOMP" ] ;;
    snoopy) [ -z "$NOTE_SNOOPY" ] ;;
    strace) [ -z "$NOTE_STRACE" ] ;;
    *) return 0 ;;
    esac
}
variant_cmd() { # VARIANT WORKLOAD
    local c
    c=$(wl_cmd "$2")
    case $1 in
    bare) echo "exec $c" ;;
    floor) echo "LD_PRELOAD=$W/bin/libfloor.so exec $c" ;;
    aa-*) aa_cmd "$1" "$2" ;;
    snoopy) echo "LD_PRELOAD=$SNOOPY_LIB exec $c" ;;
    strace) echo "exec strace -f -o /dev/null $c" ;;
    esac
}
variant_pre() { # untimed, before each run: empty the variant's log
    case $1 in
    aa-*) echo ": > $W/logs/j-$2-$1.jsonl" ;;
    snoopy) echo ": > $W/logs/snoopy.log" ;;
    *) echo "" ;;
    esac
}
# run "$@" inside the snoopy mount namespace when snoopy is measured
in_ns() {
    if [ -n "$SNOOPY_NS" ]; then
        unshare -m -- sh -c 'mount --bind "$0" /etc/snoopy.ini && exec "$@"' "$W/snoopy.ini" "$@"
    else
        "$@"
    fi
}

# ---------------------------------------------------------------- env
{
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(uname -srm); $(nproc) CPUs; $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)"
    echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
    echo "admin-audit: $("$AA_BIN" --version 2>&1 | head -n1)"
    echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "ROUNDS=$ROUNDS WARM=$WARM N=$N NCONN=$NCONN RSS_N=$RSS_N"
} > "$OUT/env.txt"

# ---------------------------------------------------------------- ground truth
# successful execs (strace -f -z) and connects of the bare workload
truth() { # WORKLOAD -> "execs connects"
    local c f=$W/logs/truth-$1.log
    c=$(wl_cmd "$1")
    if command -v strace >/dev/null; then
        sh -c "exec strace -f -qq -z -e trace=execve,execveat,connect -o $f $c" </dev/null >/dev/null 2>&1
        echo "$(grep -cE '^[0-9]+ +execve(at)?\(' "$f") $(grep -cE "sin_port=htons\($PORT\)" "$f")"
    else
        case $1 in
        null) echo "1 0" ;; true) echo "$((N + 1)) 0" ;; xargs) echo "$((N + 3)) 0" ;;
        conn|gai) echo "1 $NCONN" ;; *) echo "0 0" ;;
        esac
    fi
}

# Journal check: records an admin-audit run left, against the truth.
# prints: execs connects lookups lost records verify_rc seccomp_cov
journal_counts() { # JOURNAL
    local vrc
    "$AA_BIN" verify "$1" >/dev/null 2>&1
    vrc=$?
    python3 - "$1" "$vrc" <<'PY'
import json, sys
ex = co = lk = 0
lost = -1
seccomp = "?"
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    n += 1
    a = r["event"]["action"]
    if a == "process.exec" and r.get("audit", {}).get("exec", {}).get("phase", "attempt") == "attempt":
        ex += 1
    elif a == "network.connect":
        co += 1
    elif a == "dns.lookup":
        lk += 1
    elif a == "session.end":
        lost = r.get("session", {}).get("counts", {}).get("lost", -1)
    elif a == "session.start":
        cov = r.get("session", {}).get("coverage", r.get("coverage", {}))
        seccomp = str(cov.get("seccomp", "?")).lower() if isinstance(cov, dict) else "?"
print(ex, co, lk, lost, n, sys.argv[2], seccomp)
PY
}

# ---------------------------------------------------------------- records
say "== records: one untimed run per admin-audit variant and workload"
: > "$OUT/records.txt"
RECORDS_OK=1
for wl in $WORKLOADS; do
    read -r TE TC <<<"$(truth "$wl")"
    echo "$wl $TE $TC" >> "$W/truth.txt"
    for v in aa-shim aa-seccomp; do
        variant_ok "$v" || continue
        j=$W/logs/j-$wl-$v.jsonl
        : > "$j"
        sh -c "$(variant_cmd "$v" "$wl")" </dev/null >/dev/null 2>"$W/logs/rec-$wl-$v.err"
        rc=$?
        read -r ex co lk lost n vrc sc <<<"$(journal_counts "$j")"
        want_lk=0
        [ "$wl" = gai ] && want_lk=$NCONN
        verdict=ok
        if [ "$rc" != 0 ] || [ "$vrc" != 0 ] || [ "$lost" != 0 ] || [ "$co" != "$TC" ] ||
            [ "$lk" != "$want_lk" ]; then
            verdict=FAIL
        fi
        # the shim must see exactly the truth; the backstop may add its own
        # records of the same execs (source seccomp), never fewer
        if [ "$v" = aa-shim ] && [ "$ex" != "$TE" ]; then verdict=FAIL; fi
        if [ "$v" = aa-seccomp ] && [ "$ex" -lt "$TE" ]; then verdict=FAIL; fi
        [ "$verdict" = ok ] || RECORDS_OK=
        echo "$wl $v $TE $TC $ex $co $lk $lost $n $vrc $rc $sc $verdict" >> "$OUT/records.txt"
        say "  $wl $v: execs $ex/$TE connects $co/$TC lookups $lk lost $lost records $n verify=$vrc rc=$rc seccomp=$sc $verdict"
    done
done

# ---------------------------------------------------------------- floors
CHANCOST=$(for _ in 1 2 3; do "$W/bin/chancost" 20000; done | sort -t' ' -k8 -n | sed -n 2p)
CHANCOST=${CHANCOST:-n/a}

# ---------------------------------------------------------------- timing
say "== timing: ROUNDS=$ROUNDS WARM=$WARM, interleaved, order rotated per round"
for wl in $WORKLOADS; do
    args=()
    for v in $VARIANTS; do
        variant_ok "$v" || continue
        args+=(-v "$v" "$(variant_cmd "$v" "$wl")")
        pre=$(variant_pre "$v" "$wl")
        [ -n "$pre" ] && args+=(-p "$v" "$pre")
    done
    r=$ROUNDS
    [ "$wl" = null ] && r=$((2 * ROUNDS + 1))
    say "-- $wl: $(wl_cmd "$wl")"
    s0=$(head -n1 /proc/stat)
    in_ns "$AB" -n "$r" -w "$WARM" -t 900 -o "$OUT/raw-$wl.tsv" "${args[@]}" \
        > "$OUT/time-$wl.txt" 2>>"$W/logs/progress.txt"
    s1=$(head -n1 /proc/stat)
    printf '%s\n%s\n' "$s0" "$s1" | awk '{t = 0; for (i = 2; i <= NF; i++) t += $i; T[NR] = t; S[NR] = $9}
        END {d = T[2] - T[1]; if (d > 0) printf "# steal %.1f%%\n", 100 * (S[2] - S[1]) / d}' >> "$OUT/time-$wl.txt"
    cat "$OUT/time-$wl.txt" >&2
done

# ---------------------------------------------------------------- memory
say "== memory"
median() { sort -n | awk '{v[NR] = $1} END {if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
: > "$W/rss-bare.txt"
: > "$W/rss-aa.txt"
for _ in 1 2 3 4 5; do
    "$W/bin/rss" "$W/rss-bare.txt"
    (cd "$P" && env $AA_ENV "$AA_BIN" --task "$(wl_id rss)" --tasks-dir "$P/.aiwg/admin-tasks" \
        --config /nonexistent --log "$W/logs/j-rss.jsonl" -q --seccomp off -- $(wl_cmd rss)) \
        </dev/null >/dev/null 2>&1
done
RSS_BARE=$(cut -d' ' -f1 "$W/rss-bare.txt" | median)
RSS_AA=$(cut -d' ' -f1 "$W/rss-aa.txt" | median)
ANON_D=$(( $(cut -d' ' -f2 "$W/rss-aa.txt" | median) - $(cut -d' ' -f2 "$W/rss-bare.txt" | median) ))
FILE_D=$(( $(cut -d' ' -f3 "$W/rss-aa.txt" | median) - $(cut -d' ' -f3 "$W/rss-bare.txt" | median) ))
SHIM_MAP=$(cut -d' ' -f4 "$W/rss-aa.txt" | median)
SHIM_VM=$((RSS_AA - RSS_BARE))
# what the shim costs the process: its own mapped pages plus the anonymous
# memory it adds.  The VmRSS difference also counts shared libc page-cache
# pages that fault-around happens to map (varies between runs; not memory the
# process adds), so it is reported but not used for the target.
SHIM_KIB=$((ANON_D + SHIM_MAP))

# wrapper: a session of RSS_N connect records; max resident set of the
# wrapper from /usr/bin/time (its children: conncli only, a few hundred KiB)
# and the wrapper's own VmHWM sampled from /proc while it runs
jbig=$W/logs/j-big.jsonl
: > "$jbig"
TIMEV=
command -v /usr/bin/time >/dev/null && [ -x /usr/bin/time ] && TIMEV=/usr/bin/time
t0=$(date +%s.%N)
(cd "$P" && exec ${TIMEV:+$TIMEV -f %M -o $W/big-maxrss.txt} env $AA_ENV "$AA_BIN" --task "$(wl_id big)" \
    --tasks-dir "$P/.aiwg/admin-tasks" --config /nonexistent --log "$jbig" -q --seccomp off \
    -- $(wl_cmd big)) </dev/null >/dev/null 2>"$W/logs/big.err" &
BIG=$!
HWM=0
while kill -0 "$BIG" 2>/dev/null; do
    for p in $(pgrep -x admin-audit -P "$BIG" 2>/dev/null) $BIG; do
        h=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null)
        case $(readlink "/proc/$p/exe" 2>/dev/null) in "$AA_BIN"|"$(readlink -f "$AA_BIN")") ;; *) continue ;; esac
        [ -n "$h" ] && [ "$h" -gt "$HWM" ] && HWM=$h
    done
    sleep 0.2
done
wait "$BIG"
BIG_RC=$?
t1=$(date +%s.%N)
BIG_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
BIG_RECORDS=$(wc -l < "$jbig")
BIG_MAXRSS=$(cat "$W/big-maxrss.txt" 2>/dev/null | tail -n1)
read -r _ BIG_CO _ BIG_LOST _ BIG_VRC _ <<<"$(journal_counts "$jbig")"
say "  shim: +$SHIM_KIB KiB per process (anon $(printf %+d "$ANON_D"), shim mappings $SHIM_MAP; VmRSS $(printf %+d "$SHIM_VM"), file $(printf %+d "$FILE_D")); wrapper: ${BIG_MAXRSS:-?} KiB max RSS, VmHWM $HWM KiB for $BIG_RECORDS records in ${BIG_SECS}s (rc $BIG_RC, lost $BIG_LOST, verify $BIG_VRC)"

# ---------------------------------------------------------------- report
col() { # FILE LABEL COLUMN -> value (abtime output)
    awk -v l="$2" -v c="$3" '$1 == l {print $c}' "$1" 2>/dev/null
}
ops_of() { # WORKLOAD -> operations (execs or connects)
    local e c
    read -r _ e c <<<"$(grep "^$1 " "$W/truth.txt")"
    if [ "$(wl_kind "$1")" = connect ]; then echo "$c"; else echo "$e"; fi
}
label() {
    case $1 in
    bare) echo "bare (median wall)" ;; aa-shim) echo "admin-audit, shim (--seccomp off)" ;;
    floor) echo "floor: an empty LD_PRELOAD library" ;;
    aa-seccomp) echo "admin-audit, shim + backstop (--seccomp on)" ;;
    snoopy) echo "snoopy (LD_PRELOAD, file log)" ;; strace) echo "strace -f -o /dev/null" ;;
    esac
}
note_of() { case $1 in aa-seccomp) echo "$NOTE_SECCOMP" ;; snoopy) echo "$NOTE_SNOOPY" ;; strace) echo "$NOTE_STRACE" ;; esac; }
{
    echo "## admin-audit benchmark"
    echo
    echo "\`cmake --build build --target bench\` ($(date -u +%F), $(uname -r), $(nproc) CPUs, load at start $(awk '/^load at start/ {print $4}' "$OUT/env.txt"))."
    echo "One interleaved run per workload (abtime: every variant once per round, order rotated),"
    echo "ROUNDS=$ROUNDS (+$WARM warm-up). Cell: ratio to bare = median of per-round ratios;"
    echo "then µs added per exec (exec workloads) or per connect (connect workloads), net of the"
    echo "variant's fixed start-up cost (its difference on the null workload), per operation."
    echo
    printf '| variant |'
    for wl in $WORKLOADS; do printf ' %s |' "$wl"; done
    echo
    printf '|---|'
    for wl in $WORKLOADS; do printf -- '---|'; done
    echo
    printf '| operations |'
    for wl in $WORKLOADS; do
        if [ "$wl" = null ]; then printf ' 1 exec |'; else printf ' %s %ss |' "$(ops_of "$wl")" "$(wl_kind "$wl")"; fi
    done
    echo
    for v in $VARIANTS; do
        printf '| %s |' "$(label "$v")"
        if ! variant_ok "$v"; then
            for wl in $WORKLOADS; do printf ' n/a |'; done
            echo
            continue
        fi
        for wl in $WORKLOADS; do
            f=$OUT/time-$wl.txt
            n=$(col "$f" "$v" 2)
            if [ -z "$n" ] || [ "$n" = 0 ]; then printf ' FAILED |'; continue; fi
            if [ "$v" = bare ]; then printf ' %.1f ms |' "$(col "$f" bare 3)"; continue; fi
            ratio=$(col "$f" "$v" 6)
            diff=$(col "$f" "$v" 9)
            if [ "$wl" = null ]; then
                printf ' ×%.2f, %+.1f ms |' "$ratio" "$diff"
                continue
            fi
            d0=$(col "$OUT/time-null.txt" "$v" 9)
            ops=$(ops_of "$wl")
            awk -v r="$ratio" -v d="$diff" -v d0="${d0:-0}" -v ops="$ops" 'BEGIN {
                printf " ×%.3f, %+.0f µs |", r, (ops > 0 ? (d - d0) * 1000 / ops : 0) }'
        done
        echo
    done
    echo
    for v in aa-seccomp snoopy strace; do
        n=$(note_of "$v")
        [ -n "$n" ] && echo "* $(label "$v"): $n"
    done
    echo "* Paired-ratio spread (min–max over rounds) of admin-audit (shim):$(for wl in $WORKLOADS; do
        printf ' %s %.2f–%.2f;' "$wl" "$(col "$OUT/time-$wl.txt" aa-shim 7)" "$(col "$OUT/time-$wl.txt" aa-shim 8)"; done)"
    echo "* CPU steal during the runs:$(for wl in $WORKLOADS; do printf ' %s %s;' "$wl" "$(awk '/^# steal/ {print $3}' "$OUT/time-$wl.txt")"; done)"
    echo
    echo "### Nothing dropped (one untimed run per admin-audit variant; truth = strace -f of the bare run)"
    echo
    echo "| workload | variant | execs truth / recorded | connects truth / recorded | lookups | lost | records | verify | |"
    echo "|---|---|---|---|---|---|---|---|---|"
    while read -r wl v te tc ex co lk lost n vrc rc sc verdict; do
        echo "| $wl | $v | $te / $ex | $tc / $co | $lk | $lost | $n | $vrc | $verdict |"
    done < "$OUT/records.txt"
    echo
    echo "### Floors on this machine"
    echo
    echo "* Loading an empty preload library: the \`floor\` row above."
    echo "* One report over the shim's channel, in the reporting process, with no wrapper work (\`chancost\`, median of 3 × 20000): $CHANCOST. The shim pays this for every connect and lookup it reports, because it keeps no descriptor of its own in the audited process."
    echo
    echo "### Memory"
    echo
    echo "| what | measured | target |"
    echo "|---|---|---|"
    echo "| shim: added RSS per process = added RssAnon + resident shim mappings (median of 5, helper bare vs under admin-audit) | $SHIM_KIB KiB (anon $(printf %+d "$ANON_D"), shim mappings $SHIM_MAP; whole VmRSS $(printf %+d "$SHIM_VM"), of it file $(printf %+d "$FILE_D"): shared libc pages mapped by fault-around; bare $RSS_BARE KiB) | ≤ 64 KiB |"
    echo "| wrapper: max RSS, session of $BIG_RECORDS records ($RSS_N connects, ${BIG_SECS} s) | ${BIG_MAXRSS:-n/a} KiB (/usr/bin/time %M); VmHWM sampled $HWM KiB; lost $BIG_LOST, verify $BIG_VRC | < 16 MiB |"
    echo
    echo "### Targets"
    echo
    tgt() { # text ok?
        if [ "$2" = 1 ]; then echo "* met: $1"; else echo "* **NOT met**: $1"; fi
    }
    for wl in true xargs; do
        case " $WORKLOADS " in *" $wl "*) ;; *) continue ;; esac
        r=$(col "$OUT/time-$wl.txt" aa-shim 6)
        f=$(col "$OUT/time-$wl.txt" floor 6)
        tgt "exec-heavy ($wl): admin-audit (shim) ×$r ≤ ×1.05${f:+ (an empty preload library alone: ×$f)}" \
            "$(awk -v r="$r" 'BEGIN {print (r != "" && r <= 1.05) ? 1 : 0}')"
        if variant_ok aa-seccomp && [ "$wl" = true ]; then
            r=$(col "$OUT/time-$wl.txt" aa-seccomp 6)
            tgt "exec-heavy ($wl) with the backstop: ×$r ≤ ×1.15" "$(awk -v r="$r" 'BEGIN {print (r != "" && r <= 1.15) ? 1 : 0}')"
        fi
    done
    for wl in conn gai; do
        case " $WORKLOADS " in *" $wl "*) ;; *) continue ;; esac
        r=$(col "$OUT/time-$wl.txt" aa-shim 6)
        d=$(col "$OUT/time-$wl.txt" aa-shim 9)
        d0=$(col "$OUT/time-null.txt" aa-shim 9)
        us=$(awk -v d="$d" -v d0="${d0:-0}" -v o="$(ops_of "$wl")" 'BEGIN {printf "%.1f", (o > 0 ? (d - d0) * 1000 / o : 0)}')
        tgt "connect-heavy ($wl): ×$r ≤ ×1.15 and $us µs ≤ 5 µs per connect" \
            "$(awk -v r="$r" -v u="$us" 'BEGIN {print (r != "" && r <= 1.15 && u <= 5) ? 1 : 0}')"
        if variant_ok aa-seccomp && [ "$wl" = conn ]; then
            r=$(col "$OUT/time-$wl.txt" aa-seccomp 6)
            tgt "connect-heavy ($wl) with the backstop: ×$r ≤ ×1.30" "$(awk -v r="$r" 'BEGIN {print (r != "" && r <= 1.30) ? 1 : 0}')"
        fi
    done
    tgt "shim RSS $SHIM_KIB KiB ≤ 64 KiB per process" "$( [ "$SHIM_KIB" -le 64 ] && echo 1)"
    tgt "wrapper ${BIG_MAXRSS:-?} KiB < 16384 KiB for $BIG_RECORDS records" \
        "$( [ -n "$BIG_MAXRSS" ] && [ "$BIG_MAXRSS" -lt 16384 ] && echo 1)"
    tgt "no record dropped in any admin-audit run" "${RECORDS_OK:+1}"
} > "$OUT/results.md"
cat "$OUT/env.txt" >&2
cat "$OUT/results.md"
[ -n "$RECORDS_OK" ] || { say "bench: records missing (see above)"; exit 1; }
exit 0
