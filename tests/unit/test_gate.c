/* Unit tests of the gate (wrapper/gate.c): every rule of contract §4, pass and fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "gate.h"
#include "taskdoc.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef AA_SOURCE_DIR
#define AA_SOURCE_DIR "."
#endif
#define FIXTURES AA_SOURCE_DIR "/tests/fixtures/tasks/"

#define DIGEST "sha256:4f0c2d0a9f0e7d3b5c1a8e6f2b9d4c7a1e3f5b8d0c2a4e6f8b1d3c5e7a9f0b2d"
#define IMAGE "registry.example.com/accounts:1.4.2@" DIGEST
#define SECRET "postgres://app:hunter2@db/app"

static const char *const check_order[] = {
    "task.document", "task.id",           "task.category",        "task.status",
    "approval.reviewer", "approval.approved_at", "approval.authorization", "approval.segregation",
    "env.identity",  "env.scope",         "env.dotenv",           "env.vars",
    "env.image",     "env.resources",     "prechecks",            "command.match",
    "identity.operator",
};

struct fx {
    char dir[64];
    char task_path[128];
    char *adm001; /* fixture text */
    struct aa_config cfg;
    struct aa_gate_input in;
    struct aa_task task;
    bool have_task;
    struct aa_checks out;
};

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void
set_env_defaults(void)
{
    setenv("APP_ENV", "production", 1);
    setenv("IMAGE_REF", IMAGE, 1);
    setenv("DATABASE_URL", SECRET, 1);
    unsetenv("AA_TEST_IMAGE");
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/aa-gate-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    (void)snprintf(f->task_path, sizeof f->task_path, "%s/ADM-001.md", f->dir);
    char env_example[128];
    (void)snprintf(env_example, sizeof env_example, "%s/.env.example", f->dir);
    write_file(env_example, "# the application's variables\n"
                            "export APP_ENV=development\n"
                            "  DATABASE_URL = postgres://localhost/app\n"
                            "#REDIS_URL=commented out\n"
                            "\n"
                            "LOG_LEVEL=\n");
    assert_int_equal(aa_read_file(FIXTURES "ADM-001.md", 1 << 20, &f->adm001, NULL), 0);
    set_env_defaults();
    f->in = (struct aa_gate_input){
        .mode = AA_GATE_RUN,
        .task_id = "ADM-001",
        .task_path = f->task_path,
        .project_dir = f->dir,
        .config = &f->cfg,
        .operator_name = "olga",
        .identity_source = "loginuid",
        .today_days = 20513, /* 2026-03-01 */
    };
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char p[160];
    (void)snprintf(p, sizeof p, "%s/.env.example", f->dir);
    unlink(p);
    rmdir(f->dir);
    if (f->have_task)
        aa_task_done(&f->task);
    aa_checks_done(&f->out);
    free(f->adm001);
    free(f);
    return 0;
}

/* Load ADM-001 with up to two textual substitutions. */
static void
load_task(struct fx *f, const char *from, const char *to, const char *from2, const char *to2)
{
    char *doc = strdup(f->adm001);
    assert_non_null(doc);
    const char *subst[2][2] = { { from, to }, { from2, to2 } };
    for (int i = 0; i < 2; i++) {
        if (!subst[i][0])
            continue;
        char *at = strstr(doc, subst[i][0]);
        if (!at)
            fail_msg("fixture has no \"%s\"", subst[i][0]);
        size_t pre = (size_t)(at - doc), fl = strlen(subst[i][0]), tl = strlen(subst[i][1]);
        char *nd = malloc(strlen(doc) - fl + tl + 1);
        assert_non_null(nd);
        memcpy(nd, doc, pre);
        memcpy(nd + pre, subst[i][1], tl);
        strcpy(nd + pre + tl, at + fl);
        free(doc);
        doc = nd;
    }
    if (f->have_task)
        aa_task_done(&f->task);
    char err[256];
    int r = aa_task_parse(doc, strlen(doc), f->task_path, &f->task, err, sizeof err);
    if (r < 0)
        fail_msg("parse: %s", err);
    f->have_task = true;
    f->in.task = &f->task;
    free(doc);
}

