/* admin-audit pending (contract §2, reference/task-format.md BG-6, BG-7,
 * behaviour 14): break-glass sessions still owing a retroactive approval
 * (24 h) or a completed post-mortem (48 h), and executed tasks whose
 * Post-Execution Audit is not ticked.  Exit 0 clean, 1 while anything is
 * overdue, 64 usage. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "breakglass.h"
#include "commands.h"
#include "config.h"
#include "forward.h"
#include "run.h"
#include "gate.h"
#include "record.h"
#include "taskdoc.h"
#include "util.h"

#define PENDING_APPROVAL_SECS (24 * 3600)
#define PENDING_POSTMORTEM_SECS (48 * 3600)

enum item_kind { ITEM_APPROVAL, ITEM_POSTMORTEM, ITEM_AUDIT };

static const char *const kind_names[] = {
    [ITEM_APPROVAL] = "approval",
    [ITEM_POSTMORTEM] = "post-mortem",
    [ITEM_AUDIT] = "audit",
};

struct item {
    enum item_kind kind;
    bool overdue;
    char *session;  /* owned, NULL for ITEM_AUDIT */
    char *task;     /* owned, may be NULL */
    char *operator; /* owned, may be NULL */
    char *started;  /* owned, may be NULL */
    time_t due;     /* 0 for ITEM_AUDIT */
    char *detail;   /* owned */
    char *path;     /* owned, may be NULL: the document / post-mortem concerned */
};

struct pending {
    struct item *v;
    size_t n, cap;
    time_t now;
    const char *tasks_dir;     /* may be NULL */
    const char *incidents_dir; /* may be NULL */
};

static void
item_done(struct item *it)
{
    free(it->session);
    free(it->task);
    free(it->operator);
    free(it->started);
    free(it->detail);
    free(it->path);
}

static char *
dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int
add_item(struct pending *P, enum item_kind kind, bool overdue, const char *session,
         const char *task, const char *operator_name, const char *started, time_t due,
         const char *detail, const char *path)
{
    if (P->n == P->cap) {
        size_t cap = P->cap ? P->cap * 2 : 16;
        struct item *v = realloc(P->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        P->v = v;
        P->cap = cap;
    }
    struct item it = {
        .kind = kind,
        .overdue = overdue,
        .session = dup_or_null(session),
        .task = dup_or_null(task),
        .operator = dup_or_null(operator_name),
        .started = dup_or_null(started),
        .due = due,
        .detail = dup_or_null(detail),
        .path = dup_or_null(path),
    };
    if ((session && !it.session) || (task && !it.task) || (operator_name && !it.operator) ||
        (started && !it.started) || !it.detail || (path && !it.path)) {
        item_done(&it);
        return -ENOMEM;
    }
    P->v[P->n++] = it;
    return 0;
}

/* RFC 3339 / ISO 8601: YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|+HH:MM|-HH:MM], or
 * @EPOCH.  Returns 0 or -EINVAL. */
static int
parse_time(const char *s, time_t *ret)
{
    if (!s || !*s)
        return -EINVAL;
    if (s[0] == '@') {
        char *end;
        errno = 0;
        long long v = strtoll(s + 1, &end, 10);
        if (errno || end == s + 1 || *end)
            return -EINVAL;
        *ret = (time_t)v;
        return 0;
    }
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%d", &tm);
    if (!p)
        return -EINVAL;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        const char *q = strptime(p + 1, "%H:%M:%S", &tm);
        if (!q)
            q = strptime(p + 1, "%H:%M", &tm);
        if (!q)
            return -EINVAL;
        p = q;
        if (*p == '.' || *p == ',') {
            p++;
            if (!isdigit((unsigned char)*p))
                return -EINVAL;
            while (isdigit((unsigned char)*p))
                p++;
        }
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2 && strlen(p + 1) == 5)
            p += 6;
        else if (sscanf(p + 1, "%2d%2d", &hh, &mm) == 2 && strlen(p + 1) == 4)
            p += 5;
        else
            return -EINVAL;
        off = sign * (hh * 3600L + mm * 60L);
    }
    if (*p)
        return -EINVAL;
    /* Reject dates strptime normalises (2026-02-31). */
    int y = tm.tm_year, mo = tm.tm_mon, d = tm.tm_mday;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_year != y || tm.tm_mon != mo || tm.tm_mday != d)
        return -EINVAL;
    *ret = t - off;
    return 0;
}

