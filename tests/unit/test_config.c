/* Config file: strict keys, types, durations, trust. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static int
parse(const char *json, struct aa_config *cfg, char *err)
{
    return aa_config_parse(json, strlen(json), "test.json", cfg, err, 256);
}

static void
test_defaults(void **state)
{
    (void)state;
    struct aa_config cfg;
    char err[256] = "";
    assert_int_equal(parse("{}", &cfg, err), 0);
    assert_string_equal(cfg.image_ref_env, "IMAGE_REF");
    assert_int_equal(cfg.seccomp, AA_SECCOMP_AUTO);
    assert_int_equal(cfg.grace_ms, 10000);
    assert_int_equal(cfg.timeout_ms, 0);
    assert_false(cfg.fail_open);
    assert_null(cfg.environment);
    assert_false(cfg.trusted);
    aa_config_done(&cfg);
}

static void
test_all_keys(void **state)
{
    (void)state;
    struct aa_config cfg;
    char err[256] = "";
    const char *json =
        "{\"environment\":\"production\",\"log\":\"/var/log/x.jsonl\",\"tasks_dir\":\"/t\","
        "\"image_ref_env\":\"IMAGE_TAG\",\"forward\":[\"relp://127.0.0.1:2514\","
        "{\"url\":\"syslog+tls://127.0.0.1:6514\",\"ca_file\":\"/ca.pem\",\"tls_verify\":false}],"
        "\"forward_format\":\"ecs\",\"seccomp\":\"off\",\"fail_open\":true,\"sync\":true,"
        "\"timeout\":\"15m\",\"grace\":\"30s\",\"env_allowlist\":[\"FOO\"],"
        "\"aggregator_url\":\"https://k/{session}\",\"incidents_dir\":\"/i\","
        "\"checkpoint_every\":50,\"breakglass_min_reason\":20}";
    assert_int_equal(parse(json, &cfg, err), 0);
    assert_string_equal(cfg.environment, "production");
    assert_string_equal(cfg.log, "/var/log/x.jsonl");
    assert_string_equal(cfg.image_ref_env, "IMAGE_TAG");
    assert_int_equal(cfg.n_forward, 2);
    assert_string_equal(cfg.forward[0].url, "relp://127.0.0.1:2514");
    assert_true(cfg.forward[0].tls_verify);
    assert_string_equal(cfg.forward[1].ca_file, "/ca.pem");
    assert_false(cfg.forward[1].tls_verify);
    assert_int_equal(cfg.forward_format, AA_FORWARD_ECS);
    assert_int_equal(cfg.seccomp, AA_SECCOMP_OFF);
    assert_true(cfg.fail_open);
    assert_true(cfg.sync);
    assert_int_equal(cfg.timeout_ms, 15 * 60 * 1000);
    assert_int_equal(cfg.grace_ms, 30000);
    assert_string_equal(cfg.env_allowlist[0], "FOO");
    assert_null(cfg.env_allowlist[1]);
    assert_int_equal(cfg.checkpoint_every, 50);
    assert_int_equal(cfg.breakglass_min_reason, 20);
    aa_config_done(&cfg);
}

static void
test_rejections(void **state)
{
    (void)state;
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"{\"environmnet\":\"x\"}", "environmnet"},
        {"{\"forward\":[{\"url\":\"relp://h:1\",\"bogus\":1}]}", "bogus"},
        {"{\"forward\":[{\"ca_file\":\"/x\"}]}", "url"},
        {"{\"seccomp\":\"maybe\"}", "seccomp"},
        {"{\"fail_open\":\"yes\"}", "fail_open"},
        {"{\"timeout\":\"soon\"}", "timeout"},
        {"{\"forward\":\"relp://h:1\"}", "forward"},
        {"[1,2]", "object"},
        {"{\"log\":", "JSON"},
        {"{\"log\":\"a\"} trailing", "JSON"},
        {"{\"environment\":\"\xff\"}", "JSON"},
        {"", "JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct aa_config cfg;
        char err[256] = "";
        assert_int_equal(parse(cases[i].json, &cfg, err), -EINVAL);
        if (!strstr(err, cases[i].needle))
            fail_msg("case %zu: error \"%s\" does not mention \"%s\"", i, err, cases[i].needle);
        assert_non_null(strstr(err, "test.json"));
        aa_config_done(&cfg);
    }
}

static void
test_durations(void **state)
{
    (void)state;
    long long ms;
    assert_int_equal(aa_parse_duration("90s", &ms), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(aa_parse_duration("15m", &ms), 0);
    assert_int_equal(ms, 900000);
    assert_int_equal(aa_parse_duration("2h", &ms), 0);
    assert_int_equal(ms, 7200000);
    assert_int_equal(aa_parse_duration("1h30m", &ms), 0);
    assert_int_equal(ms, 5400000);
    assert_int_equal(aa_parse_duration("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(aa_parse_duration("10", &ms), 0);
    assert_int_equal(ms, 10000);
    assert_int_equal(aa_parse_duration("", &ms), -EINVAL);
    assert_int_equal(aa_parse_duration("1x", &ms), -EINVAL);
    assert_int_equal(aa_parse_duration("-5s", &ms), -EINVAL);
    assert_int_equal(aa_parse_duration("s", &ms), -EINVAL);
    assert_int_equal(aa_parse_duration("99999999999999h", &ms), -EINVAL);
}

static void
test_load_and_trust(void **state)
{
    (void)state;
    char dir[] = "/tmp/aa-cfg.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/c.json", dir);
    struct aa_config cfg;
    char err[256] = "";
    /* Absent file: defaults, not present. */
    assert_int_equal(aa_config_load(path, &cfg, err, sizeof err), 0);
    assert_false(cfg.present);
    aa_config_done(&cfg);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"environment\":\"staging\"}\n", f);
    fclose(f);
    chmod(path, 0644);
    assert_int_equal(aa_config_load(path, &cfg, err, sizeof err), 0);
    assert_true(cfg.present);
    assert_int_equal(cfg.trusted, geteuid() == 0);
    aa_config_done(&cfg);
    chmod(path, 0666);
    assert_int_equal(aa_config_load(path, &cfg, err, sizeof err), 0);
    assert_false(cfg.trusted); /* writable by others: never trusted */
    aa_config_done(&cfg);
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_rejections),   cmocka_unit_test(test_durations),
        cmocka_unit_test(test_load_and_trust),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
