#!/bin/sh
# wl-xargs.sh N: exec-heavy with two parallel jobs: N times /bin/true started
# by xargs -P2 (fork + execvp), fed by seq.  Used by tests/bench/run.sh.
seq "${1:-2000}" | xargs -P2 -n1 /bin/true
