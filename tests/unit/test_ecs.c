/* Native -> ECS mapping (reference/schema.md §1.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ecs.h"

static const char exec_line[] =
    "{\"@timestamp\":\"2026-03-02T14:03:12.100431Z\",\"schema\":\"admin-audit/1\","
    "\"event\":{\"action\":\"process.exec\",\"outcome\":\"unknown\",\"id\":\"S:17\"},"
    "\"session\":{\"id\":\"S\",\"task\":\"ADM-001\"},"
    "\"user\":{\"name\":\"alice\",\"effective\":{\"name\":\"root\"}},\"host\":{\"name\":\"db-01\"},"
    "\"process\":{\"pid\":4391,\"executable\":\"/usr/bin/psql\",\"name\":\"psql\","
    "\"args\":[\"psql\",\"-h\",\"db 02\",\"--password=[REDACTED]\",\"it's\"],\"args_count\":5},"
    "\"audit\":{\"exec\":{\"api\":\"execvp\",\"phase\":\"attempt\"},\"source\":\"shim\"},"
    "\"chain\":{\"seq\":17,\"prev\":\"aa\"},\"hash\":\"bb\"}";

static struct json_object *
at(struct json_object *o, const char *path)
{
    char buf[256], *save = NULL;

    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        if (!o || !json_object_object_get_ex(o, k, &o))
            return NULL;
    }
    return o;
}

static const char *
str_at(struct json_object *o, const char *path)
{
    struct json_object *v = at(o, path);
    return v ? json_object_get_string(v) : NULL;
}

static void
assert_array(struct json_object *arr, const char *a, const char *b)
{
    assert_non_null(arr);
    assert_true(json_object_is_type(arr, json_type_array));
    assert_int_equal(json_object_array_length(arr), b ? 2 : 1);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(arr, 0)), a);
    if (b)
        assert_string_equal(json_object_get_string(json_object_array_get_idx(arr, 1)), b);
}

static void
test_exec(void **state)
{
    (void)state;
    struct json_object *rec = json_tokener_parse(exec_line);
    assert_non_null(rec);
    struct json_object *e = aa_ecs_map(rec);
    assert_non_null(e);

    assert_string_equal(str_at(e, "ecs.version"), "8.11.0");
    assert_string_equal(str_at(e, "@timestamp"), "2026-03-02T14:03:12.100431Z");
    assert_string_equal(str_at(e, "event.kind"), "event");
    assert_string_equal(str_at(e, "event.module"), "admin_audit");
    assert_string_equal(str_at(e, "event.dataset"), "admin_audit.session");
    assert_string_equal(str_at(e, "event.provider"), "admin-audit");
    assert_string_equal(str_at(e, "event.id"), "S:17");
    assert_string_equal(str_at(e, "event.action"), "process.exec");
    assert_array(at(e, "event.category"), "process", NULL);
    assert_array(at(e, "event.type"), "start", NULL);
    assert_int_equal(json_object_get_int64(at(e, "event.sequence")), 17);
    assert_string_equal(str_at(e, "event.hash"), "bb");

    /* namespaces moved */
    assert_null(at(e, "session"));
    assert_null(at(e, "audit"));
    assert_null(at(e, "chain"));
    assert_null(at(e, "hash"));
    assert_null(at(e, "schema"));
    assert_string_equal(str_at(e, "admin_audit.session.id"), "S");
    assert_string_equal(str_at(e, "admin_audit.session.task"), "ADM-001");
    assert_string_equal(str_at(e, "admin_audit.exec.api"), "execvp");
    assert_string_equal(str_at(e, "admin_audit.source"), "shim");
    assert_string_equal(str_at(e, "admin_audit.chain.prev"), "aa");
    assert_null(at(e, "admin_audit.chain.seq"));
    assert_string_equal(str_at(e, "admin_audit.schema"), "admin-audit/1");

    /* process.args[0] = executable, original kept */
    struct json_object *args = at(e, "process.args");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 0)),
                        "/usr/bin/psql");
    assert_string_equal(str_at(e, "admin_audit.argv0"), "psql");
    assert_string_equal(str_at(e, "process.command_line"),
                        "/usr/bin/psql -h 'db 02' '--password=[REDACTED]' 'it'\\''s'");
    assert_string_equal(str_at(e, "user.effective.name"), "root");
    assert_array(at(e, "related.user"), "alice", "root");
    assert_null(at(e, "related.ip"));

    /* the native record is untouched */
    assert_string_equal(json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE),
                        exec_line);
    json_object_put(e);
    json_object_put(rec);
}

static void
test_network_dns(void **state)
{
    (void)state;
    struct json_object *rec = json_tokener_parse(
        "{\"event\":{\"action\":\"network.connect\",\"outcome\":\"failure\"},"
        "\"user\":{\"name\":\"root\",\"effective\":{\"name\":\"root\"}},"
        "\"destination\":{\"ip\":\"192.0.2.10\",\"port\":5432,\"domain\":\"db\"},"
        "\"source\":{\"ip\":\"192.0.2.5\"},\"audit\":{\"denied\":true},\"chain\":{\"seq\":3}}");
    struct json_object *e = aa_ecs_map(rec);
    assert_array(at(e, "event.category"), "network", NULL);
    assert_array(at(e, "event.type"), "connection", "denied");
    assert_array(at(e, "related.ip"), "192.0.2.10", "192.0.2.5");
    assert_array(at(e, "related.hosts"), "db", NULL);
    assert_array(at(e, "related.user"), "root", NULL); /* de-duplicated */
    json_object_put(e);
    json_object_put(rec);

    rec = json_tokener_parse("{\"event\":{\"action\":\"dns.lookup\"},"
                             "\"dns\":{\"question\":{\"name\":\"db.example\"},"
                             "\"resolved_ip\":[\"192.0.2.10\",\"2001:db8::1\"]},"
                             "\"network\":{\"transport\":\"udp\"}}");
    e = aa_ecs_map(rec);
    assert_array(at(e, "event.type"), "protocol", "info");
    assert_string_equal(str_at(e, "network.protocol"), "dns");
    assert_string_equal(str_at(e, "network.transport"), "udp");
    assert_null(at(rec, "network.protocol")); /* not written into the input */
    assert_array(at(e, "related.ip"), "192.0.2.10", "2001:db8::1");
    assert_array(at(e, "related.hosts"), "db.example", NULL);
    json_object_put(e);
    json_object_put(rec);
}

static void
test_session_and_checkpoint(void **state)
{
    (void)state;
    static const struct {
        const char *action, *type;
    } cases[] = {{"session.start", "start"}, {"session.end", "end"}, {"chain.checkpoint", "info"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf,
                 "{\"event\":{\"action\":\"%s\"},\"session\":{\"id\":\"S\"},"
                 "\"chain\":{\"seq\":1000,\"head\":\"cc\"}}",
                 cases[i].action);
        struct json_object *rec = json_tokener_parse(buf);
        struct json_object *e = aa_ecs_map(rec);
        assert_array(at(e, "event.category"), "session", NULL);
        assert_array(at(e, "event.type"), cases[i].type, NULL);
        assert_int_equal(json_object_get_int64(at(e, "event.sequence")), 1000);
        assert_string_equal(str_at(e, "admin_audit.chain.head"), "cc");
        assert_null(at(e, "related"));
        json_object_put(e);
        json_object_put(rec);
    }
    assert_null(aa_ecs_map(NULL));
    struct json_object *arr = json_object_new_array();
    assert_null(aa_ecs_map(arr));
    json_object_put(arr);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec),
        cmocka_unit_test(test_network_dns),
        cmocka_unit_test(test_session_and_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
