/* PLACEHOLDER until break-glass terminal recording lands. */
#include "breakglass.h"

#include <errno.h>

int
aa_breakglass_tty_open(const char *journal_path, const char *session_id, const char *command,
                       bool record_input, struct aa_breakglass_tty **ret)
{
    (void)journal_path;
    (void)session_id;
    (void)command;
    (void)record_input;
    *ret = NULL;
    return -ENOTTY;
}

int
aa_breakglass_tty_child(struct aa_breakglass_tty *t)
{
    (void)t;
    return 0;
}

void
aa_breakglass_tty_parent(struct aa_breakglass_tty *t)
{
    (void)t;
}

size_t
aa_breakglass_tty_pollfds(struct aa_breakglass_tty *t, struct pollfd *fds, size_t max)
{
    (void)t;
    (void)fds;
    (void)max;
    return 0;
}

int
aa_breakglass_tty_dispatch(struct aa_breakglass_tty *t, const struct pollfd *fds, size_t n)
{
    (void)t;
    (void)fds;
    (void)n;
    return 0;
}

void
aa_breakglass_tty_winch(struct aa_breakglass_tty *t)
{
    (void)t;
}

int
aa_breakglass_tty_close(struct aa_breakglass_tty *t, struct json_object **ret_recording)
{
    (void)t;
    *ret_recording = NULL;
    return 0;
}

const char *
aa_breakglass_tty_cast_path(const struct aa_breakglass_tty *t)
{
    (void)t;
    return NULL;
}

int
aa_breakglass_write_stub(const char *tasks_dir, const char *task_id, char *const *command,
                         const char *reason, const char *incident, const char *operator_name,
                         char **ret_path, char *err, size_t errlen)
{
    (void)tasks_dir, (void)task_id, (void)command, (void)reason, (void)incident;
    (void)operator_name, (void)err, (void)errlen;
    *ret_path = NULL;
    return -ENOSYS;
}

int
aa_breakglass_write_postmortem(const char *incidents_dir, const char *journal_path,
                               const char *session_id, char **ret_path)
{
    (void)incidents_dir, (void)journal_path, (void)session_id;
    *ret_path = NULL;
    return -ENOSYS;
}
