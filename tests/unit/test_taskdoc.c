/* Unit tests of the task document parser (wrapper/taskdoc.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "taskdoc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef AA_SOURCE_DIR
#define AA_SOURCE_DIR "."
#endif
#define FIXTURES AA_SOURCE_DIR "/tests/fixtures/tasks/"

static char *
fixture(const char *name, size_t *ret_len)
{
    char *buf = NULL;
    char path[512];
    (void)snprintf(path, sizeof path, "%s%s", FIXTURES, name);
    assert_int_equal(aa_read_file(path, 8 * 1024 * 1024, &buf, ret_len), 0);
    return buf;
}

static int
parse_str(const char *doc, struct aa_task *t, char *err, size_t errlen)
{
    return aa_task_parse(doc, strlen(doc), "test.md", t, err, errlen);
}

static void
assert_field(const struct aa_task_field *f, const char *value, unsigned line)
{
    if (value) {
        assert_non_null(f->value);
        assert_string_equal(f->value, value);
        assert_false(f->placeholder);
    } else {
        assert_null(f->value);
    }
    assert_int_equal(f->line, line);
}

/* ---- the fixtures ------------------------------------------------------------------------- */

static void
test_adm001_every_field(void **state)
{
    (void)state;
    struct aa_task t;
    char err[256];
    assert_int_equal(aa_task_load(FIXTURES "ADM-001.md", &t, err, sizeof err), 0);
    assert_string_equal(t.id, "ADM-001");
    assert_string_equal(t.path, FIXTURES "ADM-001.md");
    assert_int_equal(t.h1_line, 1);
    assert_field(&t.name, "Database migration `add_user_table`", 1);
    assert_field(&t.category, "migration", 2);
    assert_field(&t.created, "2026-02-10", 3);
    assert_field(&t.author, "Dana Author/backend", 4);
    assert_field(&t.status, "approved", 5);
    assert_field(&t.purpose,
                 "Create the `users` table required by the accounts feature. The migration is "
                 "additive and safe to run while the service is up.",
                 8);
    assert_field(&t.services, "accounts-api, accounts-worker", 12);
    assert_field(&t.data, "new table `users` (0 rows)", 13);
    assert_field(&t.environments, "dev, staging, prod", 14);
    assert_field(&t.reviewer, "Rita Reviewer/engineering lead", 17);
    assert_field(&t.approved_at, "2026-02-12", 18);
    assert_field(&t.authorization, "PR #482", 19);
    assert_int_equal(t.command.line, 23);
    assert_int_equal(t.command.end_line, 25);
    assert_string_equal(t.command.lang, "bash");
    assert_string_equal(t.command.body,
                        "./bin/admin migrate --target \"add_user_table\" --dry-run=false");
    assert_false(t.command.placeholder);
    assert_field(&t.image,
                 "registry.example.com/accounts:1.4.2@sha256:"
                 "4f0c2d0a9f0e7d3b5c1a8e6f2b9d4c7a1e3f5b8d0c2a4e6f8b1d3c5e7a9f0b2d",
                 28);
    assert_field(&t.env_required, "`DATABASE_URL`, `APP_ENV`", 29);
    assert_field(&t.duration, "5 minutes", 30);
    assert_field(&t.resources, "256Mi, 0.5 CPU", 31);
    assert_int_equal(t.prechecks.line, 33);
    assert_int_equal(t.prechecks.n, 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(t.prechecks.items[i].checked);
    assert_string_equal(t.prechecks.items[0].text, "Backup completed (if data-modifying)");
    assert_int_equal(t.prechecks.items[0].line, 34);
    assert_string_equal(t.prechecks.items[3].text, "Oncall notified");
    /* execution log: placeholders until admin-audit fills them */
    assert_field(&t.invoked_at, NULL, 40);
    assert_true(t.invoked_at.placeholder);
    assert_true(t.invoked_by.placeholder);
    assert_true(t.exit_code.placeholder);
    assert_true(t.output_summary.placeholder);
    assert_field(&t.rows_affected, NULL, 44);
    assert_true(t.rows_affected.placeholder);
    assert_int_equal(t.breakglass.line, 0);
    assert_string_equal(t.rollback.body, "./bin/admin migrate --rollback add_user_table");
    assert_int_equal(t.rollback.line, 48);
    assert_null(t.rollback_adr.value);
    assert_int_equal(t.rollback_verification.n, 2);
    assert_false(t.rollback_verification.items[0].checked);
    assert_string_equal(t.rollback_verification.items[1].text, "accounts-api health check green");
    assert_int_equal(t.postaudit.line, 56);
    assert_int_equal(t.postaudit.n, 4);
    assert_string_equal(t.postaudit.items[2].text, "Task marked executed in the Admin Task Catalog");
    assert_int_equal(t.line_count, 60);
    assert_int_equal(t.n_warnings, 0);

    char **envs = aa_task_environments(&t);
    assert_non_null(envs);
    assert_int_equal(aa_strv_len(envs), 3);
    assert_string_equal(envs[0], "development");
    assert_string_equal(envs[1], "staging");
    assert_string_equal(envs[2], "production");
    aa_strv_free(envs);
    char **names = aa_task_env_names(&t);
    assert_int_equal(aa_strv_len(names), 2);
    assert_string_equal(names[0], "DATABASE_URL");
    assert_string_equal(names[1], "APP_ENV");
    aa_strv_free(names);
    aa_task_done(&t);
    aa_task_done(&t); /* idempotent */
}

static void
test_adm002_variants(void **state)
{
    (void)state;
    struct aa_task t;
    char err[256];
    assert_int_equal(aa_task_load(FIXTURES "ADM-002.md", &t, err, sizeof err), 0);
    assert_string_equal(t.id, "ADM-002");
    assert_field(&t.name, "Backfill `user.locale` from browser headers", 1);
    assert_field(&t.category, "data-fix", 3);   /* **Key:** `value` */
    assert_field(&t.created, "2026-01-05", 4);  /* trailing spaces */
    assert_field(&t.author, "Sam Writer", 5);   /* **Key** : value */
    assert_field(&t.status, "approved", 6);
    assert_field(&t.purpose, "Fill `user.locale` for accounts created before locale detection existed.", 10);
    assert_field(&t.services, "accounts-api", 13);
    assert_field(&t.environments, "staging, prod", 15);
    assert_field(&t.reviewer, "Lee Lead (engineering lead)", 18);
    assert_field(&t.approved_at, "2026-01-07", 19);
    assert_string_equal(t.command.lang, "sh");
    assert_string_equal(t.command.body,
                        "python3 manage.py backfill_locale \\\n    --batch-size 500 --since '2020-01-01'");
    assert_int_equal(t.command.line, 24);
    assert_int_equal(t.command.end_line, 27);
    assert_int_equal(t.prechecks.n, 4);
    assert_true(t.prechecks.items[0].checked);
    assert_false(t.prechecks.items[1].checked);
    assert_true(t.prechecks.items[2].checked);
    assert_false(t.prechecks.items[3].checked);
    assert_field(&t.invoked_at, "2026-01-08T10:00:00Z", 42);
    assert_field(&t.invoked_by, "ops-bot", 43);
    assert_field(&t.exit_code, "0", 44);
    assert_field(&t.output_summary, "https://logs.example.com/?trace=abc", 45);
    assert_field(&t.rows_affected, "119872", 46);
    assert_field(&t.breakglass, "no", 47);
    assert_string_equal(t.rollback.body, "python3 manage.py backfill_locale --revert");
    assert_int_equal(t.rollback_verification.n, 1);
    assert_true(t.rollback_verification.items[0].checked);
    assert_int_equal(t.postaudit.n, 4);
    assert_true(t.postaudit.items[0].checked);
    char **envs = aa_task_environments(&t);
    assert_int_equal(aa_strv_len(envs), 2);
    assert_string_equal(envs[1], "production");
    aa_strv_free(envs);
    aa_task_done(&t);
}

static void
test_template_skeleton_all_placeholder(void **state)
{
    (void)state;
    struct aa_task t;
    char err[256];
    assert_int_equal(aa_task_load(FIXTURES "template-skeleton.md", &t, err, sizeof err), 0);
    assert_null(t.id); /* ADM-XXX */
    assert_int_equal(t.h1_line, 1);
    const struct aa_task_field *all[] = {
        &t.name,       &t.category,  &t.created,       &t.author,     &t.status,
        &t.purpose,    &t.services,  &t.data,          &t.environments, &t.reviewer,
        &t.approved_at, &t.authorization, &t.image,    &t.env_required, &t.duration,
        &t.resources,  &t.invoked_at, &t.invoked_by,   &t.exit_code,  &t.output_summary,
        &t.rows_affected,
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        assert_null(all[i]->value);
        assert_true(all[i]->placeholder);
        assert_true(all[i]->line > 0);
    }
    assert_int_equal(t.category.line, 2);
    assert_int_equal(t.status.line, 5);
    assert_true(t.command.placeholder);
    assert_null(t.command.body);
    assert_int_equal(t.command.line, 18);
    assert_true(t.rollback.placeholder);
    assert_null(t.rollback.body);
    assert_null(t.rollback_adr.value);
    assert_int_equal(t.prechecks.n, 4);
    for (size_t i = 0; i < 4; i++)
        assert_false(t.prechecks.items[i].checked);
    assert_int_equal(t.rollback_verification.n, 2);
    assert_string_equal(t.rollback_verification.items[0].text, "{specific check}");
    assert_int_equal(t.postaudit.n, 4);
    assert_int_equal(t.breakglass.line, 0);
    char **envs = aa_task_environments(&t);
    assert_non_null(envs);
    assert_null(envs[0]);
    aa_strv_free(envs);
    aa_task_done(&t);
}

static void
test_rollback_adr(void **state)
{
    (void)state;
    struct aa_task t;
    char err[256];
    assert_int_equal(aa_task_load(FIXTURES "ADM-004.md", &t, err, sizeof err), 0);
    assert_int_equal(t.rollback.line, 0);
    assert_null(t.rollback.body);
    assert_non_null(t.rollback_adr.value);
    assert_non_null(strstr(t.rollback_adr.value, "ADR-012"));
    assert_int_equal(t.rollback_adr.line, 39);
    /* the Authorization ADR is not a rollback reference */
    assert_field(&t.authorization, "ADR-031", 18);
    aa_task_done(&t);

    /* a fence wins over an ADR remark */
    static const char doc[] = "# ADM-100: x\n## Rollback\nSee ADR-007 for context.\n**Command**:\n"
                              "```bash\nundo\n```\n";
    assert_int_equal(parse_str(doc, &t, err, sizeof err), 0);
    assert_string_equal(t.rollback.body, "undo");
    assert_null(t.rollback_adr.value);
    aa_task_done(&t);

    /* inline ADR after the Command label */
    static const char doc2[] = "# ADM-100: x\n## Rollback\n**Command**: ADR-009 (irreversible)\n";
    assert_int_equal(parse_str(doc2, &t, err, sizeof err), 0);
    assert_string_equal(t.rollback_adr.value, "ADR-009 (irreversible)");
    assert_null(t.rollback.body);
    aa_task_done(&t);
}

static void
test_crlf_bom_tilde(void **state)
{
    (void)state;
    struct aa_task t;
    char err[256];
    assert_int_equal(aa_task_load(FIXTURES "ADM-005.md", &t, err, sizeof err), 0);
    assert_string_equal(t.id, "ADM-005");
    assert_field(&t.status, "draft", 5);
    assert_field(&t.environments, "dev", 8);
    assert_string_equal(t.command.lang, "sh");
    assert_string_equal(t.command.body, "pg_dump --format=custom \"$DATABASE_URL\" > /tmp/backup.dump");
    aa_task_done(&t);
}

/* ---- malformed documents ------------------------------------------------------------------ */

static void
test_malformed_fixtures(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int r;
        const char *msg; /* expected part of the one-line error */
    } cases[] = {
        { "dup-status.md", -EINVAL, "dup-status.md:10: duplicate field Status (first on line 5)" },
        { "dup-reviewer.md", -EINVAL, "dup-reviewer.md:7: duplicate field Reviewer" },
        { "unterminated-fence.md", -EINVAL, "unterminated-fence.md:7: unterminated ``` fence" },
        { "bad-utf8.md", -EINVAL, "bad-utf8.md:3: invalid UTF-8" },
        { "nul-byte.md", -EINVAL, "nul-byte.md:2: NUL byte" },
        { "no-h1.md", -EINVAL, "no-h1.md: no H1 line" },
        { "empty.md", -EINVAL, "empty.md: empty document" },
        { "does-not-exist.md", -ENOENT, "does-not-exist.md: No such file" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512], err[256] = "";
        struct aa_task t;
        (void)snprintf(path, sizeof path, "%s%s", FIXTURES, cases[i].file);
        int r = aa_task_load(path, &t, err, sizeof err);
        if (r != cases[i].r || !strstr(err, cases[i].msg))
            fail_msg("%s: r=%d err=\"%s\", want %d \"%s\"", cases[i].file, r, err, cases[i].r,
                     cases[i].msg);
        assert_null(strchr(err, '\n'));
        assert_null(t.id); /* zeroed on failure */
        aa_task_done(&t);
    }
}

