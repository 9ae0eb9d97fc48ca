/* RFC 5424 formatting, RFC 6587 octet framing and forward URL parsing (sink.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sink.h"

static char *
fmt(const struct aa_fwd_item *it)
{
    char *out = NULL;
    size_t len = 0;

    assert_int_equal(aa_syslog_format(it, &out, &len), 0);
    assert_int_equal(strlen(out), len);
    return out;
}

static void
test_full_message(void **state)
{
    (void)state;
    struct aa_fwd_item it = {
        .payload = (char *)"{\"event\":{\"action\":\"process.exec\"}}",
        .event_id = (char *)"s-1:17",
        .session_id = (char *)"s-1",
        .action = (char *)"process.exec",
        .timestamp = (char *)"2026-03-02T14:03:11.482913Z",
        .host = (char *)"db-01",
        .hash = (char *)"4ae30cf4",
        .seq = 17,
        .pid = 4391,
        .severity = 6,
    };
    it.len = strlen(it.payload);
    char *s = fmt(&it);
    assert_string_equal(s, "<86>1 2026-03-02T14:03:11.482913Z db-01 admin-audit 4391 process.exec "
                           "[admin-audit@32473 session=\"s-1\" seq=\"17\" hash=\"4ae30cf4\"] "
                           "{\"event\":{\"action\":\"process.exec\"}}");
    /* no BOM before MSG */
    assert_null(strstr(s, "\xef\xbb\xbf"));
    free(s);
}

static void
test_severity_and_nil(void **state)
{
    (void)state;
    struct aa_fwd_item it = {.severity = 1, .action = (char *)"session.start"};
    char *s = fmt(&it);
    /* authpriv(10)*8 + alert(1) = 81; every absent field is NILVALUE, SD "-", no MSG */
    assert_string_equal(s, "<81>1 - - admin-audit - session.start -");
    free(s);

    it.severity = 42; /* out of range -> info */
    s = fmt(&it);
    assert_memory_equal(s, "<86>1 ", 6);
    free(s);
}

static void
test_escaping_and_limits(void **state)
{
    (void)state;
    char longid[64];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    struct aa_fwd_item it = {
        .session_id = (char *)"a\"b]c\\d",
        .seq = 3,
        .host = (char *)"bad host\xc3\xa9",
        .action = longid,
        .timestamp = (char *)"2026-03-02T14:03:11.1234567Z", /* 7 fraction digits: invalid */
        .payload = (char *)"{}",
        .len = 2,
        .severity = 5,
    };
    char *s = fmt(&it);
    char want[512];
    snprintf(want, sizeof want,
             "<85>1 - bad_host__ admin-audit - %.32s [admin-audit@32473 session=\"a\\\"b\\]c\\\\d\" "
             "seq=\"3\"] {}",
             longid);
    assert_string_equal(s, want);
    free(s);
}

static void
test_checkpoint_sd(void **state)
{
    (void)state;
    struct aa_fwd_item it = {.checkpoint = true, .session_id = (char *)"s", .seq = 1000,
                             .hash = (char *)"ff", .action = (char *)"chain.checkpoint",
                             .severity = 5};
    char *s = fmt(&it);
    assert_non_null(strstr(s, " chain.checkpoint [admin-audit@32473 session=\"s\" seq=\"1000\" "
                              "head=\"ff\"]"));
    free(s);
}

static void
test_octet_frame(void **state)
{
    (void)state;
    char *out;
    size_t len;
    const char msg[] = "<86>1 - - admin-audit - - - {\"k\":\"\xc3\xa9\"}";

    assert_int_equal(aa_syslog_frame(msg, strlen(msg), &out, &len), 0);
    char want[128];
    snprintf(want, sizeof want, "%zu %s", strlen(msg), msg);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    /* the count is octets, not characters */
    assert_int_equal(atoi(out), (int)strlen(msg));
    free(out);
}

static void
test_parse_urls(void **state)
{
    (void)state;
    struct aa_sink_addr a;

    assert_int_equal(aa_sink_parse_url("syslog+tcp://127.0.0.1:10514", &a), 0);
    assert_int_equal(a.kind, AA_SINK_SYSLOG_TCP);
    assert_string_equal(a.host, "127.0.0.1");
    assert_string_equal(a.port, "10514");
    aa_sink_addr_done(&a);

    assert_int_equal(aa_sink_parse_url("syslog+tls://[::1]", &a), 0);
    assert_int_equal(a.kind, AA_SINK_SYSLOG_TLS);
    assert_string_equal(a.host, "::1");
    assert_string_equal(a.port, "6514");
    aa_sink_addr_done(&a);

    assert_int_equal(aa_sink_parse_url("relp://logs.example:2514", &a), 0);
    assert_int_equal(a.kind, AA_SINK_RELP);
    assert_int_equal(aa_sink_ack_of(a.kind), AA_ACK_RELP);
    aa_sink_addr_done(&a);

    assert_int_equal(aa_sink_parse_url("syslog+unix:/dev/log", &a), 0);
    assert_int_equal(a.kind, AA_SINK_SYSLOG_UNIX);
    assert_string_equal(a.path, "/dev/log");
    aa_sink_addr_done(&a);

    assert_int_equal(aa_sink_parse_url("syslog+udp://h:514", &a), 0);
    assert_int_equal(aa_sink_ack_of(a.kind), AA_ACK_NONE);
    aa_sink_addr_done(&a);

    assert_int_equal(aa_sink_parse_url("syslog+tcp://h:notaport", &a), -EINVAL);
    assert_int_equal(aa_sink_parse_url("syslog+tcp://:514", &a), -EINVAL);
    assert_int_equal(aa_sink_parse_url("syslog+unix:relative", &a), -EINVAL);
    assert_int_equal(aa_sink_parse_url("gopher://h", &a), -EINVAL);
    assert_int_equal(aa_sink_parse_url("syslog+tcp://h:99999999", &a), -EINVAL);

    assert_string_equal(aa_sink_ack_name(AA_ACK_NONE), "none");
    assert_string_equal(aa_sink_ack_name(AA_ACK_HTTP), "http");
}

static void
test_redact(void **state)
{
    (void)state;
    char *s = aa_sink_redact_url("https://elastic:s3cret@es.example:9200/audit/_bulk");
    assert_string_equal(s, "https://[REDACTED]@es.example:9200/audit/_bulk");
    free(s);
    s = aa_sink_redact_url("relp://h:2514");
    assert_string_equal(s, "relp://h:2514");
    free(s);
    s = aa_sink_redact_url("http://h/p?x=a@b");
    assert_string_equal(s, "http://h/p?x=a@b");
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_message), cmocka_unit_test(test_severity_and_nil),
        cmocka_unit_test(test_escaping_and_limits), cmocka_unit_test(test_checkpoint_sd),
        cmocka_unit_test(test_octet_frame), cmocka_unit_test(test_parse_urls),
        cmocka_unit_test(test_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
