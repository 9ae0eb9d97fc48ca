/* The gate (contract §4): every rule of the task document evaluated into a
 * named check with a status, a detail saying what was found, and for a
 * failure a fix saying what would satisfy it.  Values of environment
 * variables never appear in a detail. */
#include "gate.h"

#include "config.h"
#include "taskdoc.h"
#include "util.h"

#include <ctype.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- the check list ----------------------------------------------------------------------- */

int
aa_checks_add(struct aa_checks *c, const char *name, enum aa_check_status st, const char *detail,
              const char *fix)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 24;
        struct aa_check *nv = realloc(c->v, ncap * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        c->v = nv;
        c->cap = ncap;
    }
    struct aa_check ck = { .status = st };
    ck.name = strdup(name);
    ck.detail = strdup(detail ? detail : "");
    ck.fix = fix ? strdup(fix) : NULL;
    if (!ck.name || !ck.detail || (fix && !ck.fix)) {
        free(ck.name);
        free(ck.detail);
        free(ck.fix);
        return -ENOMEM;
    }
    c->v[c->n++] = ck;
    return 0;
}

const struct aa_check *
aa_checks_first_fail(const struct aa_checks *c)
{
    for (size_t i = 0; c && i < c->n; i++)
        if (c->v[i].status == AA_CHECK_FAIL)
            return &c->v[i];
    return NULL;
}

const char *
aa_check_status_name(enum aa_check_status st)
{
    switch (st) {
    case AA_CHECK_PASS:
        return "pass";
    case AA_CHECK_WARN:
        return "warn";
    case AA_CHECK_FAIL:
        return "fail";
    case AA_CHECK_SKIP:
        return "skip";
    }
    return "unknown";
}

void
aa_checks_done(struct aa_checks *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].name);
        free(c->v[i].detail);
        free(c->v[i].fix);
    }
    free(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
}

