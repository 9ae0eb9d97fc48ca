/* A running session: the context every record is built in, and the single
 * path records take into the journal.  Owned by run.c (the `run`, `rollback`
 * and `break-glass` verbs). Single-threaded: everything happens in the
 * wrapper's poll loop. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

struct aa_session;
struct aa_config;

/* Envelope for records of this session (borrowed, lives as long as s). */
const struct aa_envelope *aa_session_envelope(const struct aa_session *s);

/* Counters for session.end.  Channel and backstop code increment execs,
 * connects, lookups, denied, shim_unavailable, lost; records and
 * redactions are maintained by aa_session_emit / the record helpers. */
struct aa_counts *aa_session_counts(struct aa_session *s);

/* Append a record to the journal (fdatasync with --sync), count it, and hand
 * it to the live forwarder.  Does not take ownership of rec.  Returns 0, or
 * -errno when the journal write failed: the session is then broken (fail-closed:
 * callers deny the action with EACCES unless aa_session_fail_open()). */
int aa_session_emit(struct aa_session *s, struct json_object *rec);

bool aa_session_broken(const struct aa_session *s);
bool aa_session_fail_open(const struct aa_session *s);
pid_t aa_session_wrapper_pid(const struct aa_session *s);
const struct aa_config *aa_session_config(const struct aa_session *s);
const char *aa_session_id(const struct aa_session *s);

/* The session's cgroup-free membership test: true when pid is a descendant
 * of the wrapper (the wrapper is a child subreaper, so every orphan of the
 * tree is re-parented to it and stays a descendant). */
bool aa_session_is_member(const struct aa_session *s, pid_t pid);