static const struct aa_check *
evaluate(struct fx *f, const char *name)
{
    aa_checks_done(&f->out);
    assert_int_equal(aa_gate_evaluate(&f->in, &f->out), 0);
    for (size_t i = 0; i < f->out.n; i++)
        if (strcmp(f->out.v[i].name, name) == 0)
            return &f->out.v[i];
    fail_msg("no check %s", name);
    return NULL;
}

static void
expect(struct fx *f, const char *name, enum aa_check_status st, const char *detail_part)
{
    const struct aa_check *c = evaluate(f, name);
    if (c->status != st)
        fail_msg("%s: status %s (%s), want %s", name, aa_check_status_name(c->status), c->detail,
                 aa_check_status_name(st));
    if (detail_part && !strstr(c->detail, detail_part))
        fail_msg("%s: detail \"%s\" lacks \"%s\"", name, c->detail, detail_part);
    if (st == AA_CHECK_FAIL)
        assert_true(c->fix && *c->fix);
    /* never a variable's value */
    assert_null(strstr(c->detail, "hunter2"));
}

/* ---- everything passes ------------------------------------------------------------------- */

static void
test_all_pass_and_order(void **state)
{
    struct fx *f = *state;
    load_task(f, NULL, NULL, NULL, NULL);
    evaluate(f, "task.document");
    assert_int_equal(f->out.n, sizeof check_order / sizeof check_order[0]);
    for (size_t i = 0; i < f->out.n; i++) {
        const struct aa_check *c = &f->out.v[i];
        assert_string_equal(c->name, check_order[i]);
        if (c->status != AA_CHECK_PASS)
            fail_msg("%s: %s (%s)", c->name, aa_check_status_name(c->status), c->detail);
        assert_non_null(c->detail);
    }
    assert_null(aa_checks_first_fail(&f->out));
    /* appends to existing checks */
    assert_int_equal(aa_gate_evaluate(&f->in, &f->out), 0);
    assert_int_equal(f->out.n, 2 * (sizeof check_order / sizeof check_order[0]));
}

static void
test_checks_api(void **state)
{
    (void)state;
    struct aa_checks c = { 0 };
    assert_null(aa_checks_first_fail(&c));
    for (int i = 0; i < 100; i++)
        assert_int_equal(aa_checks_add(&c, "x", AA_CHECK_PASS, "d", NULL), 0);
    assert_int_equal(aa_checks_add(&c, "bad", AA_CHECK_FAIL, "broken", "fix it"), 0);
    assert_int_equal(aa_checks_add(&c, "bad2", AA_CHECK_FAIL, NULL, NULL), 0);
    assert_int_equal(c.n, 102);
    assert_string_equal(aa_checks_first_fail(&c)->name, "bad");
    assert_string_equal(aa_checks_first_fail(&c)->fix, "fix it");
    assert_string_equal(c.v[101].detail, "");
    assert_string_equal(aa_check_status_name(AA_CHECK_PASS), "pass");
    assert_string_equal(aa_check_status_name(AA_CHECK_WARN), "warn");
    assert_string_equal(aa_check_status_name(AA_CHECK_FAIL), "fail");
    assert_string_equal(aa_check_status_name(AA_CHECK_SKIP), "skip");
    aa_checks_done(&c);
    aa_checks_done(&c);
}

/* ---- rule 1 ------------------------------------------------------------------------------- */

static void
test_document_missing(void **state)
{
    struct fx *f = *state;
    f->in.task = NULL;
    expect(f, "task.document", AA_CHECK_FAIL, "no task document at /tmp/aa-gate-");
    assert_int_equal(f->out.n, sizeof check_order / sizeof check_order[0]);
    for (size_t i = 0; i < f->out.n; i++)
        assert_string_equal(f->out.v[i].name, check_order[i]);
    expect(f, "task.status", AA_CHECK_SKIP, NULL);
    expect(f, "command.match", AA_CHECK_SKIP, NULL);
    expect(f, "env.identity", AA_CHECK_PASS, "production");
    expect(f, "identity.operator", AA_CHECK_PASS, "olga");
}

