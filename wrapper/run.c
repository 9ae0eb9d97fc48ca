/* The run verbs: run (implied), check, rollback and break-glass.
 *
 *   options -> config -> task document -> identity -> gate
 *     -> journal + session.start -> spawn (own process group, subreaper)
 *     -> poll loop (signals, shim channel, backstop, timeout)
 *     -> last descendant gone -> session.end -> exit with the command's status
 *
 * The wrapper is single-threaded on purpose (fork + seccomp load in the
 * child, signalfd, one writer of the journal). */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "admin-audit/version.h"
#include "backstop.h"
#include "breakglass.h"
#include "channel.h"
#include "commands.h"
#include "config.h"
#include "forward.h"
#include "gate.h"
#include "identity.h"
#include "journal.h"
#include "record.h"
#include "run.h"
#include "session.h"
#include "taskdoc.h"
#include "tasklock.h"
#include "util.h"

extern char **environ;

enum aa_verb { VERB_RUN, VERB_CHECK, VERB_ROLLBACK, VERB_BREAKGLASS };

struct run_opts {
    enum aa_verb verb;
    const char *task;
    const char *tasks_dir;
    const char *config;
    const char *log;
    const char **forward;
    size_t n_forward;
    const char *forward_format;
    const char *timeout;
    const char *grace;
    const char *seccomp;
    bool fail_open;
    bool sync;
    bool rerun;
    const char *reason;
    const char *incident;
    const char *deviation;
    const char *operator_name;
    bool quiet;
    bool record_input;
    char **command; /* borrowed from argv, NULL-terminated, NULL when none */
};

struct aa_session {
    char id[37];
    char trace_id[33];
    struct aa_envelope env;
    struct aa_counts counts;
    struct aa_journal *journal;
    const struct aa_config *cfg;
    struct aa_forwarder *forwarder;
    pid_t wrapper_pid;
    bool broken;
    bool warned; /* the journal failure was reported on stderr */
    bool fail_open;
};

/* ---- session API (session.h) --------------------------------------------- */

const struct aa_envelope *
aa_session_envelope(const struct aa_session *s)
{
    return &s->env;
}

struct aa_counts *
aa_session_counts(struct aa_session *s)
{
    return &s->counts;
}

int
aa_session_emit(struct aa_session *s, struct json_object *rec)
{
    if (s->broken) {
        s->counts.lost++;
        return -EPIPE;
    }
    s->counts.records++;
    int r = aa_journal_append(s->journal, rec);
    if (r < 0) {
        s->counts.records--;
        s->counts.lost++;
        s->broken = true;
        if (!s->warned)
            aa_log_errno(r, "journal %s: write failed: %m; session is fail-%s from here on",
                         aa_journal_path(s->journal), s->fail_open ? "open" : "closed");
        s->warned = true;
        return r;
    }
    return 0;
}

bool
aa_session_broken(const struct aa_session *s)
{
    return s->broken;
}

bool
aa_session_fail_open(const struct aa_session *s)
{
    return s->fail_open;
}

pid_t
aa_session_wrapper_pid(const struct aa_session *s)
{
    return s->wrapper_pid;
}

const struct aa_config *
aa_session_config(const struct aa_session *s)
{
    return s->cfg;
}

const char *
aa_session_id(const struct aa_session *s)
{
    return s->id;
}


bool
aa_session_is_member(const struct aa_session *s, pid_t pid)
{
    /* Bounded walk up the ancestry: orphans are re-parented to the wrapper
     * (child subreaper), so every process of the session leads to it.  The
     * wrapper itself may be pid 1 (a container's entrypoint): compare before
     * stopping at init. */
    for (int depth = 0; depth < 4096 && pid > 0; depth++) {
        if (pid == s->wrapper_pid)
            return true;
        if (pid == 1)
            return false;
        pid = aa_proc_ppid(pid);
    }
    return false;
}

/* ---- helpers --------------------------------------------------------------- */

static void
uuid_v7(char out[37])
{
    unsigned char b[16];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* getrandom(2) does not fail for 16 bytes after boot; belt and braces. */
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)(ts.tv_nsec >> (i % 4 * 8)) ^ (unsigned char)getpid();
    }
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char hex[33];
    aa_hex(b, 16, hex);
    (void)snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
                   hex + 20);
}

static long
today_days(void)
{
    return (long)(time(NULL) / 86400);
}

/* Nearest .aiwg/admin-tasks from cwd upward. Owned or NULL. */
static char *
find_tasks_dir(void)
{
    cleanup_free char *root = aa_find_upward(".aiwg/admin-tasks");
    if (!root)
        return NULL;
    size_t n = strlen(root) + sizeof "/.aiwg/admin-tasks";
    char *d = malloc(n);
    if (d)
        (void)snprintf(d, n, "%s/.aiwg/admin-tasks", strcmp(root, "/") ? root : "");
    return d;
}

char *
aa_run_tasks_dir(const char *opt, const struct aa_config *cfg)
{
    if (opt)
        return strdup(opt);
    const char *e = getenv("ADMIN_AUDIT_TASKS_DIR");
    if (e && *e)
        return strdup(e);
    if (cfg && cfg->tasks_dir)
        return strdup(cfg->tasks_dir);
    return find_tasks_dir();
}

char *
aa_run_project_dir(const char *tasks_dir)
{
    /* <project>/.aiwg/admin-tasks -> <project> */
    char *d = realpath(tasks_dir, NULL);
    if (!d)
        d = strdup(tasks_dir);
    if (!d)
        return NULL;
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(d, '/');
        if (!slash)
            break;
        if (slash == d) {
            d[1] = '\0';
            break;
        }
        *slash = '\0';
    }
    return d;
}

