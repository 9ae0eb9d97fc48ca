/* Break-glass support (contract §2 break-glass, issue "Break-glass sessions"):
 * the terminal the session runs on (a pty the wrapper owns, recorded as
 * asciicast v2 beside the journal), the stub document written before the
 * command starts when the task has none, and the post-mortem owed after. */
#pragma once

#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

struct aa_breakglass_tty;

/* Before fork: open a pty sized like our terminal (stdin), put our terminal
 * in raw mode, and create <dir>/<session>.cast.  Returns 0 and *ret, or
 * -ENOTTY when stdin is not a terminal (then the session runs on the
 * caller's stdio unrecorded and says so), or -errno. */
int aa_breakglass_tty_open(const char *journal_path, const char *session_id, const char *command,
                           bool record_input, struct aa_breakglass_tty **ret);

/* In the child after fork: new session, the pty slave as controlling
 * terminal and stdio.  Returns 0 or -errno. */
int aa_breakglass_tty_child(struct aa_breakglass_tty *t);

/* In the parent after fork: close the slave. */
void aa_breakglass_tty_parent(struct aa_breakglass_tty *t);

size_t aa_breakglass_tty_pollfds(struct aa_breakglass_tty *t, struct pollfd *fds, size_t max);
int aa_breakglass_tty_dispatch(struct aa_breakglass_tty *t, const struct pollfd *fds, size_t n);
void aa_breakglass_tty_winch(struct aa_breakglass_tty *t); /* SIGWINCH: resize + "r" event */

/* After the last process is gone: drain, restore the terminal, close the
 * cast; *ret_recording = {"format","file","sha256","bytes","events","input"}. */
int aa_breakglass_tty_close(struct aa_breakglass_tty *t, struct json_object **ret_recording);

/* The recording file's path (for session.start session.recording). */
const char *aa_breakglass_tty_cast_path(const struct aa_breakglass_tty *t);

/* BG-2: when the task named by --task has no document, write a stub
 * ADM-NNN.md (Category emergency, Status draft, the command, the reason)
 * before the command starts.  Returns 0 (path in *ret_path, owned), or -errno
 * with a message in err. */
int aa_breakglass_write_stub(const char *tasks_dir, const char *task_id, char *const *command,
                             const char *reason, const char *incident, const char *operator_name,
                             char **ret_path, char *err, size_t errlen);

/* After the post-mortem is written: the stub task document this session
 * wrote (stub_path) names it in its Break-glass line,
 *   - Break-glass: yes (reason: R; post-mortem: pending)
 *   -> - Break-glass: yes (reason: R; post-mortem: .aiwg/incidents/PM-...md, pending)
 * (relative to project_dir when below it), replaced atomically.  A document
 * whose line no longer reads so (edited meanwhile) is left alone: 0, with
 * *changed false.  Returns 0 or -errno. */
int aa_breakglass_link_postmortem(const char *stub_path, const char *pm_path,
                                  const char *project_dir, bool *changed);

/* BG-7: after session.end, write the post-mortem stub
 * <project>/.aiwg/incidents/PM-<task or session>-<YYYYMMDD>.md from the
 * session's records in the journal.  Returns 0 (path in *ret_path) or -errno. */
int aa_breakglass_write_postmortem(const char *incidents_dir, const char *journal_path,
                                   const char *session_id, char **ret_path);

/* The name part of a post-mortem file: the task id, else the session id up
 * to its second dash ("01a23dff-be16").  Returns 0 or -errno. */
int aa_breakglass_file_tag(const char *task_id, const char *session_id, char *out, size_t outlen);

/* For `pending`: the post-mortem of a session in incidents_dir, i.e. a
 * PM-*.md that names the session id, or PM-<task>-<YYYYMMDD>*.md for the
 * session's task and day (day may be NULL).  *ret_path (owned) is NULL when
 * there is none; *ret_complete is true when its **Status** is `complete`.
 * A missing directory is not an error.  Returns 0 or -errno. */
int aa_breakglass_postmortem_find(const char *incidents_dir, const char *session_id,
                                  const char *task_id, const char *day_yyyymmdd, char **ret_path,
                                  bool *ret_complete);