static void
test_task_id(void **state)
{
    struct fx *f = *state;
    load_task(f, NULL, NULL, NULL, NULL);
    expect(f, "task.id", AA_CHECK_PASS, "ADM-001");
    f->in.task_id = "ADM-002";
    expect(f, "task.id", AA_CHECK_FAIL, "differs from the requested task ADM-002");
    f->in.task_id = "ADM-001";
    f->in.task_path = "/x/ADM-009.md";
    expect(f, "task.id", AA_CHECK_FAIL, "file name ADM-009.md");
    f->in.task_path = f->task_path;
    load_task(f, "# ADM-001:", "# ADM-XXX:", NULL, NULL);
    expect(f, "task.id", AA_CHECK_FAIL, "no task id");
}

static void
test_task_category(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *value;
        enum aa_check_status st;
    } cases[] = {
        { "migration", AA_CHECK_PASS },   { "data-fix", AA_CHECK_PASS },
        { "maintenance", AA_CHECK_PASS }, { "emergency", AA_CHECK_PASS },
        { "analytics", AA_CHECK_PASS },   { "backup", AA_CHECK_PASS },
        { "migrations", AA_CHECK_FAIL },  { "Migration", AA_CHECK_FAIL },
        { "migration | data-fix | maintenance | emergency | analytics | backup", AA_CHECK_FAIL },
        { "", AA_CHECK_FAIL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[128];
        (void)snprintf(line, sizeof line, "**Category**: %s\n", cases[i].value);
        load_task(f, "**Category**: migration\n", line, NULL, NULL);
        expect(f, "task.category", cases[i].st, NULL);
    }
    load_task(f, "**Category**: migration\n", "", NULL, NULL);
    expect(f, "task.category", AA_CHECK_FAIL, "missing");
}

/* ---- rule 2 ------------------------------------------------------------------------------- */

static void
test_task_status(void **state)
{
    struct fx *f = *state;
    static const struct {
        enum aa_gate_mode mode;
        const char *status;
        bool rerun;
        const char *reason;
        enum aa_check_status st;
        const char *detail;
    } cases[] = {
        { AA_GATE_RUN, "approved", false, NULL, AA_CHECK_PASS, "approved" },
        { AA_GATE_RUN, "draft", false, NULL, AA_CHECK_FAIL, "draft" },
        { AA_GATE_RUN, "reverted", false, NULL, AA_CHECK_FAIL, "reverted" },
        { AA_GATE_RUN, "executed", false, NULL, AA_CHECK_FAIL, "already ran" },
        { AA_GATE_RUN, "executed", true, NULL, AA_CHECK_FAIL, "no --reason" },
        { AA_GATE_RUN, "executed", true, "  ", AA_CHECK_FAIL, "no --reason" },
        { AA_GATE_RUN, "executed", true, "first run timed out", AA_CHECK_PASS, "rerun" },
        { AA_GATE_RUN, "approved", true, "x", AA_CHECK_PASS, "approved" },
        { AA_GATE_RUN, "draft | approved | executed | reverted", false, NULL, AA_CHECK_FAIL, "not filled" },
        { AA_GATE_RUN, "frozen", false, NULL, AA_CHECK_FAIL, "not a known status" },
        { AA_GATE_BREAKGLASS, "draft", false, NULL, AA_CHECK_FAIL, "draft" },
        { AA_GATE_BREAKGLASS, "approved", false, NULL, AA_CHECK_PASS, NULL },
        { AA_GATE_ROLLBACK, "executed", false, NULL, AA_CHECK_PASS, "executed" },
        { AA_GATE_ROLLBACK, "approved", false, NULL, AA_CHECK_FAIL, "rollback needs executed" },
        { AA_GATE_ROLLBACK, "reverted", false, NULL, AA_CHECK_FAIL, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[128];
        (void)snprintf(line, sizeof line, "**Status**: %s\n", cases[i].status);
        load_task(f, "**Status**: approved\n", line, NULL, NULL);
        f->in.mode = cases[i].mode;
        f->in.rerun = cases[i].rerun;
        f->in.rerun_reason = cases[i].reason;
        expect(f, "task.status", cases[i].st, cases[i].detail);
    }
}

/* ---- rule 3 ------------------------------------------------------------------------------- */

static void
test_approval_fields(void **state)
{
    struct fx *f = *state;
    load_task(f, "- Reviewer: Rita Reviewer/engineering lead", "- Reviewer: {name/role}", NULL, NULL);
    expect(f, "approval.reviewer", AA_CHECK_FAIL, "not filled");
    expect(f, "approval.segregation", AA_CHECK_SKIP, NULL);
    load_task(f, "- Authorization: PR #482", "- Authorization: {ticket ID / PR number / ADR reference}",
              NULL, NULL);
    expect(f, "approval.authorization", AA_CHECK_FAIL, "not filled");
    load_task(f, "- Authorization: PR #482\n", "", NULL, NULL);
    expect(f, "approval.authorization", AA_CHECK_FAIL, "missing");
    load_task(f, NULL, NULL, NULL, NULL);
    expect(f, "approval.authorization", AA_CHECK_PASS, "PR #482");
}

static void
test_approval_dates(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *created, *approved;
        long today;
        enum aa_check_status st;
        const char *detail;
    } cases[] = {
        { "2026-02-10", "2026-02-12", 20513, AA_CHECK_PASS, "2026-02-12" },
        { "2026-02-10", "2026-02-10", 20513, AA_CHECK_PASS, NULL },    /* same day */
        { "2026-02-10", "2026-03-01", 20513, AA_CHECK_PASS, NULL },    /* today */
        { "2026-02-10", "2026-03-02", 20513, AA_CHECK_FAIL, "future" },
        { "2026-02-10", "2026-02-30", 20513, AA_CHECK_FAIL, "not a real date" },
        { "2026-02-10", "2026-2-12", 20513, AA_CHECK_FAIL, "not a real date" },
        { "2026-02-10", "YYYY-MM-DD", 20513, AA_CHECK_FAIL, "not filled" },
        { "2026-02-10", "2026-02-09", 20513, AA_CHECK_FAIL, "before Created 2026-02-10" },
        { "YYYY-MM-DD", "2026-02-12", 20513, AA_CHECK_WARN, "Created is not filled" },
        { "2026-13-10", "2026-02-12", 20513, AA_CHECK_WARN, "not a real date" },
        { "2026-02-10", "2026-02-12", 0, AA_CHECK_PASS, NULL }, /* 0 = today's real date */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char c[64], a[64];
        (void)snprintf(c, sizeof c, "**Created**: %s", cases[i].created);
        (void)snprintf(a, sizeof a, "- Approved at: %s", cases[i].approved);
        load_task(f, "**Created**: 2026-02-10", c, "- Approved at: 2026-02-12", a);
        f->in.today_days = cases[i].today;
        expect(f, "approval.approved_at", cases[i].st, cases[i].detail);
    }
}

