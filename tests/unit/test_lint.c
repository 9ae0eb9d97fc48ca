/* lint: findings with file:line on real task documents (tests/fixtures/lint),
 * the seed's own catalog, the examples, and the verb's exit codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "lint.h"
#include "taskdoc.h"
#include "util.h"

#define FIX AA_SOURCE_DIR "/tests/fixtures/lint"

static long
day(const char *ymd)
{
    long d = 0;
    assert_int_equal(aa_parse_date(ymd, &d), 0);
    return d;
}

/* Finding with this rule on this file (suffix match) and line; NULL file = any. */
static const struct aa_lint_finding *
find(const struct aa_lint *L, const char *file_suffix, unsigned line, const char *rule)
{
    for (size_t i = 0; i < L->n_findings; i++) {
        const struct aa_lint_finding *f = &L->findings[i];
        size_t fl = strlen(f->file), sl = file_suffix ? strlen(file_suffix) : 0;
        if (file_suffix && (fl < sl || strcmp(f->file + fl - sl, file_suffix) != 0))
            continue;
        if (line && f->line != line)
            continue;
        if (strcmp(f->rule, rule) == 0)
            return f;
    }
    return NULL;
}

static void
dump(const struct aa_lint *L)
{
    for (size_t i = 0; i < L->n_findings; i++)
        fprintf(stderr, "  %s:%u: %s: %s [%s]\n", L->findings[i].file, L->findings[i].line,
                L->findings[i].severity, L->findings[i].message, L->findings[i].rule);
}

static void
test_seed_project_clean(void **state)
{
    (void)state;
    struct aa_lint L;
    assert_int_equal(aa_lint_dir(FIX "/seed", day("2026-12-01"), &L), 0);
    if (L.n_findings)
        dump(&L);
    assert_int_equal(L.n_findings, 0);
    assert_int_equal(L.n_tasks, 3);
    assert_int_equal(L.n_catalogs, 1);
    assert_int_equal(L.n_rows, 3); /* ADM-001..003; the ADM-XXX placeholder row is skipped */
    assert_non_null(L.env_example);
    aa_lint_done(&L);
}

static void
test_seed_project_as_tasks_dir(void **state)
{
    (void)state;
    struct aa_lint L;
    /* DIR given as the tasks directory itself: same catalog, same result */
    assert_int_equal(aa_lint_dir(FIX "/seed/.aiwg/admin-tasks", day("2026-12-01"), &L), 0);
    if (L.n_findings)
        dump(&L);
    assert_int_equal(L.n_findings, 0);
    assert_int_equal(L.n_rows, 3);
    aa_lint_done(&L);
}

static void
test_dates_relative_to_today(void **state)
{
    (void)state;
    struct aa_lint L;
    /* On 2026-11-05, ADM-002 (created 2026-11-10) and ADM-003 lie in the future. */
    assert_int_equal(aa_lint_dir(FIX "/seed", day("2026-11-05"), &L), 0);
    assert_non_null(find(&L, "seed/.aiwg/admin-tasks/ADM-002.md", 4, "task.created"));
    assert_non_null(find(&L, "seed/.aiwg/admin-tasks/ADM-002.md", 18, "task.approved-at"));
    assert_null(find(&L, "ADM-001.md", 0, "task.created"));
    aa_lint_done(&L);
}

static void
test_bad_project_findings(void **state)
{
    (void)state;
    struct aa_lint L;
    assert_int_equal(aa_lint_dir(FIX "/bad", day("2026-12-01"), &L), 0);
    const char *d1 = "bad/.aiwg/admin-tasks/ADM-001.md";
    const char *cat = "bad/.aiwg/deployment/admin-processes.md";
    struct {
        const char *file;
        unsigned line;
        const char *rule;
    } want[] = {
        {d1, 4, "task.created"},             /* 2026-02-30 is not a date */
        {d1, 6, "task.status"},              /* done */
        {d1, 9, "task.purpose"},             /* placeholder */
        {d1, 14, "task.environments"},       /* qa */
        {d1, 18, "task.approved-at"},        /* future */
        {d1, 28, "task.runtime"},            /* :latest */
        {d1, 29, "task.env-vars"},           /* MISSING_VAR not in .env.example */
        {d1, 30, "task.runtime"},            /* {N minutes} */
        {d1, 33, "task.prechecks"},          /* 2 of 4 */
        {d1, 38, "task.invoked-at"},         /* yesterday */
        {d1, 40, "task.exit-code"},          /* zero */
        {d1, 42, "task.rows-affected"},      /* many */
        {d1, 46, "task.rollback"},           /* placeholder fence, no ADR */
        {d1, 3, "catalog.category-mismatch"},
        {"bad/.aiwg/admin-tasks/ADM-005.md", 1, "task.id"},        /* heading ADM-006 */
        {"bad/.aiwg/admin-tasks/ADM-005.md", 17, "task.approval"}, /* reviewer == author */
        {"bad/.aiwg/admin-tasks/ADM-005.md", 1, "catalog.missing-row"},
        {"bad/.aiwg/admin-tasks/ADM-7.md", 0, "task.file-name"},
        {cat, 8, "catalog.duplicate"},
        {cat, 9, "catalog.missing-doc"},     /* ADM-004 */
        {cat, 10, "catalog.id"},             /* ADM-12 */
        {cat, 11, "catalog.syntax"},         /* 3 cells */
        {"bad/.aiwg/admin-tasks/ADM-005.md", 18, "task.approved-at"}, /* before Created */
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!find(&L, want[i].file, want[i].line, want[i].rule)) {
            dump(&L);
            fail_msg("missing finding %s:%u [%s]", want[i].file, want[i].line, want[i].rule);
        }
    }
    /* the placeholder row ADM-XXX is not a row: no finding on line 12 */
    for (size_t i = 0; i < L.n_findings; i++)
        assert_false(strstr(L.findings[i].file, "admin-processes.md") && L.findings[i].line == 12);
    /* every finding names a file; all but whole-file ones a line */
    for (size_t i = 0; i < L.n_findings; i++) {
        assert_non_null(L.findings[i].file);
        assert_true(L.findings[i].file[0] != '\0');
        assert_null(strchr(L.findings[i].message, '\n'));
    }
    aa_lint_done(&L);
}

