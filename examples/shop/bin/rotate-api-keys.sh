#!/bin/sh
# Rotate the internal API keys: keep the previous key for a grace window.
set -eu
f=${API_KEYS_FILE:?API_KEYS_FILE not set}
[ -f "$f" ] && cp "$f" "$f.previous"
umask 077
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$f"
echo "rotated $(basename "$f"); previous key kept in $(basename "$f").previous"
