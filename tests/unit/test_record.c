/* Records: envelope key order, dotted setters (replace in place), UTF-8
 * rule (U+FFFD + audit.raw base64), round trips through json-c, redaction
 * canaries in the serialised record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"
#include "util.h"

static const struct aa_envelope ENV = {
    .session_id = "s-1",
    .task_id = "ADM-001",
    .user_name = "alice",
    .user_effective = "root",
    .host_name = "db-01",
};
static const struct timespec TS = {.tv_sec = 1767225600, .tv_nsec = 123456789};

static struct json_object *
new_rec(void)
{
    struct json_object *rec = aa_record_new(&ENV, "process.exec", "unknown", &TS, 4391);
    assert_non_null(rec);
    return rec;
}

static struct json_object *
get_path(struct json_object *o, const char *a, const char *b)
{
    struct json_object *x = NULL, *y = NULL;
    assert_true(json_object_object_get_ex(o, a, &x));
    if (!b)
        return x;
    assert_true(json_object_object_get_ex(x, b, &y));
    return y;
}

static void
test_envelope_order(void **state)
{
    (void)state;
    struct json_object *rec = new_rec();
    size_t n = 0;
    const char *s = aa_record_serialize(rec, &n);
    assert_string_equal(
        s, "{\"@timestamp\":\"2026-01-01T00:00:00.123456Z\",\"schema\":\"admin-audit/1\","
           "\"event\":{\"action\":\"process.exec\",\"outcome\":\"unknown\",\"id\":null},"
           "\"session\":{\"id\":\"s-1\",\"task\":\"ADM-001\"},"
           "\"user\":{\"name\":\"alice\",\"effective\":{\"name\":\"root\"}},"
           "\"host\":{\"name\":\"db-01\"},\"process\":{\"pid\":4391}}");
    assert_int_equal(n, strlen(s));
    json_object_put(rec);

    struct aa_envelope bg = ENV;
    bg.task_id = NULL;
    rec = aa_record_new(&bg, "session.start", "success", NULL, 1);
    assert_non_null(rec);
    s = aa_record_serialize(rec, NULL);
    assert_non_null(strstr(s, "\"session\":{\"id\":\"s-1\",\"task\":null}"));
    /* ts NULL = now: RFC 3339 UTC with microseconds. */
    const char *t = json_object_get_string(get_path(rec, "@timestamp", NULL));
    assert_int_equal(strlen(t), 27);
    assert_int_equal(t[10], 'T');
    assert_int_equal(t[19], '.');
    assert_int_equal(t[26], 'Z');
    json_object_put(rec);
}

static void
test_set_in_place(void **state)
{
    (void)state;
    struct json_object *rec = new_rec();
    assert_int_equal(aa_rec_set_str(rec, "event.id", "s-1:7"), 0);
    assert_int_equal(aa_rec_set_int(rec, "process.pid", 99), 0);
    assert_int_equal(aa_rec_set_str(rec, "process.working_directory", "/root/x"), 0);
    assert_int_equal(aa_rec_set_bool(rec, "audit.truncated", false), 0);
    assert_int_equal(aa_rec_set_str(rec, "schema", "admin-audit/1"), 0);
    const char *s = aa_record_serialize(rec, NULL);
    assert_string_equal(
        s, "{\"@timestamp\":\"2026-01-01T00:00:00.123456Z\",\"schema\":\"admin-audit/1\","
           "\"event\":{\"action\":\"process.exec\",\"outcome\":\"unknown\",\"id\":\"s-1:7\"},"
           "\"session\":{\"id\":\"s-1\",\"task\":\"ADM-001\"},"
           "\"user\":{\"name\":\"alice\",\"effective\":{\"name\":\"root\"}},"
           "\"host\":{\"name\":\"db-01\"},"
           "\"process\":{\"pid\":99,\"working_directory\":\"/root/x\"},"
           "\"audit\":{\"truncated\":false}}");
    /* A non-object in the way. */
    assert_null(aa_rec_obj(rec, "schema.x"));
    assert_int_equal(aa_rec_set_int(rec, "process.pid.x", 1), -ENOMEM);
    /* JSON null is replaced by an object, in place. */
    assert_null(aa_rec_obj(rec, "session.task")); /* a string */
    assert_int_equal(aa_rec_set(rec, "session.task", NULL), 0);
    assert_non_null(aa_rec_obj(rec, "session.task"));
    assert_int_equal(aa_rec_set(rec, "session.task", NULL), 0);
    assert_int_equal(aa_rec_set_str(rec, "user.name", NULL), 0);
    s = aa_record_serialize(rec, NULL);
    assert_non_null(strstr(s, "\"session\":{\"id\":\"s-1\",\"task\":null},\"user\":{\"name\":null,"));
    json_object_put(rec);
}

