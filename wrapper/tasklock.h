/* Single-flight lock per task id (reference/task-format.md §b E13, §d 11):
 * a second concurrent run of the same task is refused (125) naming the
 * holder's session.
 *
 * Mechanism: flock(LOCK_EX|LOCK_NB) on a lock file that holds the holder's
 * "<session id> <pid>\n".  The kernel drops the lock when the holder's open
 * file description goes away (release, or the process exits/crashes), so a
 * lock can never be stale; the descriptor is O_CLOEXEC, so the command does
 * not inherit it.
 *
 * Lock file: <tasks_dir>/.locks/<ID>.lock (directory created 0755, file
 * 0644).  When the tasks directory is not writable (EACCES, EPERM, EROFS)
 * the lock lives in a runtime directory instead, named after the tasks
 * directory's real path so two projects never share a lock:
 * /run/admin-audit/locks/ for root, else $XDG_RUNTIME_DIR/admin-audit/locks/,
 * else /tmp/admin-audit-<uid>/locks/, file <sha256(realpath)[0..16]>-<ID>.lock.
 * (Runners of one task must agree on the location: the same tasks dir,
 * writable or not for all of them.) */
#pragma once

#include <stddef.h>

struct aa_tasklock;

/* Take the lock of task_id (ADM-NNN...) for session_id.  Returns 0 and *ret,
 * -EBUSY when another process holds it (its session id copied into holder,
 * "unknown" when it could not be read), -EINVAL for an invalid id, or
 * -errno when no lock file could be created. holder may be NULL. */
int aa_tasklock_acquire(const char *tasks_dir, const char *task_id, const char *session_id,
                        struct aa_tasklock **ret, char *holder, size_t holderlen);

/* Path of the lock file in use (borrowed). */
const char *aa_tasklock_path(const struct aa_tasklock *l);

/* Release and free; NULL-safe.  The file stays (removing it would race with
 * a concurrent acquirer that already opened it). */
void aa_tasklock_release(struct aa_tasklock *l);