static const char *const signames[] = {
    [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",   [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
    [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT", [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
    [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
    [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM", [SIGCHLD] = "SIGCHLD",
    [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",
    [SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",
    [SIGSYS] = "SIGSYS",
};

const char *
aa_signal_name(int sig)
{
    static char buf[16];
    if (sig > 0 && (size_t)sig < AA_ARRAY_SIZE(signames) && signames[sig])
        return signames[sig];
    (void)snprintf(buf, sizeof buf, "SIG%d", sig);
    return buf;
}

static bool
is_placeholder_text(const char *s)
{
    size_t n = strlen(s);
    return n == 0 || (s[0] == '{' && s[n - 1] == '}') || strcmp(s, "...") == 0 ||
           strcmp(s, "TODO") == 0 || strcmp(s, "N/A") == 0 || strcmp(s, "-") == 0;
}

/* ---- usage ----------------------------------------------------------------- */

static const char usage_text[] =
    "Usage:\n"
    "  admin-audit [OPTIONS] --task ID [--] COMMAND [ARG...]   run COMMAND as task ID\n"
    "  admin-audit [OPTIONS] --task ID                         run the documented Execution command\n"
    "  admin-audit check [OPTIONS] --task ID [--] [COMMAND...]  preflight: print every check, run nothing\n"
    "  admin-audit break-glass --reason TEXT [--incident REF] [--task ID] [--] [COMMAND...]\n"
    "                                                          emergency session (default: $SHELL -i)\n"
    "  admin-audit verify [--anchor SEQ:HEX] FILE...          verify hash chains\n"
    "  admin-audit lint [DIR]                                 validate the catalog and task documents\n"
    "  admin-audit pending                                    overdue break-glass follow-ups\n"
    "  admin-audit flush                                      deliver spooled records to forward targets\n"
    "  admin-audit rollback --task ID                         run the task's Rollback command under audit\n"
    "  admin-audit report --task ID [--session ID] [--write]  fill the task's Execution log\n"
    "  admin-audit --help | --version\n"
    "\n"
    "Options of run / check / break-glass / rollback:\n"
    "  --task ID               task id (ADM- and 3+ digits); the document is ID.md in the tasks dir\n"
    "  --tasks-dir DIR         default $ADMIN_AUDIT_TASKS_DIR, else the nearest .aiwg/admin-tasks\n"
    "  --config FILE           default " AA_DEFAULT_CONFIG " (absent = defaults)\n"
    "  --log FILE              the journal (JSON Lines); default config log, else\n"
    "                          /var/log/admin-audit/audit.jsonl (root) or\n"
    "                          $XDG_STATE_HOME/admin-audit/audit.jsonl\n"
    "  --forward URL           repeatable: syslog+unix:PATH, syslog+udp://H:P, syslog+tcp://H:P,\n"
    "                          syslog+tls://H:P, relp://H:P, http(s)://...\n"
    "  --forward-format F      native|ecs (forwarded records; the journal is always native)\n"
    "  --timeout DURATION      SIGTERM the command's process group after DURATION (90s, 15m, 2h),\n"
    "                          SIGKILL after --grace (default 10s); exit 124\n"
    "  --grace DURATION        see --timeout\n"
    "  --seccomp auto|on|off   the kernel backstop (auto: on with CAP_SYS_ADMIN)\n"
    "  --fail-open             let the command continue if the audit channel breaks (recorded)\n"
    "  --sync                  fdatasync each record before the action it describes proceeds\n"
    "  --rerun --reason TEXT   run a task whose Status is already executed\n"
    "  --deviation TEXT        run a COMMAND that differs from the documented one (a violation)\n"
    "  --operator NAME         claimed operator name (recorded as identity_source claimed)\n"
    "  --reason TEXT           break-glass: why (required); --rerun: why\n"
    "  --incident REF          break-glass: incident reference\n"
    "  --record-input          break-glass: also record terminal input (echo-off input never)\n"
    "  -q, --quiet             no summary on stderr (the exit line with the chain head stays)\n"
    "\n"
    "Exit status: the command's (128+N when killed by signal N); 124 timeout; 125 refused or\n"
    "failed before the command started (nothing executed); 126 cannot execute; 127 not found.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "admin-audit: %s\nTry 'admin-audit --help'.\n", msg);
    return AA_EXIT_REFUSED;
}

enum {
    OPT_TASK = 1000, OPT_TASKS_DIR, OPT_CONFIG, OPT_LOG, OPT_FORWARD, OPT_FORWARD_FORMAT,
    OPT_TIMEOUT, OPT_GRACE, OPT_SECCOMP, OPT_FAIL_OPEN, OPT_SYNC, OPT_RERUN, OPT_REASON,
    OPT_INCIDENT, OPT_DEVIATION, OPT_OPERATOR, OPT_HELP, OPT_VERSION, OPT_RECORD_INPUT,
};

static int
parse_opts(int argc, char **argv, struct run_opts *o, bool *done, int *code)
{
    static const struct option longopts[] = {
        {"task", required_argument, NULL, OPT_TASK},
        {"tasks-dir", required_argument, NULL, OPT_TASKS_DIR},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"log", required_argument, NULL, OPT_LOG},
        {"forward", required_argument, NULL, OPT_FORWARD},
        {"forward-format", required_argument, NULL, OPT_FORWARD_FORMAT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"grace", required_argument, NULL, OPT_GRACE},
        {"seccomp", required_argument, NULL, OPT_SECCOMP},
        {"fail-open", no_argument, NULL, OPT_FAIL_OPEN},
        {"sync", no_argument, NULL, OPT_SYNC},
        {"rerun", no_argument, NULL, OPT_RERUN},
        {"reason", required_argument, NULL, OPT_REASON},
        {"incident", required_argument, NULL, OPT_INCIDENT},
        {"deviation", required_argument, NULL, OPT_DEVIATION},
        {"operator", required_argument, NULL, OPT_OPERATOR},
        {"record-input", no_argument, NULL, OPT_RECORD_INPUT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {0},
    };
    const char *verb = argv[0];
    if (strcmp(verb, "check") == 0)
        o->verb = VERB_CHECK;
    else if (strcmp(verb, "rollback") == 0)
        o->verb = VERB_ROLLBACK;
    else if (strcmp(verb, "break-glass") == 0)
        o->verb = VERB_BREAKGLASS;
    else
        o->verb = VERB_RUN;

    optind = 1;
    opterr = 0;
    int c;
    /* "+": stop at the first non-option, which starts COMMAND. */
    while ((c = getopt_long(argc, argv, "+q", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_TASK: o->task = optarg; break;
        case OPT_TASKS_DIR: o->tasks_dir = optarg; break;
        case OPT_CONFIG: o->config = optarg; break;
        case OPT_LOG: o->log = optarg; break;
        case OPT_FORWARD: {
            const char **v = realloc(o->forward, (o->n_forward + 1) * sizeof *v);
            if (!v)
                return -ENOMEM;
            o->forward = v;
            v[o->n_forward++] = optarg;
            break;
        }
        case OPT_FORWARD_FORMAT: o->forward_format = optarg; break;
        case OPT_TIMEOUT: o->timeout = optarg; break;
        case OPT_GRACE: o->grace = optarg; break;
        case OPT_SECCOMP: o->seccomp = optarg; break;
        case OPT_FAIL_OPEN: o->fail_open = true; break;
        case OPT_SYNC: o->sync = true; break;
        case OPT_RERUN: o->rerun = true; break;
        case OPT_REASON: o->reason = optarg; break;
        case OPT_INCIDENT: o->incident = optarg; break;
        case OPT_DEVIATION: o->deviation = optarg; break;
        case OPT_OPERATOR: o->operator_name = optarg; break;
        case OPT_RECORD_INPUT: o->record_input = true; break;
        case 'q': o->quiet = true; break;
        case OPT_HELP:
            fputs(usage_text, stdout);
            *done = true;
            *code = 0;
            return 0;
        case OPT_VERSION:
            printf("admin-audit %s\n", AA_VERSION);
            *done = true;
            *code = 0;
            return 0;
        case '?':
        default:
            *done = true;
            if (optopt && optopt < 256)
                *code = usage_error("unknown option '-%s'", (char[]){(char)optopt, 0});
            else
                *code = usage_error("unknown option or missing argument: %s", argv[optind - 1]);
            return 0;
        }
    }
    if (optind < argc)
        o->command = &argv[optind];
    return 0;
}

/* ---- spawning and the poll loop --------------------------------------------- */

struct child_result {
    pid_t pid;
    bool exited;
    int status;         /* wait status of the command (top-level child) */
    int exec_errno;     /* the command's own exec failed with this errno (0 = it ran) */
    bool timed_out;
    bool aborted;       /* fail-closed: the channel broke */
    struct timespec start, end;
};

static volatile sig_atomic_t dummy_sig;

static void
kill_descendants(pid_t self, int sig)
{
    /* Everything in the session: the wrapper's descendants, found through
     * /proc; each round signals what it finds (bounded). */
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == self)
            continue;
        pid_t p = (pid_t)pid;
        for (int depth = 0; depth < 4096 && p > 1; depth++) {
            p = aa_proc_ppid(p);
            if (p == self) {
                (void)kill((pid_t)pid, sig);
                break;
            }
        }
    }
    closedir(d);
}

static void
format_env_var(char **dst, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;
    *dst = malloc(n);
    if (*dst)
        (void)snprintf(*dst, n, "%s=%s", name, value);
}

/* The command's environment: ours, minus LD_PRELOAD and ADMIN_AUDIT_*
 * (they are set anew), plus the contract's variables. */
static char **
child_environment(struct aa_session *s, struct aa_channel *ch, const char *shim,
                  const char *rows_file)
{
    size_t n = 0;
    for (char **e = environ; *e; e++)
        n++;
    char **envp = calloc(n + 8, sizeof *envp);
    if (!envp)
        return NULL;
    size_t k = 0;
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "LD_PRELOAD=", 11) == 0 || strncmp(*e, "ADMIN_AUDIT_", 12) == 0 ||
            strncmp(*e, "TRACEPARENT=", 12) == 0)
            continue;
        if (!(envp[k++] = strdup(*e)))
            goto oom;
    }
    format_env_var(&envp[k++], "ADMIN_AUDIT_SESSION", s->id);
    format_env_var(&envp[k++], "ADMIN_AUDIT_TASK", s->env.task_id ? s->env.task_id : "");
    if (rows_file)
        format_env_var(&envp[k++], "ADMIN_AUDIT_ROWS_FILE", rows_file);
    char tp[64], span[65];
    (void)aa_sha256_hex(s->id, strlen(s->id), span);
    (void)snprintf(tp, sizeof tp, "00-%s-%.16s-01", s->trace_id, span);
    format_env_var(&envp[k++], "TRACEPARENT", tp);
    for (size_t i = 0; i < k; i++)
        if (!envp[i])
            goto oom;
    if (ch && aa_channel_child_env(ch, shim, &envp) < 0)
        goto oom;
    return envp;
oom:
    aa_strv_free(envp);
    return NULL;
}

/* Find the shim: beside a build-tree wrapper (build/wrapper/admin-audit ->
 * build/shim/), at the installed layout relative to this binary (a relocated
 * install), or at the compiled-in install path.  Deliberately no environment
 * override: whoever runs admin-audit must not be able to swap the shim for
 * one that records nothing.  Owned, NULL when none is found. */
static char *
find_shim(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            static const char *const rel[] = {
                "/../shim/" AA_SHIM_NAME, /* build tree */
                "/" AA_SHIM_FROM_BINDIR,  /* installed layout, wherever the prefix is */
            };
            for (size_t i = 0; i < AA_ARRAY_SIZE(rel); i++) {
                char cand[PATH_MAX * 2];
                (void)snprintf(cand, sizeof cand, "%s%s", exe, rel[i]);
                char *real = realpath(cand, NULL);
                if (real && access(real, R_OK) == 0)
                    return real;
                free(real);
            }
        }
    }
    if (access(AA_SHIM_INSTALLED_PATH, R_OK) == 0)
        return strdup(AA_SHIM_INSTALLED_PATH);
    return NULL;
}