static void
test_utf8_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"plain", true},
        {"\xc3\xa9", true},               /* é */
        {"\xe2\x82\xac", true},           /* € */
        {"\xf0\x9f\x98\x80", true},       /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", true},       /* U+10FFFF */
        {"\xc0\xaf", false},              /* overlong / */
        {"\xc1\xbf", false},              /* overlong */
        {"\xe0\x80\xaf", false},          /* overlong */
        {"\xf0\x80\x80\xaf", false},      /* overlong */
        {"\xed\xa0\x80", false},          /* surrogate D800 */
        {"\xed\xbf\xbf", false},          /* surrogate DFFF */
        {"\xf4\x90\x80\x80", false},      /* > U+10FFFF */
        {"\xf5\x80\x80\x80", false},
        {"\xe2\x82", false},              /* truncated */
        {"\x80", false},                  /* lone continuation */
        {"\xff", false},
    };
    for (size_t i = 0; i < AA_ARRAY_SIZE(cases); i++)
        assert_int_equal(aa_utf8_valid(cases[i].s, strlen(cases[i].s)), cases[i].ok);
    assert_true(aa_utf8_valid("a\0b", 3)); /* NUL is UTF-8; the record rule replaces it */
}

static void
test_utf8_sanitize(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        const char *out;
    } cases[] = {
        {"ok", 2, "ok"},
        {"a\xff" "b", 3, "a\xef\xbf\xbd" "b"},
        {"\xff\xfe", 2, "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xe2\x82x", 3, "\xef\xbf\xbdx"},             /* maximal subpart: one U+FFFD */
        {"\xf0\x9f\x98", 3, "\xef\xbf\xbd"},
        {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate: per byte */
        {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"},
        {"a\0b", 3, "a\xef\xbf\xbd" "b"},
        {"\xc3\xa9\x80", 3, "\xc3\xa9\xef\xbf\xbd"},
    };
    for (size_t i = 0; i < AA_ARRAY_SIZE(cases); i++) {
        char *s = aa_utf8_sanitize(cases[i].in, cases[i].n);
        assert_non_null(s);
        assert_string_equal(s, cases[i].out);
        assert_true(aa_utf8_valid(s, strlen(s)));
        free(s);
    }
    char *b = aa_base64("a\xff" "b", 3);
    assert_string_equal(b, "Yf9i");
    free(b);
    b = aa_base64("", 0);
    assert_string_equal(b, "");
    free(b);
}

static void
test_invalid_utf8_raw(void **state)
{
    (void)state;
    struct json_object *rec = new_rec();
    struct aa_bytes argv[] = {{"ls", 2}, {"-l", 2}, {"a\xff" "b", 3}, {"x\0y", 3}};
    struct aa_counts counts = {0};
    assert_int_equal(aa_rec_set_args(rec, "process.args", argv, 4, &counts), 0);
    assert_int_equal(aa_rec_set_bytes(rec, "process.working_directory", "/tmp/\xfe", 6, false,
                                      &counts),
                     0);
    const char *s = aa_record_serialize(rec, NULL);
    assert_true(aa_utf8_valid(s, strlen(s)));
    struct json_object *back = json_tokener_parse(s);
    assert_non_null(back);
    struct json_object *args = get_path(back, "process", "args");
    assert_int_equal(json_object_array_length(args), 4);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 2)),
                        "a\xef\xbf\xbd" "b");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 3)),
                        "x\xef\xbf\xbdy");
    assert_int_equal(json_object_get_int(get_path(back, "process", "args_count")), 4);
    struct json_object *raw = get_path(back, "audit", "raw"), *v;
    assert_true(json_object_object_get_ex(raw, "process.args[2]", &v));
    assert_string_equal(json_object_get_string(v), "Yf9i");
    assert_true(json_object_object_get_ex(raw, "process.args[3]", &v));
    assert_string_equal(json_object_get_string(v), "eAB5");
    assert_true(json_object_object_get_ex(raw, "process.working_directory", &v));
    assert_string_equal(json_object_get_string(v), "L3RtcC/+");
    assert_false(json_object_object_get_ex(raw, "process.args[0]", &v));
    assert_int_equal(json_object_object_length(raw), 3);
    assert_int_equal(counts.redactions, 0);
    json_object_put(back);
    json_object_put(rec);
}

