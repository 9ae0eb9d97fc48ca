/* `admin-audit lint [DIR] [--format text|json]`: validate the Admin Task
 * Catalog and every task document (reference/task-format.md §a.3, §a.4,
 * §d behaviour 1).  Exit 0 clean, 1 findings, 64 usage (contract §3). */
#include "gate.h"
#include "lint.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "catalog.h"
#include "commands.h"
#include "taskdoc.h"
#include "util.h"

#define LINT_ERR "error"
#define LINT_WARN "warning"

static int
lint_add(struct aa_lint *L, const char *file, unsigned line, const char *sev, const char *rule,
         const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
lint_add(struct aa_lint *L, const char *file, unsigned line, const char *sev, const char *rule,
         const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    /* one line per finding, whatever the document held */
    for (char *s = msg; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
    struct aa_lint_finding *v = realloc(L->findings, (L->n_findings + 1) * sizeof(*v));
    char *f = strdup(file ? file : "");
    if (!v || !f) {
        if (v)
            L->findings = v;
        free(msg);
        free(f);
        return -ENOMEM;
    }
    L->findings = v;
    v[L->n_findings] = (struct aa_lint_finding){
        .file = f, .line = line, .severity = sev, .rule = rule, .message = msg, .seq = L->n_findings};
    L->n_findings++;
    return 0;
}

void
aa_lint_done(struct aa_lint *L)
{
    if (!L)
        return;
    for (size_t i = 0; i < L->n_findings; i++) {
        free(L->findings[i].file);
        free(L->findings[i].message);
    }
    free(L->findings);
    free(L->tasks_dir);
    free(L->aiwg_dir);
    free(L->env_example);
    memset(L, 0, sizeof(*L));
}

static bool
is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static char *
path_join(const char *a, const char *b)
{
    char *s = NULL;
    if (asprintf(&s, "%s%s%s", a, (a[0] && a[strlen(a) - 1] == '/') ? "" : "/", b) < 0)
        return NULL;
    return s;
}

static const char *
path_base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Parent directory of arg for display: textual when arg ends in a real
 * name, else from its real path. */
static char *
path_parent(const char *arg, const char *real)
{
    const char *base = path_base(arg);
    if (strcmp(base, ".") != 0 && strcmp(base, "..") != 0) {
        if (base == arg)
            return strdup(".");
        if (base == arg + 1)
            return strdup("/");
        return strndup(arg, (size_t)(base - arg - 1));
    }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", real);
    return strdup(dirname(tmp));
}


/* Decide tasks dir, .aiwg dir and .env.example for DIR. */
static int
lint_resolve(const char *dir, struct aa_lint *L, char **ret_root)
{
    cleanup_free char *arg = NULL;
    if (dir) {
        arg = strdup(dir);
        if (!arg)
            return -ENOMEM;
        size_t n = strlen(arg);
        while (n > 1 && arg[n - 1] == '/')
            arg[--n] = '\0';
    } else {
        arg = aa_find_upward(".aiwg");
        if (!arg)
            return -ENOENT;
    }
    if (!is_dir(arg))
        return is_file(arg) ? -ENOTDIR : -ENOENT;

    cleanup_free char *root = NULL;
    cleanup_free char *aiwg = path_join(arg, ".aiwg");
    if (!aiwg)
        return -ENOMEM;
    char real[PATH_MAX];
    if (!realpath(arg, real))
        return -errno;

    if (is_dir(aiwg)) { /* project root */
        root = AA_TAKE_PTR(arg);
        L->tasks_dir = path_join(aiwg, "admin-tasks");
    } else if (strcmp(path_base(real), ".aiwg") == 0) { /* the .aiwg dir itself */
        free(aiwg);
        aiwg = strdup(arg);
        root = path_parent(arg, real);
        L->tasks_dir = path_join(arg, "admin-tasks");
    } else { /* a tasks dir */
        free(aiwg);
        aiwg = NULL;
        char parent[PATH_MAX];
        snprintf(parent, sizeof(parent), "%s", real);
        char *pd = dirname(parent);
        if (strcmp(path_base(pd), ".aiwg") == 0) {
            aiwg = path_parent(arg, real);
            root = aiwg ? path_parent(aiwg, pd) : NULL;
        } else {
            root = path_parent(arg, real);
        }
        L->tasks_dir = AA_TAKE_PTR(arg);
        if (!root)
            return -ENOMEM;
    }
    if (!root || !L->tasks_dir)
        return -ENOMEM;
    L->aiwg_dir = AA_TAKE_PTR(aiwg);

    cleanup_free char *envx = path_join(root, ".env.example");
    if (!envx)
        return -ENOMEM;
    if (is_file(envx)) {
        L->env_example = AA_TAKE_PTR(envx);
    } else if (!L->aiwg_dir) {
        /* a bare tasks dir may carry its own .env.example */
        cleanup_free char *own = path_join(L->tasks_dir, ".env.example");
        if (!own)
            return -ENOMEM;
        if (is_file(own))
            L->env_example = AA_TAKE_PTR(own);
    }
    *ret_root = AA_TAKE_PTR(root);
    return 0;
}


static bool
strv_has(char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (strcmp(*v, s) == 0)
            return true;
    return false;
}

static long
lint_today(void)
{
    return (long)(time(NULL) / 86400);
}

/* YYYY-MM-DDTHH:MM:SSZ */
static bool
lint_utc_stamp_valid(const char *s)
{
    if (!s || strlen(s) != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return false;
    char date[11];
    memcpy(date, s, 10);
    date[10] = '\0';
    if (aa_parse_date(date, NULL) < 0)
        return false;
    for (int i = 11; i < 19; i++)
        if (i != 13 && i != 16 && !isdigit((unsigned char)s[i]))
            return false;
    int hh = (s[11] - '0') * 10 + s[12] - '0', mm = (s[14] - '0') * 10 + s[15] - '0',
        ss = (s[17] - '0') * 10 + s[18] - '0';
    return hh < 24 && mm < 60 && ss <= 60;
}

static bool
lint_is_int(const char *s, long lo, long hi)
{
    if (!s || !*s)
        return false;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno == 0 && *end == '\0' && v >= lo && v <= hi && !isspace((unsigned char)s[0]);
}

static bool
lint_text_placeholder(const char *s)
{
    if (!s || !*s)
        return true;
    size_t n = strlen(s);
    return (s[0] == '{' && s[n - 1] == '}') || strcmp(s, "...") == 0;
}

struct lint_ctx {
    struct aa_lint *L;
    const char *file;
    const struct aa_task *t;
    unsigned fallback_line; /* where to point for a missing field */
};

/* A required field: missing or placeholder is a finding.  Returns true when filled. */
static int
lint_required(struct lint_ctx *c, const struct aa_task_field *f, const char *label, const char *rule,
              const char *sev, bool *filled)
{
    *filled = false;
    if (f->line == 0)
        return lint_add(c->L, c->file, c->fallback_line, sev, rule, "%s is missing", label);
    if (f->placeholder || !f->value || !f->value[0])
        return lint_add(c->L, c->file, f->line, sev, rule, "%s is not filled in (template placeholder)",
                        label);
    *filled = true;
    return 0;
}

#define LINT_TRY(expr)                                                                             \
    do {                                                                                           \
        int _r = (expr);                                                                           \
        if (_r < 0)                                                                                \
            return _r;                                                                             \
    } while (0)

static int
lint_dates(struct lint_ctx *c, long today, const char *status)
{
    const struct aa_task *t = c->t;
    bool filled;
    long created = -1, approved = -1;
    LINT_TRY(lint_required(c, &t->created, "Created", "task.created", LINT_ERR, &filled));
    if (filled) {
        if (aa_parse_date(t->created.value, &created) < 0) {
            created = -1;
            LINT_TRY(lint_add(c->L, c->file, t->created.line, LINT_ERR, "task.created",
                              "Created \"%s\" is not a real YYYY-MM-DD date", t->created.value));
        } else if (created > today) {
            LINT_TRY(lint_add(c->L, c->file, t->created.line, LINT_ERR, "task.created",
                              "Created %s is in the future", t->created.value));
        }
    }
    bool draft = status && strcmp(status, "draft") == 0;
    const struct aa_task_field *ap = &t->approved_at;
    if (draft && (ap->line == 0 || ap->placeholder || !ap->value))
        return 0;
    LINT_TRY(lint_required(c, ap, "Approved at", "task.approved-at", LINT_ERR, &filled));
    if (!filled)
        return 0;
    if (aa_parse_date(ap->value, &approved) < 0)
        return lint_add(c->L, c->file, ap->line, LINT_ERR, "task.approved-at",
                        "Approved at \"%s\" is not a real YYYY-MM-DD date", ap->value);
    if (approved > today)
        return lint_add(c->L, c->file, ap->line, LINT_ERR, "task.approved-at",
                        "Approved at %s is in the future", ap->value);
    if (created >= 0 && approved < created)
        return lint_add(c->L, c->file, ap->line, LINT_ERR, "task.approved-at",
                        "Approved at %s is before Created %s", ap->value, t->created.value);
    return 0;
}

static int
lint_execution_log(struct lint_ctx *c, const char *status)
{
    const struct aa_task *t = c->t;
    bool done = status && (strcmp(status, "executed") == 0 || strcmp(status, "reverted") == 0);
    const struct aa_task_field *f;

    f = &t->invoked_at;
    if (f->value && !lint_utc_stamp_valid(f->value))
        LINT_TRY(lint_add(c->L, c->file, f->line, LINT_ERR, "task.invoked-at",
                          "Invoked at \"%s\" is not YYYY-MM-DDTHH:MM:SSZ", f->value));
    f = &t->exit_code;
    if (f->value && !lint_is_int(f->value, 0, 255) && strcmp(f->value, "unknown") != 0)
        LINT_TRY(lint_add(c->L, c->file, f->line, LINT_ERR, "task.exit-code",
                          "Exit code \"%s\" is neither an integer 0..255 nor \"unknown\"", f->value));
    f = &t->rows_affected;
    if (f->value && !lint_is_int(f->value, 0, LONG_MAX) && strcmp(f->value, "unknown") != 0)
        LINT_TRY(lint_add(c->L, c->file, f->line, LINT_ERR, "task.rows-affected",
                          "Rows/objects affected \"%s\" is neither an integer nor \"unknown\"", f->value));
    if (!done)
        return 0;
    static const struct {
        size_t off;
        const char *label;
    } logf[] = {
        {offsetof(struct aa_task, invoked_at), "Invoked at"},
        {offsetof(struct aa_task, invoked_by), "Invoked by"},
        {offsetof(struct aa_task, exit_code), "Exit code"},
        {offsetof(struct aa_task, output_summary), "Output summary"},
    };
    for (size_t i = 0; i < AA_ARRAY_SIZE(logf); i++) {
        f = (const struct aa_task_field *)((const char *)t + logf[i].off);
        if (f->value)
            continue;
        LINT_TRY(lint_add(c->L, c->file, f->line ? f->line : c->fallback_line, LINT_WARN,
                          "task.execution-log", "Status is %s but the Execution log's %s is empty "
                          "(admin-audit report --task %s --write fills it)",
                          status, logf[i].label, t->id ? t->id : "ID"));
    }
    return 0;
}

static int
lint_checklist(struct lint_ctx *c, const struct aa_task_checklist *cl, const char *label,
               size_t want, const char *rule)
{
    if (cl->line == 0)
        return lint_add(c->L, c->file, c->fallback_line, LINT_ERR, rule, "%s checklist is missing", label);
    if (want && cl->n != want)
        return lint_add(c->L, c->file, cl->line, LINT_WARN, rule,
                        "%s has %zu checkboxes, the template has %zu", label, cl->n, want);
    return 0;
}

static int
lint_rollback(struct lint_ctx *c)
{
    const struct aa_task *t = c->t;
    bool cmd = t->rollback.line && !t->rollback.placeholder && t->rollback.body &&
               t->rollback.body[0];
    bool adr = t->rollback_adr.value != NULL;
    if (!cmd && !adr)
        return lint_add(c->L, c->file, t->rollback.line ? t->rollback.line : c->fallback_line,
                        LINT_ERR, "task.rollback",
                        "no Rollback command and no ADR reference saying why rollback is "
                        "impossible (Principle 6)");
    if (!cmd)
        return 0;
    const struct aa_task_checklist *v = &t->rollback_verification;
    size_t real = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (lint_text_placeholder(v->items[i].text))
            LINT_TRY(lint_add(c->L, c->file, v->items[i].line, LINT_ERR, "task.rollback-verification",
                              "Verification after rollback item is a template placeholder: %s",
                              v->items[i].text));
        else
            real++;
    }
    if (real == 0 && v->n == 0)
        return lint_add(c->L, c->file, v->line ? v->line : t->rollback.end_line, LINT_ERR,
                        "task.rollback-verification", "no 'Verification after rollback' checkbox");
    return 0;
}

static int
lint_env(struct lint_ctx *c, char *const *env_keys)
{
    const struct aa_task *t = c->t;
    char **names = aa_task_env_names(t);
    if (!names)
        return -ENOMEM;
    int r = 0;
    for (char **n = names; *n && r == 0; n++) {
        bool valid = (isalpha((unsigned char)(*n)[0]) || (*n)[0] == '_') &&
                     strspn(*n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
                         strlen(*n);
        if (!valid)
            r = lint_add(c->L, c->file, t->env_required.line, LINT_ERR, "task.env-vars",
                         "\"%s\" in Environment variables required is not a variable name", *n);
        else if (!c->L->env_example)
            r = lint_add(c->L, c->file, t->env_required.line, LINT_ERR, "task.env-vars",
                         "%s is required but the project has no .env.example listing it", *n);
        else if (!strv_has(env_keys, *n))
            r = lint_add(c->L, c->file, t->env_required.line, LINT_ERR, "task.env-vars",
                         "%s is required but is not a key of %s", *n, c->L->env_example);
    }
    aa_strv_free(names);
    return r;
}

static bool
image_unpinned(const char *img)
{
    if (strchr(img, '@'))
        return false;
    const char *slash = strrchr(img, '/');
    const char *colon = strrchr(slash ? slash : img, ':');
    return !colon || strcmp(colon, ":latest") == 0;
}

static int
lint_task(struct aa_lint *L, const char *file, const char *stem, const struct aa_task *t,
          char *const *env_keys, long today)
{
    struct lint_ctx c = {.L = L, .file = file, .t = t, .fallback_line = t->h1_line ? t->h1_line : 1};
    bool filled;

    /* parser warnings "line N: msg" */
    for (size_t i = 0; i < t->n_warnings; i++) {
        unsigned ln = 0;
        int off = 0;
        const char *w = t->warnings[i];
        if (sscanf(w, "line %u: %n", &ln, &off) == 1 && off > 0)
            w += off;
        LINT_TRY(lint_add(L, file, ln, LINT_WARN, "task.syntax", "%s", w));
    }

    if (!t->id)
        LINT_TRY(lint_add(L, file, c.fallback_line, LINT_ERR, "task.id",
                          "no \"# ADM-NNN: Name\" heading with a valid task id"));
    else if (strcmp(t->id, stem) != 0)
        LINT_TRY(lint_add(L, file, t->h1_line, LINT_ERR, "task.id",
                          "heading id %s does not match the file name %s.md", t->id, stem));
    if (t->h1_line && !t->name.value)
        LINT_TRY(lint_add(L, file, t->h1_line, LINT_ERR, "task.name", "Task Name is not filled in"));

    LINT_TRY(lint_required(&c, &t->category, "Category", "task.category", LINT_ERR, &filled));
    if (filled && !aa_task_category_valid(t->category.value))
        LINT_TRY(lint_add(L, file, t->category.line, LINT_ERR, "task.category",
                          "Category \"%s\" is not one of migration, data-fix, maintenance, emergency, "
                          "analytics, backup", t->category.value));

    LINT_TRY(lint_required(&c, &t->author, "Author", "task.author", LINT_ERR, &filled));

    const char *status = NULL;
    LINT_TRY(lint_required(&c, &t->status, "Status", "task.status", LINT_ERR, &filled));
    if (filled) {
        static const char *const statuses[] = {"draft", "approved", "executed", "reverted"};
        for (size_t i = 0; i < AA_ARRAY_SIZE(statuses); i++)
            if (strcmp(t->status.value, statuses[i]) == 0)
                status = statuses[i];
        if (!status)
            LINT_TRY(lint_add(L, file, t->status.line, LINT_ERR, "task.status",
                              "Status \"%s\" is not one of draft, approved, executed, reverted",
                              t->status.value));
    }
    bool draft = status && strcmp(status, "draft") == 0;

    LINT_TRY(lint_dates(&c, today, status));

    LINT_TRY(lint_required(&c, &t->purpose, "Purpose", "task.purpose", LINT_ERR, &filled));
    LINT_TRY(lint_required(&c, &t->services, "Services affected", "task.scope", LINT_ERR, &filled));
    LINT_TRY(lint_required(&c, &t->data, "Data affected", "task.scope", LINT_ERR, &filled));
    LINT_TRY(lint_required(&c, &t->environments, "Environments", "task.environments", LINT_ERR, &filled));
    if (filled) {
        char **envs = aa_task_environments(t);
        if (!envs)
            return -ENOMEM;
        int r = 0;
        if (!envs[0])
            r = lint_add(L, file, t->environments.line, LINT_ERR, "task.environments",
                         "Environments lists no environment");
        for (char **e = envs; *e && r == 0; e++)
            if (strcmp(*e, "development") && strcmp(*e, "staging") && strcmp(*e, "production"))
                r = lint_add(L, file, t->environments.line, LINT_ERR, "task.environments",
                             "environment \"%s\" is not one of dev, staging, prod", *e);
        aa_strv_free(envs);
        LINT_TRY(r);
    }

    /* Approval: required for anything past draft (a draft may hold it already). */
    const struct aa_task_field *apf[] = {&t->reviewer, &t->authorization};
    const char *apl[] = {"Reviewer", "Authorization"};
    for (size_t i = 0; i < AA_ARRAY_SIZE(apf); i++) {
        if (draft && !apf[i]->value)
            continue;
        LINT_TRY(lint_required(&c, apf[i], apl[i], "task.approval", LINT_ERR, &filled));
    }
    if (t->reviewer.value && t->author.value && strcasecmp(t->reviewer.value, t->author.value) == 0)
        LINT_TRY(lint_add(L, file, t->reviewer.line, LINT_WARN, "task.approval",
                          "Reviewer is the Author (segregation of duties)"));

    if (t->command.line == 0)
        LINT_TRY(lint_add(L, file, c.fallback_line, LINT_ERR, "task.command",
                          "no Execution **Command**: fence"));
    else if (t->command.placeholder || !t->command.body || !t->command.body[0])
        LINT_TRY(lint_add(L, file, t->command.line, LINT_ERR, "task.command",
                          "Execution command is not filled in (template placeholder)"));

    LINT_TRY(lint_required(&c, &t->image, "Container image", "task.runtime", LINT_ERR, &filled));
    if (filled && image_unpinned(t->image.value))
        LINT_TRY(lint_add(L, file, t->image.line, LINT_WARN, "task.runtime",
                          "Container image \"%s\" is not pinned (no tag, or latest)", t->image.value));
    LINT_TRY(lint_required(&c, &t->env_required, "Environment variables required", "task.env-vars",
                           LINT_ERR, &filled));
    if (filled)
        LINT_TRY(lint_env(&c, env_keys));
    LINT_TRY(lint_required(&c, &t->duration, "Expected duration", "task.runtime", LINT_ERR, &filled));
    LINT_TRY(lint_required(&c, &t->resources, "Resource requirements", "task.runtime", LINT_ERR, &filled));

    LINT_TRY(lint_checklist(&c, &t->prechecks, "Pre-execution checks", 4, "task.prechecks"));
    LINT_TRY(lint_execution_log(&c, status));
    LINT_TRY(lint_rollback(&c));
    LINT_TRY(lint_checklist(&c, &t->postaudit, "Post-Execution Audit", 4, "task.postaudit"));
    return 0;
}

struct lint_doc {
    char *file;
    char *stem;
    bool parsed;
    struct aa_task t;
    bool in_catalog;
};

static int
lint_doc_filter(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return strncmp(d->d_name, "ADM-", 4) == 0 && n > 7 && strcmp(d->d_name + n - 3, ".md") == 0;
}

static bool
cell_placeholder(const char *s)
{
    return !s || !*s || strcmp(s, "...") == 0 || (s[0] == '{' && s[strlen(s) - 1] == '}');
}

static int
lint_catalog(struct aa_lint *L, struct lint_doc *docs, size_t ndocs)
{
    cleanup_free char *deflt = NULL;
    char **paths = NULL;
    int r = 0;
    if (L->aiwg_dir) {
        if (asprintf(&deflt, "%s/deployment/admin-processes.md", L->aiwg_dir) < 0)
            return -ENOMEM;
        r = aa_catalog_find(L->aiwg_dir, &paths);
    } else {
        r = aa_catalog_find(L->tasks_dir, &paths);
    }
    if (r < 0)
        return r;

    struct aa_catalog *cats = calloc(aa_strv_len(paths) + 1, sizeof(*cats));
    size_t ncats = 0;
    if (!cats) {
        aa_strv_free(paths);
        return -ENOMEM;
    }
    for (char **p = paths; *p && r == 0; p++) {
        char err[512];
        struct aa_catalog cat;
        int q = aa_catalog_load(*p, &cat, err, sizeof(err));
        if (q == -ENOMEM) {
            r = q;
            break;
        }
        if (q < 0) {
            r = lint_add(L, *p, 0, LINT_ERR, "catalog.read", "%s", err);
            continue;
        }
        if (!cat.heading_line) {
            aa_catalog_done(&cat);
            continue;
        }
        cats[ncats++] = cat;
        L->n_catalogs++;
        for (size_t i = 0; i < cat.n_issues && r == 0; i++)
            r = lint_add(L, *p, cat.issues[i].line, LINT_ERR, "catalog.syntax", "%s", cat.issues[i].msg);
    }

    if (r == 0 && ncats == 0 && ndocs > 0)
        r = lint_add(L, deflt ? deflt : L->tasks_dir, 0, LINT_ERR, "catalog.missing",
                     "no \"## Admin Task Catalog\" table (looked for %s and %s/**/admin-processes*.md)",
                     deflt ? deflt : "admin-processes*.md", L->aiwg_dir ? L->aiwg_dir : L->tasks_dir);

    /* rows: ids valid and unique, categories valid, a doc for each */
    for (size_t k = 0; k < ncats && r == 0; k++) {
        const struct aa_catalog *cat = &cats[k];
        for (size_t i = 0; i < cat->n_rows && r == 0; i++) {
            const struct aa_catalog_row *row = &cat->rows[i];
            L->n_rows++;
            if (!aa_task_id_valid(row->id)) {
                r = lint_add(L, cat->path, row->line, LINT_ERR, "catalog.id",
                             "Task ID \"%s\" is not ADM- followed by 3 or more digits", row->id);
                continue;
            }
            /* duplicate: an earlier row (this or an earlier catalog) with the same id */
            const struct aa_catalog_row *first = NULL;
            const char *first_file = NULL;
            for (size_t kk = 0; kk <= k && !first; kk++)
                for (size_t ii = 0; ii < cats[kk].n_rows && !(kk == k && ii >= i); ii++)
                    if (strcmp(cats[kk].rows[ii].id, row->id) == 0) {
                        first = &cats[kk].rows[ii];
                        first_file = cats[kk].path;
                        break;
                    }
            if (first) {
                r = lint_add(L, cat->path, row->line, LINT_ERR, "catalog.duplicate",
                             "%s appears twice in the catalog (first at %s:%u)", row->id, first_file,
                             first->line);
                continue;
            }
            if (cell_placeholder(row->name))
                r = lint_add(L, cat->path, row->line, LINT_ERR, "catalog.row",
                             "%s: Name is empty or a placeholder", row->id);
            if (r == 0 && !aa_task_category_valid(row->category))
                r = lint_add(L, cat->path, row->line, LINT_ERR, "catalog.category",
                             "%s: Category \"%s\" is not one of migration, data-fix, maintenance, "
                             "emergency, analytics, backup", row->id, row->category);
            const char *cells[] = {row->invoked_by, row->approval, row->rollback};
            const char *labels[] = {"Invoked by", "Approval", "Rollback"};
            for (size_t j = 0; j < AA_ARRAY_SIZE(cells) && r == 0; j++)
                if (cell_placeholder(cells[j]))
                    r = lint_add(L, cat->path, row->line, LINT_ERR, "catalog.row",
                                 "%s: %s is empty or a placeholder", row->id, labels[j]);
            if (r < 0)
                break;

            struct lint_doc *doc = NULL;
            for (size_t d = 0; d < ndocs; d++)
                if (strcmp(docs[d].stem, row->id) == 0)
                    doc = &docs[d];
            if (!doc) {
                r = lint_add(L, cat->path, row->line, LINT_ERR, "catalog.missing-doc",
                             "%s is in the catalog but %s/%s.md does not exist", row->id, L->tasks_dir,
                             row->id);
                continue;
            }
            doc->in_catalog = true;
            if (!doc->parsed)
                continue;
            const struct aa_task *t = &doc->t;
            if (t->category.value && aa_task_category_valid(row->category) &&
                strcmp(t->category.value, row->category) != 0)
                r = lint_add(L, doc->file, t->category.line, LINT_ERR, "catalog.category-mismatch",
                             "Category %s differs from the catalog's %s (%s:%u)", t->category.value,
                             row->category, cat->path, row->line);
            if (r == 0 && t->name.value && !cell_placeholder(row->name) &&
                strcmp(t->name.value, row->name) != 0)
                r = lint_add(L, doc->file, t->h1_line, LINT_WARN, "catalog.name-mismatch",
                             "Task Name \"%s\" differs from the catalog's \"%s\" (%s:%u)",
                             t->name.value, row->name, cat->path, row->line);
            if (r == 0 && row->status && !cell_placeholder(row->status) && t->status.value &&
                strncasecmp(row->status, t->status.value, strlen(t->status.value)) != 0 &&
                cat->has_status_column)
                r = lint_add(L, cat->path, row->line, LINT_WARN, "catalog.status-mismatch",
                             "%s: catalog Status \"%s\" differs from the document's %s", row->id,
                             row->status, t->status.value);
        }
    }

    /* docs without a row */
    for (size_t d = 0; d < ndocs && r == 0; d++) {
        if (docs[d].in_catalog || ncats == 0 || !aa_task_id_valid(docs[d].stem))
            continue;
        r = lint_add(L, docs[d].file, docs[d].parsed && docs[d].t.h1_line ? docs[d].t.h1_line : 1,
                     LINT_ERR, "catalog.missing-row", "%s has no row in the Admin Task Catalog (%s)",
                     docs[d].stem, cats[0].path);
    }

    for (size_t k = 0; k < ncats; k++)
        aa_catalog_done(&cats[k]);
    free(cats);
    aa_strv_free(paths);
    return r;
}

static int
lint_finding_cmp(const void *a, const void *b)
{
    const struct aa_lint_finding *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    /* discovery order among findings on one line: messages are not reordered */
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
aa_lint_dir(const char *dir, long today, struct aa_lint *L)
{
    memset(L, 0, sizeof(*L));
    if (today < 0)
        today = lint_today();
    cleanup_free char *root = NULL;
    int r = lint_resolve(dir, L, &root);
    if (r < 0) {
        aa_lint_done(L);
        return r;
    }

    char **env_keys = NULL;
    if (L->env_example) {
        r = aa_dotenv_keys(L->env_example, &env_keys);
        if (r == -ENOMEM) {
            aa_lint_done(L);
            return r;
        }
        if (r < 0) {
            r = lint_add(L, L->env_example, 0, LINT_ERR, "env-example.read", "cannot read: %s",
                         strerror(-r));
            free(L->env_example);
            L->env_example = NULL;
            if (r < 0) {
                aa_lint_done(L);
                return r;
            }
        }
    }

    struct dirent **ents = NULL;
    int nents = 0;
    if (is_dir(L->tasks_dir)) {
        nents = scandir(L->tasks_dir, &ents, lint_doc_filter, alphasort);
        if (nents < 0) {
            r = lint_add(L, L->tasks_dir, 0, LINT_ERR, "tasks.read", "cannot read: %s", strerror(errno));
            nents = 0;
        }
    } else {
        r = lint_add(L, L->tasks_dir, 0, LINT_ERR, "tasks.missing", "no task directory");
    }

    struct lint_doc *docs = calloc((size_t)nents + 1, sizeof(*docs));
    size_t ndocs = 0;
    if (!docs)
        r = -ENOMEM;
    for (int i = 0; i < nents && r >= 0; i++) {
        struct lint_doc *d = &docs[ndocs];
        d->file = path_join(L->tasks_dir, ents[i]->d_name);
        d->stem = strndup(ents[i]->d_name, strlen(ents[i]->d_name) - 3);
        if (!d->file || !d->stem) {
            free(d->file);
            free(d->stem);
            r = -ENOMEM;
            break;
        }
        ndocs++;
        if (!is_file(d->file))
            continue;
        L->n_tasks++;
        if (!aa_task_id_valid(d->stem)) {
            r = lint_add(L, d->file, 0, LINT_ERR, "task.file-name",
                         "file name %s is not ADM-NNN.md (ADM- and 3 or more digits)", ents[i]->d_name);
            if (r < 0)
                break;
        }
        char err[512];
        int q = aa_task_load(d->file, &d->t, err, sizeof(err));
        if (q == -ENOMEM) {
            r = q;
            break;
        }
        if (q < 0) {
            /* err is "<file>:<line>: msg" or "<file>: msg" */
            unsigned ln = 0;
            const char *msg = err;
            size_t fl = strlen(d->file);
            if (strncmp(err, d->file, fl) == 0 && err[fl] == ':') {
                msg = err + fl + 1;
                char *end = NULL;
                unsigned long v = strtoul(msg, &end, 10);
                if (end != msg && *end == ':') {
                    ln = (unsigned)v;
                    msg = end + 1;
                }
                while (*msg == ' ')
                    msg++;
            }
            r = lint_add(L, d->file, ln, LINT_ERR, "task.parse", "%s", msg[0] ? msg : strerror(-q));
            continue;
        }
        d->parsed = true;
        r = lint_task(L, d->file, d->stem, &d->t, env_keys, today);
    }
    for (int i = 0; i < nents; i++)
        free(ents[i]);
    free(ents);

    if (r >= 0)
        r = lint_catalog(L, docs, ndocs);
    if (r >= 0 && L->n_tasks == 0 && L->n_catalogs == 0 && is_dir(L->tasks_dir))
        r = lint_add(L, L->tasks_dir, 0, LINT_ERR, "tasks.none",
                     "no ADM-NNN.md task document and no Admin Task Catalog here: nothing to lint "
                     "(give the project root that holds .aiwg)");

    for (size_t i = 0; i < ndocs; i++) {
        if (docs[i].parsed)
            aa_task_done(&docs[i].t);
        free(docs[i].file);
        free(docs[i].stem);
    }
    free(docs);
    aa_strv_free(env_keys);
    if (r < 0) {
        aa_lint_done(L);
        return r;
    }
    if (L->n_findings > 1)
        qsort(L->findings, L->n_findings, sizeof(*L->findings), lint_finding_cmp);
    return 0;
}

/* ---- the verb --------------------------------------------------------------------------------- */

static void
lint_usage(FILE *f)
{
    fputs("Usage: admin-audit lint [DIR] [--format text|json]\n"
          "\n"
          "Validate the Admin Task Catalog and every task document.\n"
          "DIR is the project root (containing .aiwg), its .aiwg directory, or the tasks\n"
          "directory itself; default: the nearest directory with a .aiwg from the current\n"
          "directory upward.  The catalog is the \"## Admin Task Catalog\" table in\n"
          ".aiwg/deployment/admin-processes.md or any .aiwg/**/admin-processes*.md.\n"
          "\n"
          "  --format text   one finding per line: FILE:LINE: error|warning: MESSAGE [RULE] (default)\n"
          "  --format json   one JSON object with every finding\n"
          "\n"
          "Exit status: 0 clean, 1 findings, 64 usage.\n",
          f);
}

static int
lint_print_json(const struct aa_lint *L)
{
    struct json_object *o = json_object_new_object();
    struct json_object *arr = json_object_new_array();
    if (!o || !arr) {
        json_object_put(o);
        json_object_put(arr);
        return -ENOMEM;
    }
    size_t nerr = 0, nwarn = 0;
    json_object_object_add(o, "tasks_dir", json_object_new_string(L->tasks_dir));
    json_object_object_add(o, "tasks", json_object_new_int64((int64_t)L->n_tasks));
    json_object_object_add(o, "catalogs", json_object_new_int64((int64_t)L->n_catalogs));
    json_object_object_add(o, "catalog_rows", json_object_new_int64((int64_t)L->n_rows));
    for (size_t i = 0; i < L->n_findings; i++) {
        const struct aa_lint_finding *f = &L->findings[i];
        struct json_object *e = json_object_new_object();
        if (!e) {
            json_object_put(arr);
            json_object_put(o);
            return -ENOMEM;
        }
        json_object_object_add(e, "file", json_object_new_string(f->file));
        json_object_object_add(e, "line", json_object_new_int64(f->line));
        json_object_object_add(e, "severity", json_object_new_string(f->severity));
        json_object_object_add(e, "rule", json_object_new_string(f->rule));
        json_object_object_add(e, "message", json_object_new_string(f->message));
        json_object_array_add(arr, e);
        if (strcmp(f->severity, LINT_ERR) == 0)
            nerr++;
        else
            nwarn++;
    }
    json_object_object_add(o, "errors", json_object_new_int64((int64_t)nerr));
    json_object_object_add(o, "warnings", json_object_new_int64((int64_t)nwarn));
    json_object_object_add(o, "findings", arr);
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE);
    int r = s ? 0 : -ENOMEM;
    if (s && (fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF))
        r = -EIO;
    json_object_put(o);
    return r;
}

int
aa_cmd_lint(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    int c;
    optind = 0; /* reinitialise getopt: aa_cmd_lint may be called more than once (tests) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "text") == 0)
                json = false;
            else {
                aa_log("lint: --format must be text or json, not \"%s\"", optarg);
                return AA_EXIT_USAGE;
            }
            break;
        case 'h':
            lint_usage(stdout);
            return 0;
        default:
            aa_log("lint: unknown option %s (admin-audit lint --help)", argv[optind - 1]);
            return AA_EXIT_USAGE;
        }
    }
    const char *dir = NULL;
    if (optind < argc)
        dir = argv[optind++];
    /* allow options after DIR */
    while (optind < argc) {
        if (strcmp(argv[optind], "--format") == 0 && optind + 1 < argc) {
            const char *v = argv[optind + 1];
            if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0) {
                aa_log("lint: --format must be text or json, not \"%s\"", v);
                return AA_EXIT_USAGE;
            }
            json = strcmp(v, "json") == 0;
            optind += 2;
        } else if (strcmp(argv[optind], "--format=json") == 0 || strcmp(argv[optind], "--format=text") == 0) {
            json = strcmp(argv[optind], "--format=json") == 0;
            optind++;
        } else {
            aa_log("lint: unexpected argument \"%s\" (one DIR at most; admin-audit lint --help)",
                   argv[optind]);
            return AA_EXIT_USAGE;
        }
    }

    struct aa_lint L;
    int r = aa_lint_dir(dir, -1, &L);
    if (r == -ENOENT || r == -ENOTDIR) {
        if (dir)
            aa_log("lint: %s: %s; give a project root (with .aiwg) or a tasks directory", dir,
                   r == -ENOENT ? "no such directory" : "not a directory");
        else
            aa_log("lint: no .aiwg directory in the current directory or above it; give DIR");
        return AA_EXIT_USAGE;
    }
    if (r < 0) {
        aa_log_errno(r, "lint: %s", strerror(-r));
        return 1;
    }

    if (json) {
        r = lint_print_json(&L);
    } else {
        for (size_t i = 0; i < L.n_findings; i++) {
            const struct aa_lint_finding *f = &L.findings[i];
            if (f->line)
                printf("%s:%u: %s: %s [%s]\n", f->file, f->line, f->severity, f->message, f->rule);
            else
                printf("%s: %s: %s [%s]\n", f->file, f->severity, f->message, f->rule);
        }
        if (fflush(stdout) == EOF)
            r = -EIO;
        if (L.n_findings)
            aa_log("lint: %zu finding%s in %zu task document%s and %zu catalog row%s", L.n_findings,
                   L.n_findings == 1 ? "" : "s", L.n_tasks, L.n_tasks == 1 ? "" : "s", L.n_rows,
                   L.n_rows == 1 ? "" : "s");
    }
    size_t n = L.n_findings;
    aa_lint_done(&L);
    if (r < 0) {
        aa_log_errno(r, "lint: writing the result: %s", strerror(-r));
        return 1;
    }
    return n ? 1 : 0;
}
