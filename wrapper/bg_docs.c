/* Break-glass documents: the stub task document written before the command
 * starts (BG-2) and the post-mortem stub written after it (BG-7), plus the
 * lookup `pending` uses to find a session's post-mortem. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "breakglass.h"
#include "record.h"
#include "taskdoc.h"
#include "util.h"

/* ---- small text helpers ---- */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void
sb_puts(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    sb_add(b, s, (size_t)n);
    free(s);
}

/* A value for one Markdown line: valid UTF-8, control characters -> space,
 * trimmed.  Owned. */
static char *
one_line(const char *s)
{
    char *c = aa_utf8_sanitize(s ? s : "", s ? strlen(s) : 0);
    if (!c)
        return NULL;
    for (char *p = c; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return aa_strstrip(c);
}

static bool
shell_safe(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr("@%+=:,./_-", *s)))
            return false;
    return true;
}

/* POSIX shell quoting (single quotes), so shell-word splitting gives back
 * the same words. */
static void
sb_shell_word(struct sbuf *b, const char *s)
{
    if (shell_safe(s)) {
        sb_puts(b, s);
        return;
    }
    sb_puts(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            sb_puts(b, "'\\''");
        else
            sb_add(b, p, 1);
    }
    sb_puts(b, "'");
}

/* For display in a text block: like sb_shell_word, but control characters
 * become $'\n' style escapes so every command stays on one line. */
static void
sb_display_word(struct sbuf *b, const char *s)
{
    bool ctl = false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            ctl = true;
    if (!ctl) {
        sb_shell_word(b, s);
        return;
    }
    sb_puts(b, "$'");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n')
            sb_puts(b, "\\n");
        else if (*p == '\t')
            sb_puts(b, "\\t");
        else if (*p == '\r')
            sb_puts(b, "\\r");
        else if (*p == '\\' || *p == '\'')
            sb_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            sb_printf(b, "\\x%02x", *p);
        else
            sb_add(b, (const char *)p, 1);
    }
    sb_puts(b, "'");
}


/* Write buf to dir/name atomically and never over an existing file: an
 * O_EXCL temporary, fsync, link(2) to the final name (EEXIST when taken),
 * unlink the temporary, fsync the directory. */
static int
write_new_file(const char *dir, const char *name, const char *buf, size_t len, mode_t mode)
{
    char tmp[PATH_MAX], final[PATH_MAX];
    if (snprintf(final, sizeof final, "%s/%s", dir, name) >= (int)sizeof final)
        return -ENAMETOOLONG;
    cleanup_fd int fd = -1;
    for (int i = 0; i < 100 && fd < 0; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (snprintf(tmp, sizeof tmp, "%s/.%s.%d.%ld.tmp", dir, name, (int)getpid(),
                     (long)(ts.tv_nsec + i)) >= (int)sizeof tmp)
            return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0 && errno != EEXIST)
            return -errno;
    }
    if (fd < 0)
        return -EEXIST;
    int r = aa_write_all(fd, buf, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (r == 0 && link(tmp, final) < 0)
        r = -errno;
    (void)unlink(tmp);
    if (r == 0) {
        cleanup_fd int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
            (void)fsync(dfd);
    }
    return r;
}

static void
utc_parts(time_t t, struct tm *tm)
{
    (void)gmtime_r(&t, tm);
}

/* ---- BG-2: the stub task document ---- */