static void
format_time(time_t t, char buf[AA_TIMESTAMP_MAX])
{
    struct tm tm;
    (void)gmtime_r(&t, &tm);
    (void)strftime(buf, AA_TIMESTAMP_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}



/* "Bob Reviewer/engineering lead" -> "Bob Reviewer" (the gate's rule). */

/* BG-6: is the task's approval completed for a session started at t0 by
 * operator?  false with why in buf when not. */
static int
approval_state(const struct pending *P, const char *task, const char *operator_name, time_t t0,
               bool *ret_ok, char *why, size_t whylen, char **ret_path)
{
    *ret_ok = false;
    *ret_path = NULL;
    if (!task) {
        (void)snprintf(why, whylen, "the session ran without --task: no change record to approve");
        return 0;
    }
    if (!P->tasks_dir) {
        (void)snprintf(why, whylen, "no tasks directory to find %s.md in", task);
        return 0;
    }
    size_t pn = strlen(P->tasks_dir) + strlen(task) + 8;
    char *path = malloc(pn);
    if (!path)
        return -ENOMEM;
    (void)snprintf(path, pn, "%s/%s.md", P->tasks_dir, task);
    *ret_path = path;
    struct aa_task t;
    char err[256] = "";
    int r = aa_task_load(path, &t, err, sizeof err);
    if (r == -ENOENT) {
        (void)snprintf(why, whylen, "no task document %s", path);
        return 0;
    }
    if (r < 0) {
        (void)snprintf(why, whylen, "task document unreadable: %s", err[0] ? err : strerror(-r));
        return 0;
    }
    long session_day = (long)(t0 / 86400);
    long approved_day = 0;
    cleanup_free char *rev = t.reviewer.value ? aa_person_name(t.reviewer.value) : NULL;
    if (t.reviewer.value && !rev) {
        aa_task_done(&t);
        return -ENOMEM;
    }
    if (!t.status.value || strcasecmp(t.status.value, "draft") == 0)
        (void)snprintf(why, whylen, "Status is %s", t.status.value ? t.status.value : "unset");
    else if (!rev || !*rev)
        (void)snprintf(why, whylen, "no Reviewer");
    else if (operator_name && strcasecmp(rev, operator_name) == 0)
        (void)snprintf(why, whylen, "the Reviewer %s is the operator", rev);
    else if (!t.approved_at.value || aa_parse_date(t.approved_at.value, &approved_day) < 0)
        (void)snprintf(why, whylen, "no valid Approved at");
    else if (approved_day < session_day)
        (void)snprintf(why, whylen, "Approved at %s is before the session", t.approved_at.value);
    else if (!t.authorization.value)
        (void)snprintf(why, whylen, "no Authorization");
    else
        *ret_ok = true;
    aa_task_done(&t);
    return 0;
}

static int
check_session(struct pending *P, struct json_object *start)
{
    const char *sid = aa_json_get_str(start, "session.id");
    const char *task = aa_json_get_str(start, "session.task");
    const char *op = aa_json_get_str(start, "user.name");
    const char *ts = aa_json_get_str(start, "@timestamp");
    time_t t0;
    if (!sid || parse_time(ts, &t0) < 0)
        return 0; /* not a record this report can place (verify reports damage) */
    char why[512] = "", due[AA_TIMESTAMP_MAX];
    bool ok;
    cleanup_free char *doc = NULL;
    int r = approval_state(P, task, op, t0, &ok, why, sizeof why, &doc);
    if (r < 0)
        return r;
    if (!ok) {
        time_t d = t0 + PENDING_APPROVAL_SECS;
        format_time(d, due);
        char detail[700];
        (void)snprintf(detail, sizeof detail, "no retroactive approval (%s); due %s", why, due);
        if ((r = add_item(P, ITEM_APPROVAL, P->now > d, sid, task, op, ts, d, detail, doc)) < 0)
            return r;
    }
    /* BG-7: a completed post-mortem. */
    char day[16];
    struct tm tm;
    (void)gmtime_r(&t0, &tm);
    (void)strftime(day, sizeof day, "%Y%m%d", &tm);
    cleanup_free char *pm = NULL;
    bool complete = false;
    if (P->incidents_dir &&
        (r = aa_breakglass_postmortem_find(P->incidents_dir, sid, task, day, &pm, &complete)) < 0)
        return r;
    if (!complete) {
        time_t d = t0 + PENDING_POSTMORTEM_SECS;
        format_time(d, due);
        char detail[700];
        if (pm)
            (void)snprintf(detail, sizeof detail,
                           "post-mortem %s not complete (**Status** is not `complete`); due %s",
                           pm, due);
        else
            (void)snprintf(detail, sizeof detail, "no post-mortem in %s; due %s",
                           P->incidents_dir ? P->incidents_dir : "(no incidents directory)",
                           due);
        if ((r = add_item(P, ITEM_POSTMORTEM, P->now > d, sid, task, op, ts, d, detail, pm)) < 0)
            return r;
    }
    return 0;
}

static int
scan_journal(struct pending *P, const char *journal)
{
    cleanup_file FILE *f = fopen(journal, "re");
    if (!f)
        return errno == ENOENT ? 0 : -errno;
    cleanup_free char *line = NULL;
    size_t cap = 0;
    int r = 0;
    while (r == 0 && getline(&line, &cap, f) > 0) {
        if (!strstr(line, "\"session.start\"") || !strstr(line, "\"break-glass\""))
            continue;
        struct json_object *rec = json_tokener_parse(line);
        if (!rec)
            continue;
        const char *action = aa_json_get_str(rec, "event.action");
        const char *mode = aa_json_get_str(rec, "session.mode");
        if (action && mode && strcmp(action, "session.start") == 0 &&
            strcmp(mode, "break-glass") == 0)
            r = check_session(P, rec);
        json_object_put(rec);
    }
    if (r == 0 && ferror(f))
        r = -EIO;
    return r;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Executed tasks with unticked Post-Execution Audit boxes. */
static int
scan_tasks(struct pending *P)
{
    if (!P->tasks_dir)
        return 0;
    DIR *d = opendir(P->tasks_dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 3, ".md") != 0)
            continue;
        cleanup_free char *id = strndup(de->d_name, l - 3);
        if (!id) {
            r = -ENOMEM;
            break;
        }
        if (!aa_task_id_valid(id))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **v = realloc(names, cap * sizeof *v);
            if (!v) {
                r = -ENOMEM;
                break;
            }
            names = v;
        }
        names[n++] = AA_TAKE_PTR(id);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; r == 0 && i < n; i++) {
        char path[4096];
        (void)snprintf(path, sizeof path, "%s/%s.md", P->tasks_dir, names[i]);
        struct aa_task t;
        char err[256];
        if (aa_task_load(path, &t, err, sizeof err) < 0)
            continue; /* lint's business */
        if (t.status.value && strcasecmp(t.status.value, "executed") == 0) {
            char detail[1024];
            size_t unticked = 0, off = 0;
            detail[0] = '\0';
            for (size_t k = 0; k < t.postaudit.n; k++) {
                if (t.postaudit.items[k].checked)
                    continue;
                unticked++;
                int w = snprintf(detail + off, sizeof detail - off, "%s%s", off ? ", " : "",
                                 t.postaudit.items[k].text ? t.postaudit.items[k].text : "?");
                if (w > 0 && (size_t)w < sizeof detail - off)
                    off += (size_t)w;
            }
            char msg[1200] = "";
            if (t.postaudit.n == 0)
                (void)snprintf(msg, sizeof msg,
                               "executed, but the document has no Post-Execution Audit checklist");
            else if (unticked)
                (void)snprintf(msg, sizeof msg,
                               "executed, %zu of %zu Post-Execution Audit boxes unticked: %s",
                               unticked, t.postaudit.n, detail);
            if (t.postaudit.n == 0 || unticked)
                r = add_item(P, ITEM_AUDIT, true, NULL, names[i], t.invoked_by.value,
                             t.invoked_at.value, 0, msg, path);
        }
        aa_task_done(&t);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return r;
}

