#!/bin/bash
# argv bytes are reproduced exactly: newlines, quotes, control bytes, invalid
# UTF-8 (U+FFFD in the field, exact bytes base64 under audit.raw) and 100 KB
# arguments, carried in full over the chunked channel.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shim_common.bash"

# The documented command builds the bytes with bash quoting.
srun "/bin/true args-marker \$'line1\\nline2' \"it's \\\"quoted\\\"\" \$'\\x01\\x1b[31m\\x7f' \$'\\xff\\xfe bad \\xc3' \$'caf\\xc3\\xa9' \"\$(head -c 100000 /dev/zero | tr '\\0' a)\" \"\$(head -c 131000 /dev/zero | tr '\\0' b)\""
[ "$rc" -eq 0 ] || fail "runs" "rc=$rc $(cat "$T/err")"
python3 - "$JOURNAL" <<'PY' && ok "argv reproduced exactly" || fail "argv bytes" "see above"
import base64, json, sys
R = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
E = [r for r in R if r["event"]["action"] == "process.exec" and r["audit"]["source"] == "shim"
     and r["process"]["args"][:2] == ["/bin/true", "args-marker"]]
assert len(E) == 1, len(E)
e = E[0]
want = [b"/bin/true", b"args-marker", b"line1\nline2", b"it's \"quoted\"", b"\x01\x1b[31m\x7f",
        b"\xff\xfe bad \xc3", "café".encode(), b"a" * 100000, b"b" * 131000]
raw = e["audit"].get("raw", {})
got = []
for i, a in enumerate(e["process"]["args"]):
    k = "process.args[%d]" % i
    got.append(base64.b64decode(raw[k]) if k in raw else a.encode())
if got != want:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            print("arg", i, g[:40], w[:40])
    print(len(got), len(want))
    sys.exit(1)
assert e["process"]["args_count"] == len(want)
assert "\ufffd" in e["process"]["args"][5], "U+FFFD in the field"
assert "process.args[5]" in raw and "process.args[6]" not in raw
PY
aa_done