/* Resolve a command name the way execvp would (for the record). Owned. */
static char *
resolve_command(const char *name)
{
    if (strchr(name, '/'))
        return realpath(name, NULL) ?: strdup(name);
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    const char *p = path;
    while (*p) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        char cand[PATH_MAX];
        if (len == 0)
            (void)snprintf(cand, sizeof cand, "./%s", name);
        else
            (void)snprintf(cand, sizeof cand, "%.*s/%s", (int)len, p, name);
        if (access(cand, X_OK) == 0) {
            struct stat st;
            if (stat(cand, &st) == 0 && S_ISREG(st.st_mode))
                return strdup(cand);
        }
        if (!colon)
            break;
        p = colon + 1;
    }
    return strdup(name);
}

static struct json_object *
checks_json(const struct aa_checks *c)
{
    struct json_object *arr = json_object_new_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < c->n; i++) {
        struct json_object *o = json_object_new_object();
        if (!o)
            break;
        json_object_object_add(o, "name", json_object_new_string(c->v[i].name));
        json_object_object_add(o, "status",
                               json_object_new_string(aa_check_status_name(c->v[i].status)));
        json_object_object_add(o, "detail", json_object_new_string(c->v[i].detail ?: ""));
        if (c->v[i].fix && c->v[i].status == AA_CHECK_FAIL)
            json_object_object_add(o, "fix", json_object_new_string(c->v[i].fix));
        json_object_array_add(arr, o); /* steals o */
    }
    return arr;
}

static const char *
verb_name(enum aa_verb v)
{
    switch (v) {
    case VERB_ROLLBACK: return "rollback";
    case VERB_BREAKGLASS: return "break-glass";
    case VERB_CHECK: return "check";
    case VERB_RUN: break;
    }
    return "run";
}

/* Top-level exec record: the command's own exec is done by the wrapper's
 * child (not preloaded), so the wrapper records it itself. */
static int
record_top_exec(struct aa_session *s, pid_t pid, char *const *argv, const char *resolved,
                int err, const char *ref)
{
    struct json_object *rec = aa_record_new(&s->env, "process.exec", err ? "failure" : "unknown",
                                            NULL, pid);
    if (!rec)
        return -ENOMEM;
    int r = 0;
    r |= aa_rec_set_bytes(rec, "process.executable", resolved, strlen(resolved), false, NULL);
    const char *base = strrchr(resolved, '/');
    r |= aa_rec_set_bytes(rec, "process.name", base ? base + 1 : resolved,
                          strlen(base ? base + 1 : resolved), false, NULL);
    size_t argc = aa_strv_len(argv);
    struct aa_bytes *ab = calloc(argc + 1, sizeof *ab);
    if (!ab) {
        json_object_put(rec);
        return -ENOMEM;
    }
    for (size_t i = 0; i < argc; i++)
        ab[i] = (struct aa_bytes){argv[i], strlen(argv[i])};
    r |= aa_rec_set_args(rec, "process.args", ab, argc, &s->counts);
    free(ab);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd))
        r |= aa_rec_set_bytes(rec, "process.working_directory", cwd, strlen(cwd), false, NULL);
    r |= aa_rec_set_int(rec, "process.parent.pid", s->wrapper_pid);
    if (err) {
        char eb[16];
        r |= aa_rec_set_str(rec, "error.code", aa_errno_name(err, eb));
        r |= aa_rec_set_str(rec, "error.message", strerror(err));
    }
    r |= aa_rec_set_str(rec, "audit.exec.api", "execvp");
    r |= aa_rec_set_str(rec, "audit.exec.phase", err ? "result" : "attempt");
    r |= aa_rec_set_bytes(rec, "audit.exec.path_arg", argv[0], strlen(argv[0]), false, NULL);
    if (ref)
        r |= aa_rec_set_str(rec, "audit.ref", ref);
    r |= aa_rec_set_str(rec, "audit.source", "wrapper");
    if (r) {
        json_object_put(rec);
        return -ENOMEM;
    }
    if (!err)
        s->counts.execs++;
    r = aa_session_emit(s, rec);
    json_object_put(rec);
    return r;
}

struct loop {
    struct aa_session *s;
    struct aa_channel *ch;
    struct aa_backstop *bs;
    struct aa_breakglass_tty *tty; /* may be NULL */
    int sigfd, timerfd;
    pid_t pgid;
    long long grace_ms;
    bool term_sent, kill_sent;
};

static void
arm_timer(int fd, long long ms)
{
    struct itimerspec its = {.it_value = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000}};
    if (ms == 0)
        its.it_value.tv_nsec = 1;
    (void)timerfd_settime(fd, 0, &its, NULL);
}

static void
escalate(struct loop *L, struct child_result *res)
{
    if (!L->term_sent) {
        L->term_sent = true;
        (void)kill(-L->pgid, SIGTERM);
        kill_descendants(L->s->wrapper_pid, SIGTERM);
        arm_timer(L->timerfd, L->grace_ms);
    } else if (!L->kill_sent) {
        L->kill_sent = true;
        (void)kill(-L->pgid, SIGKILL);
        kill_descendants(L->s->wrapper_pid, SIGKILL);
        arm_timer(L->timerfd, 1000);
    } else {
        /* Stragglers (new children during the kill): keep killing, bounded by
         * the kernel reaping them. */
        kill_descendants(L->s->wrapper_pid, SIGKILL);
        arm_timer(L->timerfd, 1000);
    }
    (void)res;
}

/* Reap every child of the session that is gone; returns true when none is
 * left.  The forwarder's processes are our children too but not part of the
 * session, so children are taken one by one from /proc (waitpid(-1) would
 * wait for the forwarder as well). */
static bool
reap(struct loop *L, struct child_result *res)
{
    char path[64];
    (void)snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)L->s->wrapper_pid);
    cleanup_free char *buf = NULL;
    if (aa_read_file(path, 1 << 20, &buf, NULL) < 0) {
        /* No children file (CONFIG_PROC_CHILDREN off): fall back to waitpid(-1). */
        for (;;) {
            int st;
            pid_t p = waitpid(-1, &st, WNOHANG);
            if (p == 0)
                return false;
            if (p < 0)
                return errno == ECHILD;
            if (p == res->pid) {
                res->exited = true;
                res->status = st;
                clock_gettime(CLOCK_REALTIME, &res->end);
            }
        }
    }
    bool left = false;
    for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n")) {
        pid_t p = (pid_t)strtol(tok, NULL, 10);
        if (p <= 0 || (L->s->forwarder && aa_forwarder_owns_pid(L->s->forwarder, p)))
            continue;
        int st;
        pid_t w = waitpid(p, &st, WNOHANG);
        if (w == 0) {
            left = true;
            continue;
        }
        if (w == p && p == res->pid) {
            res->exited = true;
            res->status = st;
            clock_gettime(CLOCK_REALTIME, &res->end);
        }
    }
    return !left;
}

static int
run_loop(struct loop *L, struct child_result *res)
{
    bool aborted_handled = false;
    for (;;) {
        struct pollfd fds[64];
        size_t n = 0;
        fds[n++] = (struct pollfd){.fd = L->sigfd, .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = L->timerfd, .events = POLLIN};
        size_t ch_first = n;
        size_t ch_n = L->ch ? aa_channel_pollfds(L->ch, fds + n, AA_ARRAY_SIZE(fds) - n - 8) : 0;
        n += ch_n;
        size_t bs_first = n;
        size_t bs_n = aa_backstop_pollfds(L->bs, fds + n, 4);
        n += bs_n;
        size_t tty_first = n;
        size_t tty_n = L->tty ? aa_breakglass_tty_pollfds(L->tty, fds + n, 4) : 0;
        n += tty_n;

        int pr = poll(fds, n, -1);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (bs_n && aa_backstop_dispatch(L->bs, fds + bs_first, bs_n) < 0)
            aa_log("backstop: notification handling failed");
        if (ch_n) {
            int r = aa_channel_dispatch(L->ch, fds + ch_first, ch_n);
            if (r < 0)
                aa_log_errno(r, "audit channel: %m");
        }
        if (tty_n)
            (void)aa_breakglass_tty_dispatch(L->tty, fds + tty_first, tty_n);

        if (L->s->broken && !L->s->fail_open && !aborted_handled) {
            /* Fail-closed: the journal cannot take records; execs and
             * connects are already refused by the channel; end the session. */
            aborted_handled = true;
            res->aborted = true;
            escalate(L, res);
        }
        if (fds[1].revents & POLLIN) {
            uint64_t ticks;
            (void)!read(L->timerfd, &ticks, sizeof ticks);
            if (!L->term_sent)
                res->timed_out = !res->aborted;
            escalate(L, res);
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(L->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                int sig = (int)si.ssi_signo;
                if (sig == SIGCHLD)
                    continue;
                if (sig == SIGWINCH) {
                    if (L->tty)
                        aa_breakglass_tty_winch(L->tty);
                    continue;
                }
                /* Forward SIGINT/SIGTERM/SIGHUP/SIGQUIT to the command's
                 * process group (bubblewrap/sudo do the same). */
                (void)kill(-L->pgid, sig);
            }
            if (reap(L, res))
                return 0;
        }
    }
}