static void
test_malformed_memory(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        const char *msg;
    } cases[] = {
        { "# ADM-100: x\n**Status**: draft\n**Status:** approved\n", "test.md:3: duplicate field Status" },
        { "# ADM-100: x\n**Category**: a\n## Scope\n**Category**: b\n", "test.md:4: duplicate field Category" },
        { "# ADM-100: x\n## Execution\n**Command**:\n```\na\n```\n**Command**:\n```\nb\n```\n",
          "test.md:7: duplicate field Command in ## Execution" },
        { "# ADM-100: x\n## Scope\n- Environments: dev\n- Environments: prod\n", "duplicate field Environments" },
        { "# ADM-100: x\n~~~~\nunclosed\n~~~\n", "test.md:2: unterminated ~~~~ fence" },
        { "# ADM-100: x\n````\n```\n", "test.md:2: unterminated ```` fence" },
        { "# ADM-100: x\n# ADM-101: y\n", "test.md:2: second H1" },
        { "\n\n   \n", "no H1 line" },
        { "# ADM-100: caf\xc3\n", "test.md:1: invalid UTF-8" },
        { "# ADM-100: \xc0\xaf overlong\n", "invalid UTF-8" },
        { "# ADM-100: \xed\xa0\x80 surrogate\n", "invalid UTF-8" },
        { "# ADM-100: \xf4\x90\x80\x80 too big\n", "invalid UTF-8" },
        { "# ADM-100: x\n## Purpose\n", NULL }, /* fine */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct aa_task t;
        char err[256] = "";
        int r = parse_str(cases[i].doc, &t, err, sizeof err);
        if (!cases[i].msg) {
            assert_int_equal(r, 0);
        } else if (r != -EINVAL || !strstr(err, cases[i].msg)) {
            fail_msg("case %zu: r=%d err=\"%s\", want \"%s\"", i, r, err, cases[i].msg);
        }
        aa_task_done(&t);
    }
    /* embedded NUL in the middle of a line, buffer with explicit length */
    static const char nul[] = "# ADM-100: x\n**Status**: appr\0ved\n";
    struct aa_task t;
    char err[256];
    assert_int_equal(aa_task_parse(nul, sizeof nul - 1, "n.md", &t, err, sizeof err), -EINVAL);
    assert_string_equal(err, "n.md:2: NUL byte: not a text document");
    /* NULL name and tiny error buffer */
    assert_int_equal(aa_task_parse("x", 1, NULL, &t, err, 4), -EINVAL);
    assert_int_equal(strlen(err), 3);
    assert_int_equal(aa_task_parse("x", 1, NULL, &t, NULL, 0), -EINVAL);
}

