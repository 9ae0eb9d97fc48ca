/* Break-glass documents: the stub task document (BG-2) reads back with
 * aa_task_load and its Command splits back into the argv; it never replaces
 * a document; the post-mortem stub is built from the journal, never
 * overwrites (-2 suffix), and the pending lookup finds it and its Status. */
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
#include <time.h>
#include <unistd.h>

#include "breakglass.h"
#include <stdbool.h>
#include "gate.h"
#include "taskdoc.h"
#include "util.h"

static char tdir[64];

static int
setup(void **state)
{
    (void)state;
    snprintf(tdir, sizeof tdir, "/tmp/aa-test-bg-XXXXXX");
    return mkdtemp(tdir) ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
test_stub_reads_back(void **state)
{
    (void)state;
    char tasks[128];
    snprintf(tasks, sizeof tasks, "%s/proj/.aiwg/admin-tasks", tdir); /* created by the stub */
    char *const argv[] = {"psql", "-c", "UPDATE t SET a='x' WHERE id = 1;", "it's",
                          "two\nlines", "", "plain-arg_1.0", NULL};
    char *path = NULL;
    char err[256] = "";
    int r = aa_breakglass_write_stub(tasks, "ADM-123", argv, "  queue is stuck,\nrestart it now ",
                                     "INC-9", "alice", &path, err, sizeof err);
    assert_int_equal(r, 0);
    assert_non_null(path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);

    struct aa_task t;
    assert_int_equal(aa_task_load(path, &t, err, sizeof err), 0);
    assert_string_equal(t.id, "ADM-123");
    assert_string_equal(t.category.value, "emergency");
    assert_string_equal(t.status.value, "draft");
    assert_string_equal(t.author.value, "alice");
    assert_string_equal(t.purpose.value, "queue is stuck, restart it now");
    assert_string_equal(t.authorization.value, "INC-9");
    assert_null(t.reviewer.value);
    assert_null(t.approved_at.value);
    assert_non_null(t.created.value);
    long days;
    assert_int_equal(aa_parse_date(t.created.value, &days), 0);
    assert_true(days == (long)(time(NULL) / 86400) || days + 1 == (long)(time(NULL) / 86400));
    assert_string_equal(t.invoked_by.value, "alice");
    assert_non_null(t.breakglass.value);
    assert_non_null(strstr(t.breakglass.value, "post-mortem: pending"));
    assert_int_equal(t.prechecks.n, 4);
    assert_int_equal(t.postaudit.n, 4);
    assert_non_null(t.command.body);
    assert_string_equal(t.command.lang, "bash");

    char **words = NULL;
    assert_int_equal(aa_shell_split(t.command.body, &words), 0);
    size_t n = 0;
    for (; argv[n]; n++) {
        assert_non_null(words[n]);
        assert_string_equal(words[n], argv[n]);
    }
    assert_null(words[n]);
    aa_strv_free(words);
    aa_task_done(&t);

    /* Never over an existing document. */
    char *path2 = NULL;
    r = aa_breakglass_write_stub(tasks, "ADM-123", argv, "another reason, long enough", NULL,
                                 "bob", &path2, err, sizeof err);
    assert_int_equal(r, -EEXIST);
    assert_null(path2);
    assert_int_equal(aa_task_load(path, &t, err, sizeof err), 0);
    assert_string_equal(t.author.value, "alice");
    aa_task_done(&t);
    free(path);

    /* Without an incident the reason is the authorization. */
    r = aa_breakglass_write_stub(tasks, "ADM-124", argv, "disk full on the primary", NULL, "bob",
                                 &path, err, sizeof err);
    assert_int_equal(r, 0);
    assert_int_equal(aa_task_load(path, &t, err, sizeof err), 0);
    assert_string_equal(t.authorization.value, "break-glass: disk full on the primary");
    aa_task_done(&t);
    free(path);

    assert_int_equal(aa_breakglass_write_stub(tasks, "ADM-1", argv, "x", NULL, "bob", &path, err,
                                              sizeof err),
                     -EINVAL);
}

static void
write_journal(const char *path, const char *sid)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"@timestamp\":\"2026-03-02T14:00:00.000001Z\",\"event\":{\"action\":\"session.start\"},"
            "\"session\":{\"id\":\"%s\",\"task\":null,\"mode\":\"break-glass\",\"reason\":\"the "
            "cache is poisoned\",\"identity_source\":\"sudo\",\"violations\":[\"task.document\"]},"
            "\"user\":{\"name\":\"dave\",\"effective\":{\"name\":\"root\"}},\"host\":{\"name\":\"h1\"}}\n",
            sid);
    fprintf(f, "{\"@timestamp\":\"2026-03-02T14:00:01Z\",\"event\":{\"action\":\"process.exec\"},"
               "\"session\":{\"id\":\"other\"},\"process\":{\"pid\":9,\"args\":[\"rm\",\"-rf\",\"/\"]}}\n");
    fprintf(f, "not json at all %s\n", sid);
    fprintf(f,
            "{\"@timestamp\":\"2026-03-02T14:00:02Z\",\"event\":{\"action\":\"process.exec\"},"
            "\"session\":{\"id\":\"%s\"},\"process\":{\"pid\":10,\"args\":[\"redis-cli\",\"FLUSHALL\","
            "\"a b\",\"--pass=[REDACTED]\"]},\"chain\":{\"seq\":2}}\n",
            sid);
    fprintf(f,
            "{\"@timestamp\":\"2026-03-02T14:01:00Z\",\"event\":{\"action\":\"session.end\","
            "\"duration\":60000000000},\"session\":{\"id\":\"%s\",\"end_reason\":\"signal\","
            "\"rows_affected\":3,\"recording\":{\"file\":\"/var/log/x.cast\",\"sha256\":\"abc\","
            "\"bytes\":10,\"events\":2}},\"process\":{\"exit_code\":130},\"audit\":{\"signal\":\"SIGINT\"}}\n",
            sid);
    fclose(f);
}