static int
write_session_end(struct aa_session *s, const struct child_result *res, int exit_code,
                  const char *rows_file, struct json_object *recording)
{
    struct json_object *rec = aa_record_new(&s->env, "session.end",
                                            exit_code == 0 && !s->counts.lost ? "success"
                                                                              : "failure",
                                            NULL, s->wrapper_pid);
    if (!rec)
        return -ENOMEM;
    int r = 0;
    r |= aa_rec_set_int(rec, "process.exit_code", exit_code);
    if (res->exited && WIFSIGNALED(res->status)) {
        r |= aa_rec_set_str(rec, "audit.signal", aa_signal_name(WTERMSIG(res->status)));
        r |= aa_rec_set_bool(rec, "audit.core_dumped", WCOREDUMP(res->status));
    } else
        r |= aa_rec_set(rec, "audit.signal", NULL);
    const char *reason = res->aborted        ? (s->fail_open ? "exit" : "aborted:log_write_failed")
                         : res->timed_out    ? "timeout"
                         : res->exec_errno   ? "exec_failed"
                         : res->exited && WIFSIGNALED(res->status) ? "signal"
                                                                   : "exit";
    r |= aa_rec_set_str(rec, "session.end_reason", reason);
    if (s->counts.lost)
        r |= aa_rec_set_str(rec, "session.completeness", "records_lost");
    else
        r |= aa_rec_set_str(rec, "session.completeness", "complete");
    if (rows_file) {
        cleanup_free char *buf = NULL;
        if (aa_read_file(rows_file, 65536, &buf, NULL) == 0) {
            /* The documented channel: a line ADMIN_AUDIT_ROWS=<N>; the last one wins. */
            long long rows = -1;
            for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
                char *end;
                if (strncmp(line, "ADMIN_AUDIT_ROWS=", 17) == 0) {
                    long long v = strtoll(line + 17, &end, 10);
                    if (end != line + 17 && (*end == '\0' || *end == '\r') && v >= 0)
                        rows = v;
                }
            }
            if (rows >= 0)
                r |= aa_rec_set_int(rec, "session.rows_affected", rows);
        }
    }
    if (recording)
        r |= aa_rec_set(rec, "session.recording", json_object_get(recording));
    struct json_object *fw = NULL;
    if (s->forwarder && aa_forwarder_status(s->forwarder, &fw) == 0 && fw)
        r |= aa_rec_set(rec, "session.forwarding", fw);
    char ts[AA_TIMESTAMP_MAX];
    aa_format_timestamp(&res->start, ts);
    r |= aa_rec_set_str(rec, "event.start", ts);
    struct timespec end = res->end;
    if (!res->exited)
        clock_gettime(CLOCK_REALTIME, &end);
    aa_format_timestamp(&end, ts);
    r |= aa_rec_set_str(rec, "event.end", ts);
    int64_t dur = (int64_t)(end.tv_sec - res->start.tv_sec) * 1000000000LL +
                  (end.tv_nsec - res->start.tv_nsec);
    r |= aa_rec_set_int(rec, "event.duration", dur < 0 ? 0 : dur);
    /* session.counts: one more record is this one. */
    struct json_object *c = json_object_new_object();
    if (!c) {
        json_object_put(rec);
        return -ENOMEM;
    }
    json_object_object_add(c, "records", json_object_new_int64((int64_t)s->counts.records + 1));
    json_object_object_add(c, "execs", json_object_new_int64((int64_t)s->counts.execs));
    json_object_object_add(c, "connects", json_object_new_int64((int64_t)s->counts.connects));
    json_object_object_add(c, "lookups", json_object_new_int64((int64_t)s->counts.lookups));
    json_object_object_add(c, "denied", json_object_new_int64((int64_t)s->counts.denied));
    json_object_object_add(c, "redactions", json_object_new_int64((int64_t)s->counts.redactions));
    json_object_object_add(c, "shim_unavailable",
                           json_object_new_int64((int64_t)s->counts.shim_unavailable));
    json_object_object_add(c, "lost", json_object_new_int64((int64_t)s->counts.lost));
    r |= aa_rec_set(rec, "session.counts", c);
    if (r) {
        json_object_put(rec);
        return -ENOMEM;
    }
    bool was_broken = s->broken;
    s->broken = false; /* one last try: the end record is worth attempting */
    r = aa_session_emit(s, rec);
    if (was_broken)
        s->broken = true;
    json_object_put(rec);
    return r;
}

/* ---- the verb -------------------------------------------------------------- */

static void
print_checks(const struct aa_checks *c, FILE *f)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct aa_check *k = &c->v[i];
        fprintf(f, "%-4s  %-24s %s", aa_check_status_name(k->status), k->name,
                k->detail ? k->detail : "");
        if (k->status == AA_CHECK_FAIL && k->fix)
            fprintf(f, " -- %s", k->fix);
        fputc('\n', f);
    }
}

static int
refuse(const char *check, const char *detail, const char *fix)
{
    fprintf(stderr, "admin-audit: refused: %s: %s%s%s\n", check, detail, fix ? "; " : "",
            fix ? fix : "");
    return AA_EXIT_REFUSED;
}

static char *
default_journal(const struct aa_config *cfg)
{
    if (cfg->log)
        return strdup(cfg->log);
    return aa_default_journal_path(cfg);
}

static bool
reason_ok(const char *r, long long min)
{
    if (!r)
        return false;
    cleanup_free char *t = strdup(r);
    if (!t)
        return false;
    aa_strstrip(t);
    return (long long)strlen(t) >= min && !is_placeholder_text(t);
}

struct run_state {
    struct run_opts o;
    struct aa_config cfg;
    struct aa_identity id;
    struct aa_task task;
    bool have_task;
    struct aa_checks checks;
    char *tasks_dir, *project_dir, *task_path, *journal_path, *shim, *doc_sha256;
    char *stub_path;      /* owned: the break-glass stub document this session wrote */
    char **command;       /* owned: the argv actually run */
    char *command_text;   /* owned: the documented text when the block is run */
    char *env_current;
    struct aa_tasklock *lock;
    char runtime_dir[PATH_MAX];
    char rows_file[PATH_MAX + 32];
};

static void
run_state_done(struct run_state *st)
{
    aa_checks_done(&st->checks);
    if (st->have_task)
        aa_task_done(&st->task);
    aa_identity_done(&st->id);
    aa_config_done(&st->cfg);
    free(st->tasks_dir);
    free(st->project_dir);
    free(st->task_path);
    free(st->journal_path);
    free(st->shim);
    free(st->doc_sha256);
    free(st->stub_path);
    aa_strv_free(st->command);
    free(st->command_text);
    free(st->env_current);
    free(st->o.forward);
    aa_tasklock_release(st->lock);
    if (st->rows_file[0])
        (void)unlink(st->rows_file);
    if (st->runtime_dir[0])
        (void)rmdir(st->runtime_dir);
}

static char **
strv_copy(char *const *v)
{
    size_t n = aa_strv_len(v);
    char **c = calloc(n + 1, sizeof *c);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(c[i] = strdup(v[i]))) {
            aa_strv_free(c);
            return NULL;
        }
    return c;
}