static void
test_approval_segregation(void **state)
{
    struct fx *f = *state;
    load_task(f, NULL, NULL, NULL, NULL);
    expect(f, "approval.segregation", AA_CHECK_PASS, "Rita Reviewer");
    f->in.operator_name = "rita reviewer";
    expect(f, "approval.segregation", AA_CHECK_FAIL, "Reviewer Rita Reviewer is the operator");
    load_task(f, "- Reviewer: Rita Reviewer/engineering lead", "- Reviewer: olga (oncall lead)", NULL,
              NULL);
    f->in.operator_name = "Olga";
    expect(f, "approval.segregation", AA_CHECK_FAIL, "is the operator");
    f->in.operator_name = "olgaa";
    expect(f, "approval.segregation", AA_CHECK_PASS, NULL);
    f->in.operator_name = NULL;
    expect(f, "approval.segregation", AA_CHECK_WARN, "operator unknown");
    f->in.operator_name = "olga";
    load_task(f, "- Reviewer: Rita Reviewer/engineering lead", "- Reviewer: Dana Author/lead", NULL,
              NULL);
    expect(f, "approval.segregation", AA_CHECK_WARN, "also the Author");
}

/* ---- rule 4 ------------------------------------------------------------------------------- */

static void
test_env_identity(void **state)
{
    struct fx *f = *state;
    load_task(f, "- Environments: dev, staging, prod", "- Environments: staging, prod", NULL, NULL);
    expect(f, "env.identity", AA_CHECK_PASS, "production (from APP_ENV)");

    unsetenv("APP_ENV");
    expect(f, "env.identity", AA_CHECK_FAIL, "not a production environment");
    expect(f, "env.scope", AA_CHECK_FAIL, "unknown");
    setenv("APP_ENV", "", 1); /* empty = unset */
    expect(f, "env.identity", AA_CHECK_FAIL, NULL);

    /* trusted config */
    f->cfg.path = "/etc/admin-audit/config.json";
    f->cfg.present = true;
    f->cfg.trusted = true;
    f->cfg.environment = "prod";
    expect(f, "env.identity", AA_CHECK_PASS, "production (from config /etc/admin-audit/config.json)");
    setenv("APP_ENV", "production", 1);
    expect(f, "env.identity", AA_CHECK_PASS, "from config");
    setenv("APP_ENV", "staging", 1);
    expect(f, "env.identity", AA_CHECK_FAIL, "says environment production but APP_ENV is staging");
    expect(f, "env.scope", AA_CHECK_SKIP, NULL);

    /* untrusted config: warned about and ignored */
    f->cfg.trusted = false;
    expect(f, "env.identity", AA_CHECK_WARN, "ignored; environment from APP_ENV: staging");
    expect(f, "env.scope", AA_CHECK_PASS, "staging");
    unsetenv("APP_ENV");
    expect(f, "env.identity", AA_CHECK_FAIL, "untrusted config");

    /* neither set, but the task is in scope for dev */
    load_task(f, NULL, NULL, NULL, NULL);
    f->cfg.environment = NULL;
    expect(f, "env.identity", AA_CHECK_WARN, "treated as development");
    expect(f, "env.scope", AA_CHECK_PASS, "development");
}

