/* `admin-audit report --task ID [--session ID] [--write]`: fill the task
 * document's Execution log from the journal (reference/task-format.md §d
 * behaviour 8).
 *
 * The session is --session, else the latest session.start of the task in
 * the journal; it must have its session.end and an intact hash chain.  The
 * five Execution-log lines get:
 *   Invoked at              session.start @timestamp as YYYY-MM-DDTHH:MM:SSZ
 *   Invoked by              session.start user.name (the identity the wrapper established)
 *   Exit code               session.end process.exit_code (128+N for audit.signal N)
 *   Output summary          config aggregator_url with {session} {task} {trace_id} {start}
 *                           {end} substituted, then "(admin-audit session ID)"; without a
 *                           template just "admin-audit session ID"
 *   Rows/objects affected   session.end session.rows_affected, else "unknown"
 * and Status becomes executed when the exit code is 0 -- for a rollback
 * session (session.verb "rollback" or session.rollback true) reverted
 * instead, and only when every 'Verification after rollback' box is ticked.
 * Only the value part of those lines changes; every other byte stays.
 * When the project's Admin Task Catalog (catalog.h) has the optional 7th
 * column, the task's row gets the new status there too (Status: "executed";
 * Last run: "executed YYYY-MM-DD"), and the Post-Execution Audit item "Task
 * marked executed in the Admin Task Catalog" is ticked.
 * Without --write the change is printed as a unified diff (patch -p0).
 * --write replaces the document atomically (temp file in the same directory,
 * same mode, fsync, rename).
 *
 * A catalog that cannot be edited (its row lacks the cell, the file is too
 * large, ...) is said on stderr and does not hold back the document: exit 1.
 *
 * Exit status: 0 done (or nothing to change), 1 could not report (or the
 * catalog row could not be updated), 64 usage. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "commands.h"
#include "config.h"
#include "forward.h"
#include "run.h"
#include "taskdoc.h"
#include "journal.h"
#include "util.h"

#define REPORT_CONTEXT 3

struct rep_session {
    char *id;
    struct json_object *start; /* owned ref */
    struct json_object *end;   /* owned ref */
    unsigned start_line;
    uint64_t last_seq;
    char last_hash[65];
    unsigned bad_line; /* first line where the chain does not hold, 0 = intact */
    char bad_why[96];
};

struct rep_journal {
    struct rep_session *v;
    size_t n;
    unsigned bad_json; /* lines that are not JSON (a truncated tail, ...) */
};

static void
rep_journal_done(struct rep_journal *j)
{
    for (size_t i = 0; i < j->n; i++) {
        free(j->v[i].id);
        json_object_put(j->v[i].start);
        json_object_put(j->v[i].end);
    }
    free(j->v);
    memset(j, 0, sizeof(*j));
}

static struct json_object *
rep_get(struct json_object *o, const char *a, const char *b)
{
    struct json_object *x = NULL, *y = NULL;
    if (!o || !json_object_object_get_ex(o, a, &x))
        return NULL;
    if (!b)
        return x;
    if (!json_object_is_type(x, json_type_object) || !json_object_object_get_ex(x, b, &y))
        return NULL;
    return y;
}

static const char *
rep_get_str(struct json_object *o, const char *a, const char *b)
{
    struct json_object *x = rep_get(o, a, b);
    return json_object_is_type(x, json_type_string) ? json_object_get_string(x) : NULL;
}

/* session.task is the task id as a string (contract §6); accept {"id": ...} too. */
static const char *
rep_task_of(struct json_object *rec)
{
    struct json_object *t = rep_get(rec, "session", "task");
    if (json_object_is_type(t, json_type_string))
        return json_object_get_string(t);
    if (json_object_is_type(t, json_type_object))
        return rep_get_str(t, "id", NULL);
    return NULL;
}


static struct rep_session *
rep_session_get(struct rep_journal *j, const char *id)
{
    for (size_t i = 0; i < j->n; i++)
        if (strcmp(j->v[i].id, id) == 0)
            return &j->v[i];
    struct rep_session *v = realloc(j->v, (j->n + 1) * sizeof(*v));
    if (!v)
        return NULL;
    j->v = v;
    struct rep_session *s = &v[j->n];
    memset(s, 0, sizeof(*s));
    s->id = strdup(id);
    if (!s->id)
        return NULL;
    memset(s->last_hash, '0', 64);
    j->n++;
    return s;
}

static void
rep_chain_bad(struct rep_session *s, unsigned lineno, const char *why)
{
    if (s->bad_line)
        return;
    s->bad_line = lineno;
    snprintf(s->bad_why, sizeof(s->bad_why), "%s", why);
}

static int
rep_chain_step(struct rep_session *s, struct json_object *rec, const char *line, size_t len,
               unsigned lineno)
{
    char recorded[65], computed[65];
    int r = aa_chain_line_hash(line, len, recorded, computed);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        rep_chain_bad(s, lineno, "no hash suffix");
        return 0;
    }
    if (strcmp(recorded, computed) != 0)
        rep_chain_bad(s, lineno, "hash mismatch");
    struct json_object *seq = rep_get(rec, "chain", "seq");
    const char *prev = rep_get_str(rec, "chain", "prev");
    if (!json_object_is_type(seq, json_type_int) || (uint64_t)json_object_get_int64(seq) != s->last_seq + 1)
        rep_chain_bad(s, lineno, "sequence gap");
    else if (!prev || strcmp(prev, s->last_hash) != 0)
        rep_chain_bad(s, lineno, "chain.prev mismatch");
    s->last_seq = json_object_is_type(seq, json_type_int) ? (uint64_t)json_object_get_int64(seq) : s->last_seq + 1;
    memcpy(s->last_hash, recorded, 65);
    return 0;
}