static void
test_round_trip(void **state)
{
    (void)state;
    size_t big = 100 * 1024;
    char *b = malloc(big);
    assert_non_null(b);
    for (size_t i = 0; i < big; i++)
        b[i] = (char)('a' + i % 26);
    const char tricky[] = "line1\nline2\t\"quoted\" back\\slash /usr/bin \x01\x1f\x7f end";
    struct aa_bytes argv[] = {{"echo", 4}, {b, big}, {tricky, sizeof tricky - 1}};
    struct json_object *rec = new_rec();
    assert_int_equal(aa_rec_set_args(rec, "process.args", argv, 3, NULL), 0);
    size_t n = 0;
    const char *s = aa_record_serialize(rec, &n);
    assert_null(memchr(s, '\n', n)); /* JSON Lines: no raw newline */
    assert_non_null(strstr(s, "/usr/bin")); /* NOSLASHESCAPE */
    struct json_object *back = json_tokener_parse(s);
    assert_non_null(back);
    struct json_object *args = get_path(back, "process", "args");
    struct json_object *a1 = json_object_array_get_idx(args, 1);
    assert_int_equal(json_object_get_string_len(a1), big);
    assert_memory_equal(json_object_get_string(a1), b, big);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 2)), tricky);
    struct json_object *audit;
    assert_false(json_object_object_get_ex(back, "audit", &audit));
    json_object_put(back);
    json_object_put(rec);
    free(b);
}

#define GHP "ghp_" "abcdefghijklmnopqrstuvwxyz0123456789"

static void
test_redaction_canaries(void **state)
{
    (void)state;
    static const char *const args[] = {
        "bash", "-c", "aws s3 cp x y # AKIAIOSFODNN7EXAMPLE and " GHP,
        "--password=canary-xyz", "--password-file=secret.txt", "mysql", "-pcanary-db",
        "https://user:canary-url@example.com/x", "curl", "-H", "Authorization: Bearer canary-hdr",
        "AKIAIOSFODNN7EXAMP",
    };
    struct aa_bytes argv[AA_ARRAY_SIZE(args)];
    for (size_t i = 0; i < AA_ARRAY_SIZE(args); i++)
        argv[i] = (struct aa_bytes){args[i], strlen(args[i])};
    struct aa_counts counts = {0};
    struct json_object *rec = new_rec();
    assert_int_equal(aa_rec_set_args(rec, "process.args", argv, AA_ARRAY_SIZE(args), &counts), 0);
    const char *s = aa_record_serialize(rec, NULL);
    static const char *const canaries[] = {"AKIAIOSFODNN7EXAMPLE", GHP, "canary-xyz", "canary-db",
                                           "canary-url", "canary-hdr"};
    for (size_t i = 0; i < AA_ARRAY_SIZE(canaries); i++) {
        if (strstr(s, canaries[i]))
            print_error("canary %s leaked: %s\n", canaries[i], s);
        assert_null(strstr(s, canaries[i]));
    }
    /* near-misses stay */
    assert_non_null(strstr(s, "\"--password-file=secret.txt\""));
    assert_non_null(strstr(s, "\"AKIAIOSFODNN7EXAMP\""));
    assert_non_null(strstr(s, "\"--password=[REDACTED]\""));
    assert_non_null(strstr(s, "\"-p[REDACTED]\""));
    assert_non_null(strstr(s, "\"https://user:[REDACTED]@example.com/x\""));
    assert_non_null(strstr(s, "\"Authorization: [REDACTED]\""));
    assert_non_null(strstr(s, "aws s3 cp x y # [REDACTED] and [REDACTED]"));

    struct json_object *back = json_tokener_parse(s);
    struct json_object *red = get_path(back, "audit", "redactions");
    /* element 2: aws + github (2 entries), 3, 6, 7, 10 */
    assert_int_equal(json_object_array_length(red), 6);
    assert_int_equal(counts.redactions, 6);
    struct json_object *e = json_object_array_get_idx(red, 2);
    assert_string_equal(json_object_get_string(get_path(e, "field", NULL)), "process.args");
    assert_int_equal(json_object_get_int(get_path(e, "index", NULL)), 3);
    assert_string_equal(json_object_get_string(get_path(e, "rule", NULL)), "cli.password-flag");
    assert_int_equal(json_object_object_length(e), 3);
    json_object_put(back);
    json_object_put(rec);

    /* aa_rec_set_bytes with value redaction, and without. */
    rec = new_rec();
    counts = (struct aa_counts){0};
    const char *cmd = "deploy --url https://u:canary-b@h/ " GHP;
    assert_int_equal(aa_rec_set_bytes(rec, "process.command_line", cmd, strlen(cmd), true, &counts), 0);
    assert_int_equal(aa_rec_set_bytes(rec, "process.title", GHP, strlen(GHP), false, &counts), 0);
    s = aa_record_serialize(rec, NULL);
    assert_non_null(strstr(s, "\"command_line\":\"deploy --url https://u:[REDACTED]@h/ [REDACTED]\""));
    assert_non_null(strstr(s, "\"title\":\"" GHP "\""));
    assert_non_null(strstr(s, "{\"field\":\"process.command_line\",\"index\":null,\"rule\":\"url.userinfo\"}"));
    assert_int_equal(counts.redactions, 2);
    json_object_put(rec);
}

