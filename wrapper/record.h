/* Records (contract §6): every journal line is built here.  The envelope is
 * created in the contract's fixed key order; kind-specific members are added
 * to the nested objects afterwards (json-c keeps insertion order); the
 * journal (journal.h) fills event.id, appends chain{seq,prev} and the hash.
 *
 * Every string that comes from outside (argv, paths, names) goes through
 * aa_rec_set_bytes()/aa_rec_set_args(): invalid UTF-8 becomes U+FFFD in the
 * field and the exact bytes go base64 into audit.raw["<field path>"]
 * (arrays: "process.args[3]").  Redaction (redact.h) happens here too, before
 * anything is hashed or written. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define AA_SCHEMA "admin-audit/1"

struct aa_envelope {
    const char *session_id;     /* borrowed */
    const char *task_id;        /* borrowed, NULL -> JSON null */
    const char *user_name;      /* borrowed */
    const char *user_effective; /* borrowed */
    const char *host_name;      /* borrowed */
};

struct aa_counts {
    uint64_t records, execs, connects, lookups, denied, redactions, shim_unavailable, lost;
};

/* A byte string that may not be UTF-8 or NUL-terminated. */
struct aa_bytes {
    const char *p;
    size_t n;
};

/* New record with the envelope:
 *   {"@timestamp", "schema", "event":{"action","outcome","id":null},
 *    "session":{"id","task"}, "user":{"name","effective":{"name"}},
 *    "host":{"name"}, "process":{"pid"}}
 * ts NULL = now.  Returns an owned object or NULL on ENOMEM. */
struct json_object *aa_record_new(const struct aa_envelope *env, const char *action,
                                  const char *outcome, const struct timespec *ts, pid_t pid);

/* Get or create the nested object at a dotted path ("session", "audit.exec").
 * Borrowed return; NULL on ENOMEM or when a non-object is in the way. */
struct json_object *aa_rec_obj(struct json_object *rec, const char *dotted);

/* Set a member at a dotted path ("process.working_directory"); replaces an
 * existing member in place (its position is kept).  Steals val (may be NULL
 * for JSON null).  Returns 0 or -ENOMEM. */
int aa_rec_set(struct json_object *rec, const char *dotted, struct json_object *val);
int aa_rec_set_str(struct json_object *rec, const char *dotted, const char *s); /* s must be UTF-8; NULL -> null */
int aa_rec_set_int(struct json_object *rec, const char *dotted, int64_t v);
int aa_rec_set_bool(struct json_object *rec, const char *dotted, bool v);
/* A number written as a JSON string, as ECS keyword fields want it
 * (user.id, network.iana_number). */
int aa_rec_set_num_str(struct json_object *rec, const char *dotted, int64_t v);

/* Outside bytes: validated, U+FFFD-replaced, raw kept under audit.raw.
 * Value redaction (token shapes, URL userinfo) applied when redact is true;
 * each redaction appends to audit.redactions and counts->redactions (counts may be NULL). */
int aa_rec_set_bytes(struct json_object *rec, const char *dotted, const void *p, size_t n,
                     bool redact, struct aa_counts *counts);

/* An argv array at a dotted path, with the argv redaction rules (flags,
 * -p<pw> for database clients, URL userinfo, Authorization headers, token
 * shapes), U+FFFD/audit.raw per element, audit.redactions entries
 * {"field","index","rule"} and counts->redactions.  Also sets
 * "<parent>.args_count" when dotted ends in ".args". */
int aa_rec_set_args(struct json_object *rec, const char *dotted, const struct aa_bytes *argv,
                    size_t argc, struct aa_counts *counts);

/* Environment as "NAME=value" strings, allowlist rule of reference/schema.md
 * §6.2: allowlisted names keep their value, every other becomes
 * NAME=[REDACTED] (never the value).  extra_allow may be NULL. */
int aa_rec_set_env(struct json_object *rec, const char *dotted, const struct aa_bytes *envp,
                   size_t envc, char *const *extra_allow, struct aa_counts *counts);

/* network.transport for a socket type and protocol ("tcp", "udp", ...). */
const char *aa_net_transport_name(int type, int proto);

/* "ENOENT" for ENOENT; "E<n>" (in buf) for a number libc has no name for. */
const char *aa_errno_name(int e, char buf[16]);

/* Copy the record's event.id (set by the journal) into out ("" when none). */
void aa_record_event_id(struct json_object *rec, char *out, size_t outlen);

/* Reading records back (journal readers): the member at a dotted path
 * ("session.end_reason"), NULL when absent or when a non-object is in the
 * way; the _str form only when it is a string.  Borrowed. */
struct json_object *aa_json_get(struct json_object *o, const char *dotted);
const char *aa_json_get_str(struct json_object *o, const char *dotted);

/* Serialise the way the journal does (PLAIN | NOSLASHESCAPE), without hash.
 * Borrowed string valid until rec changes. */
const char *aa_record_serialize(struct json_object *rec, size_t *ret_len);

/* A record from ADMIN-AUDIT's point of view is valid UTF-8 JSON: helper used by
 * the UTF-8 rule.  Returns true when p[0..n) is valid UTF-8 (no overlongs,
 * no surrogates, nothing above U+10FFFF). */
bool aa_utf8_valid(const void *p, size_t n);

/* U+FFFD-replaced copy (each maximal invalid subsequence -> one U+FFFD),
 * NUL bytes also replaced.  Owned, NULL on ENOMEM. */
char *aa_utf8_sanitize(const void *p, size_t n);

/* RFC 4648 base64 (libcrypto EVP_EncodeBlock). Owned, NULL on ENOMEM. */
char *aa_base64(const void *p, size_t n);