static int
addf(struct aa_checks *c, const char *name, enum aa_check_status st, const char *fix,
     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
addf(struct aa_checks *c, const char *name, enum aa_check_status st, const char *fix,
     const char *fmt, ...)
{
    char *detail;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&detail, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    int r = aa_checks_add(c, name, st, detail, fix);
    free(detail);
    return r;
}

/* ---- environment identity ----------------------------------------------------------------- */

char *
aa_env_canonical(const char *name)
{
    if (!name)
        return NULL;
    while (isspace((unsigned char)*name))
        name++;
    size_t n = strlen(name);
    while (n > 0 && isspace((unsigned char)name[n - 1]))
        n--;
    char *s = strndup(name, n);
    if (!s)
        return NULL;
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (strcmp(s, "dev") == 0) {
        free(s);
        return strdup("development");
    }
    if (strcmp(s, "prod") == 0) {
        free(s);
        return strdup("production");
    }
    return s;
}

static const char *
nonempty_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

struct env_ident {
    char *env;          /* canonical, owned, NULL when unidentified */
    const char *source; /* "config" / "APP_ENV" */
    bool untrusted_ignored;
    bool conflict;
    char msg[512];
};

static int
env_identify(const struct aa_config *cfg, struct env_ident *id)
{
    memset(id, 0, sizeof *id);
    const char *cfg_env = cfg && cfg->environment && *cfg->environment ? cfg->environment : NULL;
    const char *cfg_path = cfg && cfg->path ? cfg->path : AA_DEFAULT_CONFIG;
    const char *app_env = nonempty_env("APP_ENV");
    cleanup_free char *c_cfg = NULL, *c_app = NULL;
    if (cfg_env && !cfg->trusted) {
        id->untrusted_ignored = true;
        cfg_env = NULL;
    }
    if (cfg_env && !(c_cfg = aa_env_canonical(cfg_env)))
        return -ENOMEM;
    if (app_env && !(c_app = aa_env_canonical(app_env)))
        return -ENOMEM;
    if (c_cfg && c_app && strcmp(c_cfg, c_app) != 0) {
        id->conflict = true;
        (void)snprintf(id->msg, sizeof id->msg, "config %s says environment %s but APP_ENV is %s",
                       cfg_path, c_cfg, c_app);
        return 0;
    }
    if (c_cfg) {
        id->env = AA_TAKE_PTR(c_cfg);
        id->source = "config";
    } else if (c_app) {
        id->env = AA_TAKE_PTR(c_app);
        id->source = "APP_ENV";
    }
    return 0;
}

int
aa_gate_current_environment(const struct aa_config *cfg, char **ret_env, char *err, size_t errlen)
{
    struct env_ident id;
    *ret_env = NULL;
    int r = env_identify(cfg, &id);
    if (r < 0)
        return r;
    if (id.conflict) {
        if (err && errlen)
            (void)snprintf(err, errlen, "%s", id.msg);
        return -EINVAL;
    }
    *ret_env = id.env;
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static bool
strv_contains(char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

/* "Alice Smith/engineering lead" -> "Alice Smith". Owned. */
char *
aa_person_name(const char *s)
{
    size_t n = strcspn(s, "/(");
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*s))
        s++, n--;
    return strndup(s, n);
}

static bool
env_name_valid(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

struct list {
    FILE *f;
    char *p;
    size_t len;
    size_t n;
};

static int
list_open(struct list *l)
{
    memset(l, 0, sizeof *l);
    l->f = open_memstream(&l->p, &l->len);
    return l->f ? 0 : -ENOMEM;
}

static void
list_add(struct list *l, const char *s)
{
    if (l->n++)
        fputs(", ", l->f);
    fputs(s, l->f);
}

/* Closes the stream; l->p stays (free it). */
static int
list_close(struct list *l)
{
    if (!l->f)
        return 0;
    int r = fclose(l->f);
    l->f = NULL;
    return r == 0 && l->p ? 0 : -ENOMEM;
}

static void
list_free(struct list *l)
{
    if (l->f)
        (void)fclose(l->f);
    free(l->p);
    memset(l, 0, sizeof *l);
}

static long
today(const struct aa_gate_input *in)
{
    if (in->today_days)
        return in->today_days;
    return (long)(time(NULL) / 86400);
}

/* ---- rules -------------------------------------------------------------------------------- */

static int
check_task_id(const struct aa_gate_input *in, struct aa_checks *out)
{
    const struct aa_task *t = in->task;
    const char *want = in->task_id;
    cleanup_free char *stem = NULL;
    if (in->task_path) {
        const char *b = strrchr(in->task_path, '/');
        b = b ? b + 1 : in->task_path;
        size_t n = strlen(b);
        if (n > 3 && strcmp(b + n - 3, ".md") == 0)
            n -= 3;
        stem = strndup(b, n);
        if (!stem)
            return -ENOMEM;
    }
    if (!t->id)
        return addf(out, "task.id", AA_CHECK_FAIL, "start the document with \"# ADM-NNN: name\"",
                    "H1 on line %u carries no task id ADM-NNN", t->h1_line);
    if (want && strcmp(t->id, want) != 0)
        return addf(out, "task.id", AA_CHECK_FAIL,
                    "run the task the document describes, or correct its H1",
                    "H1 id %s (line %u) differs from the requested task %s", t->id, t->h1_line,
                    want);
    if (stem && strcmp(stem, t->id) != 0)
        return addf(out, "task.id", AA_CHECK_FAIL, "name the file after the H1 id",
                    "H1 id %s differs from the file name %s.md", t->id, stem);
    return addf(out, "task.id", AA_CHECK_PASS, NULL, "%s", t->id);
}

static int
check_category(const struct aa_gate_input *in, struct aa_checks *out)
{
    const struct aa_task_field *f = &in->task->category;
    static const char fix[] = "set **Category**: to one of migration, data-fix, maintenance, "
                              "emergency, analytics, backup";
    if (!f->value)
        return addf(out, "task.category", AA_CHECK_FAIL, fix, "Category is %s",
                    f->line ? "not filled" : "missing");
    if (!aa_task_category_valid(f->value))
        return addf(out, "task.category", AA_CHECK_FAIL, fix,
                    "Category \"%.64s\" (line %u) is not one of the six values", f->value, f->line);
    return addf(out, "task.category", AA_CHECK_PASS, NULL, "%s", f->value);
}

static int
check_status(const struct aa_gate_input *in, struct aa_checks *out)
{
    const struct aa_task_field *f = &in->task->status;
    const char *name = "task.status";
    if (!f->value)
        return addf(out, name, AA_CHECK_FAIL, "set **Status**: approved after review", "Status is %s",
                    f->line ? "not filled" : "missing");
    const char *s = f->value;
    if (in->mode == AA_GATE_ROLLBACK) {
        if (strcasecmp(s, "executed") == 0)
            return addf(out, name, AA_CHECK_PASS, NULL, "Status is executed");
        return addf(out, name, AA_CHECK_FAIL, "only an executed task can be rolled back",
                    "Status is %.32s, rollback needs executed", s);
    }
    if (strcasecmp(s, "approved") == 0)
        return addf(out, name, AA_CHECK_PASS, NULL, "Status is approved");
    if (strcasecmp(s, "executed") == 0) {
        bool reason = in->rerun_reason && *in->rerun_reason &&
                      strspn(in->rerun_reason, " \t\n") < strlen(in->rerun_reason);
        if (in->rerun && reason)
            return addf(out, name, AA_CHECK_PASS, NULL, "Status is executed; rerun requested");
        if (in->rerun)
            return addf(out, name, AA_CHECK_FAIL, "give --reason TEXT with --rerun",
                        "Status is executed and --rerun has no --reason");
        return addf(out, name, AA_CHECK_FAIL, "pass --rerun --reason TEXT to run it again",
                    "Status is executed: the task already ran");
    }
    if (strcasecmp(s, "draft") == 0)
        return addf(out, name, AA_CHECK_FAIL,
                    "have the task reviewed and set **Status**: approved",
                    "Status is draft (line %u)", f->line);
    if (strcasecmp(s, "reverted") == 0)
        return addf(out, name, AA_CHECK_FAIL,
                    "file a new task (or review this one again and set **Status**: approved)",
                    "Status is reverted (line %u)", f->line);
    return addf(out, name, AA_CHECK_FAIL, "set **Status**: to draft, approved, executed or reverted",
                "Status \"%.32s\" (line %u) is not a known status", s, f->line);
}

static int
check_approval(const struct aa_gate_input *in, struct aa_checks *out)
{
    const struct aa_task *t = in->task;
    int r;
    if (t->reviewer.value)
        r = addf(out, "approval.reviewer", AA_CHECK_PASS, NULL, "Reviewer: %s", t->reviewer.value);
    else
        r = addf(out, "approval.reviewer", AA_CHECK_FAIL,
                 "fill \"- Reviewer: name/role\" under ## Approval", "Reviewer is %s",
                 t->reviewer.line ? "not filled" : "missing");
    if (r < 0)
        return r;

    /* approved at */
    const char *an = "approval.approved_at";
    long days, created;
    long now = today(in);
    if (!t->approved_at.value)
        r = addf(out, an, AA_CHECK_FAIL, "fill \"- Approved at: YYYY-MM-DD\" under ## Approval",
                 "Approved at is %s", t->approved_at.line ? "not filled" : "missing");
    else if (aa_parse_date(t->approved_at.value, &days) < 0)
        r = addf(out, an, AA_CHECK_FAIL, "write the approval date as a real YYYY-MM-DD date",
                 "Approved at \"%.32s\" (line %u) is not a real date", t->approved_at.value,
                 t->approved_at.line);
    else if (days > now)
        r = addf(out, an, AA_CHECK_FAIL, "an approval cannot be dated in the future",
                 "Approved at %s is in the future", t->approved_at.value);
    else if (t->created.value && aa_parse_date(t->created.value, &created) == 0 && days < created)
        r = addf(out, an, AA_CHECK_FAIL, "the approval must come on or after the Created date",
                 "Approved at %s is before Created %s", t->approved_at.value, t->created.value);
    else if (!t->created.value || aa_parse_date(t->created.value, &created) < 0)
        r = addf(out, an, AA_CHECK_WARN, NULL, "Approved at %s; Created is %s, not compared",
                 t->approved_at.value, t->created.value ? "not a real date" : "not filled");
    else
        r = addf(out, an, AA_CHECK_PASS, NULL, "Approved at %s", t->approved_at.value);
    if (r < 0)
        return r;

    if (t->authorization.value)
        r = addf(out, "approval.authorization", AA_CHECK_PASS, NULL, "Authorization: %s",
                 t->authorization.value);
    else
        r = addf(out, "approval.authorization", AA_CHECK_FAIL,
                 "fill \"- Authorization: ticket / PR / ADR\" under ## Approval",
                 "Authorization is %s", t->authorization.line ? "not filled" : "missing");
    if (r < 0)
        return r;

    /* segregation of duties */
    const char *sn = "approval.segregation";
    if (!t->reviewer.value)
        return addf(out, sn, AA_CHECK_SKIP, NULL, "no Reviewer to compare");
    cleanup_free char *rev = aa_person_name(t->reviewer.value);
    if (!rev)
        return -ENOMEM;
    if (!in->operator_name || !*in->operator_name)
        return addf(out, sn, AA_CHECK_WARN, NULL, "operator unknown: Reviewer %s not compared", rev);
    if (strcasecmp(rev, in->operator_name) == 0)
        return addf(out, sn, AA_CHECK_FAIL,
                    "someone other than the operator must review and approve the task",
                    "Reviewer %s is the operator", rev);
    if (t->author.value) {
        cleanup_free char *author = aa_person_name(t->author.value);
        if (!author)
            return -ENOMEM;
        if (*author && strcasecmp(author, rev) == 0)
            return addf(out, sn, AA_CHECK_WARN, NULL,
                        "Reviewer %s is also the Author (a separate reviewer is recommended)", rev);
    }
    return addf(out, sn, AA_CHECK_PASS, NULL, "Reviewer %s is not the operator %s", rev,
                in->operator_name);
}

static int
check_environment(const struct aa_gate_input *in, const struct env_ident *id, struct aa_checks *out)
{
    const struct aa_task *t = in->task;
    char **envs = t ? aa_task_environments(t) : NULL;
    if (t && !envs)
        return -ENOMEM;
    bool dev_scope = strv_contains(envs, "development");
    const char *cfg_path = in->config && in->config->path ? in->config->path : AA_DEFAULT_CONFIG;
    int r;
    static const char set_fix[] = "set APP_ENV (or `environment` in a root-owned config)";

    /* env.identity */
    if (id->conflict)
        r = addf(out, "env.identity", AA_CHECK_FAIL,
                 "make APP_ENV agree with the config's environment (or unset it)", "%s", id->msg);
    else if (!id->env && !dev_scope)
        r = addf(out, "env.identity", AA_CHECK_FAIL, set_fix,
                 "no environment identified (no trusted config environment, no APP_ENV)%s: an "
                 "unidentified machine is not a production environment",
                 id->untrusted_ignored ? "; the untrusted config's environment is ignored" : "");
    else if (id->untrusted_ignored)
        r = addf(out, "env.identity", AA_CHECK_WARN, NULL,
                 "config %s sets environment but is not owned by root or is writable by others: "
                 "ignored; %s%s",
                 cfg_path, id->env ? "environment from APP_ENV: " : "unidentified, treated as ",
                 id->env ? id->env : "development");
    else if (!id->env)
        r = addf(out, "env.identity", AA_CHECK_WARN, NULL,
                 "no environment identified; the task is in scope for dev, treated as development");
    else
        r = addf(out, "env.identity", AA_CHECK_PASS, NULL, "%s (from %s%s%s)", id->env,
                 id->source, strcmp(id->source, "config") == 0 ? " " : "",
                 strcmp(id->source, "config") == 0 ? cfg_path : "");
    if (r < 0)
        goto out;

    /* env.scope */
    if (!t)
        r = addf(out, "env.scope", AA_CHECK_SKIP, NULL, "no task document");
    else if (!t->environments.value)
        r = addf(out, "env.scope", AA_CHECK_FAIL,
                 "list the environments in scope: \"- Environments: dev, staging, prod\"",
                 "Environments is %s", t->environments.line ? "not filled" : "missing");
    else if (id->conflict)
        r = addf(out, "env.scope", AA_CHECK_SKIP, NULL, "current environment ambiguous");
    else if (!id->env && !dev_scope)
        r = addf(out, "env.scope", AA_CHECK_FAIL, set_fix,
                 "current environment unknown; Environments: %s", t->environments.value);
    else if (!id->env || strv_contains(envs, id->env))
        r = addf(out, "env.scope", AA_CHECK_PASS, NULL, "%s is in scope (%s)",
                 id->env ? id->env : "development", t->environments.value);
    else
        r = addf(out, "env.scope", AA_CHECK_FAIL,
                 "run it in an environment the document lists, or extend Environments (reviewed)",
                 "%s is not in Environments (%s)", id->env, t->environments.value);
out:
    aa_strv_free(envs);
    return r;
}

/* Keys of a .env.example: "NAME=...", "export NAME=...", # comments. */
int
aa_dotenv_keys(const char *path, char ***ret)
{
    cleanup_free char *buf = NULL;
    int r = aa_read_file(path, 4 * 1024 * 1024, &buf, NULL);
    if (r < 0)
        return r;
    char **v = calloc(1, sizeof *v);
    size_t n = 0;
    if (!v)
        return -ENOMEM;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *s = aa_strstrip(line);
        if (!*s || *s == '#')
            continue;
        if (strncmp(s, "export", 6) == 0 && (s[6] == ' ' || s[6] == '\t'))
            s = aa_strstrip(s + 7);
        char *eq = strchr(s, '=');
        if (!eq)
            continue;
        *eq = '\0';
        s = aa_strstrip(s);
        if (((n + 1) & n) == 0) { /* n + 1 is a power of two: double */
            char **nv = realloc(v, 2 * (n + 1) * sizeof *nv);
            if (!nv) {
                aa_strv_free(v);
                return -ENOMEM;
            }
            v = nv;
        }
        v[n] = strdup(s);
        if (!v[n]) {
            aa_strv_free(v);
            return -ENOMEM;
        }
        v[++n] = NULL;
    }
    *ret = v;
    return 0;
}

static int
check_dotenv_and_vars(const struct aa_gate_input *in, struct aa_checks *out)
{
    const struct aa_task *t = in->task;
    char **names = aa_task_env_names(t);
    char **keys = NULL;
    cleanup_free char *path = NULL;
    struct list missing = { 0 }, unset = { 0 }, invalid = { 0 }, set = { 0 };
    int r;
    if (!names)
        return -ENOMEM;
    size_t nn = aa_strv_len(names);

    /* env.dotenv */
    if (!in->project_dir) {
        r = addf(out, "env.dotenv", AA_CHECK_SKIP, NULL, "no project directory");
    } else if (asprintf(&path, "%s/.env.example", in->project_dir) < 0) {
        path = NULL;
        r = -ENOMEM;
    } else if ((r = aa_dotenv_keys(path, &keys)) == -ENOENT) {
        r = addf(out, "env.dotenv", AA_CHECK_SKIP, NULL, "no .env.example in %s", in->project_dir);
    } else if (r < 0) {
        r = addf(out, "env.dotenv", AA_CHECK_FAIL, "make .env.example readable",
                 "cannot read %s: %s", path, strerror(-r));
    } else if ((r = list_open(&missing)) == 0) {
        for (size_t i = 0; i < nn; i++)
            if (!strv_contains(keys, names[i]))
                list_add(&missing, names[i]);
        if ((r = list_close(&missing)) == 0) {
            if (missing.n)
                r = addf(out, "env.dotenv", AA_CHECK_FAIL,
                         "add NAME= lines for them to .env.example, or drop them from the task",
                         "not in %s: %s", path, missing.p);
            else
                r = addf(out, "env.dotenv", AA_CHECK_PASS, NULL, "%zu required name%s in %s", nn,
                         nn == 1 ? "" : "s", path);
        }
    }
    if (r < 0)
        goto out;

    /* env.vars */
    if (!t->env_required.value) {
        r = addf(out, "env.vars", AA_CHECK_WARN, NULL,
                 "Environment variables required is %s (write `none` when no variable is needed)",
                 t->env_required.line ? "not filled" : "missing");
        goto out;
    }
    if ((r = list_open(&unset)) < 0 || (r = list_open(&invalid)) < 0 || (r = list_open(&set)) < 0)
        goto out;
    for (size_t i = 0; i < nn; i++) {
        if (!env_name_valid(names[i]))
            list_add(&invalid, names[i]);
        else if (!nonempty_env(names[i]))
            list_add(&unset, names[i]);
        else
            list_add(&set, names[i]);
    }
    size_t n_invalid = invalid.n, n_unset = unset.n;
    if ((r = list_close(&unset)) < 0 || (r = list_close(&invalid)) < 0 || (r = list_close(&set)) < 0)
        goto out;
    if (n_invalid)
        r = addf(out, "env.vars", AA_CHECK_FAIL,
                 "list variable names only, separated by commas", "not variable names: %.200s",
                 invalid.p);
    else if (n_unset)
        r = addf(out, "env.vars", AA_CHECK_FAIL, "export them (non-empty) before the run",
                 "unset or empty: %s", unset.p);
    else if (nn == 0)
        r = addf(out, "env.vars", AA_CHECK_PASS, NULL, "no variables required");
    else
        r = addf(out, "env.vars", AA_CHECK_PASS, NULL, "set: %s", set.p);
out:
    list_free(&missing);
    list_free(&unset);
    list_free(&invalid);
    list_free(&set);
    aa_strv_free(names);
    aa_strv_free(keys);
    return r;
}

static bool
image_mutable(const char *img)
{
    if (strchr(img, '@'))
        return false;
    const char *last = strrchr(img, '/');
    last = last ? last + 1 : img;
    const char *colon = strchr(last, ':');
    return !colon || strcmp(colon + 1, "latest") == 0;
}

static int
check_image(const struct aa_gate_input *in, struct aa_checks *out)
{
    const struct aa_task_field *f = &in->task->image;
    const char *var = in->config && in->config->image_ref_env && *in->config->image_ref_env
                          ? in->config->image_ref_env
                          : "IMAGE_REF";
    const char *n = "env.image";
    if (!f->value)
        return addf(out, n, AA_CHECK_FAIL,
                    "fill \"- Container image:\" with the image reference (or `none` when the task "
                    "runs outside a container)",
                    "Container image is %s", f->line ? "not filled" : "missing");
    if (strcasecmp(f->value, "none") == 0 || strcasecmp(f->value, "n/a") == 0)
        return addf(out, n, AA_CHECK_SKIP, NULL, "Container image: %s", f->value);
    const char *run = nonempty_env(var);
    if (!run)
        return addf(out, n, AA_CHECK_FAIL, "the platform must export the running image reference",
                    "%s is not set: the running artifact's image is unknown", var);
    const char *doc_digest = strchr(f->value, '@');
    const char *run_digest = strchr(run, '@');
    if (doc_digest) {
        if (run_digest && strcmp(doc_digest, run_digest) == 0)
            return addf(out, n, AA_CHECK_PASS, NULL, "running image digest %.100s matches",
                        run_digest + 1);
        return addf(out, n, AA_CHECK_FAIL, "run the task in the image the document names",
                    "running image %.200s (%s) does not carry the documented digest %.100s", run,
                    var, doc_digest + 1);
    }
    size_t rn = run_digest ? (size_t)(run_digest - run) : strlen(run);
    if (strlen(f->value) == rn && strncmp(f->value, run, rn) == 0) {
        if (image_mutable(f->value))
            return addf(out, n, AA_CHECK_WARN, NULL,
                        "running image matches %s, but the tag is mutable (pin a digest)",
                        f->value);
        return addf(out, n, AA_CHECK_PASS, NULL, "running image %.200s matches", run);
    }
    return addf(out, n, AA_CHECK_FAIL, "run the task in the image the document names",
                "running image %.200s (%s) differs from the documented %.200s", run, var, f->value);
}

/* "512Mi" -> bytes; "0.5 CPU" -> cpus.  Returns 1 memory, 2 cpu, 0 unparsable. */
static int
parse_resource(const char *part, double *ret)
{
    char *end;
    double v = strtod(part, &end);
    if (end == part || !(v >= 0) || v > 1e18)
        return 0;
    while (*end == ' ' || *end == '\t')
        end++;
    char unit[32];
    size_t ul = strcspn(end, " \t");
    if (ul >= sizeof unit)
        return 0;
    memcpy(unit, end, ul);
    unit[ul] = '\0';
    const char *tail = end + ul;
    while (*tail == ' ' || *tail == '\t')
        tail++;
    static const struct {
        const char *u;
        double mul;
    } mem[] = {
        { "Ki", 1024.0 },     { "KiB", 1024.0 },     { "Mi", 1048576.0 },     { "MiB", 1048576.0 },
        { "Gi", 1073741824.0 }, { "GiB", 1073741824.0 }, { "Ti", 1099511627776.0 },
        { "K", 1e3 },         { "KB", 1e3 },         { "M", 1e6 },            { "MB", 1e6 },
        { "G", 1e9 },         { "GB", 1e9 },         { "T", 1e12 },           { "TB", 1e12 },
    };
    for (size_t i = 0; i < AA_ARRAY_SIZE(mem); i++)
        if (strcasecmp(unit, mem[i].u) == 0 &&
            (!*tail || strcasecmp(tail, "memory") == 0 || strcasecmp(tail, "RAM") == 0)) {
            *ret = v * mem[i].mul;
            return 1;
        }
    static const char *const cpu[] = { "CPU", "CPUs", "vCPU", "vCPUs", "core", "cores" };
    for (size_t i = 0; i < AA_ARRAY_SIZE(cpu); i++)
        if (strcasecmp(unit, cpu[i]) == 0 && !*tail) {
            *ret = v;
            return 2;
        }
    /* millicores "500m" (optionally followed by CPU) */
    if (strcmp(unit, "m") == 0 && (!*tail || strcasecmp(tail, "CPU") == 0)) {
        *ret = v / 1000.0;
        return 2;
    }
    return 0;
}

static long long
mem_available(void)
{
    cleanup_free char *buf = NULL;
    if (aa_read_file("/proc/meminfo", 1 << 20, &buf, NULL) < 0)
        return -1;
    const char *m = strstr(buf, "MemAvailable:");
    if (!m)
        return -1;
    long long kb = strtoll(m + strlen("MemAvailable:"), NULL, 10);
    return kb * 1024;
}

static long
cpus_online(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
    return sysconf(_SC_NPROCESSORS_ONLN);
}

static int
check_resources(const struct aa_gate_input *in, struct aa_checks *out)
{
    const struct aa_task_field *f = &in->task->resources;
    const char *n = "env.resources";
    if (!f->value)
        return addf(out, n, AA_CHECK_WARN, NULL, "Resource requirements is %s: nothing to check",
                    f->line ? "not filled" : "missing");
    cleanup_free char *copy = strdup(f->value);
    if (!copy)
        return -ENOMEM;
    double need_mem = -1, need_cpu = -1;
    char *save = NULL;
    for (char *part = strtok_r(copy, ",;", &save); part; part = strtok_r(NULL, ",;", &save)) {
        part = aa_strstrip(part);
        if (!*part)
            continue;
        double v;
        int k = parse_resource(part, &v);
        if (k == 1)
            need_mem = v;
        else if (k == 2)
            need_cpu = v;
        else
            return addf(out, n, AA_CHECK_WARN, NULL,
                        "cannot parse \"%.64s\" in Resource requirements (e.g. \"512Mi, 0.5 CPU\")",
                        part);
    }
    long long avail = mem_available();
    long cpus = cpus_online();
    if (need_mem >= 0 && avail >= 0 && need_mem > (double)avail)
        return addf(out, n, AA_CHECK_FAIL, "run where the documented memory is available",
                    "needs %.0f MiB of memory, %lld MiB available", need_mem / 1048576.0,
                    avail / 1048576);
    if (need_cpu >= 0 && cpus > 0 && need_cpu > (double)cpus)
        return addf(out, n, AA_CHECK_FAIL, "run where the documented CPUs are available",
                    "needs %g CPU, %ld online", need_cpu, cpus);
    if (need_mem < 0 && need_cpu < 0)
        return addf(out, n, AA_CHECK_WARN, NULL, "no memory or CPU requirement found in \"%.64s\"",
                    f->value);
    return addf(out, n, AA_CHECK_PASS, NULL, "%s (available: %lld MiB, %ld CPU)", f->value,
                avail >= 0 ? avail / 1048576 : -1, cpus);
}

static int
check_prechecks(const struct aa_gate_input *in, struct aa_checks *out)
{
    const struct aa_task_checklist *cl = &in->task->prechecks;
    if (cl->n == 0)
        return addf(out, "prechecks", AA_CHECK_FAIL,
                    "add the **Pre-execution checks**: checklist under ## Execution",
                    "no Pre-execution checks%s", cl->line ? " listed" : " section");
    struct list l;
    int r = list_open(&l);
    if (r < 0)
        return r;
    for (size_t i = 0; i < cl->n; i++)
        if (!cl->items[i].checked) {
            char tmp[160];
            (void)snprintf(tmp, sizeof tmp, "\"%.120s\" (line %u)", cl->items[i].text,
                           cl->items[i].line);
            list_add(&l, tmp);
        }
    size_t unticked = l.n;
    if ((r = list_close(&l)) == 0) {
        if (unticked)
            r = addf(out, "prechecks", AA_CHECK_FAIL,
                     "do each check and tick it (- [x]), or mark it `- [x] ... N/A: reason`",
                     "%zu of %zu unticked: %s", unticked, cl->n, l.p);
        else
            r = addf(out, "prechecks", AA_CHECK_PASS, NULL, "%zu of %zu ticked", cl->n, cl->n);
    }
    list_free(&l);
    return r;
}

static int
check_command(const struct aa_gate_input *in, struct aa_checks *out)
{
    const struct aa_task *t = in->task;
    const char *n = "command.match";
    bool rb = in->mode == AA_GATE_ROLLBACK;
    const struct aa_task_fence *f = rb ? &t->rollback : &t->command;
    const char *sec = rb ? "## Rollback" : "## Execution";

    if (rb && !f->body && t->rollback_adr.value)
        return addf(out, n, AA_CHECK_FAIL, "rollback is impossible by decision; see the ADR",
                    "no rollback command: %.200s (line %u)", t->rollback_adr.value,
                    t->rollback_adr.line);
    if (!f->body) {
        char fix[128];
        (void)snprintf(fix, sizeof fix, "write the exact command in a ```bash fence after **Command**: under %s", sec);
        return addf(out, n, AA_CHECK_FAIL, fix, "documented command under %s is %s", sec,
                    f->line ? "not filled" : "missing");
    }
    if (!in->command || rb)
        return addf(out, n, AA_CHECK_PASS, NULL,
                    "the documented block (line %u) will be run by %s", f->line,
                    f->lang && strcmp(f->lang, "bash") == 0 ? "bash -c" : "/bin/sh -c");

    char **doc = NULL;
    int r = aa_shell_split(f->body, &doc);
    if (r == -ENOMEM)
        return r;
    char detail[512] = "";
    if (r < 0) {
        (void)snprintf(detail, sizeof detail,
                       "the documented command (line %u) has unbalanced quotes", f->line);
    } else {
        size_t i = 0;
        for (; doc[i] && in->command[i]; i++)
            if (strcmp(doc[i], in->command[i]) != 0)
                break;
        size_t nd = aa_strv_len(doc), nc = aa_strv_len(in->command);
        if (!doc[i] && !in->command[i]) {
            aa_strv_free(doc);
            return addf(out, n, AA_CHECK_PASS, NULL,
                        "COMMAND equals the documented command (%zu words)", nd);
        }
        if (i < nd && i < nc)
            (void)snprintf(detail, sizeof detail,
                           "COMMAND differs from the documented command at word %zu (documented "
                           "\"%.80s\")",
                           i + 1, doc[i]);
        else
            (void)snprintf(detail, sizeof detail,
                           "COMMAND has %zu words, the documented command %zu", nc, nd);
    }
    aa_strv_free(doc);
    if (in->deviation)
        return addf(out, n, AA_CHECK_WARN, NULL, "%s; deviation recorded: %.200s", detail,
                    in->deviation);
    return aa_checks_add(out, n, AA_CHECK_FAIL, detail,
                         "run without COMMAND (the documented block runs), or give --deviation TEXT");
}

static int
check_operator(const struct aa_gate_input *in, const struct env_ident *id, struct aa_checks *out)
{
    const char *who = in->operator_name && *in->operator_name ? in->operator_name : "unknown";
    const char *src = in->identity_source ? in->identity_source : "unknown";
    if (in->identity_anonymous_root && id->env && strcmp(id->env, "production") == 0)
        return addf(out, "identity.operator", AA_CHECK_FAIL,
                    "log in as yourself (login uid), use sudo or ssh, run from CI, or pass "
                    "--operator NAME",
                    "anonymous root (no login uid, no sudo, no ssh, no CI marker, no --operator) "
                    "refused for a production run");
    return addf(out, "identity.operator", AA_CHECK_PASS, NULL, "%s (identity source: %s%s)", who,
                src, in->identity_anonymous_root ? ", anonymous root" : "");
}

int
aa_gate_evaluate(const struct aa_gate_input *in, struct aa_checks *out)
{
    static const char *const task_checks[] = {
        "task.id",        "task.category",         "task.status",          "approval.reviewer",
        "approval.approved_at", "approval.authorization", "approval.segregation",
    };
    static const char *const env_task_checks[] = {
        "env.dotenv", "env.vars", "env.image", "env.resources", "prechecks", "command.match",
    };
    const struct aa_task *t = in->task;
    struct env_ident id;
    int r = env_identify(in->config, &id);
    if (r < 0)
        return r;

    if (!t) {
        r = addf(out, "task.document", AA_CHECK_FAIL,
                 "write the task document from the seed template and have it approved",
                 "no task document at %s", in->task_path ? in->task_path : "(unknown path)");
        for (size_t i = 0; r == 0 && i < AA_ARRAY_SIZE(task_checks); i++)
            r = aa_checks_add(out, task_checks[i], AA_CHECK_SKIP, "no task document", NULL);
    } else {
        r = addf(out, "task.document", AA_CHECK_PASS, NULL, "%s (%u lines)",
                 t->path ? t->path : in->task_path ? in->task_path : "(memory)", t->line_count);
        if (r == 0)
            r = check_task_id(in, out);
        if (r == 0)
            r = check_category(in, out);
        if (r == 0)
            r = check_status(in, out);
        if (r == 0)
            r = check_approval(in, out);
    }
    if (r == 0)
        r = check_environment(in, &id, out);
    if (r == 0 && !t)
        for (size_t i = 0; r == 0 && i < AA_ARRAY_SIZE(env_task_checks); i++)
            r = aa_checks_add(out, env_task_checks[i], AA_CHECK_SKIP, "no task document", NULL);
    if (r == 0 && t) {
        r = check_dotenv_and_vars(in, out);
        if (r == 0)
            r = check_image(in, out);
        if (r == 0)
            r = check_resources(in, out);
        if (r == 0)
            r = check_prechecks(in, out);
        if (r == 0)
            r = check_command(in, out);
    }
    if (r == 0)
        r = check_operator(in, &id, out);
    free(id.env);
    return r;
}