static void
jset_str(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static int
print_json(const struct pending *P, size_t overdue)
{
    struct json_object *root = json_object_new_object();
    struct json_object *items = json_object_new_array();
    if (!root || !items) {
        json_object_put(root);
        json_object_put(items);
        return -ENOMEM;
    }
    char buf[AA_TIMESTAMP_MAX];
    format_time(P->now, buf);
    jset_str(root, "now", buf);
    for (size_t i = 0; i < P->n; i++) {
        const struct item *it = &P->v[i];
        struct json_object *o = json_object_new_object();
        if (!o)
            break;
        jset_str(o, "kind", kind_names[it->kind]);
        jset_str(o, "status", it->overdue ? "overdue" : "open");
        jset_str(o, "session", it->session);
        jset_str(o, "task", it->task);
        jset_str(o, "operator", it->operator);
        jset_str(o, "started", it->started);
        if (it->due) {
            format_time(it->due, buf);
            jset_str(o, "due", buf);
        } else
            jset_str(o, "due", NULL);
        jset_str(o, "path", it->path);
        jset_str(o, "detail", it->detail);
        json_object_array_add(items, o);
    }
    json_object_object_add(root, "items", items);
    json_object_object_add(root, "overdue", json_object_new_int64((int64_t)overdue));
    json_object_object_add(root, "open", json_object_new_int64((int64_t)(P->n - overdue)));
    const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
    int r = printf("%s\n", s) < 0 ? -EIO : 0;
    json_object_put(root);
    return r;
}

static void
print_text(const struct pending *P, size_t overdue)
{
    for (size_t i = 0; i < P->n; i++) {
        const struct item *it = &P->v[i];
        if (it->kind == ITEM_AUDIT)
            printf("%-7s %-11s task %s: %s\n", it->overdue ? "OVERDUE" : "open",
                   kind_names[it->kind], it->task ? it->task : "?", it->detail);
        else
            printf("%-7s %-11s session %s (task %s, operator %s, started %s): %s\n",
                   it->overdue ? "OVERDUE" : "open", kind_names[it->kind], it->session,
                   it->task ? it->task : "none", it->operator ? it->operator : "unknown",
                   it->started ? it->started : "?", it->detail);
    }
    if (P->n == 0)
        printf("pending: nothing open\n");
    else
        printf("pending: %zu overdue, %zu open\n", overdue, P->n - overdue);
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: admin-audit pending [--config FILE] [--log FILE] [--tasks-dir DIR]\n"
               "                           [--now ISO8601] [--format text|json]\n"
               "Lists break-glass sessions without retroactive approval (due 24 h after the\n"
               "session) or without a completed post-mortem (due 48 h after), and executed\n"
               "tasks with unticked Post-Execution Audit boxes.  Exit 0 clean, 1 when\n"
               "anything is overdue, 64 usage.\n");
}