/* Build the session.start record. */
static struct json_object *
session_start_record(struct aa_session *s, struct run_state *st, struct aa_backstop *bs,
                     const char *cast_path, int argc, char **argv)
{
    struct json_object *rec = aa_record_new(&s->env, "session.start", "success", NULL,
                                            s->wrapper_pid);
    if (!rec)
        return NULL;
    const struct run_opts *o = &st->o;
    int r = 0;
    r |= aa_rec_set_str(rec, "session.mode",
                        o->verb == VERB_BREAKGLASS ? "break-glass" : "standard");
    r |= aa_rec_set_str(rec, "session.verb", verb_name(o->verb));
    if (o->reason)
        r |= aa_rec_set_bytes(rec, "session.reason", o->reason, strlen(o->reason), true,
                              &s->counts);
    if (o->incident)
        r |= aa_rec_set_bytes(rec, "session.incident", o->incident, strlen(o->incident), true,
                              &s->counts);
    if (o->deviation)
        r |= aa_rec_set_bytes(rec, "session.deviation", o->deviation, strlen(o->deviation), true,
                              &s->counts);
    if (o->rerun)
        r |= aa_rec_set_bool(rec, "session.rerun", true);
    r |= aa_rec_set_str(rec, "session.environment", st->env_current);
    if (st->have_task) {
        const struct aa_task *t = &st->task;
        r |= aa_rec_set_bytes(rec, "session.task_document.path", st->task_path,
                              strlen(st->task_path), false, NULL);
        r |= aa_rec_set_str(rec, "session.task_document.sha256", st->doc_sha256);
        if (t->name.value)
            r |= aa_rec_set_str(rec, "session.task_document.name", t->name.value);
        r |= aa_rec_set_str(rec, "session.task_document.category", t->category.value);
        r |= aa_rec_set_str(rec, "session.task_document.status", t->status.value);
        r |= aa_rec_set_str(rec, "session.task_document.reviewer", t->reviewer.value);
        r |= aa_rec_set_str(rec, "session.task_document.approved_at", t->approved_at.value);
        r |= aa_rec_set_str(rec, "session.task_document.authorization", t->authorization.value);
        if (t->command.body) {
            char sha[65];
            (void)aa_sha256_hex(t->command.body, strlen(t->command.body), sha);
            r |= aa_rec_set_str(rec, "session.task_document.command_sha256", sha);
        }
    } else if (st->task_path)
        r |= aa_rec_set_bytes(rec, "session.task_document.path", st->task_path,
                              strlen(st->task_path), false, NULL);
    r |= aa_identity_to_record(&st->id, rec);
    /* The command as it will run (redacted). */
    size_t n = aa_strv_len(st->command);
    struct aa_bytes *ab = calloc(n + 1, sizeof *ab);
    if (!ab) {
        json_object_put(rec);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        ab[i] = (struct aa_bytes){st->command[i], strlen(st->command[i])};
    r |= aa_rec_set_args(rec, "session.command.args", ab, n, &s->counts);
    free(ab);
    r |= aa_rec_set_str(rec, "session.command.source", o->command ? "argv" : "document");
    r |= aa_rec_set(rec, "session.checks", checks_json(&st->checks));
    if (o->verb == VERB_BREAKGLASS) {
        struct json_object *viol = json_object_new_array();
        for (size_t i = 0; viol && i < st->checks.n; i++)
            if (st->checks.v[i].status == AA_CHECK_FAIL)
                json_object_array_add(viol, json_object_new_string(st->checks.v[i].name));
        r |= aa_rec_set(rec, "session.violations", viol);
    } else if (o->deviation) {
        struct json_object *viol = json_object_new_array();
        if (viol)
            json_object_array_add(viol, json_object_new_string("command.match"));
        r |= aa_rec_set(rec, "session.violations", viol);
    }
    r |= aa_rec_set_bool(rec, "session.coverage.preload", st->shim != NULL);
    r |= aa_rec_set_bool(rec, "session.coverage.seccomp", aa_backstop_enabled(bs));
    r |= aa_rec_set_str(rec, "session.coverage.seccomp_detail", aa_backstop_detail(bs));
    if (aa_backstop_no_new_privs(bs))
        r |= aa_rec_set_bool(rec, "session.coverage.no_new_privs", true);
    r |= aa_rec_set_str(rec, "session.policy.on_channel_failure",
                        s->fail_open ? "fail-open" : "fail-closed");
    r |= aa_rec_set_bool(rec, "session.policy.sync", st->cfg.sync);
    r |= aa_rec_set_int(rec, "session.policy.timeout_ms", st->cfg.timeout_ms);
    r |= aa_rec_set_int(rec, "session.policy.grace_ms", st->cfg.grace_ms);
    r |= aa_rec_set_str(rec, "session.policy.seccomp",
                        st->cfg.seccomp == AA_SECCOMP_ON    ? "on"
                        : st->cfg.seccomp == AA_SECCOMP_OFF ? "off"
                                                            : "auto");
    r |= aa_rec_set_int(rec, "session.policy.forward_targets", (int64_t)st->cfg.n_forward);
    r |= aa_rec_set_str(rec, "session.policy.forward_format",
                        st->cfg.forward_format == AA_FORWARD_ECS ? "ecs" : "native");
    r |= aa_rec_set_bool(rec, "session.policy.config_trusted", st->cfg.trusted);
    r |= aa_rec_set_bytes(rec, "session.policy.config", st->cfg.path, strlen(st->cfg.path), false,
                          NULL);
    if (cast_path) {
        r |= aa_rec_set_str(rec, "session.recording.format", "asciicast-v2");
        r |= aa_rec_set_bytes(rec, "session.recording.file", cast_path, strlen(cast_path), false,
                              NULL);
        r |= aa_rec_set_bool(rec, "session.recording.input", st->o.record_input);
    }
    r |= aa_rec_set_str(rec, "trace.id", s->trace_id);
    /* The wrapper itself. */
    char exe[PATH_MAX];
    ssize_t en = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (en > 0)
        r |= aa_rec_set_bytes(rec, "process.executable", exe, (size_t)en, false, NULL);
    ab = calloc((size_t)argc + 2, sizeof *ab);
    if (!ab) {
        json_object_put(rec);
        return NULL;
    }
    ab[0] = (struct aa_bytes){"admin-audit", 11};
    for (int i = 0; i < argc; i++)
        ab[i + 1] = (struct aa_bytes){argv[i], strlen(argv[i])};
    r |= aa_rec_set_args(rec, "process.args", ab, (size_t)argc + 1, &s->counts);
    free(ab);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd))
        r |= aa_rec_set_bytes(rec, "process.working_directory", cwd, strlen(cwd), false, NULL);
    r |= aa_rec_set_int(rec, "process.parent.pid", getppid());
    r |= aa_rec_set_str(rec, "chain.alg", "sha256");
    if (r) {
        json_object_put(rec);
        return NULL;
    }
    return rec;
}

static int
exit_code_of(const struct child_result *res)
{
    if (res->timed_out)
        return AA_EXIT_TIMEOUT;
    if (res->exec_errno)
        return res->exec_errno == ENOENT ? AA_EXIT_NOT_FOUND : AA_EXIT_CANNOT_EXEC;
    if (!res->exited)
        return AA_EXIT_REFUSED;
    if (WIFEXITED(res->status))
        return WEXITSTATUS(res->status);
    if (WIFSIGNALED(res->status))
        return 128 + WTERMSIG(res->status);
    return AA_EXIT_REFUSED;
}

/* Resolve what will run: the given COMMAND, or the documented block. */
static int
choose_command(struct run_state *st)
{
    const struct run_opts *o = &st->o;
    if (o->verb == VERB_ROLLBACK) {
        if (o->command)
            return refuse("usage", "rollback runs the documented Rollback command",
                          "drop the COMMAND after --task");
        const struct aa_task_fence *f = &st->task.rollback;
        if (!f->body || f->placeholder) {
            if (st->task.rollback_adr.value)
                return refuse("rollback.command", "the task documents no rollback command",
                              st->task.rollback_adr.value);
            return refuse("rollback.command", "the Rollback section has no command",
                          "document the exact rollback command in a ```bash fence");
        }
        const char *sh = f->lang && strcmp(f->lang, "bash") == 0 ? "bash" : "/bin/sh";
        char *v[] = {(char *)sh, (char *)"-c", f->body, NULL};
        st->command = strv_copy(v);
        return st->command ? 0 : -ENOMEM;
    }
    if (o->command) {
        st->command = strv_copy(o->command);
        return st->command ? 0 : -ENOMEM;
    }
    if (o->verb == VERB_BREAKGLASS) {
        const char *sh = getenv("SHELL");
        char *v[] = {(char *)(sh && *sh ? sh : "/bin/sh"), (char *)"-i", NULL};
        st->command = strv_copy(v);
        return st->command ? 0 : -ENOMEM;
    }
    if (!st->have_task)
        return refuse("task.document", "no task document", "pass --task ID");
    const struct aa_task_fence *f = &st->task.command;
    if (!f->body || f->placeholder)
        return refuse("command.documented", "the Execution section has no command",
                      "document the exact command in the **Command**: ```bash fence");
    const char *sh = f->lang && strcmp(f->lang, "bash") == 0 ? "bash" : "/bin/sh";
    char *v[] = {(char *)sh, (char *)"-c", f->body, NULL};
    st->command = strv_copy(v);
    return st->command ? 0 : -ENOMEM;
}

static int
journal_writable_check(struct run_state *st)
{
    /* For `check`: can the journal be opened for append (nothing written)? */
    int fd = open(st->journal_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd >= 0) {
        close(fd);
        return aa_checks_add(&st->checks, "journal.writable", AA_CHECK_PASS, st->journal_path,
                             NULL);
    }
    if (errno == ENOENT) {
        cleanup_free char *dir = strdup(st->journal_path);
        if (!dir)
            return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        /* Walk up to the first existing directory. */
        while (slash && access(dir, F_OK) < 0 && (slash = strrchr(dir, '/')))
            *slash = '\0';
        if (access(slash && *dir ? dir : ".", W_OK | X_OK) == 0)
            return aa_checks_add(&st->checks, "journal.writable", AA_CHECK_PASS,
                                 st->journal_path, NULL);
    }
    char detail[PATH_MAX + 64];
    int e = errno;
    (void)snprintf(detail, sizeof detail, "%s: %s", st->journal_path,
                   e == ENXIO ? "a FIFO or device nobody reads" : strerror(e));
    return aa_checks_add(&st->checks, "journal.writable", AA_CHECK_FAIL, detail,
                         "pass --log FILE in a writable directory");
}