int
aa_breakglass_write_stub(const char *tasks_dir, const char *task_id, char *const *command,
                         const char *reason, const char *incident, const char *operator_name,
                         char **ret_path, char *err, size_t errlen)
{
    *ret_path = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!tasks_dir || !task_id || !aa_task_id_valid(task_id)) {
        if (err)
            (void)snprintf(err, errlen, "invalid task id or no tasks directory");
        return -EINVAL;
    }
    int r = aa_mkdir_p(tasks_dir, 0755);
    if (r < 0) {
        if (err)
            (void)snprintf(err, errlen, "cannot create %s: %s", tasks_dir, strerror(-r));
        return r;
    }
    cleanup_free char *why = one_line(reason);
    cleanup_free char *inc = incident ? one_line(incident) : NULL;
    cleanup_free char *op = one_line(operator_name && *operator_name ? operator_name : "unknown");
    if (!why || !op || (incident && !inc))
        return -ENOMEM;
    struct tm tm;
    time_t now = time(NULL);
    utc_parts(now, &tm);
    char day[16], stamp[32];
    (void)strftime(day, sizeof day, "%Y-%m-%d", &tm);
    (void)strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);

    /* The H1 name: the reason, shortened at a character boundary. */
    char name[96];
    size_t nl = strlen(why);
    if (nl > 72) {
        nl = 72;
        while (nl > 0 && ((unsigned char)why[nl] & 0xC0) == 0x80)
            nl--;
    }
    (void)snprintf(name, sizeof name, "%.*s%s", (int)nl, why, strlen(why) > nl ? "..." : "");

    struct sbuf b = {0};
    sb_printf(&b, "# %s: Break-glass: %s\n\n", task_id, name);
    sb_puts(&b, "**Category**: emergency\n");
    sb_printf(&b, "**Created**: %s\n", day);
    sb_printf(&b, "**Author**: %s\n", op);
    sb_puts(&b, "**Status**: draft\n\n");
    sb_printf(&b, "## Purpose\n%s\n\n", why);
    sb_puts(&b, "## Scope\n"
                "- Services affected: {list}\n"
                "- Data affected: {tables, object stores, row counts estimate}\n"
                "- Environments: {dev, staging, prod \xe2\x80\x94 which are in scope}\n\n");
    sb_puts(&b, "## Approval\n"
                "- Reviewer: {name/role}\n"
                "- Approved at: YYYY-MM-DD\n");
    if (inc && *inc)
        sb_printf(&b, "- Authorization: %s\n\n", inc);
    else
        sb_printf(&b, "- Authorization: break-glass: %s\n\n", why);
    sb_puts(&b, "## Execution\n**Command**:\n```bash\n");
    for (size_t i = 0; command && command[i]; i++) {
        if (i)
            sb_puts(&b, " ");
        sb_shell_word(&b, command[i]);
    }
    if (!command || !command[0])
        sb_puts(&b, "{exact command with all args}");
    sb_puts(&b, "\n```\n\n");
    sb_puts(&b, "**Runtime environment**:\n"
                "- Container image: {tag}\n"
                "- Environment variables required: {list, referencing .env.example}\n"
                "- Expected duration: {N minutes}\n"
                "- Resource requirements: {memory, CPU}\n\n");
    sb_puts(&b, "**Pre-execution checks**:\n"
                "- [ ] Backup completed (if data-modifying)\n"
                "- [ ] Staging run successful (if applicable)\n"
                "- [ ] Maintenance window scheduled (if user-visible)\n"
                "- [ ] Oncall notified\n\n");
    sb_puts(&b, "**Execution log**:\n");
    sb_printf(&b, "- Invoked at: %s\n", stamp);
    sb_printf(&b, "- Invoked by: %s\n", op);
    sb_puts(&b, "- Exit code: {0 = success}\n"
                "- Output summary: {link to log aggregator}\n"
                "- Rows/objects affected: {N}\n");
    sb_printf(&b, "- Break-glass: yes (reason: %s; post-mortem: pending)\n\n", why);
    sb_puts(&b, "## Rollback\n**Command**:\n```bash\n{exact rollback command}\n```\n\n"
                "**Verification after rollback**:\n"
                "- [ ] {specific check}\n"
                "- [ ] {specific check}\n\n");
    sb_puts(&b, "## Post-Execution Audit\n"
                "- [ ] Results verified\n"
                "- [ ] Stakeholders notified\n"
                "- [ ] Task marked executed in the Admin Task Catalog\n"
                "- [ ] Any follow-up tickets created\n");
    if (b.oom) {
        free(b.p);
        return -ENOMEM;
    }

    /* The stub must be a document the rest of admin-audit reads back. */
    char fname[64];
    (void)snprintf(fname, sizeof fname, "%s.md", task_id);
    struct aa_task t;
    char perr[256] = "";
    r = aa_task_parse(b.p, b.len, fname, &t, perr, sizeof perr);
    if (r == 0) {
        bool same = t.id && strcmp(t.id, task_id) == 0;
        aa_task_done(&t);
        if (!same)
            r = -EINVAL, (void)snprintf(perr, sizeof perr, "H1 id does not read back");
    }
    if (r < 0) {
        free(b.p);
        if (err)
            (void)snprintf(err, errlen, "the stub document would not parse: %s", perr);
        return -EINVAL;
    }
    r = write_new_file(tasks_dir, fname, b.p, b.len, 0644);
    free(b.p);
    if (r < 0) {
        if (err)
            (void)snprintf(err, errlen, "%s/%s: %s", tasks_dir, fname,
                           r == -EEXIST ? "exists already (not overwritten)" : strerror(-r));
        return r;
    }
    size_t pn = strlen(tasks_dir) + strlen(fname) + 2;
    char *path = malloc(pn);
    if (!path)
        return -ENOMEM;
    (void)snprintf(path, pn, "%s/%s", tasks_dir, fname);
    *ret_path = path;
    return 0;
}