static void
test_env_allowlist(void **state)
{
    (void)state;
    static const char *const env[] = {
        "PATH=/usr/bin:/bin", "HOME=/root", "LC_ALL=C.UTF-8", "DATABASE_URL=postgres://a:b@h/d",
        "PGPASSWORD=canary-pg", "AWS_SECRET_ACCESS_KEY=canary-aws", "MYAPP_SETTING=plain-value",
        "SUDO_COMMAND=/usr/bin/env GITHUB_TOKEN=canary-sudo x", "APP_ENV=staging", "NOEQUALS",
    };
    struct aa_bytes envp[AA_ARRAY_SIZE(env)];
    for (size_t i = 0; i < AA_ARRAY_SIZE(env); i++)
        envp[i] = (struct aa_bytes){env[i], strlen(env[i])};
    char *extra[] = {"APP_ENV", "PGPASSWORD", NULL};
    struct aa_counts counts = {0};
    struct json_object *rec = new_rec();
    assert_int_equal(
        aa_rec_set_env(rec, "process.env_vars", envp, AA_ARRAY_SIZE(env), extra, &counts), 0);
    const char *s = aa_record_serialize(rec, NULL);
    assert_non_null(strstr(
        s, "\"env_vars\":[\"PATH=/usr/bin:/bin\",\"HOME=/root\",\"LC_ALL=C.UTF-8\","
           "\"DATABASE_URL=[REDACTED]\",\"PGPASSWORD=[REDACTED]\",\"AWS_SECRET_ACCESS_KEY=[REDACTED]\","
           "\"MYAPP_SETTING=[REDACTED]\",\"SUDO_COMMAND=/usr/bin/env GITHUB_TOKEN=[REDACTED] x\","
           "\"APP_ENV=staging\",\"NOEQUALS\"]"));
    assert_null(strstr(s, "canary"));
    assert_null(strstr(s, "plain-value"));
    /* PGPASSWORD (secret name although allowlisted), AWS_SECRET..., SUDO_COMMAND value */
    assert_int_equal(counts.redactions, 3);
    json_object_put(rec);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_order),  cmocka_unit_test(test_set_in_place),
        cmocka_unit_test(test_utf8_valid),      cmocka_unit_test(test_utf8_sanitize),
        cmocka_unit_test(test_invalid_utf8_raw), cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_redaction_canaries), cmocka_unit_test(test_env_allowlist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