static void
test_env_scope(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *envs, *app_env;
        enum aa_check_status st;
    } cases[] = {
        { "dev, staging, prod", "production", AA_CHECK_PASS },
        { "dev, staging, prod", "PROD", AA_CHECK_PASS },
        { "dev, staging, prod", "development", AA_CHECK_PASS },
        { "development, production", "dev", AA_CHECK_PASS },
        { "`staging`", "staging", AA_CHECK_PASS },
        { "dev, staging", "production", AA_CHECK_FAIL },
        { "prod", "qa", AA_CHECK_FAIL },
        { "{dev, staging, prod \xe2\x80\x94 which are in scope}", "production", AA_CHECK_FAIL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[160];
        (void)snprintf(line, sizeof line, "- Environments: %s", cases[i].envs);
        load_task(f, "- Environments: dev, staging, prod", line, NULL, NULL);
        setenv("APP_ENV", cases[i].app_env, 1);
        expect(f, "env.scope", cases[i].st, NULL);
    }
}

static void
test_current_environment(void **state)
{
    (void)state;
    char *env = (char *)0x1;
    char err[256] = "";
    set_env_defaults();
    assert_int_equal(aa_gate_current_environment(NULL, &env, err, sizeof err), 0);
    assert_string_equal(env, "production");
    free(env);
    struct aa_config cfg = { .trusted = true, .environment = "Dev", .path = "/c.json" };
    setenv("APP_ENV", "development", 1);
    assert_int_equal(aa_gate_current_environment(&cfg, &env, err, sizeof err), 0);
    assert_string_equal(env, "development");
    free(env);
    setenv("APP_ENV", "prod", 1);
    assert_int_equal(aa_gate_current_environment(&cfg, &env, err, sizeof err), -EINVAL);
    assert_null(env);
    assert_string_equal(err, "config /c.json says environment development but APP_ENV is production");
    unsetenv("APP_ENV");
    cfg.environment = NULL;
    assert_int_equal(aa_gate_current_environment(&cfg, &env, err, sizeof err), 0);
    assert_null(env);
    cfg.environment = "staging";
    cfg.trusted = false;
    assert_int_equal(aa_gate_current_environment(&cfg, &env, err, sizeof err), 0);
    assert_null(env); /* untrusted config ignored */

    static const char *const canon[][2] = {
        { "dev", "development" }, { "DEV", "development" }, { "prod", "production" },
        { " Production ", "production" }, { "staging", "staging" }, { "QA", "qa" },
    };
    for (size_t i = 0; i < sizeof canon / sizeof canon[0]; i++) {
        char *c = aa_env_canonical(canon[i][0]);
        assert_string_equal(c, canon[i][1]);
        free(c);
    }
    assert_null(aa_env_canonical(NULL));
}

/* ---- rule 5 ------------------------------------------------------------------------------- */

