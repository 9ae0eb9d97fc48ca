/* The kernel backstop (contract §1, §2 --seccomp): a seccomp user-notification
 * filter installed in the command's process before exec, reporting execve,
 * execveat and connect of everything the shim cannot enter. */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

struct aa_session;
struct aa_backstop;
struct aa_channel;

/* Decide and prepare (in the wrapper, before fork).  Always returns an object
 * (or -ENOMEM); aa_backstop_enabled() says whether it will be installed, and
 * aa_backstop_detail() why / why not (for session.start coverage + checks).
 * Returns -EPERM when mode is ON and the filter cannot be installed at all
 * (the run is refused with 125). */
int aa_backstop_prepare(struct aa_session *s, enum aa_seccomp_mode mode, struct aa_backstop **ret);
bool aa_backstop_enabled(const struct aa_backstop *b);
bool aa_backstop_no_new_privs(const struct aa_backstop *b); /* on without CAP_SYS_ADMIN */
const char *aa_backstop_detail(const struct aa_backstop *b);

/* In the forked child, before exec (the wrapper is single-threaded):
 * install the filter and pass the notify fd to the parent.  Returns 0 or -errno. */
int aa_backstop_child(struct aa_backstop *b);

/* In the wrapper after fork: receive the notify fd.  Returns 0 or -errno. */
int aa_backstop_parent(struct aa_backstop *b);

size_t aa_backstop_pollfds(struct aa_backstop *b, struct pollfd *fds, size_t max);
int aa_backstop_dispatch(struct aa_backstop *b, const struct pollfd *fds, size_t n);

/* Link the backstop with the shim channel (run.c, after fork; ch may be NULL),
 * both ways: the backstop asks the channel whether an execve it is notified of
 * was already recorded by the shim, and the channel asks the backstop whether
 * a connect the shim reports was seen (and held back) by the filter. */
void aa_backstop_attach(struct aa_backstop *b, struct aa_channel *ch);

/* For the channel: the shim of process pid reports a connect/sendto (api) to
 * family/addr/port.  Returns 0 when the backstop did not see it (or is off),
 * 1 when it saw it and deferred its own record (the shim's record is then the
 * only one: the caller marks it audit.seccomp = true), 2 when it saw it but
 * had already written its own record (ref gets that record's event.id). */
int aa_backstop_claim_connect(struct aa_backstop *b, pid_t pid, const char *api, int family,
                              const void *addr, int port, char *ref, size_t reflen);

/* Write every record still held back (end of session, after the channel was
 * drained).  Returns 0 or the first -errno of aa_session_emit. */
int aa_backstop_drain(struct aa_backstop *b);

void aa_backstop_free(struct aa_backstop *b); /* NULL-safe */