/* ---- the stub names its post-mortem ---- */

int
aa_breakglass_link_postmortem(const char *stub_path, const char *pm_path, const char *project_dir,
                              bool *changed)
{
    static const char head[] = "- Break-glass: yes (reason: ";
    static const char tail[] = "; post-mortem: pending)";
    *changed = false;
    if (!stub_path || !pm_path)
        return -EINVAL;
    cleanup_free char *buf = NULL;
    size_t len = 0;
    int r = aa_read_file(stub_path, AA_TASK_MAX_BYTES + 1, &buf, &len);
    if (r < 0)
        return r;
    /* the line that starts with head and ends with tail (the reason itself
     * may contain anything one_line() let through, so match the ends) */
    size_t at = SIZE_MAX, line_end = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        size_t c = n > 0 && buf[pos + n - 1] == '\r' ? n - 1 : n;
        if (c >= sizeof head - 1 + sizeof tail - 1 &&
            memcmp(buf + pos, head, sizeof head - 1) == 0 &&
            memcmp(buf + pos + c - (sizeof tail - 1), tail, sizeof tail - 1) == 0) {
            at = pos + c - (sizeof tail - 1);
            line_end = pos + c;
            break;
        }
        pos += n + 1;
    }
    if (at == SIZE_MAX)
        return 0; /* edited meanwhile: not ours to touch */
    const char *rel = pm_path;
    size_t pl = project_dir ? strlen(project_dir) : 0;
    if (pl && strncmp(pm_path, project_dir, pl) == 0 && pm_path[pl] == '/')
        rel = pm_path + pl + 1;
    struct sbuf b = {0};
    sb_add(&b, buf, at);
    sb_printf(&b, "; post-mortem: %s, pending)", rel);
    sb_add(&b, buf + line_end, len - line_end);
    if (b.oom) {
        free(b.p);
        return -ENOMEM;
    }
    struct stat st;
    r = stat(stub_path, &st) < 0 ? -errno
                                  : aa_replace_file(stub_path, b.p, b.len, st.st_mode & 07777);
    free(b.p);
    if (r < 0)
        return r;
    *changed = true;
    return 0;
}

/* ---- BG-7: the post-mortem ---- */



int
aa_breakglass_file_tag(const char *task_id, const char *session_id, char *out, size_t outlen)
{
    if (task_id && *task_id)
        return snprintf(out, outlen, "%s", task_id) < (int)outlen ? 0 : -ENAMETOOLONG;
    /* The session id up to its second dash: the 48-bit millisecond
     * timestamp of the UUIDv7, unique enough for a file name. */
    size_t n = 0;
    int dashes = 0;
    for (; session_id[n] && n < 23; n++) {
        if (session_id[n] == '-' && ++dashes == 2)
            break;
        if (!(isalnum((unsigned char)session_id[n]) || session_id[n] == '-'))
            return -EINVAL;
    }
    return snprintf(out, outlen, "%.*s", (int)n, session_id) < (int)outlen ? 0 : -ENAMETOOLONG;
}

struct pm_info {
    struct json_object *start, *end; /* owned */
    struct json_object *execs;       /* owned array of process.exec records */
};