static void
test_too_big(void **state)
{
    (void)state;
    size_t n = 5 * 1024 * 1024;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'a', n);
    memcpy(big, "# ADM-100: big\n", 15);
    for (size_t i = 100; i < n; i += 100)
        big[i] = '\n';
    struct aa_task t;
    char err[256];
    assert_int_equal(aa_task_parse(big, n, "big.md", &t, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "big.md: document is 5242880 bytes, over the limit of 1048576"));
    /* exactly at the limit is accepted */
    assert_int_equal(aa_task_parse(big, AA_TASK_MAX_BYTES, "big.md", &t, err, sizeof err), 0);
    aa_task_done(&t);
    assert_int_equal(aa_task_parse(big, AA_TASK_MAX_BYTES + 1, "big.md", &t, err, sizeof err),
                     -EINVAL);

    /* from a file */
    char path[] = "/tmp/aa-taskdoc-big-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(aa_write_all(fd, big, n), 0);
    close(fd);
    err[0] = '\0';
    assert_int_equal(aa_task_load(path, &t, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "over the limit"));
    unlink(path);
    free(big);
}

/* Every prefix of a real document parses or fails cleanly (ASan/valgrind catch the rest). */
static void
test_truncated_prefixes(void **state)
{
    (void)state;
    size_t len;
    char *doc = fixture("ADM-001.md", &len);
    size_t ok = 0, failed = 0;
    for (size_t n = 0; n <= len; n++) {
        struct aa_task t;
        char err[256];
        char *copy = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
        assert_non_null(copy);
        memcpy(copy, doc, n);
        int r = aa_task_parse(copy, n, "ADM-001.md", &t, err, sizeof err);
        if (r == 0) {
            ok++;
            if (n >= strlen("# ADM-001:")) {
                assert_non_null(t.id);
                assert_string_equal(t.id, "ADM-001");
            }
        } else {
            failed++;
            assert_int_equal(r, -EINVAL);
            assert_true(strlen(err) > 0);
        }
        aa_task_done(&t);
        free(copy);
    }
    assert_true(ok > 0);
    assert_true(failed > 0);
    free(doc);
}