/* Read the journal, keeping the sessions of task (and only session_id when given). */
static int
rep_journal_read(const char *path, const char *task, const char *session_id, struct rep_journal *j)
{
    cleanup_file FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    cleanup_free char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0;
    int r = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0)
            continue;
        struct json_tokener *tok = json_tokener_new();
        if (!tok)
            return -ENOMEM;
        struct json_object *rec = json_tokener_parse_ex(tok, line, (int)len);
        bool complete = json_tokener_get_error(tok) == json_tokener_success &&
                        json_tokener_get_parse_end(tok) == len;
        json_tokener_free(tok);
        if (!rec || !complete || !json_object_is_type(rec, json_type_object)) {
            json_object_put(rec);
            j->bad_json++;
            continue;
        }
        const char *rtask = rep_task_of(rec);
        const char *sid = rep_get_str(rec, "session", "id");
        const char *action = rep_get_str(rec, "event", "action");
        if (!rtask || !sid || !action || strcmp(rtask, task) != 0 ||
            (session_id && strcmp(sid, session_id) != 0)) {
            json_object_put(rec);
            continue;
        }
        struct rep_session *s = rep_session_get(j, sid);
        if (!s) {
            json_object_put(rec);
            return -ENOMEM;
        }
        r = rep_chain_step(s, rec, line, len, lineno);
        if (r < 0) {
            json_object_put(rec);
            return r;
        }
        if (strcmp(action, "session.start") == 0 && !s->start) {
            s->start = rec;
            s->start_line = lineno;
        } else if (strcmp(action, "session.end") == 0 && !s->end) {
            s->end = rec;
        } else {
            json_object_put(rec);
        }
    }
    if (ferror(f))
        return -EIO;
    return 0;
}

/* ---- values ----------------------------------------------------------------------------------- */

static bool
rep_is_rollback(struct json_object *start)
{
    const char *verb = rep_get_str(start, "session", "verb");
    struct json_object *rb = rep_get(start, "session", "rollback");
    return (verb && strcmp(verb, "rollback") == 0) ||
           (json_object_is_type(rb, json_type_boolean) && json_object_get_boolean(rb));
}

/* trace id: session.start trace.id when recorded; else the session id's 32
 * hex digits (a UUIDv7 without dashes, what TRACEPARENT carries); else the
 * first 32 hex digits of SHA-256(session id). */
static int
rep_trace_id(struct json_object *start, const char *sid, char out[33])
{
    const char *tid = rep_get_str(start, "trace", "id");
    if (tid && strlen(tid) == 32 && strspn(tid, "0123456789abcdef") == 32) {
        memcpy(out, tid, 33);
        return 0;
    }
    size_t k = 0;
    bool ok = true;
    for (const char *p = sid; *p && ok; p++) {
        if (*p == '-')
            continue;
        if (!isxdigit((unsigned char)*p) || k >= 32)
            ok = false;
        else
            out[k++] = (char)tolower((unsigned char)*p);
    }
    if (ok && k == 32) {
        out[32] = '\0';
        return 0;
    }
    char h[65];
    int r = aa_sha256_hex(sid, strlen(sid), h);
    if (r < 0)
        return r;
    memcpy(out, h, 32);
    out[32] = '\0';
    return 0;
}

