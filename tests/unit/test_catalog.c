/* Admin Task Catalog parser: the seed template's own table, variants, problems. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "taskdoc.h"
#include "util.h"

#define SEED_CATALOG AA_SOURCE_DIR "/tests/fixtures/lint/seed/.aiwg/deployment/admin-processes.md"

static void
parse(const char *s, struct aa_catalog *c)
{
    char err[256];
    assert_int_equal(aa_catalog_parse(s, strlen(s), "t.md", c, err, sizeof(err)), 0);
}

static void
test_seed_template_rows(void **state)
{
    (void)state;
    struct aa_catalog c;
    char err[256];
    /* the seed file verbatim (scraped header lines, nested fences and all) */
    assert_int_equal(aa_catalog_load(SEED_CATALOG, &c, err, sizeof(err)), 0);
    assert_int_equal(c.n_issues, 0);
    assert_true(c.heading_line > 0);
    assert_int_equal(c.header_line, c.heading_line + 1);
    assert_int_equal(c.n_rows, 3); /* ADM-XXX placeholder row skipped */
    assert_string_equal(c.rows[0].id, "ADM-001");
    assert_string_equal(c.rows[0].name, "Database migration `add_user_table`");
    assert_string_equal(c.rows[0].category, "migration");
    assert_string_equal(c.rows[0].invoked_by, "deployment pipeline");
    assert_string_equal(c.rows[0].approval, "automatic (reviewed PR)");
    assert_string_equal(c.rows[0].rollback, "rollback migration");
    assert_int_equal(c.rows[0].line, c.heading_line + 3);
    assert_string_equal(c.rows[1].id, "ADM-002");
    assert_string_equal(c.rows[1].category, "data-fix");
    assert_string_equal(c.rows[1].invoked_by, "on-demand (ticket-authorized)");
    assert_string_equal(c.rows[1].rollback, "run `ADM-002-revert`");
    assert_string_equal(c.rows[2].id, "ADM-003");
    assert_string_equal(c.rows[2].category, "maintenance");
    assert_string_equal(c.rows[2].approval, "security-architect");
    assert_string_equal(c.rows[2].rollback, "re-issue prior key (grace window)");
    assert_int_equal(c.rows[2].line, c.heading_line + 5);
    assert_null(c.rows[2].status);
    assert_false(c.has_status_column);
    aa_catalog_done(&c);
}

static void
test_pipes_in_code_spans_and_escapes(void **state)
{
    (void)state;
    struct aa_catalog c;
    parse("# X\n\n## Admin Task Catalog\n\n"
          "| Task ID | Name | Category | Invoked by | Approval | Rollback | Status |\r\n"
          "|:---|---|---|---|---|---|---:|\r\n"
          "| `ADM-010` | Export `a|b` and x \\| y | `analytics` | scheduled monthly | lead | none needed | executed |\r\n"
          "ADM-011 | no leading pipe is not a row\n"
          "| ADM-012 | after the table | backup | x | y | z | |\n",
          &c);
    assert_int_equal(c.n_issues, 0);
    assert_true(c.has_status_column);
    assert_int_equal(c.n_rows, 1);
    assert_string_equal(c.rows[0].id, "ADM-010");
    assert_string_equal(c.rows[0].name, "Export `a|b` and x | y");
    assert_string_equal(c.rows[0].category, "analytics");
    assert_string_equal(c.rows[0].status, "executed");
    assert_int_equal(c.rows[0].line, 7);
    aa_catalog_done(&c);
}

static void
test_problems_are_issues_with_lines(void **state)
{
    (void)state;
    struct aa_catalog c;
    parse("## Admin Task Catalog\n"
          "| Task | Name | Category | Invoked by | Approval | Rollback |\n"
          "|---|---|---|---|---|---|\n"
          "| ADM-001 | a | migration | b | c |\n"
          "| ADM-002 | a | migration | b | c | d | e |\n",
          &c);
    assert_int_equal(c.n_issues, 3);
    assert_int_equal(c.issues[0].line, 2); /* header */
    assert_non_null(strstr(c.issues[0].msg, "Task ID"));
    assert_int_equal(c.issues[1].line, 4);
    assert_int_equal(c.issues[2].line, 5);
    assert_int_equal(c.n_rows, 2);
    assert_string_equal(c.rows[0].rollback, ""); /* missing cell is empty, not NULL */
    aa_catalog_done(&c);

    parse("## Admin Task Catalog\n\nno table here\n", &c);
    assert_int_equal(c.n_issues, 1);
    assert_int_equal(c.issues[0].line, 3);
    aa_catalog_done(&c);

    parse("## Admin Task Catalog\n| Task ID | Name | Category | Invoked by | Approval | Rollback |\n"
          "| ADM-001 | a | migration | b | c | d |\n",
          &c);
    assert_int_equal(c.n_issues, 1); /* no separator row */
    assert_int_equal(c.issues[0].line, 3);
    aa_catalog_done(&c);

    parse("## Admin Task Catalog\n| Task ID | Name | Category | Invoked by | Approval | Rollback |\n"
          "|---|---|---|---|---|---|\n\n## Admin Task Catalog\n",
          &c);
    assert_int_equal(c.n_issues, 1); /* second heading */
    assert_int_equal(c.issues[0].line, 5);
    aa_catalog_done(&c);
}