static int
load_task(struct run_state *st)
{
    const struct run_opts *o = &st->o;
    if (!o->task) {
        /* Break-glass without a task: the project (if any) still receives
         * the post-mortem under .aiwg/incidents. */
        if (o->verb == VERB_BREAKGLASS && (st->tasks_dir = aa_run_tasks_dir(o->tasks_dir, &st->cfg)))
            st->project_dir = aa_run_project_dir(st->tasks_dir);
        return 0;
    }
    if (!aa_task_id_valid(o->task))
        return refuse("task.id", "invalid task id", "use ADM- followed by 3 or more digits");
    st->tasks_dir = aa_run_tasks_dir(o->tasks_dir, &st->cfg);
    if (!st->tasks_dir)
        return refuse("task.document", "no tasks directory found",
                      "pass --tasks-dir DIR or run inside a project with .aiwg/admin-tasks");
    st->project_dir = aa_run_project_dir(st->tasks_dir);
    size_t n = strlen(st->tasks_dir) + strlen(o->task) + 8;
    st->task_path = malloc(n);
    if (!st->task_path || !st->project_dir)
        return -ENOMEM;
    (void)snprintf(st->task_path, n, "%s/%s.md", st->tasks_dir, o->task);
    char err[512] = "";
    int r = aa_task_load(st->task_path, &st->task, err, sizeof err);
    if (r == -ENOENT) {
        if (o->verb == VERB_BREAKGLASS)
            return 0; /* the stub is written once identity and reason are established */
        char d[PATH_MAX + 64];
        (void)snprintf(d, sizeof d, "no task document at %s", st->task_path);
        return refuse("task.document", d, "write the task document and have it approved");
    }
    if (r < 0) {
        if (o->verb == VERB_BREAKGLASS) {
            aa_log("warning: task document unusable: %s", err[0] ? err : strerror(-r));
            return 0;
        }
        return refuse("task.document", err[0] ? err : strerror(-r),
                      "fix the document (see `admin-audit lint`)");
    }
    st->have_task = true;
    cleanup_free char *buf = NULL;
    size_t len = 0;
    if (aa_read_file(st->task_path, AA_TASK_MAX_BYTES + 1, &buf, &len) == 0) {
        st->doc_sha256 = malloc(65);
        if (!st->doc_sha256)
            return -ENOMEM;
        (void)aa_sha256_hex(buf, len, st->doc_sha256);
    }
    return 0;
}

static int
apply_overrides(struct run_state *st)
{
    const struct run_opts *o = &st->o;
    struct aa_config *cfg = &st->cfg;
    if (o->log) {
        free(cfg->log);
        if (!(cfg->log = strdup(o->log)))
            return -ENOMEM;
    }
    if (o->fail_open)
        cfg->fail_open = true;
    if (o->sync)
        cfg->sync = true;
    if (o->timeout && aa_parse_duration(o->timeout, &cfg->timeout_ms) < 0)
        return usage_error("invalid --timeout '%s' (use 90s, 15m, 2h)", o->timeout);
    if (o->grace && aa_parse_duration(o->grace, &cfg->grace_ms) < 0)
        return usage_error("invalid --grace '%s' (use 10s, 1m)", o->grace);
    if (o->seccomp) {
        if (strcmp(o->seccomp, "auto") == 0)
            cfg->seccomp = AA_SECCOMP_AUTO;
        else if (strcmp(o->seccomp, "on") == 0)
            cfg->seccomp = AA_SECCOMP_ON;
        else if (strcmp(o->seccomp, "off") == 0)
            cfg->seccomp = AA_SECCOMP_OFF;
        else
            return usage_error("invalid --seccomp '%s' (auto, on or off)", o->seccomp);
    }
    if (o->forward_format) {
        if (strcmp(o->forward_format, "native") == 0)
            cfg->forward_format = AA_FORWARD_NATIVE;
        else if (strcmp(o->forward_format, "ecs") == 0)
            cfg->forward_format = AA_FORWARD_ECS;
        else
            return usage_error("invalid --forward-format '%s' (native or ecs)", o->forward_format);
    }
    if (o->n_forward) {
        struct aa_forward_target *v =
            realloc(cfg->forward, (cfg->n_forward + o->n_forward) * sizeof *v);
        if (!v)
            return -ENOMEM;
        cfg->forward = v;
        for (size_t i = 0; i < o->n_forward; i++) {
            v[cfg->n_forward] = (struct aa_forward_target){.tls_verify = true};
            if (!(v[cfg->n_forward].url = strdup(o->forward[i])))
                return -ENOMEM;
            cfg->n_forward++;
        }
    }
    return 0;
}

/* Everything before the command starts; returns 0 to go on, else an exit code. */
static int
prepare(struct run_state *st, int argc, char **argv)
{
    struct run_opts *o = &st->o;
    char err[1024] = "";
    const char *cfgpath = o->config ? o->config : AA_DEFAULT_CONFIG;
    int r = aa_config_load(cfgpath, &st->cfg, err, sizeof err);
    if (r < 0)
        return refuse("config", err[0] ? err : strerror(-r), "fix or remove the config file");
    if ((r = apply_overrides(st)) != 0)
        return r < 0 ? aa_log_errno(r, "out of memory"), AA_EXIT_REFUSED : r;

    if (o->verb == VERB_BREAKGLASS) {
        if (!reason_ok(o->reason, st->cfg.breakglass_min_reason)) {
            char d[128];
            (void)snprintf(d, sizeof d, "a break-glass session needs a reason of at least %lld "
                           "characters", st->cfg.breakglass_min_reason);
            return refuse("break-glass.reason", d, "pass --reason 'what is broken and why now'");
        }
    } else if (!o->task)
        return usage_error("--task ID is required");
    if (o->rerun && !reason_ok(o->reason, 3))
        return refuse("rerun.reason", "--rerun needs --reason TEXT", "say why it runs again");
    if ((r = load_task(st)) != 0)
        return r < 0 ? aa_log_errno(r, "%m"), AA_EXIT_REFUSED : r;
    if ((r = choose_command(st)) != 0)
        return r < 0 ? aa_log_errno(r, "%m"), AA_EXIT_REFUSED : r;

    if (aa_identity_get(o->operator_name, &st->id) < 0)
        return aa_log_errno(-ENOMEM, "identity: %m"), AA_EXIT_REFUSED;
    if (aa_gate_current_environment(&st->cfg, &st->env_current, err, sizeof err) < 0)
        st->env_current = NULL; /* reported by the gate's env.identity check */

    struct aa_gate_input in = {
        .mode = o->verb == VERB_ROLLBACK     ? AA_GATE_ROLLBACK
                : o->verb == VERB_BREAKGLASS ? AA_GATE_BREAKGLASS
                                             : AA_GATE_RUN,
        .task = st->have_task ? &st->task : NULL,
        .task_id = o->task,
        .task_path = st->task_path,
        .project_dir = st->project_dir,
        .config = &st->cfg,
        .operator_name = st->id.name,
        .identity_source = st->id.source,
        .identity_anonymous_root = st->id.anonymous_root,
        .command = o->verb == VERB_ROLLBACK ? NULL : o->command,
        .deviation = o->deviation,
        .rerun = o->rerun,
        .rerun_reason = o->reason,
        .today_days = today_days(),
    };
    if (o->verb != VERB_BREAKGLASS || o->task) {
        if (aa_gate_evaluate(&in, &st->checks) < 0)
            return aa_log_errno(-ENOMEM, "gate: %m"), AA_EXIT_REFUSED;
    }
    if (o->verb == VERB_BREAKGLASS && st->id.anonymous_root)
        return refuse("identity.operator",
                      "anonymous root: no login uid, no sudo, no ssh, no CI marker",
                      "log in as yourself (pam_loginuid), use sudo, or pass --operator NAME");

    st->journal_path = default_journal(&st->cfg);
    if (!st->journal_path)
        return refuse("journal.writable", "no journal path", "pass --log FILE");
    if (journal_writable_check(st) < 0)
        return AA_EXIT_REFUSED;

    st->shim = find_shim();
    if (!st->shim)
        aa_checks_add(&st->checks, "coverage.preload", AA_CHECK_FAIL,
                      "libadmin-audit-shim.so not found",
                      "install the shim under <libdir>/admin-audit/");
    else
        aa_checks_add(&st->checks, "coverage.preload", AA_CHECK_PASS, st->shim, NULL);

    if (o->verb == VERB_CHECK) {
        print_checks(&st->checks, stdout);
        const struct aa_check *f = aa_checks_first_fail(&st->checks);
        if (f) {
            fprintf(stderr, "admin-audit: check: would refuse: %s: %s%s%s\n", f->name,
                    f->detail ? f->detail : "", f->fix ? "; " : "", f->fix ? f->fix : "");
            return AA_EXIT_REFUSED;
        }
        printf("ok: %s would run\n", o->task ? o->task : "the session");
        return -1; /* done, exit 0 */
    }
    if (o->verb != VERB_BREAKGLASS) {
        const struct aa_check *f = aa_checks_first_fail(&st->checks);
        if (f)
            return refuse(f->name, f->detail ? f->detail : "failed", f->fix);
    } else {
        const struct aa_check *jf = NULL;
        for (size_t i = 0; i < st->checks.n; i++)
            if (st->checks.v[i].status == AA_CHECK_FAIL &&
                (strcmp(st->checks.v[i].name, "journal.writable") == 0 ||
                 strcmp(st->checks.v[i].name, "coverage.preload") == 0))
                jf = &st->checks.v[i];
        if (jf)
            return refuse(jf->name, jf->detail, jf->fix);
        if (o->task && !st->have_task) {
            const char *dir = st->tasks_dir;
            r = aa_breakglass_write_stub(dir, o->task, st->command, o->reason, o->incident,
                                         st->id.name, &st->stub_path, err, sizeof err);
            if (r < 0)
                return refuse("break-glass.stub", err[0] ? err : strerror(-r),
                              "make the tasks directory writable");
            fprintf(stderr, "admin-audit: wrote stub task document %s (Status draft)\n",
                    st->stub_path);
        }
    }
    (void)argc;
    (void)argv;
    return 0;
}