static int
read_session(const char *journal_path, const char *session_id, struct pm_info *pm)
{
    cleanup_file FILE *f = fopen(journal_path, "re");
    if (!f)
        return -errno;
    pm->execs = json_object_new_array();
    if (!pm->execs)
        return -ENOMEM;
    cleanup_free char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (!strstr(line, session_id))
            continue;
        struct json_object *rec = json_tokener_parse(line);
        if (!rec)
            continue;
        const char *sid = aa_json_get_str(rec, "session.id");
        const char *action = aa_json_get_str(rec, "event.action");
        if (!sid || !action || strcmp(sid, session_id) != 0) {
            json_object_put(rec);
            continue;
        }
        if (strcmp(action, "session.start") == 0 && !pm->start)
            pm->start = rec;
        else if (strcmp(action, "session.end") == 0) {
            json_object_put(pm->end);
            pm->end = rec;
        } else if (strcmp(action, "process.exec") == 0 &&
                   json_object_array_add(pm->execs, rec) == 0)
            ;
        else
            json_object_put(rec);
    }
    return pm->start ? 0 : -ENOENT;
}

static time_t
parse_rfc3339(const char *s)
{
    struct tm tm = {0};
    if (!s)
        return (time_t)-1;
    const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!e)
        return (time_t)-1;
    return timegm(&tm);
}

static void
sb_args_line(struct sbuf *b, struct json_object *args)
{
    size_t n = args && json_object_is_type(args, json_type_array) ? json_object_array_length(args)
                                                                  : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *a = json_object_array_get_idx(args, i);
        const char *s = a && json_object_is_type(a, json_type_string) ? json_object_get_string(a)
                                                                      : "";
        if (i)
            sb_puts(b, " ");
        sb_display_word(b, s);
    }
}

static const char *
or_dash(const char *s)
{
    return s && *s ? s : "unknown";
}

static void
sb_md_value(struct sbuf *b, const char *s)
{
    cleanup_free char *v = one_line(s ? s : "");
    sb_puts(b, v && *v ? v : "unknown");
}

