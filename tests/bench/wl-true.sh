#!/bin/sh
# Copied from shared/bench/wl-true.sh (the perf.md anchor harness); used by tests/bench/run.sh.
# exec-heavy: run /bin/true N times (default 2000) from a /bin/sh loop.
n=${1:-2000}
i=0
while [ "$i" -lt "$n" ]; do
    /bin/true
    i=$((i + 1))
done