static void
print_banner(const struct aa_session *s, const struct run_state *st)
{
    fprintf(stderr,
            "admin-audit: *** BREAK-GLASS SESSION %s ***\n"
            "admin-audit: operator %s (%s), reason: %s%s%s\n"
            "admin-audit: every command is recorded%s; retroactive approval is owed within 24 h "
            "and a post-mortem within 48 h\n",
            s->id, st->id.name, st->id.source, st->o.reason,
            st->o.incident ? ", incident " : "", st->o.incident ? st->o.incident : "",
            isatty(STDIN_FILENO) ? " and the terminal is recorded" : "");
}

static void
print_summary(const struct aa_session *s, const struct run_state *st,
              const struct child_result *res, int code)
{
    if (res->aborted && !s->fail_open)
        fprintf(stderr,
                "admin-audit: session %s aborted (fail-closed): the journal could not be written; "
                "further execs and connects were refused and the command was stopped\n",
                s->id);
    if (!st->o.quiet) {
        double secs = (double)(res->end.tv_sec - res->start.tv_sec) +
                      (double)(res->end.tv_nsec - res->start.tv_nsec) / 1e9;
        fprintf(stderr,
                "admin-audit: %s %s: exit %d after %.3fs; %llu records (%llu execs, %llu "
                "connects, %llu lookups, %llu denied, %llu lost); journal %s\n",
                st->o.task ? st->o.task : "break-glass", verb_name(st->o.verb), code,
                secs < 0 ? 0 : secs, (unsigned long long)s->counts.records,
                (unsigned long long)s->counts.execs, (unsigned long long)s->counts.connects,
                (unsigned long long)s->counts.lookups, (unsigned long long)s->counts.denied,
                (unsigned long long)s->counts.lost, st->journal_path);
        if (st->o.verb == VERB_BREAKGLASS)
            fprintf(stderr,
                    "admin-audit: BREAK-GLASS follow-up owed: retroactive approval of %s within "
                    "24 h, post-mortem within 48 h (`admin-audit pending` lists what is open)\n",
                    st->o.task ? st->o.task : "the change");
    }
    /* The operator's receipt (contract §6): always, even with --quiet. */
    fprintf(stderr, "admin-audit: session %s seq %llu head %s\n", s->id,
            (unsigned long long)aa_journal_seq(s->journal), aa_journal_head(s->journal));
}

static int
make_runtime_dir(struct run_state *st, const char *sid)
{
    const char *base = getenv("XDG_RUNTIME_DIR");
    if (!base || access(base, W_OK) < 0)
        base = "/tmp";
    (void)snprintf(st->runtime_dir, sizeof st->runtime_dir, "%s/admin-audit.%s", base, sid);
    if (mkdir(st->runtime_dir, 0700) < 0) {
        int e = errno;
        st->runtime_dir[0] = '\0';
        return -e;
    }
    (void)snprintf(st->rows_file, sizeof st->rows_file, "%s/rows", st->runtime_dir);
    return 0;
}

/* As PID 1 of a PID namespace (a container's entrypoint) the wrapper would
 * ignore a SIGTERM/SIGINT/SIGHUP/SIGQUIT with the default disposition (init
 * semantics), so a `docker stop` before the signals are blocked for the
 * signalfd would be lost.  Until then these end it as they end any other
 * process: before the command starts, nothing of it runs. */
static void
pid1_early_signal(int sig)
{
    _exit(128 + sig);
}

static void
pid1_early_handlers(void)
{
    if (getpid() != 1)
        return;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction sa = {.sa_handler = pid1_early_signal};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < AA_ARRAY_SIZE(sigs); i++) {
        struct sigaction old;
        /* an inherited SIG_IGN (nohup and the like) stays ignored */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            (void)sigaction(sigs[i], &sa, NULL);
    }
}

