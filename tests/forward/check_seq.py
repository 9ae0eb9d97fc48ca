#!/usr/bin/env python3
"""Check a receiver output file (one JSON message per line, native or ECS, as
written by rsyslog's "%msg%\\n" template or bulk_server.py's store) against a
journal: every record of the journal arrived, in chain order on first
occurrence; duplicates allowed (counted).

usage: check_seq.py JOURNAL RECEIVED [--exact] [--min-checkpoints N]
prints "records=N dups=D checkpoints=C" and exits 1 on any problem."""
import json
import sys


def ids_of_journal(path):
    out = []
    for line in open(path, encoding="utf-8"):
        out.append(json.loads(line)["event"]["id"])
    return out


def main():
    journal, received = sys.argv[1], sys.argv[2]
    exact = "--exact" in sys.argv
    min_cp = 0
    if "--min-checkpoints" in sys.argv:
        min_cp = int(sys.argv[sys.argv.index("--min-checkpoints") + 1])
    want = ids_of_journal(journal)
    pos = {i: n for n, i in enumerate(want)}
    seen, order, dups, cps, bad = set(), [], 0, 0, 0
    for line in open(received, encoding="utf-8", errors="replace"):
        line = line.strip()
        if not line:
            continue
        try:
            r = json.loads(line)
        except ValueError:
            bad += 1
            continue
        ev = r.get("event", {})
        if ev.get("action") == "chain.checkpoint":
            cps += 1
            continue
        i = ev.get("id")
        if i in seen:
            dups += 1
            continue
        seen.add(i)
        order.append(i)
    problems = []
    missing = [i for i in want if i not in seen]
    if missing:
        problems.append("missing %d (first %s)" % (len(missing), missing[:3]))
    extra = [i for i in order if i not in pos]
    if extra:
        problems.append("unexpected %s" % extra[:3])
    idx = [pos[i] for i in order if i in pos]
    if idx != sorted(idx):
        problems.append("out of order")
    if bad:
        problems.append("%d unparsable lines" % bad)
    if exact and dups:
        problems.append("%d duplicates" % dups)
    if cps < min_cp:
        problems.append("only %d checkpoints" % cps)
    print("records=%d dups=%d checkpoints=%d" % (len(seen), dups, cps))
    for p in problems:
        print("PROBLEM:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
