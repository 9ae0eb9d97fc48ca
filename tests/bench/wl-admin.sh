#!/bin/sh
# Copied from shared/bench/wl-admin.sh (the perf.md anchor harness); used by tests/bench/run.sh.
# wl-admin.sh TREE OUT: a "realistic admin job" - find/grep/sed/awk/sort/tar
# over the tree made by gen-tree.sh; a few hundred execs in total.
set -eu
tree=$1; out=$2
rm -rf "$out"
mkdir -p "$out"
# inventory
find "$tree" -type f | sort > "$out/files.txt"
wc -l < "$out/files.txt" > "$out/count.txt"
# config audit across the whole tree
find "$tree" -name '*.conf' -exec grep -l '^PermitRootLogin yes' {} + | sort > "$out/root-login.txt"
# per-service summaries
for d in "$tree"/svc*; do
    s=$(basename "$d")
    grep -h '^port' "$d"/*.conf | awk '{print $2}' | sort -n | uniq > "$out/$s.ports"
    cat "$d"/*.log | grep -c ERROR > "$out/$s.errors" || true
    sed -n 's/^user = //p' "$d"/*.conf | sort -u > "$out/$s.users"
    awk '$3 == "WARN" {w++} END {print w + 0}' "$d"/*.log > "$out/$s.warn"
done
# per-file rewrite of the first 100 files
for f in $(head -n 100 "$out/files.txt"); do
    sed 's/old/new/g' "$f" > "$out/rewrite.tmp"
done
# log level histogram, backup and checksum
cat "$tree"/svc*/*.log | awk '{c[$3]++} END {for (k in c) print k, c[k]}' | sort > "$out/levels.txt"
tar -cf "$out/backup.tar" -C "$tree" .
sha256sum "$out/backup.tar" > "$out/backup.sha256"
date -u +%s > "$out/done"