static void
test_env_dotenv_and_vars(void **state)
{
    struct fx *f = *state;
    load_task(f, NULL, NULL, NULL, NULL);
    expect(f, "env.dotenv", AA_CHECK_PASS, "2 required names");
    expect(f, "env.vars", AA_CHECK_PASS, "DATABASE_URL, APP_ENV");

    /* a name .env.example lacks */
    load_task(f, "`DATABASE_URL`, `APP_ENV`", "`DATABASE_URL`, `APP_ENV`, `REDIS_URL`", NULL, NULL);
    setenv("REDIS_URL", "redis://x", 1);
    expect(f, "env.dotenv", AA_CHECK_FAIL, "REDIS_URL");
    expect(f, "env.vars", AA_CHECK_PASS, NULL);
    unsetenv("REDIS_URL");
    expect(f, "env.vars", AA_CHECK_FAIL, "unset or empty: REDIS_URL");

    /* no .env.example: skipped */
    f->in.project_dir = "/nonexistent-aa-dir";
    expect(f, "env.dotenv", AA_CHECK_SKIP, "no .env.example");
    f->in.project_dir = NULL;
    expect(f, "env.dotenv", AA_CHECK_SKIP, "no project directory");
    f->in.project_dir = f->dir;

    /* unset and empty variables, values never shown */
    load_task(f, NULL, NULL, NULL, NULL);
    unsetenv("DATABASE_URL");
    expect(f, "env.vars", AA_CHECK_FAIL, "DATABASE_URL");
    setenv("DATABASE_URL", "", 1);
    expect(f, "env.vars", AA_CHECK_FAIL, "unset or empty: DATABASE_URL");
    setenv("DATABASE_URL", SECRET, 1);
    expect(f, "env.vars", AA_CHECK_PASS, NULL); /* expect() asserts hunter2 absent */

    /* odd names */
    load_task(f, "`DATABASE_URL`, `APP_ENV`", "DATABASE-URL", NULL, NULL);
    expect(f, "env.vars", AA_CHECK_FAIL, "not variable names: DATABASE-URL");
    /* none */
    load_task(f, "`DATABASE_URL`, `APP_ENV`", "none", NULL, NULL);
    expect(f, "env.vars", AA_CHECK_PASS, "no variables required");
    expect(f, "env.dotenv", AA_CHECK_PASS, "0 required names");
    /* unfilled */
    load_task(f, "`DATABASE_URL`, `APP_ENV`", "{list, referencing .env.example}", NULL, NULL);
    expect(f, "env.vars", AA_CHECK_WARN, "not filled");
}

static void
test_env_image(void **state)
{
    struct fx *f = *state;
    const char *doc_img = "`registry.example.com/accounts:1.4.2@" DIGEST "`";
    load_task(f, NULL, NULL, NULL, NULL);
    expect(f, "env.image", AA_CHECK_PASS, "matches");

    setenv("IMAGE_REF", "registry.example.com/accounts:1.4.2@sha256:0000", 1);
    expect(f, "env.image", AA_CHECK_FAIL, "does not carry the documented digest");
    setenv("IMAGE_REF", "registry.example.com/accounts:1.4.2", 1);
    expect(f, "env.image", AA_CHECK_FAIL, "digest");
    setenv("IMAGE_REF", "mirror.example.com/accounts@" DIGEST, 1); /* same digest, other name */
    expect(f, "env.image", AA_CHECK_PASS, NULL);
    unsetenv("IMAGE_REF");
    expect(f, "env.image", AA_CHECK_FAIL, "IMAGE_REF is not set");

    /* configured variable */
    f->cfg.image_ref_env = "AA_TEST_IMAGE";
    setenv("AA_TEST_IMAGE", IMAGE, 1);
    expect(f, "env.image", AA_CHECK_PASS, NULL);
    unsetenv("AA_TEST_IMAGE");
    expect(f, "env.image", AA_CHECK_FAIL, "AA_TEST_IMAGE is not set");
    f->cfg.image_ref_env = NULL;

    /* tag only in the document */
    load_task(f, doc_img, "registry.example.com/accounts:1.4.2", NULL, NULL);
    setenv("IMAGE_REF", IMAGE, 1);
    expect(f, "env.image", AA_CHECK_PASS, NULL);
    setenv("IMAGE_REF", "registry.example.com/accounts:1.4.2", 1);
    expect(f, "env.image", AA_CHECK_PASS, NULL);
    setenv("IMAGE_REF", "registry.example.com/accounts:1.4.3", 1);
    expect(f, "env.image", AA_CHECK_FAIL, "differs from the documented");
    load_task(f, doc_img, "accounts:latest", NULL, NULL);
    setenv("IMAGE_REF", "accounts:latest", 1);
    expect(f, "env.image", AA_CHECK_WARN, "mutable");
    load_task(f, doc_img, "{tag}", NULL, NULL);
    expect(f, "env.image", AA_CHECK_FAIL, "not filled");
    load_task(f, doc_img, "none", NULL, NULL);
    expect(f, "env.image", AA_CHECK_SKIP, NULL);
}

