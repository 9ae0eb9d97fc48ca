#!/usr/bin/env python3
"""Append a valid chained admin-audit/1 session to a journal (contract §6):
hash = SHA-256 of the line minus its ,"hash":"<64 hex>" suffix, '}' kept.

usage: gen_journal.py JOURNAL SESSION_ID N_RECORDS   (session.start, execs, session.end)
"""
import hashlib
import json
import os
import sys


def main():
    path, sid, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    prev = "0" * 64
    out = []
    for seq in range(1, n + 1):
        action = "session.start" if seq == 1 else "session.end" if seq == n else "process.exec"
        rec = {
            "@timestamp": "2026-01-01T00:%02d:%02d.%06dZ" % (seq // 3600 % 60, seq // 60 % 60, seq % 1000000),
            "schema": "admin-audit/1",
            "event": {"action": action, "outcome": "success", "id": "%s:%d" % (sid, seq)},
            "session": {"id": sid, "task": "ADM-001"},
            "user": {"name": "alice", "effective": {"name": "root"}},
            "host": {"name": "testhost"},
            "process": {"pid": 4242},
        }
        if action == "process.exec":
            rec["process"].update({"executable": "/bin/true", "args": ["true", str(seq)]})
        if action == "session.start":
            rec["session"]["mode"] = "standard"
        rec["chain"] = {"seq": seq, "prev": prev}
        body = json.dumps(rec, separators=(",", ":"), ensure_ascii=False)
        h = hashlib.sha256(body.encode()).hexdigest()
        out.append(body[:-1] + ',"hash":"%s"}\n' % h)
        prev = h
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(out))


if __name__ == "__main__":
    main()
