/* The kernel backstop (contract §1, §2 --seccomp): a seccomp user-notification
 * filter installed in the command's process before exec, reporting execve,
 * execveat and connect of everything the shim cannot enter. */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct aa_session;
struct aa_backstop;

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

void aa_backstop_free(struct aa_backstop *b); /* NULL-safe */
