/* The wrapper's end of the shim channel (wire format: include/admin-audit/protocol.h).
 * Turns shim reports into process.exec / network.connect / dns.lookup
 * records through aa_session_emit(), and answers each exec report only after
 * its record is in the journal (record before effect). */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct aa_session;
struct aa_channel;
struct aa_backstop;

/* Create the listening socket(s) for session s.  Returns 0 or -errno. */
int aa_channel_open(struct aa_session *s, struct aa_channel **ret);

/* Environment additions for the command, as owned "NAME=value" strings
 * appended to *envp (a malloc'ed NULL-terminated vector that may be
 * realloc'ed): LD_PRELOAD with the shim first, and the ADMIN_AUDIT_*
 * control variables the shim reads.  shim_path: absolute path of the shim.
 * Returns 0 or -errno. */
int aa_channel_child_env(struct aa_channel *ch, const char *shim_path, char ***envp);

/* Descriptors the poll loop must watch (POLLIN); returns how many were
 * written to fds (at most max). */
size_t aa_channel_pollfds(struct aa_channel *ch, struct pollfd *fds, size_t max);

/* Handle whatever is ready on the descriptors returned above (revents set).
 * Returns 0 or -errno on an internal failure (not for a misbehaving peer,
 * which is dropped and counted). */
int aa_channel_dispatch(struct aa_channel *ch, const struct pollfd *fds, size_t n);

/* Read everything still queued (after the last process of the session is
 * gone, and before session.end). */
int aa_channel_drain(struct aa_channel *ch);

/* Backstop link (aa_backstop_attach calls this): shim connect reports are
 * offered to aa_backstop_claim_connect(), and aa_channel_drain() ends with
 * aa_backstop_drain().  b may be NULL. */
void aa_channel_set_backstop(struct aa_channel *ch, struct aa_backstop *b);

/* For the backstop: is the exec of path (len bytes, as passed to the
 * syscall) by process pid the one its shim reported and we acknowledged
 * (its exec still in flight)?  ppid > 0 also matches posix_spawn reports of
 * the parent and the /bin/sh of a recent system()/popen() report. */
bool aa_channel_exec_covered(struct aa_channel *ch, pid_t pid, pid_t ppid, const char *path,
                             size_t len);

void aa_channel_close(struct aa_channel *ch); /* NULL-safe */