int
aa_cmd_run(int argc, char **argv)
{
    pid1_early_handlers();
    struct run_state st = {0};
    bool done = false;
    int code = 0;
    if (parse_opts(argc, argv, &st.o, &done, &code) < 0) {
        run_state_done(&st);
        return aa_log_errno(-ENOMEM, "%m"), AA_EXIT_REFUSED;
    }
    if (done) {
        run_state_done(&st);
        return code;
    }
    code = prepare(&st, argc, argv);
    if (code != 0) {
        run_state_done(&st);
        return code < 0 ? 0 : code;
    }

    struct aa_session s = {
        .wrapper_pid = getpid(),
        .cfg = &st.cfg,
        .fail_open = st.cfg.fail_open,
    };
    uuid_v7(s.id);
    for (size_t i = 0, k = 0; s.id[i]; i++)
        if (s.id[i] != '-')
            s.trace_id[k++] = s.id[i];
    s.env = (struct aa_envelope){
        .session_id = s.id,
        .task_id = st.o.task,
        .user_name = st.id.name,
        .user_effective = st.id.euid_name,
        .host_name = st.id.host_name,
    };
    struct aa_channel *ch = NULL;
    struct aa_backstop *bs = NULL;
    struct aa_breakglass_tty *tty = NULL;
    struct json_object *recording = NULL;
    char **envp = NULL;
    char *resolved = NULL;
    int r;
    code = AA_EXIT_REFUSED;

    if (st.o.task) {
        char holder[128] = "";
        r = aa_tasklock_acquire(st.tasks_dir, st.o.task, s.id, &st.lock, holder, sizeof holder);
        if (r == -EBUSY) {
            char d[256];
            (void)snprintf(d, sizeof d, "%s is being run by session %s", st.o.task,
                           holder[0] ? holder : "(unknown)");
            refuse("task.lock", d, "wait for that session to end");
            goto out;
        }
        if (r < 0)
            aa_log_errno(r, "warning: cannot take the task lock for %s: %m", st.o.task);
    }

    r = aa_journal_open(st.journal_path, s.id, st.cfg.sync ? AA_JOURNAL_SYNC : 0, &s.journal);
    if (r < 0) {
        char d[PATH_MAX + 64];
        (void)snprintf(d, sizeof d, "%s: %s", st.journal_path, strerror(-r));
        refuse("journal.writable", d, "pass --log FILE in a writable directory");
        goto out;
    }
    if ((r = make_runtime_dir(&st, s.id)) < 0) {
        aa_log_errno(r, "cannot create the runtime directory: %m");
        goto out;
    }
    r = aa_backstop_prepare(&s, st.cfg.seccomp, &bs);
    if (r < 0) {
        refuse("coverage.seccomp", r == -EPERM ? "the seccomp backstop cannot be installed here"
                                               : strerror(-r),
               "use --seccomp auto or off");
        goto out;
    }
    if (aa_backstop_no_new_privs(bs))
        fprintf(stderr, "admin-audit: --seccomp on without CAP_SYS_ADMIN: no_new_privs is set, "
                        "setuid programs will not gain privileges in this session\n");
    if (st.shim && (r = aa_channel_open(&s, &ch)) < 0) {
        aa_log_errno(r, "cannot open the audit channel: %m");
        goto out;
    }
    if (st.o.verb == VERB_BREAKGLASS && isatty(STDIN_FILENO)) {
        r = aa_breakglass_tty_open(st.journal_path, s.id, st.command[0], st.o.record_input, &tty);
        if (r < 0 && r != -ENOTTY) {
            aa_log_errno(r, "cannot set up the session terminal: %m");
            goto out;
        }
    }
    envp = child_environment(&s, ch, st.shim, st.rows_file);
    if (!envp) {
        aa_log_errno(-ENOMEM, "%m");
        goto out;
    }

    struct json_object *start =
        session_start_record(&s, &st, bs, tty ? aa_breakglass_tty_cast_path(tty) : NULL, argc,
                             argv);
    if (!start) {
        aa_log_errno(-ENOMEM, "%m");
        goto out;
    }
    r = aa_session_emit(&s, start);
    json_object_put(start);
    if (r < 0) {
        char d[PATH_MAX + 64];
        (void)snprintf(d, sizeof d, "%s: %s", st.journal_path, strerror(-r));
        refuse("journal.writable", d, "free space or pass --log FILE elsewhere");
        goto out;
    }
    if (st.cfg.n_forward && aa_forwarder_start(&st.cfg, st.journal_path, &s.forwarder) < 0)
        aa_log("warning: forwarding not started; records stay spooled in %s", st.journal_path);
    if (st.o.verb == VERB_BREAKGLASS)
        print_banner(&s, &st);

    /* ---- spawn ---- */
    /* The wrapper must see EPIPE/EFBIG as errors, not die of them; the
     * command gets the dispositions it would have had without us. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, saved_pipe, saved_xfsz, saved_ttou;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &saved_pipe);
    sigaction(SIGXFSZ, &ign, &saved_xfsz);
    sigaction(SIGTTOU, NULL, &saved_ttou);
    /* The wrapper holds a descriptor per exec in flight (and per parked
     * connection): raise its own soft RLIMIT_NOFILE towards the hard limit,
     * as systemd does for services, and give the command its own back. */
    struct rlimit nofile_orig;
    bool nofile_raised = false;
    if (getrlimit(RLIMIT_NOFILE, &nofile_orig) == 0) {
        struct rlimit want = nofile_orig;
        want.rlim_cur = nofile_orig.rlim_max < 65536 ? nofile_orig.rlim_max : 65536;
        nofile_raised = want.rlim_cur > nofile_orig.rlim_cur && setrlimit(RLIMIT_NOFILE, &want) == 0;
    }
    sigset_t mask, oldmask;
    sigemptyset(&mask);
    int sigs[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
    for (size_t i = 0; i < AA_ARRAY_SIZE(sigs); i++)
        sigaddset(&mask, sigs[i]);
    sigprocmask(SIG_BLOCK, &mask, &oldmask);
    struct loop L = {.s = &s, .ch = ch, .bs = bs, .tty = tty, .grace_ms = st.cfg.grace_ms};
    L.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    L.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
    int gop[2], errp[2];
    if (L.sigfd < 0 || L.timerfd < 0 || pipe2(gop, O_CLOEXEC) < 0) {
        aa_log_errno(-errno, "cannot set up the session: %m");
        goto out;
    }
    if (pipe2(errp, O_CLOEXEC) < 0) {
        aa_log_errno(-errno, "cannot set up the session: %m");
        close(gop[0]);
        close(gop[1]);
        goto out;
    }
    bool foreground = !tty && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
    struct child_result res = {0};
    clock_gettime(CLOCK_REALTIME, &res.start);
    pid_t pid = fork();
    if (pid < 0) {
        aa_log_errno(-errno, "fork: %m");
        goto out;
    }
    if (pid == 0) {
        close(gop[1]);
        close(errp[0]);
        int e = 0;
        /* e is a positive errno, as the parent reads it from errp. */
        if (tty)
            e = -aa_breakglass_tty_child(tty);
        else
            (void)setpgid(0, 0);
        if (e == 0)
            e = -aa_backstop_child(bs);
        char go;
        if (e == 0 && read(gop[0], &go, 1) != 1)
            _exit(AA_EXIT_REFUSED); /* the wrapper refused or died: run nothing */
        sigaction(SIGPIPE, &saved_pipe, NULL);
        sigaction(SIGXFSZ, &saved_xfsz, NULL);
        sigaction(SIGTTOU, &saved_ttou, NULL);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        if (nofile_raised)
            (void)setrlimit(RLIMIT_NOFILE, &nofile_orig);
        if (e == 0) {
            execvpe(st.command[0], st.command, envp);
            e = errno;
        }
        (void)!write(errp[1], &e, sizeof e);
        _exit(e == ENOENT ? AA_EXIT_NOT_FOUND : AA_EXIT_CANNOT_EXEC);
    }
    close(gop[0]);
    close(errp[1]);
    res.pid = pid;
    aa_backstop_attach(bs, ch);
    L.pgid = pid;
    if (!tty)
        (void)setpgid(pid, pid);
    else
        aa_breakglass_tty_parent(tty);
    if (aa_backstop_parent(bs) < 0)
        aa_log("warning: backstop notify descriptor not received; backstop off");
    resolved = resolve_command(st.command[0]);
    r = record_top_exec(&s, pid, st.command, resolved ? resolved : st.command[0], 0, NULL);
    if (r < 0 && !s.fail_open) {
        /* Record before effect: the command does not start. */
        close(gop[1]);
        (void)waitpid(pid, NULL, 0);
        aa_log_errno(r, "cannot record the command's exec: %m; nothing was executed");
        goto out;
    }
    char first_ref[128];
    (void)snprintf(first_ref, sizeof first_ref, "%s:%llu", s.id,
                   (unsigned long long)aa_journal_seq(s.journal));
    if (foreground) {
        signal(SIGTTOU, SIG_IGN);
        (void)tcsetpgrp(STDIN_FILENO, pid);
    }
    if (st.cfg.timeout_ms > 0)
        arm_timer(L.timerfd, st.cfg.timeout_ms);
    (void)!write(gop[1], "g", 1);
    close(gop[1]);
    /* The exec's outcome: EOF on CLOEXEC = it ran; an errno = it did not.  The
     * backstop may hold the child's execve, so serve it while waiting. */
    for (;;) {
        struct pollfd pf[5] = {{.fd = errp[0], .events = POLLIN}};
        size_t bn = aa_backstop_pollfds(bs, pf + 1, 4);
        if (poll(pf, 1 + bn, -1) < 0 && errno != EINTR)
            break;
        if (bn)
            (void)aa_backstop_dispatch(bs, pf + 1, bn);
        if (pf[0].revents) {
            int e = 0;
            ssize_t n = read(errp[0], &e, sizeof e);
            if (n == (ssize_t)sizeof e && e) {
                res.exec_errno = e;
                (void)record_top_exec(&s, pid, st.command, resolved ? resolved : st.command[0], e,
                                      first_ref);
                fprintf(stderr, "admin-audit: %s: %s\n", st.command[0], strerror(e));
            }
            break;
        }
    }
    close(errp[0]);

    r = run_loop(&L, &res);
    if (r < 0)
        aa_log_errno(r, "session loop: %m");
    if (foreground)
        (void)tcsetpgrp(STDIN_FILENO, getpgrp());
    if (ch)
        (void)aa_channel_drain(ch);
    if (tty)
        (void)aa_breakglass_tty_close(tty, &recording);
    if (!res.exited)
        clock_gettime(CLOCK_REALTIME, &res.end);
    code = exit_code_of(&res);
    if (res.aborted && !s.fail_open)
        code = res.exited && WIFEXITED(res.status) ? WEXITSTATUS(res.status) : code;
    r = write_session_end(&s, &res, code, st.rows_file, recording);
    if (r < 0)
        aa_log_errno(r, "cannot write session.end: %m");
    if (s.forwarder && aa_forwarder_finish(s.forwarder, 5000) < 0)
        aa_log("warning: not every record was forwarded; they stay spooled (admin-audit flush)");
    s.forwarder = NULL;
    if (st.o.verb == VERB_BREAKGLASS) {
        cleanup_free char *pm = NULL;
        cleanup_free char *incidents = st.cfg.incidents_dir ? strdup(st.cfg.incidents_dir)
                                                            : NULL;
        if (!incidents && st.project_dir) {
            size_t n = strlen(st.project_dir) + 32;
            if ((incidents = malloc(n)))
                (void)snprintf(incidents, n, "%s/.aiwg/incidents", st.project_dir);
        }
        if (incidents &&
            aa_breakglass_write_postmortem(incidents, st.journal_path, s.id, &pm) == 0 && pm) {
            fprintf(stderr, "admin-audit: post-mortem stub written: %s\n", pm);
            bool linked = false;
            if (st.stub_path &&
                (r = aa_breakglass_link_postmortem(st.stub_path, pm, st.project_dir, &linked)) < 0)
                aa_log_errno(r, "could not name the post-mortem in %s: %m", st.stub_path);
        }
    }
    print_summary(&s, &st, &res, code);

out:
    free(resolved);
    json_object_put(recording);
    aa_strv_free(envp);
    aa_channel_close(ch);
    aa_backstop_free(bs);
    aa_journal_close(s.journal);
    run_state_done(&st);
    return code;
}
