/* Secret redaction, reference/schema.md §6.2.  Hand-coded prefix matchers
 * plus character-class scans instead of PCRE2 (POSIX ERE lacks \b, \w and
 * (?i)); each matcher follows the gitleaks rule quoted in the schema notes.
 * Everything works on bytes (argv may not be UTF-8) and never copies a secret
 * anywhere but into the caller's output buffer, where it is replaced.
 *
 * Deliberate choices (document, do not "fix" silently):
 * - a secret flag followed by a separate argument redacts that argument even
 *   when it looks like another flag (over-redaction is cheaper than a leak);
 * - program context (mysql, sshpass, curl) is any of the first 32 argv
 *   elements before the one examined, so `sudo mysql -pX` and
 *   `timeout 5 curl -u u:p` are covered;
 * - tokens inside longer strings (bash -c '...') are replaced in place, the
 *   rest of the string is kept. */
#include "redact.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "record.h"
#include "util.h"

#define CONTEXT_SCAN_MAX 32

static const char *const rule_names[AA_REDACT_RULE_MAX] = {
    [AA_REDACT_PASSWORD_FLAG] = "cli.password-flag",
    [AA_REDACT_DB_PASSWORD] = "cli.db-password",
    [AA_REDACT_SSHPASS] = "cli.sshpass",
    [AA_REDACT_CURL_USER] = "cli.curl-user",
    [AA_REDACT_AUTH_HEADER] = "cli.auth-header",
    [AA_REDACT_URL_USERINFO] = "url.userinfo",
    [AA_REDACT_ASSIGNMENT] = "env.assignment",
    [AA_REDACT_ENV_SECRET] = "env.secret-name",
    [AA_REDACT_AWS] = "token.aws-access-key",
    [AA_REDACT_GITHUB] = "token.github",
    [AA_REDACT_GITLAB] = "token.gitlab-pat",
    [AA_REDACT_SLACK] = "token.slack",
    [AA_REDACT_STRIPE] = "token.stripe",
    [AA_REDACT_GCP] = "token.gcp-api-key",
    [AA_REDACT_NPM] = "token.npm",
    [AA_REDACT_VAULT] = "token.vault",
    [AA_REDACT_JWT] = "token.jwt",
    [AA_REDACT_PRIVATE_KEY] = "token.private-key",
};

const char *
aa_redact_rule_name(enum aa_redact_rule rule)
{
    if ((unsigned)rule >= AA_REDACT_RULE_MAX)
        return "unknown";
    return rule_names[rule];
}

/* ---- character classes (ASCII only: no locale) ---- */

static bool
is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}
static bool
is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}
static bool
is_word(unsigned char c)
{
    return is_alnum(c) || c == '_';
}
static bool
is_word_dash(unsigned char c)
{
    return is_word(c) || c == '-';
}
static bool
is_upper_b32(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
}
static bool
is_upper_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || is_digit(c);
}
static bool
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
static bool
is_jwt_char(unsigned char c)
{
    return is_word_dash(c) || c == '/' || c == '\\';
}

static size_t
run_len(const char *s, size_t n, size_t i, bool (*cls)(unsigned char))
{
    size_t k = i;
    while (k < n && cls((unsigned char)s[k]))
        k++;
    return k - i;
}

static bool
has_prefix(const char *s, size_t n, size_t i, const char *pfx)
{
    size_t l = strlen(pfx);
    return n - i >= l && memcmp(s + i, pfx, l) == 0;
}

static bool
has_iprefix(const char *s, size_t n, size_t i, const char *pfx)
{
    size_t l = strlen(pfx);
    return n - i >= l && strncasecmp(s + i, pfx, l) == 0;
}

