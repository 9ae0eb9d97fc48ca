/* Secret redaction (reference/schema.md §6.2), applied by record.c to raw
 * bytes before they are sanitised, base64'd, hashed or written.  The secret
 * becomes "[REDACTED]", the key (flag, header name, user name, NAME=) is kept.
 * Rules that fired are returned as a bit mask of enum aa_redact_rule; the
 * caller turns each bit into one audit.redactions[] entry.  Nothing here
 * ever returns or stores the secret itself. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AA_REDACTED "[REDACTED]"

struct aa_bytes;

enum aa_redact_rule {
    AA_REDACT_PASSWORD_FLAG, /* cli.password-flag: --password=, --token X, ... */
    AA_REDACT_DB_PASSWORD,   /* cli.db-password: mysql -p<pw> */
    AA_REDACT_SSHPASS,       /* cli.sshpass: sshpass -p PW */
    AA_REDACT_CURL_USER,     /* cli.curl-user: curl -u user:pw */
    AA_REDACT_AUTH_HEADER,   /* cli.auth-header: Authorization:, X-*-Token: */
    AA_REDACT_URL_USERINFO,  /* url.userinfo: scheme://user:pw@host */
    AA_REDACT_ASSIGNMENT,    /* env.assignment: SECRET_NAME=value words */
    AA_REDACT_ENV_SECRET,    /* env.secret-name: environment entry with a secret name */
    AA_REDACT_AWS,           /* token.aws-access-key */
    AA_REDACT_GITHUB,        /* token.github */
    AA_REDACT_GITLAB,        /* token.gitlab-pat */
    AA_REDACT_SLACK,         /* token.slack */
    AA_REDACT_STRIPE,        /* token.stripe */
    AA_REDACT_GCP,           /* token.gcp-api-key */
    AA_REDACT_NPM,           /* token.npm */
    AA_REDACT_VAULT,         /* token.vault */
    AA_REDACT_JWT,           /* token.jwt */
    AA_REDACT_PRIVATE_KEY,   /* token.private-key */
    AA_REDACT_RULE_MAX,
};

/* Stable rule name as written in audit.redactions[].rule. */
const char *aa_redact_rule_name(enum aa_redact_rule rule);

/* Value patterns over one string (token shapes, private keys, URL userinfo,
 * Authorization/X-*-Token headers, SECRET_NAME=value words).  On a hit
 * returns 1 with an owned copy in *ret (NUL-terminated, length *ret_n) and
 * the fired rules OR'ed into *hits; 0 and nothing allocated when nothing
 * matched; -ENOMEM. */
int aa_redact_value(const void *p, size_t n, char **ret, size_t *ret_n, uint32_t *hits);

/* argv element i with the argv rules (flags with attached or separate values,
 * -p<pw> after a database client, sshpass -p, curl -u/--user, -H headers,
 * NAME=value) and then the value patterns.  Return convention as
 * aa_redact_value. */
int aa_redact_arg(const struct aa_bytes *argv, size_t argc, size_t i, char **ret, size_t *ret_n,
                  uint32_t *hits);

/* Environment name rules of §6.2.1.  name is not NUL-terminated. */
bool aa_redact_env_name_secret(const char *name, size_t n);
bool aa_redact_env_name_allowed(const char *name, size_t n, char *const *extra_allow);