static void
test_examples_clean(void **state)
{
    (void)state;
    struct aa_lint L;
    struct stat st;
    if (stat(AA_SOURCE_DIR "/examples/shop/.aiwg", &st) < 0)
        skip();
    assert_int_equal(aa_lint_dir(AA_SOURCE_DIR "/examples/shop", -1, &L), 0);
    if (L.n_findings)
        dump(&L);
    assert_int_equal(L.n_findings, 0);
    assert_true(L.n_tasks >= 1);
    aa_lint_done(&L);
}

static void
test_missing_dir(void **state)
{
    (void)state;
    struct aa_lint L;
    assert_int_equal(aa_lint_dir(FIX "/does-not-exist", -1, &L), -ENOENT);
    assert_int_equal(aa_lint_dir(FIX "/seed/.env.example", -1, &L), -ENOTDIR);
}

/* Run the verb with stdout captured into a file; returns the exit code. */
static int
run_verb(char **argv, int argc, char *out, size_t outlen)
{
    char path[] = "/tmp/aa-test-lint-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDOUT_FILENO) >= 0);
    int rc = aa_cmd_lint(argc, argv);
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    ssize_t n = pread(fd, out, outlen - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return rc;
}

static void
test_verb_exit_codes_and_formats(void **state)
{
    (void)state;
    static char out[1 << 16];
    char *a1[] = {"lint", FIX "/seed", NULL};
    /* the seed fixture's dates are in the past relative to any "now" after 2026-11-20 */
    assert_int_equal(run_verb(a1, 2, out, sizeof(out)), 0);
    assert_string_equal(out, "");

    char *a2[] = {"lint", FIX "/bad", NULL};
    assert_int_equal(run_verb(a2, 2, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "/bad/.aiwg/admin-tasks/ADM-001.md:6: error: "));
    assert_non_null(strstr(out, "[task.status]\n"));

    char *a3[] = {"lint", "--format", "json", FIX "/bad", NULL};
    assert_int_equal(run_verb(a3, 4, out, sizeof(out)), 1);
    assert_int_equal(out[0], '{');
    assert_non_null(strstr(out, "\"findings\":[{\"file\":"));
    assert_non_null(strstr(out, "\"line\":6,\"severity\":\"error\",\"rule\":\"task.status\""));

    char *a4[] = {"lint", FIX "/seed", "--format=json", NULL};
    assert_int_equal(run_verb(a4, 3, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "\"findings\":[]"));

    char *u1[] = {"lint", "--format", "yaml", NULL};
    assert_int_equal(run_verb(u1, 3, out, sizeof(out)), 64);
    char *u2[] = {"lint", "--bogus", NULL};
    assert_int_equal(run_verb(u2, 2, out, sizeof(out)), 64);
    char *u3[] = {"lint", FIX "/seed", FIX "/bad", NULL};
    assert_int_equal(run_verb(u3, 3, out, sizeof(out)), 64);
    char *u4[] = {"lint", FIX "/nope", NULL};
    assert_int_equal(run_verb(u4, 2, out, sizeof(out)), 64);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_project_clean),
        cmocka_unit_test(test_seed_project_as_tasks_dir),
        cmocka_unit_test(test_dates_relative_to_today),
        cmocka_unit_test(test_bad_project_findings),
        cmocka_unit_test(test_examples_clean),
        cmocka_unit_test(test_missing_dir),
        cmocka_unit_test(test_verb_exit_codes_and_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