int
aa_breakglass_write_postmortem(const char *incidents_dir, const char *journal_path,
                               const char *session_id, char **ret_path)
{
    *ret_path = NULL;
    if (!incidents_dir || !journal_path || !session_id)
        return -EINVAL;
    struct pm_info pm = {0};
    int r = read_session(journal_path, session_id, &pm);
    if (r < 0)
        goto done;
    struct json_object *st = pm.start, *en = pm.end;
    const char *task = aa_json_get_str(st, "session.task");
    const char *started = aa_json_get_str(st, "@timestamp");
    const char *ended = en ? aa_json_get_str(en, "@timestamp") : NULL;

    char tag[64], day[16] = "00000000";
    if ((r = aa_breakglass_file_tag(task, session_id, tag, sizeof tag)) < 0)
        goto done;
    time_t t0 = parse_rfc3339(started);
    if (t0 != (time_t)-1) {
        struct tm tm;
        utc_parts(t0, &tm);
        (void)strftime(day, sizeof day, "%Y%m%d", &tm);
    }

    struct sbuf b = {0};
    sb_printf(&b, "# Post-mortem: break-glass session %s\n\n", session_id);
    sb_puts(&b, "**Status**: draft\n");
    sb_printf(&b, "**Task**: %s\n", task ? task : "none");
    sb_printf(&b, "**Session**: %s\n", session_id);
    sb_puts(&b, "**Journal**: ");
    char jreal[PATH_MAX];
    sb_md_value(&b, realpath(journal_path, jreal) ? jreal : journal_path);
    sb_puts(&b, "\n\n");
    sb_puts(&b, "Blameless format: describe what happened and why the system allowed it, not "
                "who is to blame. Fill every `{...}` below, then change **Status** to "
                "`complete`.\n\n");

    sb_puts(&b, "## Timeline\n");
    sb_printf(&b, "- Invoked at: %s\n", or_dash(started));
    sb_printf(&b, "- Ended at: %s\n", ended ? ended : "unknown (no session.end: crashed?)");
    struct json_object *dur = en ? aa_json_get(en, "event.duration") : NULL;
    if (dur)
        sb_printf(&b, "- Duration: %.3f s\n", (double)json_object_get_int64(dur) / 1e9);
    else
        sb_puts(&b, "- Duration: unknown\n");
    struct json_object *code = en ? aa_json_get(en, "process.exit_code") : NULL;
    if (code)
        sb_printf(&b, "- Exit code: %lld\n", (long long)json_object_get_int64(code));
    else
        sb_puts(&b, "- Exit code: unknown\n");
    const char *sig = en ? aa_json_get_str(en, "audit.signal") : NULL;
    sb_printf(&b, "- Signal: %s\n", sig ? sig : "none");
    sb_printf(&b, "- End reason: %s\n\n", en ? or_dash(aa_json_get_str(en, "session.end_reason")) : "unknown");

    sb_puts(&b, "## Operator\n- Operator: ");
    sb_md_value(&b, aa_json_get_str(st, "user.name"));
    sb_puts(&b, "\n- Identity source: ");
    sb_md_value(&b, aa_json_get_str(st, "session.identity_source"));
    sb_puts(&b, "\n- Effective user: ");
    sb_md_value(&b, aa_json_get_str(st, "user.effective.name"));
    sb_puts(&b, "\n- Host: ");
    sb_md_value(&b, aa_json_get_str(st, "host.name"));
    const char *tty = aa_json_get_str(st, "session.tty");
    if (tty) {
        sb_puts(&b, "\n- Terminal: ");
        sb_md_value(&b, tty);
    }
    sb_puts(&b, "\n\n## Reason\n");
    sb_md_value(&b, aa_json_get_str(st, "session.reason"));
    sb_puts(&b, "\n- Incident: ");
    const char *inc = aa_json_get_str(st, "session.incident");
    sb_md_value(&b, inc ? inc : "none");
    sb_puts(&b, "\n\n## Gate violations (recorded instead of refused)\n");
    struct json_object *viol = aa_json_get(st, "session.violations");
    size_t nv = viol && json_object_is_type(viol, json_type_array) ? json_object_array_length(viol)
                                                                   : 0;
    for (size_t i = 0; i < nv; i++) {
        const char *v = json_object_get_string(json_object_array_get_idx(viol, i));
        sb_puts(&b, "- ");
        sb_md_value(&b, v);
        sb_puts(&b, "\n");
    }
    if (nv == 0)
        sb_puts(&b, "- none recorded\n");

    size_t ne = json_object_array_length(pm.execs);
    sb_printf(&b, "\n## Commands\nFrom the journal (%zu process.exec record%s, secrets already "
                  "redacted):\n\n```text\n", ne, ne == 1 ? "" : "s");
    for (size_t i = 0; i < ne; i++) {
        struct json_object *x = json_object_array_get_idx(pm.execs, i);
        struct json_object *seq = aa_json_get(x, "chain.seq");
        struct json_object *pid = aa_json_get(x, "process.pid");
        sb_printf(&b, "%s seq %lld pid %lld  ", or_dash(aa_json_get_str(x, "@timestamp")),
                  seq ? (long long)json_object_get_int64(seq) : 0LL,
                  pid ? (long long)json_object_get_int64(pid) : 0LL);
        sb_args_line(&b, aa_json_get(x, "process.args"));
        const char *ec = aa_json_get_str(x, "error.code");
        if (ec)
            sb_printf(&b, "  (failed: %s)", ec);
        sb_puts(&b, "\n");
    }
    sb_puts(&b, "```\n\n## Rows affected\n");
    struct json_object *rows = en ? aa_json_get(en, "session.rows_affected") : NULL;
    if (rows)
        sb_printf(&b, "- Rows/objects affected: %lld\n\n", (long long)json_object_get_int64(rows));
    else
        sb_puts(&b, "- Rows/objects affected: unknown (the command did not report "
                    "ADMIN_AUDIT_ROWS)\n\n");

    sb_puts(&b, "## Recording\n");
    struct json_object *rec = en ? aa_json_get(en, "session.recording") : NULL;
    const char *rfile = rec ? aa_json_get_str(rec, "file") : aa_json_get_str(st, "session.recording.file");
    if (rfile) {
        sb_puts(&b, "- File: ");
        sb_md_value(&b, rfile);
        sb_printf(&b, "\n- SHA-256: %s\n", rec ? or_dash(aa_json_get_str(rec, "sha256")) : "unknown");
        struct json_object *by = rec ? aa_json_get(rec, "bytes") : NULL;
        struct json_object *ev = rec ? aa_json_get(rec, "events") : NULL;
        if (by && ev)
            sb_printf(&b, "- Size: %lld bytes, %lld events\n", (long long)json_object_get_int64(by),
                      (long long)json_object_get_int64(ev));
        sb_puts(&b, "- Replay: `asciinema play FILE`\n\n");
    } else
        sb_puts(&b, "- none (the session did not run on a terminal)\n\n");

    sb_puts(&b, "## Why the normal path could not be used\n"
                "{Why the documented, approved path (admin-audit --task ID) was not possible "
                "in time}\n\n"
                "## Follow-up tickets\n"
                "- [ ] {ticket: retroactive approval of the task document}\n"
                "- [ ] {ticket: fix the root cause}\n\n"
                "## Verdict (appropriate / not appropriate)\n"
                "- Verdict: {appropriate | not appropriate}\n"
                "- Reviewed by: {name/role}\n"
                "- Reviewed at: YYYY-MM-DD\n"
                "- Notes: {...}\n");
    if (b.oom) {
        free(b.p);
        r = -ENOMEM;
        goto done;
    }
    if ((r = aa_mkdir_p(incidents_dir, 0755)) < 0) {
        free(b.p);
        goto done;
    }
    char name[128];
    r = -EEXIST;
    for (int i = 1; i <= 100 && r == -EEXIST; i++) {
        if (i == 1)
            (void)snprintf(name, sizeof name, "PM-%s-%s.md", tag, day);
        else
            (void)snprintf(name, sizeof name, "PM-%s-%s-%d.md", tag, day, i);
        r = write_new_file(incidents_dir, name, b.p, b.len, 0644);
    }
    free(b.p);
    if (r == 0) {
        size_t pn = strlen(incidents_dir) + strlen(name) + 2;
        char *path = malloc(pn);
        if (!path) {
            r = -ENOMEM;
            goto done;
        }
        (void)snprintf(path, pn, "%s/%s", incidents_dir, name);
        *ret_path = path;
    }
done:
    json_object_put(pm.start);
    json_object_put(pm.end);
    json_object_put(pm.execs);
    return r;
}