/* Substitute {session} {task} {trace_id} {start} {end}; other braces stay. */
static char *
rep_expand(const char *tmpl, const char *const keys[], const char *const vals[], size_t nkeys)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *m = open_memstream(&out, &outlen);
    if (!m)
        return NULL;
    for (const char *p = tmpl; *p;) {
        bool done = false;
        if (*p == '{') {
            for (size_t i = 0; i < nkeys && !done; i++) {
                size_t kl = strlen(keys[i]);
                if (strncmp(p + 1, keys[i], kl) == 0 && p[1 + kl] == '}') {
                    fputs(vals[i], m);
                    p += kl + 2;
                    done = true;
                }
            }
        }
        if (!done) {
            /* a brace left in the result would read as a template placeholder */
            if (*p == '{' || *p == '}')
                fputs(*p == '{' ? "%7B" : "%7D", m);
            else
                fputc(*p, m);
            p++;
        }
    }
    if (fclose(m) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* "2026-03-02T14:03:11.482913Z" -> "2026-03-02T14:03:11Z" */
static int
rep_utc_seconds(const char *ts, char out[21])
{
    if (!ts || strlen(ts) < 20 || ts[4] != '-' || ts[10] != 'T' || ts[13] != ':' || ts[16] != ':')
        return -EINVAL;
    size_t n = strlen(ts);
    if (ts[n - 1] != 'Z')
        return -EINVAL;
    memcpy(out, ts, 19);
    out[19] = 'Z';
    out[20] = '\0';
    return 0;
}

struct rep_values {
    char invoked_at[21];
    const char *invoked_by;
    char exit_code[24];
    char *output_summary; /* owned */
    char rows[24];
    const char *status;   /* NULL = unchanged */
    bool rollback;
    int exit_status;      /* -1 unknown */
};

static int
rep_values(const struct aa_config *cfg, const char *task, const struct rep_session *s,
           const struct aa_task *t, struct rep_values *v, char *err, size_t errlen)
{
    memset(v, 0, sizeof(*v));
    v->exit_status = -1;
    const char *ts_start = rep_get_str(s->start, "@timestamp", NULL);
    const char *ts_end = rep_get_str(s->end, "@timestamp", NULL);
    if (rep_utc_seconds(ts_start, v->invoked_at) < 0) {
        snprintf(err, errlen, "session %s: session.start has no valid @timestamp", s->id);
        return -EINVAL;
    }
    v->invoked_by = rep_get_str(s->start, "user", "name");
    if (!v->invoked_by || !v->invoked_by[0] || strchr(v->invoked_by, '\n')) {
        snprintf(err, errlen, "session %s: session.start has no user.name", s->id);
        return -EINVAL;
    }

    struct json_object *ec = rep_get(s->end, "process", "exit_code");
    struct json_object *sig = rep_get(s->end, "audit", "signal");
    if (json_object_is_type(ec, json_type_int))
        v->exit_status = (int)json_object_get_int64(ec);
    else if (json_object_is_type(sig, json_type_int) && json_object_get_int64(sig) > 0)
        v->exit_status = 128 + (int)json_object_get_int64(sig);
    if (v->exit_status >= 0)
        snprintf(v->exit_code, sizeof(v->exit_code), "%d", v->exit_status);
    else
        snprintf(v->exit_code, sizeof(v->exit_code), "unknown");

    struct json_object *rows = rep_get(s->end, "session", "rows_affected");
    if (json_object_is_type(rows, json_type_int) && json_object_get_int64(rows) >= 0)
        snprintf(v->rows, sizeof(v->rows), "%lld", (long long)json_object_get_int64(rows));
    else
        snprintf(v->rows, sizeof(v->rows), "unknown");

    v->rollback = rep_is_rollback(s->start);
    char *summary = NULL;
    const char *what = v->rollback ? "admin-audit rollback session" : "admin-audit session";
    if (cfg->aggregator_url && cfg->aggregator_url[0]) {
        char trace[33];
        int r = rep_trace_id(s->start, s->id, trace);
        if (r < 0)
            return r;
        static const char *const keys[] = {"session", "task", "trace_id", "start", "end"};
        const char *vals[] = {s->id, task, trace, ts_start, ts_end ? ts_end : ""};
        cleanup_free char *url = rep_expand(cfg->aggregator_url, keys, vals, AA_ARRAY_SIZE(keys));
        if (!url || asprintf(&summary, "%s (%s %s)", url, what, s->id) < 0)
            return -ENOMEM;
    } else if (asprintf(&summary, "%s %s", what, s->id) < 0) {
        return -ENOMEM;
    }
    for (char *p = summary; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    v->output_summary = summary;

    if (v->exit_status == 0) {
        if (!v->rollback) {
            v->status = "executed";
        } else {
            const struct aa_task_checklist *cl = &t->rollback_verification;
            bool all = cl->n > 0;
            for (size_t i = 0; i < cl->n; i++)
                all = all && cl->items[i].checked;
            if (all)
                v->status = "reverted";
        }
    }
    return 0;
}

/* ---- editing ---------------------------------------------------------------------------------- */

struct rep_line {
    const char *p;
    size_t n; /* with its line ending */
};

struct rep_op {
    char type; /* ' ', '-', '+' */
    const char *p;
    size_t n;
};

struct rep_edit {
    unsigned line;  /* replace this line (1-based) ... */
    unsigned after; /* ... or insert after this line (when line == 0) */
    int order;      /* insertion order among inserts after the same line */
    char *text;     /* owned, with line ending */
};

static size_t
rep_eol_len(const char *p, size_t n)
{
    if (n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n')
        return 2;
    if (n >= 1 && p[n - 1] == '\n')
        return 1;
    return 0;
}

/* The same line with its value replaced: everything up to the first ':'
 * (and a "**" closing a **Key:** label) and the white space after it stays. */
static int
rep_value_line(const struct rep_line *l, const char *value, char **ret)
{
    size_t eol = rep_eol_len(l->p, l->n);
    size_t content = l->n - eol;
    const char *colon = memchr(l->p, ':', content);
    if (!colon)
        return -EINVAL;
    size_t pos = (size_t)(colon - l->p) + 1;
    if (pos + 1 < content && l->p[pos] == '*' && l->p[pos + 1] == '*')
        pos += 2;
    size_t ws = pos;
    while (ws < content && (l->p[ws] == ' ' || l->p[ws] == '\t'))
        ws++;
    bool need_space = ws == pos;
    if (asprintf(ret, "%.*s%s%s%.*s", (int)ws, l->p, need_space ? " " : "", value, (int)eol,
                 l->p + content) < 0)
        return -ENOMEM;
    return 0;
}

struct rep_doc {
    struct rep_line *lines;
    size_t n;
};

static int
rep_split(const char *buf, size_t len, struct rep_doc *d)
{
    d->n = 0;
    d->lines = NULL;
    size_t cap = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (buf + pos)) + 1 : len - pos;
        if (d->n == cap) {
            cap = cap ? cap * 2 : 128;
            struct rep_line *v = realloc(d->lines, cap * sizeof(*v));
            if (!v)
                return -ENOMEM;
            d->lines = v;
        }
        d->lines[d->n++] = (struct rep_line){buf + pos, n};
        pos += n;
    }
    return 0;
}

struct rep_edits {
    struct rep_edit *v;
    size_t n;
};

static void
rep_edits_done(struct rep_edits *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].text);
    free(e->v);
}

static int
rep_edits_add(struct rep_edits *e, unsigned line, unsigned after, int order, char *text)
{
    struct rep_edit *v = realloc(e->v, (e->n + 1) * sizeof(*v));
    if (!v) {
        free(text);
        return -ENOMEM;
    }
    e->v = v;
    e->v[e->n++] = (struct rep_edit){line, after, order, text};
    return 0;
}

/* Replace field f's value, unless it already reads that way. */
static int
rep_edit_field(struct rep_edits *e, const struct rep_doc *d, unsigned line, const char *value)
{
    if (line == 0 || line > d->n)
        return -EINVAL;
    char *text = NULL;
    int r = rep_value_line(&d->lines[line - 1], value, &text);
    if (r < 0)
        return r;
    if (strlen(text) == d->lines[line - 1].n && memcmp(text, d->lines[line - 1].p, d->lines[line - 1].n) == 0) {
        free(text);
        return 0;
    }
    return rep_edits_add(e, line, 0, 0, text);
}