/* ---- values ------------------------------------------------------------------------------- */

static void
test_values_and_placeholders(void **state)
{
    (void)state;
    static const struct {
        const char *raw;
        const char *value; /* NULL: counts as empty */
    } cases[] = {
        { "Alice", "Alice" },
        { "   Alice   ", "Alice" },
        { "`Alice`", "Alice" },
        { "` Alice `", "Alice" },
        { "``Alice``", "Alice" },
        { "`a` and `b`", "`a` and `b`" },
        { "`` a`b ``", "a`b" },
        { "`", "`" },
        { "{name}", NULL },
        { "{name/role}", NULL },
        { "`{name}`", NULL },
        { "prefix {list} suffix", NULL },
        { "${HOME}/x", "${HOME}/x" },
        { "YYYY-MM-DD", NULL },
        { "YYYY-MM-DDTHH:MM:SSZ", NULL },
        { "ADM-XXX", NULL },
        { "N", NULL },
        { "...", NULL },
        { "\xe2\x80\xa6", NULL },
        { "", NULL },
        { "``", NULL },
        { "migration | data-fix | maintenance | emergency | analytics | backup", NULL },
        { "draft | approved | executed | reverted", NULL },
        { "approved|executed", NULL },
        { "a | b", "a | b" },
        { "NN", "NN" },
        { "2026-02-30", "2026-02-30" }, /* a value; the gate judges the date */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[512];
        (void)snprintf(doc, sizeof doc, "# ADM-100: x\n**Author**: %s\n## Approval\n- Reviewer: %s\n",
                       cases[i].raw, cases[i].raw);
        struct aa_task t;
        char err[256];
        assert_int_equal(parse_str(doc, &t, err, sizeof err), 0);
        const struct aa_task_field *fs[] = { &t.author, &t.reviewer };
        for (size_t k = 0; k < 2; k++) {
            if (cases[i].value) {
                if (!fs[k]->value || strcmp(fs[k]->value, cases[i].value) != 0)
                    fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].raw,
                             fs[k]->value ? fs[k]->value : "(null)", cases[i].value);
                assert_false(fs[k]->placeholder);
            } else {
                if (fs[k]->value)
                    fail_msg("\"%s\" should count as empty, got \"%s\"", cases[i].raw, fs[k]->value);
                assert_true(fs[k]->placeholder);
            }
            assert_int_equal(fs[k]->line, k == 0 ? 2 : 4);
        }
        aa_task_done(&t);
    }
}

