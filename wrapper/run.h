/* Shared bits of the run path used by other verbs. */
#pragma once

#include "config.h"

/* --tasks-dir, else $ADMIN_AUDIT_TASKS_DIR, else config tasks_dir, else the
 * nearest .aiwg/admin-tasks from the cwd upward.  Owned, NULL when none. */
char *aa_run_tasks_dir(const char *opt, const struct aa_config *cfg);

/* The project root for a tasks dir (<project>/.aiwg/admin-tasks). Owned. */
char *aa_run_project_dir(const char *tasks_dir);

/* "SIGTERM" etc. (static storage for unknown numbers). */
const char *aa_signal_name(int sig);