static bool
iequal(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static bool
iends_with(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && strncasecmp(s + n - l, lit, l) == 0;
}

static bool
already_redacted(const char *s, size_t n, size_t i)
{
    return has_prefix(s, n, i, AA_REDACTED);
}

/* ---- output buffer ---- */

struct outbuf {
    char *p;
    size_t n, cap;
};

static int
out_put(struct outbuf *o, const void *p, size_t n)
{
    if (o->cap - o->n < n + 1) {
        size_t cap = o->cap ? o->cap : 64;
        while (cap - o->n < n + 1) {
            if (cap > SIZE_MAX / 2)
                return -ENOMEM;
            cap *= 2;
        }
        char *np = realloc(o->p, cap);
        if (!np)
            return -ENOMEM;
        o->p = np;
        o->cap = cap;
    }
    if (n)
        memcpy(o->p + o->n, p, n);
    o->n += n;
    o->p[o->n] = '\0';
    return 0;
}

/* ---- value matchers: at s[i], keep s[i..i+keep) and replace the next
 * *len bytes.  Return the rule or -1. ---- */

static int
m_private_key(const char *s, size_t n, size_t i, size_t *keep, size_t *len)
{
    if (!has_iprefix(s, n, i, "-----BEGIN"))
        return -1;
    size_t k = i + 10, lim = k + 100;
    for (;; k++) {
        if (k >= n || k > lim)
            return -1;
        if (has_iprefix(s, n, k, "PRIVATE KEY"))
            break;
        unsigned char c = (unsigned char)s[k];
        if (!(c == ' ' || is_alnum(c) || c == '_' || c == '-'))
            return -1;
    }
    k += 11;
    if (has_iprefix(s, n, k, " BLOCK"))
        k += 6;
    if (!has_prefix(s, n, k, "-----"))
        return -1;
    k += 5;
    const char *end = memmem(s + k, n - k, "-----END", 8);
    size_t stop = end ? (size_t)(end - s) : n;
    if (stop == k || already_redacted(s, n, k))
        return -1;
    *keep = k - i;
    *len = stop - k;
    return AA_REDACT_PRIVATE_KEY;
}

static bool
is_scheme_char(unsigned char c)
{
    return is_alnum(c) || c == '+' || c == '-' || c == '.';
}

static int
m_url_userinfo(const char *s, size_t n, size_t i, size_t *keep, size_t *len)
{
    if (!has_prefix(s, n, i, "://") || i == 0 || !is_scheme_char((unsigned char)s[i - 1]))
        return -1;
    size_t a = i + 3, e = a, at = 0;
    bool have_at = false;
    for (; e < n; e++) {
        unsigned char c = (unsigned char)s[e];
        if (c == '/' || c == '?' || c == '#' || is_space(c) || c == '\'' || c == '"' || c == '<' ||
            c == '>' || c == '\0')
            break;
        if (c == '@') {
            at = e;
            have_at = true;
        }
    }
    if (!have_at)
        return -1;
    const char *colon = memchr(s + a, ':', at - a);
    if (!colon)
        return -1;
    size_t pw = (size_t)(colon - s) + 1;
    if (pw == at || already_redacted(s, n, pw))
        return -1;
    *keep = pw - i;
    *len = at - pw;
    return AA_REDACT_URL_USERINFO;
}

static bool
secret_header(const char *name, size_t n)
{
    if (iequal(name, n, "authorization") || iequal(name, n, "proxy-authorization") ||
        iequal(name, n, "private-token") || iequal(name, n, "cookie"))
        return true;
    if (n > 2 && strncasecmp(name, "x-", 2) == 0 &&
        (iends_with(name, n, "-token") || iends_with(name, n, "-api-key") ||
         iequal(name, n, "x-api-key") || iends_with(name, n, "-secret")))
        return true;
    return false;
}

/* "Name: value" where Name is a secret header; value runs to a quote, a
 * newline or the end; the name must not continue a longer word. */
static int
m_header(const char *s, size_t n, size_t i, size_t *keep, size_t *len)
{
    if (i > 0 && (is_word_dash((unsigned char)s[i - 1])))
        return -1;
    size_t nl = run_len(s, n, i, is_word_dash);
    if (nl == 0 || i + nl >= n || s[i + nl] != ':' || !secret_header(s + i, nl))
        return -1;
    size_t v = i + nl + 1;
    while (v < n && (s[v] == ' ' || s[v] == '\t'))
        v++;
    size_t e = v;
    while (e < n && s[e] != '\'' && s[e] != '"' && s[e] != '\n' && s[e] != '\r')
        e++;
    if (e == v || already_redacted(s, n, v))
        return -1;
    *keep = v - i;
    *len = e - v;
    return AA_REDACT_AUTH_HEADER;
}

static bool
is_ident_start(unsigned char c)
{
    return is_alpha(c) || c == '_';
}

/* SECRET_NAME=value as a shell word (start of string or after white space
 * or a shell operator): `env PGPASSWORD=x`, `bash -c 'export X_TOKEN=y'`. */
static int
m_assignment(const char *s, size_t n, size_t i, size_t *keep, size_t *len)
{
    if (i > 0) {
        unsigned char p = (unsigned char)s[i - 1];
        if (!(is_space(p) || p == ';' || p == '&' || p == '|' || p == '(' || p == '`' ||
              p == '\'' || p == '"'))
            return -1;
    }
    if (i >= n || !is_ident_start((unsigned char)s[i]))
        return -1;
    size_t nl = run_len(s, n, i, is_word);
    if (i + nl >= n || s[i + nl] != '=' || !aa_redact_env_name_secret(s + i, nl))
        return -1;
    size_t v = i + nl + 1, e;
    if (v < n && (s[v] == '\'' || s[v] == '"')) {
        const char *q = memchr(s + v + 1, s[v], n - v - 1);
        v++;
        e = q ? (size_t)(q - s) : n;
    } else {
        e = v;
        while (e < n && !is_space((unsigned char)s[e]) && !strchr(";&|)`'\"", s[e]))
            e++;
    }
    if (e == v || already_redacted(s, n, v))
        return -1;
    *keep = v - i;
    *len = e - v;
    return AA_REDACT_ASSIGNMENT;
}

static bool
word_start(const char *s, size_t i)
{
    return i == 0 || !is_alnum((unsigned char)s[i - 1]);
}

static int
m_tokens(const char *s, size_t n, size_t i, size_t *keep, size_t *len)
{
    unsigned char c = (unsigned char)s[i];
    size_t r;
    *keep = 0;
    switch (c) {
    case 'A':
        if (!word_start(s, i))
            return -1;
        /* gitleaks aws-access-token: (A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b */
        if (has_prefix(s, n, i, "AKIA") || has_prefix(s, n, i, "ASIA") ||
            has_prefix(s, n, i, "ABIA") || has_prefix(s, n, i, "ACCA") ||
            (has_prefix(s, n, i, "A3T") && n - i > 3 &&
             is_upper_alnum((unsigned char)s[i + 3]))) {
            r = run_len(s, n, i + 4, is_upper_b32);
            if (r >= 16 && (i + 20 == n || !is_word((unsigned char)s[i + 20]))) {
                *len = 20;
                return AA_REDACT_AWS;
            }
        }
        /* gcp-api-key: AIza[\w-]{35} */
        if (has_prefix(s, n, i, "AIza") && (r = run_len(s, n, i + 4, is_word_dash)) >= 35) {
            *len = 4 + r;
            return AA_REDACT_GCP;
        }
        return -1;
    case 'g':
        /* github-pat and friends: gh[pousr]_[0-9a-zA-Z]{36} */
        if (has_prefix(s, n, i, "gh") && n - i > 3 && strchr("pousr", s[i + 2]) && s[i + 3] == '_' &&
            (r = run_len(s, n, i + 4, is_alnum)) >= 36) {
            *len = 4 + r;
            return AA_REDACT_GITHUB;
        }
        if (has_prefix(s, n, i, "github_pat_") && (r = run_len(s, n, i + 11, is_word)) >= 22) {
            *len = 11 + r;
            return AA_REDACT_GITHUB;
        }
        if (has_prefix(s, n, i, "glpat-") && (r = run_len(s, n, i + 6, is_word_dash)) >= 20) {
            *len = 6 + r;
            return AA_REDACT_GITLAB;
        }
        return -1;
    case 'x':
        /* slack: xox[baprse]-[0-9A-Za-z-]{10,} */
        if (has_prefix(s, n, i, "xox") && n - i > 4 && strchr("baprse", s[i + 3]) &&
            s[i + 4] == '-' && (r = run_len(s, n, i + 5, is_word_dash)) >= 10) {
            *len = 5 + r;
            return AA_REDACT_SLACK;
        }
        return -1;
    case 's':
    case 'r':
        /* stripe: (sk|rk)_(test|live|prod)_[a-zA-Z0-9]{10,99} */
        if (word_start(s, i) && n - i > 8 && s[i + 1] == 'k' && s[i + 2] == '_' &&
            (has_prefix(s, n, i + 3, "test_") || has_prefix(s, n, i + 3, "live_") ||
             has_prefix(s, n, i + 3, "prod_")) &&
            (r = run_len(s, n, i + 8, is_alnum)) >= 10) {
            *len = 8 + r;
            return AA_REDACT_STRIPE;
        }
        return -1;
    case 'n':
    case 'N':
        /* npm: (?i)npm_[a-z0-9]{36} */
        if (word_start(s, i) && has_iprefix(s, n, i, "npm_") &&
            (r = run_len(s, n, i + 4, is_alnum)) >= 36) {
            *len = 4 + r;
            return AA_REDACT_NPM;
        }
        return -1;
    case 'h':
        /* vault service token: hvs.[\w-]{24,} (gitleaks: 90-120; shorter test tokens too) */
        if (word_start(s, i) && has_prefix(s, n, i, "hvs.") &&
            (r = run_len(s, n, i + 4, is_word_dash)) >= 24) {
            *len = 4 + r;
            return AA_REDACT_VAULT;
        }
        return -1;
    case 'e':
        /* jwt: ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/\\_-]{17,}\.([a-zA-Z0-9/\\_-]{10,}={0,2})? */
        if (word_start(s, i) && has_prefix(s, n, i, "ey")) {
            size_t k = i + 2;
            r = run_len(s, n, k, is_word_dash);
            if (r < 17)
                return -1;
            k += r;
            if (!has_prefix(s, n, k, ".ey"))
                return -1;
            k += 3;
            r = run_len(s, n, k, is_jwt_char);
            if (r < 17)
                return -1;
            k += r;
            if (k < n && s[k] == '.') {
                r = run_len(s, n, k + 1, is_jwt_char);
                if (r >= 10) {
                    k += 1 + r;
                    for (int eq = 0; eq < 2 && k < n && s[k] == '='; eq++)
                        k++;
                }
            }
            *len = k - i;
            return AA_REDACT_JWT;
        }
        return -1;
    default:
        return -1;
    }
}

typedef int (*matcher_fn)(const char *s, size_t n, size_t i, size_t *keep, size_t *len);

static const matcher_fn matchers[] = {
    m_private_key, m_url_userinfo, m_header, m_assignment, m_tokens,
};

/* Scan s[0..n) appending to o; returns the number of replacements or -ENOMEM. */
static int
scan_values(const char *s, size_t n, struct outbuf *o, uint32_t *hits)
{
    int count = 0, r;
    size_t i = 0, lit = 0; /* s[lit..i) is pending literal output */
    while (i < n) {
        size_t keep = 0, len = 0;
        int rule = -1;
        for (size_t m = 0; m < AA_ARRAY_SIZE(matchers) && rule < 0; m++)
            rule = matchers[m](s, n, i, &keep, &len);
        if (rule < 0) {
            i++;
            continue;
        }
        if ((r = out_put(o, s + lit, i + keep - lit)) < 0 ||
            (r = out_put(o, AA_REDACTED, strlen(AA_REDACTED))) < 0)
            return r;
        *hits |= UINT32_C(1) << rule;
        count++;
        i += keep + len;
        lit = i;
    }
    if ((r = out_put(o, s + lit, n - lit)) < 0)
        return r;
    return count;
}

static int
finish(struct outbuf *o, int changed, char **ret, size_t *ret_n)
{
    if (changed <= 0) {
        free(o->p);
        return changed;
    }
    *ret = o->p;
    *ret_n = o->n;
    return 1;
}

int
aa_redact_value(const void *p, size_t n, char **ret, size_t *ret_n, uint32_t *hits)
{
    struct outbuf o = {0};
    int r = scan_values(p, n, &o, hits);
    return finish(&o, r, ret, ret_n);
}

/* ---- argv rules ---- */

/* A long flag name (without "--") whose value is a secret: the name is, or
 * ends with "-"/"_" followed by, one of these.  --password-file and
 * --bypass are not. */
static bool
secret_flag_name(const char *name, size_t n)
{
    static const char *const words[] = {
        "password", "passwd", "pass", "secret", "token", "api-key", "apikey", "api_key",
        "passphrase", "client-secret",
    };
    for (size_t w = 0; w < AA_ARRAY_SIZE(words); w++) {
        size_t l = strlen(words[w]);
        if (n < l || strncasecmp(name + n - l, words[w], l) != 0)
            continue;
        if (n == l || name[n - l - 1] == '-' || name[n - l - 1] == '_')
            return true;
    }
    return false;
}

static bool
basename_is(const struct aa_bytes *a, const char *const *names, size_t nnames)
{
    const char *b = a->p;
    size_t n = a->n;
    const char *slash = n ? memrchr(b, '/', n) : NULL;
    if (slash) {
        n -= (size_t)(slash + 1 - b);
        b = slash + 1;
    }
    for (size_t k = 0; k < nnames; k++)
        if (strlen(names[k]) == n && memcmp(b, names[k], n) == 0)
            return true;
    return false;
}

static bool
bytes_eq(const struct aa_bytes *a, const char *lit)
{
    return a->n == strlen(lit) && memcmp(a->p, lit, a->n) == 0;
}

enum { CTX_DB = 1 << 0, CTX_SSHPASS = 1 << 1, CTX_CURL = 1 << 2 };

static unsigned
program_context(const struct aa_bytes *argv, size_t i)
{
    static const char *const db[] = {"mysql", "mariadb", "mysqldump", "mysqladmin", "mariadb-dump",
                                     "mariadb-admin", "mysqlcheck", "mysqlimport", "mysqlshow"};
    static const char *const sshpass[] = {"sshpass"};
    static const char *const curl[] = {"curl"};
    unsigned ctx = 0;
    for (size_t k = 0; k < i && k < CONTEXT_SCAN_MAX; k++) {
        if (!argv[k].p)
            continue;
        if (basename_is(&argv[k], db, AA_ARRAY_SIZE(db)))
            ctx |= CTX_DB;
        if (basename_is(&argv[k], sshpass, 1))
            ctx |= CTX_SSHPASS;
        if (basename_is(&argv[k], curl, 1))
            ctx |= CTX_CURL;
    }
    return ctx;
}

/* The flag rules: keep a[0..keep), replace the rest (when non-empty). */
static int
flag_rule(const struct aa_bytes *argv, size_t i, unsigned ctx, size_t *keep)
{
    const struct aa_bytes *a = &argv[i];
    const char *s = a->p;
    size_t n = a->n;

    if (i > 0 && argv[i - 1].p) {
        const struct aa_bytes *prev = &argv[i - 1];
        if (prev->n > 2 && memcmp(prev->p, "--", 2) == 0 && !memchr(prev->p, '=', prev->n) &&
            secret_flag_name(prev->p + 2, prev->n - 2)) {
            *keep = 0;
            return AA_REDACT_PASSWORD_FLAG;
        }
        if ((ctx & CTX_SSHPASS) && bytes_eq(prev, "-p")) {
            *keep = 0;
            return AA_REDACT_SSHPASS;
        }
        if ((ctx & CTX_CURL) && (bytes_eq(prev, "-u") || bytes_eq(prev, "--user"))) {
            const char *colon = memchr(s, ':', n);
            if (!colon)
                return -1;
            *keep = (size_t)(colon - s) + 1;
            return AA_REDACT_CURL_USER;
        }
    }
    if (n > 2 && memcmp(s, "--", 2) == 0) {
        const char *eq = memchr(s, '=', n);
        if (!eq)
            return -1;
        size_t nl = (size_t)(eq - s) - 2;
        if (secret_flag_name(s + 2, nl)) {
            *keep = (size_t)(eq - s) + 1;
            return AA_REDACT_PASSWORD_FLAG;
        }
        if ((ctx & CTX_CURL) && nl == 4 && memcmp(s + 2, "user", 4) == 0) {
            const char *colon = memchr(eq + 1, ':', n - (size_t)(eq + 1 - s));
            if (!colon)
                return -1;
            *keep = (size_t)(colon - s) + 1;
            return AA_REDACT_CURL_USER;
        }
        return -1;
    }
    if (n > 2 && s[0] == '-' && s[1] == 'p') {
        *keep = 2;
        if (ctx & CTX_DB)
            return AA_REDACT_DB_PASSWORD;
        if (ctx & CTX_SSHPASS)
            return AA_REDACT_SSHPASS;
    }
    if (n > 2 && s[0] == '-' && s[1] == 'u' && (ctx & CTX_CURL)) {
        const char *colon = memchr(s, ':', n);
        if (!colon)
            return -1;
        *keep = (size_t)(colon - s) + 1;
        return AA_REDACT_CURL_USER;
    }
    return -1;
}

int
aa_redact_arg(const struct aa_bytes *argv, size_t argc, size_t i, char **ret, size_t *ret_n,
              uint32_t *hits)
{
    if (i >= argc || !argv[i].p)
        return 0;
    const char *s = argv[i].p;
    size_t n = argv[i].n, keep = 0, start = 0;
    struct outbuf o = {0};
    int changed = 0, r;

    int rule = flag_rule(argv, i, program_context(argv, i), &keep);
    if (rule >= 0 && keep < n && !already_redacted(s, n, keep)) {
        if ((r = out_put(&o, s, keep)) < 0 || (r = out_put(&o, AA_REDACTED, strlen(AA_REDACTED))) < 0)
            goto fail;
        *hits |= UINT32_C(1) << rule;
        changed = 1;
        start = n;
    } else if (n > 2 && s[0] == '-' && s[1] == 'H') {
        /* curl -H'Authorization: ...' attached: scan the header part alone. */
        if ((r = out_put(&o, s, 2)) < 0)
            goto fail;
        start = 2;
    }
    if (start < n) {
        r = scan_values(s + start, n - start, &o, hits);
        if (r < 0)
            goto fail;
        changed += r;
    }
    return finish(&o, changed, ret, ret_n);
fail:
    free(o.p);
    return r;
}

/* ---- environment names ---- */

bool
aa_redact_env_name_secret(const char *name, size_t n)
{
    static const char *const parts[] = {
        "pass", "secret", "token", "apikey", "api_key", "api-key", "privatekey", "private_key",
        "private-key", "credential", "session", "cookie", "auth",
    };
    static const char *const known[] = {"MYSQL_PWD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                        "GITHUB_TOKEN", "GH_TOKEN", "VAULT_TOKEN", "PGPASSWORD",
                                        "DOCKER_AUTH_CONFIG"};
    for (size_t k = 0; k < AA_ARRAY_SIZE(known); k++)
        if (iequal(name, n, known[k]))
            return true;
    for (size_t k = 0; k < AA_ARRAY_SIZE(parts); k++) {
        size_t l = strlen(parts[k]);
        for (size_t off = 0; off + l <= n; off++)
            if (strncasecmp(name + off, parts[k], l) == 0)
                return true;
    }
    return false;
}

static bool
name_matches(const char *name, size_t n, const char *pattern)
{
    size_t l = strlen(pattern);
    if (l > 0 && pattern[l - 1] == '*')
        return n >= l - 1 && memcmp(name, pattern, l - 1) == 0;
    return n == l && memcmp(name, pattern, n) == 0;
}

bool
aa_redact_env_name_allowed(const char *name, size_t n, char *const *extra_allow)
{
    static const char *const allow[] = {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LC_*", "PWD", "TZ",
        "SUDO_USER", "SUDO_UID", "SUDO_COMMAND", "SSH_CONNECTION", "LD_PRELOAD",
        "LD_LIBRARY_PATH", "AWS_PROFILE", "AWS_REGION", "KUBECONFIG",
    };
    for (size_t k = 0; k < AA_ARRAY_SIZE(allow); k++)
        if (name_matches(name, n, allow[k]))
            return true;
    for (size_t k = 0; extra_allow && extra_allow[k]; k++)
        if (name_matches(name, n, extra_allow[k]))
            return true;
    return false;
}