static void
test_h1_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *h1;
        const char *id;
        const char *name;
    } cases[] = {
        { "# ADM-001: Name", "ADM-001", "Name" },
        { "#   ADM-1234 :   Spaced name  ", "ADM-1234", "Spaced name" },
        { "# ADM-001: Name: with colon", "ADM-001", "Name: with colon" },
        { "# ADM-01: short", NULL, "short" },
        { "# ADM-XXX: {Task Name}", NULL, NULL },
        { "# ADM-002", "ADM-002", NULL },
        { "# ADM-002 ##", "ADM-002", NULL },
        { "# `ADM-003`: quoted", "ADM-003", "quoted" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[256];
        (void)snprintf(doc, sizeof doc, "%s\n", cases[i].h1);
        struct aa_task t;
        char err[256];
        assert_int_equal(parse_str(doc, &t, err, sizeof err), 0);
        if (cases[i].id)
            assert_string_equal(t.id, cases[i].id);
        else
            assert_null(t.id);
        if (cases[i].name)
            assert_string_equal(t.name.value, cases[i].name);
        else
            assert_null(t.name.value);
        assert_int_equal(t.h1_line, 1);
        aa_task_done(&t);
    }
}

static void
test_structure(void **state)
{
    (void)state;
    struct aa_task t;
    char err[256];
    /* Command labels told apart by H2; items bound to their H2; fences elsewhere skipped */
    static const char doc[] =
        "# ADM-100: x\n"
        "## Notes\n"
        "```bash\nnot the command\n```\n"
        "- Reviewer: not an approval\n"
        "## Rollback\n"
        "**Command**:\n```\nrollback-cmd a\n```\n"
        "## Execution\n"
        "**Command**: `inline-cmd --flag`\n"
        "- Container image: img:1\n"
        "- Bogus item: x\n"
        "* [x] star checkbox outside a checklist\n"
        "**Pre-execution checks**:\n"
        "* [x] star\n"
        "+ [ ] plus\n"
        "- [X]\n"
        "### Sub heading keeps the section\n"
        "- Expected duration: 5m\n"
        "## Approval\n"
        "- **Reviewer**: Bold Label\n"
        "- **Approved at:** 2026-01-01\n"
        "## Post-execution audit\n"
        "- [x] Results verified\n";
    assert_int_equal(parse_str(doc, &t, err, sizeof err), 0);
    assert_string_equal(t.command.body, "inline-cmd --flag");
    assert_null(t.command.lang);
    assert_string_equal(t.rollback.body, "rollback-cmd a");
    assert_null(t.rollback.lang);
    assert_string_equal(t.image.value, "img:1");
    assert_string_equal(t.duration.value, "5m");
    assert_string_equal(t.reviewer.value, "Bold Label");
    assert_string_equal(t.approved_at.value, "2026-01-01");
    assert_int_equal(t.prechecks.n, 3);
    assert_true(t.prechecks.items[0].checked);
    assert_false(t.prechecks.items[1].checked);
    assert_true(t.prechecks.items[2].checked);
    assert_string_equal(t.prechecks.items[2].text, "");
    assert_int_equal(t.postaudit.n, 1);
    assert_int_equal(t.n_warnings, 2);
    assert_non_null(strstr(t.warnings[0], "unknown item \"Bogus item\""));
    assert_non_null(strstr(t.warnings[1], "checkbox outside a checklist"));
    assert_null(t.warnings[2]);
    aa_task_done(&t);

    /* a longer fence contains a shorter one; a fence with an info string does not close */
    static const char nested[] = "# ADM-100: x\n## Execution\n**Command**:\n````bash\n"
                                 "cat <<'X'\n```\n```sh\nX\n````\n";
    assert_int_equal(parse_str(nested, &t, err, sizeof err), 0);
    assert_string_equal(t.command.body, "cat <<'X'\n```\n```sh\nX");
    assert_int_equal(t.command.end_line, 9);
    aa_task_done(&t);

    /* empty fence counts as placeholder */
    static const char empty[] = "# ADM-100: x\n## Execution\n**Command**:\n```bash\n\n```\n";
    assert_int_equal(parse_str(empty, &t, err, sizeof err), 0);
    assert_true(t.command.placeholder);
    assert_null(t.command.body);
    assert_int_equal(t.command.line, 4);
    aa_task_done(&t);

    /* inline ```code``` is not a fence; bold text is not a field; a field ends the Purpose */
    static const char inl[] = "# ADM-100: x\n## Purpose\nRun ```make x``` first.\n"
                              "**Status**: approved\n"
                              "**Note** this is bold text: not a field\n"
                              "**:** nothing\n"
                              "- **bold** text: value\n";
    assert_int_equal(parse_str(inl, &t, err, sizeof err), 0);
    assert_string_equal(t.purpose.value, "Run ```make x``` first.");
    assert_string_equal(t.status.value, "approved");
    assert_int_equal(t.status.line, 4);
    assert_int_equal(t.command.line, 0);
    aa_task_done(&t);

    /* no trailing newline at EOF */
    static const char noeol[] = "# ADM-100: x\n**Status**: approved";
    assert_int_equal(parse_str(noeol, &t, err, sizeof err), 0);
    assert_string_equal(t.status.value, "approved");
    assert_int_equal(t.line_count, 2);
    aa_task_done(&t);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void
test_dates(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int r;
        long days;
    } cases[] = {
        { "1970-01-01", 0, 0 },       { "1970-01-02", 0, 1 },       { "2000-03-01", 0, 11017 },
        { "2026-03-01", 0, 20513 },   { "2024-02-29", 0, 19782 },   { "1969-12-31", 0, -1 },
        { "2026-02-30", -EINVAL, 0 }, { "2026-02-29", -EINVAL, 0 }, { "2100-02-29", -EINVAL, 0 },
        { "2000-02-29", 0, 11016 },   { "2026-13-01", -EINVAL, 0 }, { "2026-00-10", -EINVAL, 0 },
        { "2026-04-31", -EINVAL, 0 }, { "2026-01-00", -EINVAL, 0 }, { "2026-1-01", -EINVAL, 0 },
        { "YYYY-MM-DD", -EINVAL, 0 }, { "2026-01-01T00:00:00Z", -EINVAL, 0 },
        { "", -EINVAL, 0 },           { "2026/01/01", -EINVAL, 0 }, { "+026-01-01", -EINVAL, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long d = 12345;
        int r = aa_parse_date(cases[i].s, &d);
        if (r != cases[i].r || (r == 0 && d != cases[i].days))
            fail_msg("%s: r=%d days=%ld, want %d %ld", cases[i].s, r, d, cases[i].r, cases[i].days);
    }
    assert_int_equal(aa_parse_date(NULL, NULL), -EINVAL);
}

static void
test_id_and_category(void **state)
{
    (void)state;
    assert_true(aa_task_id_valid("ADM-001"));
    assert_true(aa_task_id_valid("ADM-12345"));
    assert_false(aa_task_id_valid("ADM-01"));
    assert_false(aa_task_id_valid("ADM-XXX"));
    assert_false(aa_task_id_valid("ADM-002-revert"));
    assert_false(aa_task_id_valid("adm-002"));
    assert_false(aa_task_id_valid("ADM-002 "));
    assert_false(aa_task_id_valid("../ADM-002"));
    assert_false(aa_task_id_valid(""));
    assert_false(aa_task_id_valid(NULL));
    const char *good[] = { "migration", "data-fix", "maintenance", "emergency", "analytics", "backup" };
    for (size_t i = 0; i < 6; i++)
        assert_true(aa_task_category_valid(good[i]));
    assert_false(aa_task_category_valid("Migration"));
    assert_false(aa_task_category_valid("migration | data-fix"));
    assert_false(aa_task_category_valid(""));
    assert_false(aa_task_category_valid(NULL));
}

static void
test_lists(void **state)
{
    (void)state;
    static const struct {
        const char *envs;
        const char *want[5];
    } env_cases[] = {
        { "dev, staging, prod", { "development", "staging", "production" } },
        { "`PROD`", { "production" } },
        { "Development;Staging", { "development", "staging" } },
        { "staging (rehearsal), prod", { "staging", "production" } },
        { "  qa  ", { "qa" } },
    };
    for (size_t i = 0; i < sizeof env_cases / sizeof env_cases[0]; i++) {
        struct aa_task t = { 0 };
        t.environments.value = (char *)env_cases[i].envs;
        char **v = aa_task_environments(&t);
        assert_non_null(v);
        size_t n = 0;
        while (env_cases[i].want[n])
            n++;
        assert_int_equal(aa_strv_len(v), n);
        for (size_t k = 0; k < n; k++)
            assert_string_equal(v[k], env_cases[i].want[k]);
        aa_strv_free(v);
    }
    static const struct {
        const char *names;
        const char *want[4];
    } name_cases[] = {
        { "`DATABASE_URL`, `REDIS_URL`", { "DATABASE_URL", "REDIS_URL" } },
        { "DATABASE_URL REDIS_URL (see .env.example)", { "DATABASE_URL", "REDIS_URL" } },
        { "none", { NULL } },
        { "`None`", { NULL } },
        { "A;B,C", { "A", "B", "C" } },
    };
    for (size_t i = 0; i < sizeof name_cases / sizeof name_cases[0]; i++) {
        struct aa_task t = { 0 };
        t.env_required.value = (char *)name_cases[i].names;
        char **v = aa_task_env_names(&t);
        assert_non_null(v);
        size_t n = 0;
        while (name_cases[i].want[n])
            n++;
        assert_int_equal(aa_strv_len(v), n);
        for (size_t k = 0; k < n; k++)
            assert_string_equal(v[k], name_cases[i].want[k]);
        aa_strv_free(v);
    }
    /* unfilled: empty vectors, not NULL */
    struct aa_task t = { 0 };
    char **v = aa_task_env_names(&t);
    assert_non_null(v);
    assert_int_equal(aa_strv_len(v), 0);
    aa_strv_free(v);
    v = aa_task_environments(NULL);
    assert_non_null(v);
    aa_strv_free(v);
    assert_int_equal(aa_strv_len(NULL), 0);
    aa_strv_free(NULL);
}

static void
test_warning_cap(void **state)
{
    (void)state;
    /* many unplaced lines: warnings are bounded */
    size_t cap = 200 * 32 + 64;
    char *doc = malloc(cap);
    assert_non_null(doc);
    size_t n = (size_t)snprintf(doc, cap, "# ADM-100: x\n## Scope\n");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(doc + n, cap - n, "- Unknown %d: x\n", i);
    struct aa_task t;
    char err[256];
    assert_int_equal(aa_task_parse(doc, n, "w.md", &t, err, sizeof err), 0);
    assert_int_equal(t.n_warnings, 64);
    assert_null(t.warnings[64]);
    assert_non_null(strstr(t.warnings[0], "line 3: unknown item"));
    aa_task_done(&t);
    free(doc);
}

static void
test_many_checkboxes(void **state)
{
    (void)state;
    size_t cap = 3000 * 24 + 128;
    char *doc = malloc(cap);
    assert_non_null(doc);
    size_t n = (size_t)snprintf(doc, cap, "# ADM-100: x\n## Execution\n**Pre-execution checks**:\n");
    for (int i = 0; i < 3000; i++)
        n += (size_t)snprintf(doc + n, cap - n, "- [%c] check %d\n", i % 3 ? 'x' : ' ', i);
    struct aa_task t;
    char err[256];
    assert_int_equal(aa_task_parse(doc, n, "c.md", &t, err, sizeof err), 0);
    assert_int_equal(t.prechecks.n, 3000);
    assert_int_equal(t.prechecks.line, 3);
    assert_string_equal(t.prechecks.items[2999].text, "check 2999");
    assert_true(t.prechecks.items[2999].checked);
    assert_false(t.prechecks.items[2997].checked);
    assert_int_equal(t.prechecks.items[2999].line, 3003);
    aa_task_done(&t);
    free(doc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adm001_every_field),
        cmocka_unit_test(test_adm002_variants),
        cmocka_unit_test(test_template_skeleton_all_placeholder),
        cmocka_unit_test(test_rollback_adr),
        cmocka_unit_test(test_crlf_bom_tilde),
        cmocka_unit_test(test_malformed_fixtures),
        cmocka_unit_test(test_malformed_memory),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_truncated_prefixes),
        cmocka_unit_test(test_values_and_placeholders),
        cmocka_unit_test(test_h1_shapes),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_id_and_category),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_warning_cap),
        cmocka_unit_test(test_many_checkboxes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