static void
test_env_resources(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *value;
        enum aa_check_status st;
        const char *detail;
    } cases[] = {
        { "256Mi, 0.5 CPU", AA_CHECK_PASS, NULL },
        { "1Mi", AA_CHECK_PASS, NULL },
        { "0.1 CPU", AA_CHECK_PASS, NULL },
        { "100m CPU, 10 MB", AA_CHECK_PASS, NULL },
        { "64Ki memory; 1 core", AA_CHECK_PASS, NULL },
        { "1000Ti, 0.5 CPU", AA_CHECK_FAIL, "of memory" },
        { "1000000 GB", AA_CHECK_FAIL, "of memory" },
        { "256Mi, 4096 CPU", AA_CHECK_FAIL, "4096 CPU" },
        { "lots of memory", AA_CHECK_WARN, "cannot parse" },
        { "512 potatoes", AA_CHECK_WARN, "cannot parse" },
        { "{memory, CPU}", AA_CHECK_WARN, "not filled" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[128];
        (void)snprintf(line, sizeof line, "- Resource requirements: %s", cases[i].value);
        load_task(f, "- Resource requirements: 256Mi, 0.5 CPU", line, NULL, NULL);
        expect(f, "env.resources", cases[i].st, cases[i].detail);
    }
}

/* ---- rule 6 ------------------------------------------------------------------------------- */

static void
test_prechecks(void **state)
{
    struct fx *f = *state;
    load_task(f, NULL, NULL, NULL, NULL);
    expect(f, "prechecks", AA_CHECK_PASS, "4 of 4 ticked");
    load_task(f, "- [x] Oncall notified", "- [ ] Oncall notified", "- [x] Backup completed",
              "- [ ] Backup completed");
    expect(f, "prechecks", AA_CHECK_FAIL, "2 of 4 unticked");
    expect(f, "prechecks", AA_CHECK_FAIL, "\"Oncall notified\" (line 37)");
    expect(f, "prechecks", AA_CHECK_FAIL, "\"Backup completed (if data-modifying)\" (line 34)");
    load_task(f, "**Pre-execution checks**:", "**Checks**:", NULL, NULL);
    expect(f, "prechecks", AA_CHECK_FAIL, "no Pre-execution checks");
}

/* ---- rule 7 ------------------------------------------------------------------------------- */

static void
test_command_match(void **state)
{
    struct fx *f = *state;
    load_task(f, NULL, NULL, NULL, NULL);
    expect(f, "command.match", AA_CHECK_PASS, "will be run by bash -c");

    char *same[] = { "./bin/admin", "migrate", "--target", "add_user_table", "--dry-run=false", NULL };
    f->in.command = same;
    expect(f, "command.match", AA_CHECK_PASS, "5 words");

    char *other[] = { "./bin/admin", "migrate", "--target", "drop_everything", "--dry-run=false", NULL };
    f->in.command = other;
    expect(f, "command.match", AA_CHECK_FAIL, "at word 4 (documented \"add_user_table\")");
    f->in.deviation = "hotfix: target renamed";
    expect(f, "command.match", AA_CHECK_WARN, "deviation recorded: hotfix: target renamed");
    f->in.deviation = NULL;

    char *shorter[] = { "./bin/admin", "migrate", NULL };
    f->in.command = shorter;
    expect(f, "command.match", AA_CHECK_FAIL, "COMMAND has 2 words, the documented command 5");
    char *longer[] = { "./bin/admin", "migrate", "--target", "add_user_table", "--dry-run=false", "-v", NULL };
    f->in.command = longer;
    expect(f, "command.match", AA_CHECK_FAIL, "6 words");
    char *quoted[] = { "./bin/admin", "migrate", "--target", "\"add_user_table\"", "--dry-run=false", NULL };
    f->in.command = quoted;
    expect(f, "command.match", AA_CHECK_FAIL, NULL);

    /* documented command missing or a placeholder */
    f->in.command = same;
    load_task(f, "./bin/admin migrate --target \"add_user_table\" --dry-run=false",
              "{exact command with all args}", NULL, NULL);
    expect(f, "command.match", AA_CHECK_FAIL, "not filled");
    f->in.command = NULL;
    expect(f, "command.match", AA_CHECK_FAIL, "not filled");

    /* unbalanced quotes in the document */
    load_task(f, "--target \"add_user_table\"", "--target \"add_user_table", NULL, NULL);
    f->in.command = same;
    expect(f, "command.match", AA_CHECK_FAIL, "unbalanced quotes");

    /* sh fence */
    load_task(f, "```bash\n./bin/admin migrate", "```sh\n./bin/admin migrate", NULL, NULL);
    f->in.command = NULL;
    expect(f, "command.match", AA_CHECK_PASS, "/bin/sh -c");
}

