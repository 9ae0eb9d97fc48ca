#!/bin/sh
# Copied from shared/bench/gen-tree.sh (the perf.md anchor harness); used by tests/bench/run.sh.
# gen-tree.sh DIR [DIRS] [FILES_PER_DIR]: a deterministic tree of small
# config and log files (default 20 x 100 = 2000 files) for wl-admin.sh.
set -eu
dir=$1; nd=${2:-20}; nf=${3:-100}
rm -rf "$dir"
mkdir -p "$dir"
awk -v dir="$dir" -v nd="$nd" -v nf="$nf" 'BEGIN {
    srand(42)
    for (d = 0; d < nd; d++) {
        sd = sprintf("%s/svc%02d", dir, d)
        system("mkdir -p " sd)
        for (f = 0; f < nf; f++) {
            if (f % 2 == 0) {
                p = sprintf("%s/unit%03d.conf", sd, f)
                printf("# unit %d of svc%02d\nuser = user%d\nport %d\nListen 127.0.0.1:%d\n", f, d, (d * 7 + f) % 13, 1000 + (d * 37 + f * 11) % 500, 8000 + f) > p
                printf("PermitRootLogin %s\nMaxSessions %d\noption old_value_%d\n", ((d + f) % 9 == 0) ? "yes" : "no", f % 10, f) > p
                close(p)
            } else {
                p = sprintf("%s/unit%03d.log", sd, f)
                for (l = 0; l < 12; l++) {
                    r = int(rand() * 10)
                    lvl = (r < 1) ? "ERROR" : (r < 3) ? "WARN" : "INFO"
                    printf("2024-01-%02d 12:%02d:%02d %s svc%02d pid=%d msg=old event %d\n", 1 + l, f % 60, l, lvl, d, 100 + f, r) > p
                }
                close(p)
            }
        }
    }
}'