/* ---- the lookup for `pending` ---- */

/* "**Status**: complete" (also "**Status:** complete", backticks, any case). */
static bool
line_status(const char *line, char *out, size_t outlen)
{
    while (*line == ' ' || *line == '\t')
        line++;
    const char *v = NULL;
    if (strncmp(line, "**Status**:", 11) == 0)
        v = line + 11;
    else if (strncmp(line, "**Status:**", 11) == 0)
        v = line + 11;
    if (!v)
        return false;
    while (*v == ' ' || *v == '\t' || *v == '`')
        v++;
    size_t n = 0;
    while (v[n] && v[n] != '`' && v[n] != '\n' && v[n] != '\r' && n + 1 < outlen) {
        out[n] = (char)tolower((unsigned char)v[n]);
        n++;
    }
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        n--;
    out[n] = '\0';
    return true;
}

int
aa_breakglass_postmortem_find(const char *incidents_dir, const char *session_id,
                              const char *task_id, const char *day_yyyymmdd, char **ret_path,
                              bool *ret_complete)
{
    *ret_path = NULL;
    *ret_complete = false;
    DIR *d = opendir(incidents_dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    char byname[96] = "";
    if (task_id && *task_id && day_yyyymmdd)
        (void)snprintf(byname, sizeof byname, "PM-%s-%s", task_id, day_yyyymmdd);
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "PM-", 3) != 0)
            continue;
        size_t nl = strlen(de->d_name);
        if (nl < 4 || strcmp(de->d_name + nl - 3, ".md") != 0)
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", incidents_dir, de->d_name) >= (int)sizeof path)
            continue;
        cleanup_free char *buf = NULL;
        if (aa_read_file(path, 4 << 20, &buf, NULL) < 0)
            continue;
        bool mine = strstr(buf, session_id) != NULL ||
                    (byname[0] && strncmp(de->d_name, byname, strlen(byname)) == 0);
        if (!mine)
            continue;
        bool complete = false;
        for (char *line = buf; line && *line;) {
            char *nlp = strchr(line, '\n');
            if (nlp)
                *nlp = '\0';
            char st[32];
            if (line_status(line, st, sizeof st)) {
                complete = strcmp(st, "complete") == 0;
                break; /* the first Status line is the post-mortem's */
            }
            line = nlp ? nlp + 1 : NULL;
        }
        if (!*ret_path || (complete && !*ret_complete)) {
            free(*ret_path);
            *ret_path = strdup(path);
            if (!*ret_path) {
                r = -ENOMEM;
                break;
            }
            *ret_complete = complete;
        }
    }
    closedir(d);
    return r;
}