int
aa_cmd_pending(int argc, char **argv)
{
    enum { OPT_CONFIG = 256, OPT_LOG, OPT_TASKS_DIR, OPT_NOW, OPT_FORMAT };
    static const struct option opts[] = {
        {"config", required_argument, NULL, OPT_CONFIG},
        {"log", required_argument, NULL, OPT_LOG},
        {"tasks-dir", required_argument, NULL, OPT_TASKS_DIR},
        {"now", required_argument, NULL, OPT_NOW},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *log = NULL, *tasks_opt = NULL, *now_s = NULL;
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG: config = optarg; break;
        case OPT_LOG: log = optarg; break;
        case OPT_TASKS_DIR: tasks_opt = optarg; break;
        case OPT_NOW: now_s = optarg; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "text") == 0)
                json = false;
            else {
                aa_log("pending: --format must be text or json, not \"%s\"", optarg);
                return AA_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return 0;
        case ':':
            aa_log("pending: option %s needs a value", argv[optind - 1]);
            return AA_EXIT_USAGE;
        default:
            aa_log("pending: unknown option %s", argv[optind - 1]);
            usage(stderr);
            return AA_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        aa_log("pending: unexpected argument \"%s\"", argv[optind]);
        return AA_EXIT_USAGE;
    }
    struct pending P = {.now = time(NULL)};
    if (now_s && parse_time(now_s, &P.now) < 0) {
        aa_log("pending: --now \"%s\" is not an ISO 8601 time (2026-03-02T14:00:00Z)", now_s);
        return AA_EXIT_USAGE;
    }
    struct aa_config cfg;
    char err[1024] = "";
    int r = aa_config_load(config ? config : AA_DEFAULT_CONFIG, &cfg, err, sizeof err);
    if (r < 0) {
        aa_log("pending: %s", err[0] ? err : strerror(-r));
        return AA_EXIT_USAGE;
    }
    cleanup_free char *journal = log ? strdup(log) : aa_default_journal_path(&cfg);
    cleanup_free char *tasks_dir = aa_run_tasks_dir(tasks_opt, &cfg);
    cleanup_free char *incidents = NULL;
    if (cfg.incidents_dir)
        incidents = strdup(cfg.incidents_dir);
    else if (tasks_dir) {
        cleanup_free char *project = aa_run_project_dir(tasks_dir);
        if (project && asprintf(&incidents, "%s/.aiwg/incidents", project) < 0)
            incidents = NULL;
    }
    aa_config_done(&cfg);
    if (!journal) {
        aa_log("pending: no journal path (pass --log FILE)");
        return AA_EXIT_USAGE;
    }
    P.tasks_dir = tasks_dir;
    P.incidents_dir = incidents;

    int code = 0;
    r = scan_journal(&P, journal);
    if (r < 0) {
        aa_log_errno(r, "pending: cannot read the journal %s: %m", journal);
        code = 1;
    }
    if (r == 0 || r == -EACCES) {
        int r2 = scan_tasks(&P);
        if (r2 < 0) {
            aa_log_errno(r2, "pending: cannot read the tasks directory %s: %m",
                         tasks_dir ? tasks_dir : "?");
            code = 1;
        }
    }
    size_t overdue = 0;
    for (size_t i = 0; i < P.n; i++)
        overdue += P.v[i].overdue;
    if (json) {
        if (print_json(&P, overdue) < 0)
            code = 1;
    } else
        print_text(&P, overdue);
    if (fflush(stdout) == EOF)
        code = 1;
    if (overdue)
        code = 1;
    for (size_t i = 0; i < P.n; i++)
        item_done(&P.v[i]);
    free(P.v);
    return code;
}