static int
rep_build_edits(const struct aa_task *t, const struct rep_doc *d, const struct rep_values *v,
                struct rep_edits *e, char *err, size_t errlen)
{
    const struct {
        const struct aa_task_field *f;
        const char *label;
        const char *value;
    } log[] = {
        {&t->invoked_at, "Invoked at", v->invoked_at},
        {&t->invoked_by, "Invoked by", v->invoked_by},
        {&t->exit_code, "Exit code", v->exit_code},
        {&t->output_summary, "Output summary", v->output_summary},
        {&t->rows_affected, "Rows/objects affected", v->rows},
    };
    size_t n = AA_ARRAY_SIZE(log);
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any = any || log[i].f->line != 0;
    if (!any) {
        snprintf(err, errlen, "%s: no **Execution log**: lines (Invoked at, Invoked by, ...) to fill",
                 t->path ? t->path : "document");
        return -EINVAL;
    }
    int r;
    for (size_t i = 0; i < n; i++) {
        if (log[i].f->line) {
            r = rep_edit_field(e, d, log[i].f->line, log[i].value);
            if (r < 0) {
                snprintf(err, errlen, "%s:%u: cannot edit the %s line", t->path, log[i].f->line, log[i].label);
                return r;
            }
            continue;
        }
        /* missing line: after the nearest earlier log line, else before the next one */
        unsigned after = 0;
        for (size_t k = i; k-- > 0 && !after;)
            after = log[k].f->line;
        if (!after)
            for (size_t k = i + 1; k < n && !after; k++)
                if (log[k].f->line)
                    after = log[k].f->line - 1;
        const struct rep_line *anchor = &d->lines[(after ? after : 1) - 1];
        size_t eol = rep_eol_len(anchor->p, anchor->n);
        if (eol == 0) {
            snprintf(err, errlen, "%s:%u: cannot add \"- %s:\" after a line without a newline",
                     t->path, after, log[i].label);
            return -EINVAL;
        }
        char *text = NULL;
        if (asprintf(&text, "- %s: %s%.*s", log[i].label, log[i].value, (int)eol,
                     anchor->p + anchor->n - eol) < 0)
            return -ENOMEM;
        r = rep_edits_add(e, 0, after, (int)i, text);
        if (r < 0)
            return r;
    }
    if (v->status) {
        if (!t->status.line) {
            snprintf(err, errlen, "%s: no **Status**: line", t->path);
            return -EINVAL;
        }
        r = rep_edit_field(e, d, t->status.line, v->status);
        if (r < 0) {
            snprintf(err, errlen, "%s:%u: cannot edit the Status line", t->path, t->status.line);
            return r;
        }
    }
    return 0;
}

/* Edits -> a line-level op list (old and new side). */
static int
rep_ops(const struct rep_doc *d, const struct rep_edits *e, struct rep_op **ret, size_t *ret_n)
{
    size_t cap = d->n + 2 * e->n + 1, n = 0;
    struct rep_op *ops = calloc(cap, sizeof(*ops));
    if (!ops)
        return -ENOMEM;
    for (unsigned ln = 0; ln <= d->n; ln++) {
        if (ln > 0) {
            const struct rep_edit *rep = NULL;
            for (size_t i = 0; i < e->n; i++)
                if (e->v[i].line == ln)
                    rep = &e->v[i];
            const struct rep_line *l = &d->lines[ln - 1];
            if (rep) {
                ops[n++] = (struct rep_op){'-', l->p, l->n};
                ops[n++] = (struct rep_op){'+', rep->text, strlen(rep->text)};
            } else {
                ops[n++] = (struct rep_op){' ', l->p, l->n};
            }
        }
        for (int order = 0; order < 16; order++)
            for (size_t i = 0; i < e->n; i++)
                if (e->v[i].line == 0 && e->v[i].after == ln && e->v[i].order == order)
                    ops[n++] = (struct rep_op){'+', e->v[i].text, strlen(e->v[i].text)};
    }
    /* In each run of changes, old lines first, then new ones (as diff -u
     * prints them); both sides keep their order. */
    for (size_t i = 0; i < n;) {
        if (ops[i].type == ' ') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && ops[j].type != ' ')
            j++;
        for (size_t a = i + 1; a < j; a++) { /* stable: move each '-' before the '+'s */
            struct rep_op x = ops[a];
            size_t b = a;
            while (x.type == '-' && b > i && ops[b - 1].type == '+') {
                ops[b] = ops[b - 1];
                b--;
            }
            ops[b] = x;
        }
        i = j;
    }
    *ret = ops;
    *ret_n = n;
    return 0;
}

static void
rep_print_op(FILE *f, const struct rep_op *op)
{
    fputc(op->type, f);
    fwrite(op->p, 1, op->n, f);
    if (op->n == 0 || op->p[op->n - 1] != '\n')
        fputs("\n\\ No newline at end of file\n", f);
}

