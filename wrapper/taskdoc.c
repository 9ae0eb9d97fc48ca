/* The per-task document parser (contract §4, reference/task-format.md §a).
 *
 * Line based, never a Markdown AST: the four header fields sit on
 * consecutive lines that Markdown would merge into one paragraph.  The
 * parser keeps a small state (enclosing H2, the bold label under it, an open
 * fence) and places each line into the field it belongs to.  Hostile input
 * (binary, NUL bytes, invalid UTF-8, huge or truncated documents) is refused
 * with one line naming the place; nothing is ever read out of bounds. */
#include "taskdoc.h"

#include "gate.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define AA_TASK_MAX_WARNINGS 64

enum section {
    SEC_HEADER, /* before the first H2 */
    SEC_PURPOSE,
    SEC_SCOPE,
    SEC_APPROVAL,
    SEC_EXECUTION,
    SEC_ROLLBACK,
    SEC_POSTAUDIT,
    SEC_OTHER,
};

enum label {
    LAB_NONE,
    LAB_COMMAND,
    LAB_RUNTIME,
    LAB_PRECHECKS,
    LAB_EXECLOG,
    LAB_VERIFICATION,
    LAB_OTHER,
};

/* Vectors grow by doubling: reallocate when the element count reaches a power of two. */
static bool
grow_due(size_t n)
{
    return (n & (n - 1)) == 0;
}

struct buf {
    char *p;
    size_t len, cap;
};

struct parser {
    struct aa_task *t;
    const char *name;
    char *err;
    size_t errlen;
    enum section sec;
    enum label lab;
    unsigned lineno;
    /* open fence */
    bool in_fence;
    char fence_char;
    size_t fence_len;
    unsigned fence_line;
    struct aa_task_fence *fence_target; /* NULL: content skipped */
    struct buf fence_body;
    size_t fence_lines;
    /* ## Purpose paragraph */
    bool purpose_open;
    struct buf purpose;
    unsigned purpose_line;
    /* label lines already seen (a second **Command**: is ambiguous) */
    unsigned exec_command_label, rollback_command_label;
};

struct field_def {
    enum section sec; /* SEC_HEADER: a bold `**Key**: value` field, accepted anywhere */
    const char *label;
    size_t off;
};

static const struct field_def field_defs[] = {
    { SEC_HEADER, "Category", offsetof(struct aa_task, category) },
    { SEC_HEADER, "Created", offsetof(struct aa_task, created) },
    { SEC_HEADER, "Author", offsetof(struct aa_task, author) },
    { SEC_HEADER, "Status", offsetof(struct aa_task, status) },
    { SEC_SCOPE, "Services affected", offsetof(struct aa_task, services) },
    { SEC_SCOPE, "Data affected", offsetof(struct aa_task, data) },
    { SEC_SCOPE, "Environments", offsetof(struct aa_task, environments) },
    { SEC_APPROVAL, "Reviewer", offsetof(struct aa_task, reviewer) },
    { SEC_APPROVAL, "Approved at", offsetof(struct aa_task, approved_at) },
    { SEC_APPROVAL, "Authorization", offsetof(struct aa_task, authorization) },
    { SEC_EXECUTION, "Container image", offsetof(struct aa_task, image) },
    { SEC_EXECUTION, "Environment variables required", offsetof(struct aa_task, env_required) },
    { SEC_EXECUTION, "Expected duration", offsetof(struct aa_task, duration) },
    { SEC_EXECUTION, "Resource requirements", offsetof(struct aa_task, resources) },
    { SEC_EXECUTION, "Invoked at", offsetof(struct aa_task, invoked_at) },
    { SEC_EXECUTION, "Invoked by", offsetof(struct aa_task, invoked_by) },
    { SEC_EXECUTION, "Exit code", offsetof(struct aa_task, exit_code) },
    { SEC_EXECUTION, "Output summary", offsetof(struct aa_task, output_summary) },
    { SEC_EXECUTION, "Rows/objects affected", offsetof(struct aa_task, rows_affected) },
    { SEC_EXECUTION, "Break-glass", offsetof(struct aa_task, breakglass) },
};

static const char *const categories[] = {
    "migration", "data-fix", "maintenance", "emergency", "analytics", "backup",
};
static const char *const statuses[] = { "draft", "approved", "executed", "reverted" };

