#!/bin/sh
# Seed a few users without a locale (what the backfill fixes).
set -eu
dir=${DATABASE_URL#file://}
mkdir -p "$dir"
[ -s "$dir/users.csv" ] || echo "id,email,locale" > "$dir/users.csv"
for i in 1 2 3; do echo "$i,user$i@example.com," >> "$dir/users.csv"; done