/* Unified diff of the op list, REPORT_CONTEXT lines of context. */
static void
rep_print_diff(FILE *f, const char *label, const struct rep_op *ops, size_t n)
{
    size_t *oldpos = calloc(n + 1, sizeof(size_t));
    size_t *newpos = calloc(n + 1, sizeof(size_t));
    if (!oldpos || !newpos) {
        free(oldpos);
        free(newpos);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        oldpos[i + 1] = oldpos[i] + (ops[i].type != '+');
        newpos[i + 1] = newpos[i] + (ops[i].type != '-');
    }
    fprintf(f, "--- a/%s\n+++ b/%s\n", label, label);
    size_t i = 0;
    while (i < n) {
        while (i < n && ops[i].type == ' ')
            i++;
        if (i >= n)
            break;
        size_t start = i > REPORT_CONTEXT ? i - REPORT_CONTEXT : 0;
        size_t last = i; /* last change in this hunk */
        for (size_t k = i + 1; k < n && k <= last + 2 * REPORT_CONTEXT; k++)
            if (ops[k].type != ' ')
                last = k;
        size_t end = last + 1 + REPORT_CONTEXT < n ? last + 1 + REPORT_CONTEXT : n;
        size_t oc = oldpos[end] - oldpos[start], nc = newpos[end] - newpos[start];
        fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", oc ? oldpos[start] + 1 : oldpos[start], oc,
                nc ? newpos[start] + 1 : newpos[start], nc);
        for (size_t k = start; k < end; k++)
            rep_print_op(f, &ops[k]);
        i = end;
    }
    free(oldpos);
    free(newpos);
}

/* Atomic replace: temp file beside it, same mode (and owner when root), fsync,
 * rename; refused when the file no longer holds orig (cap: its size limit). */
static int
rep_write_atomic(const char *path, const char *orig, size_t orig_len, size_t cap,
                 const struct rep_op *ops, size_t n, char *err, size_t errlen)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        int e = errno;
        (void)snprintf(err, errlen, "%.900s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (stat(real, &st) < 0) {
        int e = errno;
        (void)snprintf(err, errlen, "%.900s: %s", real, strerror(e));
        return -e;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", real);
    char *d = dirname(dir);
    cleanup_free char *tmp = NULL;
    const char *base = strrchr(real, '/');
    if (asprintf(&tmp, "%s/.%s.XXXXXX", d, base ? base + 1 : real) < 0)
        return -ENOMEM;
    cleanup_fd int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a temporary file: %s", d, strerror(errno));
        return -errno;
    }
    int r = 0;
    if (fchmod(fd, st.st_mode & 07777) < 0)
        r = -errno;
    if (r == 0 && geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0)
        r = -errno;
    for (size_t i = 0; i < n && r == 0; i++)
        if (ops[i].type != '-')
            r = aa_write_all(fd, ops[i].p, ops[i].n);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (r == 0) {
        /* The document must not have changed under us since it was read. */
        cleanup_free char *now = NULL;
        size_t now_len = 0;
        r = aa_read_file(real, cap + 1, &now, &now_len);
        if (r == 0 && (now_len != orig_len || memcmp(now, orig, orig_len) != 0)) {
            snprintf(err, errlen, "%s changed while the report was prepared; run it again", path);
            r = -EAGAIN;
        }
    }
    if (r == 0 && rename(tmp, real) < 0)
        r = -errno;
    if (r < 0) {
        int e = errno;
        (void)unlink(tmp);
        errno = e;
        if (!err[0])
            snprintf(err, errlen, "%s: cannot replace: %s", path, strerror(-r));
        return r;
    }
    cleanup_fd int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        (void)fsync(dfd);
    return 0;
}

/* ---- the catalog row -------------------------------------------------------------------------- */

/* The task's row in the project's Admin Task Catalog (catalog.h), whose
 * optional 7th column report keeps current (reference/task-format.md §a.4:
 * "accept an optional seventh column, Status or Last run, and maintain it"):
 * Status gets the new status, Last run "STATUS YYYY-MM-DD" (the status first,
 * as lint compares it).  Only that cell's text changes. */
struct rep_catalog {
    char *path;  /* owned: the catalog holding the task's row, NULL = none found */
    char *label; /* owned: path relative to the project root, for the diff */
    bool has_column;
    unsigned row_line;
    char *buf; /* owned: the catalog as read */
    size_t len;
    struct rep_doc d;
    struct rep_edits e;
    struct rep_op *ops;
    size_t nops;
};

static void
rep_catalog_done(struct rep_catalog *rc)
{
    free(rc->path);
    free(rc->label);
    free(rc->buf);
    free(rc->d.lines);
    rep_edits_done(&rc->e);
    free(rc->ops);
}

/* Find the row of task (the first catalog that has one) and prepare the edit
 * of its Status / Last run cell.  Each candidate is read once: the row's line
 * number and the bytes edited come from the same read (rep_write_atomic then
 * checks that read is still what is on disk).  No catalog, no row, no such
 * column: 0 with nothing to do (rc->path / rc->has_column say which); a
 * candidate that could not be read or parsed, when no other has the row:
 * -EIO with the reason in err. */
static int
rep_catalog_edit(const char *tasks_dir, const char *task, const char *status, const char *date,
                 struct rep_catalog *rc, char *err, size_t errlen)
{
    char real[PATH_MAX];
    static const char sfx[] = "/.aiwg/admin-tasks";
    if (!realpath(tasks_dir, real))
        return 0;
    size_t rl = strlen(real);
    if (rl < sizeof(sfx) - 1 || strcmp(real + rl - (sizeof(sfx) - 1), sfx) != 0)
        return 0; /* a tasks dir outside a project's .aiwg: no catalog to look for */
    real[rl - (sizeof("/admin-tasks") - 1)] = '\0'; /* .../.aiwg */
    size_t root_len = rl - (sizeof(sfx) - 1);     /* the project root's length */

