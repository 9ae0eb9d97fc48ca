/* The gate (contract §4): every rule evaluated into a list of checks.
 * `run` refuses (125) when any check has status FAIL; `break-glass` records
 * every FAIL as a violation instead; `check` prints them all. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct aa_task;
struct aa_config;

enum aa_check_status { AA_CHECK_PASS, AA_CHECK_WARN, AA_CHECK_FAIL, AA_CHECK_SKIP };

struct aa_check {
    char *name;   /* owned: stable dotted name, e.g. "task.status", "approval.reviewer", "env.scope" */
    enum aa_check_status status;
    char *detail; /* owned: what was found ("Status is draft") */
    char *fix;    /* owned, may be NULL: what would satisfy it ("set **Status**: approved after review") */
};

struct aa_checks {
    struct aa_check *v; /* owned array */
    size_t n, cap;
};

enum aa_gate_mode { AA_GATE_RUN, AA_GATE_ROLLBACK, AA_GATE_BREAKGLASS };

struct aa_gate_input {
    enum aa_gate_mode mode;
    const struct aa_task *task;      /* borrowed; NULL when the document is missing (break-glass) */
    const char *task_id;             /* borrowed: the id asked for on the command line */
    const char *task_path;           /* borrowed: where the document is (or would be) */
    const char *project_dir;         /* borrowed: the directory holding .aiwg (for .env.example), may be NULL */
    const struct aa_config *config;  /* borrowed */
    const char *operator_name;       /* borrowed: user.name of the identity (contract §5) */
    const char *identity_source;     /* borrowed: loginuid/sudo/ssh/ci/claimed/uid */
    bool identity_anonymous_root;    /* no login uid, no sudo, no ssh, no CI marker, no --operator */
    char *const *command;            /* borrowed, NULL-terminated, NULL when no COMMAND given */
    const char *deviation;           /* borrowed, may be NULL: --deviation TEXT */
    bool rerun;                      /* --rerun */
    const char *rerun_reason;        /* borrowed, may be NULL */
    long today_days;                 /* days since epoch (UTC) for date checks; tests pin it */
};

/* Evaluate every rule; appends to *out (which may already hold checks).
 * The checks and their order:
 *   task.document, task.id, task.category, task.status, approval.reviewer,
 *   approval.approved_at, approval.authorization, approval.segregation,
 *   env.identity (config vs APP_ENV), env.scope, env.dotenv, env.vars,
 *   env.image, env.resources, prechecks, command.match, identity.operator
 * Reads the process environment (APP_ENV, the image ref variable, required
 * variables) and /proc/meminfo, nproc for resources.  Returns 0 or -ENOMEM. */
int aa_gate_evaluate(const struct aa_gate_input *in, struct aa_checks *out);

/* Append one check (strings copied). Returns 0 or -ENOMEM. */
int aa_checks_add(struct aa_checks *c, const char *name, enum aa_check_status st, const char *detail,
                  const char *fix);

/* The first FAIL, or NULL. */
const struct aa_check *aa_checks_first_fail(const struct aa_checks *c);

const char *aa_check_status_name(enum aa_check_status st); /* "pass" "warn" "fail" "skip" */

void aa_checks_done(struct aa_checks *c);

/* The current environment per contract §4: config `environment` when the
 * config is trusted, else APP_ENV; canonical long form (development,
 * staging, production).  *ret_env owned (NULL when neither is set).
 * Returns 0, or -EINVAL when both are set and disagree (detail in err). */
int aa_gate_current_environment(const struct aa_config *cfg, char **ret_env, char *err, size_t errlen);

/* Keys of a .env.example ("NAME=...", "export NAME=...", # comments) as an
 * owned NULL-terminated vector.  Returns 0 or -errno (-ENOENT: no file). */
int aa_dotenv_keys(const char *path, char ***ret);

/* The person in a "Name/role" or "Name (role)" field: the part before the
 * first '/' or '(', trimmed.  Owned, NULL on ENOMEM. */
char *aa_person_name(const char *s);

/* Canonical environment name: dev->development, prod->production, lowercase. Owned. */
char *aa_env_canonical(const char *name);

/* POSIX shell-word splitting of a command line (quotes, backslashes, no
 * expansion; # comments and line continuations handled).  Returns 0 and an
 * owned NULL-terminated vector, or -EINVAL for unbalanced quotes. */
int aa_shell_split(const char *s, char ***ret_argv);