static void
test_postmortem(void **state)
{
    (void)state;
    const char *sid = "01a23dff-be16-73a6-a74d-ade1f8c34d99";
    char journal[128], inc[128];
    snprintf(journal, sizeof journal, "%s/audit.jsonl", tdir);
    snprintf(inc, sizeof inc, "%s/p/.aiwg/incidents", tdir);
    write_journal(journal, sid);

    char *pm = NULL;
    assert_int_equal(aa_breakglass_write_postmortem(inc, journal, sid, &pm), 0);
    assert_non_null(pm);
    assert_non_null(strstr(pm, "/PM-01a23dff-be16-20260302.md"));
    char *buf = NULL;
    assert_int_equal(aa_read_file(pm, 1 << 20, &buf, NULL), 0);
    const char *want[] = {
        "**Status**: draft\n",
        "- Invoked at: 2026-03-02T14:00:00.000001Z\n",
        "- Ended at: 2026-03-02T14:01:00Z\n",
        "- Duration: 60.000 s\n",
        "- Exit code: 130\n",
        "- Signal: SIGINT\n",
        "- Operator: dave\n",
        "- Identity source: sudo\n",
        "the cache is poisoned\n",
        "- task.document\n",
        "redis-cli FLUSHALL 'a b' '--pass=[REDACTED]'\n",
        "- Rows/objects affected: 3\n",
        "- File: /var/log/x.cast\n",
        "- SHA-256: abc\n",
        "## Why the normal path could not be used\n",
        "## Follow-up tickets\n",
        "## Verdict (appropriate / not appropriate)\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(buf, want[i]))
            fail_msg("post-mortem lacks %s\n---\n%s", want[i], buf);
    assert_null(strstr(buf, "rm -rf"));  /* another session's record */
    free(buf);

    /* Never overwritten: the second gets -2. */
    char *pm2 = NULL;
    assert_int_equal(aa_breakglass_write_postmortem(inc, journal, sid, &pm2), 0);
    assert_non_null(strstr(pm2, "/PM-01a23dff-be16-20260302-2.md"));

    /* The pending lookup: draft, then complete. */
    char *found = NULL;
    bool complete = true;
    assert_int_equal(aa_breakglass_postmortem_find(inc, sid, NULL, "20260302", &found, &complete),
                     0);
    assert_non_null(found);
    assert_false(complete);
    free(found);
    assert_int_equal(aa_read_file(pm2, 1 << 20, &buf, NULL), 0);
    char *st = strstr(buf, "**Status**: draft");
    assert_non_null(st);
    FILE *f = fopen(pm2, "w");
    assert_non_null(f);
    fprintf(f, "%.*s**Status**: complete%s", (int)(st - buf), buf, st + strlen("**Status**: draft"));
    fclose(f);
    free(buf);
    assert_int_equal(aa_breakglass_postmortem_find(inc, sid, NULL, "20260302", &found, &complete),
                     0);
    assert_non_null(found);
    assert_true(complete);
    assert_non_null(strstr(found, "-2.md"));
    free(found);

    /* Another session has none; a missing directory is no error. */
    assert_int_equal(aa_breakglass_postmortem_find(inc, "01a23dff-0000-0000", NULL, NULL, &found,
                                                   &complete),
                     0);
    assert_null(found);
    assert_false(complete);
    assert_int_equal(aa_breakglass_postmortem_find("/nonexistent/x", sid, NULL, NULL, &found,
                                                   &complete),
                     0);
    assert_null(found);

    /* A session not in the journal. */
    free(pm2);
    assert_int_equal(aa_breakglass_write_postmortem(inc, journal, "nope", &pm2), -ENOENT);
    free(pm);
}

static void
put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *
get(const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(aa_read_file(path, 1 << 20, &buf, &len), 0);
    return buf;
}

static void
test_link_postmortem(void **state)
{
    (void)state;
    char doc[128], pm[128];
    snprintf(doc, sizeof doc, "%s/ADM-050.md", tdir);
    snprintf(pm, sizeof pm, "%s/.aiwg/incidents/PM-ADM-050-20260302.md", tdir);
    /* a reason that itself contains the tail: only the line's end is replaced */
    put(doc, "# ADM-050: x\n\n- Exit code: {0}\n"
             "- Break-glass: yes (reason: a; post-mortem: pending) b; post-mortem: pending)\n"
             "## Rollback\n");
    assert_int_equal(chmod(doc, 0640), 0);
    bool changed = false;
    assert_int_equal(aa_breakglass_link_postmortem(doc, pm, tdir, &changed), 0);
    assert_true(changed);
    char *got = get(doc);
    assert_string_equal(got, "# ADM-050: x\n\n- Exit code: {0}\n"
                             "- Break-glass: yes (reason: a; post-mortem: pending) b; post-mortem: "
                             ".aiwg/incidents/PM-ADM-050-20260302.md, pending)\n"
                             "## Rollback\n");
    free(got);
    struct stat st;
    assert_int_equal(stat(doc, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640); /* mode kept */

    /* a second call, or a line edited by hand: left alone */
    assert_int_equal(aa_breakglass_link_postmortem(doc, pm, tdir, &changed), 0);
    assert_false(changed);
    put(doc, "- Break-glass: yes (reason: a; post-mortem: see INC-9)\r\n");
    assert_int_equal(aa_breakglass_link_postmortem(doc, pm, tdir, &changed), 0);
    assert_false(changed);
    /* CRLF kept; a post-mortem outside the project keeps its absolute path */
    put(doc, "- Break-glass: yes (reason: r; post-mortem: pending)\r\nend\r\n");
    assert_int_equal(aa_breakglass_link_postmortem(doc, "/srv/pm/PM-1.md", tdir, &changed), 0);
    assert_true(changed);
    got = get(doc);
    assert_string_equal(got, "- Break-glass: yes (reason: r; post-mortem: /srv/pm/PM-1.md, pending)\r\nend\r\n");
    free(got);
    /* no document */
    snprintf(doc, sizeof doc, "%s/nope.md", tdir);
    assert_int_equal(aa_breakglass_link_postmortem(doc, pm, tdir, &changed), -ENOENT);
}

static void
test_file_tag(void **state)
{
    (void)state;
    char tag[64];
    assert_int_equal(aa_breakglass_file_tag("ADM-007", "x", tag, sizeof tag), 0);
    assert_string_equal(tag, "ADM-007");
    assert_int_equal(aa_breakglass_file_tag(NULL, "01a23dff-be16-73a6-a74d", tag, sizeof tag), 0);
    assert_string_equal(tag, "01a23dff-be16");
    assert_int_equal(aa_breakglass_file_tag(NULL, "../../etc", tag, sizeof tag), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stub_reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_postmortem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_postmortem, setup, teardown),
        cmocka_unit_test(test_file_tag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
