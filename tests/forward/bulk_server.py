#!/usr/bin/env python3
"""Mock Elasticsearch _bulk + JSON-lines receiver on 127.0.0.1 (stdlib only).

  POST /<index>/_bulk or /_bulk   ndjson action/document pairs ("create" with _id):
      201 stored, 409 already stored (version conflict), and the first time
      an _id whose sequence number is a multiple of REJECT_EVERY arrives it
      gets 429 (retry later), so the client must retry exactly those items.
  POST /lines                     ndjson documents, 200 for the batch
      (the first FAIL_FIRST_LINES requests get 503).

Every stored document is appended to STORE (one JSON line, with "_id");
every request is logged to STORE.requests.
usage: bulk_server.py PORTFILE STORE [REJECT_EVERY] [FAIL_FIRST_LINES]"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, store = sys.argv[1], sys.argv[2]
reject_every = int(sys.argv[3]) if len(sys.argv) > 3 else 7
fail_first_lines = int(sys.argv[4]) if len(sys.argv) > 4 else 1
lock = threading.Lock()
ids = set()
rejected_once = set()
lines_requests = [0]


def seq_of(_id):
    try:
        return int(_id.split(":")[1])
    except (IndexError, ValueError):
        return 0


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n).decode()
        with lock, open(store + ".requests", "a") as log:
            log.write("%s %s %d\n" % (self.path, self.headers.get("Content-Type"), n))
        if self.path.split("?")[0].endswith("/_bulk"):
            return self.bulk(data)
        if self.path.startswith("/lines"):
            with lock:
                lines_requests[0] += 1
                if lines_requests[0] <= fail_first_lines:
                    return self.reply(503, {"error": "warming up"})
                with open(store, "a") as f:
                    for line in data.splitlines():
                        if line:
                            json.loads(line)
                            f.write(line + "\n")
            return self.reply(200, {"ok": True})
        self.reply(404, {"error": "no such endpoint"})

    def bulk(self, data):
        if not data.endswith("\n"):
            return self.reply(400, {"error": "body must end with a newline"})
        lines = data.split("\n")[:-1]
        items, errors = [], False
        with lock, open(store, "a") as f:
            for i in range(0, len(lines), 2):
                action = json.loads(lines[i])
                doc = json.loads(lines[i + 1])
                _id = action["create"]["_id"]
                if _id in ids:
                    status = 409
                    errors = True
                elif seq_of(_id) % reject_every == 0 and _id not in rejected_once \
                        and not _id.endswith(":checkpoint"):
                    rejected_once.add(_id)
                    status = 429
                    errors = True
                else:
                    ids.add(_id)
                    doc["_id"] = _id
                    f.write(json.dumps(doc) + "\n")
                    status = 201
                items.append({"create": {"_id": _id, "status": status}})
        self.reply(200, {"took": 1, "errors": errors, "items": items})


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os  # noqa: E402
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
