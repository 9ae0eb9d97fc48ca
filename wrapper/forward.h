/* Forwarding (contract §2 --forward / --forward-format, §7.7 Spool).
 *
 * The journal IS the spool: nothing is ever deleted from it.  Each target
 * has a cursor file <journal>.d/cursors/<sha256(url)[0:16]>.json holding the
 * byte offset just after the last delivered line and that line's event.id
 * (written tmp + fsync + rename + fsync(dir)).  Targets with
 * acknowledgements (relp: "rsp 200" per record; http: 2xx, and for _bulk the
 * per-item status 200/201/409) advance the cursor only on ack; best-effort
 * targets (syslog unix/udp/tcp/tls) advance on a successful send and are
 * reported with "ack":"none", never as confirmed.  Delivery is in journal
 * (chain) order, at least once; duplicates are removable by event.id.
 * A per-target lock file (flock) serialises concurrent forwarders of one
 * journal.  Retries back off from 100 ms doubling to 5 s.
 *
 * After every cfg->checkpoint_every records of a session (chain.seq a
 * multiple of it) and after each session.end, every target also gets a
 * chain.checkpoint message (not written to the journal):
 *   {"@timestamp","event":{"action":"chain.checkpoint","id":"<sid>:<seq>:checkpoint"},
 *    "session":{"id"},"host":{"name"},"chain":{"seq","head"}}
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"

struct aa_forwarder;

/* Start live delivery in the background: one forked process per target
 * (own session, stdio on /dev/null, every inherited fd closed) that tails
 * the journal from the target's cursor (inotify) and delivers as records
 * are appended; this also delivers leftovers of earlier runs.  The command
 * never waits for it.  With zero targets: returns 0 and *ret = NULL.
 * Returns -EINVAL for a target URL that cannot be used (nothing started).
 * If the caller dies, each process finishes like aa_forwarder_finish(5000).
 * cfg and journal_path are only read during the call (copied).
 * Call it while the wrapper is single-threaded. */
int aa_forwarder_start(const struct aa_config *cfg, const char *journal_path,
                       struct aa_forwarder **ret);

/* Snapshot for session.end's "session.forwarding":
 *   {"targets":[{"url":<userinfo redacted>,"ack":"relp"|"http"|"none",
 *                "acked_seq":N | "sent_seq":N}, ...]}
 * acked_seq (relp/http) or sent_seq (best effort: never a confirmation) is
 * the chain.seq of this session's last record delivered, 0 when none yet;
 * read from the cursor files, so approximate.  f may be NULL (empty list).
 * *ret is owned by the caller. */
int aa_forwarder_status(struct aa_forwarder *f, struct json_object **ret);

/* Call after session.end is written: deliver up to the end of the journal
 * within timeout_ms, then stop the background processes (SIGKILL at the
 * deadline; the cursors are crash-safe, undelivered records stay spooled).
 * Never blocks longer than timeout_ms (+ a few ms).  Always frees f
 * (NULL-safe).  Returns 0 when every target caught up, -ETIMEDOUT when some
 * did not, other -errno.  Only worth a warning: never changes exit codes.
 * timeout_ms 0 = stop now (error paths). */
int aa_forwarder_finish(struct aa_forwarder *f, int timeout_ms);

/* True when pid is one of f's background processes (a reaper that waits
 * for every child must not wait for these). */
bool aa_forwarder_owns_pid(const struct aa_forwarder *f, pid_t pid);

/* Synchronous delivery of everything spooled to every target (used by
 * `flush` and optionally before a run).  One line per target goes to
 * report (may be NULL).  Returns 0 when every target is caught up,
 * -EAGAIN when records remain spooled, other -errno. */
int aa_forward_flush(const struct aa_config *cfg, const char *journal_path, int timeout_ms,
                     FILE *report);

/* Journal path: cfg->log, else /var/log/admin-audit/audit.jsonl for euid 0,
 * else $XDG_STATE_HOME/admin-audit/audit.jsonl (absolute XDG_STATE_HOME
 * only) or ~/.local/state/admin-audit/audit.jsonl.  cfg may be NULL.
 * Owned; NULL on ENOMEM or when no home directory is known. */
char *aa_default_journal_path(const struct aa_config *cfg);

/* Cursor file of a target: "<journal>.d/cursors/<sha256(url)[0:16]>.json" (owned). */
char *aa_forward_cursor_path(const char *journal_path, const char *url);

struct aa_forward_cursor {
    off_t offset;    /* bytes of the journal delivered (always at a line end) */
    char *event_id;  /* owned, may be NULL: event.id of the last delivered record */
};

/* Read a cursor file; a missing file is offset 0 (returns 0).  -errno /
 * -EINVAL for an unreadable or malformed one. */
int aa_forward_cursor_load(const char *path, struct aa_forward_cursor *ret);
/* Write atomically and durably (tmp + fsync + rename + fsync(dir)). */
int aa_forward_cursor_save(const char *path, const char *url, const char *ack,
                           const struct aa_forward_cursor *c);
void aa_forward_cursor_done(struct aa_forward_cursor *c);