static void
test_no_heading_and_fenced_heading(void **state)
{
    (void)state;
    struct aa_catalog c;
    parse("# Notes\n```\n## Admin Task Catalog\n```\n", &c);
    assert_int_equal(c.heading_line, 0);
    assert_int_equal(c.n_rows, 0);
    assert_int_equal(c.n_issues, 0);
    aa_catalog_done(&c);

    char err[256];
    assert_int_equal(aa_catalog_parse("a\0b", 3, "n.md", &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "n.md"));
    assert_int_equal(aa_catalog_load("/nonexistent/admin-processes.md", &c, err, sizeof(err)), -ENOENT);
}

static void
write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

static void
test_find(void **state)
{
    (void)state;
    char dir[] = "/tmp/aa-test-catalog-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[512];
    snprintf(p, sizeof(p), "%s/.aiwg", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/.aiwg/deployment", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/.aiwg/a", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/.aiwg/a/admin-processes-2026.md", dir);
    write_file(p, "x");
    snprintf(p, sizeof(p), "%s/.aiwg/deployment/admin-processes.md", dir);
    write_file(p, "x");
    snprintf(p, sizeof(p), "%s/.aiwg/deployment/other.md", dir);
    write_file(p, "x");

    snprintf(p, sizeof(p), "%s/.aiwg", dir);
    char **v = NULL;
    assert_int_equal(aa_catalog_find(p, &v), 0);
    assert_int_equal(aa_strv_len(v), 2);
    assert_non_null(strstr(v[0], "/.aiwg/deployment/admin-processes.md")); /* default first */
    assert_non_null(strstr(v[1], "/.aiwg/a/admin-processes-2026.md"));
    aa_strv_free(v);

    snprintf(p, sizeof(p), "%s/missing", dir);
    assert_int_equal(aa_catalog_find(p, &v), 0);
    assert_int_equal(aa_strv_len(v), 0);
    aa_strv_free(v);

    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void
span_is(const char *row, size_t idx, const char *want)
{
    size_t off = 99, len = 99;
    assert_int_equal(aa_catalog_cell_span(row, strlen(row), idx, &off, &len), 0);
    assert_true(off + len <= strlen(row));
    assert_int_equal(len, strlen(want));
    assert_memory_equal(row + off, want, len);
}

static void
test_cell_span(void **state)
{
    (void)state;
    const char *row = "| ADM-002 | Backfill `a|b` | data-fix | x | y | run \\| z | approved |";
    span_is(row, 0, "ADM-002");
    span_is(row, 1, "Backfill `a|b`");
    span_is(row, 5, "run \\| z");
    span_is(row, 6, "approved");
    size_t off, len;
    assert_int_equal(aa_catalog_cell_span(row, strlen(row), 7, &off, &len), -EINVAL);
    assert_int_equal(aa_catalog_cell_span(row, strlen(row), 99, &off, &len), -EINVAL);
    /* blank and empty cells: where text would go */
    const char *blank = "| a |  |";
    assert_int_equal(aa_catalog_cell_span(blank, strlen(blank), 1, &off, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(off, 6); /* after the first blank */
    const char *empty = "| a ||";
    assert_int_equal(aa_catalog_cell_span(empty, strlen(empty), 1, &off, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(off, 5); /* between the bars */
    /* no outer pipes (GFM allows it) */
    span_is("a | b | c", 2, "c");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_template_rows),
        cmocka_unit_test(test_pipes_in_code_spans_and_escapes),
        cmocka_unit_test(test_problems_are_issues_with_lines),
        cmocka_unit_test(test_no_heading_and_fenced_heading),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_cell_span),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