    char **paths = NULL;
    int r = aa_catalog_find(real, &paths);
    if (r < 0)
        return r == -ENOENT ? 0 : r;
    char load_err[512] = "";
    bool last_run = false;
    for (size_t i = 0; paths[i] && !rc->path; i++) {
        cleanup_free char *buf = NULL;
        size_t len = 0;
        struct aa_catalog cat;
        char cerr[256] = "";
        r = aa_read_file(paths[i], AA_CATALOG_MAX_BYTES + 1, &buf, &len);
        if (r == -ENOMEM) {
            aa_strv_free(paths);
            return r;
        }
        if (r == 0 && len > AA_CATALOG_MAX_BYTES)
            r = -EFBIG;
        if (r == 0)
            r = aa_catalog_parse(buf, len, paths[i], &cat, cerr, sizeof cerr);
        if (r < 0) {
            if (r == -ENOMEM) {
                aa_strv_free(paths);
                return r;
            }
            if (!load_err[0])
                (void)snprintf(load_err, sizeof load_err, "%s", cerr[0] ? cerr : strerror(-r));
            if (!strstr(load_err, paths[i]))
                (void)snprintf(load_err + strlen(load_err), sizeof load_err - strlen(load_err),
                               " (%s)", paths[i]);
            continue;
        }
        for (size_t k = 0; k < cat.n_rows && !rc->path; k++) {
            if (strcmp(cat.rows[k].id, task) != 0)
                continue;
            rc->path = strdup(paths[i]);
            rc->has_column = cat.has_status_column;
            rc->row_line = cat.rows[k].line;
            last_run = cat.last_run_column;
            rc->buf = buf;
            rc->len = len;
            buf = NULL;
        }
        aa_catalog_done(&cat);
        if (rc->buf && !rc->path) {
            aa_strv_free(paths);
            return -ENOMEM;
        }
    }
    aa_strv_free(paths);
    if (!rc->path) {
        if (load_err[0]) {
            snprintf(err, errlen, "no readable catalog has a row for %s: %s", task, load_err);
            return -EIO;
        }
        return 0;
    }
    if (!rc->has_column)
        return 0;
    char value[64];
    if (last_run)
        (void)snprintf(value, sizeof value, "%s %.10s", status, date);
    else
        (void)snprintf(value, sizeof value, "%s", status);
    const char *rel = rc->path;
    if (strncmp(rel, real, root_len) == 0 && rel[root_len] == '/')
        rel += root_len + 1;
    rc->label = strdup(rel);
    if (!rc->label)
        return -ENOMEM;
    r = rep_split(rc->buf, rc->len, &rc->d);
    if (r < 0)
        return r;
    if (rc->row_line == 0 || rc->row_line > rc->d.n)
        return -EINVAL; /* the parser's line is in this very buffer */
    const struct rep_line *l = &rc->d.lines[rc->row_line - 1];
    size_t eol = rep_eol_len(l->p, l->n), off = 0, cl = 0;
    if (aa_catalog_cell_span(l->p, l->n - eol, 6, &off, &cl) < 0) {
        snprintf(err, errlen, "%s:%u: the row of %s has no %s cell", rc->path, rc->row_line, task,
                 last_run ? "Last run" : "Status");
        return -EINVAL;
    }
    if (cl == strlen(value) && memcmp(l->p + off, value, cl) == 0)
        return 0; /* already reads so */
    bool pad_l = cl == 0 && off > 0 && l->p[off - 1] == '|'; /* "||" */
    bool pad_r = cl == 0 && off < l->n && l->p[off] == '|';   /* "| |", "||" */
    char *text = NULL;
    if (asprintf(&text, "%.*s%s%s%s%.*s", (int)off, l->p, pad_l ? " " : "", value,
                 pad_r ? " " : "", (int)(l->n - off - cl), l->p + off + cl) < 0)
        return -ENOMEM;
    r = rep_edits_add(&rc->e, rc->row_line, 0, 0, text);
    if (r == 0)
        r = rep_ops(&rc->d, &rc->e, &rc->ops, &rc->nops);
    return r;
}

/* Tick "Task marked executed in the Admin Task Catalog" of the Post-Execution
 * Audit, now that the catalog says so (task-format.md: "admin-audit may tick
 * the catalog item itself once it has updated the catalog"). */
static int
rep_tick_catalog_item(const struct aa_task *t, const struct rep_doc *d, struct rep_edits *e)
{
    for (size_t i = 0; i < t->postaudit.n; i++) {
        const struct aa_task_checkbox *cb = &t->postaudit.items[i];
        if (cb->checked || !cb->text || !strcasestr(cb->text, "Admin Task Catalog") ||
            cb->line == 0 || cb->line > d->n)
            continue;
        const struct rep_line *l = &d->lines[cb->line - 1];
        const char *box = memmem(l->p, l->n, "[ ]", 3);
        if (!box)
            continue;
        size_t at = (size_t)(box - l->p);
        char *text = NULL;
        if (asprintf(&text, "%.*s[x]%.*s", (int)at, l->p, (int)(l->n - at - 3), box + 3) < 0)
            return -ENOMEM;
        return rep_edits_add(e, cb->line, 0, 0, text);
    }
    return 0;
}

/* ---- the verb --------------------------------------------------------------------------------- */

static void
report_usage(FILE *f)
{
    fputs("Usage: admin-audit report --task ID [--session ID] [--write]\n"
          "                          [--config FILE] [--log FILE] [--tasks-dir DIR]\n"
          "\n"
          "Fill the task document's Execution log (Invoked at, Invoked by, Exit code, Output\n"
          "summary, Rows/objects affected) from the journal, and set Status executed when the\n"
          "exit code is 0 (reverted for a rollback session whose 'Verification after rollback'\n"
          "boxes are all ticked).  Default session: the task's latest in the journal.\n"
          "When the project's Admin Task Catalog has a 7th column Status (or Last run), the\n"
          "task's row gets the new status there too, and the Post-Execution Audit item\n"
          "\"Task marked executed in the Admin Task Catalog\" is ticked.\n"
          "Without --write the change is printed as a unified diff; --write edits the\n"
          "files in place (atomically; nothing else in them changes).\n"
          "\n"
          "  --config FILE     default /etc/admin-audit/config.json (aggregator_url, log, tasks_dir)\n"
          "  --log FILE        default: config log, else /var/log/admin-audit/audit.jsonl (root),\n"
          "                    else $XDG_STATE_HOME/admin-audit/audit.jsonl or\n"
          "                    ~/.local/state/admin-audit/audit.jsonl\n"
          "  --tasks-dir DIR   default $ADMIN_AUDIT_TASKS_DIR, else config tasks_dir, else the\n"
          "                    nearest .aiwg/admin-tasks in the current directory or above\n"
          "\n"
          "Exit status: 0 done or nothing to change, 1 could not report (or the document\n"
          "was reported but its catalog row could not be updated), 64 usage.\n",
          f);
}