static void
test_command_rollback_mode(void **state)
{
    struct fx *f = *state;
    load_task(f, "**Status**: approved", "**Status**: executed", NULL, NULL);
    f->in.mode = AA_GATE_ROLLBACK;
    expect(f, "command.match", AA_CHECK_PASS, "line 48");
    expect(f, "task.status", AA_CHECK_PASS, NULL);

    struct aa_task t;
    char err[256];
    assert_int_equal(aa_task_load(FIXTURES "ADM-004.md", &t, err, sizeof err), 0);
    f->in.task = &t;
    f->in.task_id = "ADM-004";
    f->in.task_path = FIXTURES "ADM-004.md";
    expect(f, "command.match", AA_CHECK_FAIL, "no rollback command: ADR-012");
    expect(f, "env.image", AA_CHECK_SKIP, "none");
    expect(f, "env.vars", AA_CHECK_PASS, "no variables required");
    f->in.mode = AA_GATE_RUN;
    expect(f, "command.match", AA_CHECK_PASS, NULL);
    aa_task_done(&t);
}

/* ---- rule 8 ------------------------------------------------------------------------------- */

static void
test_identity_operator(void **state)
{
    struct fx *f = *state;
    load_task(f, NULL, NULL, NULL, NULL);
    expect(f, "identity.operator", AA_CHECK_PASS, "olga (identity source: loginuid)");
    f->in.identity_anonymous_root = true;
    f->in.operator_name = "root";
    f->in.identity_source = "uid";
    expect(f, "identity.operator", AA_CHECK_FAIL, "anonymous root");
    setenv("APP_ENV", "staging", 1);
    expect(f, "identity.operator", AA_CHECK_PASS, "anonymous root");
    unsetenv("APP_ENV");
    expect(f, "identity.operator", AA_CHECK_PASS, NULL);
}

/* The seed template's skeleton, as is, fails every rule that needs a filled field. */
static void
test_template_skeleton_refused(void **state)
{
    struct fx *f = *state;
    struct aa_task t;
    char err[256];
    assert_int_equal(aa_task_load(FIXTURES "template-skeleton.md", &t, err, sizeof err), 0);
    f->in.task = &t;
    evaluate(f, "task.id");
    static const char *const must_fail[] = {
        "task.id", "task.category", "task.status", "approval.reviewer", "approval.approved_at",
        "approval.authorization", "env.scope", "env.image", "prechecks", "command.match",
    };
    for (size_t i = 0; i < sizeof must_fail / sizeof must_fail[0]; i++)
        expect(f, must_fail[i], AA_CHECK_FAIL, NULL);
    expect(f, "env.vars", AA_CHECK_WARN, NULL);
    expect(f, "env.resources", AA_CHECK_WARN, NULL);
    aa_task_done(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_pass_and_order, setup, teardown),
        cmocka_unit_test(test_checks_api),
        cmocka_unit_test_setup_teardown(test_document_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_category, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_dates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_segregation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_scope, setup, teardown),
        cmocka_unit_test(test_current_environment),
        cmocka_unit_test_setup_teardown(test_env_dotenv_and_vars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_resources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prechecks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_rollback_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_operator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_template_skeleton_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