/* ---- small helpers ------------------------------------------------------------------------ */

static int
buf_append(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 64;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (!np)
            return -ENOMEM;
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static void
buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int
fail(struct parser *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(struct parser *p, unsigned line, const char *fmt, ...)
{
    if (p->err && p->errlen > 0) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (line)
            (void)snprintf(p->err, p->errlen, "%s:%u: %s", p->name, line, msg);
        else
            (void)snprintf(p->err, p->errlen, "%s: %s", p->name, msg);
    }
    return -EINVAL;
}

static int
warn(struct parser *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
warn(struct parser *p, unsigned line, const char *fmt, ...)
{
    struct aa_task *t = p->t;
    if (t->n_warnings >= AA_TASK_MAX_WARNINGS)
        return 0;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *w;
    if (asprintf(&w, "line %u: %s", line, msg) < 0)
        return -ENOMEM;
    char **nv = realloc(t->warnings, (t->n_warnings + 2) * sizeof *nv);
    if (!nv) {
        free(w);
        return -ENOMEM;
    }
    t->warnings = nv;
    t->warnings[t->n_warnings++] = w;
    t->warnings[t->n_warnings] = NULL;
    return 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool
utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* A value still holding a template placeholder counts as empty. */
static bool
is_enum_word(const char *s, size_t n)
{
    for (size_t i = 0; i < AA_ARRAY_SIZE(categories); i++)
        if (strlen(categories[i]) == n && strncasecmp(s, categories[i], n) == 0)
            return true;
    for (size_t i = 0; i < AA_ARRAY_SIZE(statuses); i++)
        if (strlen(statuses[i]) == n && strncasecmp(s, statuses[i], n) == 0)
            return true;
    return false;
}

static bool
is_placeholder(const char *v)
{
    static const char *const words[] = {
        "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ", "ADM-XXX", "N", "...", "\xe2\x80\xa6", "TBD",
    };
    if (!*v)
        return true;
    for (size_t i = 0; i < AA_ARRAY_SIZE(words); i++)
        if (strcmp(v, words[i]) == 0)
            return true;
    /* {...} anywhere, except a shell-style ${VAR} */
    for (const char *o = strchr(v, '{'); o; o = strchr(o + 1, '{'))
        if ((o == v || o[-1] != '$') && strchr(o + 1, '}'))
            return true;
    /* the template's enum list: "draft | approved | executed | reverted" */
    if (strchr(v, '|')) {
        const char *s = v;
        for (;;) {
            const char *bar = strchr(s, '|');
            const char *e = bar ? bar : s + strlen(s);
            while (s < e && isspace((unsigned char)*s))
                s++;
            const char *te = e;
            while (te > s && isspace((unsigned char)te[-1]))
                te--;
            if (!is_enum_word(s, (size_t)(te - s)))
                return false;
            if (!bar)
                break;
            s = bar + 1;
        }
        return true;
    }
    return false;
}

/* Trim, strip one pair of backticks, trim again.  Returns a pointer into s. */
static char *
normalize_value(char *s)
{
    s = aa_strstrip(s);
    size_t n = strlen(s);
    size_t k = strspn(s, "`");
    if (k == n && n % 2 == 0)
        return s + n; /* an empty code span */
    if (k == 0 || k > 8 || 2 * k >= n)
        return s;
    for (size_t i = 0; i < k; i++)
        if (s[n - 1 - i] != '`')
            return s;
    if (n - 2 * k > 0 && s[n - k - 1] == '`')
        return s; /* trailing run longer than the opening one */
    /* a single code span: the inside holds no run of k backticks */
    char run[9];
    memset(run, '`', k);
    run[k] = '\0';
    s[n - k] = '\0';
    if (strstr(s + k, run)) {
        s[n - k] = '`';
        return s;
    }
    return aa_strstrip(s + k);
}

static int
set_value(struct aa_task_field *f, char *raw, unsigned line)
{
    char *v = normalize_value(raw);
    f->line = line;
    if (is_placeholder(v)) {
        f->placeholder = true;
        f->value = NULL;
        return 0;
    }
    f->placeholder = false;
    f->value = strdup(v);
    return f->value ? 0 : -ENOMEM;
}

static int
set_field(struct parser *p, const struct field_def *d, char *raw)
{
    struct aa_task_field *f = (struct aa_task_field *)((char *)p->t + d->off);
    if (f->line) {
        if (d->off == offsetof(struct aa_task, breakglass))
            return warn(p, p->lineno, "another Break-glass line ignored (first on line %u)", f->line);
        return fail(p, p->lineno, "duplicate field %s (first on line %u)", d->label, f->line);
    }
    return set_value(f, raw, p->lineno);
}

static const struct field_def *
find_field(enum section sec, const char *label)
{
    for (size_t i = 0; i < AA_ARRAY_SIZE(field_defs); i++)
        if (field_defs[i].sec == sec && strcasecmp(field_defs[i].label, label) == 0)
            return &field_defs[i];
    return NULL;
}

static enum label
find_label(const char *key)
{
    if (strcasecmp(key, "Command") == 0)
        return LAB_COMMAND;
    if (strcasecmp(key, "Runtime environment") == 0)
        return LAB_RUNTIME;
    if (strcasecmp(key, "Pre-execution checks") == 0)
        return LAB_PRECHECKS;
    if (strcasecmp(key, "Execution log") == 0)
        return LAB_EXECLOG;
    if (strcasecmp(key, "Verification after rollback") == 0 || strcasecmp(key, "Verification") == 0)
        return LAB_VERIFICATION;
    return LAB_OTHER;
}

static enum section
find_section(const char *title)
{
    static const struct {
        const char *name;
        enum section sec;
    } map[] = {
        { "Purpose", SEC_PURPOSE },     { "Scope", SEC_SCOPE },
        { "Approval", SEC_APPROVAL },   { "Execution", SEC_EXECUTION },
        { "Rollback", SEC_ROLLBACK },   { "Post-Execution Audit", SEC_POSTAUDIT },
        { "Post Execution Audit", SEC_POSTAUDIT },
    };
    for (size_t i = 0; i < AA_ARRAY_SIZE(map); i++)
        if (strcasecmp(map[i].name, title) == 0)
            return map[i].sec;
    return SEC_OTHER;
}

/* "**Key**: value", "**Key:** value", "**Key** : value".  On success *key and
 * *value point into s (which is modified); on failure s is left as it was. */
static bool
split_bold(char *s, char **key, char **value)
{
    if (strncmp(s, "**", 2) != 0)
        return false;
    char *k = s + 2;
    char *close = strstr(k, "**");
    if (!close || close == k)
        return false;
    char *rest = close + 2;
    bool colon_inside = close[-1] == ':';
    if (!colon_inside) {
        char *r = rest + strspn(rest, " \t");
        if (*r == ':') {
            rest = r + 1;
        } else {
            /* bold text, not a field -- unless a known label stands alone */
            if (*r)
                return false;
            char save = *close;
            *close = '\0';
            bool label = find_label(aa_strstrip(k)) != LAB_OTHER;
            *close = save;
            if (!label)
                return false;
        }
    }
    const char *kend = colon_inside ? close - 1 : close;
    const char *kp = k;
    while (kp < kend && isspace((unsigned char)*kp))
        kp++;
    if (kp == kend)
        return false; /* no key */
    *close = '\0';
    if (colon_inside)
        close[-1] = '\0';
    k = aa_strstrip(k);
    *key = k;
    *value = aa_strstrip(rest);
    return true;
}

/* Does the line start a known bold field or label (ends a paragraph)? */
static bool
is_bold_field(const char *ts)
{
    if (strncmp(ts, "**", 2) != 0)
        return false;
    cleanup_free char *copy = strdup(ts);
    char *key, *value;
    if (!copy || !split_bold(copy, &key, &value))
        return false;
    return find_field(SEC_HEADER, key) || find_label(key) != LAB_OTHER;
}

static bool
mentions_adr(const char *s)
{
    for (const char *a = strstr(s, "ADR-"); a; a = strstr(a + 1, "ADR-"))
        if (isdigit((unsigned char)a[4]))
            return true;
    return false;
}

static int
note_rollback_adr(struct parser *p, char *text)
{
    if (p->t->rollback_adr.line || !mentions_adr(text))
        return 0;
    return set_value(&p->t->rollback_adr, text, p->lineno);
}

/* ---- fences ------------------------------------------------------------------------------- */

static size_t
fence_run(const char *s, char *ret_char)
{
    if (*s != '`' && *s != '~')
        return 0;
    size_t n = 0;
    while (s[n] == *s)
        n++;
    if (n < 3)
        return 0;
    if (*s == '`' && strchr(s + n, '`'))
        return 0; /* inline code, not a fence */
    *ret_char = *s;
    return n;
}

static int
fence_open(struct parser *p, const char *ts, char ch, size_t n)
{
    char info[64] = "";
    const char *r = ts + n;
    while (*r == ' ' || *r == '\t')
        r++;
    size_t il = 0;
    while (r[il] && !isspace((unsigned char)r[il]) && il < sizeof info - 1)
        il++;
    memcpy(info, r, il);
    info[il] = '\0';

    p->in_fence = true;
    p->fence_char = ch;
    p->fence_len = n;
    p->fence_line = p->lineno;
    p->fence_lines = 0;
    p->fence_target = NULL;
    buf_free(&p->fence_body);

    struct aa_task_fence *target = NULL;
    if (p->lab == LAB_COMMAND && p->sec == SEC_EXECUTION)
        target = &p->t->command;
    else if (p->lab == LAB_COMMAND && p->sec == SEC_ROLLBACK)
        target = &p->t->rollback;
    if (!target)
        return 0;
    if (target->line)
        return warn(p, p->lineno, "second fence under **Command** ignored (first on line %u)",
                    target->line);
    p->fence_target = target;
    target->line = p->lineno;
    if (il) {
        target->lang = strdup(info);
        if (!target->lang)
            return -ENOMEM;
    }
    return 0;
}

static int
fence_close(struct parser *p)
{
    struct aa_task_fence *f = p->fence_target;
    p->in_fence = false;
    p->fence_target = NULL;
    if (!f) {
        buf_free(&p->fence_body);
        return 0;
    }
    f->end_line = p->lineno;
    char *body = p->fence_body.p;
    const char *trimmed = body ? body : "";
    while (isspace((unsigned char)*trimmed))
        trimmed++;
    size_t tl = strlen(trimmed);
    while (tl > 0 && isspace((unsigned char)trimmed[tl - 1]))
        tl--;
    bool ph = tl == 0 || (trimmed[0] == '{' && trimmed[tl - 1] == '}' &&
                          !memchr(trimmed, '\n', tl));
    if (ph) {
        f->placeholder = true;
        buf_free(&p->fence_body);
        return 0;
    }
    f->body = body;
    p->fence_body.p = NULL;
    buf_free(&p->fence_body);
    return 0;
}

static int
fence_line(struct parser *p, const char *line, size_t n)
{
    if (!p->fence_target)
        return 0;
    int r = 0;
    if (p->fence_lines++ > 0)
        r = buf_append(&p->fence_body, "\n", 1);
    if (r == 0)
        r = buf_append(&p->fence_body, line, n);
    return r;
}

/* ---- purpose paragraph -------------------------------------------------------------------- */

static int
purpose_close(struct parser *p)
{
    if (!p->purpose_open)
        return 0;
    p->purpose_open = false;
    if (!p->purpose_line)
        return 0;
    int r = set_value(&p->t->purpose, p->purpose.p ? p->purpose.p : (char *)"", p->purpose_line);
    buf_free(&p->purpose);
    return r;
}

/* ---- one line ----------------------------------------------------------------------------- */

static int
handle_h1(struct parser *p, char *text)
{
    struct aa_task *t = p->t;
    if (t->h1_line)
        return fail(p, p->lineno, "second H1 (first on line %u)", t->h1_line);
    t->h1_line = p->lineno;
    char *colon = strchr(text, ':');
    char *name = NULL;
    if (colon) {
        *colon = '\0';
        name = colon + 1;
    }
    char *id = normalize_value(text);
    if (aa_task_id_valid(id)) {
        t->id = strdup(id);
        if (!t->id)
            return -ENOMEM;
    } else {
        int r = warn(p, p->lineno, "H1 does not start with a task id ADM-NNN");
        if (r < 0)
            return r;
    }
    if (name)
        return set_value(&t->name, name, p->lineno);
    t->name.line = p->lineno;
    t->name.placeholder = true;
    return 0;
}

static int
handle_label(struct parser *p, const char *key)
{
    enum label lab = find_label(key);
    p->lab = lab;
    struct aa_task *t = p->t;
    switch (lab) {
    case LAB_COMMAND:
        if (p->sec == SEC_EXECUTION) {
            if (p->exec_command_label)
                return fail(p, p->lineno, "duplicate field Command in ## Execution (first on line %u)",
                            p->exec_command_label);
            p->exec_command_label = p->lineno;
        } else if (p->sec == SEC_ROLLBACK) {
            if (p->rollback_command_label)
                return fail(p, p->lineno, "duplicate field Command in ## Rollback (first on line %u)",
                            p->rollback_command_label);
            p->rollback_command_label = p->lineno;
        } else {
            return warn(p, p->lineno, "**Command** outside ## Execution and ## Rollback ignored");
        }
        return 0;
    case LAB_PRECHECKS:
        if (p->sec == SEC_EXECUTION && !t->prechecks.line)
            t->prechecks.line = p->lineno;
        return 0;
    case LAB_VERIFICATION:
        if (p->sec == SEC_ROLLBACK && !t->rollback_verification.line)
            t->rollback_verification.line = p->lineno;
        return 0;
    default:
        return 0;
    }
}

/* An inline command: "**Command**: `make migrate`". */
static int
inline_command(struct parser *p, char *value)
{
    struct aa_task_fence *f = p->sec == SEC_EXECUTION ? &p->t->command : &p->t->rollback;
    if (p->sec == SEC_ROLLBACK && mentions_adr(value))
        return note_rollback_adr(p, value);
    char *v = normalize_value(value);
    f->line = f->end_line = p->lineno;
    if (is_placeholder(v)) {
        f->placeholder = true;
        return 0;
    }
    f->body = strdup(v);
    return f->body ? 0 : -ENOMEM;
}

static int
handle_bold(struct parser *p, char *key, char *value)
{
    const struct field_def *d = find_field(SEC_HEADER, key);
    if (d)
        return set_field(p, d, value);
    int r = handle_label(p, key);
    if (r < 0)
        return r;
    if (*value && p->lab == LAB_COMMAND && (p->sec == SEC_EXECUTION || p->sec == SEC_ROLLBACK))
        return inline_command(p, value);
    if (p->lab == LAB_OTHER && p->sec == SEC_HEADER)
        return warn(p, p->lineno, "unknown header field %s", key);
    return 0;
}

static struct aa_task_checklist *
checklist_for(struct parser *p)
{
    if (p->sec == SEC_EXECUTION && p->lab == LAB_PRECHECKS)
        return &p->t->prechecks;
    if (p->sec == SEC_ROLLBACK && p->lab == LAB_VERIFICATION)
        return &p->t->rollback_verification;
    if (p->sec == SEC_POSTAUDIT)
        return &p->t->postaudit;
    return NULL;
}

static int
handle_checkbox(struct parser *p, bool checked, char *text)
{
    struct aa_task_checklist *cl = checklist_for(p);
    if (!cl)
        return warn(p, p->lineno, "checkbox outside a checklist ignored");
    if (cl->n == 0 || grow_due(cl->n)) {
        struct aa_task_checkbox *nv = realloc(cl->items, 2 * (cl->n ? cl->n : 1) * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        cl->items = nv;
    }
    struct aa_task_checkbox *cb = &cl->items[cl->n];
    cb->checked = checked;
    cb->line = p->lineno;
    cb->text = strdup(normalize_value(text));
    if (!cb->text)
        return -ENOMEM;
    cl->n++;
    return 0;
}

static int
handle_item(struct parser *p, char *rest)
{
    /* checkbox: "[ ] text", "[x] text", "[X] text" */
    if (rest[0] == '[' && (rest[1] == ' ' || rest[1] == 'x' || rest[1] == 'X') && rest[2] == ']' &&
        (rest[3] == '\0' || rest[3] == ' ' || rest[3] == '\t'))
        return handle_checkbox(p, rest[1] != ' ', rest + 3);

    if (p->sec == SEC_ROLLBACK) {
        int r = note_rollback_adr(p, rest);
        if (r < 0 || p->t->rollback_adr.line == p->lineno)
            return r;
    }

    char *key = NULL, *value = NULL;
    if (!split_bold(rest, &key, &value)) {
        char *colon = strchr(rest, ':');
        if (!colon)
            return 0; /* a plain list item */
        *colon = '\0';
        key = aa_strstrip(rest);
        value = colon + 1;
    }
    enum section sec = p->sec;
    const struct field_def *d = find_field(sec, key);
    if (d)
        return set_field(p, d, value);
    if (sec == SEC_SCOPE || sec == SEC_APPROVAL || sec == SEC_EXECUTION)
        return warn(p, p->lineno, "unknown item \"%.64s\"", key);
    return 0;
}

static int
handle_line(struct parser *p, char *line, size_t n)
{
    if (p->in_fence) {
        size_t a = 0, b = n;
        while (a < b && isspace((unsigned char)line[a]))
            a++;
        while (b > a && isspace((unsigned char)line[b - 1]))
            b--;
        size_t run = 0;
        while (a + run < b && line[a + run] == p->fence_char)
            run++;
        if (run >= p->fence_len && a + run == b)
            return fence_close(p);
        return fence_line(p, line, n);
    }

    char *ts = aa_strstrip(line);
    char fch;
    size_t fl = fence_run(ts, &fch);
    if (fl) {
        int r = purpose_close(p);
        return r < 0 ? r : fence_open(p, ts, fch, fl);
    }

    if (ts[0] == '#') {
        size_t h = 0;
        while (ts[h] == '#')
            h++;
        if (h <= 6 && (ts[h] == ' ' || ts[h] == '\t' || ts[h] == '\0')) {
            int r = purpose_close(p);
            if (r < 0)
                return r;
            char *title = aa_strstrip(ts + h);
            /* closing sequence of an ATX heading: "## Scope ##" */
            size_t tl = strlen(title);
            while (tl > 0 && title[tl - 1] == '#')
                tl--;
            title[tl] = '\0';
            title = aa_strstrip(title);
            if (h == 1)
                return handle_h1(p, title);
            if (h == 2) {
                p->sec = find_section(title);
                p->lab = LAB_NONE;
                if (p->sec == SEC_PURPOSE) {
                    p->purpose_open = true;
                    if (p->t->purpose.line)
                        return fail(p, p->lineno, "duplicate section ## Purpose");
                }
                if (p->sec == SEC_POSTAUDIT && !p->t->postaudit.line)
                    p->t->postaudit.line = p->lineno;
            }
            return 0;
        }
    }

    if (p->purpose_open && is_bold_field(ts)) {
        int r = purpose_close(p);
        if (r < 0)
            return r;
        p->purpose_open = false;
    }
    if (p->purpose_open) {
        if (!*ts)
            return p->purpose_line ? purpose_close(p) : 0;
        if (!p->purpose_line)
            p->purpose_line = p->lineno;
        else if (buf_append(&p->purpose, " ", 1) < 0)
            return -ENOMEM;
        return buf_append(&p->purpose, ts, strlen(ts));
    }

    if (!*ts)
        return 0;

    if ((ts[0] == '-' || ts[0] == '*' || ts[0] == '+') && (ts[1] == ' ' || ts[1] == '\t'))
        return handle_item(p, aa_strstrip(ts + 2));

    char *key, *value;
    if (ts[0] == '*' && ts[1] == '*') {
        char *dup = NULL;
        if (p->sec == SEC_ROLLBACK) {
            dup = strdup(ts);
            if (!dup)
                return -ENOMEM;
        }
        if (split_bold(ts, &key, &value)) {
            free(dup);
            return handle_bold(p, key, value);
        }
        if (dup) {
            int r = note_rollback_adr(p, dup);
            free(dup);
            return r;
        }
        return 0;
    }

    if (p->sec == SEC_ROLLBACK)
        return note_rollback_adr(p, ts);
    if (p->sec == SEC_HEADER && !p->t->h1_line)
        return warn(p, p->lineno, "text before the H1 ignored");
    return 0;
}

/* ---- entry points ------------------------------------------------------------------------- */

static int
parse_lines(struct parser *p, const char *buf, size_t len)
{
    size_t cap = 0;
    cleanup_free char *line = NULL;
    size_t off = 0;
    /* a UTF-8 byte order mark is tolerated */
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        off = 3;
    while (off < len) {
        const char *s = buf + off;
        const char *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off;
        off += n + (nl ? 1 : 0);
        p->lineno++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (memchr(s, '\0', n))
            return fail(p, p->lineno, "NUL byte: not a text document");
        if (!utf8_valid((const unsigned char *)s, n))
            return fail(p, p->lineno, "invalid UTF-8");
        if (n + 1 > cap) {
            size_t ncap = n + 1 < 256 ? 256 : n + 1;
            char *nb = realloc(line, ncap);
            if (!nb)
                return -ENOMEM;
            line = nb;
            cap = ncap;
        }
        memcpy(line, s, n);
        line[n] = '\0';
        int r = handle_line(p, line, n);
        if (r < 0)
            return r;
    }
    p->t->line_count = p->lineno;
    if (p->in_fence)
        return fail(p, p->fence_line, "unterminated %.*s fence", (int)(p->fence_len > 16 ? 16 : p->fence_len),
                    p->fence_char == '`' ? "````````````````" : "~~~~~~~~~~~~~~~~");
    int r = purpose_close(p);
    if (r < 0)
        return r;
    if (!p->t->h1_line)
        return fail(p, 0, "no H1 line \"# ADM-NNN: name\": not a task document");
    struct aa_task *t = p->t;
    if (t->rollback.body && t->rollback_adr.line) {
        free(t->rollback_adr.value);
        memset(&t->rollback_adr, 0, sizeof t->rollback_adr);
    }
    return 0;
}

int
aa_task_parse(const char *buf, size_t len, const char *name, struct aa_task *t, char *err,
              size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (err && errlen)
        err[0] = '\0';
    struct parser p = {
        .t = t,
        .name = name ? name : "<task>",
        .err = err,
        .errlen = errlen,
        .sec = SEC_HEADER,
    };
    if (!buf && len)
        return fail(&p, 0, "no input");
    if (len > AA_TASK_MAX_BYTES)
        return fail(&p, 0, "document is %zu bytes, over the limit of %d", len, AA_TASK_MAX_BYTES);
    if (len == 0)
        return fail(&p, 0, "empty document");
    if (name) {
        t->path = strdup(name);
        if (!t->path)
            return -ENOMEM;
    }
    int r = parse_lines(&p, buf, len);
    buf_free(&p.fence_body);
    buf_free(&p.purpose);
    if (r < 0) {
        if (r == -ENOMEM && err && errlen)
            (void)snprintf(err, errlen, "%s: out of memory", p.name);
        aa_task_done(t);
        return r;
    }
    return 0;
}

int
aa_task_load(const char *path, struct aa_task *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    cleanup_free char *buf = NULL;
    size_t len = 0;
    int r = aa_read_file(path, (size_t)AA_TASK_MAX_BYTES + 1, &buf, &len);
    if (r == -EFBIG) {
        if (err && errlen)
            (void)snprintf(err, errlen, "%s: document over the limit of %d bytes", path,
                           AA_TASK_MAX_BYTES);
        return -EINVAL;
    }
    if (r < 0) {
        if (err && errlen)
            (void)snprintf(err, errlen, "%s: %s", path, strerror(-r));
        return r;
    }
    return aa_task_parse(buf, len, path, t, err, errlen);
}

static void
field_done(struct aa_task_field *f)
{
    free(f->value);
}

static void
fence_done(struct aa_task_fence *f)
{
    free(f->lang);
    free(f->body);
}

static void
checklist_done(struct aa_task_checklist *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->items[i].text);
    free(c->items);
}

void
aa_task_done(struct aa_task *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->id);
    struct aa_task_field *fields[] = {
        &t->name,         &t->category,   &t->created,       &t->author,         &t->status,
        &t->purpose,      &t->services,   &t->data,          &t->environments,   &t->reviewer,
        &t->approved_at,  &t->authorization, &t->image,      &t->env_required,   &t->duration,
        &t->resources,    &t->invoked_at, &t->invoked_by,    &t->exit_code,      &t->output_summary,
        &t->rows_affected, &t->breakglass, &t->rollback_adr,
    };
    for (size_t i = 0; i < AA_ARRAY_SIZE(fields); i++)
        field_done(fields[i]);
    fence_done(&t->command);
    fence_done(&t->rollback);
    checklist_done(&t->prechecks);
    checklist_done(&t->rollback_verification);
    checklist_done(&t->postaudit);
    aa_strv_free(t->warnings);
    memset(t, 0, sizeof *t);
}

bool
aa_task_id_valid(const char *id)
{
    if (!id || strncmp(id, "ADM-", 4) != 0)
        return false;
    size_t n = 0;
    for (const char *s = id + 4; *s; s++, n++)
        if (*s < '0' || *s > '9')
            return false;
    return n >= 3;
}

bool
aa_task_category_valid(const char *c)
{
    if (!c)
        return false;
    for (size_t i = 0; i < AA_ARRAY_SIZE(categories); i++)
        if (strcmp(c, categories[i]) == 0)
            return true;
    return false;
}

/* Append a copy of [s, s+n) to a NULL-terminated vector. */
static int
strv_push(char ***v, size_t *n, const char *s, size_t len)
{
    char **nv = *v;
    if (grow_due(*n + 1)) {
        nv = realloc(*v, 2 * (*n + 1) * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        *v = nv;
    }
    nv[*n] = strndup(s, len);
    if (!nv[*n])
        return -ENOMEM;
    (*n)++;
    nv[*n] = NULL;
    return 0;
}

static char **
strv_new(void)
{
    return calloc(1, sizeof(char *));
}

/* Split on commas, semicolons and white space, dropping backticks and
 * parenthesised remarks. */
static char **
split_list(const char *value, bool canonical_env)
{
    char **v = strv_new();
    size_t n = 0;
    if (!v)
        return NULL;
    if (!value)
        return v;
    cleanup_free char *copy = strdup(value);
    if (!copy) {
        free(v);
        return NULL;
    }
    /* blank out "(...)" remarks and backticks */
    int depth = 0;
    for (char *s = copy; *s; s++) {
        if (*s == '(')
            depth++;
        if (depth > 0 || *s == '`') {
            if (*s == ')')
                depth--;
            *s = ' ';
        }
    }
    const char *seps = ", ;\t";
    for (char *s = copy; *s;) {
        size_t skip = strspn(s, seps);
        s += skip;
        size_t len = strcspn(s, seps);
        if (!len)
            break;
        int r;
        if (canonical_env) {
            cleanup_free char *word = strndup(s, len);
            cleanup_free char *canon = word ? aa_env_canonical(word) : NULL;
            r = canon ? strv_push(&v, &n, canon, strlen(canon)) : -ENOMEM;
        } else {
            r = strv_push(&v, &n, s, len);
        }
        if (r < 0) {
            aa_strv_free(v);
            return NULL;
        }
        s += len;
    }
    return v;
}

char **
aa_task_environments(const struct aa_task *t)
{
    return split_list(t ? t->environments.value : NULL, true);
}

char **
aa_task_env_names(const struct aa_task *t)
{
    const char *v = t ? t->env_required.value : NULL;
    if (v) {
        cleanup_free char *copy = strdup(v);
        if (!copy)
            return NULL;
        char *s = normalize_value(copy);
        if (strcasecmp(s, "none") == 0 || strcasecmp(s, "n/a") == 0 || strcmp(s, "-") == 0)
            return strv_new();
    }
    return split_list(v, false);
}

int
aa_parse_date(const char *s, long *ret_days)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -EINVAL;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -EINVAL;
    long y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12 || d < 1)
        return -EINVAL;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int maxd = mdays[m - 1] + (m == 2 && leap ? 1 : 0);
    if (d > maxd)
        return -EINVAL;
    /* days from civil (H. Hinnant) */
    long yy = m <= 2 ? y - 1 : y;
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    long yoe = yy - era * 400;
    long doy = (153L * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    if (ret_days)
        *ret_days = era * 146097 + doe - 719468;
    return 0;
}

void
aa_strv_free(char **v)
{
    if (!v)
        return;
    for (char **s = v; *s; s++)
        free(*s);
    free(v);
}

size_t
aa_strv_len(char *const *v)
{
    size_t n = 0;
    if (v)
        while (v[n])
            n++;
    return n;
}