struct report_opts {
    const char *task, *session, *config, *log, *tasks_dir;
    bool write;
};

static int
report_parse_args(int argc, char **argv, struct report_opts *o)
{
    static const struct option opts[] = {
        {"task", required_argument, NULL, 't'},   {"session", required_argument, NULL, 's'},
        {"write", no_argument, NULL, 'w'},        {"config", required_argument, NULL, 'c'},
        {"log", required_argument, NULL, 'l'},    {"tasks-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->config = AA_DEFAULT_CONFIG;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': o->task = optarg; break;
        case 's': o->session = optarg; break;
        case 'w': o->write = true; break;
        case 'c': o->config = optarg; break;
        case 'l': o->log = optarg; break;
        case 'd': o->tasks_dir = optarg; break;
        case 'h': report_usage(stdout); return 1;
        case ':':
            aa_log("report: %s needs a value", argv[optind - 1]);
            return -EINVAL;
        default:
            aa_log("report: unknown option %s (admin-audit report --help)", argv[optind - 1]);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        aa_log("report: unexpected argument \"%s\"", argv[optind]);
        return -EINVAL;
    }
    if (!o->task) {
        aa_log("report: --task ID is required (admin-audit report --task ADM-NNN)");
        return -EINVAL;
    }
    if (!aa_task_id_valid(o->task)) {
        aa_log("report: --task \"%s\" is not a task id: ADM- followed by 3 or more digits", o->task);
        return -EINVAL;
    }
    return 0;
}

int
aa_cmd_report(int argc, char **argv)
{
    struct report_opts o;
    int r = report_parse_args(argc, argv, &o);
    if (r > 0)
        return 0;
    if (r < 0)
        return AA_EXIT_USAGE;

    char err[1024] = "";
    struct aa_config cfg;
    r = aa_config_load(o.config, &cfg, err, sizeof(err));
    if (r < 0) {
        aa_log("report: config: %s", err[0] ? err : strerror(-r));
        return 1;
    }
    int ret = 1;
    cleanup_free char *log = o.log ? strdup(o.log) : aa_default_journal_path(&cfg);
    cleanup_free char *tasks_dir = aa_run_tasks_dir(o.tasks_dir, &cfg);
    cleanup_free char *docpath = NULL;
    cleanup_free char *buf = NULL;
    struct rep_journal j = {0};
    struct aa_task t;
    bool have_task = false;
    struct rep_values v = {0};
    struct rep_doc d = {0};
    struct rep_edits e = {0};
    struct rep_op *ops = NULL;
    size_t nops = 0, len = 0;
    struct rep_catalog rc = {0};
    struct rep_op *ops_plain = NULL; /* the document's changes without the catalog item's tick */
    size_t nops_plain = 0, nplain = 0;

    if (!log) {
        aa_log("report: no journal: give --log FILE (neither config log, XDG_STATE_HOME nor HOME is set)");
        goto out;
    }
    if (!tasks_dir) {
        aa_log("report: no tasks directory: give --tasks-dir DIR, set ADMIN_AUDIT_TASKS_DIR, or run "
               "inside a project with .aiwg/admin-tasks");
        goto out;
    }
    if (asprintf(&docpath, "%s/%s.md", tasks_dir, o.task) < 0) {
        docpath = NULL;
        aa_log("report: out of memory");
        goto out;
    }
    r = aa_read_file(docpath, AA_TASK_MAX_BYTES + 1, &buf, &len);
    if (r < 0) {
        aa_log("report: task document %s: %s", docpath, strerror(-r));
        goto out;
    }
    r = aa_task_parse(buf, len, docpath, &t, err, sizeof(err));
    if (r < 0) {
        aa_log("report: task document: %s", err);
        goto out;
    }
    have_task = true;
    if (!t.id || strcmp(t.id, o.task) != 0) {
        aa_log("report: %s:%u: heading id %s does not match --task %s", docpath, t.h1_line,
               t.id ? t.id : "(none)", o.task);
        goto out;
    }

    r = rep_journal_read(log, o.task, o.session, &j);
    if (r < 0) {
        aa_log("report: journal %s: %s", log, strerror(-r));
        goto out;
    }
    struct rep_session *s = NULL;
    for (size_t i = 0; i < j.n; i++)
        if (j.v[i].start && (!s || j.v[i].start_line > s->start_line))
            s = &j.v[i];
    if (!s) {
        if (o.session)
            aa_log("report: journal %s has no session.start of session %s for %s", log, o.session, o.task);
        else
            aa_log("report: journal %s has no session of %s (run it first: admin-audit --task %s)", log,
                   o.task, o.task);
        goto out;
    }
    if (s->bad_line) {
        aa_log("report: journal %s:%u: session %s fails its hash chain (%s); not reporting from it "
               "(admin-audit verify %s)", log, s->bad_line, s->id, s->bad_why, log);
        goto out;
    }
    if (!s->end) {
        aa_log("report: session %s of %s has no session.end yet (still running, or the wrapper "
               "died); nothing to report", s->id, o.task);
        goto out;
    }
    r = rep_values(&cfg, o.task, s, &t, &v, err, sizeof(err));
    if (r < 0) {
        aa_log("report: %s", r == -ENOMEM ? "out of memory" : err);
        goto out;
    }
    r = rep_split(buf, len, &d);
    if (r == 0)
        r = rep_build_edits(&t, &d, &v, &e, err, sizeof(err));
    bool catalog_failed = false;
    if (r == 0 && v.status) {
        /* a catalog that cannot be edited does not hold back the document */
        char cerr[1024] = "";
        int cr = rep_catalog_edit(tasks_dir, o.task, v.status, v.invoked_at, &rc, cerr, sizeof cerr);
        if (cr == -ENOMEM) {
            r = cr;
        } else if (cr < 0) {
            aa_log("report: catalog: %s; the document is reported, its catalog row is not",
                   cerr[0] ? cerr : strerror(-cr));
            catalog_failed = true;
            rep_catalog_done(&rc);
            rc = (struct rep_catalog){0};
        }
    }
    /* The document's ops without, then with, the ticked catalog item: the
     * tick is written only once the catalog says so (ops_plain and ops share
     * the edit texts, which stay put while e grows). */
    if (r == 0)
        r = rep_ops(&d, &e, &ops_plain, &nops_plain);
    nplain = e.n;
    if (r == 0 && rc.has_column && strcmp(v.status, "executed") == 0)
        r = rep_tick_catalog_item(&t, &d, &e);
    if (r == 0)
        r = rep_ops(&d, &e, &ops, &nops);
    if (r < 0) {
        aa_log("report: %s", r == -ENOMEM || !err[0] ? strerror(-r) : err);
        goto out;
    }

    if (v.rollback && v.exit_status == 0 && !v.status) {
        size_t ticked = 0;
        for (size_t i = 0; i < t.rollback_verification.n; i++)
            ticked += t.rollback_verification.items[i].checked;
        aa_log("report: %s: Status stays %s: %zu of %zu 'Verification after rollback' boxes are "
               "ticked (tick them all, then run report again)", docpath,
               t.status.value ? t.status.value : "unchanged", ticked, t.rollback_verification.n);
    } else if (v.exit_status != 0) {
        aa_log("report: %s: session %s exited %s: Status stays %s", docpath, s->id, v.exit_code,
               t.status.value ? t.status.value : "unchanged");
    }

    if (v.status && rc.path && !rc.has_column)
        aa_log("report: %s has no Status column: add \"| Status |\" (or \"| Last run |\") as "
               "its 7th column and report keeps the row of %s current", rc.path, o.task);
    if (e.n == 0 && rc.e.n == 0) {
        aa_log("report: %s already reflects session %s", docpath, s->id);
        ret = catalog_failed ? 1 : 0;
        goto out;
    }
    if (!o.write) {
        /* git-style labels relative to the project root (patch -p1 / git apply there);
         * for a tasks dir outside .aiwg, relative to the tasks dir itself */
        char real[PATH_MAX];
        bool in_aiwg = false;
        if (realpath(tasks_dir, real)) {
            size_t rl = strlen(real);
            static const char sfx[] = "/.aiwg/admin-tasks";
            in_aiwg = rl >= sizeof(sfx) - 1 && strcmp(real + rl - (sizeof(sfx) - 1), sfx) == 0;
        }
        char label[64];
        snprintf(label, sizeof(label), "%s%s.md", in_aiwg ? ".aiwg/admin-tasks/" : "", o.task);
        if (e.n)
            rep_print_diff(stdout, label, ops, nops);
        if (rc.e.n)
            rep_print_diff(stdout, rc.label, rc.ops, rc.nops);
        if (fflush(stdout) == EOF || ferror(stdout)) {
            aa_log("report: writing the patch failed");
            goto out;
        }
        ret = catalog_failed ? 1 : 0;
        goto out;
    }
    /* Two files, not one transaction: the catalog first, so the document
     * ticks its catalog item only once the row really says so; a catalog
     * that cannot be written leaves the document reported without the tick,
     * and running report again finishes the row. */
    bool ticked = e.n > nplain;
    if (rc.e.n) {
        err[0] = '\0';
        r = rep_write_atomic(rc.path, rc.buf, rc.len, AA_CATALOG_MAX_BYTES, rc.ops, rc.nops, err,
                             sizeof(err));
        if (r < 0) {
            aa_log("report: catalog %s; the document is reported, its catalog row is not",
                   err[0] ? err : strerror(-r));
            catalog_failed = true;
            ticked = false;
        } else {
            aa_log("report: %s:%u: catalog row of %s now says %s", rc.path, rc.row_line, o.task,
                   v.status);
        }
    }
    if (ticked ? e.n > 0 : nplain > 0) {
        err[0] = '\0';
        r = rep_write_atomic(docpath, buf, len, AA_TASK_MAX_BYTES, ticked ? ops : ops_plain,
                             ticked ? nops : nops_plain, err, sizeof(err));
        if (r < 0) {
            aa_log("report: %s", err[0] ? err : strerror(-r));
            goto out;
        }
        aa_log("report: %s: Execution log filled from session %s%s%s", docpath, s->id,
               v.status ? ", Status " : "", v.status ? v.status : "");
    }
    ret = catalog_failed ? 1 : 0;

out:
    rep_catalog_done(&rc);
    free(ops_plain);
    free(ops);
    rep_edits_done(&e);
    free(d.lines);
    free(v.output_summary);
    if (have_task)
        aa_task_done(&t);
    rep_journal_done(&j);
    aa_config_done(&cfg);
    return ret;
}
