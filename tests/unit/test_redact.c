/* Redaction rules (reference/schema.md §6.2): canaries that must be replaced
 * and near-misses that must stay, table-driven over argv vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"
#include "redact.h"
#include "util.h"

#define GHP "ghp_" "abcdefghijklmnopqrstuvwxyz0123456789"
#define MAXARGS 8

struct arg_case {
    const char *argv[MAXARGS]; /* NULL-terminated */
    size_t index;
    const char *expect;        /* NULL: unchanged */
    int rule;                  /* expected rule bit, -1 when unchanged */
};

static const struct arg_case arg_cases[] = {
    /* flags with attached and separate values */
    {{"psql", "--password=canary-xyz"}, 1, "--password=[REDACTED]", AA_REDACT_PASSWORD_FLAG},
    {{"tool", "--passwd=x1"}, 1, "--passwd=[REDACTED]", AA_REDACT_PASSWORD_FLAG},
    {{"tool", "--pass=x1"}, 1, "--pass=[REDACTED]", AA_REDACT_PASSWORD_FLAG},
    {{"tool", "--secret=x1"}, 1, "--secret=[REDACTED]", AA_REDACT_PASSWORD_FLAG},
    {{"tool", "--token=x1"}, 1, "--token=[REDACTED]", AA_REDACT_PASSWORD_FLAG},
    {{"tool", "--api-key=x1"}, 1, "--api-key=[REDACTED]", AA_REDACT_PASSWORD_FLAG},
    {{"tool", "--client-secret=x1"}, 1, "--client-secret=[REDACTED]", AA_REDACT_PASSWORD_FLAG},
    {{"tool", "--passphrase=x1"}, 1, "--passphrase=[REDACTED]", AA_REDACT_PASSWORD_FLAG},
    {{"tool", "--db-password=x1"}, 1, "--db-password=[REDACTED]", AA_REDACT_PASSWORD_FLAG},
    {{"tool", "--password", "canary-sep"}, 2, "[REDACTED]", AA_REDACT_PASSWORD_FLAG},
    {{"tool", "--token", "canary-sep"}, 2, "[REDACTED]", AA_REDACT_PASSWORD_FLAG},
    {{"tool", "--password", "canary-sep"}, 1, NULL, -1},
    /* near-misses */
    {{"tool", "--password-file=secret.txt"}, 1, NULL, -1},
    {{"tool", "--password-file", "secret.txt"}, 2, NULL, -1},
    {{"tool", "--bypass=1"}, 1, NULL, -1},
    {{"tool", "--password="}, 1, NULL, -1},
    {{"tool", "AKIAIOSFODNN7EXAMP"}, 1, NULL, -1},  /* too few chars */
    {{"tool", "AKIAIOSFODNN7EXAMPLEX"}, 1, NULL, -1}, /* too many: no \b */
    {{"tool", "ghp_short"}, 1, NULL, -1},
    {{"tool", "https://example.com/path"}, 1, NULL, -1},
    {{"tool", "https://user@example.com/"}, 1, NULL, -1},
    {{"curl", "-u", "useronly"}, 2, NULL, -1},
    {{"curl", "-H", "Accept: application/json"}, 2, NULL, -1},
    {{"tool", "PATH=/usr/bin"}, 1, NULL, -1},
    {{"git", "commit", "--author=bob"}, 2, NULL, -1},
    /* database clients: -p<pw> attached; psql -p is the port */
    {{"mysql", "-u", "root", "-pcanary"}, 3, "-p[REDACTED]", AA_REDACT_DB_PASSWORD},
    {{"/usr/bin/mysqldump", "-pcanary", "db"}, 1, "-p[REDACTED]", AA_REDACT_DB_PASSWORD},
    {{"sudo", "mariadb", "-pcanary"}, 2, "-p[REDACTED]", AA_REDACT_DB_PASSWORD},
    {{"mysqladmin", "-p"}, 1, NULL, -1},
    {{"psql", "-p5432"}, 1, NULL, -1},
    {{"psql", "-p", "5432"}, 2, NULL, -1},
    /* sshpass */
    {{"sshpass", "-p", "canary", "ssh", "host"}, 2, "[REDACTED]", AA_REDACT_SSHPASS},
    {{"sshpass", "-pcanary", "ssh"}, 1, "-p[REDACTED]", AA_REDACT_SSHPASS},
    /* curl user and headers */
    {{"curl", "-u", "alice:canary", "https://x"}, 2, "alice:[REDACTED]", AA_REDACT_CURL_USER},
    {{"curl", "--user", "alice:canary"}, 2, "alice:[REDACTED]", AA_REDACT_CURL_USER},
    {{"curl", "--user=alice:canary"}, 1, "--user=alice:[REDACTED]", AA_REDACT_CURL_USER},
    {{"curl", "-ualice:canary"}, 1, "-ualice:[REDACTED]", AA_REDACT_CURL_USER},
    {{"curl", "-H", "Authorization: Bearer canary"}, 2, "Authorization: [REDACTED]",
     AA_REDACT_AUTH_HEADER},
    {{"curl", "-HAuthorization: Bearer canary"}, 1, "-HAuthorization: [REDACTED]",
     AA_REDACT_AUTH_HEADER},
    {{"curl", "-H", "X-Vault-Token: canary"}, 2, "X-Vault-Token: [REDACTED]",
     AA_REDACT_AUTH_HEADER},
    {{"wget", "--header=authorization: Basic canary"}, 1, "--header=authorization: [REDACTED]",
     AA_REDACT_AUTH_HEADER},
    /* URL userinfo */
    {{"psql", "postgres://app:canary@db:5432/app"}, 1, "postgres://app:[REDACTED]@db:5432/app",
     AA_REDACT_URL_USERINFO},
    /* env NAME=value */
    {{"env", "PGPASSWORD=canary", "psql"}, 1, "PGPASSWORD=[REDACTED]", AA_REDACT_ASSIGNMENT},
    {{"env", "API_TOKEN=canary", "x"}, 1, "API_TOKEN=[REDACTED]", AA_REDACT_ASSIGNMENT},
    /* value patterns */
    {{"aws", "AKIAIOSFODNN7EXAMPLE"}, 1, "[REDACTED]", AA_REDACT_AWS},
    {{"x", "key=ASIAIOSFODNN7EXAMPLE,"}, 1, "key=[REDACTED],", AA_REDACT_AWS},
    {{"x", GHP}, 1, "[REDACTED]", AA_REDACT_GITHUB},
    {{"x", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"}, 1, "[REDACTED]",
     AA_REDACT_GITHUB},
    {{"x", "glpat-abcdefghij0123456789"}, 1, "[REDACTED]", AA_REDACT_GITLAB},
    {{"x", "xoxb-1234567890-1234567890-abcdef"}, 1, "[REDACTED]", AA_REDACT_SLACK},
    {{"x", "sk_live_abcdefghij0123"}, 1, "[REDACTED]", AA_REDACT_STRIPE},
    {{"x", "sk_test_abcdefghij0123"}, 1, "[REDACTED]", AA_REDACT_STRIPE},
    {{"x", "AIzaSyA1234567890abcdefghijklmnopqrstuv"}, 1, "[REDACTED]", AA_REDACT_GCP},
    {{"x", "npm_abcdefghijklmnopqrstuvwxyz0123456789"}, 1, "[REDACTED]", AA_REDACT_NPM},
    {{"x", "hvs.CAESIabcdefghijklmnopqrstuvwxyz012345"}, 1, "[REDACTED]", AA_REDACT_VAULT},
    {{"x", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
           "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"},
     1, "[REDACTED]", AA_REDACT_JWT},
    {{"x", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAcanary\n-----END RSA PRIVATE KEY-----"},
     1, "-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----",
     AA_REDACT_PRIVATE_KEY},
    /* inside a bash -c string: only the secret substring goes */
    {{"bash", "-c", "aws s3 ls --profile p && echo AKIAIOSFODNN7EXAMPLE done"}, 2,
     "aws s3 ls --profile p && echo [REDACTED] done", AA_REDACT_AWS},
    {{"bash", "-c", "export GITHUB_TOKEN=abc123; git push"}, 2,
     "export GITHUB_TOKEN=[REDACTED]; git push", AA_REDACT_ASSIGNMENT},
    {{"bash", "-c", "curl -H 'Authorization: Bearer canary' https://x"}, 2,
     "curl -H 'Authorization: [REDACTED]' https://x", AA_REDACT_AUTH_HEADER},
    {{"sh", "-c", "psql postgres://u:canary@h/db -c 'select 1'"}, 2,
     "psql postgres://u:[REDACTED]@h/db -c 'select 1'", AA_REDACT_URL_USERINFO},
};

static void
test_arg_table(void **state)
{
    (void)state;
    for (size_t c = 0; c < AA_ARRAY_SIZE(arg_cases); c++) {
        const struct arg_case *tc = &arg_cases[c];
        struct aa_bytes argv[MAXARGS];
        size_t argc = 0;
        while (argc < MAXARGS && tc->argv[argc]) {
            argv[argc].p = tc->argv[argc];
            argv[argc].n = strlen(tc->argv[argc]);
            argc++;
        }
        char *out = NULL;
        size_t n = 0;
        uint32_t hits = 0;
        int r = aa_redact_arg(argv, argc, tc->index, &out, &n, &hits);
        if (!tc->expect) {
            if (r != 0)
                print_error("case %zu (%s): unexpected redaction -> %s\n", c,
                            tc->argv[tc->index], out);
            assert_int_equal(r, 0);
            assert_int_equal(hits, 0);
            assert_null(out);
            continue;
        }
        if (r != 1)
            print_error("case %zu (%s): not redacted\n", c, tc->argv[tc->index]);
        assert_int_equal(r, 1);
        assert_non_null(out);
        assert_int_equal(n, strlen(out));
        if (strcmp(out, tc->expect) != 0)
            print_error("case %zu: got '%s' want '%s'\n", c, out, tc->expect);
        assert_string_equal(out, tc->expect);
        assert_true(hits & (UINT32_C(1) << tc->rule));
        assert_null(strstr(out, "canary"));
        free(out);
    }
}

static void
test_value_redaction(void **state)
{
    (void)state;
    const char *in = "url=https://bob:hunter2@example.com/x token " GHP " tail";
    char *out = NULL;
    size_t n = 0;
    uint32_t hits = 0;
    assert_int_equal(aa_redact_value(in, strlen(in), &out, &n, &hits), 1);
    assert_string_equal(out, "url=https://bob:[REDACTED]@example.com/x token [REDACTED] tail");
    assert_true(hits & (UINT32_C(1) << AA_REDACT_URL_USERINFO));
    assert_true(hits & (UINT32_C(1) << AA_REDACT_GITHUB));
    free(out);

    /* Idempotent: already redacted text is left alone. */
    const char *done = "https://bob:[REDACTED]@example.com --password=[REDACTED]";
    hits = 0;
    out = NULL;
    assert_int_equal(aa_redact_value(done, strlen(done), &out, &n, &hits), 0);
    assert_null(out);

    /* Bytes that are not UTF-8 around a secret: still replaced. */
    const char bin[] = "\xff\xfe" "AKIAIOSFODNN7EXAMPLE" "\x80";
    assert_int_equal(aa_redact_value(bin, sizeof bin - 1, &out, &n, &hits), 1);
    assert_int_equal(n, 2 + strlen(AA_REDACTED) + 1);
    assert_memory_equal(out, "\xff\xfe[REDACTED]\x80", n);
    free(out);

    /* A large input with no secret is not copied. */
    size_t big = 200 * 1024;
    char *b = malloc(big);
    assert_non_null(b);
    memset(b, 'A', big);
    assert_int_equal(aa_redact_value(b, big, &out, &n, &hits), 0);
    free(b);
}

static void
test_env_names(void **state)
{
    (void)state;
    assert_true(aa_redact_env_name_allowed("PATH", 4, NULL));
    assert_true(aa_redact_env_name_allowed("LC_ALL", 6, NULL));
    assert_false(aa_redact_env_name_allowed("PATHX", 5, NULL));
    assert_false(aa_redact_env_name_allowed("DATABASE_URL", 12, NULL));
    char *extra[] = {"DATABASE_URL", "APP_*", NULL};
    assert_true(aa_redact_env_name_allowed("DATABASE_URL", 12, extra));
    assert_true(aa_redact_env_name_allowed("APP_ENV", 7, extra));
    assert_true(aa_redact_env_name_secret("PGPASSWORD", 10));
    assert_true(aa_redact_env_name_secret("MYSQL_PWD", 9));
    assert_true(aa_redact_env_name_secret("aws_secret_access_key", 21));
    assert_true(aa_redact_env_name_secret("MY_API_KEY", 10));
    assert_true(aa_redact_env_name_secret("SSH_AUTH_SOCK", 13));
    assert_false(aa_redact_env_name_secret("PATH", 4));
    assert_false(aa_redact_env_name_secret("HOME", 4));
    assert_false(aa_redact_env_name_secret("KUBECONFIG", 10));
    assert_string_equal(aa_redact_rule_name(AA_REDACT_PASSWORD_FLAG), "cli.password-flag");
    assert_string_equal(aa_redact_rule_name(AA_REDACT_RULE_MAX), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arg_table),
        cmocka_unit_test(test_value_redaction),
        cmocka_unit_test(test_env_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
